//! Telling a stall of the browser's audio from clock jitter while a take is recorded.
/// Steps of the audio clock's lag behind the page clock up to this are jitter, not a stall (s).
const STALL_JITTER_S: f64 = 0.005;

/// How much of a step in the audio clock's lag behind the page clock (both in seconds, from
/// `AudioContext.getOutputTimestamp`) was a stall: the audio thread or device missed its deadline,
/// so the take may hold a click or lost samples. Slow drift between two clocks stays under the
/// jitter allowance at every step and never counts.
pub fn stall_step(previous_lag: Option<f64>, lag: f64) -> f64 {
    match previous_lag {
        Some(p) if lag - p > STALL_JITTER_S => lag - p,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::stall_step;

    #[test]
    fn only_steps_beyond_jitter_count_as_stalls() {
        // A healthy capture: the lag wobbles by a millisecond and drifts slowly.
        let mut lags = vec![0.0];
        for i in 1..2_000 {
            lags.push(-0.006 + 0.001 * f64::from(i % 2) + 1e-6 * f64::from(i));
        }
        let mut last = None;
        let mut stalled = 0.0;
        for &l in &lags {
            stalled += stall_step(last, l);
            last = Some(l);
        }
        assert_eq!(stalled, 0.0);
        // Two freezes of 140 ms and one of 12 ms, as the audio clock lost them.
        let mut total = 0.0;
        let mut last = Some(-0.003);
        for l in [-0.003, 0.137, 0.137, 0.138, 0.278, 0.290, 0.289] {
            total += stall_step(last, l);
            last = Some(l);
        }
        assert!((total - 0.292).abs() < 1e-9, "{total}");
        assert_eq!(stall_step(None, 5.0), 0.0);
    }
}
