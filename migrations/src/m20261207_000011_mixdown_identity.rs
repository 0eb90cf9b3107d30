//! A mixdown belongs to one composition.
//!
//! Audio other than clips was identified by (owner, kind, bytes), so two compositions of one owner
//! that mixed to the same bytes shared one mixdown record — and a public composition's mix could
//! carry a private composition's name. A mixdown is now identified by (composition, bytes). An
//! existing mixdown stays with the earliest composition that uses it; the others lose their mix
//! and render their own when asked.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table("audio").add_column(ColumnDef::new("composition_id").uuid().null()).to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE audio SET composition_id = (\
               SELECT c.id FROM compositions c WHERE c.mixdown_id = audio.id ORDER BY c.created_at, c.id LIMIT 1) \
             WHERE kind = 'mixdown'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE compositions SET mixdown_id = NULL WHERE mixdown_id IS NOT NULL AND NOT EXISTS (\
               SELECT 1 FROM audio a WHERE a.id = compositions.mixdown_id AND a.composition_id = compositions.id)",
        )
        .await?;
        // A new name: on SQLite's pool, re-creating a just-dropped index name can race the drop.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_audio_owner_kind_sha256_v2 ON audio (owner_id, kind, sha256) \
             WHERE parent_id IS NULL AND composition_id IS NULL",
        )
        .await?;
        m.drop_index(Index::drop().name("ux_audio_owner_kind_sha256").table("audio").to_owned()).await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_audio_mixdown_sha256 ON audio (composition_id, sha256) WHERE composition_id IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.drop_index(Index::drop().name("ux_audio_mixdown_sha256").table("audio").to_owned()).await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_audio_owner_kind_sha256 ON audio (owner_id, kind, sha256) WHERE parent_id IS NULL",
        )
        .await?;
        m.drop_index(Index::drop().name("ux_audio_owner_kind_sha256_v2").table("audio").to_owned()).await?;
        m.alter_table(Table::alter().table("audio").drop_column("composition_id").to_owned()).await
    }
}
