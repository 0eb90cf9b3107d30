//! Campaigns, clip-building jobs, tasks, leases, annotations, consensus labels and annotator accuracy.
use sea_orm_migration::{prelude::*, schema::*};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("campaigns")
                .col(pk_uuid("id"))
                .col(string("name"))
                .col(text("instructions"))
                .col(double("clip_seconds"))
                .col(integer("annotations_per_task"))
                // JSON array of instrument slugs.
                .col(text("instruments"))
                .col(double("gold_rate"))
                .col(integer("stats_every"))
                .col(boolean("is_open"))
                .col(uuid("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_campaigns_creator",
                    ("campaigns", "created_by"),
                    "users",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("build_jobs")
                .col(pk_uuid("id"))
                .col(uuid("campaign_id"))
                .col(uuid("requested_by"))
                // JSON: sources, strategy, seed, silence threshold.
                .col(text("params"))
                .col(string("status"))
                .col(integer("sources_total"))
                .col(integer("sources_done"))
                .col(integer("clips_made"))
                .col(integer("clips_existing"))
                .col(integer("clips_skipped"))
                // JSON object: reason → count.
                .col(text("skipped_reasons"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .foreign_key(&mut fk(
                    "fk_build_jobs_campaign",
                    ("build_jobs", "campaign_id"),
                    "campaigns",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("tasks")
                .col(pk_uuid("id"))
                .col(uuid("campaign_id"))
                .col(uuid("clip_id"))
                .col(uuid("source_id"))
                .col(big_integer("offset_frames"))
                .col(boolean("is_gold").default(false))
                // JSON object slug → bool, for gold tasks.
                .col(text_null("gold_answers"))
                .col(integer("annotations_count").default(0))
                .col(integer("annotations_required"))
                .col(boolean("is_complete").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_tasks_campaign",
                    ("tasks", "campaign_id"),
                    "campaigns",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk("fk_tasks_clip", ("tasks", "clip_id"), "audio", ForeignKeyAction::Restrict))
                .to_owned(),
        )
        .await?;
        // Same source + offset in a campaign is the same task: rebuilding is idempotent.
        m.create_index(
            Index::create()
                .name("ux_tasks_campaign_source_offset")
                .table("tasks")
                .col("campaign_id")
                .col("source_id")
                .col("offset_frames")
                .unique()
                .to_owned(),
        )
        .await?;
        // The serving pick walks open, non-gold tasks closest to completion first; a partial index
        // hands them over presorted and shrinks as tasks complete. The same SQL on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_tasks_open_pick ON tasks (annotations_count DESC, id) \
                 WHERE is_complete = false AND is_gold = false",
            )
            .await?;
        m.create_index(Index::create().name("ix_tasks_campaign").table("tasks").col("campaign_id").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("leases")
                .col(pk_uuid("id"))
                .col(uuid("task_id"))
                .col(uuid("user_id"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_leases_task", ("leases", "task_id"), "tasks", ForeignKeyAction::Cascade))
                .foreign_key(&mut fk("fk_leases_user", ("leases", "user_id"), "users", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_leases_task_user")
                .table("leases")
                .col("task_id")
                .col("user_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_leases_user").table("leases").col("user_id").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("annotations")
                .col(pk_uuid("id"))
                .col(uuid("task_id"))
                .col(uuid("user_id"))
                .col(uuid("campaign_id"))
                .col(string("client_id"))
                // JSON object slug → "present" | "absent" | "unsure".
                .col(text("answers"))
                .col(integer("play_count"))
                .col(big_integer("listening_ms"))
                .col(big_integer("time_to_submit_ms"))
                .col(boolean("is_gold"))
                .col(integer_null("gold_correct"))
                .col(integer_null("gold_total"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_annotations_task",
                    ("annotations", "task_id"),
                    "tasks",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_annotations_user",
                    ("annotations", "user_id"),
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_annotations_task_user")
                .table("annotations")
                .col("task_id")
                .col("user_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_annotations_user_client")
                .table("annotations")
                .col("user_id")
                .col("client_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_annotations_campaign")
                .table("annotations")
                .col("campaign_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_annotations_user_campaign")
                .table("annotations")
                .col("user_id")
                .col("campaign_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("task_labels")
                .col(uuid("task_id"))
                .col(string("instrument"))
                .col(integer("present"))
                .col(integer("absent"))
                .col(integer("unsure"))
                .col(double_null("relevance"))
                .col(double("confidence"))
                .col(double("trust_present"))
                .primary_key(Index::create().col("task_id").col("instrument"))
                .foreign_key(&mut fk(
                    "fk_task_labels_task",
                    ("task_labels", "task_id"),
                    "tasks",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("annotator_accuracy")
                .col(uuid("user_id").primary_key())
                .col(integer("gold_correct"))
                .col(integer("gold_total"))
                .foreign_key(&mut fk(
                    "fk_accuracy_user",
                    ("annotator_accuracy", "user_id"),
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["annotator_accuracy", "task_labels", "annotations", "leases", "tasks", "build_jobs", "campaigns"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
