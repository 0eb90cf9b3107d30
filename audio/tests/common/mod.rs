//! Fixture generation and output inspection shared by the ingest tests
//! (`ingest`, `odd_inputs`, `fuzz_decode`, `memory`).
//!
//! WAV and AIFF files are written by hand; compressed formats are produced
//! with ffmpeg and streamed WAVs with sox, which the tests require (a missing
//! tool fails the test with an explanation instead of skipping it).

#![allow(dead_code)]

use std::f64::consts::PI;
use std::fs::File;
use std::io::{BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use audio::ingest::{IngestError, IngestOptions, IngestReport, ingest};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Interleaved sine, identical on every channel.
pub fn sine(rate: u32, channels: usize, seconds: f64, freq: f64, amp: f64) -> Vec<f32> {
    let frames = (seconds * f64::from(rate)).round() as usize;
    let mut out = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let v = (amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32;
        out.extend(std::iter::repeat_n(v, channels));
    }
    out
}

/// Deterministic white-ish noise in [-amp, amp].
pub fn noise(len: usize, amp: f32, seed: u32) -> Vec<f32> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WavFormat {
    Int16,
    Int24,
    Float32,
}

/// Quantises like a WAV writer would: to the nearest integer step.
pub fn to_int(x: f32, bits: u32) -> i32 {
    let full = (1i64 << (bits - 1)) as f64;
    ((f64::from(x) * full).round()).clamp(-full, full - 1.0) as i32
}

pub struct WavSpec {
    pub rate: u32,
    pub channels: u16,
    pub format: WavFormat,
    /// Use WAVE_FORMAT_EXTENSIBLE with this channel mask.
    pub channel_mask: Option<u32>,
    /// Write 0xFFFFFFFF as the RIFF and data sizes, as streaming writers do.
    pub unknown_length: bool,
    /// RIFF `LIST/INFO` entries such as `("INAM", "title")`.
    pub info: Vec<(&'static str, String)>,
}

impl WavSpec {
    pub fn new(rate: u32, channels: u16, format: WavFormat) -> Self {
        WavSpec { rate, channels, format, channel_mask: None, unknown_length: false, info: Vec::new() }
    }

    fn bits(&self) -> u16 {
        match self.format {
            WavFormat::Int16 => 16,
            WavFormat::Int24 => 24,
            WavFormat::Float32 => 32,
        }
    }

    /// The WAV header for `frames` frames.
    pub fn header(&self, frames: u64) -> Vec<u8> {
        let bits = self.bits();
        let block_align = self.channels * bits / 8;
        let data_len = frames * u64::from(block_align);
        let fmt_len: u32 = if self.channel_mask.is_some() { 40 } else { 16 };
        let list = self.info_chunk();
        let riff_len = 4 + (8 + fmt_len) + list.len() as u32 + 8 + data_len as u32;
        let (riff_len, data_len) = if self.unknown_length { (u32::MAX, u32::MAX) } else { (riff_len, data_len as u32) };
        let tag: u16 = match (self.channel_mask, self.format) {
            (Some(_), _) => 0xFFFE,
            (None, WavFormat::Float32) => 3,
            (None, _) => 1,
        };
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&riff_len.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&fmt_len.to_le_bytes());
        h.extend_from_slice(&tag.to_le_bytes());
        h.extend_from_slice(&self.channels.to_le_bytes());
        h.extend_from_slice(&self.rate.to_le_bytes());
        h.extend_from_slice(&(self.rate * u32::from(block_align)).to_le_bytes());
        h.extend_from_slice(&block_align.to_le_bytes());
        h.extend_from_slice(&bits.to_le_bytes());
        if let Some(mask) = self.channel_mask {
            h.extend_from_slice(&22u16.to_le_bytes()); // cbSize
            h.extend_from_slice(&bits.to_le_bytes()); // valid bits
            h.extend_from_slice(&mask.to_le_bytes());
            // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT GUID.
            let sub: u16 = if self.format == WavFormat::Float32 { 3 } else { 1 };
            h.extend_from_slice(&sub.to_le_bytes());
            h.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]);
        }
        h.extend_from_slice(&list);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_len.to_le_bytes());
        h
    }

    fn info_chunk(&self) -> Vec<u8> {
        if self.info.is_empty() {
            return Vec::new();
        }
        let mut body = b"INFO".to_vec();
        for (id, value) in &self.info {
            let mut text = value.as_bytes().to_vec();
            text.push(0);
            body.extend_from_slice(id.as_bytes());
            body.extend_from_slice(&(text.len() as u32).to_le_bytes());
            body.extend_from_slice(&text);
            if text.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut chunk = b"LIST".to_vec();
        chunk.extend_from_slice(&(body.len() as u32).to_le_bytes());
        chunk.extend_from_slice(&body);
        chunk
    }

    pub fn encode_samples(&self, samples: &[f32], out: &mut Vec<u8>) {
        for &x in samples {
            match self.format {
                WavFormat::Int16 => out.extend_from_slice(&(to_int(x, 16) as i16).to_le_bytes()),
                WavFormat::Int24 => out.extend_from_slice(&to_int(x, 24).to_le_bytes()[..3]),
                WavFormat::Float32 => out.extend_from_slice(&x.to_le_bytes()),
            }
        }
    }

    pub fn bytes(&self, samples: &[f32]) -> Vec<u8> {
        let frames = (samples.len() / usize::from(self.channels)) as u64;
        let mut out = self.header(frames);
        self.encode_samples(samples, &mut out);
        out
    }
}

pub fn write_wav(path: &Path, spec: &WavSpec, samples: &[f32]) {
    std::fs::write(path, spec.bytes(samples)).expect("write wav fixture");
}

/// IEEE 754 80-bit extended representation of a (positive integer) sample rate.
fn extended(rate: u32) -> [u8; 10] {
    let mut out = [0u8; 10];
    if rate == 0 {
        return out;
    }
    let shift = rate.leading_zeros();
    let mantissa = u64::from(rate) << (32 + shift);
    let exponent = 16383 + 31 - shift as u16;
    out[..2].copy_from_slice(&exponent.to_be_bytes());
    out[2..].copy_from_slice(&mantissa.to_be_bytes());
    out
}

/// 16-bit big-endian AIFF.
pub fn write_aiff(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let frames = (samples.len() / usize::from(channels)) as u32;
    let data_len = frames * u32::from(channels) * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"FORM");
    b.extend_from_slice(&(4 + 26 + 16 + data_len).to_be_bytes());
    b.extend_from_slice(b"AIFF");
    b.extend_from_slice(b"COMM");
    b.extend_from_slice(&18u32.to_be_bytes());
    b.extend_from_slice(&channels.to_be_bytes());
    b.extend_from_slice(&frames.to_be_bytes());
    b.extend_from_slice(&16u16.to_be_bytes());
    b.extend_from_slice(&extended(rate));
    b.extend_from_slice(b"SSND");
    b.extend_from_slice(&(8 + data_len).to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes()); // offset
    b.extend_from_slice(&0u32.to_be_bytes()); // block size
    for &x in samples {
        b.extend_from_slice(&(to_int(x, 16) as i16).to_be_bytes());
    }
    std::fs::write(path, b).expect("write aiff fixture");
}

/// Runs ffmpeg, failing the test with a clear message if it is missing or
/// fails or reports any error, and returns what it wrote to stdout.
pub fn ffmpeg(args: &[&str]) -> Vec<u8> {
    let exe = ["/usr/bin/ffmpeg", "ffmpeg"]
        .into_iter()
        .find(|p| Command::new(p).arg("-version").output().is_ok())
        .unwrap_or_else(|| {
            panic!("ffmpeg is required to generate compressed test fixtures but was not found; install ffmpeg")
        });
    let output =
        Command::new(exe).args(["-hide_banner", "-loglevel", "error", "-y"]).args(args).output().expect("run ffmpeg");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.trim().is_empty(), "ffmpeg {args:?} failed: {stderr}");
    output.stdout
}

/// Writes a WAV fixture and converts it with ffmpeg using `codec_args`.
pub fn encode_with_ffmpeg(
    dir: &Path,
    name: &str,
    rate: u32,
    channels: u16,
    samples: &[f32],
    codec_args: &[&str],
) -> PathBuf {
    let wav = dir.join(format!("{name}.source.wav"));
    write_wav(&wav, &WavSpec::new(rate, channels, WavFormat::Int16), samples);
    let out = dir.join(name);
    let mut args = vec!["-i", wav.to_str().expect("utf-8 path")];
    args.extend_from_slice(codec_args);
    args.push(out.to_str().expect("utf-8 path"));
    ffmpeg(&args);
    out
}

pub fn ingest_path(path: &Path, opts: &IngestOptions) -> Result<(IngestReport, Vec<u8>), IngestError> {
    let file = File::open(path).expect("open fixture");
    let ext = path.extension().and_then(|e| e.to_str());
    let mut out = Cursor::new(Vec::new());
    let report = ingest(file, ext, &mut out, opts)?;
    Ok((report, out.into_inner()))
}

pub fn ingest_ok(path: &Path) -> (IngestReport, Decoded) {
    let (report, flac) = ingest_path(path, &IngestOptions::default())
        .unwrap_or_else(|e| panic!("ingest {} failed: {e}", path.display()));
    let decoded = decode_flac(&flac);
    assert_eq!(decoded.rate, report.canonical_rate);
    assert_eq!(decoded.channels, usize::from(report.canonical_channels));
    assert_eq!(decoded.bits, report.canonical_bits);
    assert_eq!(decoded.frames() as u64, report.frames);
    (report, decoded)
}

/// A decoded FLAC file.
pub struct Decoded {
    pub rate: u32,
    pub channels: usize,
    pub bits: u32,
    /// Interleaved, in symphonia's float scale (integer / 2^(bits-1)).
    pub samples: Vec<f32>,
    pub total_samples_declared: Option<u64>,
}

impl Decoded {
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels
    }

    pub fn ints(&self) -> Vec<i32> {
        let full = (1i64 << (self.bits - 1)) as f32;
        self.samples.iter().map(|&x| (x * full) as i32).collect()
    }

    pub fn channel(&self, ch: usize) -> Vec<f32> {
        self.samples.iter().skip(ch).step_by(self.channels).copied().collect()
    }
}

/// Decodes FLAC bytes with symphonia, checking the STREAMINFO MD5.
pub fn decode_flac(bytes: &[u8]) -> Decoded {
    assert_eq!(&bytes[..4], b"fLaC", "output is not FLAC");
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("flac");
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .expect("probe output");
    let track = format.default_track(TrackType::Audio).expect("audio track");
    let track_id = track.id;
    let declared = track.num_frames;
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).expect("audio params").clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default().verify(true))
        .expect("decoder");
    let mut samples = Vec::new();
    let mut scratch: Vec<f32> = Vec::new();
    while let Some(packet) = format.next_packet().expect("read output packet") {
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet).expect("decode output packet");
        scratch.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut scratch[..]);
        samples.extend_from_slice(&scratch);
    }
    assert_eq!(decoder.finalize().verify_ok, Some(true), "FLAC MD5 does not match the audio");
    Decoded {
        rate: params.sample_rate.expect("rate"),
        channels: params.channels.as_ref().map(|c| c.count()).expect("channels"),
        bits: params.bits_per_sample.expect("bits"),
        samples,
        total_samples_declared: declared,
    }
}

/// The source quantised to 16 bits, as the 16-bit WAV given to ffmpeg holds it.
pub fn as_16_bit(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| to_int(v, 16) as f32 / 32_768.0).collect()
}

/// Largest difference between two signals of the same length.
pub fn max_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// A chirp from 100 Hz up to 3 kHz at 3 s, at half scale: it lines up with
/// itself at one lag only, so it shows how far an output is shifted.
pub fn chirp(t: f64) -> f64 {
    0.5 * (2.0 * PI * (100.0 * t + 1_450.0 / 3.0 * t * t)).sin()
}

/// Frequency of a clean tone from its rising zero crossings (interpolated).
pub fn zero_crossing_frequency(x: &[f32], rate: u32) -> f64 {
    let mut crossings = Vec::new();
    for i in 1..x.len() {
        let (a, b) = (f64::from(x[i - 1]), f64::from(x[i]));
        if a < 0.0 && b >= 0.0 {
            crossings.push((i - 1) as f64 + a / (a - b));
        }
    }
    assert!(crossings.len() > 10, "not a tone");
    let (first, last) = (crossings[0], crossings[crossings.len() - 1]);
    (crossings.len() - 1) as f64 / ((last - first) / f64::from(rate))
}

/// What sox writes to a pipe when it reads `samples` as raw 16-bit PCM from
/// stdin and writes the format `output` names (ending in `-`, stdout): it
/// cannot know the length, so the sizes in the header are placeholders.
pub fn sox_piped(samples: &[f32], rate: u32, channels: u16, output: &[&str]) -> Vec<u8> {
    let raw: Vec<u8> = samples.iter().flat_map(|&v| (to_int(v, 16) as i16).to_le_bytes()).collect();
    let (rate_arg, channels_arg) = (rate.to_string(), channels.to_string());
    let mut child = Command::new("sox")
        .args(["-t", "raw", "-r", &rate_arg, "-e", "signed", "-b", "16", "-c", &channels_arg, "-"])
        .args(output)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sox is required to make WAV files with placeholder sizes; install sox");
    let mut stdin = child.stdin.take().expect("stdin");
    // Fed from another thread so that sox's output cannot fill the pipe while we are still writing.
    let feeder = std::thread::spawn(move || stdin.write_all(&raw).expect("feed sox"));
    let out = child.wait_with_output().expect("run sox");
    feeder.join().expect("feeder");
    assert!(out.status.success(), "sox: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A 1-hour mono 8 kHz 16-bit WAV written in small blocks (about 57 MB).
pub fn write_long_wav(path: &Path, seconds: u64) {
    let rate = 8000u32;
    let spec = WavSpec::new(rate, 1, WavFormat::Int16);
    let frames = seconds * u64::from(rate);
    let mut w = BufWriter::new(File::create(path).expect("create long wav"));
    w.write_all(&spec.header(frames)).expect("write header");
    let mut block = Vec::with_capacity(2 * 8000);
    for s in 0..seconds {
        block.clear();
        for i in 0..u64::from(rate) {
            let t = (s * u64::from(rate) + i) as f64 / f64::from(rate);
            let v = 0.3 * (2.0 * PI * 220.0 * t).sin() * (1.0 + (2.0 * PI * 0.1 * t).sin()) / 2.0;
            block.extend_from_slice(&(to_int(v as f32, 16) as i16).to_le_bytes());
        }
        w.write_all(&block).expect("write block");
    }
    w.flush().expect("flush");
}

/// The canonical rate the tests ingest to (the default).
pub const TARGET: u32 = 44_100;

pub fn assert_lossless_duration(report_seconds: f64, source_frames: usize, source_rate: u32) {
    let source_seconds = source_frames as f64 / f64::from(source_rate);
    assert!(
        (report_seconds - source_seconds).abs() <= 1.0 / f64::from(TARGET),
        "duration {report_seconds} vs source {source_seconds}"
    );
}

/// Lossy codecs pad the stream to whole codec frames and add priming samples.
/// symphonia removes both when the file says how much (LAME/Xing tag for MP3,
/// edit list for MP4); the tolerance allows one full codec frame (1152
/// samples for MP3, 1024 for AAC, up to 2048 for Vorbis) at 44.1/48 kHz, i.e.
/// 50 ms.
pub const LOSSY_DURATION_TOLERANCE: f64 = 0.05;

pub fn assert_lossy_duration(report_seconds: f64, source_seconds: f64) {
    assert!(
        (report_seconds - source_seconds).abs() <= LOSSY_DURATION_TOLERANCE,
        "duration {report_seconds} vs source {source_seconds}"
    );
}

/// The tone frequency of one output channel, skipping the first and last 50 ms where codec edges live.
pub fn tone_frequency(decoded: &Decoded, ch: usize) -> f64 {
    let x = decoded.channel(ch);
    let edge = (decoded.rate / 20) as usize;
    zero_crossing_frequency(&x[edge..x.len() - edge], decoded.rate)
}

pub fn expect_unsupported(result: Result<(IngestReport, Vec<u8>), IngestError>) -> String {
    match result {
        Err(IngestError::Unsupported { what }) => what,
        Err(other) => panic!("expected Unsupported, got {other:?}"),
        Ok((r, _)) => panic!("expected Unsupported, got a report: {r:?}"),
    }
}

pub fn expect_corrupt(result: Result<(IngestReport, Vec<u8>), IngestError>) -> String {
    match result {
        Err(IngestError::Corrupt(why)) => why,
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok((r, _)) => panic!("expected Corrupt, got a report: {r:?}"),
    }
}
