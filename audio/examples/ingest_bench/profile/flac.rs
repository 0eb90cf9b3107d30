//! The FLAC writer's share of the staged pipeline.

use std::fs::File;
use std::io::Write;
use std::time::Instant;

use audio::ingest::stages::{Digest, FrameEncoder, Md5, pcm_bytes};

use super::{Stages, lap};

const BLOCK_SIZE: usize = 4096;

/// The FLAC writer's work: blocks of 4096 frames encoded with
/// `audio::ingest`'s frame encoder, MD5 of the PCM, one write per frame.
pub(super) struct Flac {
    encoder: FrameEncoder,
    channels: usize,
    bits: u32,
    block: Vec<i32>,
    pcm: Vec<u8>,
    md5: Md5,
    frame_number: u64,
}

impl Flac {
    pub(super) fn new(rate: u32, channels: usize, bits: u32) -> Result<Self, String> {
        Ok(Flac {
            encoder: FrameEncoder::new(rate, channels, bits),
            channels,
            bits,
            block: Vec::with_capacity(BLOCK_SIZE * channels),
            pcm: Vec::new(),
            md5: Md5::new(),
            frame_number: 0,
        })
    }

    pub(super) fn write(
        &mut self,
        mut samples: &[i32],
        out: &mut File,
        st: &mut Stages,
        t: &mut Instant,
    ) -> Result<(), String> {
        let full = BLOCK_SIZE * self.channels;
        while !samples.is_empty() {
            let take = (full - self.block.len()).min(samples.len());
            self.block.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.block.len() == full {
                self.encode_block(out, st, t)?;
            }
        }
        st.flac += lap(t);
        Ok(())
    }

    pub(super) fn encode_block(&mut self, out: &mut File, st: &mut Stages, t: &mut Instant) -> Result<(), String> {
        if self.block.is_empty() {
            return Ok(());
        }
        st.flac += lap(t);
        pcm_bytes(&self.block, self.bits, &mut self.pcm);
        self.md5.update(&self.pcm);
        st.md5 += lap(t);
        let frame = self.encoder.encode(&self.block, self.frame_number);
        st.flac += lap(t);
        out.write_all(frame).map_err(|e| e.to_string())?;
        st.write += lap(t);
        self.frame_number += 1;
        self.block.clear();
        Ok(())
    }
}
