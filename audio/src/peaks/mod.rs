//! Waveform peaks compatible with the BBC audiowaveform binary `.dat` format.
//!
//! A waveform is a sequence of *pixels*; each pixel covers `samples_per_pixel`
//! consecutive audio frames and stores, for every channel, the minimum and the
//! maximum sample value seen in that span. The server computes a fine base level
//! once while ingesting; clients fetch it and [`Peaks::coarsen`] it to zoom out,
//! so only one file per recording needs to be stored.
//!
//! Binary layout (all fields little-endian), as documented in audiowaveform's
//! `doc/DataFormat.md`:
//!
//! | offset | type | field |
//! |--------|------|-------|
//! | 0  | i32 | version (1 or 2) |
//! | 4  | u32 | flags: bit 0 set = 8-bit data, clear = 16-bit |
//! | 8  | i32 | sample rate (Hz) |
//! | 12 | i32 | samples per pixel |
//! | 16 | u32 | length (pixels) |
//! | 20 | i32 | channels (version 2 only) |
//!
//! The header is followed, for each pixel and for each channel, by a `min, max`
//! pair of `i8` or `i16` values. Version 1 files carry a single channel and a
//! 20-byte header. This module writes version 2 and reads both.
//!
//! The module only uses `std`, so it also builds for `wasm32-unknown-unknown`.

mod builder;
mod dat;
mod waveform;

pub use builder::{PeaksBuilder, sample_to_i16};
pub use dat::PeaksError;
pub use waveform::Peaks;

#[cfg(test)]
mod tests;
