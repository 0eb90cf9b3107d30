//! Composition mixdown: renders a composition's tracks to one stereo signal.
//!
//! The server uses it for offline mixes and the browser for playback and
//! export, so what a musician hears while recording is what gets published.
//!
//! # Gain and pan law
//!
//! A track's level is `g = 10^(gain_db / 20)` ([`db_to_gain`]). Its pan
//! `p ∈ [−1, 1]` (−1 hard left, +1 hard right) gives the angle
//! `θ = (p + 1) · π/4` ([`pan_gains`]):
//!
//! * **Mono sources** use constant-power panning: `L = g · cos θ`,
//!   `R = g · sin θ`. `L² + R² = g²` at every pan, so a sound keeps its
//!   loudness as it moves; at the centre both sides get `g/√2` (−3.01 dB).
//! * **Stereo sources** use a balance control: the left channel feeds only the
//!   left output and the right channel only the right output, with gains
//!   `g · min(1, √2 · cos θ)` and `g · min(1, √2 · sin θ)`. At the centre both
//!   are unity, so an untouched stereo track plays exactly as recorded; panning
//!   attenuates only the side away from the pan, down to silence at ±1.
//!
//! A NaN pan counts as centre and a NaN gain as 0 dB, the neutral settings.
//!
//! # Mixing rules
//!
//! If any track is soloed, only soloed tracks sound; a muted track never does,
//! even when soloed. Tracks are placed at their `offset_frames` (negative
//! offsets cut the head, since the mix starts at frame 0) and summed. There is
//! no normalisation and no clipping: sums may exceed 1.0, and the caller
//! decides whether to limit, normalise or float-encode.
//!
//! # Determinism
//!
//! Gains are computed in `f64` and rounded to `f32`. Each output sample is the
//! sum over the tracks, in the order given, of sample × gain evaluated in
//! `f64`, rounded once to `f32`. Plain IEEE-754 arithmetic gives the same
//! result on x86-64, aarch64 and wasm32, and each output frame is computed
//! independently of the others, so [`mix`] and any split into [`mix_range`]
//! windows agree bit for bit. Only the `sin`/`powf` behind the gains come from
//! each platform's maths library, which may differ in the last bit of an `f64`;
//! rounding the gains to `f32` absorbs that in all but the rarest cases.
//!
//! The module only uses `std`, so it also builds for `wasm32-unknown-unknown`.

use std::f64::consts::{FRAC_PI_4, SQRT_2};

/// One track's audio and mixer settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackMix<'a> {
    /// Interleaved samples.
    pub samples: &'a [f32],
    /// Channels in `samples`: 1 (mono) or 2 (stereo). 0 is treated as mono;
    /// beyond 2, the first two channels are played as left and right and the
    /// rest are ignored. A trailing partial frame is ignored.
    pub channels: usize,
    /// Composition frame at which the track's first frame plays. Negative
    /// when the track starts before the composition's zero.
    pub offset_frames: i64,
    /// Level in dB.
    pub gain_db: f64,
    /// Pan from −1 (left) to +1 (right); out-of-range values are clamped.
    pub pan: f64,
    /// Silences the track.
    pub mute: bool,
    /// When any track is soloed, only soloed tracks sound.
    pub solo: bool,
}

/// Output gains for a source with `source_channels` channels at `pan`, as
/// `[source channel][output channel]` with output 0 left and 1 right. For
/// mono sources (`source_channels` 0 or 1) only row 0 is meaningful; the
/// track's gain is applied on top. See the [module docs](self) for the law.
pub fn pan_gains(pan: f64, source_channels: usize) -> [[f32; 2]; 2] {
    let pan = if pan.is_nan() { 0.0 } else { pan.clamp(-1.0, 1.0) };
    // cos θ = sin(π/2 − θ) = sin((1 − p)·π/4). Evaluating both sides as a sine
    // makes mirrored pans give mirrored gains bit for bit, the centre exactly
    // equal sides, and hard pans an exact zero on the far side.
    let left = ((1.0 - pan) * FRAC_PI_4).sin();
    let right = ((1.0 + pan) * FRAC_PI_4).sin();
    if source_channels >= 2 {
        let balance = |side: f64| (SQRT_2 * side).min(1.0) as f32;
        [[balance(left), 0.0], [0.0, balance(right)]]
    } else {
        [[left as f32, right as f32], [0.0, 0.0]]
    }
}

/// Linear amplitude of a level in dB: `10^(db / 20)`.
///
/// −∞ dB is silence and NaN is treated as 0 dB. Huge levels saturate at the
/// largest finite `f32`, so that silence stays silence (0 × ∞ would be NaN).
pub fn db_to_gain(db: f64) -> f32 {
    if db.is_nan() {
        return 1.0;
    }
    10f64.powf(db / 20.0).min(f64::from(f32::MAX)) as f32
}

/// Mixes `tracks` to interleaved stereo, from the composition's frame 0 to the
/// end of the last audible track (`offset + frames`, or nothing when every
/// track ends before frame 0).
///
/// The whole mix is allocated at once; render long compositions in windows
/// with [`mix_range`] instead.
pub fn mix(tracks: &[TrackMix]) -> Vec<f32> {
    let frames = usize::try_from(mix_frames(tracks)).unwrap_or(usize::MAX);
    let mut out = vec![0.0; frames.saturating_mul(2)];
    render(&voices(tracks), 0, &mut out);
    out
}

/// Frames in the mix of `tracks`: from frame 0 to the end of the last audible
/// track, 0 when every audible track ends before frame 0 (or none sounds).
pub fn mix_frames(tracks: &[TrackMix]) -> u64 {
    let end = voices(tracks).iter().map(Voice::end).max().unwrap_or(0).max(0);
    u64::try_from(end).unwrap_or(u64::MAX)
}

/// Renders composition frames `start..start + len` of the mix as interleaved
/// stereo (`2 · len` samples), exactly as [`mix`] would render them. Frames
/// past the end of every track are silent.
pub fn mix_range(tracks: &[TrackMix], start: u64, len: usize) -> Vec<f32> {
    let mut out = vec![0.0; len.saturating_mul(2)];
    render(&voices(tracks), start, &mut out);
    out
}

/// Frames mixed per pass: enough to amortise the per-track set-up, few enough
/// that the `f64` accumulator stays in cache and small next to the output.
const BLOCK_FRAMES: usize = 4096;

/// An audible track, ready to mix.
struct Voice<'a> {
    samples: &'a [f32],
    /// Samples per frame in `samples`.
    stride: usize,
    stereo: bool,
    /// First composition frame. Positions are `i128` so that no offset and
    /// length can overflow.
    start: i128,
    frames: i128,
    /// Pan gains times the track gain, `[source channel][output channel]`.
    /// Both factors are `f32`, so their product is exact in `f64`.
    gains: [[f64; 2]; 2],
}

impl Voice<'_> {
    fn end(&self) -> i128 {
        self.start + self.frames
    }

    /// Adds this voice's contribution to `acc`, interleaved stereo holding the
    /// composition frames from `acc_start` on.
    fn add_to(&self, acc: &mut [f64], acc_start: i128) {
        let acc_end = acc_start + (acc.len() / 2) as i128;
        let from = acc_start.max(self.start);
        let to = acc_end.min(self.end());
        if from >= to {
            return;
        }
        // All three fit in `usize`: they lie within `acc` or `samples`.
        let count = (to - from) as usize;
        let out_frame = (from - acc_start) as usize;
        let source_frame = (from - self.start) as usize;
        let out = &mut acc[2 * out_frame..2 * (out_frame + count)];
        let source = &self.samples[self.stride * source_frame..self.stride * (source_frame + count)];
        let frames = out.chunks_exact_mut(2).zip(source.chunks_exact(self.stride));
        let g = self.gains;
        if self.stereo {
            for (out, frame) in frames {
                out[0] += f64::from(frame[0]) * g[0][0];
                out[1] += f64::from(frame[1]) * g[1][1];
            }
        } else {
            for (out, frame) in frames {
                let sample = f64::from(frame[0]);
                out[0] += sample * g[0][0];
                out[1] += sample * g[0][1];
            }
        }
    }
}

/// The tracks that sound under the mute and solo rules, ready to mix.
fn voices<'a>(tracks: &[TrackMix<'a>]) -> Vec<Voice<'a>> {
    let any_solo = tracks.iter().any(|t| t.solo);
    tracks
        .iter()
        .filter(|t| !t.mute && (t.solo || !any_solo))
        .map(|t| {
            let stride = t.channels.max(1);
            let gain = f64::from(db_to_gain(t.gain_db));
            let pan = pan_gains(t.pan, stride);
            Voice {
                samples: t.samples,
                stride,
                stereo: stride >= 2,
                start: i128::from(t.offset_frames),
                frames: (t.samples.len() / stride) as i128,
                gains: pan.map(|row| row.map(|p| f64::from(p) * gain)),
            }
        })
        .collect()
}

/// Fills `out` (interleaved stereo) with the mix of `voices` from composition
/// frame `start` on, a block at a time.
fn render(voices: &[Voice], start: u64, out: &mut [f32]) {
    let mut acc = vec![0.0f64; out.len().min(2 * BLOCK_FRAMES)];
    let mut block_start = i128::from(start);
    for block in out.chunks_mut(2 * BLOCK_FRAMES) {
        let acc = &mut acc[..block.len()];
        acc.fill(0.0);
        for voice in voices {
            voice.add_to(acc, block_start);
        }
        for (sample, &sum) in block.iter_mut().zip(acc.iter()) {
            *sample = sum as f32;
        }
        block_start += BLOCK_FRAMES as i128;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CENTRE: f32 = std::f32::consts::FRAC_1_SQRT_2;

    fn mono(samples: &[f32]) -> TrackMix<'_> {
        TrackMix { samples, channels: 1, ..TrackMix::default() }
    }

    fn stereo(samples: &[f32]) -> TrackMix<'_> {
        TrackMix { samples, channels: 2, ..TrackMix::default() }
    }

    fn click(len: usize, at: usize) -> Vec<f32> {
        let mut samples = vec![0.0; len];
        samples[at] = 1.0;
        samples
    }

    fn frame(mix: &[f32], frame: usize) -> (f32, f32) {
        (mix[2 * frame], mix[2 * frame + 1])
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-6
    }

    #[test]
    fn click_lands_at_offset_plus_position_at_centre_gain() {
        let (k, o) = (5, 12);
        let samples = click(10, k);
        let out = mix(&[TrackMix { offset_frames: o as i64, ..mono(&samples) }]);
        assert_eq!(out.len(), 2 * (o + 10));
        for f in 0..o + 10 {
            let (l, r) = frame(&out, f);
            if f == o + k {
                assert!(close(l, CENTRE) && close(r, CENTRE), "frame {f}: {l} {r}");
            } else {
                assert_eq!((l, r), (0.0, 0.0), "frame {f}");
            }
        }
    }

    #[test]
    fn negative_offset_cuts_the_head() {
        let samples = click(10, 5);
        let out = mix(&[TrackMix { offset_frames: -3, ..mono(&samples) }]);
        assert_eq!(out.len(), 2 * 7);
        assert!(close(frame(&out, 2).0, CENTRE));
        assert_eq!(out.iter().filter(|&&s| s != 0.0).count(), 2);

        let early = click(10, 1);
        let out = mix(&[TrackMix { offset_frames: -3, ..mono(&early) }]);
        assert_eq!(out.len(), 2 * 7);
        assert!(out.iter().all(|&s| s == 0.0), "the click was before frame 0");
    }

    #[test]
    fn pan_extremes_and_centre() {
        assert_eq!(pan_gains(-1.0, 1)[0], [1.0, 0.0]);
        assert_eq!(pan_gains(1.0, 1)[0], [0.0, 1.0]);
        let [l, r] = pan_gains(0.0, 1)[0];
        assert_eq!(l, r);
        assert!((20.0 * f64::from(l).log10() + 3.0103).abs() < 1e-3, "{l}");
        // Out-of-range and NaN pans.
        assert_eq!(pan_gains(-7.0, 1), pan_gains(-1.0, 1));
        assert_eq!(pan_gains(f64::INFINITY, 1), pan_gains(1.0, 1));
        assert_eq!(pan_gains(f64::NAN, 1), pan_gains(0.0, 1));
        assert_eq!(pan_gains(f64::NAN, 2), pan_gains(0.0, 2));

        let samples = click(4, 2);
        let left = mix(&[TrackMix { pan: -1.0, ..mono(&samples) }]);
        let right = mix(&[TrackMix { pan: 1.0, ..mono(&samples) }]);
        assert_eq!(frame(&left, 2), (1.0, 0.0));
        assert_eq!(frame(&right, 2), (0.0, 1.0));
    }

    #[test]
    fn mono_pan_is_constant_power() {
        let samples = click(3, 1);
        for gain_db in [0.0, -6.0, -20.0, 4.5] {
            let g = 10f64.powf(gain_db / 20.0);
            for step in 0..=200 {
                let pan = -1.0 + f64::from(step) / 100.0;
                let [l, r] = pan_gains(pan, 1)[0];
                assert!((f64::from(l).powi(2) + f64::from(r).powi(2) - 1.0).abs() < 1e-6, "pan {pan}");
                // Mirrored pans mirror the gains.
                assert_eq!(pan_gains(-pan, 1)[0], [r, l], "pan {pan}");

                let out = mix(&[TrackMix { pan, gain_db, ..mono(&samples) }]);
                let (l, r) = frame(&out, 1);
                let power = f64::from(l).powi(2) + f64::from(r).powi(2);
                assert!((power - g * g).abs() < 1e-6 * g * g, "pan {pan}, gain {gain_db} dB: {power}");
            }
        }
    }

    #[test]
    fn gain_in_db() {
        assert_eq!(db_to_gain(0.0), 1.0);
        assert!((db_to_gain(-6.0206) - 0.5).abs() < 1e-6);
        assert!((db_to_gain(20.0) - 10.0).abs() < 1e-5);
        assert_eq!(db_to_gain(f64::NEG_INFINITY), 0.0);
        assert_eq!(db_to_gain(f64::NAN), 1.0);
        assert_eq!(db_to_gain(f64::INFINITY), f32::MAX);

        let samples = click(4, 0);
        let out = mix(&[TrackMix { gain_db: -6.0206, pan: -1.0, ..mono(&samples) }]);
        assert!((frame(&out, 0).0 - 0.5).abs() < 1e-6);
        // Silence stays silence at absurd gains.
        let out = mix(&[TrackMix { gain_db: 1e9, ..mono(&samples) }]);
        assert_eq!(frame(&out, 1), (0.0, 0.0));
    }

    #[test]
    fn stereo_balance() {
        let samples = [0.25, -0.5, 1.0, 0.75];
        // Centre is unity: the track plays exactly as recorded.
        assert_eq!(pan_gains(0.0, 2), [[1.0, 0.0], [0.0, 1.0]]);
        assert_eq!(mix(&[stereo(&samples)]), samples);
        // Panning attenuates only the far side, down to silence.
        let half_right = pan_gains(0.5, 2);
        assert_eq!(half_right[1][1], 1.0);
        assert!(half_right[0][0] > 0.0 && half_right[0][0] < 1.0);
        assert_eq!(pan_gains(1.0, 2), [[0.0, 0.0], [0.0, 1.0]]);
        assert_eq!(pan_gains(-1.0, 2), [[1.0, 0.0], [0.0, 0.0]]);
        assert_eq!(mix(&[TrackMix { pan: 1.0, ..stereo(&samples) }]), [0.0, -0.5, 0.0, 0.75]);
        assert_eq!(mix(&[TrackMix { pan: -1.0, ..stereo(&samples) }]), [0.25, 0.0, 1.0, 0.0]);
        // Gain applies to both sides.
        let quiet = mix(&[TrackMix { gain_db: -6.0206, ..stereo(&samples) }]);
        assert!(quiet.iter().zip(samples).all(|(&q, s)| (q - 0.5 * s).abs() < 1e-6), "{quiet:?}");
    }

    #[test]
    fn tracks_sum_without_clipping() {
        let a = [1.0, 0.5];
        let b = [1.0, 0.5, 0.25];
        let out = mix(&[TrackMix { pan: -1.0, ..mono(&a) }, TrackMix { pan: -1.0, offset_frames: 1, ..mono(&b) }]);
        assert_eq!(out, [1.0, 0.0, 1.5, 0.0, 0.5, 0.0, 0.25, 0.0]);
    }

    #[test]
    fn mute_and_solo() {
        let (a, b, c) = (click(2, 0), click(2, 1), [0.5f32; 2]);
        let hard_left = |samples| TrackMix { pan: -1.0, ..mono(samples) };
        let left = |out: &[f32]| out.iter().step_by(2).copied().collect::<Vec<f32>>();

        assert_eq!(left(&mix(&[hard_left(&a), hard_left(&b)])), [1.0, 1.0]);
        assert_eq!(left(&mix(&[TrackMix { mute: true, ..hard_left(&a) }, hard_left(&b)])), [0.0, 1.0]);
        // A solo silences the others; several solos sound together.
        assert_eq!(left(&mix(&[TrackMix { solo: true, ..hard_left(&a) }, hard_left(&b)])), [1.0, 0.0]);
        let both = [TrackMix { solo: true, ..hard_left(&a) }, TrackMix { solo: true, ..hard_left(&b) }, hard_left(&c)];
        assert_eq!(left(&mix(&both)), [1.0, 1.0]);
        // Solo and mute on the same track: muted, and it still silences the rest.
        let tracks = [TrackMix { solo: true, mute: true, ..hard_left(&a) }, hard_left(&b)];
        assert!(mix(&tracks).is_empty());
        assert_eq!(mix_range(&tracks, 0, 2), [0.0; 4]);
        let tracks = [TrackMix { solo: true, mute: true, ..hard_left(&a) }, TrackMix { solo: true, ..hard_left(&b) }];
        assert_eq!(left(&mix(&tracks)), [0.0, 1.0]);
    }

    #[test]
    fn length_rules() {
        let ten = [0.1f32; 10];
        assert!(mix(&[]).is_empty());
        assert!(mix(&[mono(&[])]).is_empty());
        assert_eq!(mix(&[TrackMix { offset_frames: 4, ..mono(&ten) }]).len(), 2 * 14);
        assert_eq!(mix(&[TrackMix { offset_frames: 4, ..stereo(&ten) }]).len(), 2 * 9);
        // The longest audible track decides; muted or out-soloed tracks do not count.
        let tracks = [mono(&ten), TrackMix { offset_frames: 100, mute: true, ..mono(&ten) }];
        assert_eq!(mix(&tracks).len(), 2 * 10);
        let tracks = [TrackMix { offset_frames: 100, ..mono(&ten) }, TrackMix { solo: true, ..mono(&ten) }];
        assert_eq!(mix(&tracks).len(), 2 * 10);
        // Wholly before frame 0: nothing.
        assert!(mix(&[TrackMix { offset_frames: -10, ..mono(&ten) }]).is_empty());
        assert!(mix(&[TrackMix { offset_frames: i64::MIN, ..mono(&ten) }]).is_empty());
        // Ranges are as long as asked, and silent past the end.
        assert_eq!(mix_range(&[mono(&ten)], 5, 20).len(), 40);
        assert!(mix_range(&[mono(&ten)], 10, 3).iter().all(|&s| s == 0.0));
        assert!(mix_range(&[mono(&ten)], 0, 0).is_empty());
    }

    #[test]
    fn odd_layouts_do_not_panic() {
        let samples = [0.5f32, 0.25, 1.0, 0.125, 0.75];
        // Channels 0 is mono.
        assert_eq!(mix(&[TrackMix { channels: 0, ..mono(&samples) }]), mix(&[mono(&samples)]));
        // A trailing partial frame is ignored.
        assert_eq!(mix(&[stereo(&samples)]), [0.5, 0.25, 1.0, 0.125]);
        // Beyond two channels, the first two are left and right.
        assert_eq!(mix(&[TrackMix { channels: 3, ..mono(&samples) }]), [0.5, 0.25]);
        // Extreme offsets and windows.
        let track = TrackMix { offset_frames: i64::MAX, ..mono(&samples) };
        assert!(mix_range(&[track], u64::MAX - 2, 4).iter().all(|&s| s == 0.0));
        let track = TrackMix { offset_frames: i64::MAX - 1, pan: -1.0, ..mono(&samples) };
        assert_eq!(mix_range(&[track], i64::MAX as u64, 2), [0.25, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn ranges_match_the_whole_mix() {
        // Long enough to span several blocks, with tracks starting before zero and overlapping.
        let ramp: Vec<f32> = (0..9000).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
        let noise: Vec<f32> =
            (0..12_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 16) as f32 / 65536.0 - 0.5).collect();
        let tracks = [
            TrackMix { offset_frames: -1234, gain_db: -3.0, pan: 0.3, ..mono(&ramp) },
            TrackMix { offset_frames: 2500, gain_db: 2.0, pan: -0.6, ..stereo(&noise) },
            TrackMix { offset_frames: 7000, gain_db: -10.0, ..mono(&noise) },
        ];
        let whole = mix(&tracks);
        assert_eq!(whole.len(), 2 * (7000 + 12_000));
        for window in [1, 7, 1000, BLOCK_FRAMES, BLOCK_FRAMES + 1, 5000] {
            let mut pieces = Vec::new();
            let mut start = 0;
            while pieces.len() < whole.len() {
                pieces.extend(mix_range(&tracks, start as u64, window));
                start += window;
            }
            pieces.truncate(whole.len());
            assert!(pieces == whole, "window {window}");
        }
        // Past the end, silence.
        assert!(mix_range(&tracks, 19_000, 100).iter().all(|&s| s == 0.0));
    }
}
