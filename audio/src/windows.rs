//! Clips cut out of canonical audio (the FLAC that [`ingest`](crate::ingest::ingest) writes).
//!
//! A campaign's tasks are windows of a source: each is decoded once and handed out as a 16-bit
//! WAV ([`wav::encode_i16`]) with its RMS level, which the task builder uses to skip silence.
//! Decoding runs front to back and keeps one clip in memory at a time, so an hour-long source
//! costs no more memory than a ten-second one.
//!
//! The input is any owned byte buffer (`Vec<u8>`, `bytes::Bytes`, …): each decoding pass reads
//! from its own cheap clone.

use std::fmt;
use std::io::Cursor;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::wav;

/// One cut window: a 16-bit WAV of the clip and its RMS level, or why it was not cut.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// First frame of the window in the source.
    pub offset: u64,
    /// The clip; None when it was skipped.
    pub wav: Option<Vec<u8>>,
    /// Mean power of the clip's samples in dB relative to full scale; -inf for silence or a
    /// skipped window.
    pub rms_db: f64,
    pub skip_reason: Option<String>,
}

/// Why canonical audio could not be decoded. Canonical audio was written by the server, so each
/// of these means a damaged object or a bug, never a user's mistake.
#[derive(Debug)]
pub enum WindowError {
    /// The bytes are not FLAC that symphonia can read, or a packet failed to decode.
    Decode(symphonia::core::errors::Error),
    /// The container holds no audio track, or the track has no audio parameters.
    NoAudio,
    /// [`decode_whole`] ran out of audio before `frames` frames.
    TooShort,
}

impl fmt::Display for WindowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "could not decode the canonical audio: {e}"),
            Self::NoAudio => f.write_str("the canonical audio has no audio track"),
            Self::TooShort => f.write_str("the canonical audio is shorter than its record says"),
        }
    }
}

impl std::error::Error for WindowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<symphonia::core::errors::Error> for WindowError {
    fn from(e: symphonia::core::errors::Error) -> Self {
        Self::Decode(e)
    }
}

/// Cuts a window of `frames` frames at each of `offsets` (any order, overlaps allowed) out of
/// canonical FLAC, sorted by offset. A window the audio ends inside is returned without a WAV and
/// with a skip reason.
///
/// Overlapping windows (possible with random offsets) are cut in further passes, each pass taking
/// windows that do not overlap, so one pass never needs samples it has already dropped.
pub fn cut_windows<B>(flac: B, offsets: &[u64], frames: u64) -> Result<Vec<Window>, WindowError>
where
    B: AsRef<[u8]> + Clone + Send + Sync + 'static,
{
    let mut left: Vec<u64> = offsets.to_vec();
    let mut out = Vec::with_capacity(offsets.len());
    while !left.is_empty() {
        let (mut pass, mut later) = (Vec::new(), Vec::new());
        for o in left {
            if pass.last().is_none_or(|&p: &u64| o >= p + frames) { pass.push(o) } else { later.push(o) }
        }
        let (cut, short) = decode_windows(flac.clone(), &pass, frames, window)?;
        out.extend(cut);
        out.extend(short.into_iter().map(|offset| Window {
            offset,
            wav: None,
            rms_db: f64::NEG_INFINITY,
            skip_reason: Some("shorter than the clip length".into()),
        }));
        left = later;
    }
    out.sort_by_key(|w| w.offset);
    Ok(out)
}

/// The first `frames` frames of canonical audio, as interleaved samples at full precision (16 or
/// 24 bits, exactly), with the channel count.
pub fn decode_whole<B>(flac: B, frames: u64) -> Result<(Vec<f32>, usize), WindowError>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    let (mut whole, _) = decode_windows(flac, &[0], frames, |_, samples, channels, _| (samples, channels))?;
    whole.pop().ok_or(WindowError::TooShort)
}

/// One decoding pass over canonical audio, handing each window of `frames` frames starting at
/// `offsets` (ascending, not overlapping) to `finish`; also returns the offsets the audio ended
/// before filling.
fn decode_windows<B, W>(
    flac: B,
    offsets: &[u64],
    frames: u64,
    finish: impl Fn(u64, Vec<f32>, usize, u32) -> W,
) -> Result<(Vec<W>, Vec<u64>), WindowError>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    let mss = MediaSourceStream::new(Box::new(Cursor::new(flac)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("flac");
    let mut format =
        symphonia::default::get_probe().probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())?;
    let track = format.default_track(TrackType::Audio).ok_or(WindowError::NoAudio)?;
    let track_id = track.id;
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).cloned().ok_or(WindowError::NoAudio)?;
    let mut decoder = symphonia::default::get_codecs().make_audio_decoder(&params, &AudioDecoderOptions::default())?;
    let rate = params.sample_rate.unwrap_or(44_100);

    let mut out = Vec::with_capacity(offsets.len());
    let mut next = 0usize; // index of the window being filled
    let mut current: Vec<f32> = Vec::new();
    let mut channels;
    let mut position = 0u64; // frames decoded so far
    let mut scratch: Vec<f32> = Vec::new();
    while next < offsets.len() {
        let Some(packet) = format.next_packet()? else { break };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet)?;
        channels = buf.spec().channels().count().max(1);
        scratch.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut scratch[..]);
        let block_frames = (scratch.len() / channels) as u64;
        let mut f = 0u64;
        while f < block_frames && next < offsets.len() {
            let abs = position + f;
            let (start, end) = (offsets[next], offsets[next] + frames);
            if abs < start {
                f = (start - position).min(block_frames);
                continue;
            }
            let take_to = (end - position).min(block_frames);
            current.extend_from_slice(&scratch[(f as usize) * channels..(take_to as usize) * channels]);
            f = take_to;
            if position + f >= end {
                out.push(finish(offsets[next], std::mem::take(&mut current), channels, rate));
                next += 1;
            }
        }
        position += block_frames;
    }
    Ok((out, offsets[next..].to_vec()))
}

fn window(offset: u64, samples: Vec<f32>, channels: usize, rate: u32) -> Window {
    let energy: f64 = samples.iter().map(|s| (*s as f64) * (*s as f64)).sum::<f64>() / samples.len().max(1) as f64;
    let rms_db = if energy > 0.0 { 10.0 * energy.log10() } else { f64::NEG_INFINITY };
    Window { offset, wav: Some(wav::encode_i16(&samples, rate, channels as u16)), rms_db, skip_reason: None }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::ingest::{IngestOptions, ingest};

    const RATE: u32 = 8_000;

    /// A ramp of whole 16-bit steps that differs from sample to sample (repeating every 20 000),
    /// so a window cut in the wrong place does not match.
    fn ramp(frames: usize, channels: usize) -> Vec<f32> {
        (0..frames * channels).map(|k| ((k % 20_000) as f32 - 10_000.0) / 32_768.0).collect()
    }

    /// Canonical FLAC of `samples`, written by the ingest pipeline itself (16-bit source at the
    /// target rate, so lossless).
    fn canonical(samples: &[f32], channels: u16) -> Vec<u8> {
        let mut pcm16 = Vec::new();
        for s in samples {
            pcm16.extend_from_slice(&((s * 32_768.0).round() as i16).to_le_bytes());
        }
        let mut source = wav::i16_header(samples.len() as u64, RATE, channels).unwrap().to_vec();
        source.extend_from_slice(&pcm16);
        let mut out = Cursor::new(Vec::new());
        let opts = IngestOptions { target_rate: RATE, ..IngestOptions::default() };
        ingest(Cursor::new(source), Some("wav"), &mut out, &opts).unwrap();
        out.into_inner()
    }

    #[test]
    fn whole_decode_is_exact() {
        let samples = ramp(20_000, 2);
        let flac = canonical(&samples, 2);
        let (back, channels) = decode_whole(flac.clone(), 20_000).unwrap();
        assert_eq!(channels, 2);
        assert_eq!(back, samples);
        let (prefix, _) = decode_whole(flac.clone(), 5_000).unwrap();
        assert_eq!(prefix, samples[..10_000]);
        assert!(matches!(decode_whole(flac, 20_001), Err(WindowError::TooShort)));
    }

    #[test]
    fn windows_are_cut_where_asked_even_when_they_overlap() {
        let samples = ramp(30_000, 1);
        let flac = canonical(&samples, 1);
        let frames = 4_000u64;
        // Unsorted, overlapping, straddling FLAC block boundaries (4096 frames), and one past the end.
        let offsets = [12_000, 0, 1_000, 26_000, 4_095, 27_000];
        let windows = cut_windows(flac, &offsets, frames).unwrap();
        let got: Vec<u64> = windows.iter().map(|w| w.offset).collect();
        assert_eq!(got, [0, 1_000, 4_095, 12_000, 26_000, 27_000]);
        for w in &windows {
            let at = w.offset as usize;
            if at + frames as usize > samples.len() {
                assert_eq!(w.wav, None);
                assert_eq!(w.rms_db, f64::NEG_INFINITY);
                assert_eq!(w.skip_reason.as_deref(), Some("shorter than the clip length"));
                continue;
            }
            let (clip, channels, rate) = wav::decode_i16(w.wav.as_ref().unwrap()).unwrap();
            assert_eq!((channels, rate, clip.len()), (1, RATE, frames as usize));
            for (k, (a, b)) in clip.iter().zip(&samples[at..]).enumerate() {
                assert!((a - b).abs() < 2.0 / 32_767.0, "window at {at}, sample {k}: {a} vs {b}");
            }
            let expected =
                samples[at..at + frames as usize].iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / frames as f64;
            assert!((w.rms_db - 10.0 * expected.log10()).abs() < 1e-9, "window at {at}");
            assert!(w.skip_reason.is_none());
        }
    }

    #[test]
    fn silence_has_no_level_and_stereo_stays_interleaved() {
        let flac = canonical(&vec![0.0; 2 * 9_000], 2);
        // The server passes the `Bytes` it fetched from the object store.
        let windows = cut_windows(bytes::Bytes::from(flac), &[100], 8_000).unwrap();
        assert_eq!(windows[0].rms_db, f64::NEG_INFINITY);
        let (clip, channels, _) = wav::decode_i16(windows[0].wav.as_ref().unwrap()).unwrap();
        assert_eq!((channels, clip.len()), (2, 16_000));
    }

    #[test]
    fn no_offsets_and_garbage_input() {
        assert!(cut_windows(Vec::new(), &[], 10).unwrap().is_empty());
        assert!(matches!(cut_windows(b"not flac at all".to_vec(), &[0], 10), Err(WindowError::Decode(_))));
        assert!(matches!(decode_whole(Vec::new(), 10), Err(WindowError::Decode(_))));
        assert!(!WindowError::TooShort.to_string().is_empty());
    }
}
