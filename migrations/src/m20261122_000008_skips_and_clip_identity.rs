//! Skipped tasks are remembered, and a clip is identified by where it was cut from.
//!
//! A skip used to delete the lease, so the deterministic pick handed the same task straight back.
//! Now the lease row stays as a skip (`skipped`, holding no place) and the pick passes over it;
//! when nothing else is left for the annotator, the server forgets their skips and the skipped
//! tasks come back, last.
//!
//! Audio was deduplicated on (owner, bytes) whatever its kind, so a clip whose bytes equalled an
//! upload (a source exactly one clip long) became that upload, and clips cut from different places
//! with equal bytes were one. Now audio without a parent is deduplicated on (owner, kind, bytes)
//! and a clip on (parent, offset, bytes).
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `tutti_next_batch` of migration 0007, with the pick passing over tasks the annotator skipped
/// (a frozen copy: a landed migration's text never changes).
const NEXT_BATCH: &str = r#"
CREATE OR REPLACE FUNCTION tutti_next_batch(p_items jsonb, p_now timestamptz, p_expires timestamptz)
RETURNS TABLE (r_index integer, r_task uuid, r_campaign uuid, r_clip uuid, r_expires timestamptz, r_fresh boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  item record;
  v_index integer;
  v_user uuid;
  v_lease uuid;
BEGIN
  FOR item IN SELECT * FROM jsonb_to_recordset(p_items) AS x(i integer, u uuid, l uuid) LOOP
    v_index := item.i;
    v_user := item.u;
    v_lease := item.l;
    RETURN QUERY
      WITH held AS (
        SELECT l.task_id, t.campaign_id, t.clip_id, l.expires_at FROM leases l
          JOIN tasks t ON t.id = l.task_id JOIN campaigns c ON c.id = t.campaign_id
          WHERE l.user_id = v_user AND l.expires_at > p_now AND NOT l.skipped AND NOT t.is_complete AND c.is_open
          ORDER BY l.created_at DESC LIMIT 1),
      pick AS (
        SELECT t.id, t.campaign_id, t.clip_id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id
          WHERE NOT EXISTS (SELECT 1 FROM held)
            AND c.is_open AND NOT t.is_complete AND NOT t.is_gold
            AND t.reserved < t.annotations_required
            AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.user_id = v_user)
            AND NOT EXISTS (SELECT 1 FROM leases o WHERE o.task_id = t.id AND o.user_id = v_user
                              AND (o.counted OR o.skipped))
          ORDER BY t.annotations_count DESC, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED),
      granted AS (
        INSERT INTO leases (id, task_id, user_id, expires_at, created_at, counted, skipped)
          SELECT v_lease, pick.id, v_user, p_expires, p_now, true, false FROM pick
          ON CONFLICT (task_id, user_id) DO UPDATE
            SET expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at, counted = true, skipped = false
            WHERE NOT leases.counted
          RETURNING leases.task_id, leases.expires_at),
      bump AS (UPDATE tasks SET reserved = reserved + 1 WHERE id IN (SELECT granted.task_id FROM granted) RETURNING id)
      SELECT v_index, held.task_id, held.campaign_id, held.clip_id, held.expires_at, false FROM held
      UNION ALL
      SELECT v_index, p.id, p.campaign_id, p.clip_id, g.expires_at, true FROM pick p JOIN granted g ON g.task_id = p.id;
  END LOOP;
END
$fn$"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // A skip holds no place and is never a live lease; it only keeps the task from coming back.
        m.alter_table(Table::alter().table("leases").add_column(boolean("skipped").default(false)).to_owned()).await?;
        m.drop_index(Index::drop().name("ux_audio_owner_sha256").table("audio").to_owned()).await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_audio_owner_kind_sha256 ON audio (owner_id, kind, sha256) WHERE parent_id IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_audio_parent_place ON audio (parent_id, parent_offset_frames, sha256) \
             WHERE parent_id IS NOT NULL",
        )
        .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(NEXT_BATCH).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(crate::m20261122_000007_annotation_batches::NEXT_BATCH).await?;
        }
        db.execute_unprepared("DROP INDEX ux_audio_parent_place").await?;
        db.execute_unprepared("DROP INDEX ux_audio_owner_kind_sha256").await?;
        m.create_index(
            Index::create()
                .name("ux_audio_owner_sha256")
                .table("audio")
                .col("owner_id")
                .col("sha256")
                .unique()
                .to_owned(),
        )
        .await?;
        db.execute_unprepared("DELETE FROM leases WHERE skipped").await?;
        m.alter_table(Table::alter().table("leases").drop_column("skipped").to_owned()).await?;
        Ok(())
    }
}
