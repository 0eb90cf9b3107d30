//! Defects the fuzzer found in this crate, each with the smallest input that
//! showed it.

use std::io::Cursor;

use audio::ingest::ingest;

use crate::common::*;
use crate::guard::{Verdict, guarded_ingest, install_panic_hook, upload_options};

/// A float WAV holding NaN or infinite samples, at a rate that needs
/// resampling: a single such sample made the resampler's FFT chunk all NaN and
/// rubato panicked on the inverse transform ("Imaginary part of first value was
/// non-zero"), so the upload was refused as malformed. NaN is now silence and
/// the rest is clipped like any other over.
#[test]
fn non_finite_float_samples_are_tamed_before_resampling() {
    let rate = 22_050;
    let mut x = sine(rate, 1, 0.5, 440.0, 0.5);
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    x[300] = f32::NEG_INFINITY;
    x[400] = 1e30;
    let bytes = WavSpec::new(rate, 1, WavFormat::Float32).bytes(&x);
    let mut out = Cursor::new(Vec::new());
    let report = ingest(Cursor::new(bytes), Some("wav"), &mut out, &upload_options()).expect("ingest");
    assert_eq!(report.frames, 22_050);
    let decoded = decode_flac(&out.into_inner());
    // Away from the damaged stretch (and the file's end) the tone is untouched by it.
    let want = sine(44_100, 1, 0.5, 440.0, 0.5);
    let (from, to) = (4_000, decoded.samples.len() - 2_000);
    let err = max_error(&decoded.samples[from..to], &want[from..to]);
    assert!(err < 2e-3, "tone off by {err} after the damage");
}

/// An AIFF (or WAV) header may declare up to 65,535 channels, and the decoder
/// sizes its buffers by that: a 130 KB file declaring 32,767 channels held
/// 73 MB (a mutated 53 KB AIFF declaring 65,535 held 289 MB in a release
/// build, where the channel-count arithmetic does not trap). Such a file is
/// refused before the decoder is made.
#[test]
fn absurd_channel_counts_are_refused_before_decoding() {
    install_panic_hook();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wide.aiff");
    let channels = 32_767;
    write_aiff(&path, 44_100, channels, &vec![0.1; usize::from(channels) * 2]);
    let bytes = std::fs::read(&path).expect("read");
    let outcome = guarded_ingest(bytes, "aiff").expect("an answer in time");
    assert!(outcome.peak_bytes < 16 << 20, "held {} MiB", outcome.peak_bytes >> 20);
    match &outcome.verdict {
        Verdict::Err { kind: "Unsupported", message } => assert!(message.contains("32767 channels"), "{message}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
