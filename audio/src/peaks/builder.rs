//! Incremental computation of [`Peaks`] from decoded samples, as the ingest
//! pipeline produces them block by block.

use super::Peaks;

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
