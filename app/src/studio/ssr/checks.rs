//! Checks and limits shared by compositions, tracks, collections and the mixdown.
use crate::context::AppSettings;
use crate::domain::Title;
use crate::error::AppError;

/// A free-text description: trimmed, at most 5,000 characters.
pub fn check_description(d: &str) -> Result<String, AppError> {
    crate::error::within(d, 5_000, "Keep the description under 5,000 characters.")
}

/// A title or name (see [`Title`]).
pub(super) fn check_title(t: &str) -> Result<String, AppError> {
    Ok(Title::parse(t)?.into_string())
}

/// What a composition's mixdown is called.
pub(super) fn mixdown_filename(title: &str) -> String {
    format!("{title} (mixdown).wav")
}

/// The longest composition Tutti renders, in frames: as long as the longest audio it takes.
pub(super) fn longest_frames(settings: &AppSettings) -> i64 {
    i64::try_from(settings.max_audio_seconds.saturating_mul(u64::from(settings.canonical_rate))).unwrap_or(i64::MAX)
}
