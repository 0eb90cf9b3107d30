//! The stages after decoding, in the order `audio::ingest` runs them:
//! fold-down, resampling, quantisation, then FLAC, peaks and loudness.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use audio::ingest::stages::{LoudnessMeter, quantise};
use audio::peaks::PeaksBuilder;

use super::flac::Flac;
use super::resample::Rs;
use super::{SAMPLES_PER_PIXEL, Stages, TARGET_RATE, lap};

pub(super) struct Pipeline {
    in_channels: usize,
    /// Fold-down weights `(left, right)` per source channel, used
    /// when there are more than two.
    weights: Vec<(f32, f32)>,
    mixed: Vec<f32>,
    resampler: Option<Rs>,
    resampled: Vec<f32>,
    scale: f32,
    ints: Vec<i32>,
    flac: Flac,
    peaks: PeaksBuilder,
    meter: LoudnessMeter,
}

impl Pipeline {
    pub(super) fn new(rate: u32, in_channels: usize, bits: u32) -> Result<Self, String> {
        let channels = in_channels.min(2);
        let resampler = if rate == TARGET_RATE { None } else { Some(Rs::new(rate, TARGET_RATE, channels)?) };
        let full = 1i32 << (bits - 1);
        // Not the real ITU matrix, but the same amount of work.
        let weights = (0..in_channels).map(|i| if i % 2 == 0 { (0.5, 0.0) } else { (0.0, 0.5) }).collect();
        Ok(Pipeline {
            in_channels,
            weights,
            mixed: Vec::new(),
            resampler,
            resampled: Vec::new(),
            scale: full as f32,
            ints: Vec::new(),
            flac: Flac::new(TARGET_RATE, channels, bits)?,
            peaks: PeaksBuilder::new(TARGET_RATE, channels as u16, SAMPLES_PER_PIXEL),
            meter: LoudnessMeter::new(channels, TARGET_RATE, f64::from(full)),
        })
    }

    pub(super) fn push(
        &mut self,
        decoded: &[f32],
        out: &mut File,
        st: &mut Stages,
        t: &mut Instant,
    ) -> Result<(), String> {
        let folded = self.in_channels > 2;
        if folded {
            self.mixed.clear();
            for frame in decoded.chunks_exact(self.in_channels) {
                let (mut l, mut r) = (0.0f32, 0.0f32);
                for (&x, &(wl, wr)) in frame.iter().zip(&self.weights) {
                    l += x * wl;
                    r += x * wr;
                }
                self.mixed.push(l);
                self.mixed.push(r);
            }
        }
        st.mix += lap(t);
        let mixed = std::mem::take(&mut self.mixed);
        let input: &[f32] = if folded { &mixed } else { decoded };
        let result = match self.resampler.as_mut() {
            Some(rs) => {
                self.resampled.clear();
                rs.push(input, &mut self.resampled)?;
                st.resample += lap(t);
                let resampled = std::mem::take(&mut self.resampled);
                let r = self.sink(&resampled, out, st, t);
                self.resampled = resampled;
                r
            }
            None => self.sink(input, out, st, t),
        };
        self.mixed = mixed;
        result
    }

    fn sink(&mut self, samples: &[f32], out: &mut File, st: &mut Stages, t: &mut Instant) -> Result<(), String> {
        if samples.is_empty() {
            return Ok(());
        }
        quantise(samples, self.scale, &mut self.ints);
        st.quantise += lap(t);
        self.flac.write(&self.ints, out, st, t)?;
        self.peaks.push_ints(&self.ints, self.scale);
        st.peaks += lap(t);
        self.meter.add(&self.ints);
        st.loudness += lap(t);
        Ok(())
    }

    pub(super) fn finish(
        mut self,
        out: &mut File,
        out_path: &Path,
        st: &mut Stages,
        t: &mut Instant,
    ) -> Result<(), String> {
        if let Some(rs) = &mut self.resampler {
            self.resampled.clear();
            rs.finish(&mut self.resampled)?;
            st.resample += lap(t);
            let resampled = std::mem::take(&mut self.resampled);
            self.sink(&resampled, out, st, t)?;
        }
        self.flac.encode_block(out, st, t)?;
        out.flush().map_err(|e| e.to_string())?;
        let _ = self.meter.integrated();
        st.loudness += lap(t);
        let dat = self.peaks.finish().to_dat_bytes();
        st.peaks += lap(t);
        std::fs::write(out_path.with_extension("peaks.dat"), dat).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(out_path.with_extension("peaks.dat"));
        st.write += lap(t);
        Ok(())
    }
}
