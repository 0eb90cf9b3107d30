//! Names and limits shared by compositions, tracks, collections and the mixdown.
use crate::context::AppSettings;

/// What a composition's mixdown is called.
pub(super) fn mixdown_filename(title: &str) -> String {
    format!("{title} (mixdown).wav")
}

/// The longest composition Tutti renders, in frames: as long as the longest audio it takes.
pub(super) fn longest_frames(settings: &AppSettings) -> i64 {
    i64::try_from(settings.max_audio_seconds.saturating_mul(u64::from(settings.canonical_rate))).unwrap_or(i64::MAX)
}
