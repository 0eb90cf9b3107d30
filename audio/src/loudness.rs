//! Loudness helpers shared by the server and the browser.

/// Gain in dB that moves a recording measured at `integrated_lufs` to
/// `target_lufs` (for example -23 LUFS for EBU R128 or -14 LUFS for streaming
/// playback). LUFS differences are plain dB differences, so this is a
/// subtraction; a non-finite measurement (silence) yields 0 dB so that
/// silence is never amplified.
pub fn gain_db_for_target(integrated_lufs: f64, target_lufs: f64) -> f32 {
    let gain = target_lufs - integrated_lufs;
    if gain.is_finite() { gain as f32 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::gain_db_for_target;

    #[test]
    fn gain_is_the_difference() {
        assert_eq!(gain_db_for_target(-18.0, -23.0), -5.0);
        assert_eq!(gain_db_for_target(-30.5, -14.0), 16.5);
        assert_eq!(gain_db_for_target(f64::NEG_INFINITY, -23.0), 0.0);
        assert_eq!(gain_db_for_target(f64::NAN, -23.0), 0.0);
    }
}
