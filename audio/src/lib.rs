//! Audio processing for Tutti.
//!
//! * [`peaks`] — waveform overview data in the audiowaveform `.dat` format;
//!   dependency-free so the browser can use it too.
//! * [`loudness`] — small loudness-normalisation helpers.
//! * [`calibration`], [`mixdown`], [`wav`] — the studio's latency measurement, mix law, take
//!   encoding and metronome click, shared by the browser and the server.
//! * [`text`] — cleaning of texts that come from files (tags, file names) to one
//!   safe line.
//! * `ingest` (feature `ingest`, server only) — decodes an uploaded file,
//!   converts it to the canonical FLAC rendition and measures it.
//! * `windows` (feature `ingest`) — cuts clips out of canonical FLAC as 16-bit WAV.
//! * `spectrogram` (feature `spectrogram`) — log-frequency spectrogram pictures of clips as PNG.

pub mod calibration;
pub mod loudness;
pub mod mixdown;
pub mod peaks;
pub mod text;
pub mod wav;

#[cfg(feature = "ingest")]
pub mod ingest;
#[cfg(feature = "spectrogram")]
pub mod spectrogram;
#[cfg(feature = "ingest")]
pub mod windows;
