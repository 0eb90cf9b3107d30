//! Removal of what interrupted uploads leave behind.
//!
//! An upload is staged in a temporary file, its objects are written (a local store writes each
//! one to `<key>#<n>` and renames it when complete), and its `audio` row is inserted last. Every
//! failure that the process sees undoes these steps; a process that is killed does not. What
//! remains is found here, by age alone: anything still in use is being written to, or belongs to an
//! upload that will insert its row within moments, so it is younger than the grace period.
//!
//! - staging files: tempfile's `.tmp*` files directly in the temporary directory, older than grace
//!   (an upload in progress keeps writing to its file; other names in the directory are not ours);
//! - partial writes: `<key>#<digits>` files of a local store older than grace (the store's own
//!   listing hides them). S3 keeps unfinished multipart uploads out of every listing; a bucket
//!   lifecycle rule (AbortIncompleteMultipartUpload) removes those;
//! - orphan objects: `audio/<uuid>/…` objects whose `audio` row does not exist, when every object
//!   of that id is older than grace (the pipeline writes objects first and the row last). Objects
//!   a row names as one of its keys are kept whatever their path. Other keys are left alone.
//!
//! Several processes may sweep at once: removing what another one removed first is not an error,
//! and nothing is counted twice by one process.
pub mod runs;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::Serialize;
use tokio::task::JoinHandle;
use uuid::Uuid;

use app::db::{audio, cleanup_run};
use app::storage::Store;

use crate::config::{Config, Storage};

/// How many removed paths and keys a report (and its row) lists; the counts are always whole.
pub const LISTED: usize = 100;

/// Ids checked against the database per query (each brings up to a few keys; the key query binds
/// three parameters per key, far below SQLite's and PostgreSQL's limits).
const BATCH: usize = 200;

/// Runs that removed nothing are kept this long; runs that removed something or failed are kept.
const KEEP_EMPTY_RUNS: Duration = Duration::from_secs(7 * 24 * 3600);

/// What one sweep removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    pub staging_files: u64,
    pub staging_bytes: u64,
    pub partial_files: u64,
    pub partial_bytes: u64,
    pub orphan_objects: u64,
    pub orphan_bytes: u64,
    /// The first [`LISTED`] things removed.
    pub removed: Vec<Removed>,
}

/// One removed file or object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// `staging`, `partial` or `object`.
    pub kind: &'static str,
    /// A staging file's path; a partial write's path inside the store; an object's key.
    pub path: String,
    pub bytes: u64,
}

impl CleanupReport {
    pub fn files_removed(&self) -> u64 {
        self.staging_files + self.partial_files + self.orphan_objects
    }

    pub fn bytes_removed(&self) -> u64 {
        self.staging_bytes + self.partial_bytes + self.orphan_bytes
    }

    fn note(&mut self, kind: &'static str, path: String, bytes: u64) {
        let (count, total) = match kind {
            "staging" => (&mut self.staging_files, &mut self.staging_bytes),
            "partial" => (&mut self.partial_files, &mut self.partial_bytes),
            _ => (&mut self.orphan_objects, &mut self.orphan_bytes),
        };
        *count += 1;
        *total += bytes;
        if self.removed.len() < LISTED {
            self.removed.push(Removed { kind, path, bytes });
        }
    }
}

/// Where and how often to sweep.
#[derive(Clone, Debug)]
pub struct Settings {
    pub storage: Storage,
    pub tmp_dir: PathBuf,
    pub grace: Duration,
    pub every: Duration,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        Settings {
            storage: config.storage.clone(),
            tmp_dir: config.tmp_dir.clone(),
            grace: Duration::from_secs(config.cleanup_grace_secs),
            every: Duration::from_secs(config.cleanup_every_secs.max(1)),
        }
    }
}

/// Sweep now, then every `settings.every`, for ever.
pub async fn run(db: DatabaseConnection, store: Store, settings: Settings) {
    let mut every = tokio::time::interval(settings.every);
    // A long sweep (a huge bucket) must not be followed by a burst of catch-up sweeps.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = sweep(&db, &store, &settings.storage, &settings.tmp_dir, settings.grace).await {
            tracing::warn!(error = format!("{e:#}"), "cleanup of interrupted uploads failed");
        }
    }
}

/// [`run`] as a task of its own.
pub fn spawn(db: DatabaseConnection, store: Store, settings: Settings) -> JoinHandle<()> {
    tokio::spawn(run(db, store, settings))
}

/// Remove staging files, partial writes and row-less objects older than `grace`, and record the
/// run in `cleanup_runs`. Each category is swept even when another fails; the error names every
/// failure (the row keeps the counts of what was removed anyway).
pub async fn sweep(
    db: &DatabaseConnection,
    store: &Store,
    storage: &Storage,
    tmp_dir: &Path,
    grace: Duration,
) -> anyhow::Result<CleanupReport> {
    let started_at = Utc::now();
    let id = Uuid::new_v4();
    let mut errors: Vec<String> = Vec::new();
    // Recorded first, so a run its process does not survive still shows (without finished_at).
    let recorded = cleanup_run::ActiveModel {
        id: Set(id),
        started_at: Set(started_at),
        finished_at: Set(None),
        grace_seconds: Set(i64::try_from(grace.as_secs()).unwrap_or(i64::MAX)),
        staging_files: Set(0),
        staging_bytes: Set(0),
        partial_files: Set(0),
        partial_bytes: Set(0),
        orphan_objects: Set(0),
        orphan_bytes: Set(0),
        removed: Set("[]".into()),
        error: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| errors.push(format!("cannot record the run: {e}")))
    .is_ok();

    let mut report = CleanupReport::default();
    // Anything modified after this instant may belong to work in progress (a grace longer than
    // the clock's past ages nothing).
    let cutoff = SystemTime::now().checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);

    let tmp = tmp_dir.to_path_buf();
    match tokio::task::spawn_blocking(move || sweep_staging(&tmp, cutoff)).await {
        Ok((removed, errs)) => {
            removed.into_iter().for_each(|(path, bytes)| report.note("staging", path, bytes));
            errors.extend(errs);
        }
        Err(e) => errors.push(format!("staging files: {e}")),
    }

    // Ids with a partial write still going on: their finished objects are kept too.
    let mut busy = HashSet::new();
    if let Storage::Local(root) = storage {
        let root = root.clone();
        match tokio::task::spawn_blocking(move || sweep_partials(&root, cutoff)).await {
            Ok(partials) => {
                partials.removed.into_iter().for_each(|(path, bytes)| report.note("partial", path, bytes));
                errors.extend(partials.errors);
                busy = partials.busy;
            }
            Err(e) => errors.push(format!("partial writes: {e}")),
        }
    }

    if let Err(e) = sweep_objects(db, store, storage, cutoff.into(), busy, &mut report, &mut errors).await {
        errors.push(format!("objects: {e:#}"));
    }

    if report.files_removed() > 0 {
        tracing::info!(
            staging_files = report.staging_files,
            staging_bytes = report.staging_bytes,
            partial_files = report.partial_files,
            partial_bytes = report.partial_bytes,
            orphan_objects = report.orphan_objects,
            orphan_bytes = report.orphan_bytes,
            "removed what interrupted uploads left behind"
        );
    }
    let error = (!errors.is_empty()).then(|| summarize(&errors));
    if recorded {
        finish_record(db, id, &report, error.clone()).await.context("cannot record the end of the run")?;
    }
    if let Some(error) = error {
        anyhow::bail!(error);
    }
    Ok(report)
}

/// The first errors in full and how many more there were (a store that cannot be read at all
/// fails once per file).
fn summarize(errors: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = errors.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if errors.len() > SHOWN {
        text.push_str(&format!("; and {} more", errors.len() - SHOWN));
    }
    text
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn finish_record(
    db: &DatabaseConnection,
    id: Uuid,
    report: &CleanupReport,
    error: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    cleanup_run::ActiveModel {
        id: Set(id),
        finished_at: Set(Some(Utc::now())),
        staging_files: Set(count(report.staging_files)),
        staging_bytes: Set(count(report.staging_bytes)),
        partial_files: Set(count(report.partial_files)),
        partial_bytes: Set(count(report.partial_bytes)),
        orphan_objects: Set(count(report.orphan_objects)),
        orphan_bytes: Set(count(report.orphan_bytes)),
        removed: Set(serde_json::to_string(&report.removed).unwrap_or_else(|_| "[]".into())),
        error: Set(error),
        ..Default::default()
    }
    .update(db)
    .await?;
    let old = Utc::now() - chrono::Duration::from_std(KEEP_EMPTY_RUNS).unwrap_or_default();
    cleanup_run::Entity::delete_many()
        .filter(cleanup_run::Column::StartedAt.lt(old))
        .filter(cleanup_run::Column::FinishedAt.is_not_null())
        .filter(cleanup_run::Column::Error.is_null())
        .filter(cleanup_run::Column::StagingFiles.eq(0))
        .filter(cleanup_run::Column::PartialFiles.eq(0))
        .filter(cleanup_run::Column::OrphanObjects.eq(0))
        .exec(db)
        .await?;
    Ok(())
}

fn older(modified: std::io::Result<SystemTime>, cutoff: SystemTime) -> bool {
    // A file system without modification times never ages anything.
    modified.is_ok_and(|m| m < cutoff)
}

/// Removes an old file; `Ok(false)` when another process removed it first.
fn remove(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Staging files are made by `NamedTempFile::new_in(tmp_dir)`: `.tmp` and random characters,
/// directly in the directory. Only those are touched, so a temporary directory shared with
/// something else loses nothing else.
fn sweep_staging(dir: &Path, cutoff: SystemTime) -> (Vec<(String, u64)>, Vec<String>) {
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (removed, errors),
        Err(e) => return (removed, vec![format!("cannot read {}: {e}", dir.display())]),
    };
    for entry in entries.flatten() {
        let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(".tmp"));
        // file_type does not follow symbolic links: a link is never ours.
        if !ours || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !older(meta.modified(), cutoff) {
            continue;
        }
        let path = entry.path();
        match remove(&path) {
            Ok(true) => removed.push((path.display().to_string(), meta.len())),
            Ok(false) => {}
            Err(e) => errors.push(format!("cannot remove {}: {e}", path.display())),
        }
    }
    (removed, errors)
}

struct Partials {
    removed: Vec<(String, u64)>,
    errors: Vec<String>,
    busy: HashSet<Uuid>,
}

/// object_store's local multipart and put staging name: `<path>#<digits>` (see its `local.rs`).
fn is_partial(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(base, n)| !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The audio id an object key (or a store-relative path) belongs to: `audio/<uuid>/<name>`.
fn owner(key: &str) -> Option<Uuid> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("audio"), Some(id), Some(name)) if !name.is_empty() => id.parse().ok(),
        _ => None,
    }
}

fn sweep_partials(root: &Path, cutoff: SystemTime) -> Partials {
    let mut out = Partials { removed: Vec::new(), errors: Vec::new(), busy: HashSet::new() };
    for entry in walkdir::WalkDir::new(root).min_depth(1).follow_links(false) {
        let entry = match entry {
            Ok(entry) => entry,
            // Gone meanwhile (another sweep, a finished rename): nothing to do.
            Err(e) if e.io_error().is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) => continue,
            Err(e) => {
                out.errors.push(format!("cannot walk the store: {e}"));
                continue;
            }
        };
        if !entry.file_type().is_file() || !entry.file_name().to_str().is_some_and(is_partial) {
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let relative = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let Ok(meta) = entry.metadata() else { continue };
        if !older(meta.modified(), cutoff) {
            if let Some(id) = owner(&relative) {
                out.busy.insert(id);
            }
            continue;
        }
        match remove(entry.path()) {
            Ok(true) => {
                // An id directory holding nothing else goes too (a non-empty one stays).
                if owner(&relative).is_some()
                    && let Some(dir) = entry.path().parent()
                {
                    let _ = std::fs::remove_dir(dir);
                }
                out.removed.push((relative, meta.len()));
            }
            Ok(false) => {}
            Err(e) => out.errors.push(format!("cannot remove {}: {e}", entry.path().display())),
        }
    }
    out
}

/// Lists `audio/` and removes the objects of ids that have no row, in batches of [`BATCH`] ids.
/// Both stores list an id's objects together (one directory; consecutive keys), so a batch is
/// settled when a new id arrives and it is full.
async fn sweep_objects(
    db: &DatabaseConnection,
    store: &Store,
    storage: &Storage,
    cutoff: DateTime<Utc>,
    mut busy: HashSet<Uuid>,
    report: &mut CleanupReport,
    errors: &mut Vec<String>,
) -> anyhow::Result<()> {
    let mut listing = store.list(Some(&ObjectPath::from("audio")));
    let mut batch: HashMap<Uuid, Vec<object_store::ObjectMeta>> = HashMap::new();
    while let Some(meta) = listing.next().await {
        let meta = meta.context("cannot list the store")?;
        let Some(id) = owner(meta.location.as_ref()) else { continue };
        if busy.contains(&id) {
            continue;
        }
        if meta.last_modified > cutoff {
            // One young object keeps its whole set: the upload writing it is not done.
            busy.insert(id);
            batch.remove(&id);
            continue;
        }
        if batch.len() >= BATCH && !batch.contains_key(&id) {
            settle(db, store, storage, std::mem::take(&mut batch), report, errors).await?;
        }
        batch.entry(id).or_default().push(meta);
    }
    settle(db, store, storage, batch, report, errors).await
}

async fn settle(
    db: &DatabaseConnection,
    store: &Store,
    storage: &Storage,
    mut batch: HashMap<Uuid, Vec<object_store::ObjectMeta>>,
    report: &mut CleanupReport,
    errors: &mut Vec<String>,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = batch.keys().copied().collect();
    let rows: Vec<Uuid> = audio::Entity::find()
        .select_only()
        .column(audio::Column::Id)
        .filter(audio::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await
        .context("cannot look up audio rows")?;
    for id in rows {
        batch.remove(&id);
    }
    if batch.is_empty() {
        return Ok(());
    }
    // A row that names one of these objects as its own keeps the object's whole set.
    let keys: Vec<String> = batch.values().flatten().map(|m| m.location.to_string()).collect();
    let named: Vec<(String, String, String)> = audio::Entity::find()
        .select_only()
        .column(audio::Column::OriginalKey)
        .column(audio::Column::CanonicalKey)
        .column(audio::Column::PeaksKey)
        .filter(
            Condition::any()
                .add(audio::Column::OriginalKey.is_in(keys.clone()))
                .add(audio::Column::CanonicalKey.is_in(keys.clone()))
                .add(audio::Column::PeaksKey.is_in(keys)),
        )
        .into_tuple()
        .all(db)
        .await
        .context("cannot look up audio keys")?;
    for (a, b, c) in named {
        for key in [a, b, c] {
            if let Some(id) = owner(&key) {
                batch.remove(&id);
            }
        }
    }
    for (id, objects) in batch {
        for meta in objects {
            match store.delete(&meta.location).await {
                Ok(()) => report.note("object", meta.location.to_string(), meta.size),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => errors.push(format!("cannot delete {}: {e}", meta.location)),
            }
        }
        if let Storage::Local(root) = storage {
            // The local store leaves the id's directory behind; it is empty now unless something
            // unexpected lives there, and then it stays.
            let dir = root.join("audio").join(id.to_string());
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir(dir)).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_are_object_store_staging_names() {
        assert!(is_partial("original#1"));
        assert!(is_partial("canonical.flac#12"));
        assert!(!is_partial("original"));
        assert!(!is_partial("original#"));
        assert!(!is_partial("#1"));
        assert!(!is_partial("notes#draft"));
    }

    #[test]
    fn owners_are_audio_ids() {
        let id = Uuid::new_v4();
        assert_eq!(owner(&format!("audio/{id}/original")), Some(id));
        assert_eq!(owner(&format!("audio/{id}/canonical.flac#3")), Some(id));
        assert_eq!(owner(&format!("audio/{id}")), None);
        assert_eq!(owner(&format!("other/{id}/original")), None);
        assert_eq!(owner("audio/not-a-uuid/original"), None);
    }

    #[test]
    fn many_errors_are_summarized() {
        let errors: Vec<String> = (0..12).map(|i| format!("e{i}")).collect();
        let text = summarize(&errors);
        assert!(text.starts_with("e0; e1; "), "{text}");
        assert!(text.ends_with("e9; and 2 more"), "{text}");
        assert_eq!(summarize(&errors[..1]), "e0");
    }

    #[test]
    fn the_report_lists_the_first_items_and_counts_all() {
        let mut r = CleanupReport::default();
        for i in 0..(LISTED as u64 + 5) {
            r.note("object", format!("k{i}"), 10);
        }
        r.note("staging", "t".into(), 7);
        assert_eq!(r.orphan_objects, LISTED as u64 + 5);
        assert_eq!(r.orphan_bytes, 10 * (LISTED as u64 + 5));
        assert_eq!(r.staging_files, 1);
        assert_eq!(r.removed.len(), LISTED);
        assert_eq!(r.files_removed(), LISTED as u64 + 6);
    }
}
