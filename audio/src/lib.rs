//! Audio processing for Tutti.
//!
//! * [`peaks`] — waveform overview data in the audiowaveform `.dat` format;
//!   dependency-free so the browser can use it too.
//! * [`loudness`] — small loudness-normalisation helpers.
//! * `ingest` (feature `ingest`, server only) — decodes an uploaded file,
//!   converts it to the canonical FLAC rendition and measures it.

pub mod calibration;
pub mod loudness;
pub mod mixdown;
pub mod peaks;

#[cfg(feature = "ingest")]
pub mod ingest;
