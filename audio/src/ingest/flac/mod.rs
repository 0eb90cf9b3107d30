//! Streaming FLAC encoder.
//!
//! Frames are encoded one block at a time and written out immediately, so
//! memory stays at one block whatever the stream length. The STREAMINFO block
//! is written first as a placeholder and rewritten at the end, once the total
//! sample count, the frame-size range and the MD5 of the PCM are known.
//!
//! The encoder makes the choices of the reference encoder's default level
//! (`flac -5`) and of ffmpeg's default level 5, with cheap estimates instead
//! of exhaustive searches:
//!
//! * blocks of 4096 frames;
//! * stereo decorrelation: left/right, left/side, right/side or mid/side,
//!   chosen per block from the sizes of second-order fixed-predictor
//!   residuals (as ffmpeg does), so only two channels are encoded per block;
//! * per channel: a constant subframe when the block is constant, otherwise
//!   the smaller (by estimated size) of the best fixed predictor (orders 0–4,
//!   by residual magnitude) and a quantised LPC predictor of order up to 8
//!   (Tukey(0.5)-windowed autocorrelation, Levinson–Durbin, the order chosen
//!   from the prediction errors as the reference encoder does, 12-bit
//!   coefficients for 16-bit audio and 15-bit for 24-bit), and verbatim if
//!   neither saves anything;
//! * residuals in partitioned Rice code, partition order 0–8 and the Rice
//!   parameters chosen from partition sums.
//!
//! The hot loops are written so the compiler can vectorise them, and compiled
//! twice: for the baseline target and, chosen at run time, for CPUs with AVX2.

use std::io::{self, Seek, SeekFrom, Write};

use md5::{Digest, Md5};

mod bits;
mod frame;
mod lpc;

use bits::BitWriter;
pub use frame::FrameEncoder;

/// Frames per FLAC block: the reference encoder's default, a good balance of
/// compression and seek granularity.
const BLOCK_SIZE: usize = 4096;
/// `"fLaC"` + metadata block header (last-block flag, type 0 STREAMINFO, 34 bytes).
const HEADER: [u8; 8] = [b'f', b'L', b'a', b'C', 0x80, 0, 0, 34];
/// Highest LPC order tried (as `flac -5` and ffmpeg's level 5).
const MAX_LPC_ORDER: usize = 8;
/// Highest Rice partition order tried (ffmpeg's level 5).
const MAX_PARTITION_ORDER: u32 = 8;
const MAX_PARTITIONS: usize = 1 << MAX_PARTITION_ORDER;
/// Largest residual magnitude accepted from a predictor; keeps the folded
/// residual within 31 bits (what decoders support).
const MAX_RESIDUAL: i64 = 1 << 30;

pub(crate) struct FlacWriter<'w, W: Write + Seek> {
    out: &'w mut W,
    /// Position of `"fLaC"` in `out`, so the writer works at any offset.
    start: u64,
    rate: u32,
    channels: usize,
    bits: u32,
    /// Interleaved samples of the block being filled.
    block: Vec<i32>,
    encoder: FrameEncoder,
    /// The PCM of a block as the MD5 sees it (little-endian, interleaved).
    pcm: Vec<u8>,
    md5: Md5,
    frame_number: u64,
    total_frames: u64,
    min_frame: usize,
    max_frame: usize,
}

impl<'w, W: Write + Seek> FlacWriter<'w, W> {
    pub(crate) fn new(out: &'w mut W, rate: u32, channels: usize, bits: u32) -> io::Result<Self> {
        if !(1..=8).contains(&channels) || !(4..=24).contains(&bits) || !(1..(1 << 20)).contains(&rate) {
            return Err(io::Error::other(format!(
                "FLAC cannot store {channels} channels of {bits}-bit audio at {rate} Hz"
            )));
        }
        let start = out.stream_position()?;
        let writer = FlacWriter {
            out,
            start,
            rate,
            channels,
            bits,
            block: Vec::with_capacity(BLOCK_SIZE * channels),
            encoder: FrameEncoder::new(rate, channels, bits),
            pcm: Vec::with_capacity(BLOCK_SIZE * channels * 4),
            md5: Md5::new(),
            frame_number: 0,
            total_frames: 0,
            min_frame: usize::MAX,
            max_frame: 0,
        };
        writer.out.write_all(&HEADER)?;
        let info = writer.stream_info();
        writer.out.write_all(&info)?;
        Ok(writer)
    }

    /// Appends interleaved samples, already in range for the bit depth.
    pub(crate) fn write(&mut self, mut samples: &[i32]) -> io::Result<()> {
        let full = BLOCK_SIZE * self.channels;
        while !samples.is_empty() {
            if self.block.is_empty() && samples.len() >= full {
                // Whole blocks straight from the caller's buffer.
                let (now, rest) = samples.split_at(full);
                self.encode_block(now)?;
                samples = rest;
                continue;
            }
            let take = (full - self.block.len()).min(samples.len());
            self.block.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.block.len() == full {
                let block = std::mem::take(&mut self.block);
                let result = self.encode_block(&block);
                self.block = block;
                self.block.clear();
                result?;
            }
        }
        Ok(())
    }

    fn encode_block(&mut self, block: &[i32]) -> io::Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        pcm_bytes(block, self.bits, &mut self.pcm);
        self.md5.update(&self.pcm);
        let frame = self.encoder.encode(block, self.frame_number);
        self.out.write_all(frame)?;
        self.min_frame = self.min_frame.min(frame.len());
        self.max_frame = self.max_frame.max(frame.len());
        self.total_frames += (block.len() / self.channels) as u64;
        self.frame_number += 1;
        Ok(())
    }

    /// The 34-byte STREAMINFO body for what has been written so far.
    fn stream_info(&self) -> [u8; 34] {
        let mut w = BitWriter::with_capacity(34);
        // Fixed-blocksize stream: min and max block size are both the nominal
        // size; the format exempts the last, shorter block from the minimum.
        w.put(BLOCK_SIZE as u32, 16);
        w.put(BLOCK_SIZE as u32, 16);
        let (min, max) = if self.frame_number > 0 { (self.min_frame, self.max_frame) } else { (0, 0) };
        w.put(min.min(0xFF_FFFF) as u32, 24);
        w.put(max.min(0xFF_FFFF) as u32, 24);
        w.put(self.rate, 20);
        w.put(self.channels as u32 - 1, 3);
        w.put(self.bits - 1, 5);
        let total = self.total_frames.min((1 << 36) - 1);
        w.put((total >> 32) as u32, 4);
        w.put(total as u32, 32);
        w.put(0, 32); // MD5, patched in by `finish`
        w.put(0, 32);
        w.put(0, 32);
        w.put(0, 32);
        let bytes = w.finish();
        let mut info = [0u8; 34];
        info.copy_from_slice(bytes);
        info
    }

    /// Encodes the final (possibly short) block and rewrites STREAMINFO.
    /// Returns the number of frames (samples per channel) written.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        let block = std::mem::take(&mut self.block);
        self.encode_block(&block)?;
        let mut info = self.stream_info();
        info[18..].copy_from_slice(&self.md5.clone().finalize());
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(self.start + HEADER.len() as u64))?;
        self.out.write_all(&info)?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.total_frames)
    }
}

/// The samples as FLAC's MD5 sees them: little-endian, `bits / 8` bytes each
/// (rounded up), interleaved.
pub fn pcm_bytes(block: &[i32], bits: u32, out: &mut Vec<u8>) {
    out.clear();
    match bits.div_ceil(8) {
        1 => out.extend(block.iter().map(|&s| s as u8)),
        2 => {
            out.resize(block.len() * 2, 0);
            for (o, &s) in out.chunks_exact_mut(2).zip(block) {
                o.copy_from_slice(&(s as i16).to_le_bytes());
            }
        }
        3 => {
            out.resize(block.len() * 3, 0);
            for (o, &s) in out.chunks_exact_mut(3).zip(block) {
                o.copy_from_slice(&s.to_le_bytes()[..3]);
            }
        }
        _ => {
            out.resize(block.len() * 4, 0);
            for (o, &s) in out.chunks_exact_mut(4).zip(block) {
                o.copy_from_slice(&s.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    fn encode(samples: &[i32], channels: usize, bits: u32, rate: u32, chunk: usize) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = FlacWriter::new(&mut out, rate, channels, bits).expect("writer");
        for part in samples.chunks(chunk) {
            w.write(part).expect("write");
        }
        assert_eq!(w.finish().expect("finish") as usize, samples.len() / channels);
        out.into_inner()
    }

    /// Decodes with symphonia (checking the MD5); samples as integers.
    fn decode(bytes: &[u8]) -> (Vec<i32>, u32, usize) {
        let (samples, bits, channels, md5_ok) = decode_unverified(bytes);
        assert!(md5_ok, "MD5 mismatch");
        (samples, bits, channels)
    }

    fn decode_unverified(bytes: &[u8]) -> (Vec<i32>, u32, usize, bool) {
        let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
        let mut hint = Hint::new();
        hint.with_extension("flac");
        let mut format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .expect("probe");
        let track = format.default_track(TrackType::Audio).expect("track");
        let params = track.codec_params.as_ref().and_then(|p| p.audio()).expect("audio").clone();
        let mut decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default().verify(true))
            .expect("decoder");
        let mut out = Vec::new();
        while let Some(packet) = format.next_packet().expect("packet") {
            let buf = decoder.decode(&packet).expect("decode");
            let mut ints = vec![0i32; buf.samples_interleaved()];
            buf.copy_to_slice_interleaved(&mut ints[..]);
            out.extend_from_slice(&ints);
        }
        let md5_ok = decoder.finalize().verify_ok == Some(true);
        let bits = params.bits_per_sample.expect("bits");
        // symphonia scales integer samples to 32 bits.
        let out = out.into_iter().map(|v| v >> (32 - bits)).collect();
        (out, bits, params.channels.expect("channels").count(), md5_ok)
    }

    fn noise(len: usize, amp: i32, seed: u32) -> Vec<i32> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (i64::from(state) * (2 * i64::from(amp) + 1) / (1i64 << 32)) as i32 - amp
            })
            .collect()
    }

    fn signals(bits: u32, channels: usize, frames: usize) -> Vec<(&'static str, Vec<i32>)> {
        let full = (1i64 << (bits - 1)) as f64;
        let max = (1i32 << (bits - 1)) - 1;
        let min = -(1i32 << (bits - 1));
        let tone: Vec<i32> = (0..frames * channels)
            .map(|i| {
                let t = (i / channels) as f64 / 44_100.0;
                let ch = (i % channels) as f64;
                (0.6 * full * (2.0 * std::f64::consts::PI * (440.0 + 110.0 * ch) * t).sin()).round() as i32
            })
            .collect();
        let noisy_tone: Vec<i32> =
            tone.iter().zip(noise(tone.len(), max / 64, 9)).map(|(&a, b)| (a + b).clamp(min, max)).collect();
        let extremes: Vec<i32> =
            (0..frames * channels).map(|i| if (i / channels / 3).is_multiple_of(2) { max } else { min }).collect();
        let mut silence_then_noise = vec![0; frames * channels / 2];
        silence_then_noise.extend(noise(frames * channels - silence_then_noise.len(), max, 3));
        vec![
            ("tone", tone),
            ("noisy tone", noisy_tone),
            ("full-scale noise", noise(frames * channels, max, 7)),
            ("extremes", extremes),
            ("silence then noise", silence_then_noise),
            ("constant", vec![min; frames * channels]),
        ]
    }

    #[test]
    fn round_trips_through_symphonia() {
        for &(bits, channels) in &[(16u32, 1usize), (16, 2), (24, 1), (24, 2), (16, 6)] {
            for &frames in &[1usize, 5, 17, 4095, 4096, 4097, 3 * 4096 + 1000] {
                for (name, x) in signals(bits, channels, frames) {
                    for chunk in [frames * channels, 999 * channels] {
                        let bytes = encode(&x, channels, bits, 44_100, chunk.max(channels));
                        let (y, b, c, md5_ok) = decode_unverified(&bytes);
                        assert_eq!((b, c), (bits, channels));
                        if y != x {
                            let at = y.iter().zip(&x).position(|(a, b)| a != b);
                            panic!(
                                "{name}: {bits}-bit × {channels}, {frames} frames, chunk {chunk}: {} vs {} samples, first difference at {at:?}",
                                y.len(),
                                x.len()
                            );
                        }
                        assert!(md5_ok, "{name}: MD5 mismatch");
                    }
                }
            }
        }
    }

    #[test]
    fn other_rates_and_a_prefix() {
        for rate in [8_000u32, 22_050, 44_100, 48_000, 11_025, 192_000, 384_000] {
            let x = noise(10_000, 3000, rate);
            let mut out = Cursor::new(b"xyz".to_vec());
            out.set_position(3);
            let mut w = FlacWriter::new(&mut out, rate, 2, 16).expect("writer");
            w.write(&x).expect("write");
            w.finish().expect("finish");
            let bytes = out.into_inner();
            assert_eq!(&bytes[..3], b"xyz");
            assert_eq!(decode(&bytes[3..]).0, x, "{rate} Hz");
        }
    }
}
