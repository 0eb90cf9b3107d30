//! Seeds: one small valid file per container, made at test time.

use crate::checksums::{Checksums, flac_frames};
use crate::common::*;
use crate::mutate::Field;

pub(crate) struct Seed {
    pub(crate) name: &'static str,
    pub(crate) ext: &'static str,
    pub(crate) bytes: Vec<u8>,
    pub(crate) fields: Vec<Field>,
    pub(crate) checksums: Checksums,
    pub(crate) frames: Vec<usize>,
}

impl Seed {
    pub(crate) fn new(name: &'static str, ext: &'static str, bytes: Vec<u8>, fields: fn(&[u8]) -> Vec<Field>) -> Self {
        let fields = fields(&bytes);
        let (checksums, frames) = match ext {
            "ogg" => (Checksums::Ogg, Vec::new()),
            "flac" => (Checksums::Flac, flac_frames(&bytes)),
            _ => (Checksums::None, Vec::new()),
        };
        Seed { name, ext, bytes, fields, checksums, frames }
    }
}

/// A short stereo tone with a little noise, so lossy encoders have something to code.
fn signal(rate: u32, channels: u16, seconds: f64) -> Vec<f32> {
    let mut x = sine(rate, usize::from(channels), seconds, 440.0, 0.4);
    let n = noise(x.len(), 0.05, 3);
    for (s, n) in x.iter_mut().zip(n) {
        *s += n;
    }
    x
}

/// Converts a 16-bit WAV of the signal with ffmpeg and returns the bytes.
pub(crate) fn ffmpeg_seed(rate: u32, channels: u16, seconds: f64, out_ext: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = encode_with_ffmpeg(
        dir.path(),
        &format!("seed.{out_ext}"),
        rate,
        channels,
        &signal(rate, channels, seconds),
        args,
    );
    std::fs::read(path).expect("read the seed")
}

/// A WAV written by sox to a pipe: placeholder sizes (0x7ffff000, rounded to
/// whole frames) and, at 24 bits, a `fact` chunk with a placeholder too.
pub(crate) fn sox_piped_wav(rate: u32, channels: u16, seconds: f64) -> Vec<u8> {
    sox_piped(&signal(rate, channels, seconds), rate, channels, &["-t", "wav", "-b", "24", "-"])
}

pub(crate) fn wav_seed(rate: u32, channels: u16, format: WavFormat, mask: Option<u32>, seconds: f64) -> Vec<u8> {
    let spec = WavSpec {
        channel_mask: mask,
        info: vec![("INAM", "Seed title".into()), ("IART", "Seed artist".into())],
        ..WavSpec::new(rate, channels, format)
    };
    spec.bytes(&signal(rate, channels, seconds))
}

pub(crate) fn aiff_seed(rate: u32, channels: u16, seconds: f64) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed.aiff");
    write_aiff(&path, rate, channels, &signal(rate, channels, seconds));
    std::fs::read(path).expect("read the seed")
}

const TAGS: [&str; 4] = ["-metadata", "title=Seed title", "-metadata", "artist=Seed artist"];

pub(crate) fn with_tags<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [args, &TAGS[..]].concat()
}
