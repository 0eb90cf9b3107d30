//! What annotators are helped by: a short description and an example clip per instrument
//! (`instruments.description`, `instruments.example_audio_id`, which empties when its audio goes),
//! and a campaign's minimum share of each clip to hear before answering (`campaigns.min_listen_share`,
//! 0 = no minimum).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("instruments")
                .add_column(ColumnDef::new("description").text().not_null().default(""))
                .to_owned(),
        )
        .await?;
        // A column added with its reference: both backends take `REFERENCES` in ADD COLUMN (SQLite
        // when the default is NULL), where SQLite could not add a foreign key afterwards.
        m.alter_table(
            Table::alter()
                .table("instruments")
                .add_column(
                    ColumnDef::new("example_audio_id")
                        .uuid()
                        .null()
                        .extra("REFERENCES \"audio\" (\"id\") ON DELETE SET NULL"),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("campaigns")
                .add_column(ColumnDef::new("min_listen_share").double().not_null().default(0.0))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("campaigns").drop_column("min_listen_share").to_owned()).await?;
        // SQLite cannot drop a column that holds a foreign key; there it stays, unused.
        if m.get_database_backend() != DatabaseBackend::Sqlite {
            m.alter_table(Table::alter().table("instruments").drop_column("example_audio_id").to_owned()).await?;
        }
        m.alter_table(Table::alter().table("instruments").drop_column("description").to_owned()).await?;
        Ok(())
    }
}
