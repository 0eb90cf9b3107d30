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

#[path = "../common/mod.rs"]
mod common;

mod alloc;
mod checksums;
mod fields;
mod guard;
mod mutate;
mod regressions;
mod runner;
mod seeds;

use std::time::Duration;

use common::WavFormat;
use fields::{aiff_fields, flac_fields, mp4_fields, mpeg_fields, ogg_fields, riff_fields};
use runner::fuzz;
use seeds::{Seed, aiff_seed, ffmpeg_seed, sox_piped_wav, wav_seed, with_tags};

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
