//! PostgreSQL only: the lease grant and the common answer, for many annotators in one call.
//!
//! Under load, the server gathers the requests that arrive while earlier ones are being served
//! and hands them to the database together. Each function runs, for every item in turn, the
//! same one-statement grant or answer that serves a single request (see `app/src/annotate/ssr.rs`),
//! so the rules are unchanged; what a batch saves is a round trip, a statement set-up and a commit
//! per request. Later items see what earlier items of the same batch did (own row locks are never
//! skipped), so several annotators of one batch may be given places on the same task while it
//! still has them. SQLite serves one request at a time and has no such functions.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `p_items` is a JSON array of `{"i": index, "u": user, "l": id for a new lease}`. For each item,
/// in order: the user's live lease on an unfinished task of an open campaign,
/// or else the open normal task with a free place that the user has neither answered nor reserved,
/// closest to completion first, leased and reserved. Items given nothing return no row.
pub(crate) const NEXT_BATCH: &str = r#"
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
          WHERE l.user_id = v_user AND l.expires_at > p_now AND NOT t.is_complete AND c.is_open
          ORDER BY l.created_at DESC LIMIT 1),
      pick AS (
        SELECT t.id, t.campaign_id, t.clip_id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id
          WHERE NOT EXISTS (SELECT 1 FROM held)
            AND c.is_open AND NOT t.is_complete AND NOT t.is_gold
            AND t.reserved < t.annotations_required
            AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.user_id = v_user)
            AND NOT EXISTS (SELECT 1 FROM leases o WHERE o.task_id = t.id AND o.user_id = v_user AND o.counted)
          ORDER BY t.annotations_count DESC, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED),
      granted AS (
        INSERT INTO leases (id, task_id, user_id, expires_at, created_at, counted)
          SELECT v_lease, pick.id, v_user, p_expires, p_now, true FROM pick
          ON CONFLICT (task_id, user_id) DO UPDATE
            SET expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at, counted = true
            WHERE NOT leases.counted
          RETURNING leases.task_id, leases.expires_at),
      bump AS (UPDATE tasks SET reserved = reserved + 1 WHERE id IN (SELECT granted.task_id FROM granted) RETURNING id)
      SELECT v_index, held.task_id, held.campaign_id, held.clip_id, held.expires_at, false FROM held
      UNION ALL
      SELECT v_index, p.id, p.campaign_id, p.clip_id, g.expires_at, true FROM pick p JOIN granted g ON g.task_id = p.id;
  END LOOP;
END
$fn$"#;

/// `p_items` is a JSON array of `{"i", "t": task, "u": user, "id", "c": client id, "a": answers
/// (JSON text), "p": plays, "l": listening ms, "s": ms to submit}`, best sorted by task so that
/// concurrent batches lock tasks in the same order. For each item: a live lease that holds a place on a normal, unfinished task becomes the answer
/// (lease deleted, the annotator's submission counted, answer stored, task counted and closed at
/// k, the other leases of a closed task dropped). Items that do not fit return no row; the server
/// then takes its careful path for them, which says what is wrong.
const SUBMIT_BATCH: &str = r#"
CREATE OR REPLACE FUNCTION tutti_submit_batch(p_items jsonb, p_now timestamptz)
RETURNS TABLE (r_index integer, r_seq integer, r_complete boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  item record;
  v_index integer;
  v_task uuid;
  v_user uuid;
BEGIN
  FOR item IN SELECT * FROM jsonb_to_recordset(p_items)
      AS x(i integer, t uuid, u uuid, id uuid, c text, a text, p integer, l bigint, s bigint) LOOP
    v_index := item.i;
    v_task := item.t;
    v_user := item.u;
    RETURN QUERY
      WITH t0 AS (SELECT tasks.id, tasks.campaign_id FROM tasks WHERE tasks.id = v_task AND NOT is_gold AND NOT is_complete),
      mine AS (
        DELETE FROM leases l USING t0
          WHERE l.task_id = t0.id AND l.user_id = v_user AND l.expires_at > p_now AND l.counted
          RETURNING l.task_id),
      n AS (
        INSERT INTO annotator_campaigns (user_id, campaign_id, submissions)
          SELECT v_user, t0.campaign_id, 1 FROM t0 JOIN mine ON mine.task_id = t0.id
          ON CONFLICT (user_id, campaign_id) DO UPDATE SET submissions = annotator_campaigns.submissions + 1
          RETURNING submissions),
      a AS (
        INSERT INTO annotations (id, task_id, user_id, campaign_id, client_id, answers, play_count, listening_ms,
            time_to_submit_ms, is_gold, gold_correct, gold_total, created_at, seq)
          SELECT item.id, t0.id, v_user, t0.campaign_id, item.c, item.a, item.p, item.l,
            item.s, false, NULL::integer, NULL::integer, p_now, n.submissions
          FROM t0, n RETURNING annotations.seq),
      done AS (
        UPDATE tasks SET annotations_count = annotations_count + 1,
            is_complete = annotations_count + 1 >= annotations_required
          WHERE tasks.id = v_task AND EXISTS (SELECT 1 FROM a) RETURNING tasks.is_complete),
      rest AS (
        DELETE FROM leases WHERE leases.task_id = v_task AND leases.user_id <> v_user
          AND EXISTS (SELECT 1 FROM done WHERE done.is_complete))
      SELECT v_index, a.seq, done.is_complete FROM a, done;
  END LOOP;
END
$fn$"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        // A task row is rewritten at every grant (`reserved`, not indexed) and every answer. Room
        // on its page lets the grant's new version stay there without new index entries (HOT).
        db.execute_unprepared("ALTER TABLE tasks SET (fillfactor = 50)").await?;
        db.execute_unprepared(NEXT_BATCH).await?;
        db.execute_unprepared(SUBMIT_BATCH).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared("DROP FUNCTION IF EXISTS tutti_submit_batch").await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS tutti_next_batch").await?;
        db.execute_unprepared("ALTER TABLE tasks RESET (fillfactor)").await?;
        Ok(())
    }
}
