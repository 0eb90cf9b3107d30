//! Server-side ingestion of uploaded audio.
//!
//! [`ingest`] streams an uploaded file through
//! `demux → decode → fold-down → resample → quantise`, and from the canonical
//! signal writes a FLAC file, builds waveform [`Peaks`] and measures EBU R128
//! integrated loudness, all in one pass. Every stage works on one packet or
//! one fixed-size chunk at a time, so memory does not grow with the length of
//! the recording (only the peaks grow, at one entry per `samples_per_pixel`
//! frames).
//!
//! # Canonical rendition
//!
//! * Sample rate: [`IngestOptions::target_rate`] (44.1 kHz by default). A
//!   source already at that rate is not resampled, so lossless inputs at the
//!   target rate round-trip bit-exactly.
//! * Channels: mono stays mono; stereo stays stereo; more channels are folded
//!   down to stereo (see `Mixer`: ITU-style -3 dB centre/surround weights, LFE
//!   dropped, normalised so it cannot clip).
//! * Sample format: 24-bit when the source is lossless with more than 16 bits
//!   (24/32-bit integer or float PCM, hi-res FLAC/ALAC), otherwise 16-bit.
//!   Lossy codecs (MP3, AAC, Vorbis) report no bit depth and are stored as
//!   16-bit: their noise floor is well above 16-bit quantisation noise.
//!   Quantisation rounds to nearest without dither, which keeps the output
//!   deterministic and makes integer sources at the target rate lossless.
//! * The FLAC STREAMINFO carries the total sample count, the frame-size range
//!   and the MD5 of the PCM, so any FLAC decoder can verify the file.
//! * Only the signal is kept: encoder priming and padding are dropped where
//!   the file says how much (MP3's LAME/Xing tag and Vorbis granule positions,
//!   applied by symphonia; an MP4/M4A edit list, applied here, see `mp4`), so
//!   the canonical audio starts where the recording starts.
//!
//! # Error policy
//!
//! * Nothing recognisable as an audio container (random bytes, text, an
//!   empty file) → [`IngestError::Unsupported`] naming the extension hint.
//! * A container whose audio codec has no decoder (Opus in Ogg or WebM, AC-3,
//!   …) → [`IngestError::Unsupported`] naming the codec; so does a stream of
//!   more than 64 channels, which the decoder would size its buffers for
//!   before reading any audio.
//! * A recognised container whose header is malformed → [`IngestError::Corrupt`].
//! * Individual packets that fail to decode are skipped, as players do, but
//!   only a few in a row ([`MAX_CONSECUTIVE_BAD_PACKETS`]) and only a small
//!   share overall ([`MAX_BAD_PACKET_SHARE`]); beyond that, or if no packet
//!   decodes at all, the file is [`IngestError::Corrupt`]. Data the demuxer
//!   skips while resynchronising (a jump in packet timestamps) counts as
//!   damaged packets too. A decoder that rejects a codec feature yields
//!   [`IngestError::Unsupported`] only when no packet decodes at all; after
//!   good packets it is treated as damage, which is what it almost always is.
//! * The container ends early → [`IngestError::Corrupt`] ("truncated"): the
//!   demuxer hits end-of-file inside a packet of a stream with a declared
//!   length, or the stream yields fewer frames than its header declares
//!   (exactly, for lossless codecs; by more than 2 % and half a second for
//!   lossy ones, whose declared length may be an estimate). A stream that
//!   does not declare its length (a WAV written while streaming, a raw ADTS
//!   or MP3 stream without a Xing header) simply ends where the data ends, as
//!   it cannot be told apart from a complete one. A WAV size that is a known
//!   placeholder (0, or sox's `0x7ffff000` rounded down to whole frames, with
//!   its `fact` frame count then ignored too) counts as undeclared; RF64 sizes
//!   are taken from its `ds64` chunk (see `riff`).
//! * No audio frames at all → [`IngestError::Empty`].
//! * Longer than [`IngestOptions::max_seconds`] → [`IngestError::TooLong`],
//!   up front when the container declares its length, otherwise as soon as
//!   the decoded length exceeds the limit (then `seconds` is the length
//!   decoded so far, a lower bound).
//! * Read/write failures of the input or output → [`IngestError::Io`].
//!
//! On any error the bytes already written to `out` are unusable and should be
//! discarded.

mod checksum;
mod flac;
mod health;
mod meter;
mod mix;
mod mp4;
mod mpa;
mod names;
mod pipeline;
mod resample;
mod riff;
mod source;
mod tags;

use std::fmt;
use std::io::{self, Seek, Write};

use symphonia::core::errors::Error as SymError;

pub use checksum::PcmChecksum;
pub use pipeline::quantise;
pub use source::decoder_options;
pub use symphonia::core::io::MediaSource;

/// Building blocks of [`ingest`], exposed so the ingest benchmark can time
/// each stage separately with exactly the code `ingest` runs. Not a stable
/// interface.
#[doc(hidden)]
pub mod stages {
    pub use super::flac::{FrameEncoder, pcm_bytes};
    pub use super::meter::LoudnessMeter;
    pub use super::resample::chunk_frames;
    pub use super::{PcmChecksum, decoder_options, quantise};
    pub use md5::{Digest, Md5};
}

use crate::peaks::Peaks;
use health::{Health, is_short};
use pipeline::{Pipeline, tame};
use source::Source;
use tags::{TagCollector, collect_metadata};

/// Consecutive undecodable packets tolerated before giving up.
pub const MAX_CONSECUTIVE_BAD_PACKETS: u64 = 8;
/// Largest share of undecodable packets tolerated in a whole file.
pub const MAX_BAD_PACKET_SHARE: f64 = 0.05;

/// Source sample rates accepted.
const SOURCE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Tuning for [`ingest`].
#[derive(Debug, Clone, PartialEq)]
pub struct IngestOptions {
    /// Sample rate of the canonical FLAC (Hz), 8 000 ..= 384 000.
    pub target_rate: u32,
    /// Longest accepted recording, in seconds.
    pub max_seconds: f64,
    /// Canonical frames per waveform pixel at the finest level.
    pub samples_per_pixel: u32,
}

impl Default for IngestOptions {
    /// 44.1 kHz, 3 hours, 256 samples per pixel.
    fn default() -> Self {
        IngestOptions { target_rate: 44_100, max_seconds: 3.0 * 3600.0, samples_per_pixel: 256 }
    }
}

/// What [`ingest`] found and produced.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestReport {
    /// Container: `"wav"`, `"aiff"`, `"flac"`, `"mp3"`, `"ogg"`, `"mp4"`, …
    pub container: String,
    /// Codec: `"pcm_s16le"`, `"pcm_f32le"`, `"flac"`, `"mp3"`, `"vorbis"`,
    /// `"aac"`, `"alac"`, …
    pub codec: String,
    pub original_rate: u32,
    pub original_channels: u16,
    /// Bit depth of a lossless source; `None` for lossy codecs.
    pub original_bits: Option<u32>,
    pub canonical_rate: u32,
    pub canonical_channels: u16,
    /// 16 or 24.
    pub canonical_bits: u32,
    /// Canonical frames written to the FLAC.
    pub frames: u64,
    /// `frames / canonical_rate`.
    pub duration_seconds: f64,
    /// Title, artist and album from the file's tags; like every tag, cleaned
    /// by [`clean_text`](crate::text::clean_text) (one line, no control or
    /// bidirectional override characters) and absent when nothing is left.
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    /// Every textual tag as `(key as stored in the file, value)`, in file
    /// order, without duplicates (ID3 frame ids, Vorbis comment names, MP4
    /// atom names, RIFF INFO ids), both cleaned as above.
    pub tags: Vec<(String, String)>,
    /// EBU R128 integrated loudness of the canonical signal; `None` when the
    /// gate finds nothing to measure (silence, or shorter than 400 ms).
    pub integrated_lufs: Option<f64>,
    /// Waveform of the canonical signal.
    pub peaks: Peaks,
    /// Packets skipped as damaged: undecodable, or lost while the demuxer
    /// resynchronised. Within the tolerance of the error policy.
    pub skipped_packets: u32,
}

/// Why an upload was rejected.
#[derive(Debug)]
pub enum IngestError {
    /// Not an audio format we can read; `what` is a sentence for the uploader.
    Unsupported { what: String },
    /// Recognised but damaged or truncated; a sentence for the uploader.
    Corrupt(String),
    /// The file contains no audio frames.
    Empty,
    /// Longer than allowed.
    TooLong { seconds: f64, max: f64 },
    /// Reading the input or writing the output failed.
    Io(io::Error),
    /// The [`IngestOptions`] are out of range (a caller bug, not the upload's fault).
    InvalidOptions(String),
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported { what } => f.write_str(what),
            Self::Corrupt(why) => f.write_str(why),
            Self::Empty => f.write_str("the file contains no audio"),
            Self::TooLong { seconds, max } => {
                write!(f, "the recording is too long ({} or more; the limit is {})", clock(*seconds), clock(*max))
            }
            Self::Io(e) => write!(f, "input/output error: {e}"),
            Self::InvalidOptions(why) => write!(f, "invalid ingest options: {why}"),
        }
    }
}

impl std::error::Error for IngestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for IngestError {
    fn from(e: io::Error) -> Self {
        IngestError::Io(e)
    }
}

/// Internal failures of the DSP stages surface as I/O errors: they are not the
/// upload's fault and there is nothing more specific to tell the uploader.
impl From<String> for IngestError {
    fn from(msg: String) -> Self {
        IngestError::Io(io::Error::other(msg))
    }
}

/// `h:mm:ss.s`, for messages shown to uploaders.
fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let s = tenths / 10;
    format!("{}:{:02}:{:02}.{}", s / 3600, s / 60 % 60, s % 60, tenths % 10)
}

/// Decodes `input`, writes the canonical FLAC rendition to `out` (starting at
/// its current position) and returns what was found. See the module
/// documentation for the canonical format and the error policy.
///
/// `extension_hint` is the uploaded file's extension (with or without the
/// dot); it helps the format probe and names the file type in errors.
pub fn ingest<'a, W: Write + Seek>(
    input: impl MediaSource + 'a,
    extension_hint: Option<&str>,
    out: &mut W,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    validate(opts)?;
    let ext = extension_hint.map(|e| e.trim_start_matches('.').to_ascii_lowercase()).filter(|e| !e.is_empty());
    let mut source = Source::open(input, ext.as_deref())?;

    if let Some(seconds) = source.declared_seconds()
        && seconds > opts.max_seconds
    {
        return Err(IngestError::TooLong { seconds, max: opts.max_seconds });
    }

    let mut tags = TagCollector::default();
    collect_metadata(source.format.as_mut(), source.track_id, &mut tags, true);
    for (key, value) in std::mem::take(&mut source.riff_tags) {
        tags.add_riff(&key, &value);
    }

    let canonical_bits = if source.original_bits.is_some_and(|b| b > 16) { 24 } else { 16 };
    let mut out = Some(out);
    let mut pipeline: Option<Pipeline<'_, W>> = None;
    let mut health = Health::default();
    let mut scratch: Vec<f32> = Vec::new();
    let mut decoded_frames: u64 = 0;
    let mut trim: Option<mp4::Trim> = None;

    while let Some(packet) = source.next_packet(&mut tags, decoded_frames, pipeline.as_ref())? {
        health.check_continuity(&packet)?;
        let display = source.codec.display;
        let buf = match source.decoder.decode(&packet) {
            Ok(buf) => buf,
            Err(SymError::DecodeError(msg)) => {
                health.bad(1, msg)?;
                continue;
            }
            // Inside a decoder an I/O error means the packet ended early, i.e.
            // it is malformed, not that the file could not be read.
            Err(SymError::IoError(e)) => {
                health.bad(1, &e.to_string())?;
                continue;
            }
            // Damaged data can look like an unsupported feature, so this only
            // becomes an Unsupported verdict if no packet decodes at all.
            Err(SymError::Unsupported(feature)) => {
                health.unsupported(feature, display)?;
                continue;
            }
            Err(e) => {
                return Err(IngestError::Corrupt(format!("the {display} audio cannot be decoded: {e}")));
            }
        };
        health.good();
        if let Some(check) = &mut source.checksum {
            check.update(&buf);
        }
        if buf.frames() == 0 {
            continue;
        }

        let rate = buf.spec().rate();
        let layout = buf.spec().channels().clone();
        if rate == 0 || layout.count() == 0 {
            return Err(IngestError::Corrupt(format!(
                "the {display} audio declares an invalid format ({rate} Hz, {} channels)",
                layout.count()
            )));
        }
        // Outside this range the resampler's FFT sizes (which scale with the
        // conversion ratio) would grow large, and no real music uses it.
        if !SOURCE_RATES.contains(&rate) {
            return Err(IngestError::Unsupported {
                what: format!("a sample rate of {rate} Hz is not supported (1 kHz to 768 kHz are)"),
            });
        }
        scratch.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut scratch[..]);
        tame(&mut scratch);
        decoded_frames += buf.frames() as u64;

        let pipe = match &mut pipeline {
            Some(p) if p.original_rate == rate && p.original_channels == layout.count() => p,
            Some(_) => {
                return Err(IngestError::Unsupported {
                    what: format!(
                        "the {display} audio changes sample rate or channel count part-way through, which is not supported"
                    ),
                });
            }
            None => {
                // In frames of the decoded rate: the track header's rate can be missing (AAC at
                // 88.2 and 96 kHz).
                trim = source.edit.and_then(|e| e.at_rate(rate)).map(mp4::Trim::new);
                let writer = out.take().ok_or_else(|| String::from("output already in use"))?;
                pipeline.insert(Pipeline::new(writer, rate, &layout, canonical_bits, opts)?)
            }
        };
        let seconds = decoded_frames as f64 / f64::from(rate);
        if seconds > opts.max_seconds {
            return Err(IngestError::TooLong { seconds, max: opts.max_seconds });
        }
        let signal = match &mut trim {
            Some(t) => t.apply(&scratch, layout.count()),
            None => &scratch[..],
        };
        if !signal.is_empty() {
            pipe.push(signal)?;
        }
    }

    health.verdict(source.codec.display)?;
    let Some(pipeline) = pipeline else {
        return Err(IngestError::Empty);
    };
    if let Some(declared) = source.declared_frames
        && is_short(decoded_frames, declared, source.lossless, pipeline.original_rate)
    {
        return Err(source.truncated(decoded_frames, Some(&pipeline)));
    }
    let checksum_ok = match source.checksum.take() {
        Some(check) => check.verify(),
        None => source.decoder.finalize().verify_ok != Some(false),
    };
    if !checksum_ok {
        return Err(IngestError::Corrupt(format!(
            "the {} audio does not match its checksum; the file is damaged",
            source.codec.display
        )));
    }

    let original_rate = pipeline.original_rate;
    let original_channels = pipeline.original_channels;
    let finished = pipeline.finish()?;
    if finished.frames == 0 {
        return Err(IngestError::Empty);
    }
    let (title, artist, album, tags) = tags.into_parts();
    Ok(IngestReport {
        container: source.container,
        codec: source.codec.short.to_owned(),
        original_rate,
        original_channels: u16::try_from(original_channels).unwrap_or(u16::MAX),
        original_bits: source.original_bits,
        canonical_rate: opts.target_rate,
        canonical_channels: finished.channels,
        canonical_bits,
        frames: finished.frames,
        duration_seconds: finished.frames as f64 / f64::from(opts.target_rate),
        title,
        artist,
        album,
        tags,
        integrated_lufs: finished.integrated_lufs,
        peaks: finished.peaks,
        skipped_packets: u32::try_from(health.bad).unwrap_or(u32::MAX),
    })
}

fn validate(opts: &IngestOptions) -> Result<(), IngestError> {
    if !(8_000..=384_000).contains(&opts.target_rate) {
        return Err(IngestError::InvalidOptions(format!(
            "target_rate {} Hz is outside 8000..=384000",
            opts.target_rate
        )));
    }
    if opts.samples_per_pixel == 0 {
        return Err(IngestError::InvalidOptions("samples_per_pixel must be at least 1".into()));
    }
    if opts.max_seconds.is_nan() || opts.max_seconds <= 0.0 {
        return Err(IngestError::InvalidOptions("max_seconds must be positive".into()));
    }
    Ok(())
}
