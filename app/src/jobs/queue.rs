//! The durable job queue every background job runs through. A job is a `jobs` row: enqueued in the
//! same transaction as the write that asks for it (so a request either leaves both or neither),
//! claimed by one worker at a time, kept alive by a heartbeat, retried with exponential backoff up
//! to `max_attempts`, and taken over by another worker when its heartbeat goes stale (its process
//! died). A worker that finds at its heartbeat that the job is no longer its own (cancelled, or
//! taken over after a stall) tells the handler to stop at its next progress check; every outcome
//! is written only while the row still names this worker, so a job's outcome is recorded once.
//! Handlers must make their effects idempotent: after a crash the next attempt starts again.
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use futures::future::BoxFuture;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, Statement, Value,
};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::context::ServerContext;
use crate::db::job;

pub use crate::domain::JobState;

pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// The first retry waits this long; each further one twice as long, up to [`BACKOFF_MAX_MS`].
pub const BACKOFF_BASE_MS: i64 = 5_000;
pub const BACKOFF_MAX_MS: i64 = 10 * 60_000;

/// How the worker polls and when a running job counts as abandoned.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// How long an idle worker sleeps before looking again (a job enqueued by this process wakes
    /// it at once).
    pub poll: Duration,
    /// A running job whose heartbeat is older than this is taken over: its worker died.
    pub stale_after: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings { poll: Duration::from_secs(1), stale_after: Duration::from_secs(30) }
    }
}

impl WorkerSettings {
    /// Four beats per stale period: one late or lost beat never makes a live job look abandoned.
    pub fn heartbeat(&self) -> Duration {
        (self.stale_after / 4).max(Duration::from_millis(100))
    }
}

/// Wakes this server's job worker when a job is enqueued here (`RuntimeState`).
#[derive(Default)]
pub struct JobWake(tokio::sync::Notify);

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Tell this server's worker (the one spawned with this context) a job is waiting, so it need not
/// wait for its poll. Call it after the enqueuing transaction committed.
pub fn wake(ctx: &ServerContext) {
    ctx.runtime.get::<JobWake>().0.notify_one();
}

/// Add a job, asked for by `requested_by` (who may then see and cancel it). `db` may be the
/// caller's transaction: the job exists exactly when its write does.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    kind: &str,
    payload: &str,
    requested_by: Option<Uuid>,
) -> Result<job::Model, DbErr> {
    let now = Utc::now();
    job::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(kind.into()),
        payload: Set(payload.into()),
        state: Set(JobState::Queued),
        attempts: Set(0),
        max_attempts: Set(DEFAULT_MAX_ATTEMPTS),
        run_after: Set(now.timestamp_millis()),
        heartbeat_at: Set(None),
        worker: Set(None),
        error: Set(None),
        requested_by: Set(requested_by),
        result: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// Take at most one job for `worker`: a queued job whose time has come, or a running job whose
/// heartbeat is older than `stale_after`. The job comes back running, with `attempts` counting
/// this claim. One statement picks and marks the row: on PostgreSQL the pick locks it with
/// `FOR UPDATE SKIP LOCKED`, so concurrent claims take different jobs; SQLite runs it in a write
/// transaction (one writer at a time). The columns are named, not `*`: SQLite counts a `*` when
/// the statement is prepared, on a pooled connection that may still hold the schema from before a
/// migration added a column, and re-prepares it on its first step with the new count, which sqlx
/// does not expect.
pub async fn claim(db: &DatabaseConnection, worker: &str, stale_after: Duration) -> Result<Option<job::Model>, DbErr> {
    let now = now_ms();
    let cutoff = now - stale_after.as_millis() as i64;
    let backend = db.get_database_backend();
    let lock = if backend == DatabaseBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1, heartbeat_at = $2, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs \
             WHERE (state = 'queued' AND run_after <= $2) OR (state = 'running' AND heartbeat_at < $4) \
             ORDER BY run_after, created_at LIMIT 1 {lock}) \
         RETURNING id, kind, payload, state, attempts, max_attempts, run_after, heartbeat_at, worker, error, \
           requested_by, result, created_at, updated_at"
    );
    let values: Vec<Value> = vec![worker.into(), now.into(), Utc::now().into(), cutoff.into()];
    if backend == DatabaseBackend::Postgres {
        job::Entity::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).one(db).await
    } else {
        let txn = crate::db::begin_write(db).await?;
        let sql = sql.replace('$', "?");
        let claimed =
            job::Entity::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).all(&txn).await?;
        txn.commit().await?;
        Ok(claimed.into_iter().next())
    }
}

/// The running job `id` still belongs to `worker`.
fn owned(id: Uuid, worker: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(job::Column::Id.eq(id))
        .add(job::Column::Worker.eq(worker))
        .add(job::Column::State.eq(JobState::Running))
}

/// Record that `worker` is still running `id`. False when the job is no longer its own
/// (cancelled, or taken over after its heartbeat went stale): the worker must stop.
pub async fn heartbeat(db: &impl ConnectionTrait, id: Uuid, worker: &str) -> Result<bool, DbErr> {
    let r = job::Entity::update_many()
        .col_expr(job::Column::HeartbeatAt, Expr::value(now_ms()))
        .filter(owned(id, worker))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The job succeeded, producing `result` (JSON text). False when it was no longer `worker`'s.
pub async fn complete(db: &impl ConnectionTrait, id: Uuid, worker: &str, result: Option<&str>) -> Result<bool, DbErr> {
    let r = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Done))
        .col_expr(job::Column::Result, Expr::value(result.map(str::to_string)))
        .col_expr(job::Column::Error, Expr::value(Value::String(None)))
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(owned(id, worker))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// What [`fail`] did.
#[derive(Debug, PartialEq)]
pub enum Failed {
    /// Queued again, not to run before this time (Unix milliseconds).
    Retry { run_after: i64 },
    /// No attempts left: the job is failed for good.
    GaveUp,
    /// The job was no longer this worker's; nothing changed.
    Lost,
}

/// Wait before the retry that follows attempt `attempts` (1-based).
pub fn backoff_ms(attempts: i32) -> i64 {
    let doublings = (attempts.max(1) - 1).min(20) as u32;
    (BACKOFF_BASE_MS.saturating_mul(1 << doublings)).min(BACKOFF_MAX_MS)
}

/// The attempt `job` (as claimed) failed with `error`: queue it again after a backoff, or fail it
/// for good once its attempts are used up (or at once when another attempt cannot do better).
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &job::Model,
    worker: &str,
    error: &JobError,
) -> Result<Failed, DbErr> {
    let give_up = job.attempts >= job.max_attempts || matches!(error, JobError::Fatal(_));
    let error = error.message();
    let run_after = now_ms() + backoff_ms(job.attempts);
    let r = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(if give_up { JobState::Failed } else { JobState::Queued }))
        .col_expr(job::Column::Error, Expr::value(error))
        .col_expr(job::Column::RunAfter, Expr::value(run_after))
        .col_expr(job::Column::Worker, Expr::value(Value::String(None)))
        .col_expr(job::Column::HeartbeatAt, Expr::value(Value::BigInt(None)))
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(owned(job.id, worker))
        .exec(db)
        .await?;
    Ok(match (r.rows_affected, give_up) {
        (0, _) => Failed::Lost,
        (_, true) => Failed::GaveUp,
        (_, false) => Failed::Retry { run_after },
    })
}

/// Cancel a queued or running job. A running job's handler stops at its next progress check,
/// after the worker's next heartbeat. False when the job had already ended.
pub async fn cancel(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let r = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Cancelled))
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.is_in([JobState::Queued, JobState::Running]))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// One attempt at a job, as its handler sees it.
pub struct JobRun {
    /// The row as claimed (`attempts` counts this attempt).
    pub job: job::Model,
    stop: AtomicBool,
}

impl JobRun {
    /// The job was cancelled or taken over: stop now, leaving what is done (the next owner, if
    /// any, carries on from there).
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A failure now fails the job for good.
    pub fn last_attempt(&self) -> bool {
        self.job.attempts >= self.job.max_attempts
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// Something that may pass (a lost connection, a busy store): retried with backoff.
    Retry(String),
    /// Another attempt would fail the same way (the input is invalid): failed at once.
    Fatal(String),
}

impl JobError {
    pub fn message(&self) -> &str {
        match self {
            JobError::Retry(m) | JobError::Fatal(m) => m,
        }
    }
}

impl From<String> for JobError {
    fn from(m: String) -> Self {
        JobError::Retry(m)
    }
}

/// What a finished attempt produced: JSON text kept as the job's result, or nothing.
pub type JobOutput = Option<String>;

/// The code that runs one kind of job.
pub trait Handler: Send + Sync {
    /// Run one attempt. A `Retry` error is retried (with backoff) until the attempts are used up.
    fn run(&self, ctx: ServerContext, run: Arc<JobRun>) -> BoxFuture<'static, Result<JobOutput, JobError>>;

    /// The job failed for good (its last attempt failed, or its workers kept dying): record it
    /// where the job's own progress is shown.
    fn failed(&self, _ctx: ServerContext, _job: job::Model, _error: String) -> BoxFuture<'static, ()> {
        async {}.boxed()
    }
}

pub type Handlers = HashMap<&'static str, Arc<dyn Handler>>;

/// Run jobs one at a time until the returned task is aborted. Aborting drops the job being run;
/// its row stays running until its heartbeat goes stale and another worker takes it over.
pub fn spawn_worker(ctx: ServerContext, handlers: Handlers, settings: WorkerSettings) -> JoinHandle<()> {
    let worker = format!("{}-{}", std::process::id(), Uuid::new_v4());
    let wake = ctx.runtime.get::<JobWake>();
    tokio::spawn(async move {
        loop {
            match claim(&ctx.db, &worker, settings.stale_after).await {
                Ok(Some(job)) => run_one(&ctx, &handlers, &settings, &worker, job).await,
                Ok(None) => {
                    tokio::select! {
                        _ = tokio::time::sleep(settings.poll) => {}
                        _ = wake.0.notified() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim a job");
                    tokio::time::sleep(settings.poll).await;
                }
            }
        }
    })
}

async fn run_one(ctx: &ServerContext, handlers: &Handlers, settings: &WorkerSettings, worker: &str, job: job::Model) {
    let id = job.id;
    let Some(handler) = handlers.get(job.kind.as_str()).cloned() else {
        // A newer server may know the kind: retried with backoff, and failed when none does.
        let error = format!("no handler for job kind {:?}", job.kind);
        tracing::warn!(job = %id, "{error}");
        let _ = fail(&ctx.db, &job, worker, &JobError::Retry(error)).await;
        return;
    };
    if job.attempts > job.max_attempts {
        // Taken over after its last attempt's worker died: every attempt is used up.
        let error = match &job.error {
            Some(e) => format!("{e} (then its worker stopped)"),
            None => "its worker stopped during every attempt".into(),
        };
        if fail(&ctx.db, &job, worker, &JobError::Fatal(error.clone())).await.is_ok_and(|f| f == Failed::GaveUp) {
            handler.failed(ctx.clone(), job, error).await;
        }
        return;
    }
    tracing::info!(job = %id, kind = %job.kind, attempt = job.attempts, "job started");
    let run = Arc::new(JobRun { job: job.clone(), stop: AtomicBool::new(false) });
    let work = AssertUnwindSafe(handler.run(ctx.clone(), run.clone())).catch_unwind();
    let beat = async {
        let mut every = tokio::time::interval(settings.heartbeat());
        every.tick().await; // the claim itself was the first beat
        loop {
            every.tick().await;
            match heartbeat(&ctx.db, id, worker).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(job = %id, error = %e, "job heartbeat failed"),
            }
        }
        tracing::info!(job = %id, "job cancelled or taken over; stopping it");
        run.stop.store(true, Ordering::Relaxed);
        std::future::pending().await
    };
    let outcome = tokio::select! {
        r = work => r,
        r = beat => r,
    };
    let error = match outcome {
        Ok(Ok(output)) => {
            match complete(&ctx.db, id, worker, output.as_deref()).await {
                Ok(true) => tracing::info!(job = %id, "job done"),
                Ok(false) => {}
                Err(e) => tracing::warn!(job = %id, error = %e, "could not record a finished job"),
            }
            return;
        }
        Ok(Err(e)) => e,
        Err(_) => JobError::Retry("the job panicked".to_string()),
    };
    match fail(&ctx.db, &job, worker, &error).await {
        Ok(Failed::Retry { run_after }) => {
            tracing::warn!(job = %id, error = error.message(), retry_in_ms = run_after - now_ms(), "job failed; will retry")
        }
        Ok(Failed::GaveUp) => {
            tracing::error!(job = %id, error = error.message(), "job failed for good");
            handler.failed(ctx.clone(), job, error.message().to_string()).await;
        }
        Ok(Failed::Lost) => {}
        Err(e) => tracing::warn!(job = %id, error = %e, "could not record a failed job"),
    }
}
