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

// ---------------------------------------------------------------------------
// Bit output and checksums
// ---------------------------------------------------------------------------

/// MSB-first bit writer.
struct BitWriter {
    /// Output bytes are `buf[..pos]`; the rest is zeroed room to write into,
    /// so the hot loops write without growing the vector.
    buf: Vec<u8>,
    pos: usize,
    /// Pending bits in the low `used` bits (higher bits are stale).
    acc: u64,
    used: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> Self {
        BitWriter { buf: vec![0; bytes.max(64)], pos: 0, acc: 0, used: 0 }
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.acc = 0;
        self.used = 0;
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Makes room for at least `bytes` more bytes after `pos`.
    #[inline(always)]
    fn room(&mut self, bytes: usize) {
        if self.pos + bytes > self.buf.len() {
            self.grow(bytes);
        }
    }

    #[cold]
    fn grow(&mut self, bytes: usize) {
        let len = (self.pos + bytes).max(2 * self.buf.len());
        self.buf.resize(len, 0);
    }

    #[inline(always)]
    fn emit_word(&mut self) {
        self.used -= 32;
        let word = ((self.acc >> self.used) as u32).to_be_bytes();
        self.room(4);
        self.buf[self.pos..self.pos + 4].copy_from_slice(&word);
        self.pos += 4;
    }

    /// Appends the low `n` bits of `v` (`n <= 32`, `v < 2^n`).
    #[inline(always)]
    fn put(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        self.acc = (self.acc << n) | u64::from(v);
        self.used += n;
        if self.used >= 32 {
            self.emit_word();
        }
    }

    /// Appends `v` as an `n`-bit two's complement number.
    #[inline(always)]
    fn put_signed(&mut self, v: i32, n: u32) {
        let mask = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        self.put(v as u32 & mask, n);
    }

    /// Appends `u` in Rice code with parameter `k` (`k <= 30`).
    fn put_rice(&mut self, u: u32, k: u32) {
        let q = u >> k;
        let low = (u & ((1u32 << k) - 1)) | (1u32 << k);
        if q + k < 32 {
            self.put(low, q + 1 + k);
        } else {
            let mut zeros = q;
            while zeros >= 32 {
                self.put(0, 32);
                zeros -= 32;
            }
            self.put(0, zeros);
            self.put(low, k + 1);
        }
    }

    /// Appends every value of `values` in Rice code with parameter `k`
    /// (`k <= 30`): the hot loop of the encoder, with the writer's state and
    /// the output pointer in registers, room for the whole run reserved up
    /// front.
    #[inline(always)]
    fn put_rice_run(&mut self, values: &[u32], k: u32) {
        let mask = (1u32 << k) - 1;
        let top = 1u32 << k;
        let mut rest = values;
        while !rest.is_empty() {
            // Each short code adds at most 32 bits, so at most one word.
            self.room(4 * rest.len());
            let (mut acc, mut used, mut pos) = (self.acc, self.used, self.pos);
            let end = self.buf.len();
            let out = self.buf.as_mut_ptr();
            let mut done = 0;
            for &u in rest {
                let q = u >> k;
                if q + k >= 32 {
                    break;
                }
                let n = q + 1 + k;
                acc = (acc << n) | u64::from((u & mask) | top);
                used += n;
                if used >= 32 {
                    used -= 32;
                    debug_assert!(pos + 4 <= end);
                    // SAFETY: `room` reserved 4 bytes per value from `pos`,
                    // and at most 4 bytes are written per value.
                    unsafe { out.add(pos).cast::<[u8; 4]>().write_unaligned(((acc >> used) as u32).to_be_bytes()) };
                    pos += 4;
                }
                done += 1;
            }
            (self.acc, self.used, self.pos) = (acc, used, pos);
            // A long code (rare) goes through the general path.
            if let Some(&u) = rest.get(done) {
                self.put_rice(u, k);
                done += 1;
            }
            rest = &rest[done..];
        }
    }

    /// Pads with zero bits to a byte boundary and moves every pending byte
    /// to the output.
    fn align(&mut self) {
        let pad = (8 - self.used % 8) % 8;
        self.put(0, pad);
        self.room(8);
        while self.used >= 8 {
            self.used -= 8;
            self.buf[self.pos] = (self.acc >> self.used) as u8;
            self.pos += 1;
        }
    }

    fn finish(&mut self) -> &[u8] {
        self.align();
        self.bytes()
    }
}

const fn crc8_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 };
            b += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-16 (polynomial 0x8005, MSB first) tables for slicing by 8:
/// `T[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut t = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x8000 != 0 { (c << 1) ^ 0x8005 } else { c << 1 };
            b += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static CRC8: [u8; 256] = crc8_table();
static CRC16: [[u16; 256]; 8] = crc16_tables();

fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |c, &b| CRC8[usize::from(c ^ b)])
}

fn crc16(bytes: &[u8]) -> u16 {
    let t = &CRC16;
    let mut c = 0u16;
    let mut chunks = bytes.chunks_exact(8);
    for b in &mut chunks {
        c = t[7][usize::from((c >> 8) as u8 ^ b[0])]
            ^ t[6][usize::from(c as u8 ^ b[1])]
            ^ t[5][usize::from(b[2])]
            ^ t[4][usize::from(b[3])]
            ^ t[3][usize::from(b[4])]
            ^ t[2][usize::from(b[5])]
            ^ t[1][usize::from(b[6])]
            ^ t[0][usize::from(b[7])];
    }
    for &b in chunks.remainder() {
        c = (c << 8) ^ t[0][usize::from((c >> 8) as u8 ^ b)];
    }
    c
}

// ---------------------------------------------------------------------------
// Frame encoder
// ---------------------------------------------------------------------------

/// Rice partitioning of a residual.
#[derive(Clone, Copy)]
struct RicePlan {
    order: u32,
    /// Parameters need 5 bits (some exceed 14).
    wide: bool,
    params: [u8; MAX_PARTITIONS],
}

/// How a subframe is coded.
#[derive(Clone, Copy)]
enum Model {
    Constant,
    Verbatim,
    Fixed { order: usize },
    Lpc { order: usize, precision: u32, shift: u32, coefs: [i32; MAX_LPC_ORDER] },
}

/// Encodes blocks of interleaved samples into FLAC frames.
pub struct FrameEncoder {
    channels: usize,
    bits: u32,
    rate_code: u32,
    sample_size_code: u32,
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
    /// Deinterleaved input, one buffer per channel.
    chans: Vec<Vec<i32>>,
    mid: Vec<i32>,
    side: Vec<i32>,
    scratch: Scratch,
    bw: BitWriter,
}

/// Per-subframe working buffers.
struct Scratch {
    /// The CPU supports AVX2.
    avx2: bool,
    /// Tukey window for `window_len` samples.
    window: Vec<f64>,
    window_len: usize,
    windowed: Vec<f64>,
    /// Folded residuals of the fixed and LPC candidates.
    fixed_res: Vec<u32>,
    lpc_res: Vec<u32>,
    acc: Vec<i64>,
}

impl FrameEncoder {
    pub fn new(rate: u32, channels: usize, bits: u32) -> Self {
        let rate_code = match rate {
            88_200 => 1,
            176_400 => 2,
            192_000 => 3,
            8_000 => 4,
            16_000 => 5,
            22_050 => 6,
            24_000 => 7,
            32_000 => 8,
            44_100 => 9,
            48_000 => 10,
            96_000 => 11,
            _ => 0, // from STREAMINFO
        };
        let sample_size_code = match bits {
            8 => 1,
            12 => 2,
            16 => 4,
            20 => 5,
            24 => 6,
            32 => 7,
            _ => 0,
        };
        FrameEncoder {
            channels,
            bits,
            rate_code,
            sample_size_code,
            #[cfg(target_arch = "x86_64")]
            avx2: std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi2"),
            chans: vec![Vec::with_capacity(BLOCK_SIZE); channels],
            mid: Vec::with_capacity(BLOCK_SIZE),
            side: Vec::with_capacity(BLOCK_SIZE),
            scratch: Scratch {
                #[cfg(target_arch = "x86_64")]
                avx2: std::arch::is_x86_feature_detected!("avx2"),
                #[cfg(not(target_arch = "x86_64"))]
                avx2: false,
                window: Vec::new(),
                window_len: 0,
                windowed: Vec::with_capacity(BLOCK_SIZE),
                fixed_res: Vec::with_capacity(BLOCK_SIZE),
                lpc_res: Vec::with_capacity(BLOCK_SIZE),
                acc: Vec::with_capacity(BLOCK_SIZE),
            },
            bw: BitWriter::with_capacity(BLOCK_SIZE * channels * 4 + 64),
        }
    }

    /// Encodes one block (interleaved, at most 65 535 frames) as frame
    /// number `frame_number`; returns the frame's bytes.
    pub fn encode(&mut self, block: &[i32], frame_number: u64) -> &[u8] {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: the CPU supports AVX2 and BMI2 (checked in `new`).
            unsafe { self.encode_avx2(block, frame_number) };
            return self.bw.bytes();
        }
        self.encode_portable(block, frame_number);
        self.bw.bytes()
    }

    /// BMI2 gives the shifts by a variable count of the bit writer
    /// single-instruction forms.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi2")]
    fn encode_avx2(&mut self, block: &[i32], frame_number: u64) {
        self.encode_frame(block, frame_number);
    }

    fn encode_portable(&mut self, block: &[i32], frame_number: u64) {
        self.encode_frame(block, frame_number);
    }

    #[inline(always)]
    fn encode_frame(&mut self, block: &[i32], frame_number: u64) {
        let channels = self.channels;
        let n = block.len() / channels;
        debug_assert!(n > 0 && n <= 65_535 && block.len() == n * channels);
        for buf in &mut self.chans {
            buf.clear();
            buf.resize(n, 0);
        }
        match &mut self.chans[..] {
            [mono] => mono.copy_from_slice(block),
            [l, r] => {
                for ((l, r), f) in l.iter_mut().zip(r.iter_mut()).zip(block.chunks_exact(2)) {
                    (*l, *r) = (f[0], f[1]);
                }
            }
            chans => {
                for (ch, buf) in chans.iter_mut().enumerate() {
                    for (y, &x) in buf.iter_mut().zip(block.iter().skip(ch).step_by(channels)) {
                        *y = x;
                    }
                }
            }
        }
        // Channel assignment: 0..=7 independent, 8 left/side, 9 side/right,
        // 10 mid/side.
        let assignment = if channels == 2 {
            let (l, r) = (&self.chans[0], &self.chans[1]);
            self.mid.clear();
            self.side.clear();
            self.mid.extend(l.iter().zip(r).map(|(&l, &r)| (l + r) >> 1));
            self.side.extend(l.iter().zip(r).map(|(&l, &r)| l - r));
            stereo_mode(l, r, &self.mid, &self.side)
        } else {
            channels as u32 - 1
        };

        let bw = &mut self.bw;
        bw.clear();
        // Frame header: sync code, fixed blocking strategy.
        bw.put(0xFFF8, 16);
        let (size_code, size_extra) = match n {
            192 => (1, None),
            576 | 1152 | 2304 | 4608 => (2 + (n / 576).trailing_zeros(), None),
            256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 => (8 + (n / 256).trailing_zeros(), None),
            _ if n <= 256 => (6, Some((n as u32 - 1, 8))),
            _ => (7, Some((n as u32 - 1, 16))),
        };
        bw.put(size_code, 4);
        bw.put(self.rate_code, 4);
        bw.put(assignment, 4);
        bw.put(self.sample_size_code, 3);
        bw.put(0, 1);
        put_utf8(bw, frame_number);
        if let Some((v, bits)) = size_extra {
            bw.put(v, bits);
        }
        bw.align();
        let crc = crc8(bw.bytes());
        bw.put(u32::from(crc), 8);

        let bits = self.bits;
        let scratch = &mut self.scratch;
        match assignment {
            8 => {
                encode_subframe(scratch, bw, &self.chans[0], bits);
                encode_subframe(scratch, bw, &self.side, bits + 1);
            }
            9 => {
                encode_subframe(scratch, bw, &self.side, bits + 1);
                encode_subframe(scratch, bw, &self.chans[1], bits);
            }
            10 => {
                encode_subframe(scratch, bw, &self.mid, bits);
                encode_subframe(scratch, bw, &self.side, bits + 1);
            }
            _ => {
                for chan in &self.chans {
                    encode_subframe(scratch, bw, chan, bits);
                }
            }
        }
        bw.align();
        let crc = crc16(bw.bytes());
        bw.put(u32::from(crc), 16);
        bw.align();
    }
}

/// Frame number in FLAC's extended UTF-8 coding.
fn put_utf8(bw: &mut BitWriter, v: u64) {
    if v < 0x80 {
        bw.put(v as u32, 8);
        return;
    }
    let extra = match v {
        0..0x800 => 1,
        0x800..0x1_0000 => 2,
        0x1_0000..0x20_0000 => 3,
        0x20_0000..0x400_0000 => 4,
        0x400_0000..0x8000_0000 => 5,
        _ => 6,
    };
    let lead = (0xFF00u32 >> (extra + 1)) as u8;
    let first = u32::from(lead) | (v >> (6 * extra)) as u32;
    bw.put(first & 0xFF, 8);
    for i in (0..extra).rev() {
        bw.put(0x80 | ((v >> (6 * i)) & 0x3F) as u32, 8);
    }
}

/// Estimated Rice-coded size of `n` values summing to `sum`, and the
/// parameter that achieves it (ffmpeg's estimate).
#[inline(always)]
fn rice_estimate(sum: u64, n: u64, max_param: u32) -> (u32, u64) {
    let k = if sum <= n >> 1 {
        0
    } else {
        let q = (sum - (n >> 1)) / n.max(1);
        (63 - q.max(1).leading_zeros()).min(max_param)
    };
    (k, n * u64::from(k + 1) + (sum.saturating_sub(n >> 1) >> k))
}

/// Picks the stereo decorrelation from second-order residual sums.
#[inline(always)]
fn stereo_mode(l: &[i32], r: &[i32], m: &[i32], s: &[i32]) -> u32 {
    let n = l.len();
    if n < 3 {
        return 1;
    }
    #[inline(always)]
    fn sum2(x: &[i32]) -> u64 {
        x.windows(3).map(|w| u64::from((w[2] - 2 * w[1] + w[0]).unsigned_abs())).sum()
    }
    let sums = [sum2(l), sum2(r), sum2(m), sum2(s)];
    let bits = sums.map(|s| rice_estimate(2 * s, n as u64, 30).1);
    let options = [(bits[0] + bits[1], 1), (bits[0] + bits[3], 8), (bits[1] + bits[3], 9), (bits[2] + bits[3], 10)];
    options.iter().min_by_key(|o| o.0).map_or(1, |o| o.1)
}

/// Chooses and writes the subframe for one channel of `bps` bits.
#[inline(always)]
fn encode_subframe(s: &mut Scratch, bw: &mut BitWriter, x: &[i32], bps: u32) {
    let n = x.len();
    let verbatim_bits = n as u64 * u64::from(bps);
    if x.iter().all(|&v| v == x[0]) {
        return write_subframe(bw, x, bps, Model::Constant, None, &[]);
    }

    // LPC first: it wins on most music, and the fixed predictor's estimate
    // (from the residual magnitudes `best_fixed_order` sums anyway, as one
    // Rice partition) then tells whether the fixed predictor needs its exact
    // Rice plan at all. Partitioning rarely saves more than a few percent, so
    // the exact plan is only worked out when the estimate is within 1/16 of
    // the LPC size; otherwise the fixed predictor cannot win.
    let mut best: Option<(u64, Model, RicePlan)> = None;
    if let Some((order, precision, shift, coefs)) = lpc_model(s, x, bps)
        && lpc_residual(x, &coefs[..order], shift, bps, &mut s.lpc_res, &mut s.acc)
    {
        let (rice_bits, plan) = plan_rice(&s.lpc_res, order, n);
        let bits = 8 + order as u64 * u64::from(bps + precision) + 9 + 6 + rice_bits;
        best = Some((bits, Model::Lpc { order, precision, shift, coefs }, plan));
    }
    let (fixed_order, abs_sum) = best_fixed_order(x);
    let header_bits = 8 + fixed_order as u64 * u64::from(bps) + 6;
    let fixed_estimate = header_bits + 4 + rice_estimate(2 * abs_sum, (n - fixed_order) as u64, 30).1;
    let best = match best {
        Some(lpc) if fixed_estimate > lpc.0 + lpc.0 / 16 => lpc,
        lpc => {
            fixed_residual(x, fixed_order, &mut s.fixed_res);
            let (fixed_rice_bits, fixed_plan) = plan_rice(&s.fixed_res, fixed_order, n);
            let fixed = (header_bits + fixed_rice_bits, Model::Fixed { order: fixed_order }, fixed_plan);
            match lpc {
                Some(lpc) if lpc.0 < fixed.0 => lpc,
                _ => fixed,
            }
        }
    };
    if best.0 >= verbatim_bits + 8 {
        return write_subframe(bw, x, bps, Model::Verbatim, None, &[]);
    }
    let residual = if matches!(best.1, Model::Lpc { .. }) { &s.lpc_res } else { &s.fixed_res };
    write_subframe(bw, x, bps, best.1, Some(&best.2), residual);
}

#[inline(always)]
fn write_subframe(bw: &mut BitWriter, x: &[i32], bps: u32, model: Model, plan: Option<&RicePlan>, residual: &[u32]) {
    let n = x.len();
    let (code, warmup) = match model {
        Model::Constant => (0, 0),
        Model::Verbatim => (1, 0),
        Model::Fixed { order } => (8 | order as u32, order),
        Model::Lpc { order, .. } => (32 | (order as u32 - 1), order),
    };
    // Zero pad bit, type, no wasted bits.
    bw.put(code << 1, 8);
    match model {
        Model::Constant => bw.put_signed(x[0], bps),
        Model::Verbatim => {
            for &v in x {
                bw.put_signed(v, bps);
            }
        }
        Model::Fixed { .. } | Model::Lpc { .. } => {
            for &v in &x[..warmup] {
                bw.put_signed(v, bps);
            }
            if let Model::Lpc { order, precision, shift, coefs } = model {
                bw.put(precision - 1, 4);
                bw.put(shift, 5);
                for &c in &coefs[..order] {
                    bw.put_signed(c, precision);
                }
            }
            let Some(plan) = plan else { return };
            bw.put(u32::from(plan.wide), 2);
            bw.put(plan.order, 4);
            let param_bits = if plan.wide { 5 } else { 4 };
            let parts = 1usize << plan.order;
            let size = n >> plan.order;
            let mut from = 0;
            for (p, &k) in plan.params[..parts].iter().enumerate() {
                let to = (p + 1) * size - warmup;
                let k = u32::from(k);
                bw.put(k, param_bits);
                bw.put_rice_run(&residual[from..to], k);
                from = to;
            }
        }
    }
}

#[inline(always)]
fn fold(e: i32) -> u32 {
    ((e << 1) ^ (e >> 31)) as u32
}

/// Fixed-predictor order (0–4) with the smallest sum of absolute residuals,
/// and that sum (over the samples from the fifth on).
#[inline(always)]
fn best_fixed_order(x: &[i32]) -> (usize, u64) {
    let n = x.len();
    if n <= 4 {
        return (0, x.iter().map(|&v| u64::from(v.unsigned_abs())).sum());
    }
    let mut sums = [0u64; 5];
    for w in x.windows(5) {
        let e0 = w[4];
        let e1 = e0 - w[3];
        let e2 = e1 - (w[3] - w[2]);
        let e3 = e2 - (w[3] - 2 * w[2] + w[1]);
        let e4 = e3 - (w[3] - 3 * w[2] + 3 * w[1] - w[0]);
        sums[0] += u64::from(e0.unsigned_abs());
        sums[1] += u64::from(e1.unsigned_abs());
        sums[2] += u64::from(e2.unsigned_abs());
        sums[3] += u64::from(e3.unsigned_abs());
        sums[4] += u64::from(e4.unsigned_abs());
    }
    let mut best = 0;
    for o in 1..5 {
        if sums[o] < sums[best] {
            best = o;
        }
    }
    (best, sums[best])
}

/// Folded residual of the fixed predictor of `order` (samples `order..`).
#[inline(always)]
fn fixed_residual(x: &[i32], order: usize, out: &mut Vec<u32>) {
    out.clear();
    match order {
        0 => out.extend(x.iter().map(|&v| fold(v))),
        1 => out.extend(x.windows(2).map(|w| fold(w[1] - w[0]))),
        2 => out.extend(x.windows(3).map(|w| fold(w[2] - 2 * w[1] + w[0]))),
        3 => out.extend(x.windows(4).map(|w| fold(w[3] - 3 * w[2] + 3 * w[1] - w[0]))),
        _ => out.extend(x.windows(5).map(|w| fold(w[4] - 4 * w[3] + 6 * w[2] - 4 * w[1] + w[0]))),
    }
}

/// Chooses the partition order and Rice parameters for a residual of
/// `residual.len() = n - order` values; returns the estimated bits of the
/// residual section (without its 6-bit method/order header) and the plan.
#[inline(always)]
fn plan_rice(residual: &[u32], order: usize, n: usize) -> (u64, RicePlan) {
    let mut max_order = MAX_PARTITION_ORDER;
    while max_order > 0 && (!n.is_multiple_of(1 << max_order) || (n >> max_order) <= order) {
        max_order -= 1;
    }
    let mut sums = [0u64; MAX_PARTITIONS];
    let size = n >> max_order;
    let parts = 1usize << max_order;
    let mut from = 0;
    for (p, sum) in sums[..parts].iter_mut().enumerate() {
        let to = (p + 1) * size - order;
        *sum = residual[from..to].iter().map(|&u| u64::from(u)).sum();
        from = to;
    }
    let mut best = RicePlan { order: 0, wide: false, params: [0; MAX_PARTITIONS] };
    let mut best_bits = u64::MAX;
    let mut level = max_order;
    loop {
        let parts = 1usize << level;
        let size = (n >> level) as u64;
        let mut bits = 0u64;
        let mut params = [0u8; MAX_PARTITIONS];
        let mut wide = false;
        for (p, (&sum, param)) in sums[..parts].iter().zip(params.iter_mut()).enumerate() {
            let count = if p == 0 { size - order as u64 } else { size };
            let (k, b) = rice_estimate(sum, count, 30);
            wide |= k > 14;
            *param = k as u8;
            bits += b;
        }
        bits += parts as u64 * if wide { 5 } else { 4 };
        if bits < best_bits {
            best_bits = bits;
            best = RicePlan { order: level, wide, params };
        }
        if level == 0 {
            break;
        }
        for p in 0..parts / 2 {
            sums[p] = sums[2 * p] + sums[2 * p + 1];
        }
        level -= 1;
    }
    (best_bits, best)
}

/// Fills `s.window` with a Tukey(0.5) window of `n` samples (as `flac -5`).
fn make_window(s: &mut Scratch, n: usize) {
    s.window.clear();
    s.window.resize(n, 1.0);
    let np = (0.25 * n as f64) as usize;
    if np > 1 {
        let np = np - 1;
        for i in 0..=np {
            let w = 0.5 - 0.5 * (std::f64::consts::PI * i as f64 / np as f64).cos();
            s.window[i] = w;
            s.window[n - 1 - i] = w;
        }
    }
    s.window_len = n;
}

/// LPC analysis: returns `(order, precision, shift, coefficients)` of the
/// chosen quantised predictor, or `None` when LPC does not apply.
#[inline(always)]
fn lpc_model(s: &mut Scratch, x: &[i32], bps: u32) -> Option<(usize, u32, u32, [i32; MAX_LPC_ORDER])> {
    let n = x.len();
    let max_order = MAX_LPC_ORDER.min(n.saturating_sub(1) / 2);
    if max_order == 0 {
        return None;
    }
    if s.window_len != n {
        make_window(s, n);
    }
    s.windowed.clear();
    s.windowed.extend(x.iter().zip(&s.window).map(|(&v, &w)| f64::from(v) * w));
    let mut autoc = [0f64; MAX_LPC_ORDER + 1];
    autocorrelation(&s.windowed, &mut autoc[..=max_order], s.avx2);
    if autoc[0] <= 0.0 || !autoc[0].is_finite() {
        return None;
    }

    // Levinson–Durbin; `coefs[o - 1]` predicts with order `o`.
    let mut coefs = [[0f64; MAX_LPC_ORDER]; MAX_LPC_ORDER];
    let mut errors = [0f64; MAX_LPC_ORDER];
    let mut lpc = [0f64; MAX_LPC_ORDER];
    let mut err = autoc[0];
    let mut orders = max_order;
    for i in 0..max_order {
        let mut r = -autoc[i + 1];
        for j in 0..i {
            r -= lpc[j] * autoc[i - j];
        }
        r /= err;
        lpc[i] = r;
        for j in 0..i / 2 {
            let tmp = lpc[j];
            lpc[j] += r * lpc[i - 1 - j];
            lpc[i - 1 - j] += r * tmp;
        }
        if i % 2 == 1 {
            lpc[i / 2] += lpc[i / 2] * r;
        }
        err *= 1.0 - r * r;
        for j in 0..=i {
            coefs[i][j] = -lpc[j];
        }
        errors[i] = err;
        if err <= 0.0 {
            orders = i + 1;
            break;
        }
    }

    // Order from the expected residual size (the reference encoder's
    // estimate), counting the warm-up samples and coefficients.
    let precision_for = |order: usize| -> u32 { if bps <= 17 { 12u32.min(32 - bps - order.ilog2()) } else { 15 } };
    let error_scale = 0.5 / n as f64;
    let mut best = (f64::INFINITY, 1);
    for (i, &e) in errors[..orders].iter().enumerate() {
        let order = i + 1;
        let bits_per_sample = if e > 0.0 { (0.5 * (error_scale * e).log2()).max(0.0) } else { 0.0 };
        let bits = bits_per_sample * (n - order) as f64 + (order as u32 * (precision_for(order) + bps)) as f64;
        if bits < best.0 {
            best = (bits, order);
        }
    }
    let order = best.1;
    let precision = precision_for(order);
    let (q, shift) = quantize(&coefs[order - 1][..order], precision)?;
    Some((order, precision, shift, q))
}

/// `autoc[lag] = dot(w[lag..], w[..n - lag])` for every lag in `autoc`.
/// With `avx2` (the CPU has it) the dot products run in AVX registers, lane
/// for lane the same additions in the same order as [`dot`], so both paths
/// give bit-identical sums and thus identical files.
#[inline(always)]
fn autocorrelation(w: &[f64], autoc: &mut [f64], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is only set when the CPU supports AVX2.
        unsafe { autocorrelation_avx2(w, autoc) };
        return;
    }
    let _ = avx2;
    let n = w.len();
    for (lag, a) in autoc.iter_mut().enumerate() {
        *a = dot(&w[lag..], &w[..n - lag]);
    }
}

/// [`dot`] for every lag with explicit AVX: LLVM turns `dot`'s eight-lane
/// accumulator into shuffles of 128-bit halves, which is nearly three times
/// slower than two 256-bit accumulators.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn autocorrelation_avx2(w: &[f64], autoc: &mut [f64]) {
    use std::arch::x86_64::{_mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd};
    let n = w.len();
    for (lag, out) in autoc.iter_mut().enumerate() {
        let (a, b) = (&w[lag..], &w[..n - lag]);
        let whole = b.len() / 8 * 8;
        let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        for (x, y) in a[..whole].chunks_exact(8).zip(b[..whole].chunks_exact(8)) {
            // SAFETY: both chunks hold 8 values, two loads of 4 each.
            unsafe {
                let (x0, x1) = (_mm256_loadu_pd(x.as_ptr()), _mm256_loadu_pd(x.as_ptr().add(4)));
                let (y0, y1) = (_mm256_loadu_pd(y.as_ptr()), _mm256_loadu_pd(y.as_ptr().add(4)));
                lo = _mm256_add_pd(lo, _mm256_mul_pd(x0, y0));
                hi = _mm256_add_pd(hi, _mm256_mul_pd(x1, y1));
            }
        }
        let mut acc = [0f64; 8];
        // SAFETY: `acc` has room for both stores of 4 values.
        unsafe {
            _mm256_storeu_pd(acc.as_mut_ptr(), lo);
            _mm256_storeu_pd(acc.as_mut_ptr().add(4), hi);
        }
        let mut sum = 0.0;
        for (x, y) in a[whole..b.len()].iter().zip(&b[whole..]) {
            sum += x * y;
        }
        *out = sum + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0f64; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut sum = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        sum += x * y;
    }
    sum + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Quantises LPC coefficients to `precision` bits with error feedback (as
/// the reference encoder does); `None` if they cannot be represented with a
/// non-negative shift.
fn quantize(lp: &[f64], precision: u32) -> Option<([i32; MAX_LPC_ORDER], u32)> {
    let cmax = lp.iter().fold(0f64, |m, c| m.max(c.abs()));
    if cmax <= 0.0 || !cmax.is_finite() {
        return None;
    }
    // cmax = m × 2^log2cmax with m in [0.5, 1).
    let log2cmax = cmax.log2().floor() as i32 + 1;
    let prec = precision as i32 - 1;
    let shift = (prec - log2cmax).min(15);
    if shift < 0 {
        return None;
    }
    let qmax = (1i32 << prec) - 1;
    let qmin = -(1i32 << prec);
    let scale = f64::from(1u32 << shift);
    let mut out = [0i32; MAX_LPC_ORDER];
    let mut error = 0.0;
    for (q, &c) in out.iter_mut().zip(lp) {
        error += c * scale;
        let v = (error.round() as i32).clamp(qmin, qmax);
        error -= f64::from(v);
        *q = v;
    }
    Some((out, shift as u32))
}

/// Folded LPC residual (samples `order..`); `false` if a residual is out of
/// range. Uses 32-bit arithmetic where it cannot overflow (up to 17-bit
/// channels with the precision `lpc_model` picks), 64-bit otherwise.
#[inline(always)]
fn lpc_residual(x: &[i32], coefs: &[i32], shift: u32, bps: u32, out: &mut Vec<u32>, acc: &mut Vec<i64>) -> bool {
    if bps <= 17 {
        match coefs.len() {
            1 => lpc_residual_32::<1>(x, coefs, shift, out),
            2 => lpc_residual_32::<2>(x, coefs, shift, out),
            3 => lpc_residual_32::<3>(x, coefs, shift, out),
            4 => lpc_residual_32::<4>(x, coefs, shift, out),
            5 => lpc_residual_32::<5>(x, coefs, shift, out),
            6 => lpc_residual_32::<6>(x, coefs, shift, out),
            7 => lpc_residual_32::<7>(x, coefs, shift, out),
            _ => lpc_residual_32::<8>(x, coefs, shift, out),
        }
    } else {
        lpc_residual_64(x, coefs, shift, out, acc)
    }
}

#[inline(always)]
fn lpc_residual_32<const O: usize>(x: &[i32], coefs: &[i32], shift: u32, out: &mut Vec<u32>) -> bool {
    let c: [i32; O] = coefs.try_into().expect("order matches");
    out.clear();
    out.resize(x.len() - O, 0);
    // The sum cannot overflow (see `lpc_model`'s precision); the difference
    // can only for a wild predictor, and then it is far out of range.
    let mut magnitude = 0u32;
    for (o, w) in out.iter_mut().zip(x.windows(O + 1)) {
        let mut sum = 0i32;
        for j in 0..O {
            sum = sum.wrapping_add(c[j].wrapping_mul(w[O - 1 - j]));
        }
        let e = w[O].wrapping_sub(sum >> shift);
        magnitude |= (e ^ (e >> 31)) as u32;
        *o = fold(e);
    }
    i64::from(magnitude) < MAX_RESIDUAL
}

#[inline(always)]
fn lpc_residual_64(x: &[i32], coefs: &[i32], shift: u32, out: &mut Vec<u32>, acc: &mut Vec<i64>) -> bool {
    let order = coefs.len();
    let m = x.len() - order;
    acc.clear();
    acc.resize(m, 0);
    for (j, &c) in coefs.iter().enumerate() {
        let c = i64::from(c);
        for (a, &v) in acc.iter_mut().zip(&x[order - 1 - j..]) {
            *a += c * i64::from(v);
        }
    }
    out.clear();
    let mut ok = true;
    out.extend(acc.iter().zip(&x[order..]).map(|(&a, &v)| {
        let e = i64::from(v) - (a >> shift);
        ok &= (-MAX_RESIDUAL..MAX_RESIDUAL).contains(&e);
        fold(e as i32)
    }));
    ok
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

    #[test]
    fn crc16_slicing_matches_bytewise() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        for len in [0usize, 1, 7, 8, 9, 100, 1000] {
            let slow = data[..len].iter().fold(0u16, |c, &b| (c << 8) ^ CRC16[0][usize::from((c >> 8) as u8 ^ b)]);
            assert_eq!(crc16(&data[..len]), slow);
        }
    }

    #[test]
    fn utf8_frame_numbers() {
        for (v, want) in [
            (0u64, vec![0x00u8]),
            (0x7F, vec![0x7F]),
            (0x80, vec![0xC2, 0x80]),
            (0x7FF, vec![0xDF, 0xBF]),
            (0x800, vec![0xE0, 0xA0, 0x80]),
            (0xFFFF, vec![0xEF, 0xBF, 0xBF]),
            (0x1_0000, vec![0xF0, 0x90, 0x80, 0x80]),
            (0x7FFF_FFFF, vec![0xFD, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF]),
        ] {
            let mut bw = BitWriter::with_capacity(8);
            put_utf8(&mut bw, v);
            assert_eq!(bw.finish(), &want[..], "{v:#x}");
        }
    }
}
