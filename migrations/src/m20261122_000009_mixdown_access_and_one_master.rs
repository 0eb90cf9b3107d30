//! A mixdown is heard through its composition, and a composition has at most one master track.
//!
//! A mixdown copied its composition's visibility once, when it was rendered, so the mix of a
//! composition later made private (or deleted) stayed public. Mixdowns are now never public by
//! themselves: whoever may see the composition hears its mixdown. Existing ones (and any clips
//! cut from them) become private here.
//!
//! "One master per composition" was checked before inserting, so requests arriving together could
//! each add one. A partial unique index now holds it; existing extra masters (all but the earliest)
//! become ordinary tracks.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE audio SET is_public = false
             WHERE kind = 'mixdown' OR parent_id IN (SELECT id FROM audio WHERE kind = 'mixdown')",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE tracks SET is_master = false WHERE is_master AND EXISTS (
               SELECT 1 FROM tracks e WHERE e.composition_id = tracks.composition_id AND e.is_master
                 AND (e.created_at < tracks.created_at OR (e.created_at = tracks.created_at AND e.id < tracks.id)))",
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ux_tracks_one_master ON tracks (composition_id) WHERE is_master")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ux_tracks_one_master").table("tracks").to_owned()).await
    }
}
