//! The guard: what the server does around an ingest, plus where a panic
//! came from.

use std::cell::{Cell, RefCell};
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use audio::ingest::{IngestError, IngestOptions, IngestReport, ingest};
use audio::text::clean_text;

use crate::alloc::{LARGEST, LIVE, PEAK, TRACKED};
use crate::{CASE_TIME_LIMIT, WORKER_STACK};

/// Where a panic happened and what it said.
#[derive(Clone, Debug)]
pub(crate) struct PanicSite {
    /// `file:line` of the first frame outside the standard library.
    pub(crate) site: String,
    pub(crate) message: String,
    /// In this crate's own code (a bug to fix) rather than a dependency's.
    pub(crate) ours: bool,
}

thread_local! {
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<PanicSite>> = const { RefCell::new(None) };
}

pub(crate) fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_CASE.with(Cell::get) {
                return default(info);
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            // An index or arithmetic panic points at the caller already; one raised inside
            // the standard library (an allocation size overflow, say) is placed at the
            // first frame outside it.
            let site = if location.starts_with("/rustc/") || location.is_empty() {
                let trace = std::backtrace::Backtrace::force_capture().to_string();
                trace
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("at "))
                    .find(|at| !at.starts_with("/rustc/") && !at.contains("fuzz_decode/"))
                    .map_or(location, str::to_owned)
            } else {
                location
            };
            // Compiled paths of this crate are relative to the workspace ("audio/src/…");
            // backtraces print them relative to the crate ("./src/…").
            let ours = site.starts_with("audio/src/") || site.starts_with("./src/") || site.contains("/audio/src/");
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(PanicSite { site, message, ours }));
        }));
    });
}

/// What one guarded ingest came to.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// `Err` when the report breaks a promise (no frames, too long, unclean text).
    Ok(Result<(), String>),
    Err {
        kind: &'static str,
        message: String,
    },
    /// Caught by the guard: the server answers 422 "could not be decoded".
    Panicked(PanicSite),
}

pub(crate) struct Outcome {
    pub(crate) verdict: Verdict,
    pub(crate) peak_bytes: usize,
    pub(crate) largest_allocation: usize,
    pub(crate) elapsed: Duration,
}

pub(crate) fn upload_options() -> IngestOptions {
    // The server's defaults: TUTTI_CANONICAL_RATE=44100, TUTTI_MAX_AUDIO_SECONDS=10800.
    IngestOptions { target_rate: 44_100, max_seconds: 10_800.0, samples_per_pixel: 256 }
}

fn error_kind(e: &IngestError) -> &'static str {
    match e {
        IngestError::Unsupported { .. } => "Unsupported",
        IngestError::Corrupt(_) => "Corrupt",
        IngestError::Empty => "Empty",
        IngestError::TooLong { .. } => "TooLong",
        IngestError::Io(_) => "Io",
        IngestError::InvalidOptions(_) => "InvalidOptions",
    }
}

/// What a successful report promises: some audio, within the limit, and
/// only clean text (see `clean_text`).
fn check_report(report: &IngestReport, opts: &IngestOptions) -> Result<(), String> {
    if report.frames == 0 || report.duration_seconds > opts.max_seconds {
        return Err(format!("{} frames, {} s", report.frames, report.duration_seconds));
    }
    let texts = [&report.title, &report.artist, &report.album].into_iter().flatten();
    let pairs = report.tags.iter().flat_map(|(k, v)| [k, v]);
    for text in texts.chain(pairs) {
        if clean_text(text).as_deref() != Some(text.as_str()) {
            return Err(format!("unclean text in the report: {text:?}"));
        }
    }
    Ok(())
}

/// Runs the ingest as the server does (a blocking thread of its own whose
/// panic is turned into an error answer) and waits at most [`CASE_TIME_LIMIT`].
/// `None` when it did not finish in time.
pub(crate) fn guarded_ingest(bytes: Vec<u8>, ext: &'static str) -> Option<Outcome> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(WORKER_STACK)
        .spawn(move || {
            IN_CASE.set(true);
            LIVE.set(0);
            PEAK.set(0);
            LARGEST.set(0);
            let started = Instant::now();
            TRACKED.set(true);
            let result = catch_unwind(AssertUnwindSafe(|| {
                let mut out = Cursor::new(Vec::new());
                let opts = upload_options();
                match ingest(Cursor::new(bytes), Some(ext), &mut out, &opts) {
                    Ok(report) => Verdict::Ok(check_report(&report, &opts)),
                    Err(e) => Verdict::Err { kind: error_kind(&e), message: e.to_string() },
                }
            }));
            TRACKED.set(false);
            let elapsed = started.elapsed();
            let verdict = result.unwrap_or_else(|_| {
                Verdict::Panicked(LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or(PanicSite {
                    site: "unknown".into(),
                    message: String::new(),
                    ours: false,
                }))
            });
            let _ = tx.send(Outcome {
                verdict,
                peak_bytes: PEAK.get().max(0) as usize,
                largest_allocation: LARGEST.get(),
                elapsed,
            });
        })
        .expect("spawn the ingest thread");
    rx.recv_timeout(CASE_TIME_LIMIT).ok()
}
