//! The resampler's share of the staged pipeline.

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// rubato's synchronous FFT resampler driven as in `audio::ingest`:
/// planar chunks of `stages::chunk_frames` input frames, output
/// interleaved again.
pub(super) struct Rs {
    inner: Fft<f32>,
    channels: usize,
    chunk_in: usize,
    input: Vec<f32>,
    filled: usize,
    output: Vec<f32>,
    output_frames: usize,
}

impl Rs {
    pub(super) fn new(rate_in: u32, rate_out: u32, channels: usize) -> Result<Self, String> {
        let inner = Fft::<f32>::new(
            rate_in as usize,
            rate_out as usize,
            audio::ingest::stages::chunk_frames(rate_in, rate_out),
            channels,
            FixedSync::Both,
        )
        .map_err(|e| e.to_string())?;
        let chunk_in = inner.input_frames_next();
        let output_frames = inner.output_frames_max();
        Ok(Rs {
            inner,
            channels,
            chunk_in,
            input: vec![0.0; chunk_in * channels],
            filled: 0,
            output: vec![0.0; output_frames * channels],
            output_frames,
        })
    }

    pub(super) fn push(&mut self, mut samples: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        let channels = self.channels;
        while !samples.is_empty() {
            let take = (self.chunk_in - self.filled).min(samples.len() / channels);
            let (now, rest) = samples.split_at(take * channels);
            if channels == 1 {
                self.input[self.filled..self.filled + take].copy_from_slice(now);
            } else {
                for (i, frame) in now.chunks_exact(channels).enumerate() {
                    for (ch, &x) in frame.iter().enumerate() {
                        self.input[ch * self.chunk_in + self.filled + i] = x;
                    }
                }
            }
            self.filled += take;
            samples = rest;
            if self.filled == self.chunk_in {
                self.run(None, out)?;
                self.filled = 0;
            }
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
        // The partial chunk, then one chunk of zeros for the delay line.
        self.run(Some(self.filled), out)?;
        self.run(Some(0), out)
    }

    fn run(&mut self, partial_len: Option<usize>, out: &mut Vec<f32>) -> Result<(), String> {
        let input = SequentialSlice::new(&self.input[..], self.channels, self.chunk_in).map_err(|e| e.to_string())?;
        let mut output = SequentialSlice::new_mut(&mut self.output[..], self.channels, self.output_frames)
            .map_err(|e| e.to_string())?;
        let indexing = Indexing { partial_len, ..Indexing::default() };
        let (_, produced) =
            self.inner.process_into_buffer(&input, &mut output, Some(&indexing)).map_err(|e| e.to_string())?;
        if self.channels == 1 {
            out.extend_from_slice(&self.output[..produced]);
        } else {
            for frame in 0..produced {
                for ch in 0..self.channels {
                    out.push(self.output[ch * self.output_frames + frame]);
                }
            }
        }
        Ok(())
    }
}
