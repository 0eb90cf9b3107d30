#![cfg(feature = "ingest")]
//! Mutation fuzzing of the decode path of every accepted container.
//!
//! Each test makes one small valid file of its container at test time, then
//! feeds [`audio::ingest::ingest`] mutated copies of it with the options the
//! server uses for an upload: bit flips, byte overwrites (mostly in the first
//! few hundred bytes, where the headers are), truncation, inserted, deleted
//! and copied runs of bytes, and header fields (chunk, box and block sizes,
//! counts, rates, channel counts) set to extreme values. Where a container
//! checksums its data (Ogg pages, FLAC frames) the checksums are sometimes
//! recomputed after mutating, so the damage reaches the decoder instead of
//! stopping at the check.
//!
//! The property: the call, behind the same panic guard as the server's (a
//! blocking thread whose panic becomes a "could not be decoded" answer),
//! returns a value, within a time bound, without absurd allocations. A panic
//! inside a third-party decoder is caught and counted (the summary on stderr
//! names where it happened); a panic in this crate's own code fails the test.
//!
//! Budget: `TUTTI_FUZZ_CASES` cases per container (default [`DEFAULT_CASES`]),
//! from a fixed seed unless `TUTTI_FUZZ_SEED` is `random` or a number.
//! `TUTTI_FUZZ_REPORT=<file>` appends each container's summary to a file, and
//! `TUTTI_FUZZ_TRACE=1` prints every case before it runs (to find the input
//! behind an abort), `TUTTI_FUZZ_VERBOSE=1` adds the error messages seen.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Cursor, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use audio::ingest::{IngestError, IngestOptions, IngestReport, ingest};
use audio::text::clean_text;
use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// Cases per container when `TUTTI_FUZZ_CASES` is not set: 15,000 cases in
/// all, about 9 s of CPU (6 s on two cores) in the dev profile.
const DEFAULT_CASES: u32 = 1000;
/// A case that runs longer than this is a hang.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(20);
/// Most memory one case may hold at once. The inputs are at most a few
/// hundred kilobytes; anything near this comes from trusting a header field.
const MEMORY_LIMIT: usize = 256 << 20;
/// A single request above this is refused outright (the process then aborts
/// with "memory allocation failed"), rather than letting one case take the
/// machine's memory.
const HARD_ALLOCATION_LIMIT: usize = 2 << 30;
/// Where positions biased towards the header fall.
const HEADER_BYTES: usize = 512;
/// The stack of tokio's blocking threads, which the server ingests on.
const WORKER_STACK: usize = 2 << 20;

// ---------------------------------------------------------------------------
// Memory accounting: per-thread live bytes and peak, for threads that run a case.

struct Tracking;

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize, request: usize) -> bool {
    TRACKED
        .try_with(|t| {
            if !t.get() {
                return true;
            }
            if request > HARD_ALLOCATION_LIMIT {
                return false;
            }
            let live = LIVE.get() + delta;
            LIVE.set(live);
            PEAK.set(PEAK.get().max(live));
            LARGEST.set(LARGEST.get().max(request));
            true
        })
        .unwrap_or(true)
}

// SAFETY: every call is forwarded to the system allocator; the bookkeeping
// only touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !note(layout.size() as isize, layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !note(layout.size() as isize, layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), 0);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !note(new_size as isize - layout.size() as isize, new_size) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

// ---------------------------------------------------------------------------
// The guard: what the server does around an ingest, plus where a panic came from.

/// Where a panic happened and what it said.
#[derive(Clone, Debug)]
struct PanicSite {
    /// `file:line` of the first frame outside the standard library.
    site: String,
    message: String,
    /// In this crate's own code (a bug to fix) rather than a dependency's.
    ours: bool,
}

thread_local! {
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<PanicSite>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
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
                    .find(|at| !at.starts_with("/rustc/") && !at.contains("fuzz_decode.rs"))
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
enum Verdict {
    /// `Err` when the report breaks a promise (no frames, too long, unclean text).
    Ok(Result<(), String>),
    Err {
        kind: &'static str,
        message: String,
    },
    /// Caught by the guard: the server answers 422 "could not be decoded".
    Panicked(PanicSite),
}

struct Outcome {
    verdict: Verdict,
    peak_bytes: usize,
    largest_allocation: usize,
    elapsed: Duration,
}

fn upload_options() -> IngestOptions {
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
fn guarded_ingest(bytes: Vec<u8>, ext: &'static str) -> Option<Outcome> {
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

// ---------------------------------------------------------------------------
// Mutations.

/// A position in the input, resolved against its length when applied: within
/// the first [`HEADER_BYTES`] when `header`, anywhere otherwise.
#[derive(Clone, Copy)]
struct Pos {
    header: bool,
    raw: u32,
}

impl Pos {
    fn at(self, len: usize) -> usize {
        let span = if self.header { len.min(HEADER_BYTES) } else { len };
        if span == 0 { 0 } else { self.raw as usize % span }
    }
}

impl fmt::Debug for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.header { "h" } else { "@" }, self.raw)
    }
}

#[derive(Clone, Debug)]
enum Edit {
    Flip {
        at: Pos,
        bit: u8,
    },
    Overwrite {
        at: Pos,
        bytes: Vec<u8>,
    },
    Truncate {
        keep: Pos,
    },
    Insert {
        at: Pos,
        bytes: Vec<u8>,
    },
    InsertRun {
        at: Pos,
        byte: u8,
        len: usize,
    },
    Delete {
        at: Pos,
        len: usize,
    },
    /// Copies a run of the input over another place (a frame or box repeated).
    Splice {
        from: Pos,
        len: usize,
        to: Pos,
    },
}

impl Edit {
    fn changes_layout(&self) -> bool {
        matches!(self, Edit::Insert { .. } | Edit::InsertRun { .. } | Edit::Delete { .. })
    }

    fn apply(&self, b: &mut Vec<u8>) {
        let len = b.len();
        match *self {
            Edit::Flip { at, bit } if len > 0 => b[at.at(len)] ^= 1 << (bit % 8),
            Edit::Overwrite { at, ref bytes } => {
                let at = at.at(len);
                for (i, &x) in bytes.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + i) {
                        *y = x;
                    }
                }
            }
            Edit::Truncate { keep } => b.truncate(keep.at(len)),
            Edit::Insert { at, ref bytes } => {
                let at = at.at(len);
                b.splice(at..at, bytes.iter().copied());
            }
            Edit::InsertRun { at, byte, len: run } => {
                let at = at.at(len);
                b.splice(at..at, std::iter::repeat_n(byte, run));
            }
            Edit::Delete { at, len: run } => {
                let at = at.at(len);
                b.drain(at..(at + run).min(len));
            }
            Edit::Splice { from, len: run, to } if len > 0 => {
                let from = from.at(len);
                let run: Vec<u8> = b[from..(from + run).min(len)].to_vec();
                let to = to.at(len);
                for (i, x) in run.into_iter().enumerate() {
                    if let Some(y) = b.get_mut(to + i) {
                        *y = x;
                    }
                }
            }
            _ => {}
        }
    }
}

/// A header field of the seed: where it is, how wide, which byte order.
#[derive(Clone, Copy, Debug)]
struct Field {
    at: usize,
    width: usize,
    big_endian: bool,
}

impl Field {
    fn le(at: usize, width: usize) -> Self {
        Field { at, width, big_endian: false }
    }

    fn be(at: usize, width: usize) -> Self {
        Field { at, width, big_endian: true }
    }

    fn read(&self, b: &[u8]) -> u64 {
        let bytes = b.get(self.at..self.at + self.width).unwrap_or(&[]);
        let fold = |acc: u64, &x: &u8| (acc << 8) | u64::from(x);
        if self.big_endian { bytes.iter().fold(0, fold) } else { bytes.iter().rev().fold(0, fold) }
    }

    fn write(&self, b: &mut [u8], value: u64) {
        for i in 0..self.width {
            let shift = if self.big_endian { 8 * (self.width - 1 - i) } else { 8 * i };
            if let Some(y) = b.get_mut(self.at + i) {
                *y = (value >> shift.min(63)) as u8;
            }
        }
    }
}

/// Values that break assumptions about sizes and counts.
const EXTREMES: [u64; 14] =
    [0, 1, 2, 3, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_F000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, u64::MAX];

#[derive(Clone, Debug)]
enum FieldValue {
    /// One of [`EXTREMES`], cut to the field's width.
    Extreme(u64),
    /// Off by a little from the seed's value.
    Delta(i64),
    Any(u64),
}

#[derive(Clone, Debug)]
struct FieldHit {
    field: Index,
    value: FieldValue,
}

#[derive(Clone, Debug)]
struct Case {
    fields: Vec<FieldHit>,
    edits: Vec<Edit>,
    /// Recompute the container's checksums after mutating.
    fix_checksums: bool,
}

impl Case {
    fn apply(&self, seed: &Seed) -> Vec<u8> {
        let mut b = seed.bytes.clone();
        if !seed.fields.is_empty() {
            for hit in &self.fields {
                let field = seed.fields[hit.field.index(seed.fields.len())];
                let value = match hit.value {
                    FieldValue::Extreme(v) | FieldValue::Any(v) => v,
                    FieldValue::Delta(d) => field.read(&b).wrapping_add_signed(d),
                };
                field.write(&mut b, value);
            }
        }
        for edit in &self.edits {
            edit.apply(&mut b);
        }
        if self.fix_checksums {
            match seed.checksums {
                Checksums::None => {}
                Checksums::Ogg => fix_ogg_crcs(&mut b),
                // Frame positions are the seed's: only valid while nothing moved.
                Checksums::Flac if !self.edits.iter().any(Edit::changes_layout) => fix_flac_crcs(&mut b, &seed.frames),
                Checksums::Flac => {}
            }
        }
        b
    }
}

fn pos() -> impl Strategy<Value = Pos> {
    (proptest::bool::weighted(0.6), any::<u32>()).prop_map(|(header, raw)| Pos { header, raw })
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (pos(), 0u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        3 => (pos(), vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Edit::Overwrite { at, bytes }),
        2 => pos().prop_map(|keep| Edit::Truncate { keep }),
        2 => (pos(), vec(any::<u8>(), 1..64)).prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        1 => (pos(), any::<u8>(), 1usize..4096).prop_map(|(at, byte, len)| Edit::InsertRun { at, byte, len }),
        2 => (pos(), 1usize..256).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (pos(), 1usize..512, pos()).prop_map(|(from, len, to)| Edit::Splice { from, len, to }),
    ]
}

fn field_hit() -> impl Strategy<Value = FieldHit> {
    let value = prop_oneof![
        4 => proptest::sample::select(&EXTREMES[..]).prop_map(FieldValue::Extreme),
        2 => (-4i64..=4).prop_map(FieldValue::Delta),
        1 => any::<u64>().prop_map(FieldValue::Any),
    ];
    (any::<Index>(), value).prop_map(|(field, value)| FieldHit { field, value })
}

fn case() -> impl Strategy<Value = Case> {
    (vec(field_hit(), 0..=3), vec(edit(), 0..=4), proptest::bool::weighted(0.75))
        .prop_filter("mutates something", |(f, e, _)| !f.is_empty() || !e.is_empty())
        .prop_map(|(fields, edits, fix_checksums)| Case { fields, edits, fix_checksums })
}

// ---------------------------------------------------------------------------
// Header fields of each container, found by walking the seed.

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// RIFF/RF64: the RIFF size, each chunk's size, `fmt `, `ds64`, `fact` and INFO fields.
fn riff_fields(b: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::le(4, 4)];
    let mut at = 12;
    while let Some(size) = u32_le(b, at + 4) {
        f.push(Field::le(at + 4, 4));
        let body = at + 8;
        match &b[at..at + 4] {
            b"fmt " => {
                // format tag, channels, rate, byte rate, block align, bits, cbSize, valid bits, mask
                for (off, w) in [(0, 2), (2, 2), (4, 4), (8, 4), (12, 2), (14, 2), (16, 2), (18, 2), (20, 4), (24, 2)] {
                    f.push(Field::le(body + off, w));
                }
            }
            b"ds64" => (0..4).for_each(|i| f.push(Field::le(body + 8 * i, 8))),
            b"fact" => f.push(Field::le(body, 4)),
            b"LIST" => {
                let mut e = body + 4;
                while e + 8 <= body + size as usize {
                    f.push(Field::le(e + 4, 4));
                    let n = u32_le(b, e + 4).unwrap_or(0) as usize;
                    e += 8 + n + n % 2;
                }
            }
            b"data" => break,
            _ => {}
        }
        at = body + size as usize + size as usize % 2;
    }
    f
}

/// AIFF: the FORM size, chunk sizes, COMM and SSND fields (big-endian).
fn aiff_fields(b: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::be(4, 4)];
    let mut at = 12;
    while let Some(size) = u32_be(b, at + 4) {
        f.push(Field::be(at + 4, 4));
        let body = at + 8;
        match &b[at..at + 4] {
            // channels, frames, bits, rate exponent, rate mantissa
            b"COMM" => [(0, 2), (2, 4), (6, 2), (8, 2), (10, 4), (10, 8)]
                .into_iter()
                .for_each(|(off, w)| f.push(Field::be(body + off, w))),
            b"SSND" => {
                f.extend([Field::be(body, 4), Field::be(body + 4, 4)]);
                break;
            }
            _ => {}
        }
        at = body + size as usize + size as usize % 2;
    }
    f
}

/// FLAC: metadata block types and lengths, STREAMINFO, Vorbis comment lengths.
fn flac_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut at = 4;
    while at + 4 <= b.len() {
        let (kind, last) = (b[at] & 0x7f, b[at] & 0x80 != 0);
        let len = (usize::from(b[at + 1]) << 16) | (usize::from(b[at + 2]) << 8) | usize::from(b[at + 3]);
        f.extend([Field::be(at, 1), Field::be(at + 1, 3)]);
        let body = at + 4;
        match kind {
            // block sizes, frame sizes, rate/channels/bits/total, total alone
            0 => [(0, 2), (2, 2), (4, 3), (7, 3), (10, 4), (10, 8), (14, 4)]
                .into_iter()
                .for_each(|(off, w)| f.push(Field::be(body + off, w))),
            4 => {
                let vendor = u32_le(b, body).unwrap_or(0) as usize;
                f.extend([Field::le(body, 4), Field::le(body + 4 + vendor, 4)]);
                let mut c = body + 8 + vendor;
                while c + 4 <= body + len {
                    f.push(Field::le(c, 4));
                    c += 4 + u32_le(b, c).unwrap_or(0) as usize;
                }
            }
            // picture: type, MIME length, description length, width…, data length
            6 => [0, 4].into_iter().for_each(|off| f.push(Field::be(body + off, 4))),
            _ => {}
        }
        at = body + len;
        if last {
            break;
        }
    }
    // The first frame header: sync, block size and rate codes, channel and bit codes.
    (at..(at + 6).min(b.len())).for_each(|i| f.push(Field::be(i, 1)));
    f
}

/// MP4: every box size (recursing into containers) and the counts and first
/// entries of the sample tables, timescales, the sample entry's fields.
fn mp4_fields(b: &[u8]) -> Vec<Field> {
    fn walk(b: &[u8], from: usize, to: usize, f: &mut Vec<Field>, depth: usize) {
        let mut at = from;
        while at + 8 <= to && depth < 12 {
            let Some(size) = u32_be(b, at) else { return };
            let kind: [u8; 4] = b[at + 4..at + 8].try_into().expect("4 bytes");
            f.push(Field::be(at, 4));
            let size = match size {
                0 => to - at,
                1 => {
                    f.push(Field::be(at + 8, 8));
                    return;
                }
                n => n as usize,
            };
            if size < 8 {
                return;
            }
            let (body, end) = (at + 8, (at + size).min(to));
            match &kind {
                b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"udta" | b"dinf" | b"ilst" => {
                    walk(b, body, end, f, depth + 1)
                }
                b"meta" => walk(b, body + 4, end, f, depth + 1),
                b"stsd" => {
                    f.push(Field::be(body + 4, 4));
                    // The sample entry (mp4a, alac): channels, sample size, rate; then its children.
                    let entry = body + 8;
                    f.push(Field::be(entry, 4));
                    [(24, 2), (26, 2), (32, 4)].into_iter().for_each(|(off, w)| f.push(Field::be(entry + off, w)));
                    let entry_end = (entry + u32_be(b, entry).unwrap_or(0) as usize).min(end);
                    walk(b, entry + 36, entry_end, f, depth + 1);
                }
                b"esds" | b"alac" => (body..(body + 40).min(end)).for_each(|i| f.push(Field::be(i, 1))),
                b"mvhd" | b"mdhd" => f.extend([Field::be(body + 12, 4), Field::be(body + 16, 4)]),
                b"stts" | b"stsc" | b"stco" | b"elst" | b"stss" => {
                    f.push(Field::be(body + 4, 4));
                    (0..6).for_each(|i| f.push(Field::be(body + 8 + 4 * i, 4)));
                }
                b"co64" => {
                    f.push(Field::be(body + 4, 4));
                    f.push(Field::be(body + 8, 8));
                }
                b"stsz" => (0..6).for_each(|i| f.push(Field::be(body + 4 + 4 * i, 4))),
                b"hdlr" => f.push(Field::be(body + 8, 4)),
                _ => {}
            }
            at += size;
        }
    }
    let mut f = Vec::new();
    walk(b, 0, b.len(), &mut f, 0);
    f.retain(|x| x.at + x.width <= b.len());
    f
}

/// Ogg: each page's flags, granule position, serial, sequence number and
/// segment count; the Vorbis identification and comment header fields.
fn ogg_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut at = 0;
    while let Some(page) = b[at..].windows(4).position(|w| w == b"OggS").map(|p| p + at) {
        f.extend([Field::le(page + 5, 1), Field::le(page + 6, 8), Field::le(page + 14, 4), Field::le(page + 18, 4)]);
        f.push(Field::le(page + 26, 1));
        at = page + 4;
    }
    if let Some(id) = b.windows(7).position(|w| w == b"\x01vorbis") {
        // version, channels, rate, bitrates, block sizes
        [(7, 4), (11, 1), (12, 4), (16, 4), (20, 4), (24, 4), (28, 1)]
            .into_iter()
            .for_each(|(off, w)| f.push(Field::le(id + off, w)));
    }
    if let Some(c) = b.windows(7).position(|w| w == b"\x03vorbis") {
        let vendor = u32_le(b, c + 7).unwrap_or(0) as usize;
        f.extend([Field::le(c + 7, 4), Field::le(c + 11 + vendor, 4), Field::le(c + 15 + vendor, 4)]);
    }
    f.retain(|x| x.at + x.width <= b.len());
    f
}

/// MP3: the ID3v2 size and flags and the first frame headers; ADTS: the
/// first frame headers (profile, rate, channels, frame length).
fn mpeg_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    let mut at = 0;
    if b.starts_with(b"ID3") {
        f.extend([Field::be(5, 1), Field::be(6, 4)]);
        let size = b[6..10].iter().fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7f));
        at = 10 + size;
    }
    let mut frames = 0;
    while at + 8 <= b.len() && frames < 4 {
        if b[at] == 0xff && b[at + 1] & 0xf0 == 0xf0 {
            (at + 1..at + 7).for_each(|i| f.push(Field::be(i, 1)));
            frames += 1;
            at += 4;
        } else {
            at += 1;
        }
    }
    f
}

// ---------------------------------------------------------------------------
// Checksums recomputed after mutating.

#[derive(Clone, Copy)]
enum Checksums {
    None,
    Ogg,
    Flac,
}

fn fix_ogg_crcs(b: &mut [u8]) {
    let mut at = 0;
    while let Some(page) = b[at..].windows(4).position(|w| w == b"OggS").map(|p| p + at) {
        at = page + 4;
        let Some(&segments) = b.get(page + 26) else { return };
        let Some(table) = b.get(page + 27..page + 27 + usize::from(segments)) else { return };
        let len = 27 + usize::from(segments) + table.iter().map(|&s| usize::from(s)).sum::<usize>();
        let Some(bytes) = b.get_mut(page..page + len) else { return };
        bytes[22..26].fill(0);
        let crc = bytes.iter().fold(0u32, |c, &x| {
            (0..8).fold(
                c ^ (u32::from(x) << 24),
                |c, _| if c & 0x8000_0000 != 0 { (c << 1) ^ 0x04c1_1db7 } else { c << 1 },
            )
        });
        bytes[22..26].copy_from_slice(&crc.to_le_bytes());
    }
}

fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |c, &x| (0..8).fold(c ^ x, |c, _| if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 }))
}

fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |c, &x| {
        (0..8).fold(c ^ (u16::from(x) << 8), |c, _| if c & 0x8000 != 0 { (c << 1) ^ 0x8005 } else { c << 1 })
    })
}

/// Length of a FLAC frame header (up to and including its CRC-8), if it parses.
fn flac_header_len(h: &[u8]) -> Option<usize> {
    if h.len() < 5 || h[0] != 0xff || h[1] & 0xfe != 0xf8 {
        return None;
    }
    // The UTF-8-like coded frame or sample number.
    let lead = h[4];
    let coded = match lead.leading_ones() {
        0 => 1,
        n @ 2..=7 => n as usize,
        _ => return None,
    };
    let block = match h[2] >> 4 {
        6 => 1,
        7 => 2,
        _ => 0,
    };
    let rate = match h[2] & 0x0f {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    let len = 4 + coded + block + rate + 1;
    (len <= h.len()).then_some(len)
}

/// Recomputes the CRC-8 of each frame header and the CRC-16 of each frame,
/// for the frames the seed has at `frames` (start offsets).
fn fix_flac_crcs(b: &mut [u8], frames: &[usize]) {
    for (i, &start) in frames.iter().enumerate() {
        let end = frames.get(i + 1).copied().unwrap_or(b.len()).min(b.len());
        if end < start + 8 {
            break;
        }
        let Some(h) = flac_header_len(&b[start..end]) else { continue };
        b[start + h - 1] = crc8(&b[start..start + h - 1]);
        let crc = crc16(&b[start..end - 2]);
        b[end - 2..end].copy_from_slice(&crc.to_be_bytes());
    }
}

/// Frame starts of a valid FLAC file: every sync code whose header checksum holds.
/// A candidate whose header checksum holds by chance inside a frame is
/// dropped: a frame runs from one start to the next with its CRC-16 holding
/// (the CRC of data followed by its CRC is 0).
fn flac_frames(b: &[u8]) -> Vec<usize> {
    let candidates: Vec<usize> = (0..b.len().saturating_sub(16))
        .filter(|&i| flac_header_len(&b[i..i + 16]).is_some_and(|h| crc8(&b[i..i + h - 1]) == b[i + h - 1]))
        .collect();
    let Some((&first, rest)) = candidates.split_first() else { return Vec::new() };
    let mut frames = Vec::new();
    let mut current = first;
    for &next in rest {
        if crc16(&b[current..next]) == 0 {
            frames.push(current);
            current = next;
        }
    }
    if crc16(&b[current..]) == 0 {
        frames.push(current);
    }
    frames
}

// ---------------------------------------------------------------------------
// Seeds: one small valid file per container, made at test time.

struct Seed {
    name: &'static str,
    ext: &'static str,
    bytes: Vec<u8>,
    fields: Vec<Field>,
    checksums: Checksums,
    frames: Vec<usize>,
}

impl Seed {
    fn new(name: &'static str, ext: &'static str, bytes: Vec<u8>, fields: fn(&[u8]) -> Vec<Field>) -> Self {
        let fields = fields(&bytes);
        let (checksums, frames) = match ext {
            "ogg" => (Checksums::Ogg, Vec::new()),
            "flac" => (Checksums::Flac, flac_frames(&bytes)),
            _ => (Checksums::None, Vec::new()),
        };
        Seed { name, ext, bytes, fields, checksums, frames }
    }
}

/// A short stereo tone with a little noise, so lossy encoders have something to code.
fn signal(rate: u32, channels: u16, seconds: f64) -> Vec<f32> {
    let mut x = sine(rate, usize::from(channels), seconds, 440.0, 0.4);
    let n = noise(x.len(), 0.05, 3);
    for (s, n) in x.iter_mut().zip(n) {
        *s += n;
    }
    x
}

/// Converts a 16-bit WAV of the signal with ffmpeg and returns the bytes.
fn ffmpeg_seed(rate: u32, channels: u16, seconds: f64, out_ext: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = encode_with_ffmpeg(
        dir.path(),
        &format!("seed.{out_ext}"),
        rate,
        channels,
        &signal(rate, channels, seconds),
        args,
    );
    std::fs::read(path).expect("read the seed")
}

/// A WAV written by sox to a pipe: placeholder sizes (0x7ffff000, rounded to
/// whole frames) and, at 24 bits, a `fact` chunk with a placeholder too.
fn sox_piped_wav(rate: u32, channels: u16, seconds: f64) -> Vec<u8> {
    let raw: Vec<u8> =
        signal(rate, channels, seconds).iter().flat_map(|&v| (to_int(v, 16) as i16).to_le_bytes()).collect();
    let (rate_arg, channels_arg) = (rate.to_string(), channels.to_string());
    let mut child = Command::new("sox")
        .args(["-t", "raw", "-r", &rate_arg, "-e", "signed", "-b", "16", "-c", &channels_arg, "-"])
        .args(["-t", "wav", "-b", "24", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sox is required to make the placeholder-size WAV seed; install sox");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || stdin.write_all(&raw).expect("feed sox"));
    let out = child.wait_with_output().expect("run sox");
    feeder.join().expect("feeder");
    assert!(out.status.success(), "sox: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn wav_seed(rate: u32, channels: u16, format: WavFormat, mask: Option<u32>, seconds: f64) -> Vec<u8> {
    let spec = WavSpec {
        channel_mask: mask,
        info: vec![("INAM", "Seed title".into()), ("IART", "Seed artist".into())],
        ..WavSpec::new(rate, channels, format)
    };
    spec.bytes(&signal(rate, channels, seconds))
}

fn aiff_seed(rate: u32, channels: u16, seconds: f64) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed.aiff");
    write_aiff(&path, rate, channels, &signal(rate, channels, seconds));
    std::fs::read(path).expect("read the seed")
}

const TAGS: [&str; 4] = ["-metadata", "title=Seed title", "-metadata", "artist=Seed artist"];

fn with_tags<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [args, &TAGS[..]].concat()
}

// ---------------------------------------------------------------------------
// The runner.

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

fn fuzz(seed: Seed) {
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

// ---------------------------------------------------------------------------
// One test per container, so they run in parallel and report separately.

#[test]
fn fuzz_wav_pcm16() {
    fuzz(Seed::new("wav_pcm16", "wav", wav_seed(44_100, 2, WavFormat::Int16, None, 0.3), riff_fields));
}

#[test]
fn fuzz_wav_pcm24_extensible() {
    fuzz(Seed::new("wav_pcm24", "wav", wav_seed(48_000, 1, WavFormat::Int24, Some(0x4), 0.3), riff_fields));
}

#[test]
fn fuzz_wav_float() {
    fuzz(Seed::new("wav_float", "wav", wav_seed(22_050, 2, WavFormat::Float32, None, 0.3), riff_fields));
}

#[test]
fn fuzz_wav_mulaw() {
    fuzz(Seed::new("wav_mulaw", "wav", ffmpeg_seed(8_000, 1, 0.5, "wav", &["-c:a", "pcm_mulaw"]), riff_fields));
}

#[test]
fn fuzz_wav_alaw() {
    fuzz(Seed::new("wav_alaw", "wav", ffmpeg_seed(8_000, 1, 0.5, "wav", &["-c:a", "pcm_alaw"]), riff_fields));
}

#[test]
fn fuzz_wav_rf64() {
    let bytes = ffmpeg_seed(44_100, 2, 0.3, "wav", &["-c:a", "pcm_s16le", "-rf64", "always"]);
    assert_eq!(&bytes[..4], b"RF64");
    fuzz(Seed::new("wav_rf64", "wav", bytes, riff_fields));
}

#[test]
fn fuzz_wav_placeholder_sizes() {
    fuzz(Seed::new("wav_placeholder", "wav", sox_piped_wav(44_100, 2, 0.3), riff_fields));
}

#[test]
fn fuzz_aiff() {
    fuzz(Seed::new("aiff", "aiff", aiff_seed(44_100, 2, 0.3), aiff_fields));
}

#[test]
fn fuzz_flac() {
    fuzz(Seed::new("flac", "flac", ffmpeg_seed(48_000, 2, 0.3, "flac", &with_tags(&["-c:a", "flac"])), flac_fields));
}

#[test]
fn fuzz_mp3() {
    let args = with_tags(&["-c:a", "libmp3lame", "-b:a", "64k"]);
    fuzz(Seed::new("mp3", "mp3", ffmpeg_seed(44_100, 2, 0.4, "mp3", &args), mpeg_fields));
}

#[test]
fn fuzz_ogg_vorbis() {
    let args = with_tags(&["-c:a", "libvorbis", "-q:a", "0"]);
    fuzz(Seed::new("ogg_vorbis", "ogg", ffmpeg_seed(44_100, 2, 0.4, "ogg", &args), ogg_fields));
}

#[test]
fn fuzz_aac_adts() {
    let args = ["-c:a", "aac", "-b:a", "64k", "-f", "adts"];
    fuzz(Seed::new("aac_adts", "aac", ffmpeg_seed(44_100, 2, 0.4, "aac", &args), mpeg_fields));
}

// The movie box first (as `+faststart` and most phone apps write it), so that
// mutations biased to the start of the file reach the sample tables; the
// field mutations reach it wherever it is.
#[test]
fn fuzz_m4a_aac() {
    let args = with_tags(&["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"]);
    fuzz(Seed::new("m4a_aac", "m4a", ffmpeg_seed(44_100, 2, 0.4, "m4a", &args), mp4_fields));
}

#[test]
fn fuzz_m4a_aac_index_last() {
    let args = with_tags(&["-c:a", "aac", "-b:a", "64k"]);
    fuzz(Seed::new("m4a_aac_index_last", "m4a", ffmpeg_seed(44_100, 1, 0.4, "m4a", &args), mp4_fields));
}

#[test]
fn fuzz_m4a_alac() {
    let args = with_tags(&["-c:a", "alac", "-movflags", "+faststart"]);
    fuzz(Seed::new("m4a_alac", "m4a", ffmpeg_seed(44_100, 1, 0.3, "m4a", &args), mp4_fields));
}

/// The harness's own checks: recomputing the checksums of an intact file
/// changes nothing, and every FLAC frame is found.
#[test]
fn checksum_fixups_leave_intact_files_unchanged() {
    let ogg = ffmpeg_seed(44_100, 2, 0.4, "ogg", &["-c:a", "libvorbis", "-q:a", "0"]);
    let mut fixed = ogg.clone();
    fix_ogg_crcs(&mut fixed);
    assert!(fixed == ogg, "Ogg CRCs recomputed differently");

    let flac = ffmpeg_seed(48_000, 2, 0.3, "flac", &["-c:a", "flac"]);
    let frames = flac_frames(&flac);
    // 0.3 s at 48 kHz in ffmpeg's 4608-frame blocks.
    assert_eq!(frames.len(), 4);
    let mut fixed = flac.clone();
    fix_flac_crcs(&mut fixed, &frames);
    assert!(fixed == flac, "FLAC CRCs recomputed differently");
}

// ---------------------------------------------------------------------------
// Defects the fuzzer found in this crate, each with the smallest input that showed it.

/// A float WAV holding NaN or infinite samples, at a rate that needs
/// resampling: a single such sample made the resampler's FFT chunk all NaN and
/// rubato panicked on the inverse transform ("Imaginary part of first value was
/// non-zero"), so the upload was refused as malformed. NaN is now silence and
/// the rest is clipped like any other over.
#[test]
fn non_finite_float_samples_are_tamed_before_resampling() {
    let rate = 22_050;
    let mut x = sine(rate, 1, 0.5, 440.0, 0.5);
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    x[300] = f32::NEG_INFINITY;
    x[400] = 1e30;
    let bytes = WavSpec::new(rate, 1, WavFormat::Float32).bytes(&x);
    let mut out = Cursor::new(Vec::new());
    let report = ingest(Cursor::new(bytes), Some("wav"), &mut out, &upload_options()).expect("ingest");
    assert_eq!(report.frames, 22_050);
    let decoded = decode_flac(&out.into_inner());
    // Away from the damaged stretch (and the file's end) the tone is untouched by it.
    let want = sine(44_100, 1, 0.5, 440.0, 0.5);
    let (from, to) = (4_000, decoded.samples.len() - 2_000);
    let err = decoded.samples[from..to].iter().zip(&want[from..to]).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(err < 2e-3, "tone off by {err} after the damage");
}

/// An AIFF (or WAV) header may declare up to 65,535 channels, and the decoder
/// sizes its buffers by that: a 130 KB file declaring 32,767 channels held
/// 73 MB (a mutated 53 KB AIFF declaring 65,535 held 289 MB in a release
/// build, where the channel-count arithmetic does not trap). Such a file is
/// refused before the decoder is made.
#[test]
fn absurd_channel_counts_are_refused_before_decoding() {
    install_panic_hook();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wide.aiff");
    let channels = 32_767;
    write_aiff(&path, 44_100, channels, &vec![0.1; usize::from(channels) * 2]);
    let bytes = std::fs::read(&path).expect("read");
    let outcome = guarded_ingest(bytes, "aiff").expect("an answer in time");
    assert!(outcome.peak_bytes < 16 << 20, "held {} MiB", outcome.peak_bytes >> 20);
    match &outcome.verdict {
        Verdict::Err { kind: "Unsupported", message } => assert!(message.contains("32767 channels"), "{message}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
