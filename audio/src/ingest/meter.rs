//! EBU R128 / ITU-R BS.1770-4 integrated loudness in constant memory.
//!
//! K-weighting is the usual pre-filter and RLB high-pass, combined into one
//! fourth-order filter with the coefficients libebur128 uses. The mean square
//! of every 100 ms sub-block is kept for the last four sub-blocks, giving the
//! 400 ms gating blocks with 75 % overlap. Gating blocks above the absolute
//! gate (-70 LUFS) go into a histogram of 0.1 LU bins that stores both the
//! count and the summed energy of each bin, so memory stays constant while
//! the integrated loudness is the exact mean of the gated blocks' energies
//! (only which blocks within 0.1 LU of the relative gate count is decided per
//! bin, as libebur128's histogram mode does).

/// Histogram range: -70 LUFS (the absolute gate) to +30 LUFS in 0.1 LU bins.
const BINS: usize = 1000;
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
const RELATIVE_GATE_LU: f64 = -10.0;
/// Flushes filter state this small to zero between calls, so a fading signal
/// never reaches subnormal numbers (which are very slow to compute with).
const TINY: f64 = 1e-30;

fn loudness(energy: f64) -> f64 {
    -0.691 + 10.0 * energy.log10()
}

fn energy(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

pub struct LoudnessMeter {
    channels: usize,
    /// The CPU has AVX2 and FMA: mono and stereo use the fused filter loop.
    fma: bool,
    /// Numerator and denominator of the K-weighting filter (`a[0]` = 1).
    b: [f64; 5],
    a: [f64; 5],
    /// Direct-form II state per channel: `v[n-1] .. v[n-4]`.
    state: Vec<[f64; 4]>,
    /// Integer full scale: samples are divided by it.
    inv_scale: f64,
    sub_frames: usize,
    /// Frames already in the current 100 ms sub-block.
    filled: usize,
    /// Sum of squares (all channels) of the current sub-block.
    sub_sum: f64,
    /// The previous three sub-block sums, oldest first.
    recent: [f64; 3],
    subs_done: u64,
    block_frames: f64,
    counts: Box<[u64; BINS]>,
    energies: Box<[f64; BINS]>,
}

impl LoudnessMeter {
    /// A meter for `channels` channels (each weighted 1, as for mono, left
    /// and right) of integers with full scale `full_scale` (`2^(bits-1)`).
    pub fn new(channels: usize, rate: u32, full_scale: f64) -> Self {
        let (b, a) = k_weighting(f64::from(rate));
        let sub_frames = ((rate as usize + 5) / 10).max(1);
        #[cfg(target_arch = "x86_64")]
        let fma = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let fma = false;
        LoudnessMeter {
            channels: channels.max(1),
            fma,
            b,
            a,
            state: vec![[0.0; 4]; channels.max(1)],
            inv_scale: 1.0 / full_scale,
            sub_frames,
            filled: 0,
            sub_sum: 0.0,
            recent: [0.0; 3],
            subs_done: 0,
            block_frames: (4 * sub_frames) as f64,
            counts: Box::new([0; BINS]),
            energies: Box::new([0.0; BINS]),
        }
    }

    /// Feeds interleaved frames (whole frames only).
    pub fn add(&mut self, mut samples: &[i32]) {
        let channels = self.channels;
        debug_assert_eq!(samples.len() % channels, 0);
        while samples.len() >= channels {
            let run = (self.sub_frames - self.filled).min(samples.len() / channels);
            let (now, rest) = samples.split_at(run * channels);
            self.sub_sum += match channels {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `fma` is only set when the CPU supports AVX2 and FMA.
                1 if self.fma => unsafe { self.filter_fma::<1>(now) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                2 if self.fma => unsafe { self.filter_fma::<2>(now) },
                1 => self.filter::<1, false>(now),
                2 => self.filter::<2, false>(now),
                _ => self.filter_any(now),
            };
            samples = rest;
            self.filled += run;
            if self.filled == self.sub_frames {
                self.end_sub_block();
            }
        }
        for s in self.state.iter_mut().flatten() {
            if s.abs() < TINY {
                *s = 0.0;
            }
        }
    }

    fn end_sub_block(&mut self) {
        if self.subs_done >= 3 {
            let sum = self.recent[0] + self.recent[1] + self.recent[2] + self.sub_sum;
            let e = sum / self.block_frames;
            let l = loudness(e);
            if l >= ABSOLUTE_GATE_LUFS && e.is_finite() {
                let bin = (((l - ABSOLUTE_GATE_LUFS) * 10.0) as usize).min(BINS - 1);
                self.counts[bin] += 1;
                self.energies[bin] += e;
            }
        }
        self.recent = [self.recent[1], self.recent[2], self.sub_sum];
        self.sub_sum = 0.0;
        self.filled = 0;
        self.subs_done += 1;
    }

    /// K-weights `C`-channel frames, updating the filter state; returns the
    /// sum of squares of the output. With `FMA` the feedback term is a fused
    /// multiply-add, which halves the latency of the recursion (the loop is
    /// bound by it, not by arithmetic throughput); the result differs from the
    /// unfused one only in rounding.
    #[inline(always)]
    fn filter<const C: usize, const FMA: bool>(&mut self, frames: &[i32]) -> f64 {
        #[inline(always)]
        fn mul_add<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
            if FMA { a.mul_add(b, c) } else { a * b + c }
        }
        let [b0, b1, b2, b3, b4] = self.b;
        let [_, a1, a2, a3, a4] = self.a;
        let mut st: [[f64; 4]; C] = std::array::from_fn(|c| self.state[c]);
        let k = self.inv_scale;
        let mut step = |frame: &[i32], acc: &mut [f64; C]| {
            for c in 0..C {
                let x = f64::from(frame[c]) * k;
                let [v1, v2, v3, v4] = st[c];
                // Oldest state first, so each state value enters the
                // recursion through one multiply-add per step of age.
                let v0 = mul_add::<FMA>(
                    -a1,
                    v1,
                    mul_add::<FMA>(-a2, v2, mul_add::<FMA>(-a3, v3, mul_add::<FMA>(-a4, v4, x))),
                );
                let y = mul_add::<FMA>(b0, v0, b1 * v1 + b2 * v2 + (b3 * v3 + b4 * v4));
                st[c] = [v0, v1, v2, v3];
                acc[c] = mul_add::<FMA>(y, y, acc[c]);
            }
        };
        // Two accumulators per channel (even and odd frames), so the sum of
        // squares is not a dependency chain of its own.
        let mut pairs = frames.chunks_exact(2 * C);
        let (mut even, mut odd) = ([0f64; C], [0f64; C]);
        for pair in &mut pairs {
            step(&pair[..C], &mut even);
            step(&pair[C..], &mut odd);
        }
        for frame in pairs.remainder().chunks_exact(C) {
            step(frame, &mut even);
        }
        for (c, s) in st.iter().enumerate() {
            self.state[c] = *s;
        }
        even.iter().zip(&odd).map(|(e, o)| e + o).sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn filter_fma<const C: usize>(&mut self, frames: &[i32]) -> f64 {
        self.filter::<C, true>(frames)
    }

    fn filter_any(&mut self, frames: &[i32]) -> f64 {
        let channels = self.channels;
        let mut total = 0.0;
        for c in 0..channels {
            let [b0, b1, b2, b3, b4] = self.b;
            let [_, a1, a2, a3, a4] = self.a;
            let [mut v1, mut v2, mut v3, mut v4] = self.state[c];
            let mut acc = 0.0;
            for &s in frames.iter().skip(c).step_by(channels) {
                let x = f64::from(s) * self.inv_scale;
                let v0 = (x - a2 * v2 - a3 * v3 - a4 * v4) - a1 * v1;
                let y = b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3 + b4 * v4;
                (v4, v3, v2, v1) = (v3, v2, v1, v0);
                acc += y * y;
            }
            self.state[c] = [v1, v2, v3, v4];
            total += acc;
        }
        total
    }

    /// Integrated loudness (LUFS) of everything fed so far; `None` when no
    /// gating block passes the gates (silence, or shorter than 400 ms).
    pub fn integrated(&self) -> Option<f64> {
        let count: u64 = self.counts.iter().sum();
        if count == 0 {
            return None;
        }
        let total: f64 = self.energies.iter().sum();
        let threshold = total / count as f64 * 10f64.powf(RELATIVE_GATE_LU / 10.0);
        let lt = loudness(threshold);
        let start = if lt < ABSOLUTE_GATE_LUFS {
            0
        } else {
            let bin = (((lt - ABSOLUTE_GATE_LUFS) * 10.0) as usize).min(BINS - 1);
            // A bin counts if the gate is at or below its centre.
            let centre = energy(ABSOLUTE_GATE_LUFS + (bin as f64 + 0.5) / 10.0);
            if threshold > centre { bin + 1 } else { bin }
        };
        let gated: u64 = self.counts[start.min(BINS)..].iter().sum();
        if gated == 0 {
            return None;
        }
        let sum: f64 = self.energies[start.min(BINS)..].iter().sum();
        Some(loudness(sum / gated as f64)).filter(|l| l.is_finite())
    }
}

/// K-weighting as one fourth-order filter: the high-shelf pre-filter and the
/// RLB high-pass of BS.1770, with the analog prototypes of libebur128, so any
/// sample rate gets the same response.
#[allow(non_snake_case)]
fn k_weighting(rate: f64) -> ([f64; 5], [f64; 5]) {
    let f0 = 1681.974450955533;
    let G = 3.999843853973347;
    let Q = 0.7071752369554196;
    let K = (std::f64::consts::PI * f0 / rate).tan();
    let Vh = 10f64.powf(G / 20.0);
    let Vb = Vh.powf(0.4996667741545416);
    let a0 = 1.0 + K / Q + K * K;
    let pb = [(Vh + Vb * K / Q + K * K) / a0, 2.0 * (K * K - Vh) / a0, (Vh - Vb * K / Q + K * K) / a0];
    let pa = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0];

    let f0 = 38.13547087602444;
    let Q = 0.5003270373238773;
    let K = (std::f64::consts::PI * f0 / rate).tan();
    let rb = [1.0, -2.0, 1.0];
    let ra = [1.0, 2.0 * (K * K - 1.0) / (1.0 + K / Q + K * K), (1.0 - K / Q + K * K) / (1.0 + K / Q + K * K)];

    let conv = |p: [f64; 3], r: [f64; 3]| {
        [
            p[0] * r[0],
            p[0] * r[1] + p[1] * r[0],
            p[0] * r[2] + p[1] * r[1] + p[2] * r[0],
            p[1] * r[2] + p[2] * r[1],
            p[2] * r[2],
        ]
    };
    (conv(pb, rb), conv(pa, ra))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, channels: usize, seconds: f64, freq: f64, amp: f64, bits: u32) -> Vec<i32> {
        let full = f64::from(1u32 << (bits - 1));
        let frames = (seconds * f64::from(rate)) as usize;
        (0..frames * channels)
            .map(|i| {
                let t = (i / channels) as f64 / f64::from(rate);
                (amp * full * (2.0 * std::f64::consts::PI * freq * t).sin()).round().clamp(-full, full - 1.0) as i32
            })
            .collect()
    }

    fn measure(x: &[i32], channels: usize, rate: u32, bits: u32, chunk: usize) -> Option<f64> {
        let mut m = LoudnessMeter::new(channels, rate, f64::from(1u32 << (bits - 1)));
        for part in x.chunks(chunk * channels) {
            m.add(part);
        }
        m.integrated()
    }

    #[test]
    fn reference_tones() {
        // BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LUFS; in
        // both channels of a stereo pair 3 dB more.
        // (At 22.05 kHz the digital filter's response at 1 kHz is slightly
        // off the analog curve, as in libebur128.)
        for (rate, tolerance) in [(44_100u32, 0.02), (48_000, 0.02), (22_050, 0.05)] {
            for chunk in [1usize, 1000, 100_000] {
                let mono = measure(&sine(rate, 1, 3.0, 1000.0, 1.0, 24), 1, rate, 24, chunk).expect("loud");
                assert!((mono + 3.01).abs() < tolerance, "{rate} Hz: {mono}");
                let stereo = measure(&sine(rate, 2, 3.0, 1000.0, 0.1, 16), 2, rate, 16, chunk).expect("loud");
                assert!((stereo + 20.0).abs() < tolerance, "{rate} Hz: {stereo}");
            }
        }
    }

    /// Noise with a slowly varying level (some of it below the relative
    /// gate), against libebur128's algorithm without the histogram.
    #[test]
    fn matches_ebur128() {
        for (channels, rate) in [(1usize, 44_100u32), (2, 44_100), (2, 22_050)] {
            let frames = rate as usize * 12;
            let mut state = 0x1234_5678u32;
            let x: Vec<i32> = (0..frames * channels)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let t = (i / channels) as f64 / f64::from(rate);
                    let level = 0.3 * (1.0 + (t * 0.7).sin()).powi(3) / 8.0 + 0.001;
                    ((f64::from(state) / f64::from(u32::MAX) * 2.0 - 1.0) * level * 32768.0) as i32
                })
                .collect();
            let ours = measure(&x, channels, rate, 16, 1234).expect("loud");
            let mut reference = ebur128::EbuR128::new(channels as u32, rate, ebur128::Mode::I).expect("meter");
            let as_i16: Vec<i16> = x.iter().map(|&v| v as i16).collect();
            reference.add_frames_i16(&as_i16).expect("add");
            let want = reference.loudness_global().expect("loudness");
            assert!((ours - want).abs() < 0.02, "{channels} ch at {rate} Hz: {ours} vs {want}");
        }
    }

    #[test]
    fn gates() {
        assert_eq!(measure(&vec![0; 44_100], 1, 44_100, 16, 4096), None);
        // Shorter than one gating block.
        assert_eq!(measure(&sine(44_100, 1, 0.3, 1000.0, 0.5, 16), 1, 44_100, 16, 4096), None);
        // Two loud seconds then a long quiet stretch 30 dB down: the quiet
        // part is below the relative gate and does not count (ungated, the
        // mean would be about 11 dB lower); only the three blocks straddling
        // the step pull the result down a little.
        let mut x = sine(48_000, 1, 2.0, 1000.0, 0.5, 16);
        x.extend(sine(48_000, 1, 20.0, 1000.0, 0.5 / 31.6, 16));
        let loud_only = measure(&sine(48_000, 1, 2.0, 1000.0, 0.5, 16), 1, 48_000, 16, 4096).expect("loud");
        let both = measure(&x, 1, 48_000, 16, 4096).expect("loud");
        assert!((both - loud_only).abs() < 0.5, "{both} vs {loud_only}");
    }
}
