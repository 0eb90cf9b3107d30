//! One row per run of the cleanup that removes what a crash left behind (staging files, unfinished
//! multipart writes, objects without an audio row), so an admin can see what was removed and when.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("cleanup_runs")
                .col(pk_uuid("id"))
                .col(timestamp_with_time_zone("started_at"))
                // Null while the run is going on, and for ever if its process died during it.
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(big_integer("grace_seconds"))
                .col(big_integer("staging_files").default(0))
                .col(big_integer("staging_bytes").default(0))
                .col(big_integer("partial_files").default(0))
                .col(big_integer("partial_bytes").default(0))
                .col(big_integer("orphan_objects").default(0))
                .col(big_integer("orphan_bytes").default(0))
                // JSON array of the paths and keys removed (the first ones only; the counts are whole).
                .col(text("removed"))
                .col(text_null("error"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_cleanup_runs_started").table("cleanup_runs").col("started_at").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("cleanup_runs").to_owned()).await
    }
}
