//! Linear prediction: the windowed autocorrelation, Levinson–Durbin, coefficient quantisation and
//! the residual of the chosen predictor.

use super::bits::fold;
use super::{MAX_LPC_ORDER, MAX_RESIDUAL};

/// Per-subframe working buffers.
pub(super) struct Scratch {
    /// The CPU supports AVX2.
    pub(super) avx2: bool,
    /// Tukey window for `window_len` samples.
    pub(super) window: Vec<f64>,
    pub(super) window_len: usize,
    pub(super) windowed: Vec<f64>,
    /// Folded residuals of the fixed and LPC candidates.
    pub(super) fixed_res: Vec<u32>,
    pub(super) lpc_res: Vec<u32>,
    pub(super) acc: Vec<i64>,
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
pub(super) fn lpc_model(s: &mut Scratch, x: &[i32], bps: u32) -> Option<(usize, u32, u32, [i32; MAX_LPC_ORDER])> {
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
pub(super) fn lpc_residual(
    x: &[i32],
    coefs: &[i32],
    shift: u32,
    bps: u32,
    out: &mut Vec<u32>,
    acc: &mut Vec<i64>,
) -> bool {
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
