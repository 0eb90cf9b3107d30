//! `server dataset …`: compiling a release and exporting its archive from a shell, for admins who
//! script. `compile` asks for the release exactly as the REST API does (same checks, same job),
//! then runs a job worker in this process and follows the release's progress until it is compiled
//! or failed. `export` streams an archive into a file the way a download does, never holding more
//! than a chunk in memory; it writes `FILE.part` and renames it when complete, so an interrupted
//! export never leaves a file that looks whole.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::io::AsyncWriteExt;

use app::context::ServerContext;
use app::datasets::ssr::store;
use app::datasets::ssr::stream::{Archive, Format};
use app::datasets::{CompileReport, CompileRequest};
use app::db::{dataset, dataset_release, job, user};
use app::domain::{JobState, ReleaseState};
use app::error::AppError;

use crate::config::Config;

/// How often the release row is read while it compiles.
const POLL: Duration = Duration::from_millis(200);

async fn context(config: &Config) -> anyhow::Result<ServerContext> {
    let db = crate::connect(&config.database_url).await?;
    crate::server_context(config, db, false)
}

/// The admin a command acts as; anyone else is refused.
async fn admin(ctx: &ServerContext, email: &str) -> anyhow::Result<user::Model> {
    let email = email.trim();
    let found = user::Entity::find().filter(user::Column::Email.eq(email)).one(&ctx.db).await?;
    let found = match found {
        Some(u) => Some(u),
        None => user::Entity::find().filter(user::Column::Email.eq(email.to_lowercase())).one(&ctx.db).await?,
    };
    let u = found.ok_or_else(|| anyhow!("there is no user with the e-mail {email} (a user exists once signed in)"))?;
    if !u.is_admin {
        bail!("{email} is not an admin: only admins compile releases");
    }
    Ok(u)
}

/// An app refusal as a sentence for the terminal.
fn refusal(e: AppError, what: &str) -> anyhow::Error {
    match e {
        AppError::NotFound => anyhow!("{what}: not found"),
        other => anyhow!("{what}: {other}"),
    }
}

/// Ask for the next release of dataset `slug` as `email`, compile it in this process and print
/// its report. An error when it fails (with the reason) or cannot be asked for.
pub async fn compile(config: &Config, slug: &str, email: &str, req: CompileRequest) -> anyhow::Result<()> {
    let ctx = context(config).await?;
    let u = admin(&ctx, email).await?;
    let release = store::compile(&ctx, &u, slug, req).await.map_err(|e| refusal(e, &format!("dataset '{slug}'")))?;
    println!("release {} of {slug} asked for; compiling", release.version);
    let worker = app::jobs::spawn_worker(
        ctx.clone(),
        app::job_handlers(),
        app::jobs::WorkerSettings {
            poll: Duration::from_millis(config.job_poll_ms),
            stale_after: Duration::from_secs(config.job_stale_secs),
        },
    );
    let followed = tokio::select! {
        r = follow(&ctx, release.id) => r,
        _ = crate::shutdown_signal() => Err(anyhow!(
            "interrupted: release {} stays compiling; a running server takes its job over once its heartbeat is \
             {} s old, or delete the release",
            release.version, config.job_stale_secs
        )),
    };
    worker.abort();
    let r = followed?;
    match r.state {
        ReleaseState::Compiled | ReleaseState::Published => {
            print_report(slug, &r);
            Ok(())
        }
        _ => {
            bail!("release {} of {slug} failed: {}", r.version, r.error.as_deref().unwrap_or("no reason was recorded"))
        }
    }
}

/// Show the release's phase, `done` of `total`, until it is no longer compiling; the row then.
async fn follow(ctx: &ServerContext, id: uuid::Uuid) -> anyhow::Result<dataset_release::Model> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg:24} {wide_bar} {pos}/{len}")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let (mut phase, mut phase_started) = (String::new(), Instant::now());
    let mut reported_attempt = 0;
    loop {
        let r = dataset_release::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .ok_or_else(|| anyhow!("the release was deleted while it compiled"))?;
        if r.phase != phase {
            if !phase.is_empty() {
                say(&bar, format!("  {phase}: {:.1} s", phase_started.elapsed().as_secs_f64()));
            }
            phase = r.phase.clone();
            phase_started = Instant::now();
            bar.set_message(phase.clone());
        }
        bar.set_length(r.total.max(0) as u64);
        bar.set_position(r.done.max(0) as u64);
        // A failed attempt that will be retried leaves the release compiling: say so once.
        if let Some(job_id) = r.job_id
            && let Some(j) = job::Entity::find_by_id(job_id).one(&ctx.db).await?
            && j.state == JobState::Queued
            && j.attempts > reported_attempt
            && let Some(e) = &j.error
        {
            reported_attempt = j.attempts;
            let wait = (j.run_after - app::jobs::now_ms()).max(0) as f64 / 1000.0;
            say(&bar, format!("  attempt {} failed ({e}); retrying in {wait:.0} s", j.attempts));
        }
        if r.state != ReleaseState::Compiling {
            bar.finish_and_clear();
            if r.state == ReleaseState::Failed {
                println!("  {phase}: {:.1} s, then failed", phase_started.elapsed().as_secs_f64());
            }
            println!("finished in {:.1} s", started.elapsed().as_secs_f64());
            return Ok(r);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A line above the bar, or on its own when there is no bar (output not a terminal).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() { println!("{line}") } else { bar.println(line) }
}

fn print_report(slug: &str, r: &dataset_release::Model) {
    println!("release {} of {slug} compiled", r.version);
    let Some(report) = r.report.as_deref().and_then(|t| serde_json::from_str::<CompileReport>(t).ok()) else {
        println!("  (no report)");
        return;
    };
    let x = &report.excluded;
    println!("  samples            {}", report.samples);
    println!("  tasks considered   {}", report.tasks_considered);
    println!("  annotations        {} by {} annotators", report.annotations, report.annotators);
    println!(
        "  excluded           {} too few answers, {} gold, {} private source, {} licence not redistributable",
        x.too_few_answers, x.gold, x.private_source, x.licence_not_redistributable
    );
    println!("  licences           {}", report.licences.join(", "));
    println!("  audio              {}", size(report.audio_bytes));
    println!("  archive.tar        {}", r.tar_bytes.map_or("-".into(), |b| size(b as u64)));
    println!("  archive.zip        {}", r.zip_bytes.map_or("-".into(), |b| size(b as u64)));
}

fn size(bytes: u64) -> String {
    format!("{bytes} bytes ({:.1} MB)", bytes as f64 / 1e6)
}

/// Where an export is written until it is complete.
pub fn part_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    out.with_file_name(name)
}

/// Stream release `version` of dataset `slug` as `format` into `out`.
pub async fn export(config: &Config, slug: &str, version: i32, format: Format, out: &Path) -> anyhow::Result<()> {
    let ctx = context(config).await?;
    let d = dataset::Entity::find()
        .filter(dataset::Column::Slug.eq(slug))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| anyhow!("there is no dataset '{slug}'"))?;
    let r = dataset_release::Entity::find()
        .filter(dataset_release::Column::DatasetId.eq(d.id))
        .filter(dataset_release::Column::Version.eq(version))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| anyhow!("dataset '{slug}' has no release {version}"))?;
    match r.state {
        ReleaseState::Compiled | ReleaseState::Published => {}
        ReleaseState::Compiling => bail!("release {version} of {slug} is still compiling"),
        ReleaseState::Failed => bail!("release {version} of {slug} failed to compile; there is nothing to export"),
    }
    let archive = Archive::open(&ctx.db, &r, format).await.map_err(|e| refusal(e, "the release's files"))?;
    let total = archive.len();
    let part = part_path(out);
    let written = write_part(&ctx, &archive, &part, total).await;
    let (bytes, seconds) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&part, out)
        .await
        .with_context(|| format!("cannot rename {} to {}", part.display(), out.display()))?;
    println!(
        "wrote {}: {} in {seconds:.1} s ({:.1} MB/s)",
        out.display(),
        size(bytes),
        bytes as f64 / 1e6 / seconds.max(1e-9)
    );
    Ok(())
}

/// Write the whole archive to `part`, flushed to disk; the bytes written and the seconds it took.
async fn write_part(ctx: &ServerContext, archive: &Archive, part: &Path, total: u64) -> anyhow::Result<(u64, f64)> {
    let file = tokio::fs::File::create(part).await.with_context(|| format!("cannot create {}", part.display()))?;
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ({eta} left)",
        )
        .expect("a valid template"),
    );
    let started = Instant::now();
    let mut stream = archive.stream(ctx, 0..total);
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.context("reading the release's files")?;
        file.write_all(&chunk).await.with_context(|| format!("cannot write {}", part.display()))?;
        written += chunk.len() as u64;
        bar.set_position(written);
    }
    file.flush().await?;
    file.into_inner().sync_all().await.with_context(|| format!("cannot write {}", part.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if written != total {
        bail!("the archive came out as {written} bytes instead of {total}");
    }
    Ok((written, seconds))
}
