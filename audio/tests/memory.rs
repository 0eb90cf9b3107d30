#![cfg(feature = "ingest")]
//! Bounded memory: ingesting a one-hour recording must not need memory
//! proportional to its length (a sample buffer for the hour would be about
//! 300 MB at 22.05 kHz in f32; the FLAC output goes to a file). This file
//! holds a single test so that it runs alone in its own process and the
//! peak-RSS figures are not disturbed by other tests.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

use audio::ingest::{IngestOptions, ingest};
use common::write_long_wav;

/// `VmHWM` (peak resident set) and `VmRSS` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} missing from /proc/self/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[test]
fn one_hour_ingest_uses_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("hour.wav");
    let started = Instant::now();
    write_long_wav(&input, 3600);
    let size = std::fs::metadata(&input).expect("stat").len();
    eprintln!("generated {:.1} MB in {:.1?}", size as f64 / 1e6, started.elapsed());

    // 22.05 kHz keeps the run short while still exercising every stage,
    // including a non-integer resampling ratio (8000 -> 22050 is 160:441).
    let opts = IngestOptions { target_rate: 22_050, ..IngestOptions::default() };
    let (hwm_before, rss_before) = memory_kib();
    let started = Instant::now();
    let mut out = BufWriter::new(File::create(dir.path().join("hour.flac")).expect("create output"));
    let report = ingest(File::open(&input).expect("open"), Some("wav"), &mut out, &opts).expect("ingest");
    let elapsed = started.elapsed();
    let (hwm_after, rss_after) = memory_kib();

    let growth_mib = hwm_after.saturating_sub(hwm_before) as f64 / 1024.0;
    eprintln!(
        "ingested {:.0} s ({} -> {} Hz, {} frames) in {elapsed:.1?}; \
         VmHWM {hwm_before} -> {hwm_after} KiB (growth {growth_mib:.1} MiB), VmRSS {rss_before} -> {rss_after} KiB; \
         peaks {} pixels",
        report.duration_seconds,
        report.original_rate,
        report.canonical_rate,
        report.frames,
        report.peaks.pixels(),
    );
    assert!((report.duration_seconds - 3600.0).abs() < 1e-3);
    assert!(growth_mib < 64.0, "peak RSS grew by {growth_mib:.1} MiB");
}
