//! Channel fold-down to the canonical layout (mono stays mono, everything
//! with two or more channels becomes stereo).

use symphonia::core::audio::{Channels, Position};

/// -3 dB, the ITU-R BS.775 weight for the centre and surround channels.
const MINUS_3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Converts interleaved frames with the source layout into the canonical one.
#[derive(Debug)]
pub(crate) struct Mixer {
    in_channels: usize,
    /// `(left, right)` weight of each source channel; `None` = pass through.
    weights: Option<Vec<(f32, f32)>>,
}

impl Mixer {
    /// Plans the fold-down for a source layout.
    ///
    /// * 1 or 2 channels are passed through untouched.
    /// * Positioned layouts use the ITU-R BS.775 style matrix:
    ///   `L = FL + 0.707·C + 0.707·(all other left-side channels)`, likewise
    ///   for `R`; other centre channels (rear/top centre) go to both sides at
    ///   -3 dB; LFE is dropped.
    /// * Layouts without positions: channel 0 → L, channel 1 → R, every other
    ///   channel to both sides at -3 dB.
    ///
    /// The matrix is then scaled so that the heavier side's weights sum to 1,
    /// which guarantees a full-scale input cannot clip (the same normalisation
    /// ffmpeg's downmixer applies). Loudness is measured afterwards, so playback
    /// gain can restore the level.
    pub(crate) fn new(layout: &Channels) -> Self {
        let in_channels = layout.count().max(1);
        if in_channels <= 2 {
            return Mixer { in_channels, weights: None };
        }
        let mut weights: Vec<(f32, f32)> = match layout {
            Channels::Positioned(mask) => mask.iter().map(position_weights).collect(),
            _ => (0..in_channels)
                .map(|i| match i {
                    0 => (1.0, 0.0),
                    1 => (0.0, 1.0),
                    _ => (MINUS_3DB, MINUS_3DB),
                })
                .collect(),
        };
        // A layout description with fewer entries than channels should not
        // happen, but must not make us index out of bounds.
        weights.resize(in_channels, (0.0, 0.0));
        let left: f32 = weights.iter().map(|w| w.0).sum();
        let right: f32 = weights.iter().map(|w| w.1).sum();
        let norm = left.max(right);
        if norm > 1.0 {
            for w in &mut weights {
                w.0 /= norm;
                w.1 /= norm;
            }
        }
        Mixer { in_channels, weights: Some(weights) }
    }

    pub(crate) fn out_channels(&self) -> usize {
        if self.weights.is_some() { 2 } else { self.in_channels }
    }

    /// Mixes `input` (interleaved source frames) into `out`, replacing its
    /// contents. Returns `input` itself when no mixing is needed.
    pub(crate) fn mix<'a>(&self, input: &'a [f32], out: &'a mut Vec<f32>) -> &'a [f32] {
        let Some(weights) = &self.weights else {
            return input;
        };
        out.clear();
        for frame in input.chunks_exact(self.in_channels) {
            let (mut l, mut r) = (0.0f32, 0.0f32);
            for (x, w) in frame.iter().zip(weights) {
                l += x * w.0;
                r += x * w.1;
            }
            out.push(l);
            out.push(r);
        }
        out
    }
}

fn position_weights(pos: Position) -> (f32, f32) {
    const LEFT_FULL: Position = Position::FRONT_LEFT;
    const RIGHT_FULL: Position = Position::FRONT_RIGHT;
    let left_side = Position::REAR_LEFT
        | Position::FRONT_LEFT_CENTER
        | Position::SIDE_LEFT
        | Position::TOP_FRONT_LEFT
        | Position::TOP_REAR_LEFT
        | Position::TOP_SIDE_LEFT
        | Position::BOTTOM_FRONT_LEFT
        | Position::FRONT_LEFT_WIDE;
    let right_side = Position::REAR_RIGHT
        | Position::FRONT_RIGHT_CENTER
        | Position::SIDE_RIGHT
        | Position::TOP_FRONT_RIGHT
        | Position::TOP_REAR_RIGHT
        | Position::TOP_SIDE_RIGHT
        | Position::BOTTOM_FRONT_RIGHT
        | Position::FRONT_RIGHT_WIDE;
    let lfe = Position::LFE1 | Position::LFE2;
    if pos == LEFT_FULL {
        (1.0, 0.0)
    } else if pos == RIGHT_FULL {
        (0.0, 1.0)
    } else if lfe.contains(pos) {
        // Most consumer downmixes drop LFE: it duplicates bass already in
        // the main channels and adding it would mostly cause clipping.
        (0.0, 0.0)
    } else if left_side.contains(pos) {
        (MINUS_3DB, 0.0)
    } else if right_side.contains(pos) {
        (0.0, MINUS_3DB)
    } else {
        // Front centre and the other centre positions.
        (MINUS_3DB, MINUS_3DB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_and_stereo_pass_through() {
        let m = Mixer::new(&Channels::Positioned(Position::FRONT_LEFT | Position::FRONT_RIGHT));
        assert_eq!(m.out_channels(), 2);
        let mut scratch = Vec::new();
        assert_eq!(m.mix(&[0.1, 0.2], &mut scratch), &[0.1, 0.2]);
        let m = Mixer::new(&Channels::Positioned(Position::FRONT_CENTER));
        assert_eq!(m.out_channels(), 1);
    }

    #[test]
    fn five_one_folds_to_stereo_without_clipping() {
        let layout = Position::FRONT_LEFT
            | Position::FRONT_RIGHT
            | Position::FRONT_CENTER
            | Position::LFE1
            | Position::REAR_LEFT
            | Position::REAR_RIGHT;
        let m = Mixer::new(&Channels::Positioned(layout));
        assert_eq!(m.out_channels(), 2);
        let mut out = Vec::new();
        // Canonical order: FL FR FC LFE RL RR.
        let mixed = m.mix(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], &mut out).to_vec();
        let norm = 1.0 + 2.0 * MINUS_3DB;
        assert!((mixed[0] - 1.0 / norm).abs() < 1e-6);
        assert_eq!(mixed[1], 0.0);
        let mixed = m.mix(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], &mut out).to_vec();
        assert!((mixed[0] - 1.0).abs() < 1e-6 && (mixed[1] - 1.0).abs() < 1e-6);
        let mixed = m.mix(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0], &mut out).to_vec();
        assert!((mixed[0] - mixed[1]).abs() < 1e-6 && mixed[0] > 0.0);
    }

    #[test]
    fn unpositioned_layout_uses_first_two_channels_as_left_right() {
        let m = Mixer::new(&Channels::Discrete(4));
        let mut out = Vec::new();
        let mixed = m.mix(&[1.0, -1.0, 0.0, 0.0], &mut out).to_vec();
        assert!(mixed[0] > 0.0 && mixed[1] < 0.0);
    }
}
