#![cfg(feature = "ingest")]
//! End-to-end tests of `audio::ingest`: fixtures are generated in code (WAV
//! and AIFF by hand, compressed formats with ffmpeg), ingested, and the FLAC
//! output is decoded back with symphonia and checked.

#[path = "../common/mod.rs"]
mod common;

mod lossless;
mod lossy;
mod output;
mod refusals;
