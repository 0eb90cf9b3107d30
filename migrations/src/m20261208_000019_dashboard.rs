//! The admin dashboard: a coverage goal per campaign (how many confidently positive clips each
//! instrument should reach), and the indexes its date-range queries read through.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Confidently positive clips wanted per instrument; NULL = no goal set.
        m.alter_table(Table::alter().table("campaigns").add_column(integer_null("coverage_goal")).to_owned()).await?;
        // Answers per day over every campaign (the per-campaign range is `ix_annotations_campaign`).
        m.create_index(
            Index::create().name("ix_annotations_created").table("annotations").col("created_at").to_owned(),
        )
        .await?;
        // Skips in a date range.
        m.create_index(
            Index::create()
                .name("ix_leases_skipped_created")
                .table("leases")
                .col("skipped")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        // Studio and upload figures per week.
        m.create_index(Index::create().name("ix_tracks_created").table("tracks").col("created_at").to_owned()).await?;
        m.create_index(
            Index::create().name("ix_compositions_created").table("compositions").col("created_at").to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_audio_kind_created").table("audio").col("kind").col("created_at").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_audio_kind_created", "audio"),
            ("ix_compositions_created", "compositions"),
            ("ix_tracks_created", "tracks"),
            ("ix_leases_skipped_created", "leases"),
            ("ix_annotations_created", "annotations"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("campaigns").drop_column("coverage_goal").to_owned()).await
    }
}
