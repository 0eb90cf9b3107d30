//! One FLAC frame: channel decorrelation, the choice of subframe model per channel, and the
//! Rice coding of the residual.

use super::bits::{BitWriter, crc8, crc16, fold};
use super::lpc::{Scratch, lpc_model, lpc_residual};
use super::{BLOCK_SIZE, MAX_LPC_ORDER, MAX_PARTITION_ORDER, MAX_PARTITIONS};

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

#[cfg(test)]
mod tests {
    use super::*;

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
