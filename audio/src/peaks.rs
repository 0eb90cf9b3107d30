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

use std::fmt;

/// Version written by [`Peaks::to_dat_bytes`].
const DAT_VERSION: i32 = 2;
/// Flag bit marking 8-bit data.
const FLAG_8_BIT: u32 = 1;
const HEADER_V1_LEN: usize = 20;
const HEADER_V2_LEN: usize = 24;

/// Min/max waveform data, one `(min, max)` pair per channel per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peaks {
    /// Sample rate of the audio the peaks were computed from (Hz).
    pub sample_rate: u32,
    /// Audio frames summarised by one pixel.
    pub samples_per_pixel: u32,
    /// Number of channels; `data` interleaves them per pixel.
    pub channels: u16,
    /// Resolution of the values in `data`: 16 (range `i16`) or 8 (range `i8`,
    /// still stored widened in `i16`).
    pub bits: u8,
    /// For each pixel, for each channel: `min`, `max`.
    pub data: Vec<i16>,
}

/// Why a `.dat` buffer could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeaksError {
    /// The buffer is shorter than the header it announces.
    TooShort { needed: usize, actual: usize },
    /// The version field is neither 1 nor 2.
    UnsupportedVersion(i32),
    /// A header field is out of range.
    InvalidHeader(&'static str),
    /// The data section does not match `length × channels × 2` values.
    LengthMismatch { expected: usize, actual: usize },
}

impl fmt::Display for PeaksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { needed, actual } => {
                write!(f, "waveform data is truncated: need {needed} bytes, have {actual}")
            }
            Self::UnsupportedVersion(v) => write!(f, "unsupported waveform data version {v}"),
            Self::InvalidHeader(what) => write!(f, "invalid waveform data header: {what}"),
            Self::LengthMismatch { expected, actual } => {
                write!(f, "waveform data section is {actual} bytes but the header announces {expected}")
            }
        }
    }
}

impl std::error::Error for PeaksError {}

impl Peaks {
    /// Number of pixels (min/max pairs per channel).
    pub fn pixels(&self) -> usize {
        let per_pixel = 2 * usize::from(self.channels.max(1));
        self.data.len() / per_pixel
    }

    /// The `(min, max)` pair of `channel` at `pixel`, if both are in range.
    pub fn get(&self, pixel: usize, channel: u16) -> Option<(i16, i16)> {
        if channel >= self.channels {
            return None;
        }
        let i = (pixel * usize::from(self.channels) + usize::from(channel)) * 2;
        Some((*self.data.get(i)?, *self.data.get(i + 1)?))
    }

    /// Serialises to the audiowaveform version 2 binary format.
    ///
    /// With `bits == 8` every value is written as an `i8` (values outside that
    /// range are clamped; use [`Peaks::to_bits`] to rescale 16-bit data first).
    pub fn to_dat_bytes(&self) -> Vec<u8> {
        let eight_bit = self.bits == 8;
        let value_len = if eight_bit { 1 } else { 2 };
        let mut out = Vec::with_capacity(HEADER_V2_LEN + self.data.len() * value_len);
        out.extend_from_slice(&DAT_VERSION.to_le_bytes());
        let flags = if eight_bit { FLAG_8_BIT } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&saturating_i32(self.sample_rate).to_le_bytes());
        out.extend_from_slice(&saturating_i32(self.samples_per_pixel).to_le_bytes());
        let pixels = u32::try_from(self.pixels()).unwrap_or(u32::MAX);
        out.extend_from_slice(&pixels.to_le_bytes());
        out.extend_from_slice(&i32::from(self.channels).to_le_bytes());
        // Only whole pixels are written so the data always matches `length`.
        let values = self.pixels() * 2 * usize::from(self.channels);
        for &v in &self.data[..values] {
            if eight_bit {
                let b = v.clamp(i16::from(i8::MIN), i16::from(i8::MAX)) as i8;
                out.extend_from_slice(&b.to_le_bytes());
            } else {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Parses an audiowaveform binary file (version 1 or 2, 8- or 16-bit).
    pub fn from_dat_bytes(bytes: &[u8]) -> Result<Peaks, PeaksError> {
        let version = read_i32(bytes, 0)?;
        let header_len = match version {
            1 => HEADER_V1_LEN,
            2 => HEADER_V2_LEN,
            v => return Err(PeaksError::UnsupportedVersion(v)),
        };
        if bytes.len() < header_len {
            return Err(PeaksError::TooShort { needed: header_len, actual: bytes.len() });
        }
        let flags = read_u32(bytes, 4)?;
        let sample_rate =
            u32::try_from(read_i32(bytes, 8)?).map_err(|_| PeaksError::InvalidHeader("negative sample rate"))?;
        let samples_per_pixel = u32::try_from(read_i32(bytes, 12)?)
            .ok()
            .filter(|&n| n > 0)
            .ok_or(PeaksError::InvalidHeader("samples per pixel must be positive"))?;
        let length = read_u32(bytes, 16)?;
        let channels = if version == 1 {
            1
        } else {
            u16::try_from(read_i32(bytes, 20)?)
                .ok()
                .filter(|&c| c > 0)
                .ok_or(PeaksError::InvalidHeader("channel count out of range"))?
        };
        let eight_bit = flags & FLAG_8_BIT != 0;
        let value_len = if eight_bit { 1 } else { 2 };

        let body = &bytes[header_len..];
        let expected = (length as usize)
            .checked_mul(usize::from(channels) * 2 * value_len)
            .ok_or(PeaksError::InvalidHeader("length too large"))?;
        if body.len() != expected {
            return Err(PeaksError::LengthMismatch { expected, actual: body.len() });
        }
        let data = if eight_bit {
            body.iter().map(|&b| i16::from(b as i8)).collect()
        } else {
            body.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()
        };
        Ok(Peaks { sample_rate, samples_per_pixel, channels, bits: if eight_bit { 8 } else { 16 }, data })
    }

    /// Merges every `factor` adjacent pixels into one (min of the mins, max of
    /// the maxes), multiplying `samples_per_pixel` by `factor`. A trailing group
    /// with fewer than `factor` pixels still yields a pixel. `factor` 0 or 1
    /// returns an unchanged copy.
    pub fn coarsen(&self, factor: u32) -> Peaks {
        let factor = factor.max(1) as usize;
        let stride = 2 * usize::from(self.channels);
        if factor == 1 || stride == 0 {
            return self.clone();
        }
        let whole = &self.data[..self.pixels() * stride];
        let mut data = Vec::with_capacity(whole.len().div_ceil(factor));
        for group in whole.chunks(stride * factor) {
            for ch in 0..usize::from(self.channels) {
                let mut min = i16::MAX;
                let mut max = i16::MIN;
                for pixel in group.chunks_exact(stride) {
                    min = min.min(pixel[2 * ch]);
                    max = max.max(pixel[2 * ch + 1]);
                }
                data.push(min);
                data.push(max);
            }
        }
        Peaks { samples_per_pixel: self.samples_per_pixel.saturating_mul(factor as u32), data, ..self.clone_header() }
    }

    /// Returns the same waveform at another resolution (8 or 16 bits), scaling
    /// by 256 the way audiowaveform does. Any other `bits` value returns a copy.
    pub fn to_bits(&self, bits: u8) -> Peaks {
        let data = match (self.bits, bits) {
            (16, 8) => self.data.iter().map(|&v| v >> 8).collect(),
            (8, 16) => self.data.iter().map(|&v| v.saturating_mul(256)).collect(),
            _ => return self.clone(),
        };
        Peaks { bits, data, ..self.clone_header() }
    }

    fn clone_header(&self) -> Peaks {
        Peaks {
            sample_rate: self.sample_rate,
            samples_per_pixel: self.samples_per_pixel,
            channels: self.channels,
            bits: self.bits,
            data: Vec::new(),
        }
    }
}

fn saturating_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn field(bytes: &[u8], at: usize) -> Result<[u8; 4], PeaksError> {
    bytes
        .get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .ok_or(PeaksError::TooShort { needed: at + 4, actual: bytes.len() })
}

fn read_i32(bytes: &[u8], at: usize) -> Result<i32, PeaksError> {
    field(bytes, at).map(i32::from_le_bytes)
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, PeaksError> {
    field(bytes, at).map(u32::from_le_bytes)
}

/// Maps a float sample in `[-1, 1]` to the 16-bit peak scale.
///
/// `round(x * 32767)`, clamped to the `i16` range; NaN maps to 0.
pub fn sample_to_i16(x: f32) -> i16 {
    let v = (x * 32767.0).round();
    if v.is_nan() {
        0
    } else {
        // `as` saturates, which is the clamp we want.
        v as i16
    }
}

/// Builds [`Peaks`] incrementally from interleaved float samples.
///
/// Blocks of any length may be pushed, including ones that split a frame or a
/// pixel; only the running min/max of the current pixel and the finished pixels
/// are kept, so memory is proportional to the number of pixels.
#[derive(Debug, Clone)]
pub struct PeaksBuilder {
    sample_rate: u32,
    samples_per_pixel: u32,
    channels: u16,
    data: Vec<i16>,
    /// Running `(min, max)` of the pixel being filled, per channel.
    current: Vec<(i16, i16)>,
    /// Complete frames already folded into `current`.
    frames_in_pixel: u32,
    /// Channel index of the next sample (a block may end mid-frame).
    next_channel: usize,
}

impl PeaksBuilder {
    /// `channels` and `samples_per_pixel` are clamped to at least 1.
    pub fn new(sample_rate: u32, channels: u16, samples_per_pixel: u32) -> Self {
        let channels = channels.max(1);
        PeaksBuilder {
            sample_rate,
            samples_per_pixel: samples_per_pixel.max(1),
            channels,
            data: Vec::new(),
            current: vec![(i16::MAX, i16::MIN); usize::from(channels)],
            frames_in_pixel: 0,
            next_channel: 0,
        }
    }

    /// Feeds interleaved samples (`channels` values per frame).
    pub fn push(&mut self, samples: &[f32]) {
        let channels = usize::from(self.channels);
        for &x in samples {
            let v = sample_to_i16(x);
            let slot = &mut self.current[self.next_channel];
            slot.0 = slot.0.min(v);
            slot.1 = slot.1.max(v);
            self.next_channel += 1;
            if self.next_channel == channels {
                self.next_channel = 0;
                self.frames_in_pixel += 1;
                if self.frames_in_pixel == self.samples_per_pixel {
                    self.flush_pixel();
                }
            }
        }
    }

    /// Feeds interleaved integer samples whose full scale is `full_scale`
    /// (`2^(bits-1)`). Gives exactly what [`push`](Self::push) gives for the
    /// samples `q as f32 / full_scale`, but takes the extremes of each pixel
    /// on the integers and maps only those (the mapping is monotonic).
    pub fn push_ints(&mut self, mut samples: &[i32], full_scale: f32) {
        let channels = usize::from(self.channels);
        let map = |q: i32| sample_to_i16(q as f32 / full_scale);
        // A frame split across calls: finish it sample by sample.
        while self.next_channel != 0 && !samples.is_empty() {
            self.push_one(map(samples[0]));
            samples = &samples[1..];
        }
        while samples.len() >= channels {
            let room = (self.samples_per_pixel - self.frames_in_pixel) as usize;
            let frames = room.min(samples.len() / channels);
            let (now, rest) = samples.split_at(frames * channels);
            match channels {
                1 => self.fold_extremes(0, extremes(now.iter().copied()), map),
                2 => {
                    let (l, r) = extremes_stereo(now);
                    self.fold_extremes(0, l, map);
                    self.fold_extremes(1, r, map);
                }
                _ => {
                    for ch in 0..channels {
                        self.fold_extremes(ch, extremes(now.iter().skip(ch).step_by(channels).copied()), map);
                    }
                }
            }
            self.frames_in_pixel += frames as u32;
            if self.frames_in_pixel == self.samples_per_pixel {
                self.flush_pixel();
            }
            samples = rest;
        }
        for &q in samples {
            self.push_one(map(q));
        }
    }

    fn fold_extremes(&mut self, ch: usize, (lo, hi): (i32, i32), map: impl Fn(i32) -> i16) {
        if lo > hi {
            return;
        }
        let slot = &mut self.current[ch];
        slot.0 = slot.0.min(map(lo));
        slot.1 = slot.1.max(map(hi));
    }

    fn push_one(&mut self, v: i16) {
        let slot = &mut self.current[self.next_channel];
        slot.0 = slot.0.min(v);
        slot.1 = slot.1.max(v);
        self.next_channel += 1;
        if self.next_channel == usize::from(self.channels) {
            self.next_channel = 0;
            self.frames_in_pixel += 1;
            if self.frames_in_pixel == self.samples_per_pixel {
                self.flush_pixel();
            }
        }
    }

    fn flush_pixel(&mut self) {
        for slot in &mut self.current {
            self.data.push(slot.0);
            self.data.push(slot.1);
            *slot = (i16::MAX, i16::MIN);
        }
        self.frames_in_pixel = 0;
    }

    /// Pixels completed so far (a partial trailing pixel is not counted).
    pub fn pixels(&self) -> usize {
        self.data.len() / (2 * usize::from(self.channels))
    }

    /// Finishes the waveform, keeping a trailing partial pixel. A dangling
    /// partial frame (fewer samples than channels) counts as a frame.
    pub fn finish(mut self) -> Peaks {
        if self.next_channel > 0 {
            self.frames_in_pixel += 1;
            // Channels the partial frame never reached stay untouched; give them
            // a neutral value so the pixel is well-formed.
            for slot in &mut self.current[self.next_channel..] {
                if slot.0 > slot.1 {
                    *slot = (0, 0);
                }
            }
        }
        if self.frames_in_pixel > 0 {
            self.flush_pixel();
        }
        Peaks {
            sample_rate: self.sample_rate,
            samples_per_pixel: self.samples_per_pixel,
            channels: self.channels,
            bits: 16,
            data: self.data,
        }
    }
}

/// `(min, max)` of the values; `(i32::MAX, i32::MIN)` when there are none.
#[inline]
fn extremes(values: impl Iterator<Item = i32>) -> (i32, i32) {
    values.fold((i32::MAX, i32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Per-channel `(min, max)` of interleaved stereo frames.
#[inline]
fn extremes_stereo(frames: &[i32]) -> ((i32, i32), (i32, i32)) {
    let mut lo = [i32::MAX; 8];
    let mut hi = [i32::MIN; 8];
    let mut chunks = frames.chunks_exact(8);
    for c in &mut chunks {
        for j in 0..8 {
            lo[j] = lo[j].min(c[j]);
            hi[j] = hi[j].max(c[j]);
        }
    }
    let mut l = (lo[0].min(lo[2]).min(lo[4]).min(lo[6]), hi[0].max(hi[2]).max(hi[4]).max(hi[6]));
    let mut r = (lo[1].min(lo[3]).min(lo[5]).min(lo[7]), hi[1].max(hi[3]).max(hi[5]).max(hi[7]));
    for f in chunks.remainder().chunks_exact(2) {
        l = (l.0.min(f[0]), l.1.max(f[0]));
        r = (r.0.min(f[1]), r.1.max(f[1]));
    }
    (l, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(samples: &[f32], channels: usize, spp: usize) -> Vec<i16> {
        let frames: Vec<&[f32]> = samples.chunks(channels).collect();
        let mut out = Vec::new();
        for pixel in frames.chunks(spp) {
            for ch in 0..channels {
                let vals = pixel.iter().map(|f| sample_to_i16(f[ch]));
                out.push(vals.clone().min().unwrap_or(0));
                out.push(vals.max().unwrap_or(0));
            }
        }
        out
    }

    fn signal(len: usize) -> Vec<f32> {
        // Deterministic pseudo-random values in [-1.2, 1.2] to exercise clamping.
        let mut state = 0x2545_f491_u32;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.4 - 1.2
            })
            .collect()
    }

    #[test]
    fn builder_matches_direct_min_max_for_any_block_split() {
        for &(channels, spp, len) in &[(1usize, 7u32, 100usize), (2, 4, 203), (3, 1, 30), (2, 256, 1000)] {
            let x = signal(len * channels);
            let expected = reference(&x, channels, spp as usize);
            for block in [1usize, 2, 3, 5, 64, 10_000] {
                let mut b = PeaksBuilder::new(8000, channels as u16, spp);
                for chunk in x.chunks(block) {
                    b.push(chunk);
                }
                let p = b.finish();
                assert_eq!(p.data, expected, "channels={channels} spp={spp} block={block}");
                assert_eq!(p.pixels(), len.div_ceil(spp as usize));
                assert_eq!(p.bits, 16);
            }
        }
    }

    #[test]
    fn integer_input_matches_float_input() {
        for &(bits, channels, spp, len) in
            &[(16u32, 1usize, 7u32, 1000usize), (16, 2, 256, 3000), (24, 2, 4, 203), (24, 3, 5, 301), (16, 2, 1, 40)]
        {
            let full = (1i64 << (bits - 1)) as f32;
            let ints: Vec<i32> = signal(len * channels)
                .iter()
                .map(|&v| ((v * full).round() as i64).clamp(-(full as i64), full as i64 - 1) as i32)
                .collect();
            let floats: Vec<f32> = ints.iter().map(|&q| q as f32 / full).collect();
            let mut want = PeaksBuilder::new(8000, channels as u16, spp);
            want.push(&floats);
            let want = want.finish();
            for block in [1usize, 2, 3, 5, 64, 10_000] {
                let mut b = PeaksBuilder::new(8000, channels as u16, spp);
                for chunk in ints.chunks(block) {
                    b.push_ints(chunk, full);
                }
                assert_eq!(b.finish(), want, "bits={bits} channels={channels} spp={spp} block={block}");
            }
        }
    }

    #[test]
    fn sample_mapping_rounds_and_clamps() {
        assert_eq!(sample_to_i16(1.0), 32767);
        assert_eq!(sample_to_i16(-1.0), -32767);
        assert_eq!(sample_to_i16(2.0), 32767);
        assert_eq!(sample_to_i16(-2.0), -32768);
        assert_eq!(sample_to_i16(0.5), 16384); // 16383.5 rounds away from zero
        assert_eq!(sample_to_i16(f32::NAN), 0);
    }

    #[test]
    fn empty_builder_gives_no_pixels() {
        let p = PeaksBuilder::new(44100, 2, 256).finish();
        assert_eq!(p.pixels(), 0);
        assert!(p.data.is_empty());
    }

    #[test]
    fn dat_header_bytes_are_exact() {
        let p = Peaks {
            sample_rate: 44100,
            samples_per_pixel: 256,
            channels: 2,
            bits: 16,
            data: vec![-1, 2, -300, 400, -5, 6, -7, 8],
        };
        let bytes = p.to_dat_bytes();
        let mut expected = Vec::new();
        expected.extend_from_slice(&[2, 0, 0, 0]); // version
        expected.extend_from_slice(&[0, 0, 0, 0]); // flags: 16-bit
        expected.extend_from_slice(&[0x44, 0xac, 0, 0]); // 44100
        expected.extend_from_slice(&[0, 1, 0, 0]); // 256
        expected.extend_from_slice(&[2, 0, 0, 0]); // length: 2 pixels
        expected.extend_from_slice(&[2, 0, 0, 0]); // channels
        expected.extend_from_slice(&[0xff, 0xff, 2, 0, 0xd4, 0xfe, 0x90, 0x01]);
        expected.extend_from_slice(&[0xfb, 0xff, 6, 0, 0xf9, 0xff, 8, 0]);
        assert_eq!(bytes, expected);
        assert_eq!(Peaks::from_dat_bytes(&bytes), Ok(p));
    }

    #[test]
    fn dat_round_trips_8_bit() {
        let p = Peaks {
            sample_rate: 48000,
            samples_per_pixel: 512,
            channels: 2,
            bits: 8,
            data: vec![-65, 63, -66, 64, -40, 41, -39, 45, -55, 43, -55, 44],
        };
        let bytes = p.to_dat_bytes();
        assert_eq!(&bytes[4..8], &[1, 0, 0, 0]);
        assert_eq!(bytes.len(), 24 + 12);
        assert_eq!(Peaks::from_dat_bytes(&bytes), Ok(p));
    }

    #[test]
    fn reads_version_1() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&1i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&22050i32.to_le_bytes());
        bytes.extend_from_slice(&64i32.to_le_bytes());
        bytes.extend_from_slice(&2u32.to_le_bytes());
        for v in [-10i16, 10, -20, 20] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let p = Peaks::from_dat_bytes(&bytes).expect("valid v1");
        assert_eq!(p.channels, 1);
        assert_eq!(p.sample_rate, 22050);
        assert_eq!(p.samples_per_pixel, 64);
        assert_eq!(p.data, vec![-10, 10, -20, 20]);
        // Re-serialising upgrades to version 2.
        assert_eq!(Peaks::from_dat_bytes(&p.to_dat_bytes()), Ok(p));
    }

    #[test]
    fn rejects_malformed_dat() {
        assert!(matches!(Peaks::from_dat_bytes(&[2, 0]), Err(PeaksError::TooShort { .. })));
        let mut v3 = vec![3, 0, 0, 0];
        v3.extend_from_slice(&[0; 20]);
        assert_eq!(Peaks::from_dat_bytes(&v3), Err(PeaksError::UnsupportedVersion(3)));
        let good = Peaks { sample_rate: 8000, samples_per_pixel: 2, channels: 1, bits: 16, data: vec![1, 2, 3, 4] }
            .to_dat_bytes();
        assert!(matches!(Peaks::from_dat_bytes(&good[..good.len() - 1]), Err(PeaksError::LengthMismatch { .. })));
        let mut zero_channels = good.clone();
        zero_channels[20..24].copy_from_slice(&0i32.to_le_bytes());
        assert!(matches!(Peaks::from_dat_bytes(&zero_channels), Err(PeaksError::InvalidHeader(_))));
        let mut huge = good;
        huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Peaks::from_dat_bytes(&huge).is_err());
    }

    #[test]
    fn coarsen_merges_groups_and_keeps_tail() {
        // 5 pixels, 2 channels.
        let p = Peaks {
            sample_rate: 44100,
            samples_per_pixel: 10,
            channels: 2,
            bits: 16,
            data: vec![
                -1, 1, -10, 10, //
                -3, 2, -5, 50, //
                -2, 7, -60, 6, //
                -9, 0, 0, 0, //
                -4, 4, -8, 8,
            ],
        };
        let c = p.coarsen(2);
        assert_eq!(c.samples_per_pixel, 20);
        assert_eq!(c.pixels(), 3);
        assert_eq!(c.data, vec![-3, 2, -10, 50, -9, 7, -60, 6, -4, 4, -8, 8]);
        assert_eq!(p.coarsen(1), p);
        assert_eq!(p.coarsen(0), p);
        let all = p.coarsen(100);
        assert_eq!(all.data, vec![-9, 7, -60, 50]);
        assert_eq!(all.samples_per_pixel, 1000);
    }

    #[test]
    fn coarsen_equals_building_at_the_coarser_level() {
        let x = signal(2 * 5000);
        let fine = {
            let mut b = PeaksBuilder::new(8000, 2, 16);
            b.push(&x);
            b.finish()
        };
        let coarse = {
            let mut b = PeaksBuilder::new(8000, 2, 64);
            b.push(&x);
            b.finish()
        };
        assert_eq!(fine.coarsen(4), coarse);
    }

    #[test]
    fn bit_depth_conversion() {
        let p = Peaks { sample_rate: 8000, samples_per_pixel: 1, channels: 1, bits: 16, data: vec![-32768, 32767] };
        let eight = p.to_bits(8);
        assert_eq!(eight.data, vec![-128, 127]);
        assert_eq!(Peaks::from_dat_bytes(&eight.to_dat_bytes()), Ok(eight.clone()));
        assert_eq!(eight.to_bits(16).data, vec![-32768, 32512]);
    }
}
