//! Round-trip latency calibration.
//!
//! To line a new take up with what the musician heard, the browser has to know
//! how long sound takes to travel from the composition's timeline out through
//! the speakers and back in through the microphone. It measures this by
//! playing a test burst and recording it back: the delay between the played
//! and the recorded signal is the round-trip latency to compensate.
//!
//! * [`mls`] generates the burst, a maximum-length sequence. Its circular
//!   autocorrelation is `N` at lag 0 and `−1` everywhere else, as close to an
//!   impulse as a ±1 sequence gets, so the correlation peak is one sample wide.
//!   Being ±1 throughout, it carries the most energy a given peak level allows,
//!   and correlating over `N` samples lifts the peak about `10·log10(N)` dB
//!   above the noise (36 dB for order 12), so it survives a noisy room.
//! * [`estimate_delay`] cross-correlates one recording against the burst and
//!   reports the delay with a peak-to-noise ratio that gates out recordings
//!   in which the burst was not really heard.
//! * [`combine`] takes several such measurements and returns their median
//!   and spread, so that a single disturbed take cannot skew the result.
//!
//! The module needs only `std` and `rustfft`, so it also builds for
//! `wasm32-unknown-unknown`.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// A reasonable gate for [`estimate_delay`], in dB.
///
/// In a recording that does not contain the burst, the correlation is noise,
/// and the largest of a few thousand noise lags sits about 12–14 dB above
/// their RMS. A 20 dB gate keeps a margin above that, while a burst of order 12
/// (36 dB of correlation gain) still passes with the microphone signal 10 dB
/// below the room noise.
pub const DEFAULT_GATE_DB: f64 = 20.0;

/// Lags on each side of the correlation peak left out when measuring the
/// noise floor. The peak is widened by the speaker's and the microphone's
/// band limits and by early reflections; 64 lags (1.3 ms at 48 kHz) keep that
/// energy out of the noise estimate without shrinking the noise window much.
const NOISE_GUARD_LAGS: usize = 64;

/// Feedback taps of a Fibonacci LFSR for each supported order, 10 to 16: the
/// exponents of a primitive polynomial over GF(2) without its constant term.
/// A primitive polynomial is what makes the register cycle through all
/// `2^order − 1` non-zero states, i.e. produce a maximum-length sequence.
const MLS_TAPS: [&[u32]; 7] = [
    &[10, 7],         // x^10 + x^7 + 1
    &[11, 9],         // x^11 + x^9 + 1
    &[12, 11, 10, 4], // x^12 + x^11 + x^10 + x^4 + 1
    &[13, 12, 11, 8], // x^13 + x^12 + x^11 + x^8 + 1
    &[14, 13, 12, 2], // x^14 + x^13 + x^12 + x^2 + 1
    &[15, 14],        // x^15 + x^14 + 1
    &[16, 15, 13, 4], // x^16 + x^15 + x^13 + x^4 + 1
];

/// Smallest supported [`mls`] order (1023 samples).
pub const MLS_MIN_ORDER: u32 = 10;
/// Largest supported [`mls`] order (65535 samples).
pub const MLS_MAX_ORDER: u32 = 16;

/// A maximum-length sequence of ±1.0 values, `2^order − 1` samples long, for
/// the calibration burst.
///
/// The sequence is the output of a Fibonacci LFSR with a primitive feedback
/// polynomial, seeded with all ones; a set bit becomes `+1.0`, a clear bit
/// `−1.0`. Over its length it holds one more `+1.0` than `−1.0`, and its
/// circular autocorrelation is `2^order − 1` at lag 0 and `−1` at every other
/// lag.
///
/// `order` is clamped to [`MLS_MIN_ORDER`]`..=`[`MLS_MAX_ORDER`]. At 48 kHz,
/// order 12 (85 ms) is a good default; longer bursts buy noise immunity at the
/// cost of a longer and larger correlation.
pub fn mls(order: u32) -> Vec<f32> {
    let order = order.clamp(MLS_MIN_ORDER, MLS_MAX_ORDER);
    let taps = MLS_TAPS[(order - MLS_MIN_ORDER) as usize];
    let len = (1usize << order) - 1;
    // Any non-zero seed yields the same sequence, rotated; all ones is the usual one.
    let mut state: u32 = (1 << order) - 1;
    let mut sequence = Vec::with_capacity(len);
    for _ in 0..len {
        sequence.push(if state & 1 == 1 { 1.0 } else { -1.0 });
        // Tap `t` of a degree-`order` polynomial is the bit that leaves the register `order − t` steps from now.
        let feedback = taps.iter().fold(0, |acc, &tap| acc ^ (state >> (order - tap))) & 1;
        state = (state >> 1) | (feedback << (order - 1));
    }
    sequence
}

/// The outcome of one latency measurement, from [`estimate_delay`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Lag, in samples, at which the recording best matches the reference.
    pub delay_samples: i64,
    /// `delay_samples` refined to a fraction of a sample by fitting a parabola
    /// through the correlation magnitude at the peak and its two neighbours.
    pub delay_fractional: f64,
    /// Correlation peak over the RMS of the correlation away from the peak, in
    /// dB. NaN when there is nothing to compare: an empty or silent input, or
    /// a search window too small to leave any lags outside the peak's guard.
    pub peak_to_noise_db: f64,
    /// Whether `peak_to_noise_db` reached the gate, i.e. whether the delay can
    /// be trusted.
    pub accepted: bool,
}

impl Estimate {
    /// An estimate that found nothing.
    const NOTHING: Self = Self { delay_samples: 0, delay_fractional: 0.0, peak_to_noise_db: f64::NAN, accepted: false };
}

/// Finds how many samples later the `reference` burst appears in `recorded`.
///
/// Both signals are taken at the same sample rate and `recorded` is assumed to
/// start when playback of `reference` started. The recording is
/// cross-correlated against the reference (with FFTs, so long windows stay
/// cheap) for every lag in `0..=max_lag`, and the lag with the largest
/// magnitude wins; the magnitude makes a microphone that inverts polarity
/// measure the same. Lags the recording is too short to have are not
/// searched.
///
/// The estimate is `accepted` when the peak stands at least `gate_db` above
/// the RMS of the correlation outside a guard of a few dozen lags around it;
/// [`DEFAULT_GATE_DB`] is a sensible choice. A NaN gate accepts nothing.
///
/// The mean of each signal is removed first, so a DC offset in the recording
/// does not bias the correlation, and non-finite samples count as silence.
pub fn estimate_delay(reference: &[f32], recorded: &[f32], max_lag: usize, gate_db: f64) -> Estimate {
    if reference.is_empty() || recorded.is_empty() {
        return Estimate::NOTHING;
    }
    let max_lag = max_lag.min(recorded.len() - 1);
    // Later samples never meet the reference at a lag within the window.
    let recorded = &recorded[..recorded.len().min(max_lag + reference.len())];
    let correlation = cross_correlate(reference, recorded, max_lag);
    let magnitude = |lag: usize| correlation[lag].abs();

    let (peak_lag, peak) = (0..=max_lag)
        .map(|lag| (lag, magnitude(lag)))
        .fold((0, 0.0), |best, cur| if cur.1 > best.1 { cur } else { best });
    if peak == 0.0 || !peak.is_finite() {
        return Estimate::NOTHING;
    }

    let (sum_sq, count) = correlation
        .iter()
        .enumerate()
        .filter(|(lag, _)| lag.abs_diff(peak_lag) > NOISE_GUARD_LAGS)
        .fold((0.0, 0usize), |(sum, n), (_, r)| (sum + r * r, n + 1));
    // With no noise lags this is 0/0 = NaN, which no gate accepts.
    let noise_rms = (sum_sq / count as f64).sqrt();
    let peak_to_noise_db = 20.0 * (peak / noise_rms).log10();

    // The true peak of a delayed, band-limited copy generally falls between
    // two lags; the vertex of a parabola through the three samples around the
    // maximum locates it. At the window's edges there is no neighbour to fit.
    let mut offset = 0.0;
    if peak_lag > 0 && peak_lag < max_lag {
        let (before, after) = (magnitude(peak_lag - 1), magnitude(peak_lag + 1));
        let curvature = before - 2.0 * peak + after;
        if curvature < 0.0 {
            offset = (0.5 * (before - after) / curvature).clamp(-0.5, 0.5);
        }
    }

    Estimate {
        delay_samples: peak_lag as i64,
        delay_fractional: peak_lag as f64 + offset,
        peak_to_noise_db,
        accepted: peak_to_noise_db >= gate_db,
    }
}

/// `r[k] = Σ recorded[n + k] · reference[n]` for `k` in `0..=max_lag`, both
/// signals with their means removed. Needs
/// `recorded.len() <= reference.len() + max_lag`.
///
/// The values are scaled by the FFT length; only their ratios are used.
fn cross_correlate(reference: &[f32], recorded: &[f32], max_lag: usize) -> Vec<f64> {
    // The FFT computes a circular correlation. Padding both signals to at
    // least `reference.len() + max_lag` keeps every product needed for the
    // lags in range from wrapping around; a power of two keeps the FFT fast.
    let min_len = reference.len() + max_lag;
    let len = min_len.checked_next_power_of_two().unwrap_or(min_len);
    let mut planner = FftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(len);
    let inverse = planner.plan_fft_inverse(len);
    let mut scratch =
        vec![Complex::default(); forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len())];

    let mut recorded = centred_and_padded(recorded, len);
    let mut reference = centred_and_padded(reference, len);
    forward.process_with_scratch(&mut recorded, &mut scratch);
    forward.process_with_scratch(&mut reference, &mut scratch);
    // Correlation is convolution with the time-reversed reference, i.e.
    // multiplication by its conjugate spectrum.
    for (x, y) in recorded.iter_mut().zip(&reference) {
        *x *= y.conj();
    }
    inverse.process_with_scratch(&mut recorded, &mut scratch);
    recorded[..=max_lag].iter().map(|c| c.re).collect()
}

/// `signal` minus its mean, with non-finite samples as zero, zero-padded to
/// `len` complex samples.
fn centred_and_padded(signal: &[f32], len: usize) -> Vec<Complex<f64>> {
    let finite = || signal.iter().map(|&s| if s.is_finite() { f64::from(s) } else { 0.0 });
    let mean = finite().sum::<f64>() / signal.len() as f64;
    let mut padded: Vec<_> = finite().map(|s| Complex::new(s - mean, 0.0)).collect();
    padded.resize(len, Complex::default());
    padded
}

/// Combines repeated measurements into one latency: the median of the accepted
/// estimates' [`delay_fractional`](Estimate::delay_fractional), and their
/// spread (largest minus smallest), both in samples.
///
/// Returns `None` unless at least `min_accepted` estimates (and at least one)
/// were accepted. The median ignores a minority of outliers, such as a take
/// disturbed by a door slam; a large spread means the measurements disagree
/// (a wireless headset's varying latency, say), and the caller may retry or
/// warn rather than trust the median.
pub fn combine(estimates: &[Estimate], min_accepted: usize) -> Option<(f64, f64)> {
    let mut delays: Vec<f64> =
        estimates.iter().filter(|e| e.accepted && e.delay_fractional.is_finite()).map(|e| e.delay_fractional).collect();
    if delays.is_empty() || delays.len() < min_accepted {
        return None;
    }
    delays.sort_by(f64::total_cmp);
    let mid = delays.len() / 2;
    let median = if delays.len() % 2 == 1 { delays[mid] } else { (delays[mid - 1] + delays[mid]) / 2.0 };
    let spread = delays[delays.len() - 1] - delays[0];
    Some((median, spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic white Gaussian noise: SplitMix64 uniforms through the
    /// Box–Muller transform.
    struct Gaussian {
        state: u64,
        spare: Option<f64>,
    }

    impl Gaussian {
        fn new(seed: u64) -> Self {
            Self { state: seed, spare: None }
        }

        /// Uniform in (0, 1]; never 0, so that the logarithm stays finite.
        fn uniform(&mut self) -> f64 {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) + 1) as f64 / (1u64 << 53) as f64
        }

        /// Standard normal.
        fn sample(&mut self) -> f64 {
            if let Some(spare) = self.spare.take() {
                return spare;
            }
            let radius = (-2.0 * self.uniform().ln()).sqrt();
            let angle = std::f64::consts::TAU * self.uniform();
            self.spare = Some(radius * angle.sin());
            radius * angle.cos()
        }
    }

    /// A small room: the direct sound and a few decaying reflections, as (lag, gain).
    const ROOM: &[(usize, f32)] = &[(0, 1.0), (7, 0.55), (31, -0.35), (113, 0.2), (260, 0.1)];
    const MAX_LAG: usize = 9600;

    /// What the microphone would pick up if `reference` were played through
    /// `room` with the given latency and gain, plus a DC offset and white
    /// noise at `snr_db` relative to the burst's power; `len` samples long.
    fn round_trip(
        reference: &[f32],
        delay: usize,
        gain: f32,
        room: &[(usize, f32)],
        snr_db: f64,
        len: usize,
        noise: &mut Gaussian,
    ) -> Vec<f32> {
        let mut clean = vec![0.0f32; len];
        for &(lag, echo) in room {
            for (i, &s) in reference.iter().enumerate() {
                if let Some(out) = clean.get_mut(delay + lag + i) {
                    *out += gain * echo * s;
                }
            }
        }
        let burst = &clean[delay.min(len)..(delay + reference.len()).min(len)];
        let power = burst.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / burst.len() as f64;
        let sigma = (power / 10f64.powf(snr_db / 10.0)).sqrt();
        clean.iter().map(|&s| s + 0.05 + (sigma * noise.sample()) as f32).collect()
    }

    #[test]
    fn mls_has_the_expected_length_and_balance() {
        for order in MLS_MIN_ORDER..=MLS_MAX_ORDER {
            let sequence = mls(order);
            assert_eq!(sequence.len(), (1 << order) - 1, "order {order}");
            let ones = sequence.iter().filter(|&&s| s == 1.0).count();
            let minus_ones = sequence.iter().filter(|&&s| s == -1.0).count();
            assert_eq!(ones + minus_ones, sequence.len(), "order {order}: only ±1");
            assert_eq!(ones, minus_ones + 1, "order {order}");
        }
    }

    #[test]
    fn mls_circular_autocorrelation_is_two_valued() {
        for order in MLS_MIN_ORDER..=MLS_MAX_ORDER {
            let sequence = mls(order);
            let n = sequence.len();
            // |FFT|² is the spectrum of the circular autocorrelation.
            let mut planner = FftPlanner::<f64>::new();
            let mut spectrum: Vec<_> = sequence.iter().map(|&s| Complex::new(f64::from(s), 0.0)).collect();
            planner.plan_fft_forward(n).process(&mut spectrum);
            for bin in &mut spectrum {
                *bin = Complex::new(bin.norm_sqr(), 0.0);
            }
            planner.plan_fft_inverse(n).process(&mut spectrum);
            for (lag, r) in spectrum.iter().enumerate() {
                let expected = if lag == 0 { n as f64 } else { -1.0 };
                assert!((r.re / n as f64 - expected).abs() < 1e-6, "order {order}, lag {lag}: {}", r.re / n as f64);
            }
        }
    }

    #[test]
    fn mls_order_is_clamped() {
        assert_eq!(mls(0).len(), 1023);
        assert_eq!(mls(u32::MAX).len(), 65535);
        assert_eq!(mls(3), mls(10));
    }

    #[test]
    fn recovers_known_delays_through_a_room_in_noise() {
        let reference = mls(12);
        let mut noise = Gaussian::new(1);
        for snr_db in [20.0, 10.0, 0.0] {
            for (i, delay) in [0usize, 1, 137, 2048, 4801].into_iter().enumerate() {
                // Quiet and loud, and one inverted, as an odd microphone might be.
                let gain = [0.3, -0.7, 0.05][i % 3];
                let recorded = round_trip(&reference, delay, gain, ROOM, snr_db, 4801 + 4095 + 2048, &mut noise);
                let estimate = estimate_delay(&reference, &recorded, MAX_LAG, DEFAULT_GATE_DB);
                assert!(estimate.accepted, "SNR {snr_db} dB, delay {delay}: {estimate:?}");
                assert!(
                    estimate.delay_samples.abs_diff(delay as i64) <= 1,
                    "SNR {snr_db} dB, delay {delay}: {estimate:?}"
                );
                assert!(
                    (estimate.delay_fractional - delay as f64).abs() <= 1.0,
                    "SNR {snr_db} dB, delay {delay}: {estimate:?}"
                );
            }
        }
    }

    #[test]
    fn clean_delay_is_exact() {
        let reference = mls(10);
        let mut recorded = vec![0.0; 3000];
        recorded[500..500 + reference.len()].copy_from_slice(&reference);
        let estimate = estimate_delay(&reference, &recorded, 2000, DEFAULT_GATE_DB);
        assert!(estimate.accepted, "{estimate:?}");
        assert_eq!(estimate.delay_samples, 500);
        assert!((estimate.delay_fractional - 500.0).abs() < 0.01, "{estimate:?}");
    }

    #[test]
    fn interpolates_half_a_sample() {
        // Averaging neighbouring samples delays a signal by half a sample.
        let reference = mls(12);
        let delay = 300;
        let mut recorded = vec![0.0f32; 6000];
        for (i, pair) in reference.windows(2).enumerate() {
            recorded[delay + 1 + i] = 0.5 * (pair[0] + pair[1]);
        }
        recorded[delay] = 0.5 * reference[0];
        recorded[delay + reference.len()] = 0.5 * reference[reference.len() - 1];
        let estimate = estimate_delay(&reference, &recorded, 2000, DEFAULT_GATE_DB);
        assert!(estimate.accepted, "{estimate:?}");
        assert!((estimate.delay_fractional - (delay as f64 + 0.5)).abs() < 0.01, "{estimate:?}");
    }

    #[test]
    fn pure_noise_is_rejected() {
        let reference = mls(12);
        for seed in 0..8 {
            let mut noise = Gaussian::new(seed);
            let recorded: Vec<f32> = (0..MAX_LAG + reference.len()).map(|_| 0.1 * noise.sample() as f32).collect();
            let estimate = estimate_delay(&reference, &recorded, MAX_LAG, DEFAULT_GATE_DB);
            assert!(!estimate.accepted, "seed {seed}: {estimate:?}");
            assert!(estimate.peak_to_noise_db < DEFAULT_GATE_DB - 3.0, "seed {seed}: {estimate:?}");
        }
    }

    #[test]
    fn burst_buried_in_noise_is_rejected() {
        // A short burst 30 dB below the noise gains only 30 dB from the correlation: not enough to stand out.
        let reference = mls(10);
        for seed in 0..8 {
            let mut noise = Gaussian::new(100 + seed);
            let recorded = round_trip(&reference, 1500, 0.5, ROOM, -30.0, MAX_LAG + reference.len(), &mut noise);
            let estimate = estimate_delay(&reference, &recorded, MAX_LAG, DEFAULT_GATE_DB);
            assert!(!estimate.accepted, "seed {seed}: {estimate:?}");
        }
    }

    #[test]
    fn gate_decides_acceptance() {
        let reference = mls(11);
        let mut noise = Gaussian::new(7);
        let recorded = round_trip(&reference, 900, 0.5, ROOM, 0.0, 6000, &mut noise);
        let measured = estimate_delay(&reference, &recorded, 4000, DEFAULT_GATE_DB);
        assert!(measured.accepted, "{measured:?}");
        let strict = estimate_delay(&reference, &recorded, 4000, measured.peak_to_noise_db + 1.0);
        assert!(!strict.accepted);
        assert_eq!(strict.delay_samples, measured.delay_samples);
        assert!(!estimate_delay(&reference, &recorded, 4000, f64::NAN).accepted);
    }

    #[test]
    fn degenerate_inputs_are_rejected_without_panicking() {
        let reference = mls(10);
        let rejected = |estimate: Estimate| !estimate.accepted && estimate.peak_to_noise_db.is_nan();
        assert!(rejected(estimate_delay(&[], &reference, 100, DEFAULT_GATE_DB)));
        assert!(rejected(estimate_delay(&reference, &[], 100, DEFAULT_GATE_DB)));
        // Silence, or nothing but DC, correlates with nothing.
        assert!(rejected(estimate_delay(&reference, &[0.0; 4000], 2000, DEFAULT_GATE_DB)));
        assert!(rejected(estimate_delay(&reference, &[0.3; 4000], 2000, DEFAULT_GATE_DB)));
        // A single lag leaves nothing to measure the noise against.
        assert!(rejected(estimate_delay(&reference, &reference, 0, DEFAULT_GATE_DB)));
        // Non-finite samples count as silence.
        let mut recorded = vec![0.0; 3000];
        recorded[200..200 + reference.len()].copy_from_slice(&reference);
        recorded[10] = f32::NAN;
        recorded[2500] = f32::INFINITY;
        let estimate = estimate_delay(&reference, &recorded, usize::MAX, DEFAULT_GATE_DB);
        assert!(estimate.accepted, "{estimate:?}");
        assert_eq!(estimate.delay_samples, 200);
        // A recording shorter than the burst still finds the part that is there.
        let estimate = estimate_delay(&reference, &reference[..600], usize::MAX, DEFAULT_GATE_DB);
        assert_eq!(estimate.delay_samples, 0);
    }

    fn measured(delay: f64, accepted: bool) -> Estimate {
        Estimate { delay_samples: delay.round() as i64, delay_fractional: delay, peak_to_noise_db: 30.0, accepted }
    }

    #[test]
    fn combine_takes_the_median_of_accepted_estimates() {
        let estimates = [
            measured(480.2, true),
            measured(9000.0, false),
            measured(481.0, true),
            measured(2.0, false),
            measured(479.6, true),
        ];
        let (median, spread) = combine(&estimates, 3).unwrap();
        assert_eq!(median, 480.2);
        assert!((spread - 1.4).abs() < 1e-9);

        // An even count averages the middle two; one outlier does not move the median far.
        let estimates = [measured(100.0, true), measured(101.0, true), measured(102.0, true), measured(900.0, true)];
        assert_eq!(combine(&estimates, 2), Some((101.5, 800.0)));
    }

    #[test]
    fn combine_rejects_when_too_few_pass() {
        let estimates = [measured(480.0, true), measured(481.0, false), measured(482.0, true)];
        assert_eq!(combine(&estimates, 3), None);
        assert_eq!(combine(&estimates, 2), Some((481.0, 2.0)));
        assert_eq!(combine(&[], 0), None);
        assert_eq!(combine(&[measured(1.0, false)], 0), None);
    }
}
