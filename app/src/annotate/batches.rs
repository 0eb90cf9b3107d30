//! PostgreSQL: concurrent lease grants and answers gathered into one database call each (the
//! functions of migration 0007, fed by `batch`).
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult};
use uuid::Uuid;

use super::batch::Batcher;
use crate::context::ServerContext;
use crate::db::sql::stmt;

/// A lease held or just granted, with what the assignment needs of its task.
pub(super) struct Granted {
    pub(super) task_id: Uuid,
    pub(super) campaign_id: Uuid,
    pub(super) clip_id: Uuid,
    pub(super) expires_at: DateTime<Utc>,
    /// Just granted (not a lease the annotator already held).
    pub(super) fresh: bool,
}

impl Granted {
    pub(super) fn from_row(r: &QueryResult, fresh: bool) -> Result<Self, DbErr> {
        Ok(Granted {
            task_id: r.try_get("", "task_id")?,
            campaign_id: r.try_get("", "campaign_id")?,
            clip_id: r.try_get("", "clip_id")?,
            expires_at: r.try_get("", "expires_at")?,
            fresh,
        })
    }
}

/// This server's batch queues, started on first use (`RuntimeState`).
#[derive(Default)]
pub struct BatchQueues(std::sync::OnceLock<Arc<Batches>>);

/// Most requests one database call carries.
const MAX_BATCH: usize = 64;

/// Batches of one kind running at once.
const BATCHES_IN_FLIGHT: usize = 2;

/// The queues that gather concurrent grants and answers (PostgreSQL only; see `batch`).
pub struct Batches {
    pub(super) next: Batcher<Uuid, Option<Granted>>,
    pub(super) submit: Batcher<Answered, Option<(i32, bool)>>,
}

pub(super) fn batches(ctx: &ServerContext) -> Arc<Batches> {
    let state = ctx.runtime.get::<BatchQueues>();
    let batches = state.0.get_or_init(|| {
        let (db_next, db_submit, lease_seconds) = (ctx.db.clone(), ctx.db.clone(), ctx.settings.lease_seconds);
        Arc::new(Batches {
            next: Batcher::new(MAX_BATCH, BATCHES_IN_FLIGHT, move |users| {
                let db = db_next.clone();
                async move { next_batch(&db, lease_seconds, &users).await.map_err(|e| batch_failed("grant", e)).ok() }
            }),
            submit: Batcher::new(MAX_BATCH, BATCHES_IN_FLIGHT, move |items| {
                let db = db_submit.clone();
                async move { submit_batch(&db, &items).await.map_err(|e| batch_failed("answer", e)).ok() }
            }),
        })
    });
    batches.clone()
}

fn batch_failed(what: &str, e: DbErr) {
    // Each request is then served alone; a lone failure reaches its caller.
    tracing::info!("a batch of {what}s failed as a whole ({e}); serving each on its own");
}

/// The held lease, or else pick, lock, lease and reserve, for each user in turn, in one call of
/// `tutti_next_batch` (migration 0007: the same statement per user that a lone request would run).
/// The row lock's re-check reads the task's latest `reserved`, so a place taken by a grant that
/// committed after the statement began is seen; rows being leased by others are skipped.
pub(super) async fn next_batch(
    db: &DatabaseConnection,
    lease_seconds: i64,
    users: &[Uuid],
) -> Result<Vec<Option<Granted>>, DbErr> {
    let now = Utc::now();
    let expires = now + Duration::seconds(lease_seconds);
    let items: Vec<serde_json::Value> =
        users.iter().enumerate().map(|(i, u)| serde_json::json!({ "i": i, "u": u, "l": Uuid::new_v4() })).collect();
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT r_index, r_task AS task_id, r_campaign AS campaign_id, r_clip AS clip_id, \
             r_expires AS expires_at, r_fresh AS fresh FROM tutti_next_batch($1, $2, $3)",
            vec![serde_json::Value::Array(items).into(), now.into(), expires.into()],
        ))
        .await?;
    let mut out: Vec<Option<Granted>> = users.iter().map(|_| None).collect();
    for r in rows {
        let i: i32 = r.try_get("", "r_index")?;
        let slot = out.get_mut(i as usize).ok_or_else(|| DbErr::Custom(format!("no item {i} in the batch")))?;
        *slot = Some(Granted::from_row(&r, r.try_get("", "fresh")?)?);
    }
    Ok(out)
}

/// An answer on its way through `tutti_submit_batch`.
#[derive(Clone)]
pub(super) struct Answered {
    pub(super) task_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) id: Uuid,
    pub(super) client_id: String,
    pub(super) answers: String,
    pub(super) play_count: i32,
    pub(super) listening_ms: i64,
    pub(super) time_to_submit_ms: i64,
}

/// The common answers of a batch in one call (see `SUBMIT_BATCH` in migration 0007); per item its
/// submission number and whether it completed the task, or `None` for the careful path. Items go
/// in task order, so that concurrent batches take task locks in one order.
pub(super) async fn submit_batch(
    db: &DatabaseConnection,
    items: &[Answered],
) -> Result<Vec<Option<(i32, bool)>>, DbErr> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].task_id);
    let json: Vec<serde_json::Value> = order
        .iter()
        .map(|&i| {
            let a = &items[i];
            serde_json::json!({
                "i": i, "t": a.task_id, "u": a.user_id, "id": a.id, "c": a.client_id, "a": a.answers,
                "p": a.play_count, "l": a.listening_ms, "s": a.time_to_submit_ms,
            })
        })
        .collect();
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT * FROM tutti_submit_batch($1, $2)",
            vec![serde_json::Value::Array(json).into(), Utc::now().into()],
        ))
        .await?;
    let mut out: Vec<Option<(i32, bool)>> = items.iter().map(|_| None).collect();
    for r in rows {
        let i: i32 = r.try_get("", "r_index")?;
        let slot = out.get_mut(i as usize).ok_or_else(|| DbErr::Custom(format!("no item {i} in the batch")))?;
        *slot = Some((r.try_get("", "r_seq")?, r.try_get("", "r_complete")?));
    }
    Ok(out)
}
