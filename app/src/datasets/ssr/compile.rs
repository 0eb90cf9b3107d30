//! The compile job: gather a release's samples, hash each clip's audio as it is stored, decide the
//! labels, split, write the release's files to the object store and list every file of the archive
//! in order. The archive itself is never written: `stream` lays it out from that list when it is
//! downloaded. The same data, parameters and seed give the same list, hence the same bytes.
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::gather::{Pending, gather};
use crate::context::ServerContext;
use crate::datasets::CompileReport;
use crate::db::{dataset as dataset_row, dataset_release, job, release_file};
use crate::domain::{JobState, ReleaseState};
use crate::error::AppError;
use crate::jobs::{Handler, JobError, JobOutput, JobRun};

pub const COMPILE: &str = "dataset_compile";

#[derive(Deserialize)]
struct Payload {
    release_id: Uuid,
}

pub struct CompileHandler;

impl Handler for CompileHandler {
    fn run(&self, ctx: ServerContext, run: Arc<JobRun>) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move { run_compile(&ctx, &run).await })
    }

    fn failed(&self, ctx: ServerContext, job: job::Model, error: String) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Ok(p) = serde_json::from_str::<Payload>(&job.payload)
                && let Err(e) = fail(&ctx.db, p.release_id, &error).await
            {
                tracing::warn!(release = %p.release_id, error = %e, "could not mark a release failed");
            }
        })
    }
}

/// The object-store key of a file the compiler wrote.
pub fn key(release: Uuid, path: &str) -> String {
    format!("releases/{release}/{path}")
}

/// Every object a release keeps (its written files and its hidden test labels).
pub async fn stored_keys(db: &impl ConnectionTrait, release: Uuid) -> Result<Vec<String>, AppError> {
    let mut keys: Vec<String> = release_file::Entity::find()
        .filter(release_file::Column::ReleaseId.eq(release))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|f| f.storage_key)
        .collect();
    keys.push(key(release, "test-labels.csv"));
    Ok(keys)
}

async fn fail(db: &impl ConnectionTrait, id: Uuid, error: &str) -> Result<(), AppError> {
    dataset_release::Entity::update_many()
        .col_expr(dataset_release::Column::State, Expr::value(ReleaseState::Failed))
        .col_expr(dataset_release::Column::Error, Expr::value(error.to_string()))
        .filter(dataset_release::Column::Id.eq(id))
        .filter(dataset_release::Column::State.eq(ReleaseState::Compiling))
        .exec(db)
        .await?;
    Ok(())
}

async fn progress(db: &impl ConnectionTrait, id: Uuid, phase: &str, done: i64, total: i64) -> Result<(), AppError> {
    dataset_release::Entity::update_many()
        .col_expr(dataset_release::Column::Phase, Expr::value(phase.to_string()))
        .col_expr(dataset_release::Column::Done, Expr::value(done))
        .col_expr(dataset_release::Column::Total, Expr::value(total))
        .filter(dataset_release::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A refusal of the input fails the job at once; anything else may pass on a retry.
fn job_error(e: AppError) -> JobError {
    match e {
        AppError::Invalid(m) | AppError::Conflict(m) => JobError::Fatal(m),
        other => JobError::Retry(other.to_string()),
    }
}

/// Size, SHA-256 and CRC-32 of a stored object, read as a stream.
async fn hash_object(ctx: &ServerContext, key: &str) -> Result<dataset::Blob, AppError> {
    let got = ctx
        .store
        .get(&object_store::path::Path::from(key))
        .await
        .map_err(|e| AppError::internal("reading a clip's audio", e))?;
    let mut stream = got.into_stream();
    let (mut sha, mut crc, mut size) = (Sha256::new(), crc32fast::Hasher::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AppError::internal("reading a clip's audio", e))?;
        sha.update(&chunk);
        crc.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok(dataset::Blob { size, sha256: hex::encode(sha.finalize()), crc32: crc.finalize() })
}

/// Stopped by a cancel (the release fails, saying so) or by a takeover (the new owner carries on).
async fn stopped(ctx: &ServerContext, run: &JobRun, id: Uuid) -> Result<JobOutput, JobError> {
    let state = job::Entity::find_by_id(run.job.id).one(&ctx.db).await.map_err(|e| JobError::Retry(e.to_string()))?;
    if state.map(|j| j.state) == Some(JobState::Cancelled) {
        fail(&ctx.db, id, "cancelled").await.map_err(job_error)?;
    }
    Ok(None)
}

async fn run_compile(ctx: &ServerContext, run: &JobRun) -> Result<JobOutput, JobError> {
    let p: Payload =
        serde_json::from_str(&run.job.payload).map_err(|e| JobError::Fatal(format!("bad compile payload: {e}")))?;
    let id = p.release_id;
    let db = &ctx.db;
    let Some(r) = dataset_release::Entity::find_by_id(id).one(db).await.map_err(|e| JobError::Retry(e.to_string()))?
    else {
        return Ok(None); // deleted before it ran
    };
    if r.state != ReleaseState::Compiling {
        return Ok(None); // finished by an attempt whose outcome was not recorded
    }
    let d = dataset_row::Entity::find_by_id(r.dataset_id)
        .one(db)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?
        .ok_or_else(|| JobError::Fatal("its dataset is gone".into()))?;
    let params: dataset::Params =
        serde_json::from_str(&r.params).map_err(|e| JobError::Fatal(format!("bad release parameters: {e}")))?;
    let campaigns: Vec<Uuid> =
        serde_json::from_str(&r.campaigns).map_err(|e| JobError::Fatal(format!("bad release campaigns: {e}")))?;

    progress(db, id, "gathering answers", 0, 0).await.map_err(job_error)?;
    let gathered = gather(db, &d, &campaigns, &params, &ctx.settings.public_url).await.map_err(job_error)?;
    if gathered.pending.is_empty() {
        let x = &gathered.excluded;
        return Err(JobError::Fatal(format!(
            "No clip qualifies for this release: of {} tasks, {} have too few answers, {} are gold, {} come from private \
             sources and {} from sources whose licence does not allow redistribution.",
            gathered.tasks_considered, x.too_few_answers, x.gold, x.private_source, x.licence_not_redistributable
        )));
    }
    let total = gathered.pending.len() as i64;
    let mut pending: Vec<Pending> = gathered.pending;
    let (excluded, tasks_considered, annotations, annotators) =
        (gathered.excluded, gathered.tasks_considered, gathered.annotations, gathered.annotators);
    let mut audio_bytes = 0u64;
    // A few clips are read at once: each read waits on the store more than on the CPU.
    let keys: Vec<String> = pending.iter().map(|p| p.canonical_key.clone()).collect();
    let mut hashed = futures::stream::iter(keys).map(|k| async move { hash_object(ctx, &k).await }).buffered(4);
    let mut i = 0usize;
    while let Some(blob) = hashed.next().await {
        if run.stopped() {
            return stopped(ctx, run, id).await;
        }
        if i.is_multiple_of(50) {
            progress(db, id, "reading audio", i as i64, total).await.map_err(job_error)?;
        }
        let blob = blob.map_err(job_error)?;
        audio_bytes += blob.size;
        pending[i].sample.audio = blob;
        i += 1;
    }
    drop(hashed);
    progress(db, id, "labelling and splitting", total, total).await.map_err(job_error)?;
    let (samples, clip_ids): (Vec<dataset::Sample>, Vec<Uuid>) =
        pending.into_iter().map(|p| (p.sample, p.clip_id)).unzip();
    let labels: Vec<Vec<dataset::Label>> = samples.iter().map(|s| dataset::labels::decide(&params, s)).collect();
    let split = dataset::split::split(&params, &samples, &labels).map_err(|e| JobError::Fatal(e.to_string()))?;
    let meta = dataset::DatasetMeta {
        name: d.name.clone(),
        slug: d.slug.clone(),
        description: d.description.clone(),
        citation: d.citation.clone(),
        version: r.version as u32,
        base_url: ctx.settings.public_url.clone(),
        campaigns: campaigns.iter().map(Uuid::to_string).collect(),
    };
    let generated = dataset::files::generate(&dataset::files::Compiled {
        meta: &meta,
        params: &params,
        samples: &samples,
        labels: &labels,
        test: &split.test,
        prevalence: &split.prevalence,
    });
    if run.stopped() {
        return stopped(ctx, run, id).await;
    }

    progress(db, id, "storing files", 0, generated.entries.len() as i64).await.map_err(job_error)?;
    let mut rows = Vec::with_capacity(generated.entries.len());
    let mut licences: Vec<String> = samples.iter().map(|s| s.source.licence.clone()).collect();
    licences.sort();
    licences.dedup();
    for (position, e) in generated.entries.iter().enumerate() {
        let (storage_key, audio_id) = match &e.content {
            dataset::archive::Content::Inline(bytes) => {
                let k = key(id, &e.path);
                crate::storage::put_bytes(&ctx.store, &k, bytes.clone())
                    .await
                    .map_err(|e| JobError::Retry(format!("storing a release file: {e}")))?;
                (Some(k), None)
            }
            dataset::archive::Content::Blob(i) => (None, Some(clip_ids[*i])),
        };
        rows.push(release_file::ActiveModel {
            release_id: Set(id),
            position: Set(position as i32),
            path: Set(e.path.clone()),
            size: Set(e.size as i64),
            sha256: Set(e.sha256.clone()),
            crc32: Set(i64::from(e.crc32)),
            storage_key: Set(storage_key),
            audio_id: Set(audio_id),
        });
    }
    let labels_key = key(id, "test-labels.csv");
    crate::storage::put_bytes(&ctx.store, &labels_key, generated.test_labels_csv.clone())
        .await
        .map_err(|e| JobError::Retry(format!("storing the test labels: {e}")))?;

    let mtime = super::gather::as_of(&params).map_err(job_error)?.timestamp().max(0) as u64;
    let tar_bytes = dataset::archive::Layout::tar(&generated.entries, mtime).len();
    let zip_bytes = dataset::archive::Layout::zip(&generated.entries, mtime).len();
    let report = CompileReport {
        tasks_considered,
        samples: samples.len() as u64,
        annotations,
        annotators,
        excluded,
        licences,
        audio_bytes,
        prevalence: serde_json::to_value(&split.prevalence).unwrap_or_default(),
    };
    let txn = db.begin().await.map_err(|e| JobError::Retry(e.to_string()))?;
    let still = dataset_release::Entity::find_by_id(id).one(&txn).await.map_err(|e| JobError::Retry(e.to_string()))?;
    if still.map(|r| r.state) != Some(ReleaseState::Compiling) {
        // Deleted (or cancelled) while compiling: what this attempt stored goes too.
        drop(txn);
        for k in generated.entries.iter().map(|e| key(id, &e.path)).chain([labels_key]) {
            crate::storage::delete_quietly(&ctx.store, &k).await;
        }
        return Ok(None);
    }
    release_file::Entity::delete_many()
        .filter(release_file::Column::ReleaseId.eq(id))
        .exec(&txn)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    for part in rows.chunks(1_000) {
        release_file::Entity::insert_many(part.to_vec())
            .exec(&txn)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
    }
    dataset_release::Entity::update_many()
        .col_expr(dataset_release::Column::State, Expr::value(ReleaseState::Compiled))
        .col_expr(dataset_release::Column::Phase, Expr::value("compiled".to_string()))
        .col_expr(dataset_release::Column::Report, Expr::value(serde_json::to_string(&report).unwrap_or_default()))
        .col_expr(dataset_release::Column::TarBytes, Expr::value(tar_bytes as i64))
        .col_expr(dataset_release::Column::ZipBytes, Expr::value(zip_bytes as i64))
        .col_expr(dataset_release::Column::TestLabelsKey, Expr::value(labels_key))
        .col_expr(dataset_release::Column::Error, Expr::value(Option::<String>::None))
        .filter(dataset_release::Column::Id.eq(id))
        .exec(&txn)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    txn.commit().await.map_err(|e| JobError::Retry(e.to_string()))?;
    tracing::info!(release = %id, samples = samples.len(), "release compiled");
    Ok(None)
}
