//! What a composition's mixdown was rendered from (its tracks and their mixer settings, as a
//! digest), so the page can say when the mix is out of date.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table("compositions").add_column(ColumnDef::new("mixdown_recipe").text().null()).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("compositions").drop_column("mixdown_recipe").to_owned()).await
    }
}
