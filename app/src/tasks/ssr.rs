//! Server side of campaigns and the task builder.
use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
};
use uuid::Uuid;

use super::{BuildJobInfo, BuildRequest, CampaignChanges, CampaignInfo, NewCampaign, Sources, clip_offsets};
use crate::context::ServerContext;
use crate::db::{audio, build_job, campaign, instrument, task, user};
use crate::error::AppError;
use crate::ingest::ssr::{NewAudio, Staged, ingest};

pub const DEFAULT_SILENCE_DB: f64 = -50.0;

pub async fn campaign_info(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<CampaignInfo, AppError> {
    let total = task::Entity::find()
        .filter(task::Column::CampaignId.eq(c.id))
        .filter(task::Column::IsGold.eq(false))
        .count(db)
        .await?;
    let complete = task::Entity::find()
        .filter(task::Column::CampaignId.eq(c.id))
        .filter(task::Column::IsGold.eq(false))
        .filter(task::Column::IsComplete.eq(true))
        .count(db)
        .await?;
    Ok(CampaignInfo {
        id: c.id,
        name: c.name.clone(),
        instructions: c.instructions.clone(),
        clip_seconds: c.clip_seconds,
        annotations_per_task: c.annotations_per_task,
        instruments: instruments_of(c),
        gold_rate: c.gold_rate,
        stats_every: c.stats_every,
        is_open: c.is_open,
        created_at: c.created_at.to_rfc3339(),
        tasks_total: total,
        tasks_complete: complete,
    })
}

pub fn instruments_of(c: &campaign::Model) -> Vec<String> {
    serde_json::from_str(&c.instruments).unwrap_or_default()
}

/// The campaign, if `viewer` may see it: open campaigns are seen by everyone signed in, closed
/// ones by admins only (404 to anyone else).
pub async fn visible_campaign(
    db: &impl ConnectionTrait,
    viewer: &user::Model,
    id: Uuid,
) -> Result<campaign::Model, AppError> {
    let c = campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !c.is_open && !viewer.is_admin {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// Campaign instructions (Markdown): trimmed, at most 20,000 characters.
pub fn check_instructions(text: &str) -> Result<String, AppError> {
    crate::error::within(text, 20_000, "Keep the instructions under 20,000 characters.")
}

fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::Invalid("Give the campaign a name of 1 to 120 characters.".into()));
    }
    Ok(name.to_string())
}

fn check_gold_rate(rate: f64) -> Result<f64, AppError> {
    if !(0.0..=0.5).contains(&rate) {
        return Err(AppError::Invalid("The gold-task rate must be between 0 and 0.5.".into()));
    }
    Ok(rate)
}

fn check_stats_every(n: i32) -> Result<i32, AppError> {
    if !(1..=1000).contains(&n) {
        return Err(AppError::Invalid("Show stats every 1 to 1000 submissions.".into()));
    }
    Ok(n)
}

/// Change what may change once tasks exist: name, instructions, gold rate, stats interval, and
/// whether the campaign is open. (Clip length, k and instruments are fixed by its tasks.)
pub async fn update_campaign(
    ctx: &ServerContext,
    id: Uuid,
    changes: CampaignChanges,
) -> Result<campaign::Model, AppError> {
    let db = &ctx.db;
    let mut a: campaign::ActiveModel =
        campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?.into();
    if let Some(name) = changes.name {
        a.name = Set(check_name(&name)?);
    }
    if let Some(text) = changes.instructions {
        a.instructions = Set(check_instructions(&text)?);
    }
    if let Some(rate) = changes.gold_rate {
        a.gold_rate = Set(check_gold_rate(rate)?);
    }
    if let Some(n) = changes.stats_every {
        a.stats_every = Set(check_stats_every(n)?);
    }
    if let Some(open) = changes.is_open {
        a.is_open = Set(open);
    }
    let c = a.update(db).await?;
    crate::annotate::ssr::forget_campaign(ctx, c.id);
    Ok(c)
}

/// Make a task a gold (check) task with these known answers, or a normal one again (`None`).
pub async fn set_gold(
    ctx: &ServerContext,
    task_id: Uuid,
    answers: Option<BTreeMap<String, bool>>,
) -> Result<(), AppError> {
    let t = task::Entity::find_by_id(task_id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    let c = campaign::Entity::find_by_id(t.campaign_id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    if let Some(answers) = &answers {
        if answers.is_empty() {
            return Err(AppError::Invalid("A gold task needs at least one known answer.".into()));
        }
        let wanted = instruments_of(&c);
        let unknown: Vec<_> = answers.keys().filter(|k| !wanted.contains(k)).cloned().collect();
        if !unknown.is_empty() {
            return Err(AppError::Invalid(format!("Not instruments of this campaign: {}.", unknown.join(", "))));
        }
    }
    let mut a: task::ActiveModel = t.into();
    a.is_gold = Set(answers.is_some());
    a.gold_answers = Set(answers.map(|g| serde_json::to_string(&g).unwrap_or_default()));
    let t = a.update(&ctx.db).await?;
    // Leases on gold tasks hold no place; recount the task's places for its new kind.
    crate::annotate::ssr::recount_task(ctx, t.id).await
}

/// One page of a campaign's tasks, in source and time order, for the admin's task list.
pub async fn task_page(
    db: &impl ConnectionTrait,
    campaign_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<super::TaskPage, AppError> {
    let c = campaign::Entity::find_by_id(campaign_id).one(db).await?.ok_or(AppError::NotFound)?;
    let all = task::Entity::find().filter(task::Column::CampaignId.eq(c.id));
    let total = all.clone().count(db).await?;
    let rows = all
        .order_by_asc(task::Column::SourceId)
        .order_by_asc(task::Column::OffsetFrames)
        .order_by_asc(task::Column::Id)
        .offset(offset)
        .limit(limit.clamp(1, 200))
        .all(db)
        .await?;
    let sources: std::collections::HashMap<Uuid, audio::Model> = audio::Entity::find()
        .filter(audio::Column::Id.is_in(rows.iter().map(|t| t.source_id).collect::<std::collections::HashSet<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let tasks = rows
        .into_iter()
        .map(|t| {
            let source = sources.get(&t.source_id);
            super::TaskSummary {
                id: t.id,
                clip_id: t.clip_id,
                source: source.map(|a| a.title.clone().unwrap_or(a.original_filename.clone())).unwrap_or_default(),
                offset_seconds: source.map(|a| t.offset_frames as f64 / a.canonical_rate.max(1) as f64).unwrap_or(0.0),
                annotations: t.annotations_count,
                required: t.annotations_required,
                complete: t.is_complete,
                gold_answers: t
                    .gold_answers
                    .as_deref()
                    .and_then(|g| serde_json::from_str(g).ok())
                    .filter(|_| t.is_gold),
            }
        })
        .collect();
    Ok(super::TaskPage { total, offset, tasks })
}

pub async fn create_campaign(
    db: &impl ConnectionTrait,
    creator: &user::Model,
    new: NewCampaign,
) -> Result<campaign::Model, AppError> {
    let name = check_name(&new.name)?;
    let clip_seconds = new.clip_seconds.unwrap_or(10.0);
    if !(1.0..=60.0).contains(&clip_seconds) {
        return Err(AppError::Invalid("The clip length must be between 1 and 60 seconds.".into()));
    }
    let k = new.annotations_per_task.unwrap_or(3);
    if !(1..=50).contains(&k) {
        return Err(AppError::Invalid("Annotations per task must be between 1 and 50.".into()));
    }
    let gold_rate = check_gold_rate(new.gold_rate.unwrap_or(0.0))?;
    let stats_every = check_stats_every(new.stats_every.unwrap_or(10))?;
    let taxonomy: Vec<String> = instrument::Entity::find()
        .order_by_asc(instrument::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.slug)
        .collect();
    let instruments = match new.instruments {
        None => taxonomy,
        Some(list) if list.is_empty() => return Err(AppError::Invalid("Ask about at least one instrument.".into())),
        Some(list) => {
            let unknown: Vec<_> = list.iter().filter(|s| !taxonomy.contains(s)).cloned().collect();
            if !unknown.is_empty() {
                return Err(AppError::Invalid(format!("Unknown instruments: {}.", unknown.join(", "))));
            }
            // Keep the taxonomy's order, without duplicates.
            taxonomy.into_iter().filter(|s| list.contains(s)).collect()
        }
    };
    Ok(campaign::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name),
        instructions: Set(check_instructions(&new.instructions)?),
        clip_seconds: Set(clip_seconds),
        annotations_per_task: Set(k),
        instruments: Set(serde_json::to_string(&instruments).unwrap_or_else(|_| "[]".into())),
        gold_rate: Set(gold_rate),
        stats_every: Set(stats_every),
        is_open: Set(true),
        created_by: Set(creator.id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
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
        .add(audio::Column::Kind.eq("upload"))
        .add(audio::Column::Kind.eq("recording"))
        .add(audio::Column::Kind.eq("mixdown"));
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
    crate::jobs::enqueue(&txn, TASK_BUILD, &payload).await?;
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
    ) -> futures::future::BoxFuture<'static, Result<(), String>> {
        Box::pin(async move { run_build_job(&ctx, &run).await })
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
        let req: BuildRequest = serde_json::from_str(&build.params).map_err(internal)?;
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
    if state.as_deref() == Some(crate::jobs::CANCELLED) {
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
        kind: "clip",
        filename: format!("{stem} @ {:.2}s.wav", offset as f64 / source.canonical_rate as f64),
        license: source.license.clone(),
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

/// One cut window: a 16-bit WAV of the clip and its RMS level, or why it was not cut.
pub struct Window {
    pub offset: u64,
    pub wav: Option<Vec<u8>>,
    pub rms_db: f64,
    pub skip_reason: Option<String>,
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
        .map_err(internal)?
        .bytes()
        .await
        .map_err(internal)?;
    let permit = ctx.audio_jobs.clone().acquire_owned().await.map_err(internal)?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        cut_windows_blocking(bytes, &offsets, frames)
    })
    .await
    .map_err(internal)?
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "task builder error");
    AppError::Internal
}

/// Overlapping windows (possible with random offsets) are cut in further passes, each pass taking
/// windows that do not overlap, so one pass never needs samples it has already dropped.
pub fn cut_windows_blocking(flac: bytes::Bytes, offsets: &[u64], frames: u64) -> Result<Vec<Window>, AppError> {
    let mut left: Vec<u64> = offsets.to_vec();
    let mut out = Vec::with_capacity(offsets.len());
    while !left.is_empty() {
        let (mut pass, mut later) = (Vec::new(), Vec::new());
        for o in left {
            if pass.last().is_none_or(|&p: &u64| o >= p + frames) { pass.push(o) } else { later.push(o) }
        }
        let (cut, short) = decode_windows(flac.clone(), &pass, frames, window)?;
        out.extend(cut);
        out.extend(short.into_iter().map(|offset| Window {
            offset,
            wav: None,
            rms_db: f64::NEG_INFINITY,
            skip_reason: Some("shorter than the clip length".into()),
        }));
        left = later;
    }
    out.sort_by_key(|w| w.offset);
    Ok(out)
}

/// The first `frames` frames of canonical audio, as interleaved samples at full precision (16 or
/// 24 bits, exactly), with the channel count.
pub fn decode_whole_blocking(flac: bytes::Bytes, frames: u64) -> Result<(Vec<f32>, usize), AppError> {
    let (mut whole, _) = decode_windows(flac, &[0], frames, |_, samples, channels, _| (samples, channels))?;
    whole.pop().ok_or_else(|| internal("the canonical audio is shorter than its record says"))
}

/// One decoding pass over canonical audio, handing each window of `frames` frames starting at
/// `offsets` (ascending, not overlapping) to `finish`; also returns the offsets the audio ended
/// before filling.
fn decode_windows<W>(
    flac: bytes::Bytes,
    offsets: &[u64],
    frames: u64,
    finish: impl Fn(u64, Vec<f32>, usize, u32) -> W,
) -> Result<(Vec<W>, Vec<u64>), AppError> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(flac)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("flac");
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(internal)?;
    let track = format.default_track(TrackType::Audio).ok_or_else(|| internal("canonical audio has no track"))?;
    let track_id = track.id;
    let params =
        track.codec_params.as_ref().and_then(|p| p.audio()).cloned().ok_or_else(|| internal("no audio params"))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(internal)?;
    let rate = params.sample_rate.unwrap_or(44_100);

    let mut out = Vec::with_capacity(offsets.len());
    let mut next = 0usize; // index of the window being filled
    let mut current: Vec<f32> = Vec::new();
    let mut channels;
    let mut position = 0u64; // frames decoded so far
    let mut scratch: Vec<f32> = Vec::new();
    while next < offsets.len() {
        let Some(packet) = format.next_packet().map_err(internal)? else { break };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet).map_err(internal)?;
        channels = buf.spec().channels().count().max(1);
        scratch.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut scratch[..]);
        let block_frames = (scratch.len() / channels) as u64;
        let mut f = 0u64;
        while f < block_frames && next < offsets.len() {
            let abs = position + f;
            let (start, end) = (offsets[next], offsets[next] + frames);
            if abs < start {
                f = (start - position).min(block_frames);
                continue;
            }
            let take_to = (end - position).min(block_frames);
            current.extend_from_slice(&scratch[(f as usize) * channels..(take_to as usize) * channels]);
            f = take_to;
            if position + f >= end {
                out.push(finish(offsets[next], std::mem::take(&mut current), channels, rate));
                next += 1;
            }
        }
        position += block_frames;
    }
    Ok((out, offsets[next..].to_vec()))
}

fn window(offset: u64, samples: Vec<f32>, channels: usize, rate: u32) -> Window {
    let energy: f64 = samples.iter().map(|s| (*s as f64) * (*s as f64)).sum::<f64>() / samples.len().max(1) as f64;
    let rms_db = if energy > 0.0 { 10.0 * energy.log10() } else { f64::NEG_INFINITY };
    Window { offset, wav: Some(wav_16(&samples, channels as u16, rate)), rms_db, skip_reason: None }
}

/// A 16-bit PCM WAV (a clip: what annotators hear in the browser).
pub fn wav_16(samples: &[f32], channels: u16, rate: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(&wav_16_header(samples.len() as u64, channels, rate).unwrap_or([0; 44]));
    put_i16(&mut b, samples);
    b
}

/// The 44-byte header of a 16-bit PCM WAV holding `samples` samples, or None when they would not
/// fit in one (4 GiB).
fn wav_16_header(samples: u64, channels: u16, rate: u32) -> Option<[u8; 44]> {
    let data_len = u32::try_from(samples.checked_mul(2)?).ok().filter(|d| *d <= u32::MAX - 36)?;
    let mut b = [0u8; 44];
    let fields: [&[u8]; 12] = [
        b"RIFF",
        &(36 + data_len).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &channels.to_le_bytes(),
        &rate.to_le_bytes(),
        &(rate * channels as u32 * 2).to_le_bytes(),
        &(channels * 2).to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &data_len.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        b[at..at + f.len()].copy_from_slice(f);
        at += f.len();
    }
    Some(b)
}

/// Appends samples as 16-bit PCM (clamped to ±1).
fn put_i16(out: &mut Vec<u8>, samples: &[f32]) {
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
}
