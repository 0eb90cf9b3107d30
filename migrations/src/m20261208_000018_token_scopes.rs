//! What a personal API token may do: `api_tokens.scopes`, its scope names sorted and joined by
//! commas (`annotate,read,upload`). Tokens made before scopes existed acted as their user, so they
//! get every scope their user could choose today (`admin` only for admins) and keep working. A row
//! written without scopes has none and is refused everywhere — the safe reading of a missing value.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every scope an admin can choose, and every scope anyone else can, in the stored form.
const ADMIN_SCOPES: &str = "admin,annotate,read,submit,upload";
const USER_SCOPES: &str = "annotate,read,submit,upload";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("api_tokens")
                .add_column(ColumnDef::new("scopes").text().not_null().default(""))
                .to_owned(),
        )
        .await?;
        // `u.is_admin` alone is true on both backends (a boolean on PostgreSQL, 0/1 on SQLite).
        m.get_connection()
            .execute_unprepared(&format!(
                "UPDATE api_tokens SET scopes = CASE WHEN EXISTS \
                 (SELECT 1 FROM users u WHERE u.id = api_tokens.user_id AND u.is_admin) \
                 THEN '{ADMIN_SCOPES}' ELSE '{USER_SCOPES}' END"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("api_tokens").drop_column("scopes").to_owned()).await?;
        Ok(())
    }
}
