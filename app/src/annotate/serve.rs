//! Serving tasks under leases.
//!
//! Concurrency: a task's row carries `reserved`, its answers plus the leases that hold one of its
//! places (`leases.counted`). A lease is granted only by raising `reserved` while it is below
//! `annotations_required`, under the task's row lock, so a task is never promised to more
//! annotators than it still needs. On PostgreSQL the pick and the grant are one statement
//! (`FOR UPDATE SKIP LOCKED`, whose re-check sees the row's latest `reserved`), and so is an
//! accepted answer; requests that arrive together run as one call that does each in turn (the
//! functions of migration 0007, fed by `batch`); anything unusual (gold tasks, retries, every
//! rejection) takes the careful path, which locks the task row and re-reads everything. On
//! SQLite, which has no row locks, every read-check-write section runs one at a time in this
//! process.
//!
//! An expired lease keeps its place until it is found (when nothing else can be served, or every
//! little while): then it stops counting, but stays, so its holder is told that it expired.
//!
//! A chosen campaign: the annotator's live lease in that campaign, or else a pick restricted to
//! it, both on the careful path (`FOR UPDATE OF t SKIP LOCKED` on PostgreSQL), so the batch
//! function serves only "any campaign" and stays as it is. A lease held in another campaign is
//! left alone to be answered (another tab) or to expire; it is never served here.
use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::Assignment;
use super::batches::{Granted, batches, next_batch};
use super::state::AnnotateState;
use super::views::clip_view;
use crate::campaigns::cache::{CampaignView, campaign_view};
use crate::context::ServerContext;
use crate::db::sql::{is_postgres, stmt};
use crate::db::{annotation, task, user};
use crate::error::AppError;
use crate::runtime::{lock, remember};

/// The annotator's most recent live lease on an unfinished task of an open campaign (SQLite; the
/// same rule as `tutti_next_batch` on PostgreSQL).
const HELD_SQL: &str = "SELECT l.task_id, t.campaign_id, t.clip_id, l.expires_at FROM leases l \
     JOIN tasks t ON t.id = l.task_id JOIN campaigns c ON c.id = t.campaign_id \
     WHERE l.user_id = $1 AND l.expires_at > $2 AND NOT l.skipped AND NOT t.is_complete AND c.is_open \
     ORDER BY l.created_at DESC LIMIT 1";

/// [`HELD_SQL`] within one campaign (`$3`).
const HELD_IN_SQL: &str = "SELECT l.task_id, t.campaign_id, t.clip_id, l.expires_at FROM leases l \
     JOIN tasks t ON t.id = l.task_id JOIN campaigns c ON c.id = t.campaign_id \
     WHERE l.user_id = $1 AND l.expires_at > $2 AND NOT l.skipped AND NOT t.is_complete AND c.is_open \
       AND t.campaign_id = $3 \
     ORDER BY l.created_at DESC LIMIT 1";

/// Open normal tasks with a free place that this annotator has neither answered, reserved nor
/// skipped, closest to completion first.
const PICK_WHERE: &str = "c.is_open AND NOT t.is_complete AND NOT t.is_gold \
       AND t.reserved < t.annotations_required \
       AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.user_id = $1) \
       AND NOT EXISTS (SELECT 1 FROM leases o WHERE o.task_id = t.id AND o.user_id = $1 AND (o.counted OR o.skipped))";

async fn lease_next(ctx: &ServerContext, user_id: Uuid) -> Result<Option<Granted>, AppError> {
    let now = Utc::now();
    let expires = now + Duration::seconds(ctx.settings.lease_seconds);
    if is_postgres(&ctx.db) {
        if let Some(got) = batches(ctx).next.call(user_id).await {
            return Ok(got);
        }
        return Ok(next_batch(&ctx.db, ctx.settings.lease_seconds, &[user_id]).await?.pop().flatten());
    }
    let _serial = ctx.serial().await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    if let Some(r) = txn.query_one_raw(stmt(&txn, HELD_SQL, vec![user_id.into(), now.into()])).await? {
        txn.commit().await?;
        return Ok(Some(Granted::from_row(&r, false)?));
    }
    let pick = format!(
        "SELECT t.id, t.campaign_id, t.clip_id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id \
         WHERE {PICK_WHERE} ORDER BY t.annotations_count DESC, t.id LIMIT 1"
    );
    let Some(r) = txn.query_one_raw(stmt(&txn, &pick, vec![user_id.into()])).await? else {
        txn.commit().await?;
        return Ok(None);
    };
    let task_id: Uuid = r.try_get("", "id")?;
    grant(&txn, task_id, user_id, now, expires, true).await?;
    txn.commit().await?;
    Ok(Some(Granted {
        task_id,
        campaign_id: r.try_get("", "campaign_id")?,
        clip_id: r.try_get("", "clip_id")?,
        expires_at: expires,
        fresh: true,
    }))
}

/// The careful path within one chosen campaign, on either backend: the annotator's live lease
/// there, or else the pick of [`PICK_WHERE`] in that campaign, locked (PostgreSQL, skipping rows
/// others are leasing; the lock re-checks `reserved`) or under the process-wide lock (SQLite).
async fn lease_next_in(ctx: &ServerContext, user_id: Uuid, campaign_id: Uuid) -> Result<Option<Granted>, AppError> {
    let now = Utc::now();
    let expires = now + Duration::seconds(ctx.settings.lease_seconds);
    let _serial = ctx.serial().await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let held = txn.query_one_raw(stmt(&txn, HELD_IN_SQL, vec![user_id.into(), now.into(), campaign_id.into()])).await?;
    if let Some(r) = held {
        txn.commit().await?;
        return Ok(Some(Granted::from_row(&r, false)?));
    }
    let lock = if is_postgres(&ctx.db) { " FOR UPDATE OF t SKIP LOCKED" } else { "" };
    let pick = format!(
        "SELECT t.id, t.campaign_id, t.clip_id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id \
         WHERE {PICK_WHERE} AND t.campaign_id = $2 ORDER BY t.annotations_count DESC, t.id LIMIT 1{lock}"
    );
    let Some(r) = txn.query_one_raw(stmt(&txn, &pick, vec![user_id.into(), campaign_id.into()])).await? else {
        txn.commit().await?;
        return Ok(None);
    };
    let task_id: Uuid = r.try_get("", "id")?;
    grant(&txn, task_id, user_id, now, expires, true).await?;
    txn.commit().await?;
    Ok(Some(Granted { task_id, campaign_id, clip_id: r.try_get("", "clip_id")?, expires_at: expires, fresh: true }))
}

/// Replace the annotator's lease row on a task (a leftover that no longer counts, if any) with a
/// new one; a counted lease reserves a place. The caller has checked there is one.
async fn grant(
    txn: &DatabaseTransaction,
    task_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
    counted: bool,
) -> Result<(), AppError> {
    take_lease(txn, task_id, user_id).await?;
    txn.execute_raw(stmt(
        txn,
        "INSERT INTO leases (id, task_id, user_id, expires_at, created_at, counted) VALUES ($1, $2, $3, $4, $5, $6)",
        vec![Uuid::new_v4().into(), task_id.into(), user_id.into(), expires.into(), now.into(), counted.into()],
    ))
    .await?;
    if counted {
        txn.execute_raw(stmt(txn, "UPDATE tasks SET reserved = reserved + 1 WHERE id = $1", vec![task_id.into()]))
            .await?;
    }
    Ok(())
}

/// Delete the annotator's lease on a task, giving its place back if it held one.
pub(super) async fn take_lease(txn: &DatabaseTransaction, task_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    let gone = txn
        .query_all_raw(stmt(
            txn,
            "DELETE FROM leases WHERE task_id = $1 AND user_id = $2 RETURNING counted",
            vec![task_id.into(), user_id.into()],
        ))
        .await?;
    for r in gone {
        if r.try_get::<bool>("", "counted")? {
            txn.execute_raw(stmt(txn, "UPDATE tasks SET reserved = reserved - 1 WHERE id = $1", vec![task_id.into()]))
                .await?;
        }
    }
    Ok(())
}

/// Seconds between sweeps while there is still something to serve.
const SWEEP_EVERY: i64 = 15;

/// Expired leases stop holding their place; returns how many did.
async fn release_expired(ctx: &ServerContext) -> Result<usize, AppError> {
    let now = Utc::now();
    ctx.runtime.get::<AnnotateState>().last_sweep.store(now.timestamp(), Ordering::Relaxed);
    if is_postgres(&ctx.db) {
        let rows = ctx
            .db
            .query_all_raw(stmt(
                &ctx.db,
                "WITH r AS (UPDATE leases SET counted = false WHERE counted AND expires_at <= $1 RETURNING task_id), \
                 g AS (SELECT task_id, count(*) AS n FROM r GROUP BY task_id) \
                 UPDATE tasks SET reserved = tasks.reserved - g.n FROM g WHERE tasks.id = g.task_id RETURNING g.n",
                vec![now.into()],
            ))
            .await?;
        let mut n = 0;
        for r in rows {
            n += r.try_get::<i64>("", "n")? as usize;
        }
        return Ok(n);
    }
    let _serial = ctx.serial().await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let expired = txn
        .query_all_raw(stmt(
            &txn,
            "SELECT id, task_id FROM leases WHERE counted AND expires_at <= $1",
            vec![now.into()],
        ))
        .await?;
    for r in &expired {
        let (id, task_id): (Uuid, Uuid) = (r.try_get("", "id")?, r.try_get("", "task_id")?);
        txn.execute_raw(stmt(&txn, "UPDATE leases SET counted = false WHERE id = $1", vec![id.into()])).await?;
        txn.execute_raw(stmt(&txn, "UPDATE tasks SET reserved = reserved - 1 WHERE id = $1", vec![task_id.into()]))
            .await?;
    }
    txn.commit().await?;
    Ok(expired.len())
}

/// The next task from any open campaign (`campaign: None`) or from the chosen one.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn next_task(
    ctx: &ServerContext,
    user: &user::Model,
    campaign: Option<Uuid>,
) -> Result<Option<Assignment>, AppError> {
    if let Some(id) = campaign {
        super::progress::check_choice(ctx, user, id).await?;
    }
    let lease = async || match campaign {
        None => lease_next(ctx, user.id).await,
        Some(id) => lease_next_in(ctx, user.id, id).await,
    };
    if Utc::now().timestamp() - ctx.runtime.get::<AnnotateState>().last_sweep.load(Ordering::Relaxed) >= SWEEP_EVERY {
        release_expired(ctx).await?;
    }
    let mut got = lease().await?;
    if got.is_none() && release_expired(ctx).await? > 0 {
        got = lease().await?;
    }
    // Nothing but what this annotator skipped is left: the skipped tasks come back, last.
    if got.is_none() && forget_skips(ctx, user.id, campaign).await? > 0 {
        got = lease().await?;
    }
    let Some(mut g) = got else { return Ok(None) };
    // The answer to this lease will need the task's campaign: remember it now.
    let state = ctx.runtime.get::<AnnotateState>();
    let task_campaign = &state.task_campaign;
    if !lock(task_campaign).contains_key(&g.task_id) {
        remember(task_campaign, g.task_id, g.campaign_id);
    }
    let c = campaign_view(ctx, &ctx.db, g.campaign_id).await?.ok_or(AppError::Internal)?;
    // Now and then, a gold task of the same campaign instead.
    if g.fresh
        && c.model.gold_rate > 0.0
        && rand::random::<f64>() < c.model.gold_rate
        && let Some(gold) = swap_for_gold(ctx, user.id, &g).await?
    {
        g = gold;
    }
    assignment(ctx, user.id, &g, &c).await.map(Some)
}

/// Give back the lease just granted and lease a gold task of the same campaign instead, if the
/// annotator has one left to answer.
async fn swap_for_gold(ctx: &ServerContext, user_id: Uuid, g: &Granted) -> Result<Option<Granted>, AppError> {
    let _serial = ctx.serial().await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let Some(gold) = gold_candidate(&txn, g.campaign_id, user_id).await? else {
        txn.commit().await?;
        return Ok(None);
    };
    let now = Utc::now();
    let expires = now + Duration::seconds(ctx.settings.lease_seconds);
    take_lease(&txn, g.task_id, user_id).await?;
    grant(&txn, gold.id, user_id, now, expires, false).await?;
    txn.commit().await?;
    Ok(Some(Granted {
        task_id: gold.id,
        campaign_id: gold.campaign_id,
        clip_id: gold.clip_id,
        expires_at: expires,
        fresh: true,
    }))
}

async fn gold_candidate(
    txn: &DatabaseTransaction,
    campaign_id: Uuid,
    user_id: Uuid,
) -> Result<Option<task::Model>, AppError> {
    // One query, a random pick among the gold tasks this annotator has neither answered (as gold
    // or before it became gold) nor skipped.
    use crate::db::lease;
    let answered = answered_in(user_id, campaign_id);
    let skipped = sea_orm::sea_query::Query::select()
        .column(lease::Column::TaskId)
        .from(lease::Entity)
        .and_where(lease::Column::UserId.eq(user_id))
        .and_where(lease::Column::Skipped.eq(true))
        .to_owned();
    Ok(task::Entity::find()
        .filter(task::Column::CampaignId.eq(campaign_id))
        .filter(task::Column::IsGold.eq(true))
        .filter(task::Column::Id.not_in_subquery(answered))
        .filter(task::Column::Id.not_in_subquery(skipped))
        .order_by_asc(sea_orm::sea_query::Expr::cust("random()"))
        .one(txn)
        .await?)
}

/// The ids of the tasks this annotator has answered in this campaign, as a subquery.
pub(super) fn answered_in(user_id: Uuid, campaign_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(annotation::Column::TaskId)
        .from(annotation::Entity)
        .and_where(annotation::Column::UserId.eq(user_id))
        .and_where(annotation::Column::CampaignId.eq(campaign_id))
        .to_owned()
}

async fn assignment(ctx: &ServerContext, user_id: Uuid, g: &Granted, c: &CampaignView) -> Result<Assignment, AppError> {
    let clip = clip_view(ctx, g.clip_id).await?;
    let progress = super::progress::progress(ctx, user_id, c.model.id, None).await?;
    Ok(Assignment {
        task_id: g.task_id,
        campaign_id: c.model.id,
        campaign_name: c.model.name.clone(),
        instructions_html: c.instructions_html.clone(),
        clip_id: g.clip_id,
        duration_seconds: clip.duration_seconds,
        gain_db: clip.gain_db,
        instruments: c.instruments.clone(),
        lease_expires_at: g.expires_at.to_rfc3339(),
        stats_every: c.model.stats_every,
        waveform: clip.waveform.clone(),
        min_listen_share: c.model.min_listen_share,
        progress,
    })
}

/// Skip: give the lease's place back and remember the skip, so that the task is not served to
/// this annotator again while anything else is left for them (see [`forget_skips`]).
#[tracing::instrument(skip_all, fields(user = %user.id, task = %task_id))]
pub async fn release(ctx: &ServerContext, user: &user::Model, task_id: Uuid) -> Result<(), AppError> {
    let _serial = ctx.serial().await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let now = Utc::now();
    take_lease(&txn, task_id, user.id).await?;
    if task::Entity::find_by_id(task_id).one(&txn).await?.is_some() {
        txn.execute_raw(stmt(
            &txn,
            "INSERT INTO leases (id, task_id, user_id, expires_at, created_at, counted, skipped) \
             VALUES ($1, $2, $3, $4, $4, false, true)",
            vec![Uuid::new_v4().into(), task_id.into(), user.id.into(), now.into()],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Forget the annotator's skips (in the chosen campaign only, when there is one); returns how
/// many there were.
async fn forget_skips(ctx: &ServerContext, user_id: Uuid, campaign: Option<Uuid>) -> Result<u64, AppError> {
    let db = &ctx.db;
    let done = match campaign {
        None => {
            db.execute_raw(stmt(db, "DELETE FROM leases WHERE user_id = $1 AND skipped", vec![user_id.into()])).await?
        }
        Some(id) => {
            db.execute_raw(stmt(
                db,
                "DELETE FROM leases WHERE user_id = $1 AND skipped \
                 AND task_id IN (SELECT id FROM tasks WHERE campaign_id = $2)",
                vec![user_id.into(), id.into()],
            ))
            .await?
        }
    };
    Ok(done.rows_affected())
}
