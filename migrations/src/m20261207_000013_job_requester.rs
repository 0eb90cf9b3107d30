//! Who asked for a job, and what it produced: a job is shown (and may be cancelled) by the user
//! who asked for it and by admins, and a finished job names its result (a mixdown's audio).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(Table::alter().table("jobs").add_column(ColumnDef::new("requested_by").uuid().null()).to_owned())
            .await?;
        m.alter_table(Table::alter().table("jobs").add_column(ColumnDef::new("result").text().null()).to_owned())
            .await?;
        m.create_index(Index::create().name("ix_jobs_kind_state").table("jobs").col("kind").col("state").to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_jobs_kind_state").table("jobs").to_owned()).await?;
        m.alter_table(Table::alter().table("jobs").drop_column("result").to_owned()).await?;
        m.alter_table(Table::alter().table("jobs").drop_column("requested_by").to_owned()).await
    }
}
