//! The task builder: clips are cut from stored audio, imported as audio of kind `clip` with
//! their provenance, and each becomes an annotation task. A build is a job on the job queue.
use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    SqlErr,
};
use uuid::Uuid;

use super::{BuildJobInfo, BuildRequest, Sources, clip_offsets};
use crate::context::ServerContext;
use crate::db::{audio, build_job, campaign, task, user};
use crate::domain::AudioKind;
use crate::error::AppError;
use crate::library::ssr::{NewAudio, Staged, ingest};
use ::audio::windows::Window;

pub const DEFAULT_SILENCE_DB: f64 = -50.0;

/// A build's progress record (admin surfaces).
pub async fn find_job(db: &impl ConnectionTrait, id: Uuid) -> Result<BuildJobInfo, AppError> {
    let job = build_job::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    Ok(job_info(&job))
}

pub fn job_info(j: &build_job::Model) -> BuildJobInfo {
    BuildJobInfo {
        id: j.id,
        campaign_id: j.campaign_id,
        status: j.status.clone(),
        sources_total: j.sources_total,
        sources_done: j.sources_done,
        clips_made: j.clips_made,
        clips_existing: j.clips_existing,
        clips_skipped: j.clips_skipped,
        skipped_reasons: serde_json::from_str(&j.skipped_reasons).unwrap_or_default(),
        error: j.error.clone(),
        created_at: j.created_at.to_rfc3339(),
        finished_at: j.finished_at.map(|t| t.to_rfc3339()),
    }
}

/// Audio that can be cut into clips: uploads, recordings and mixdowns (never clips of clips).
async fn resolve_sources(ctx: &ServerContext, sources: &Sources) -> Result<Vec<audio::Model>, AppError> {
    let kinds = Condition::any()
        .add(audio::Column::Kind.eq(AudioKind::Upload))
        .add(audio::Column::Kind.eq(AudioKind::Recording))
        .add(audio::Column::Kind.eq(AudioKind::Mixdown));
    let query =
        audio::Entity::find().filter(kinds).order_by_asc(audio::Column::CreatedAt).order_by_asc(audio::Column::Id);
    let found = match sources {
        Sources::Audio { ids } => {
            if ids.is_empty() {
                return Err(AppError::Invalid("Choose at least one source audio.".into()));
            }
            let found = query.filter(audio::Column::Id.is_in(ids.clone())).all(&ctx.db).await?;
            if found.len() != ids.iter().collect::<std::collections::HashSet<_>>().len() {
                return Err(AppError::Invalid("Some of the chosen audio does not exist or is itself a clip.".into()));
            }
            found
        }
        Sources::User { user_id } => query.filter(audio::Column::OwnerId.eq(*user_id)).all(&ctx.db).await?,
        Sources::Public {} => query.filter(audio::Column::IsPublic.eq(true)).all(&ctx.db).await?,
    };
    Ok(found)
}

/// The job kind of a task build; its payload is [`BuildPayload`].
pub const TASK_BUILD: &str = "task_build";

#[derive(serde::Serialize, serde::Deserialize)]
struct BuildPayload {
    build_id: Uuid,
}

/// Record a build job and queue it for a worker. Returns at once with the queued job.
#[tracing::instrument(skip_all, fields(campaign = %campaign_id, user = %admin.id))]
pub async fn start_build(
    ctx: &ServerContext,
    campaign_id: Uuid,
    admin: &user::Model,
    req: BuildRequest,
) -> Result<build_job::Model, AppError> {
    let c = campaign::Entity::find_by_id(campaign_id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    if req.clips_per_source == Some(0) || req.clips_per_source.is_some_and(|n| n > 10_000) {
        return Err(AppError::Invalid("Clips per source must be between 1 and 10000.".into()));
    }
    let sources = resolve_sources(ctx, &req.sources).await?;
    let params = serde_json::to_string(&req).unwrap_or_default();
    let txn = crate::db::begin_write(&ctx.db).await?;
    // The same build asked again while it runs (a double click, a retried request) is that build:
    // cutting every clip twice to lose the race for each task would only waste the audio workers.
    // Requests for one campaign queue on its row here (PostgreSQL; SQLite's write transaction
    // already admits one writer at a time), so the check and the insert cannot interleave.
    campaign::Entity::find_by_id(c.id).lock_exclusive().one(&txn).await?;
    let unfinished =
        Condition::any().add(build_job::Column::Status.eq("queued")).add(build_job::Column::Status.eq("running"));
    if let Some(running) = build_job::Entity::find()
        .filter(build_job::Column::CampaignId.eq(c.id))
        .filter(build_job::Column::Params.eq(params.clone()))
        .filter(unfinished)
        .one(&txn)
        .await?
    {
        return Ok(running);
    }
    let job = build_job::ActiveModel {
        id: Set(Uuid::new_v4()),
        campaign_id: Set(c.id),
        requested_by: Set(admin.id),
        params: Set(params),
        status: Set("queued".into()),
        sources_total: Set(sources.len() as i32),
        sources_done: Set(0),
        clips_made: Set(0),
        clips_existing: Set(0),
        clips_skipped: Set(0),
        skipped_reasons: Set("{}".into()),
        error: Set(None),
        created_at: Set(Utc::now()),
        finished_at: Set(None),
    }
    .insert(&txn)
    .await?;
    // In the same transaction: a build row exists exactly when its queued job does.
    let payload = serde_json::to_string(&BuildPayload { build_id: job.id }).unwrap_or_default();
    crate::jobs::enqueue(&txn, TASK_BUILD, &payload, Some(admin.id)).await?;
    txn.commit().await?;
    crate::jobs::wake(ctx);
    Ok(job)
}

/// Runs task builds for the job queue. The `build_jobs` row stays the build's progress record
/// (the admin page and `GET /api/v1/builds/{id}` read it).
pub struct BuildHandler;

impl crate::jobs::Handler for BuildHandler {
    fn run(
        &self,
        ctx: ServerContext,
        run: std::sync::Arc<crate::jobs::JobRun>,
    ) -> futures::future::BoxFuture<'static, Result<crate::jobs::JobOutput, crate::jobs::JobError>> {
        Box::pin(async move { run_build_job(&ctx, &run).await.map(|()| None).map_err(Into::into) })
    }

    fn failed(
        &self,
        ctx: ServerContext,
        job: crate::db::job::Model,
        error: String,
    ) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Ok(p) = serde_json::from_str::<BuildPayload>(&job.payload)
                && let Err(e) = finish(&ctx, p.build_id, "failed", Some(error)).await
            {
                tracing::warn!(build = %p.build_id, error = %e, "could not mark a build failed");
            }
        })
    }
}

async fn run_build_job(ctx: &ServerContext, run: &crate::jobs::JobRun) -> Result<(), String> {
    let p: BuildPayload = serde_json::from_str(&run.job.payload).map_err(|e| format!("bad build payload: {e}"))?;
    let Some(build) = build_job::Entity::find_by_id(p.build_id).one(&ctx.db).await.map_err(|e| e.to_string())? else {
        return Ok(()); // its campaign was deleted
    };
    if build.status == "done" || build.status == "failed" {
        return Ok(()); // finished by an attempt whose outcome was not recorded
    }
    let Some(c) = campaign::Entity::find_by_id(build.campaign_id).one(&ctx.db).await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    let attempt = async {
        let req: BuildRequest =
            serde_json::from_str(&build.params).map_err(|e| AppError::internal("a task build", e))?;
        let sources = resolve_sources(ctx, &req.sources).await?;
        run_build(ctx, build, c, sources, req, run).await
    };
    match attempt.await {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::error!(build = %p.build_id, error = %e, "clip build failed");
            if !run.stopped() && !run.last_attempt() {
                // Shown while the retry waits; the last failure marks the build failed (`failed`).
                let note = format!(
                    "attempt {} of {} failed ({e}); it will be retried",
                    run.job.attempts, run.job.max_attempts
                );
                if let Ok(Some(j)) = build_job::Entity::find_by_id(p.build_id).one(&ctx.db).await {
                    let mut a: build_job::ActiveModel = j.into();
                    a.status = Set("queued".into());
                    a.error = Set(Some(note));
                    let _ = a.update(&ctx.db).await;
                }
            }
            Err(e.to_string())
        }
    }
}

async fn finish(ctx: &ServerContext, id: Uuid, status: &str, error: Option<String>) -> Result<(), AppError> {
    if let Some(j) = build_job::Entity::find_by_id(id).one(&ctx.db).await? {
        let mut a: build_job::ActiveModel = j.into();
        a.status = Set(status.into());
        a.error = Set(error);
        a.finished_at = Set(Some(Utc::now()));
        a.update(&ctx.db).await?;
    }
    Ok(())
}

/// The build's job stopped being this worker's. A cancelled build says so; one taken over by
/// another worker is left to it.
async fn stopped(ctx: &ServerContext, run: &crate::jobs::JobRun, build_id: Uuid) -> Result<(), AppError> {
    let state = crate::db::job::Entity::find_by_id(run.job.id).one(&ctx.db).await?.map(|j| j.state);
    if state == Some(crate::jobs::JobState::Cancelled) {
        finish(ctx, build_id, "failed", Some("cancelled".into())).await?;
    }
    Ok(())
}

async fn run_build(
    ctx: &ServerContext,
    job: build_job::Model,
    c: campaign::Model,
    sources: Vec<audio::Model>,
    req: BuildRequest,
    run: &crate::jobs::JobRun,
) -> Result<(), AppError> {
    // Each attempt counts from zero: a retry after a crash finds the clips the last one made
    // (counted as existing), never a second copy of them.
    let mut progress: build_job::ActiveModel = job.into();
    progress.status = Set("running".into());
    progress.error = Set(None);
    progress.sources_total = Set(sources.len() as i32);
    progress.sources_done = Set(0);
    progress.clips_made = Set(0);
    progress.clips_existing = Set(0);
    progress.clips_skipped = Set(0);
    progress.skipped_reasons = Set("{}".into());
    let mut progress = progress.update(&ctx.db).await?;
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
    let threshold = req.silence_threshold_db.unwrap_or(DEFAULT_SILENCE_DB);
    for source in sources {
        if run.stopped() {
            return stopped(ctx, run, progress.id).await;
        }
        let clip_frames = (c.clip_seconds * source.canonical_rate as f64).round() as u64;
        let offsets = clip_offsets(
            source.frames as u64,
            clip_frames,
            req.strategy,
            req.clips_per_source,
            req.seed,
            source.id.as_u128(),
        );
        let (mut made, mut existing, mut skipped) = (0, 0, 0);
        if offsets.is_empty() {
            skipped += 1;
            *reasons.entry("source shorter than the clip length".into()).or_default() += 1;
        }
        let known: std::collections::HashSet<i64> = task::Entity::find()
            .filter(task::Column::CampaignId.eq(c.id))
            .filter(task::Column::SourceId.eq(source.id))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|t| t.offset_frames)
            .collect();
        let wanted: Vec<u64> = offsets.iter().copied().filter(|o| !known.contains(&(*o as i64))).collect();
        existing += (offsets.len() - wanted.len()) as i32;
        if !wanted.is_empty() {
            let windows = cut_windows(ctx, &source, wanted, clip_frames).await?;
            for w in windows {
                if run.stopped() {
                    return stopped(ctx, run, progress.id).await;
                }
                let Some(window) = w.wav else {
                    skipped += 1;
                    *reasons.entry(w.skip_reason.unwrap_or_default()).or_default() += 1;
                    continue;
                };
                if w.rms_db < threshold {
                    skipped += 1;
                    *reasons.entry(format!("silent (below {threshold} dBFS)")).or_default() += 1;
                    continue;
                }
                match make_task(ctx, &c, &source, w.offset, window).await? {
                    true => made += 1,
                    false => existing += 1,
                }
            }
        }
        let mut a: build_job::ActiveModel = progress.into();
        a.sources_done = Set(a.sources_done.unwrap() + 1);
        a.clips_made = Set(a.clips_made.unwrap() + made);
        a.clips_existing = Set(a.clips_existing.unwrap() + existing);
        a.clips_skipped = Set(a.clips_skipped.unwrap() + skipped);
        a.skipped_reasons = Set(serde_json::to_string(&reasons).unwrap_or_default());
        progress = a.update(&ctx.db).await?;
    }
    finish(ctx, progress.id, "done", None).await
}

/// Import one clip as audio and make its task. False when the task already existed.
async fn make_task(
    ctx: &ServerContext,
    c: &campaign::Model,
    source: &audio::Model,
    offset: u64,
    wav: Vec<u8>,
) -> Result<bool, AppError> {
    let staged = Staged::from_bytes(ctx, &wav)?;
    let stem = source.original_filename.rsplit_once('.').map(|(s, _)| s).unwrap_or(&source.original_filename);
    let new = NewAudio {
        owner_id: source.owner_id,
        kind: AudioKind::Clip,
        filename: format!("{stem} @ {:.2}s.wav", offset as f64 / source.canonical_rate as f64),
        license: source.license,
        is_public: source.is_public,
        parent_id: Some(source.id),
        parent_offset_frames: Some(offset as i64),
        composition_id: None,
    };
    let clip = ingest(ctx, staged, new).await?.audio;
    let row = task::ActiveModel {
        id: Set(Uuid::new_v4()),
        campaign_id: Set(c.id),
        clip_id: Set(clip.id),
        source_id: Set(source.id),
        offset_frames: Set(offset as i64),
        is_gold: Set(false),
        gold_answers: Set(None),
        annotations_count: Set(0),
        annotations_required: Set(c.annotations_per_task),
        is_complete: Set(false),
        created_at: Set(Utc::now()),
    };
    match row.insert(&ctx.db).await {
        Ok(_) => Ok(true),
        // A concurrent build of the same campaign made it first.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Decode the source's canonical FLAC once, front to back, and cut every window on the way. Memory
/// holds one clip at a time.
async fn cut_windows(
    ctx: &ServerContext,
    source: &audio::Model,
    offsets: Vec<u64>,
    frames: u64,
) -> Result<Vec<Window>, AppError> {
    let bytes = ctx
        .store
        .get(&object_store::path::Path::from(source.canonical_key.as_str()))
        .await
        .map_err(|e| AppError::internal("a task build", e))?
        .bytes()
        .await
        .map_err(|e| AppError::internal("a task build", e))?;
    let permit = ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| AppError::internal("a task build", e))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        ::audio::windows::cut_windows(bytes, &offsets, frames).map_err(|e| AppError::internal("a task build", e))
    })
    .await
    .map_err(|e| AppError::internal("a task build", e))?
}
