//! The runner: proptest drives the mutations of one seed through the guard
//! and the summary tells what came back.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::guard::{Verdict, guarded_ingest, install_panic_hook};
use crate::mutate::case;
use crate::seeds::Seed;
use crate::{CASE_TIME_LIMIT, DEFAULT_CASES, MEMORY_LIMIT};

#[derive(Default)]
struct Stats {
    cases: u64,
    ok: u64,
    errors: BTreeMap<&'static str, u64>,
    /// Caught panics by site, with one message and how often.
    panics: BTreeMap<String, (String, u64)>,
    io_errors: BTreeMap<String, u64>,
    /// Each distinct error message (cut to its first words) and how often, with `TUTTI_FUZZ_VERBOSE`.
    messages: BTreeMap<String, u64>,
    peak_bytes: usize,
    largest_allocation: usize,
    slowest: Duration,
    /// The cases behind the two figures above, with `TUTTI_FUZZ_VERBOSE`.
    peak_case: String,
    slowest_case: String,
    total: Duration,
}

fn cases_per_container() -> u32 {
    std::env::var("TUTTI_FUZZ_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_CASES)
}

/// The proptest seed: fixed per container unless `TUTTI_FUZZ_SEED` says
/// `random` or gives a number.
fn rng_seed(name: &str) -> u64 {
    match std::env::var("TUTTI_FUZZ_SEED").ok().as_deref().map(str::trim) {
        Some("random") => {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one((name, std::time::SystemTime::now()))
        }
        Some(n) if !n.is_empty() => n.parse().unwrap_or_else(|_| panic!("TUTTI_FUZZ_SEED must be a number or random")),
        _ => name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)),
    }
}

pub(crate) fn fuzz(seed: Seed) {
    install_panic_hook();
    // The seed itself must ingest, or the mutations test nothing.
    match guarded_ingest(seed.bytes.clone(), seed.ext).map(|o| o.verdict) {
        Some(Verdict::Ok(Ok(()))) => {}
        other => panic!("the {} seed does not ingest: {other:?}", seed.name),
    }
    let cases = cases_per_container();
    let rng_seed = rng_seed(seed.name);
    let mut seed_bytes = [0u8; 32];
    for (i, chunk) in seed_bytes.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&rng_seed.rotate_left(i as u32 * 16).to_le_bytes());
    }
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let stats = Mutex::new(Stats::default());
    let hung: Mutex<Option<String>> = Mutex::new(None);
    let gave_up = AtomicBool::new(false);
    let trace = std::env::var_os("TUTTI_FUZZ_TRACE").is_some();
    let verbose = std::env::var_os("TUTTI_FUZZ_VERBOSE").is_some();
    let started = Instant::now();

    let result = runner.run(&case(), |case| {
        if gave_up.load(Ordering::Relaxed) {
            // After a hang, nothing more is run (shrinking would wait out every hang again).
            return Ok(());
        }
        if trace {
            eprintln!("{}: {case:?}", seed.name);
        }
        let bytes = case.apply(&seed);
        let len = bytes.len();
        let Some(outcome) = guarded_ingest(bytes, seed.ext) else {
            gave_up.store(true, Ordering::Relaxed);
            *hung.lock().expect("lock") = Some(format!("{case:?}"));
            return Err(TestCaseError::fail(format!("no answer within {CASE_TIME_LIMIT:?}")));
        };
        let mut s = stats.lock().expect("lock");
        s.cases += 1;
        if outcome.peak_bytes > s.peak_bytes {
            s.peak_bytes = outcome.peak_bytes;
            s.peak_case = format!("{case:?} -> {:?}", outcome.verdict);
        }
        s.largest_allocation = s.largest_allocation.max(outcome.largest_allocation);
        if outcome.elapsed > s.slowest {
            s.slowest = outcome.elapsed;
            s.slowest_case = format!("{case:?} -> {:?}", outcome.verdict);
        }
        s.total += outcome.elapsed;
        match &outcome.verdict {
            Verdict::Ok(checked) => {
                s.ok += 1;
                if let Err(why) = checked {
                    return Err(TestCaseError::fail(why.clone()));
                }
            }
            Verdict::Err { kind, message } => {
                *s.errors.entry(kind).or_default() += 1;
                if *kind == "Io" {
                    *s.io_errors.entry(message.clone()).or_default() += 1;
                }
                if verbose {
                    let head: String = message.chars().take(90).collect();
                    *s.messages.entry(format!("{kind}: {head}")).or_default() += 1;
                }
            }
            Verdict::Panicked(p) => {
                s.panics.entry(p.site.clone()).or_insert_with(|| (p.message.clone(), 0)).1 += 1;
                if p.ours {
                    return Err(TestCaseError::fail(format!(
                        "panic in our own code at {}: {} (input of {len} bytes)",
                        p.site, p.message
                    )));
                }
            }
        }
        if outcome.peak_bytes > MEMORY_LIMIT {
            return Err(TestCaseError::fail(format!(
                "held {} MiB at once (largest single allocation {} MiB) for an input of {len} bytes: {:?}",
                outcome.peak_bytes >> 20,
                outcome.largest_allocation >> 20,
                outcome.verdict
            )));
        }
        Ok(())
    });

    let s = stats.into_inner().expect("lock");
    let summary = summary(&seed, &s, cases, rng_seed, started.elapsed());
    eprintln!("{summary}");
    if let Ok(path) = std::env::var("TUTTI_FUZZ_REPORT") {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the report");
        writeln!(file, "{summary}").expect("write the report");
    }
    if let Some(case) = hung.into_inner().expect("lock") {
        panic!("{}: a case ran longer than {CASE_TIME_LIMIT:?} (seed {rng_seed}): {case}", seed.name);
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, case)) => {
            panic!("{}: {why} (seed {rng_seed})\nminimal case: {case:?}", seed.name)
        }
        Err(TestError::Abort(why)) => panic!("{}: fuzzing aborted: {why}", seed.name),
    }
}

fn summary(seed: &Seed, s: &Stats, cases: u32, rng_seed: u64, wall: Duration) -> String {
    let mut out = format!(
        "fuzz {}: {} cases (asked {cases}, seed {rng_seed}, {} bytes, {} fields) in {:.1?}: ok {}, errors {:?}, \
         caught panics {}; slowest case {:.1?}, peak {} KiB, largest allocation {} KiB",
        seed.name,
        s.cases,
        seed.bytes.len(),
        seed.fields.len(),
        wall,
        s.ok,
        s.errors,
        s.panics.values().map(|(_, n)| n).sum::<u64>(),
        s.slowest,
        s.peak_bytes >> 10,
        s.largest_allocation >> 10,
    );
    for (site, (message, n)) in &s.panics {
        out.push_str(&format!("\n  panic x{n} at {site}: {message}"));
    }
    for (message, n) in &s.io_errors {
        out.push_str(&format!("\n  io error x{n}: {message}"));
    }
    if !s.messages.is_empty() {
        out.push_str(&format!("\n  peak memory: {}\n  slowest: {}", s.peak_case, s.slowest_case));
    }
    for (message, n) in &s.messages {
        out.push_str(&format!("\n  x{n} {message}"));
    }
    out
}
