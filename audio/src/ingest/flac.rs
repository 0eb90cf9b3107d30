//! Incremental FLAC writer on top of flacenc's frame encoder.
//!
//! flacenc's high-level entry point encodes a whole in-memory signal; here
//! frames are encoded one block at a time and written out immediately, so
//! memory stays at one block whatever the stream length. The STREAMINFO block
//! is written first as a placeholder and rewritten at the end, once the total
//! sample count, the frame-size range and the MD5 of the PCM are known.

use std::io::{self, Seek, SeekFrom, Write};

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, StreamInfo};
use flacenc::config;
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};

/// Frames per FLAC block: the reference encoder's default, a good balance of
/// compression and seek granularity.
const BLOCK_SIZE: usize = 4096;
/// `"fLaC"` + metadata block header (last-block flag, type 0 STREAMINFO, 34 bytes).
const HEADER: [u8; 8] = [b'f', b'L', b'a', b'C', 0x80, 0, 0, 34];

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

pub(crate) struct FlacWriter<'w, W: Write + Seek> {
    out: &'w mut W,
    /// Position of `"fLaC"` in `out`, so the writer works at any offset.
    start: u64,
    info: StreamInfo,
    config: Verified<config::Encoder>,
    channels: usize,
    /// Interleaved samples of the block being filled.
    block: Vec<i32>,
    framebuf: FrameBuf,
    /// Accumulates the MD5 of the PCM the way the FLAC format defines it.
    md5: Context,
    sink: ByteSink,
    frame_number: usize,
    min_frame: usize,
    max_frame: usize,
}

impl<'w, W: Write + Seek> FlacWriter<'w, W> {
    pub(crate) fn new(out: &'w mut W, rate: u32, channels: usize, bits: u32) -> io::Result<Self> {
        let info = StreamInfo::new(rate as usize, channels, bits as usize).map_err(other)?;
        let config = config::Encoder::default().into_verified().map_err(|(_, e)| other(e))?;
        let framebuf = FrameBuf::with_size(channels, BLOCK_SIZE).map_err(other)?;
        let start = out.stream_position()?;
        let mut writer = FlacWriter {
            out,
            start,
            info,
            config,
            channels,
            block: Vec::with_capacity(BLOCK_SIZE * channels),
            framebuf,
            md5: Context::new(bits as usize, channels),
            sink: ByteSink::new(),
            frame_number: 0,
            min_frame: usize::MAX,
            max_frame: 0,
        };
        writer.out.write_all(&HEADER)?;
        writer.write_stream_info()?;
        Ok(writer)
    }

    /// Appends interleaved samples, already in range for the bit depth.
    pub(crate) fn write(&mut self, mut samples: &[i32]) -> io::Result<()> {
        let full = BLOCK_SIZE * self.channels;
        while !samples.is_empty() {
            let take = (full - self.block.len()).min(samples.len());
            self.block.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.block.len() == full {
                self.encode_block()?;
            }
        }
        Ok(())
    }

    fn encode_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.framebuf.fill_interleaved(&self.block).map_err(other)?;
        self.md5.fill_interleaved(&self.block).map_err(other)?;
        let frame = flacenc::encode_fixed_size_frame(&self.config, &self.framebuf, self.frame_number, &self.info)
            .map_err(other)?;
        self.sink.clear();
        frame.write(&mut self.sink).map_err(other)?;
        self.out.write_all(self.sink.as_slice())?;
        let len = self.sink.as_slice().len();
        self.min_frame = self.min_frame.min(len);
        self.max_frame = self.max_frame.max(len);
        self.info.set_total_samples(self.info.total_samples() + self.block.len() / self.channels);
        self.frame_number += 1;
        self.block.clear();
        Ok(())
    }

    fn write_stream_info(&mut self) -> io::Result<()> {
        self.sink.clear();
        self.info.write(&mut self.sink).map_err(other)?;
        self.out.write_all(self.sink.as_slice())
    }

    /// Encodes the final (possibly short) block and rewrites STREAMINFO.
    /// Returns the number of frames (samples per channel) written.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        self.encode_block()?;
        // Fixed-blocksize stream: min and max block size are both the nominal
        // size; the format exempts the last, shorter block from the minimum.
        self.info.set_block_sizes(BLOCK_SIZE, BLOCK_SIZE).map_err(other)?;
        if self.frame_number > 0 {
            self.info.set_frame_sizes(self.min_frame, self.max_frame).map_err(other)?;
        } else {
            self.info.set_frame_sizes(0, 0).map_err(other)?;
        }
        self.info.set_md5_digest(&self.md5.md5_digest());
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(self.start + HEADER.len() as u64))?;
        self.write_stream_info()?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.info.total_samples() as u64)
    }
}
