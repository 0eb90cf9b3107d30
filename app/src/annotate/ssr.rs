//! Serving, submission and consensus on the server.
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
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use consensus::{Accuracy, Answer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, Set, SqlErr, Statement, Value,
};
use uuid::Uuid;

use super::batch::Batcher;
pub use super::state::CampaignView;
use super::state::{ClipView, lock, remember};
use super::{AnnotatorStats, AnswerValue, Assignment, InstrumentProgress, Receipt, Submission};
use crate::context::ServerContext;
use crate::db::{annotation, annotator_accuracy, audio, campaign, instrument, task, task_label, user};
use crate::error::AppError;
use crate::instruments::Instrument;
use crate::tasks::ssr::instruments_of;

/// The loudness every clip is played at (EBU R128 broadcast target).
pub const TARGET_LUFS: f64 = -23.0;

fn answer(v: AnswerValue) -> Answer {
    match v {
        AnswerValue::Present => Answer::Present,
        AnswerValue::Absent => Answer::Absent,
        AnswerValue::Unsure => Answer::Unsure,
    }
}

fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}

/// A statement written with `$n` placeholders, for either backend (SQLite spells them `?n`).
fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Sqlite { sql.replace('$', "?") } else { sql.to_string() };
    Statement::from_sql_and_values(backend, sql, values)
}

/// SQLite has no row locks: serialise the read-check-write sections in this process instead.
async fn serial(ctx: &ServerContext) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    if is_postgres(&ctx.db) { None } else { Some(ctx.write_lock.lock().await) }
}

// ---- read-mostly data kept in memory (`AnnotateState`) ------------------------------------------

/// How long a campaign read from the database is used before it is read again. Campaigns change
/// rarely (instructions; `is_open` is always checked in SQL), and this server forgets one as
/// soon as it changes it; other replicas see the change within this time.
const CAMPAIGN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Forget what this server remembers of a campaign (call after changing it).
pub fn forget_campaign(ctx: &ServerContext, id: Uuid) {
    lock(&ctx.runtime.annotate.campaigns).remove(&id);
}

/// The campaign, from this server's memory when read recently; `db` may be a transaction.
pub async fn campaign_view(
    ctx: &ServerContext,
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<Arc<CampaignView>>, AppError> {
    let cache = &ctx.runtime.annotate.campaigns;
    if let Some((at, v)) = lock(cache).get(&id)
        && at.elapsed() < CAMPAIGN_TTL
    {
        return Ok(Some(v.clone()));
    }
    let Some(c) = campaign::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
    let slugs = instruments_of(&c);
    let instruments = instrument::Entity::find()
        .order_by_asc(instrument::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .filter(|i| slugs.contains(&i.slug))
        .map(|i| Instrument { slug: i.slug, name: i.name, family: i.family })
        .collect();
    let v = Arc::new(CampaignView { instructions_html: markdown_html(&c.instructions), slugs, instruments, model: c });
    remember(cache, id, (Instant::now(), v.clone()));
    Ok(Some(v))
}

async fn clip_view(ctx: &ServerContext, id: Uuid) -> Result<Arc<ClipView>, AppError> {
    let cache = &ctx.runtime.annotate.clips;
    if let Some(v) = lock(cache).get(&id) {
        return Ok(v.clone());
    }
    let clip = audio::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::Internal)?;
    let v = Arc::new(ClipView {
        duration_seconds: clip.duration_seconds,
        gain_db: clip.loudness_lufs.map(|l| (TARGET_LUFS - l).clamp(-30.0, 12.0)).unwrap_or(0.0),
        waveform: crate::ingest::ssr::card(ctx, &clip).await?.waveform,
    });
    remember(cache, id, v.clone());
    Ok(v)
}

async fn campaign_of_task(ctx: &ServerContext, task_id: Uuid) -> Result<Option<Uuid>, AppError> {
    let cache = &ctx.runtime.annotate.task_campaign;
    if let Some(c) = lock(cache).get(&task_id) {
        return Ok(Some(*c));
    }
    let db = &ctx.db;
    let row = db.query_one_raw(stmt(db, "SELECT campaign_id FROM tasks WHERE id = $1", vec![task_id.into()])).await?;
    let Some(row) = row else { return Ok(None) };
    let c: Uuid = row.try_get("", "campaign_id")?;
    remember(cache, task_id, c);
    Ok(Some(c))
}

// ---- serving ----------------------------------------------------------------------------------

/// A lease held or just granted, with what the assignment needs of its task.
struct Granted {
    task_id: Uuid,
    campaign_id: Uuid,
    clip_id: Uuid,
    expires_at: DateTime<Utc>,
    /// Just granted (not a lease the annotator already held).
    fresh: bool,
}

impl Granted {
    fn from_row(r: &QueryResult, fresh: bool) -> Result<Self, DbErr> {
        Ok(Granted {
            task_id: r.try_get("", "task_id")?,
            campaign_id: r.try_get("", "campaign_id")?,
            clip_id: r.try_get("", "clip_id")?,
            expires_at: r.try_get("", "expires_at")?,
            fresh,
        })
    }
}

/// The annotator's most recent live lease on an unfinished task of an open campaign (SQLite; the
/// same rule as `tutti_next_batch` on PostgreSQL).
const HELD_SQL: &str = "SELECT l.task_id, t.campaign_id, t.clip_id, l.expires_at FROM leases l \
     JOIN tasks t ON t.id = l.task_id JOIN campaigns c ON c.id = t.campaign_id \
     WHERE l.user_id = $1 AND l.expires_at > $2 AND NOT l.skipped AND NOT t.is_complete AND c.is_open \
     ORDER BY l.created_at DESC LIMIT 1";

/// Open normal tasks with a free place that this annotator has neither answered, reserved nor
/// skipped, closest to completion first.
const PICK_WHERE: &str = "c.is_open AND NOT t.is_complete AND NOT t.is_gold \
       AND t.reserved < t.annotations_required \
       AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.user_id = $1) \
       AND NOT EXISTS (SELECT 1 FROM leases o WHERE o.task_id = t.id AND o.user_id = $1 AND (o.counted OR o.skipped))";

// ---- PostgreSQL batches ------------------------------------------------------------------------

/// Most requests one database call carries.
const MAX_BATCH: usize = 64;
/// Batches of one kind running at once.
const BATCHES_IN_FLIGHT: usize = 2;

/// The queues that gather concurrent grants and answers (PostgreSQL only; see `batch`).
pub struct Batches {
    next: Batcher<Uuid, Option<Granted>>,
    submit: Batcher<Answered, Option<(i32, bool)>>,
}

fn batches(ctx: &ServerContext) -> &Batches {
    ctx.runtime.annotate.batches.get_or_init(|| {
        let (db_next, db_submit, lease_seconds) = (ctx.db.clone(), ctx.db.clone(), ctx.settings.lease_seconds);
        Batches {
            next: Batcher::new(MAX_BATCH, BATCHES_IN_FLIGHT, move |users| {
                let db = db_next.clone();
                async move { next_batch(&db, lease_seconds, &users).await.map_err(|e| batch_failed("grant", e)).ok() }
            }),
            submit: Batcher::new(MAX_BATCH, BATCHES_IN_FLIGHT, move |items| {
                let db = db_submit.clone();
                async move { submit_batch(&db, &items).await.map_err(|e| batch_failed("answer", e)).ok() }
            }),
        }
    })
}

fn batch_failed(what: &str, e: DbErr) {
    // Each request is then served alone; a lone failure reaches its caller.
    tracing::info!("a batch of {what}s failed as a whole ({e}); serving each on its own");
}

/// The held lease, or else pick, lock, lease and reserve, for each user in turn, in one call of
/// `tutti_next_batch` (migration 0007: the same statement per user that a lone request would run).
/// The row lock's re-check reads the task's latest `reserved`, so a place taken by a grant that
/// committed after the statement began is seen; rows being leased by others are skipped.
async fn next_batch(
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
struct Answered {
    task_id: Uuid,
    user_id: Uuid,
    id: Uuid,
    client_id: String,
    answers: String,
    play_count: i32,
    listening_ms: i64,
    time_to_submit_ms: i64,
}

/// The common answers of a batch in one call (see `SUBMIT_BATCH` in migration 0007); per item its
/// submission number and whether it completed the task, or `None` for the careful path. Items go
/// in task order, so that concurrent batches take task locks in one order.
async fn submit_batch(db: &DatabaseConnection, items: &[Answered]) -> Result<Vec<Option<(i32, bool)>>, DbErr> {
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

async fn lease_next(ctx: &ServerContext, user_id: Uuid) -> Result<Option<Granted>, AppError> {
    let now = Utc::now();
    let expires = now + Duration::seconds(ctx.settings.lease_seconds);
    if is_postgres(&ctx.db) {
        if let Some(got) = batches(ctx).next.call(user_id).await {
            return Ok(got);
        }
        return Ok(next_batch(&ctx.db, ctx.settings.lease_seconds, &[user_id]).await?.pop().flatten());
    }
    let _serial = serial(ctx).await;
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
async fn take_lease(txn: &DatabaseTransaction, task_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
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
    ctx.runtime.annotate.last_sweep.store(now.timestamp(), Ordering::Relaxed);
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
    let _serial = serial(ctx).await;
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

pub async fn next_task(ctx: &ServerContext, user: &user::Model) -> Result<Option<Assignment>, AppError> {
    if Utc::now().timestamp() - ctx.runtime.annotate.last_sweep.load(Ordering::Relaxed) >= SWEEP_EVERY {
        release_expired(ctx).await?;
    }
    let mut got = lease_next(ctx, user.id).await?;
    if got.is_none() && release_expired(ctx).await? > 0 {
        got = lease_next(ctx, user.id).await?;
    }
    // Nothing but what this annotator skipped is left: the skipped tasks come back, last.
    if got.is_none() && forget_skips(ctx, user.id).await? > 0 {
        got = lease_next(ctx, user.id).await?;
    }
    let Some(mut g) = got else { return Ok(None) };
    // The answer to this lease will need the task's campaign: remember it now.
    let task_campaign = &ctx.runtime.annotate.task_campaign;
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
    assignment(ctx, &g, &c).await.map(Some)
}

/// Give back the lease just granted and lease a gold task of the same campaign instead, if the
/// annotator has one left to answer.
async fn swap_for_gold(ctx: &ServerContext, user_id: Uuid, g: &Granted) -> Result<Option<Granted>, AppError> {
    let _serial = serial(ctx).await;
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
fn answered_in(user_id: Uuid, campaign_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(annotation::Column::TaskId)
        .from(annotation::Entity)
        .and_where(annotation::Column::UserId.eq(user_id))
        .and_where(annotation::Column::CampaignId.eq(campaign_id))
        .to_owned()
}

async fn assignment(ctx: &ServerContext, g: &Granted, c: &CampaignView) -> Result<Assignment, AppError> {
    let clip = clip_view(ctx, g.clip_id).await?;
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
    })
}

/// Markdown to HTML for instructions written by admins. Raw HTML is escaped rather than passed
/// through, links and images keep only web, mail and relative addresses (a `javascript:` link
/// would run in the annotator's page), and headings start at level 3, under the page's own.
pub fn markdown_html(text: &str) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd, html};
    fn safe(url: &str) -> bool {
        // Browsers ignore tabs and newlines inside a URL, so "java\tscript:" is still a scheme.
        let u: String =
            url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
        match u.split_once(':') {
            // A colon after a '/', '?' or '#' is part of a relative address, not a scheme.
            Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => matches!(scheme, "http" | "https" | "mailto"),
            _ => true,
        }
    }
    fn lower(l: HeadingLevel) -> HeadingLevel {
        match l {
            HeadingLevel::H1 => HeadingLevel::H3,
            HeadingLevel::H2 => HeadingLevel::H4,
            HeadingLevel::H3 => HeadingLevel::H5,
            _ => HeadingLevel::H6,
        }
    }
    let events = Parser::new(text).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: "#".into(), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: "".into(), title, id })
        }
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: lower(level), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// Skip: give the lease's place back and remember the skip, so that the task is not served to
/// this annotator again while anything else is left for them (see [`forget_skips`]).
pub async fn release(ctx: &ServerContext, user: &user::Model, task_id: Uuid) -> Result<(), AppError> {
    let _serial = serial(ctx).await;
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

/// Forget the annotator's skips; returns how many there were.
async fn forget_skips(ctx: &ServerContext, user_id: Uuid) -> Result<u64, AppError> {
    let done = ctx
        .db
        .execute_raw(stmt(&ctx.db, "DELETE FROM leases WHERE user_id = $1 AND skipped", vec![user_id.into()]))
        .await?;
    Ok(done.rows_affected())
}

/// After a task's places are changed by hand (it became gold, or normal again): leases on gold
/// tasks hold no place, and `reserved` is recounted under the task's lock.
pub async fn recount_task(ctx: &ServerContext, task_id: Uuid) -> Result<(), AppError> {
    let _serial = serial(ctx).await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    lock_task(&txn, task_id).await?;
    txn.execute_raw(stmt(
        &txn,
        "UPDATE leases SET counted = false WHERE task_id = $1 AND counted \
           AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = $1 AND t.is_gold)",
        vec![task_id.into()],
    ))
    .await?;
    txn.execute_raw(stmt(
        &txn,
        "UPDATE tasks SET reserved = annotations_count + \
           (SELECT count(*) FROM leases l WHERE l.task_id = $1 AND l.counted) WHERE id = $1",
        vec![task_id.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---- submitting -------------------------------------------------------------------------------

/// The task row as submission checks need it, locked on PostgreSQL.
struct LockedTask {
    id: Uuid,
    campaign_id: Uuid,
    is_gold: bool,
    gold_answers: Option<String>,
    annotations_count: i32,
    annotations_required: i32,
    is_complete: bool,
    reserved: i32,
}

async fn lock_task(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<LockedTask>, AppError> {
    let lock = if is_postgres(txn) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT id, campaign_id, is_gold, gold_answers, annotations_count, annotations_required, is_complete, \
         reserved FROM tasks WHERE id = $1{lock}"
    );
    let Some(r) = txn.query_one_raw(stmt(txn, &sql, vec![id.into()])).await? else { return Ok(None) };
    Ok(Some(LockedTask {
        id: r.try_get("", "id")?,
        campaign_id: r.try_get("", "campaign_id")?,
        is_gold: r.try_get("", "is_gold")?,
        gold_answers: r.try_get("", "gold_answers")?,
        annotations_count: r.try_get("", "annotations_count")?,
        annotations_required: r.try_get("", "annotations_required")?,
        is_complete: r.try_get("", "is_complete")?,
        reserved: r.try_get("", "reserved")?,
    }))
}

/// An accepted answer: enough to write its receipt.
struct Stored {
    id: Uuid,
    task_id: Uuid,
    campaign_id: Uuid,
    /// The annotator's submission number in the campaign (`None` for rows older than the counter).
    seq: Option<i32>,
    created_at: DateTime<Utc>,
    user_id: Uuid,
}

async fn receipt_for(ctx: &ServerContext, a: &Stored) -> Result<Receipt, AppError> {
    let c = campaign_view(ctx, &ctx.db, a.campaign_id).await?.ok_or(AppError::Internal)?;
    let submissions = match a.seq {
        Some(n) => n.max(0) as u64,
        // Count submissions up to and including this one, so a retry gets the same answer.
        None => {
            annotation::Entity::find()
                .filter(annotation::Column::UserId.eq(a.user_id))
                .filter(annotation::Column::CampaignId.eq(a.campaign_id))
                .filter(annotation::Column::CreatedAt.lte(a.created_at))
                .count(&ctx.db)
                .await?
        }
    };
    let every = c.model.stats_every;
    Ok(Receipt {
        annotation_id: a.id,
        task_id: a.task_id,
        submissions,
        show_stats: every > 0 && submissions.is_multiple_of(every as u64),
    })
}

async fn by_client_id(db: &DatabaseConnection, user_id: Uuid, client_id: &str) -> Result<Option<Stored>, AppError> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id, task_id, campaign_id, seq, created_at FROM annotations WHERE user_id = $1 AND client_id = $2",
            vec![user_id.into(), client_id.into()],
        ))
        .await?;
    row.map(|r| {
        Ok(Stored {
            id: r.try_get("", "id")?,
            task_id: r.try_get("", "task_id")?,
            campaign_id: r.try_get("", "campaign_id")?,
            seq: r.try_get("", "seq")?,
            created_at: r.try_get("", "created_at")?,
            user_id,
        })
    })
    .transpose()
}

/// Why the answers do not fit the campaign, if they do not.
fn check_answers(wanted: &[String], s: &Submission) -> Result<(), AppError> {
    let unknown: Vec<_> = s.answers.keys().filter(|k| !wanted.contains(k)).cloned().collect();
    if !unknown.is_empty() {
        return Err(AppError::Invalid(format!(
            "These instruments are not part of this campaign: {}.",
            unknown.join(", ")
        )));
    }
    let missing: Vec<_> = wanted.iter().filter(|k| !s.answers.contains_key(*k)).cloned().collect();
    if !missing.is_empty() {
        return Err(AppError::Invalid(format!("Answer every instrument; missing: {}.", missing.join(", "))));
    }
    if s.play_count == 0 {
        return Err(AppError::Invalid("Play the clip before answering.".into()));
    }
    Ok(())
}

pub async fn submit(
    ctx: &ServerContext,
    user: &user::Model,
    task_id: Uuid,
    s: Submission,
) -> Result<Receipt, AppError> {
    let client_id = s.client_id.trim().to_string();
    if client_id.is_empty() || client_id.chars().count() > 100 {
        return Err(AppError::Invalid("A submission needs a client id of 1 to 100 characters.".into()));
    }
    if is_postgres(&ctx.db)
        && let Some(r) = submit_direct(ctx, user, task_id, &client_id, &s).await?
    {
        return Ok(r);
    }
    // A retry of an accepted submission gets the same answer and stores nothing new.
    if let Some(a) = by_client_id(&ctx.db, user.id, &client_id).await? {
        return if a.task_id == task_id {
            receipt_for(ctx, &a).await
        } else {
            Err(AppError::Conflict("This client id was already used for another task.".into()))
        };
    }
    let stored = {
        let _serial = serial(ctx).await;
        let txn = crate::db::begin_write(&ctx.db).await?;
        let result = submit_locked(ctx, &txn, user, task_id, &client_id, &s).await;
        match result {
            Ok(a) => {
                txn.commit().await?;
                Ok(a)
            }
            Err(e) => {
                txn.rollback().await?;
                Err(e)
            }
        }
    };
    match stored {
        Ok(a) => receipt_for(ctx, &a).await,
        // Two copies of one submission raced: the first one stored wins, both get its receipt.
        Err(AppError::Conflict(_)) | Err(AppError::Internal)
            if let Some(a) = by_client_id(&ctx.db, user.id, &client_id).await?
                && a.task_id == task_id =>
        {
            receipt_for(ctx, &a).await
        }
        Err(e) => Err(e),
    }
}

/// PostgreSQL, the usual case in one statement (batched with others that arrive together): a live
/// lease that holds a place on a normal, unfinished task is turned into the answer. Anything else —
/// no such lease, a gold task, a retry, answers that do not fit — returns `None` and takes the
/// careful path, which says exactly what is wrong.
async fn submit_direct(
    ctx: &ServerContext,
    user: &user::Model,
    task_id: Uuid,
    client_id: &str,
    s: &Submission,
) -> Result<Option<Receipt>, AppError> {
    let Some(campaign_id) = campaign_of_task(ctx, task_id).await? else { return Ok(None) };
    let Some(c) = campaign_view(ctx, &ctx.db, campaign_id).await? else { return Ok(None) };
    if !c.model.is_open || check_answers(&c.slugs, s).is_err() {
        return Ok(None);
    }
    let id = Uuid::new_v4();
    let item = Answered {
        task_id,
        user_id: user.id,
        id,
        client_id: client_id.to_string(),
        answers: serde_json::to_string(&s.answers).unwrap_or_default(),
        play_count: s.play_count.min(i32::MAX as u32) as i32,
        listening_ms: s.listening_ms.min(i64::MAX as u64) as i64,
        time_to_submit_ms: s.time_to_submit_ms.min(i64::MAX as u64) as i64,
    };
    let done = match batches(ctx).submit.call(item.clone()).await {
        Some(done) => done,
        // The batch failed as a whole: this answer alone.
        None => match submit_batch(&ctx.db, &[item]).await {
            Ok(mut v) => v.pop().flatten(),
            // Already answered, or the client id was used before: the careful path explains.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let Some((seq, complete)) = done else { return Ok(None) };
    if complete {
        let txn = crate::db::begin_write(&ctx.db).await?;
        update_labels(&txn, task_id, &c.slugs).await?;
        txn.commit().await?;
    }
    let every = c.model.stats_every;
    let submissions = seq.max(0) as u64;
    Ok(Some(Receipt {
        annotation_id: id,
        task_id,
        submissions,
        show_stats: every > 0 && submissions.is_multiple_of(every as u64),
    }))
}

async fn submit_locked(
    ctx: &ServerContext,
    txn: &DatabaseTransaction,
    user: &user::Model,
    task_id: Uuid,
    client_id: &str,
    s: &Submission,
) -> Result<Stored, AppError> {
    let t = lock_task(txn, task_id).await?.ok_or(AppError::NotFound)?;
    let c = campaign_view(ctx, txn, t.campaign_id).await?.ok_or(AppError::NotFound)?;
    let already = annotation::Entity::find()
        .filter(annotation::Column::TaskId.eq(t.id))
        .filter(annotation::Column::UserId.eq(user.id))
        .count(txn)
        .await?;
    if already > 0 {
        return Err(AppError::Conflict("You have already annotated this clip.".into()));
    }
    if !c.model.is_open {
        return Err(AppError::Conflict("This campaign has been closed; it takes no more answers.".into()));
    }
    if t.is_complete {
        return Err(AppError::Conflict(
            "This clip already has all the annotations it needs. Load the next one.".into(),
        ));
    }
    let now = Utc::now();
    let mine = txn
        .query_one_raw(stmt(
            txn,
            "SELECT expires_at, counted, skipped FROM leases WHERE task_id = $1 AND user_id = $2",
            vec![t.id.into(), user.id.into()],
        ))
        .await?;
    let counted = match mine {
        None => {
            let others = txn
                .query_one_raw(stmt(
                    txn,
                    "SELECT count(*) AS n FROM leases WHERE task_id = $1 AND user_id <> $2 AND expires_at > $3",
                    vec![t.id.into(), user.id.into(), now.into()],
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
            return Err(AppError::Conflict(if others > 0 {
                "This clip is reserved for another annotator. Load the next one.".into()
            } else {
                "You do not hold this clip (no lease). Load the next one.".into()
            }));
        }
        Some(l) if l.try_get::<bool>("", "skipped")? => {
            return Err(AppError::Conflict("You skipped this clip. Load the next one.".into()));
        }
        Some(l) if l.try_get::<DateTime<Utc>>("", "expires_at")? <= now => {
            return Err(AppError::Conflict(
                "Your time on this clip ran out (the lease expired), so it may have gone to someone else. Load the next one."
                    .into(),
            ));
        }
        Some(l) => l.try_get::<bool>("", "counted")?,
    };
    check_answers(&c.slugs, s)?;
    // A live lease that holds no place (taken while the task was gold) needs a free one now.
    if !t.is_gold && !counted && t.reserved >= t.annotations_required {
        return Err(AppError::Conflict("This clip is reserved for other annotators. Load the next one.".into()));
    }
    let (mut gold_correct, mut gold_total) = (None, None);
    if t.is_gold {
        let truth: BTreeMap<String, bool> =
            t.gold_answers.as_deref().and_then(|g| serde_json::from_str(g).ok()).unwrap_or_default();
        let mut acc = Accuracy::default();
        for (slug, v) in &s.answers {
            if let Some(&truth) = truth.get(slug) {
                acc.record(answer(*v), truth);
            }
        }
        gold_correct = Some(acc.correct as i32);
        gold_total = Some(acc.total as i32);
        record_accuracy(txn, user.id, acc).await?;
    }
    let seq: i32 = txn
        .query_one_raw(stmt(
            txn,
            "INSERT INTO annotator_campaigns (user_id, campaign_id, submissions) VALUES ($1, $2, 1) \
             ON CONFLICT (user_id, campaign_id) DO UPDATE SET submissions = annotator_campaigns.submissions + 1 \
             RETURNING submissions",
            vec![user.id.into(), t.campaign_id.into()],
        ))
        .await?
        .ok_or(AppError::Internal)?
        .try_get("", "submissions")?;
    let id = Uuid::new_v4();
    txn.execute_raw(stmt(
        txn,
        "INSERT INTO annotations (id, task_id, user_id, campaign_id, client_id, answers, play_count, listening_ms, \
           time_to_submit_ms, is_gold, gold_correct, gold_total, created_at, seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vec![
            id.into(),
            t.id.into(),
            user.id.into(),
            t.campaign_id.into(),
            client_id.into(),
            serde_json::to_string(&s.answers).unwrap_or_default().into(),
            (s.play_count.min(i32::MAX as u32) as i32).into(),
            (s.listening_ms.min(i64::MAX as u64) as i64).into(),
            (s.time_to_submit_ms.min(i64::MAX as u64) as i64).into(),
            t.is_gold.into(),
            gold_correct.into(),
            gold_total.into(),
            now.into(),
            seq.into(),
        ],
    ))
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict("This submission was already stored.".into()),
        _ => e.into(),
    })?;
    txn.execute_raw(stmt(
        txn,
        "DELETE FROM leases WHERE task_id = $1 AND user_id = $2",
        vec![t.id.into(), user.id.into()],
    ))
    .await?;
    // Gold answers measure the annotator; they never move the consensus or the task's count.
    if !t.is_gold {
        let count = t.annotations_count + 1;
        let complete = count >= t.annotations_required;
        // The answer keeps the place its lease held, or takes a free one.
        let reserved = t.reserved + i32::from(!counted);
        txn.execute_raw(stmt(
            txn,
            "UPDATE tasks SET annotations_count = $1, is_complete = $2, reserved = $3 WHERE id = $4",
            vec![count.into(), complete.into(), reserved.into(), t.id.into()],
        ))
        .await?;
        if complete {
            txn.execute_raw(stmt(txn, "DELETE FROM leases WHERE task_id = $1", vec![t.id.into()])).await?;
            update_labels(txn, t.id, &c.slugs).await?;
        }
    }
    Ok(Stored { id, task_id: t.id, campaign_id: t.campaign_id, seq: Some(seq), created_at: now, user_id: user.id })
}

async fn record_accuracy(txn: &DatabaseTransaction, user_id: Uuid, acc: Accuracy) -> Result<(), AppError> {
    match annotator_accuracy::Entity::find_by_id(user_id).one(txn).await? {
        Some(row) => {
            let (c, t) = (row.gold_correct, row.gold_total);
            let mut a: annotator_accuracy::ActiveModel = row.into();
            a.gold_correct = Set(c + acc.correct as i32);
            a.gold_total = Set(t + acc.total as i32);
            a.update(txn).await?;
        }
        None => {
            annotator_accuracy::ActiveModel {
                user_id: Set(user_id),
                gold_correct: Set(acc.correct as i32),
                gold_total: Set(acc.total as i32),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// How much an annotator's answers are trusted: their gold accuracy under a Beta(3.5, 1.5) prior,
/// i.e. a newcomer counts as right 70% of the time until gold answers say otherwise. (A uniform
/// prior would give newcomers no weight at all, and campaigns without gold no estimate.)
pub fn trust(record: &Accuracy) -> f64 {
    record.estimate_with_prior(3.5, 1.5)
}

/// Compute the task's consensus per instrument (when it completes): majority counts and share, and the
/// trust-weighted probability using each annotator's gold accuracy.
pub async fn update_labels(txn: &impl ConnectionTrait, task_id: Uuid, instruments: &[String]) -> Result<(), AppError> {
    let anns = annotation::Entity::find().filter(annotation::Column::TaskId.eq(task_id)).all(txn).await?;
    let records: BTreeMap<Uuid, Accuracy> = annotator_accuracy::Entity::find()
        .filter(annotator_accuracy::Column::UserId.is_in(anns.iter().map(|a| a.user_id).collect::<Vec<_>>()))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.user_id, Accuracy { correct: r.gold_correct as u32, total: r.gold_total as u32 }))
        .collect();
    let accuracy: BTreeMap<Uuid, f64> =
        anns.iter().map(|a| (a.user_id, trust(&records.get(&a.user_id).copied().unwrap_or_default()))).collect();
    let parsed: Vec<(Uuid, BTreeMap<String, AnswerValue>)> =
        anns.iter().map(|a| (a.user_id, serde_json::from_str(&a.answers).unwrap_or_default())).collect();
    task_label::Entity::delete_many().filter(task_label::Column::TaskId.eq(task_id)).exec(txn).await?;
    let mut rows = Vec::with_capacity(instruments.len());
    for slug in instruments {
        let answers: Vec<(Answer, f64)> =
            parsed.iter().filter_map(|(u, map)| map.get(slug).map(|v| (answer(*v), accuracy[u]))).collect();
        let plain: Vec<Answer> = answers.iter().map(|(a, _)| *a).collect();
        let m = consensus::majority(&plain);
        rows.push(task_label::ActiveModel {
            task_id: Set(task_id),
            instrument: Set(slug.clone()),
            present: Set(m.present as i32),
            absent: Set(m.absent as i32),
            unsure: Set(m.unsure as i32),
            relevance: Set(m.relevance),
            confidence: Set(m.confidence),
            trust_present: Set(consensus::trust_weighted(&answers, 0.5)),
        });
    }
    if !rows.is_empty() {
        task_label::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

/// When the annotator's day began: local midnight for a UTC offset in minutes (east positive,
/// at most 14 hours either way, as time zones go).
pub fn day_start(now: DateTime<Utc>, utc_offset_minutes: i32) -> Result<DateTime<Utc>, AppError> {
    let tz = (-14 * 60..=14 * 60)
        .contains(&utc_offset_minutes)
        .then(|| chrono::FixedOffset::east_opt(utc_offset_minutes * 60))
        .flatten()
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "utc_offset_minutes must be between -840 and 840 (a time zone's offset), not {utc_offset_minutes}"
            ))
        })?;
    let local = now.with_timezone(&tz).date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(local.and_local_timezone(tz).single().map(|t| t.with_timezone(&Utc)).unwrap_or(now))
}

/// `utc_offset_minutes` is the annotator's time zone, so "today" is their day (UTC without it).
pub async fn stats(
    ctx: &ServerContext,
    user: &user::Model,
    campaign_id: Uuid,
    utc_offset_minutes: i32,
) -> Result<AnnotatorStats, AppError> {
    let midnight = day_start(Utc::now(), utc_offset_minutes)?;
    let c = crate::tasks::ssr::visible_campaign(&ctx.db, user, campaign_id).await?;
    // Your work in this campaign (the receipt's submission number counts the same way).
    let mine = annotation::Entity::find()
        .filter(annotation::Column::UserId.eq(user.id))
        .filter(annotation::Column::CampaignId.eq(c.id))
        .all(&ctx.db)
        .await?;
    let done_today = mine.iter().filter(|a| a.created_at >= midnight).count() as u64;
    // Agreement: your decided answers on complete tasks against their majority label. The labels of
    // every complete task you answered come in one query, not one per answer.
    let answered = answered_in(user.id, c.id).and_where(annotation::Column::IsGold.eq(false)).to_owned();
    let complete = sea_orm::sea_query::Query::select()
        .column(task::Column::Id)
        .from(task::Entity)
        .and_where(task::Column::IsComplete.eq(true))
        .and_where(task::Column::Id.in_subquery(answered))
        .to_owned();
    let mut labels_of: HashMap<Uuid, Vec<task_label::Model>> = HashMap::new();
    for l in task_label::Entity::find().filter(task_label::Column::TaskId.in_subquery(complete)).all(&ctx.db).await? {
        labels_of.entry(l.task_id).or_default().push(l);
    }
    let (mut agree, mut decided) = (0u64, 0u64);
    for a in mine.iter().filter(|a| !a.is_gold) {
        let Some(labels) = labels_of.get(&a.task_id) else { continue };
        let answers: BTreeMap<String, AnswerValue> = serde_json::from_str(&a.answers).unwrap_or_default();
        for l in labels {
            let Some(v) = answers.get(&l.instrument).and_then(|v| answer(*v).decided()) else { continue };
            // The majority of the *other* annotators: counting your own answer in would make you
            // agree with yourself (with k = 2, always).
            let (p, n) = (l.present - i32::from(v), l.absent - i32::from(!v));
            if p != n {
                decided += 1;
                agree += u64::from((p > n) == v);
            }
        }
    }
    let acc = annotator_accuracy::Entity::find_by_id(user.id).one(&ctx.db).await?;
    let info = crate::tasks::ssr::campaign_info(&ctx.db, &c).await?;
    let names: BTreeMap<String, String> =
        instrument::Entity::find().all(&ctx.db).await?.into_iter().map(|i| (i.slug, i.name)).collect();
    let mut instruments = Vec::new();
    for slug in instruments_of(&c) {
        let present = task_label::Entity::find()
            .filter(task_label::Column::Instrument.eq(slug.as_str()))
            .filter(task_label::Column::Relevance.gt(0.5))
            .filter(
                task_label::Column::TaskId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(task::Column::Id)
                        .from(task::Entity)
                        .and_where(task::Column::CampaignId.eq(c.id))
                        .and_where(task::Column::IsComplete.eq(true))
                        .to_owned(),
                ),
            )
            .count(&ctx.db)
            .await?;
        instruments.push(InstrumentProgress {
            name: names.get(&slug).cloned().unwrap_or_else(|| slug.clone()),
            slug,
            present,
        });
    }
    Ok(AnnotatorStats {
        done_today,
        done_total: mine.len() as u64,
        agreement: (decided > 0).then(|| agree as f64 / decided as f64),
        gold_accuracy: acc.as_ref().filter(|a| a.gold_total > 0).map(|a| a.gold_correct as f64 / a.gold_total as f64),
        gold_answers: acc.map(|a| a.gold_total as u32).unwrap_or(0),
        campaign_name: c.name,
        tasks_complete: info.tasks_complete,
        tasks_total: info.tasks_total,
        instruments,
    })
}

/// Krippendorff's alpha per instrument over a campaign's non-gold annotations ("not sure" is
/// treated as no answer).
pub async fn agreement(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<Vec<(String, Option<f64>)>, AppError> {
    let anns = annotation::Entity::find()
        .filter(annotation::Column::CampaignId.eq(c.id))
        .filter(annotation::Column::IsGold.eq(false))
        .all(db)
        .await?;
    let mut by_task: BTreeMap<Uuid, Vec<BTreeMap<String, AnswerValue>>> = BTreeMap::new();
    for a in anns {
        by_task.entry(a.task_id).or_default().push(serde_json::from_str(&a.answers).unwrap_or_default());
    }
    Ok(instruments_of(c)
        .into_iter()
        .map(|slug| {
            let units: Vec<Vec<u32>> = by_task
                .values()
                .map(|answers| {
                    answers
                        .iter()
                        .filter_map(|m| m.get(&slug).and_then(|v| answer(*v).decided()))
                        .map(u32::from)
                        .collect()
                })
                .collect();
            let alpha = consensus::krippendorff_alpha_nominal(&units);
            (slug, alpha)
        })
        .collect())
}

/// Audio longer than this gets no spectrogram image (they are for clips).
pub const SPECTROGRAM_MAX_SECONDS: f64 = 600.0;

/// The spectrogram PNG of a (short) audio, rendered once from its canonical FLAC and kept beside it.
pub async fn spectrogram_png(ctx: &ServerContext, a: &audio::Model) -> Result<Vec<u8>, AppError> {
    use object_store::path::Path;
    if a.duration_seconds > SPECTROGRAM_MAX_SECONDS {
        return Err(AppError::Invalid(format!(
            "Spectrograms are drawn for audio up to {} minutes long.",
            SPECTROGRAM_MAX_SECONDS / 60.0
        )));
    }
    let key = Path::from(format!("audio/{}/spectrogram.png", a.id));
    if let Ok(found) = ctx.store.get(&key).await
        && let Ok(bytes) = found.bytes().await
    {
        return Ok(bytes.to_vec());
    }
    let flac = ctx
        .store
        .get(&Path::from(a.canonical_key.as_str()))
        .await
        .map_err(|e| internal(&e))?
        .bytes()
        .await
        .map_err(|e| internal(&e))?;
    let frames = a.frames.max(0) as u64;
    let permit = ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| internal(&e))?;
    let png = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        let _permit = permit;
        let window = crate::tasks::ssr::cut_windows_blocking(flac, &[0], frames)?
            .into_iter()
            .next()
            .and_then(|w| w.wav)
            .ok_or(AppError::Internal)?;
        let (samples, channels, rate) = read_wav_16(&window).ok_or(AppError::Internal)?;
        Ok(super::spectrogram::render_png(&samples, channels, rate, &Default::default()))
    })
    .await
    .map_err(|e| internal(&e))??;
    if let Err(e) = crate::storage::put_bytes(&ctx.store, key.as_ref(), png.clone()).await {
        tracing::warn!(error = %e, "could not keep the spectrogram");
    }
    Ok(png)
}

fn internal(e: &dyn std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "annotation error");
    AppError::Internal
}

/// Read back a WAV written by [`crate::tasks::ssr::wav_16`].
pub fn read_wav_16(b: &[u8]) -> Option<(Vec<f32>, usize, u32)> {
    if b.len() < 44 || &b[0..4] != b"RIFF" {
        return None;
    }
    let channels = u16::from_le_bytes([b[22], b[23]]) as usize;
    let rate = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
    let samples = b[44..].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32767.0).collect();
    Some((samples, channels.max(1), rate))
}

#[cfg(test)]
mod tests {
    use super::{day_start, markdown_html};

    #[test]
    fn the_day_starts_at_the_annotator_s_midnight() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        let now = at("2026-11-22T23:30:00Z");
        assert_eq!(day_start(now, 0).unwrap(), at("2026-11-22T00:00:00Z"));
        // Already 00:30 on the 23rd in UTC+1.
        assert_eq!(day_start(now, 60).unwrap(), at("2026-11-22T23:00:00Z"));
        // 18:30 on the 22nd in UTC-5.
        assert_eq!(day_start(now, -300).unwrap(), at("2026-11-22T05:00:00Z"));
        // Kiritimati (UTC+14) and Baker Island (UTC-12).
        assert_eq!(day_start(now, 840).unwrap(), at("2026-11-22T10:00:00Z"));
        assert_eq!(day_start(now, -720).unwrap(), at("2026-11-22T12:00:00Z"));
        assert!(day_start(now, 841).is_err() && day_start(now, -841).is_err());
        assert!(day_start(now, i32::MIN).is_err() && day_start(now, i32::MAX).is_err(), "no overflow");
    }

    #[test]
    fn instructions_render_markdown_but_not_raw_html() {
        let html = markdown_html("Listen **twice**.\n\n- tick what you hear\n\n<script>alert(1)</script>");
        assert!(html.contains("<strong>twice</strong>"), "{html}");
        assert!(html.contains("<li>tick what you hear</li>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn instructions_keep_only_safe_links_and_their_headings_stay_under_the_page_s() {
        let html = markdown_html(
            "# Title\n\n[bad](javascript:alert(document.cookie)) [Bad](JaVaScRiPt:x) [data](data:text/html,x) \
             ![img](javascript:x) [tab](<java\tscript:x>) [ok](https://example.org/a:b) [rel](/help?x=a:b) [mail](mailto:a@b.org)",
        );
        assert!(!html.to_ascii_lowercase().contains("script:") && !html.contains("data:"), "{html}");
        assert!(html.contains(r#"href="https://example.org/a:b""#), "{html}");
        assert!(html.contains(r#"href="/help?x=a:b""#) && html.contains(r#"href="mailto:a@b.org""#), "{html}");
        assert!(html.contains("<h3>Title</h3>") && !html.contains("<h1>"), "{html}");
    }
}
