#![cfg(feature = "ingest")]
//! Uploads nobody on the team made: sample formats, header quirks and
//! codec variants that real tools and devices write. Each fixture is made at
//! test time (ffmpeg, sox, or bytes written here) and either ingests with the
//! right rate, channel count, duration and content, or fails with an error
//! of the right class and a message a person understands.

#[path = "../common/mod.rs"]
mod common;

mod codecs;
mod pcm;
mod tags;
