//! Everything after the decoder: fold-down, resampling, quantisation, and the FLAC writer,
//! peaks builder and loudness meter fed from the quantised signal.

use std::io::{Seek, Write};

use symphonia::core::audio::Channels;

use super::flac::FlacWriter;
use super::meter::LoudnessMeter;
use super::mix::Mixer;
use super::resample::StreamResampler;
use super::{IngestError, IngestOptions};
use crate::peaks::{Peaks, PeaksBuilder};

/// Everything downstream of the decoder.
pub(super) struct Pipeline<'w, W: Write + Seek> {
    pub(super) original_rate: u32,
    pub(super) original_channels: usize,
    mixer: Mixer,
    mixed: Vec<f32>,
    resampler: Option<StreamResampler>,
    sink: Sink<'w, W>,
}

pub(super) struct Finished {
    pub(super) frames: u64,
    pub(super) channels: u16,
    pub(super) integrated_lufs: Option<f64>,
    pub(super) peaks: Peaks,
}

impl<'w, W: Write + Seek> Pipeline<'w, W> {
    pub(super) fn new(
        out: &'w mut W,
        rate: u32,
        layout: &Channels,
        bits: u32,
        opts: &IngestOptions,
    ) -> Result<Self, IngestError> {
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

    pub(super) fn push(&mut self, decoded: &[f32]) -> Result<(), IngestError> {
        let mixed = self.mixer.mix(decoded, &mut self.mixed);
        let sink = &mut self.sink;
        match &mut self.resampler {
            Some(rs) => rs.push(mixed, &mut |s: &[f32]| sink.write(s)),
            None => sink.write(mixed),
        }
    }

    pub(super) fn finish(self) -> Result<Finished, IngestError> {
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
pub(super) fn tame(samples: &mut [f32]) {
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
