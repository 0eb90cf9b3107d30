//! The [`Peaks`] value itself and what can be done to it in memory: look up
//! a pixel, zoom out, change resolution.

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
