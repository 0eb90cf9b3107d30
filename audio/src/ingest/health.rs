//! The packet-level error policy: how much damage a file may have before it is refused.

use symphonia::core::packet::Packet;

use super::{IngestError, MAX_BAD_PACKET_SHARE, MAX_CONSECUTIVE_BAD_PACKETS};

/// Bookkeeping for the packet-level error policy.
#[derive(Default)]
pub(super) struct Health {
    good: u64,
    pub(super) bad: u64,
    consecutive_bad: u64,
    last_error: String,
    /// Set while every failure so far was the decoder rejecting a feature;
    /// holds the message for the uploader.
    unsupported: Option<String>,
    /// Where the next packet should start if nothing was lost.
    next_pts: Option<i64>,
}

impl Health {
    pub(super) fn good(&mut self) {
        self.good += 1;
        self.consecutive_bad = 0;
        self.unsupported = None;
    }

    pub(super) fn bad(&mut self, packets: u64, why: &str) -> Result<(), IngestError> {
        self.unsupported = None;
        self.record(packets, why)
    }

    pub(super) fn unsupported(&mut self, feature: &str, codec: &str) -> Result<(), IngestError> {
        if self.good == 0 && (self.bad == 0 || self.unsupported.is_some()) {
            self.unsupported = Some(format!(
                "this {codec} audio uses a feature the decoder does not support ({feature}); convert it to FLAC, WAV or Ogg Vorbis"
            ));
        }
        self.record(1, feature)
    }

    fn record(&mut self, packets: u64, why: &str) -> Result<(), IngestError> {
        self.bad += packets;
        self.consecutive_bad += packets;
        why.clone_into(&mut self.last_error);
        if self.consecutive_bad > MAX_CONSECUTIVE_BAD_PACKETS {
            if let Some(what) = self.unsupported.take() {
                return Err(IngestError::Unsupported { what });
            }
            return Err(IngestError::Corrupt(format!(
                "the audio data is damaged: {} packets in a row are unreadable ({why})",
                self.consecutive_bad
            )));
        }
        Ok(())
    }

    /// Some demuxers resynchronise silently after damaged data (Ogg skips
    /// pages that fail their CRC, FLAC skips to the next frame header). The
    /// jump in timestamps that results is counted as lost packets, so damage
    /// is judged the same way whether the demuxer or the decoder noticed it.
    pub(super) fn check_continuity(&mut self, packet: &Packet) -> Result<(), IngestError> {
        let span = packet.trim_start.get() + packet.dur.get() + packet.trim_end.get();
        let pts = packet.pts.get();
        if let Some(expected) = self.next_pts
            && span > 0
        {
            let gap = u64::try_from(pts.saturating_sub(expected)).unwrap_or(0);
            // Up to one packet of slack: some containers round timestamps.
            if gap > span {
                self.bad(gap / span, "part of the audio data is missing")?;
            }
        }
        self.next_pts = i64::try_from(span).ok().and_then(|s| pts.checked_add(s));
        Ok(())
    }

    /// End-of-stream judgement on the share of damaged packets.
    pub(super) fn verdict(&self, codec: &str) -> Result<(), IngestError> {
        if self.bad == 0 {
            return Ok(());
        }
        let total = self.good + self.bad;
        if let Some(what) = &self.unsupported {
            return Err(IngestError::Unsupported { what: what.clone() });
        }
        if self.good == 0 {
            return Err(IngestError::Corrupt(format!(
                "none of the {codec} audio could be decoded ({})",
                self.last_error
            )));
        }
        if self.bad as f64 > MAX_BAD_PACKET_SHARE * total as f64 {
            return Err(IngestError::Corrupt(format!(
                "{} of {total} packets of the {codec} audio are damaged ({})",
                self.bad, self.last_error
            )));
        }
        Ok(())
    }
}

/// Whether a stream that ended normally still delivered fewer frames than its
/// header declares. Lossless codecs must deliver every declared frame. For
/// lossy ones the declared count may be an estimate (an MP3 without a Xing
/// header is sized from its bitrate), so only a clear shortfall counts: more
/// than 2 % and more than half a second.
pub(super) fn is_short(decoded: u64, declared: u64, lossless: bool, rate: u32) -> bool {
    let missing = declared.saturating_sub(decoded);
    if lossless { missing > 0 } else { missing as f64 > (0.02 * declared as f64).max(0.5 * f64::from(rate)) }
}
