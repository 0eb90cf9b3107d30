//! `server import DIR --owner EMAIL`: bulk ingest of a folder, in parallel, with a progress bar and
//! a summary of imported, duplicate and failed files.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use app::context::ServerContext;
use app::db::user;
use app::domain::Licence;
use app::library::ssr::{NewAudio, ingest, stage_path};

/// File extensions worth trying; anything else in the folder is ignored.
const AUDIO_EXTENSIONS: [&str; 16] = [
    "wav", "wave", "aif", "aiff", "aifc", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac", "alac", "caf", "opus",
    "webm",
];

#[derive(Debug, Default)]
pub struct Summary {
    pub imported: Vec<PathBuf>,
    pub duplicates: Vec<PathBuf>,
    pub failed: Vec<(PathBuf, String)>,
}

pub fn audio_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    anyhow::ensure!(dir.is_dir(), "{} is not a directory", dir.display());
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    Ok(files)
}

pub async fn import_dir(
    ctx: &ServerContext,
    dir: &Path,
    owner_email: &str,
    license: Option<&str>,
    public: bool,
    show_progress: bool,
) -> anyhow::Result<Summary> {
    let owner = user::Entity::find()
        .filter(user::Column::Email.eq(owner_email.trim().to_lowercase()))
        .one(&ctx.db)
        .await?
        .with_context(|| format!("no user with the e-mail {owner_email}; they must sign in once first"))?;
    let license = Licence::chosen_or(license, ctx.settings.default_license).map_err(|e| anyhow::anyhow!("{}", e.0))?;
    let files = audio_files(dir)?;
    let bar = if show_progress { ProgressBar::new(files.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files ({eta} left) {msg}")
            .expect("a valid template"),
    );
    let bar = Arc::new(bar);
    // Staging reads files while earlier ones decode; ingest itself is bounded by `audio_jobs`.
    let limit = Arc::new(tokio::sync::Semaphore::new(ctx.audio_jobs.available_permits() * 2));
    let mut tasks = tokio::task::JoinSet::new();
    for path in files {
        let (ctx, bar, limit, license) = (ctx.clone(), bar.clone(), limit.clone(), license);
        let owner_id = owner.id;
        tasks.spawn(async move {
            let _slot = limit.acquire_owned().await;
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let result = async {
                let staged = {
                    let (ctx, path) = (ctx.clone(), path.clone());
                    tokio::task::spawn_blocking(move || stage_path(&ctx, &path)).await.map_err(|e| e.to_string())?
                }
                .map_err(|e| e.to_string())?;
                let new = NewAudio {
                    owner_id,
                    kind: app::domain::AudioKind::Upload,
                    filename: audio::text::clean_file_name(&name),
                    license,
                    is_public: public,
                    parent_id: None,
                    parent_offset_frames: None,
                    composition_id: None,
                };
                ingest(&ctx, staged, new).await.map(|d| d.created).map_err(|e| e.to_string())
            }
            .await;
            bar.set_message(name);
            bar.inc(1);
            (path, result)
        });
    }
    let mut summary = Summary::default();
    while let Some(joined) = tasks.join_next().await {
        let (path, result) = joined?;
        match result {
            Ok(true) => summary.imported.push(path),
            Ok(false) => summary.duplicates.push(path),
            Err(reason) => summary.failed.push((path, reason)),
        }
    }
    bar.finish_and_clear();
    summary.imported.sort();
    summary.duplicates.sort();
    summary.failed.sort();
    Ok(summary)
}

impl Summary {
    pub fn print(&self) {
        println!(
            "imported {}, duplicates {}, failed {}",
            self.imported.len(),
            self.duplicates.len(),
            self.failed.len()
        );
        for p in &self.duplicates {
            println!("  duplicate  {}", p.display());
        }
        for (p, why) in &self.failed {
            println!("  failed     {}: {why}", p.display());
        }
    }
}
