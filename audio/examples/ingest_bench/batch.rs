//! One timed run per input directory: the files shared out to worker
//! threads, each ingested to its FLAC and peaks files, the figures printed.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use audio::ingest::{IngestOptions, IngestReport, ingest};

use crate::cli::Args;
use crate::profile;

/// Regular, non-hidden files of `dir`, largest first, then by name.
fn list(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let meta = std::fs::metadata(entry.path()).map_err(|e| format!("{}: {e}", entry.path().display()))?;
        if meta.is_file() && !entry.file_name().to_string_lossy().starts_with('.') {
            files.push((meta.len(), entry.path()));
        }
    }
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// The output directory, removed on drop when it is a temporary one.
struct OutDir {
    path: PathBuf,
    temporary: bool,
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Ingests the directories one after another; `Ok` holds the number of files that failed.
pub fn run(args: &Args) -> Result<usize, String> {
    let root = match &args.out {
        Some(p) => OutDir { path: p.clone(), temporary: false },
        None => {
            OutDir { path: std::env::temp_dir().join(format!("ingest_bench.{}", std::process::id())), temporary: true }
        }
    };
    let mut used: Vec<OsString> = Vec::new();
    let mut total = Totals::default();
    let started = Instant::now();
    for dir in &args.dirs {
        let files = list(dir)?;
        let mut name = dir.file_name().map_or_else(|| OsString::from("input"), OsString::from);
        let base = name.clone();
        let mut n = 1;
        while used.contains(&name) {
            n += 1;
            name = base.clone();
            name.push(format!("-{n}"));
        }
        used.push(name.clone());
        let out_dir = root.path.join(name);
        std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;

        let group_started = Instant::now();
        let results = run_pool(&files, args.jobs, |path| process(path, &out_dir, args.profile));
        let wall = group_started.elapsed().as_secs_f64();

        let mut group = Totals::default();
        let mut profile = ProfileTable::default();
        for (path, result) in files.iter().zip(results) {
            match result {
                Ok(done) => {
                    group.files += 1;
                    group.audio += done.report.duration_seconds;
                    if args.verbose {
                        print_file(path, &done);
                    }
                    if let Some(stages) = &done.stages {
                        profile.add(&done.report, stages);
                    }
                }
                Err(e) => {
                    group.errors += 1;
                    eprintln!("{}: {e}", path.display());
                }
            }
        }
        group.wall = wall;
        println!("group dir={:?} {}", dir.display().to_string(), group.line(args.jobs));
        if args.profile {
            profile.print(dir);
        }
        total.files += group.files;
        total.errors += group.errors;
        total.audio += group.audio;
    }
    total.wall = started.elapsed().as_secs_f64();
    println!("total {}", total.line(args.jobs));
    Ok(total.errors)
}

#[derive(Default)]
struct Totals {
    files: usize,
    errors: usize,
    audio: f64,
    wall: f64,
}

impl Totals {
    fn line(&self, jobs: usize) -> String {
        let per = |x: f64| if self.wall > 0.0 { x / self.wall } else { 0.0 };
        format!(
            "files={} audio_s={:.3} wall_s={:.3} files_per_s={:.2} realtime={:.1} jobs={jobs} errors={}",
            self.files,
            self.audio,
            self.wall,
            per(self.files as f64),
            per(self.audio),
            self.errors
        )
    }
}

/// Runs `work` on every item on `jobs` threads fed from a shared queue
/// (the next index to take); results come back in input order.
fn run_pool<T, R, F>(items: &[T], jobs: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = work(item);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every item ran")).collect()
}

struct Done {
    report: IngestReport,
    seconds: f64,
    stages: Option<profile::Stages>,
}

fn process(path: &Path, out_dir: &Path, with_profile: bool) -> Result<Done, String> {
    let name = path.file_name().ok_or("not a file name")?;
    let flac_path = out_dir.join(name).with_added_extension("flac");
    let dat_path = out_dir.join(name).with_added_extension("peaks.dat");
    let started = Instant::now();
    let input = File::open(path).map_err(|e| e.to_string())?;
    let mut out = File::create(&flac_path).map_err(|e| format!("{}: {e}", flac_path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str());
    let report = match ingest(input, ext, &mut out, &IngestOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&flac_path);
            return Err(e.to_string());
        }
    };
    std::fs::write(&dat_path, report.peaks.to_dat_bytes()).map_err(|e| format!("{}: {e}", dat_path.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let stages = if with_profile {
        let staged_path = out_dir.join(name).with_added_extension("staged.flac");
        let mut stages =
            profile::run(path, &staged_path, report.canonical_bits).map_err(|e| format!("staged profile run: {e}"))?;
        let _ = std::fs::remove_file(&staged_path);
        stages.ingest = seconds;
        Some(stages)
    } else {
        None
    };
    Ok(Done { report, seconds, stages })
}

fn print_file(path: &Path, done: &Done) {
    let r = &done.report;
    let bits = r.original_bits.map_or_else(|| "-".to_owned(), |b| b.to_string());
    let lufs = r.integrated_lufs.map_or_else(|| "-".to_owned(), |l| format!("{l:.2}"));
    println!(
        "file path={:?} container={} codec={} in_rate={} in_ch={} in_bits={bits} out_ch={} out_bits={} \
         audio_s={:.3} secs={:.3} realtime={:.1} lufs={lufs}",
        path.display().to_string(),
        r.container,
        r.codec,
        r.original_rate,
        r.original_channels,
        r.canonical_channels,
        r.canonical_bits,
        r.duration_seconds,
        done.seconds,
        if done.seconds > 0.0 { r.duration_seconds / done.seconds } else { 0.0 },
    );
    if let Some(s) = &done.stages {
        println!("profile file={:?} {}", path.display().to_string(), s.line());
    }
}

/// Stage totals per codec and for the whole group.
#[derive(Default)]
struct ProfileTable {
    by_codec: BTreeMap<String, (usize, f64, profile::Stages)>,
}

impl ProfileTable {
    fn add(&mut self, report: &IngestReport, stages: &profile::Stages) {
        let key = format!("{}/{}", report.container, report.codec);
        let entry = self.by_codec.entry(key).or_default();
        entry.0 += 1;
        entry.1 += report.duration_seconds;
        entry.2.add(stages);
    }

    fn print(&self, dir: &Path) {
        let mut all = (0, 0.0, profile::Stages::default());
        for (files, audio, stages) in self.by_codec.values() {
            all.0 += files;
            all.1 += audio;
            all.2.add(stages);
        }
        println!("profile dir={:?} files={} audio_s={:.3} {}", dir.display().to_string(), all.0, all.1, all.2.line());
        for (codec, (files, audio, stages)) in &self.by_codec {
            println!("profile codec={codec} files={files} audio_s={audio:.3} {}", stages.line());
        }
        println!("profile share {}", all.2.shares());
    }
}
