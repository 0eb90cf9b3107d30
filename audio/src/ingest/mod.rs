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

mod flac;
mod meter;
mod mix;
mod mp4;
mod mpa;
mod names;
mod resample;
mod riff;

use std::fmt;
use std::io::{self, Seek, Write};

use md5::{Digest, Md5};
use symphonia::core::audio::{Audio, Channels, GenericAudioBufferRef};
use symphonia::core::codecs::audio::well_known::CODEC_ID_FLAC;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions, VerificationCheck};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{MetadataOptions, MetadataRevision, RawValue, StandardTag};
use symphonia::core::packet::Packet;
use symphonia::core::units::Duration;

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

use crate::peaks::{Peaks, PeaksBuilder};
use crate::text::clean_text;
use flac::FlacWriter;
use meter::LoudnessMeter;
use mix::Mixer;
use resample::StreamResampler;

/// Consecutive undecodable packets tolerated before giving up.
pub const MAX_CONSECUTIVE_BAD_PACKETS: u64 = 8;
/// Largest share of undecodable packets tolerated in a whole file.
pub const MAX_BAD_PACKET_SHARE: f64 = 0.05;

/// Most channels a source may have (they are folded down to stereo).
const MAX_CHANNELS: usize = 64;

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

/// The demuxer and decoder for the selected audio track.
struct Source<'a> {
    format: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    params: AudioCodecParameters,
    track_id: u32,
    container: String,
    codec: names::CodecName,
    lossless: bool,
    /// Frames the container says the track has, when it says.
    declared_frames: Option<u64>,
    /// The reader estimated the length from the bitrate (see `mpa`); its
    /// packets must not be cut to that estimate.
    length_estimated: bool,
    original_bits: Option<u32>,
    /// WAV `LIST/INFO` tags, which symphonia's WAV reader does not expose.
    riff_tags: Vec<(String, String)>,
    /// The MP4 edit list, which symphonia's MP4 reader does not apply: it
    /// trims encoder priming and padding.
    edit: Option<mp4::StatedEdit>,
    /// The MD5 of the decoded PCM that FLAC's STREAMINFO declares, when it
    /// declares one; checked here instead of by the decoder.
    checksum: Option<PcmChecksum>,
}

impl<'a> Source<'a> {
    fn open(mut input: impl MediaSource + 'a, ext: Option<&str>) -> Result<Self, IngestError> {
        let riff_tags = if input.is_seekable() { riff::read_info_tags(&mut input) } else { Vec::new() };
        let edit = if input.is_seekable() { mp4::audio_edit(&mut input) } else { None };
        // The MP3 and ADTS readers estimate the length of a seekable stream that does not state it.
        let mpa_estimate = input.is_seekable() && !mpa::states_length(&mut input);
        let fixes = if input.is_seekable() { riff::header_fixes(&mut input) } else { Vec::new() };
        let mss = MediaSourceStream::new(Box::new(riff::Patched::new(input, fixes)), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = ext {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|e| probe_error(e, ext))?;
        let container = names::container_name(format.format_info());
        let track = select_track(format.as_ref(), &container)?;
        let track_id = track.id;
        // A length estimated from the bitrate is not a declaration: on a VBR file it is off by
        // seconds, and would make a complete file look truncated (or too long) and, for MP3,
        // cut the audio at the estimate.
        let length_estimated = match container.as_str() {
            "aac" => true,
            "mp3" | "mp2" | "mp1" => mpa_estimate,
            _ => false,
        };
        let declared_frames = track.num_frames.filter(|&n| n > 0 && !length_estimated);
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .cloned()
            .ok_or_else(|| IngestError::Unsupported { what: format!("the {container} file has no audio track") })?;
        let codec = names::codec_name(params.codec);
        // symphonia 0.6's Vorbis decoder gets channels of some surround streams wrong (one of
        // six identical channels comes out silent where ffmpeg decodes it whole); better refused
        // than folded down wrong without a word.
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        // A PCM header may declare up to 65,535 channels, and the decoder sizes its buffers by
        // that before reading any audio (a 130 KB AIFF declaring 32,767 channels took 73 MB).
        if channels > MAX_CHANNELS {
            return Err(IngestError::Unsupported {
                what: format!("a recording with {channels} channels is not supported (at most {MAX_CHANNELS} are)"),
            });
        }
        if params.codec == symphonia::core::codecs::audio::well_known::CODEC_ID_VORBIS && channels > 2 {
            return Err(IngestError::Unsupported {
                what: format!(
                    "Vorbis with {channels} channels is not supported (its decoder is not reliable beyond stereo); \
                     convert the file to FLAC or WAV"
                ),
            });
        }
        let decoder = make_decoder(&params, codec.display)?;
        let checksum = PcmChecksum::for_decoder(decoder.as_ref());
        let original_bits =
            params.bits_per_sample.or_else(|| names::pcm_bits(params.codec)).or_else(|| names::alac_bits(&params));
        Ok(Source {
            format,
            decoder,
            lossless: names::is_lossless(params.codec),
            params,
            track_id,
            container,
            codec,
            declared_frames,
            length_estimated,
            original_bits,
            riff_tags,
            edit,
            checksum,
        })
    }

    fn declared_seconds(&self) -> Option<f64> {
        let rate = self.params.sample_rate.filter(|&r| r > 0)?;
        Some(self.declared_frames? as f64 / f64::from(rate))
    }

    /// The next packet of the selected track, `None` at the end of the stream.
    /// Applies the end-of-file part of the error policy.
    fn next_packet<W: Write + Seek>(
        &mut self,
        tags: &mut TagCollector,
        decoded_frames: u64,
        pipeline: Option<&Pipeline<'_, W>>,
    ) -> Result<Option<Packet>, IngestError> {
        loop {
            let mut packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(None),
                Err(SymError::ResetRequired) => {
                    self.follow_chained_stream(tags)?;
                    continue;
                }
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // Only raw PCM (A-law and μ-law too) without a declared length legitimately runs
                    // until the file ends (WAV written while streaming).
                    // Every other container marks its own end, so running
                    // out of bytes mid-packet means the file was cut short.
                    if self.declared_frames.is_none() && names::is_raw(self.params.codec) {
                        return Ok(None);
                    }
                    return Err(self.truncated(decoded_frames, pipeline));
                }
                Err(SymError::IoError(e)) => return Err(IngestError::Io(e)),
                Err(e) => {
                    return Err(IngestError::Corrupt(format!(
                        "the {} file is damaged or truncated and cannot be read past {}: {e}",
                        self.container,
                        position(decoded_frames, pipeline)
                    )));
                }
            };
            if !self.format.metadata().is_latest() {
                collect_metadata(self.format.as_mut(), self.track_id, tags, false);
            }
            if packet.track_id == self.track_id {
                if self.length_estimated {
                    // Keep what the reader would cut at its estimated end.
                    packet.dur = packet.dur.saturating_add(packet.trim_end);
                    packet.trim_end = Duration::ZERO;
                }
                return Ok(Some(packet));
            }
        }
    }

    /// A chained stream (e.g. concatenated Ogg files) starts a new logical
    /// stream. Continue only if it carries the same kind of audio.
    fn follow_chained_stream(&mut self, tags: &mut TagCollector) -> Result<(), IngestError> {
        let next = self.format.default_track(TrackType::Audio).and_then(|t| {
            let p = t.codec_params.as_ref()?.audio()?.clone();
            Some((t.id, p))
        });
        let count = |p: &AudioCodecParameters| p.channels.as_ref().map(Channels::count);
        match next {
            Some((id, p))
                if p.codec == self.params.codec
                    && p.sample_rate == self.params.sample_rate
                    && count(&p) == count(&self.params) =>
            {
                self.decoder = make_decoder(&p, self.codec.display)?;
                // The declared checksum covers one logical stream; a chained
                // one is left unchecked rather than checked against the
                // wrong declaration.
                self.checksum = None;
                // Packets of the new logical stream carry the new id.
                self.track_id = id;
                collect_metadata(self.format.as_mut(), id, tags, false);
                Ok(())
            }
            _ => Err(IngestError::Unsupported {
                what: format!(
                    "the {} file chains streams with different formats, which is not supported",
                    self.container
                ),
            }),
        }
    }

    fn truncated<W: Write + Seek>(&self, frames: u64, pipeline: Option<&Pipeline<'_, W>>) -> IngestError {
        let decoded = pipeline.map(|p| frames as f64 / f64::from(p.original_rate));
        let detail = match (self.declared_seconds(), decoded) {
            (Some(declared), Some(decoded)) if declared - decoded > 0.05 => {
                format!("its audio stops at {} of the {} it declares", clock(decoded), clock(declared))
            }
            _ => format!("its audio stops at {}, part-way through a packet", position(frames, pipeline)),
        };
        IngestError::Corrupt(format!("the {} file is truncated or damaged: {detail}", self.container))
    }
}

/// Bookkeeping for the packet-level error policy.
#[derive(Default)]
struct Health {
    good: u64,
    bad: u64,
    consecutive_bad: u64,
    last_error: String,
    /// Set while every failure so far was the decoder rejecting a feature;
    /// holds the message for the uploader.
    unsupported: Option<String>,
    /// Where the next packet should start if nothing was lost.
    next_pts: Option<i64>,
}

impl Health {
    fn good(&mut self) {
        self.good += 1;
        self.consecutive_bad = 0;
        self.unsupported = None;
    }

    fn bad(&mut self, packets: u64, why: &str) -> Result<(), IngestError> {
        self.unsupported = None;
        self.record(packets, why)
    }

    fn unsupported(&mut self, feature: &str, codec: &str) -> Result<(), IngestError> {
        if self.good == 0 && (self.bad == 0 || self.unsupported.is_some()) {
            self.unsupported = Some(format!(
                "this {codec} audio uses a feature the decoder does not support ({feature}); convert it to FLAC, WAV or Ogg Vorbis"
            ));
        }
        self.record(1, feature)
    }

    fn record(&mut self, packets: u64, why: &str) -> Result<(), IngestError> {
        self.bad += packets;
        self.consecutive_bad += packets;
        why.clone_into(&mut self.last_error);
        if self.consecutive_bad > MAX_CONSECUTIVE_BAD_PACKETS {
            if let Some(what) = self.unsupported.take() {
                return Err(IngestError::Unsupported { what });
            }
            return Err(IngestError::Corrupt(format!(
                "the audio data is damaged: {} packets in a row are unreadable ({why})",
                self.consecutive_bad
            )));
        }
        Ok(())
    }

    /// Some demuxers resynchronise silently after damaged data (Ogg skips
    /// pages that fail their CRC, FLAC skips to the next frame header). The
    /// jump in timestamps that results is counted as lost packets, so damage
    /// is judged the same way whether the demuxer or the decoder noticed it.
    fn check_continuity(&mut self, packet: &Packet) -> Result<(), IngestError> {
        let span = packet.trim_start.get() + packet.dur.get() + packet.trim_end.get();
        let pts = packet.pts.get();
        if let Some(expected) = self.next_pts
            && span > 0
        {
            let gap = u64::try_from(pts.saturating_sub(expected)).unwrap_or(0);
            // Up to one packet of slack: some containers round timestamps.
            if gap > span {
                self.bad(gap / span, "part of the audio data is missing")?;
            }
        }
        self.next_pts = i64::try_from(span).ok().and_then(|s| pts.checked_add(s));
        Ok(())
    }

    /// End-of-stream judgement on the share of damaged packets.
    fn verdict(&self, codec: &str) -> Result<(), IngestError> {
        if self.bad == 0 {
            return Ok(());
        }
        let total = self.good + self.bad;
        if let Some(what) = &self.unsupported {
            return Err(IngestError::Unsupported { what: what.clone() });
        }
        if self.good == 0 {
            return Err(IngestError::Corrupt(format!(
                "none of the {codec} audio could be decoded ({})",
                self.last_error
            )));
        }
        if self.bad as f64 > MAX_BAD_PACKET_SHARE * total as f64 {
            return Err(IngestError::Corrupt(format!(
                "{} of {total} packets of the {codec} audio are damaged ({})",
                self.bad, self.last_error
            )));
        }
        Ok(())
    }
}

fn probe_error(e: SymError, ext: Option<&str>) -> IngestError {
    let described = match ext {
        Some(ext) => format!("the .{ext} file"),
        None => "the file".to_owned(),
    };
    match e {
        // The probe scans for a known signature and reports this when it
        // finds none: the file is not audio we know.
        SymError::Unsupported(msg) if msg.starts_with("core (probe)") => IngestError::Unsupported {
            what: format!(
                "{described} is not in a recognised audio format; upload WAV, AIFF, FLAC, MP3, Ogg Vorbis or M4A (AAC/ALAC)"
            ),
        },
        // A reader recognised the container but a mandatory part is absent,
        // e.g. an MP4 whose recording app stopped before writing its index.
        SymError::Unsupported(msg) if msg.contains("missing") => {
            IngestError::Corrupt(format!("{described} is incomplete or damaged ({msg})"))
        }
        SymError::Unsupported(msg) => IngestError::Unsupported {
            what: format!("{described} uses a container feature that is not supported ({msg})"),
        },
        // A signature matched, then the header ended early.
        SymError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            IngestError::Corrupt(format!("{described} ends before its header is complete; it is truncated"))
        }
        SymError::IoError(io) => IngestError::Io(io),
        other => IngestError::Corrupt(format!("{described} has a damaged header: {other}")),
    }
}

fn select_track<'f>(format: &'f dyn FormatReader, container: &str) -> Result<&'f Track, IngestError> {
    if let Some(track) = format.default_track(TrackType::Audio) {
        return Ok(track);
    }
    let has_audio = format.tracks().iter().any(|t| t.track_type() == Some(TrackType::Audio));
    Err(IngestError::Unsupported {
        what: if has_audio {
            format!("the audio in this {container} file uses a codec that is not recognised")
        } else {
            format!("the {container} file has no audio track")
        },
    })
}

/// FLAC's MD5 is checked by [`PcmChecksum`] (faster than the decoder's own
/// check); `verify` stays on for any other decoder that carries a checksum.
#[doc(hidden)]
pub fn decoder_options(params: &AudioCodecParameters) -> AudioDecoderOptions {
    AudioDecoderOptions::default().verify(params.codec != CODEC_ID_FLAC)
}

fn make_decoder(params: &AudioCodecParameters, display: &str) -> Result<Box<dyn AudioDecoder>, IngestError> {
    symphonia::default::get_codecs().make_audio_decoder(params, &decoder_options(params)).map_err(|e| match e {
        // The AAC decoder reads AAC-LC only, in mono or stereo: say which AAC this is rather than
        // that AAC is not supported.
        SymError::Unsupported(_) if let Some(kind) = names::unsupported_aac(params) => IngestError::Unsupported {
            what: format!(
                "{kind} audio is not supported (only AAC-LC in mono or stereo is); convert it to FLAC, WAV or Ogg Vorbis"
            ),
        },
        SymError::Unsupported(_) => IngestError::Unsupported {
            what: format!(
                "{display} audio is not supported (the decoder cannot read {display}); convert it to FLAC, WAV or Ogg Vorbis"
            ),
        },
        other => IngestError::Corrupt(format!("the {display} stream parameters are invalid: {other}")),
    })
}

/// FLAC's STREAMINFO MD5: the MD5 of the decoded samples, interleaved,
/// little-endian, in whole bytes (`bits / 8` rounded up). symphonia's FLAC
/// decoder can check it (`verify`), but its MD5 runs at about three quarters
/// of the speed of the md-5 crate's assembly implementation used here, on
/// samples it first interleaves one at a time; on a 16-bit 5.1 upload the
/// check took a third of the time spent decoding and checking.
#[doc(hidden)]
pub struct PcmChecksum {
    expected: [u8; 16],
    /// symphonia hands FLAC samples over as `i32` scaled to 32 bits.
    shift: u32,
    bytes_per_sample: usize,
    md5: Md5,
    bytes: Vec<u8>,
    /// A buffer in a format other than the FLAC decoder's `i32` arrived, so
    /// the sum cannot be computed.
    unusable: bool,
}

impl PcmChecksum {
    /// A checker for the decoder's stream, if it is FLAC with a declared MD5.
    pub fn for_decoder(decoder: &dyn AudioDecoder) -> Option<Self> {
        let params = decoder.codec_params();
        if params.codec != CODEC_ID_FLAC {
            return None;
        }
        let Some(VerificationCheck::Md5(expected)) = params.verification_check else {
            return None;
        };
        let bits = params.bits_per_sample.filter(|b| (1..=32).contains(b))?;
        Some(PcmChecksum {
            expected,
            shift: 32 - bits,
            bytes_per_sample: bits.div_ceil(8) as usize,
            md5: Md5::new(),
            bytes: Vec::new(),
            unusable: false,
        })
    }

    pub fn update(&mut self, buf: &GenericAudioBufferRef<'_>) {
        let GenericAudioBufferRef::S32(buf) = buf else {
            self.unusable = true;
            return;
        };
        let channels = buf.num_planes();
        let frames = buf.frames();
        let planes: Vec<&[i32]> = (0..channels).filter_map(|c| buf.plane(c)).collect();
        if planes.len() != channels || frames == 0 {
            self.unusable |= planes.len() != channels;
            return;
        }
        let (shift, width) = (self.shift, self.bytes_per_sample);
        self.bytes.clear();
        self.bytes.resize(frames * channels * width, 0);
        match (&planes[..], width) {
            ([mono], 2) => {
                for (out, &s) in self.bytes.chunks_exact_mut(2).zip(&mono[..frames]) {
                    out.copy_from_slice(&((s >> shift) as i16).to_le_bytes());
                }
            }
            ([left, right], 2) => {
                for ((out, &l), &r) in self.bytes.chunks_exact_mut(4).zip(&left[..frames]).zip(&right[..frames]) {
                    out[..2].copy_from_slice(&((l >> shift) as i16).to_le_bytes());
                    out[2..].copy_from_slice(&((r >> shift) as i16).to_le_bytes());
                }
            }
            (_, 1) => interleave_bytes::<1>(&planes, frames, shift, &mut self.bytes),
            (_, 2) => interleave_bytes::<2>(&planes, frames, shift, &mut self.bytes),
            (_, 3) => interleave_bytes::<3>(&planes, frames, shift, &mut self.bytes),
            _ => interleave_bytes::<4>(&planes, frames, shift, &mut self.bytes),
        }
        self.md5.update(&self.bytes);
    }

    /// Whether the decoded samples match the declaration; `true` when they
    /// could not be checked.
    pub fn verify(self) -> bool {
        self.unusable || self.md5.finalize()[..] == self.expected[..]
    }
}

/// Interleaves `frames` samples of each plane into `bytes` as `W`-byte
/// little-endian integers, after shifting them right by `shift`.
fn interleave_bytes<const W: usize>(planes: &[&[i32]], frames: usize, shift: u32, bytes: &mut [u8]) {
    let channels = planes.len();
    for (c, plane) in planes.iter().enumerate() {
        for (out, &s) in bytes.chunks_exact_mut(channels * W).zip(&plane[..frames]) {
            out[c * W..(c + 1) * W].copy_from_slice(&(s >> shift).to_le_bytes()[..W]);
        }
    }
}

/// Whether a stream that ended normally still delivered fewer frames than its
/// header declares. Lossless codecs must deliver every declared frame. For
/// lossy ones the declared count may be an estimate (an MP3 without a Xing
/// header is sized from its bitrate), so only a clear shortfall counts: more
/// than 2 % and more than half a second.
fn is_short(decoded: u64, declared: u64, lossless: bool, rate: u32) -> bool {
    let missing = declared.saturating_sub(decoded);
    if lossless { missing > 0 } else { missing as f64 > (0.02 * declared as f64).max(0.5 * f64::from(rate)) }
}

fn position<W: Write + Seek>(frames: u64, pipeline: Option<&Pipeline<'_, W>>) -> String {
    match pipeline {
        Some(p) => clock(frames as f64 / f64::from(p.original_rate)),
        None => "its start".to_owned(),
    }
}

/// The most tags kept from one file, and the longest key or value kept (in characters).
const MAX_TAGS: usize = 256;
const MAX_TAG_CHARS: usize = 1_000;

/// At most [`MAX_TAG_CHARS`] characters of a clean text, still clean (no trailing space).
fn clip_chars(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(MAX_TAG_CHARS) {
        s.truncate(cut);
        s.truncate(s.trim_end().len());
    }
    s
}

/// Tags gathered from every metadata revision (file-level and per-track).
/// Keys and values are cleaned to one line of visible text ([`clean_text`]):
/// they end up in database text columns (PostgreSQL refuses NUL) and on
/// pages. A tag whose key or value has nothing left is dropped.
#[derive(Default)]
struct TagCollector {
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    tags: Vec<(String, String)>,
}

impl TagCollector {
    fn add_revision(&mut self, rev: &MetadataRevision, track_id: u32) {
        let per_track =
            rev.per_track.iter().filter(|t| t.track_id == u64::from(track_id)).flat_map(|t| t.metadata.tags.iter());
        for tag in rev.media.tags.iter().chain(per_track) {
            let value = match &tag.raw.value {
                RawValue::String(s) => clean_text(s),
                RawValue::StringList(list) => {
                    let parts: Vec<String> = list.iter().filter_map(|s| clean_text(s)).collect();
                    (!parts.is_empty()).then(|| parts.join("; "))
                }
                RawValue::Binary(_) | RawValue::Flag => continue,
                other => clean_text(&other.to_string()),
            };
            let (Some(key), Some(value)) = (clean_text(&tag.raw.key), value) else {
                continue;
            };
            let slot = match &tag.std {
                Some(StandardTag::TrackTitle(_)) => Some(&mut self.title),
                Some(StandardTag::Artist(_)) => Some(&mut self.artist),
                Some(StandardTag::Album(_)) => Some(&mut self.album),
                _ => None,
            };
            if let Some(slot) = slot {
                slot.get_or_insert_with(|| clip_chars(value.clone()));
            }
            self.push(key, value);
        }
    }

    fn add_riff(&mut self, key: &str, value: &str) {
        let (Some(key), Some(value)) = (clean_text(key), clean_text(value)) else {
            return;
        };
        let slot = match key.as_str() {
            "INAM" => Some(&mut self.title),
            "IART" => Some(&mut self.artist),
            "IPRD" => Some(&mut self.album),
            _ => None,
        };
        if let Some(slot) = slot {
            slot.get_or_insert_with(|| clip_chars(value.clone()));
        }
        self.push(key, value);
    }

    fn push(&mut self, key: String, value: String) {
        // A file may carry any number of tags (a hostile one millions); the record keeps the first
        // MAX_TAGS distinct ones, each cut to MAX_TAG_CHARS, so this stays linear and small.
        if self.tags.len() >= MAX_TAGS {
            return;
        }
        let pair = (clip_chars(key), clip_chars(value));
        if !self.tags.contains(&pair) {
            self.tags.push(pair);
        }
    }

    #[allow(clippy::type_complexity)]
    fn into_parts(self) -> (Option<String>, Option<String>, Option<String>, Vec<(String, String)>) {
        (self.title, self.artist, self.album, self.tags)
    }
}

/// Reads metadata revisions queued by the reader. With `all`, every queued
/// revision is read; otherwise the oldest (already read) one is dropped first.
fn collect_metadata(format: &mut dyn FormatReader, track_id: u32, tags: &mut TagCollector, all: bool) {
    let mut log = format.metadata();
    if !all {
        log.pop();
    }
    loop {
        if let Some(rev) = log.current() {
            tags.add_revision(rev, track_id);
        }
        if log.pop().is_none() {
            break;
        }
    }
}

/// Everything downstream of the decoder.
struct Pipeline<'w, W: Write + Seek> {
    original_rate: u32,
    original_channels: usize,
    mixer: Mixer,
    mixed: Vec<f32>,
    resampler: Option<StreamResampler>,
    sink: Sink<'w, W>,
}

struct Finished {
    frames: u64,
    channels: u16,
    integrated_lufs: Option<f64>,
    peaks: Peaks,
}

impl<'w, W: Write + Seek> Pipeline<'w, W> {
    fn new(out: &'w mut W, rate: u32, layout: &Channels, bits: u32, opts: &IngestOptions) -> Result<Self, IngestError> {
        let mixer = Mixer::new(layout);
        let channels = mixer.out_channels();
        let resampler =
            if rate == opts.target_rate { None } else { Some(StreamResampler::new(rate, opts.target_rate, channels)?) };
        Ok(Pipeline {
            original_rate: rate,
            original_channels: layout.count(),
            mixer,
            mixed: Vec::new(),
            resampler,
            sink: Sink::new(out, opts.target_rate, channels, bits, opts.samples_per_pixel)?,
        })
    }

    fn push(&mut self, decoded: &[f32]) -> Result<(), IngestError> {
        let mixed = self.mixer.mix(decoded, &mut self.mixed);
        let sink = &mut self.sink;
        match &mut self.resampler {
            Some(rs) => rs.push(mixed, &mut |s: &[f32]| sink.write(s)),
            None => sink.write(mixed),
        }
    }

    fn finish(self) -> Result<Finished, IngestError> {
        let mut sink = self.sink;
        if let Some(rs) = self.resampler {
            rs.finish(&mut |s: &[f32]| sink.write(s))?;
        }
        sink.finish()
    }
}

/// Quantises the canonical signal and feeds the FLAC writer, the peaks
/// builder and the loudness meter.
struct Sink<'w, W: Write + Seek> {
    flac: FlacWriter<'w, W>,
    peaks: PeaksBuilder,
    meter: LoudnessMeter,
    channels: usize,
    /// `2^(bits-1)`: the integer value of full scale.
    scale: f32,
    ints: Vec<i32>,
}

impl<'w, W: Write + Seek> Sink<'w, W> {
    fn new(out: &'w mut W, rate: u32, channels: usize, bits: u32, spp: u32) -> Result<Self, IngestError> {
        let full = 1i32 << (bits - 1);
        Ok(Sink {
            flac: FlacWriter::new(out, rate, channels, bits)?,
            peaks: PeaksBuilder::new(rate, channels as u16, spp),
            meter: LoudnessMeter::new(channels, rate, f64::from(full)),
            channels,
            scale: full as f32,
            ints: Vec::new(),
        })
    }

    /// Peaks and loudness are computed from the quantised integers, so they
    /// describe exactly what the FLAC contains.
    fn write(&mut self, samples: &[f32]) -> Result<(), IngestError> {
        quantise(samples, self.scale, &mut self.ints);
        self.flac.write(&self.ints)?;
        self.peaks.push_ints(&self.ints, self.scale);
        self.meter.add(&self.ints);
        Ok(())
    }

    fn finish(self) -> Result<Finished, IngestError> {
        let integrated_lufs = self.meter.integrated();
        let frames = self.flac.finish()?;
        Ok(Finished { frames, channels: self.channels as u16, integrated_lufs, peaks: self.peaks.finish() })
    }
}

/// Largest sample magnitude passed on from the decoder: 12 dB over full
/// scale. The canonical rendition clips at full scale anyway; clipping this
/// much earlier only keeps a wild value from ringing through its
/// neighbours in the resampler.
const MAX_SAMPLE: f32 = 4.0;

/// Makes decoded samples safe for the DSP stages: NaN becomes 0 and values
/// are clamped to ±[`MAX_SAMPLE`]. A float WAV can hold any bit pattern, and a
/// damaged lossy stream can decode to infinities; the resampler's FFT turns a
/// single non-finite sample into NaN across its whole chunk (and rubato then
/// panics on the inverse transform).
fn tame(samples: &mut [f32]) {
    for x in samples {
        *x = if x.is_nan() { 0.0 } else { x.clamp(-MAX_SAMPLE, MAX_SAMPLE) };
    }
}

/// Float samples to integers with full scale `scale` (`2^(bits-1)`):
/// rounded to nearest (ties to even), clamped to `-scale ..= scale - 1`, NaN
/// to 0 (`scale` at most `2^23`). The scale is the one symphonia uses for integer→float conversion,
/// so integer sources at the target rate come back bit-exact.
pub fn quantise(samples: &[f32], scale: f32, out: &mut Vec<i32>) {
    assert!((1.0..=8_388_608.0).contains(&scale), "quantisation is for up to 24 bits");
    out.clear();
    out.resize(samples.len(), 0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { quantise_avx2(samples, scale, out) };
        return;
    }
    quantise_into(samples, scale, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quantise_avx2(samples: &[f32], scale: f32, out: &mut [i32]) {
    quantise_into(samples, scale, out);
}

#[inline(always)]
fn quantise_into(samples: &[f32], scale: f32, out: &mut [i32]) {
    let (lo, hi) = (-scale, scale - 1.0);
    for (q, &x) in out.iter_mut().zip(samples) {
        let v = (x * scale).round_ties_even();
        // NaN becomes 0; infinities are clamped like any other value.
        let v = if v.is_nan() { 0.0 } else { v.max(lo).min(hi) };
        // SAFETY: `v` is finite and within `-2^23 ..= 2^23 - 1` here (an
        // unchecked conversion vectorises; `as` would check every value).
        *q = unsafe { v.to_int_unchecked::<i32>() };
    }
}
