//! Lossless inputs (WAV, AIFF, FLAC, ALAC) keep their samples, or their
//! pitch and level where they are resampled, and surround folds down to stereo.

use crate::common::*;

#[test]
fn wav_16_bit_at_target_rate_round_trips_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.wav");
    let mut x = sine(TARGET, 2, 1.5, 440.0, 0.5);
    let n = noise(x.len(), 0.3, 7);
    for (s, n) in x.iter_mut().zip(n) {
        *s += n;
    }
    let spec = WavSpec {
        info: vec![("INAM", "Wav Title".into()), ("IART", "Wav Artist".into()), ("IPRD", "Wav Album".into())],
        ..WavSpec::new(TARGET, 2, WavFormat::Int16)
    };
    write_wav(&path, &spec, &x);

    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.container, "wav");
    assert_eq!(report.title.as_deref(), Some("Wav Title"));
    assert_eq!(report.artist.as_deref(), Some("Wav Artist"));
    assert_eq!(report.album.as_deref(), Some("Wav Album"));
    assert_eq!(report.codec, "pcm_s16le");
    assert_eq!((report.original_rate, report.original_channels), (TARGET, 2));
    assert_eq!(report.original_bits, Some(16));
    assert_eq!((report.canonical_rate, report.canonical_channels, report.canonical_bits), (TARGET, 2, 16));
    assert_eq!(report.frames as usize, x.len() / 2);
    assert_lossless_duration(report.duration_seconds, x.len() / 2, TARGET);
    let want: Vec<i32> = x.iter().map(|&v| to_int(v, 16)).collect();
    assert_eq!(decoded.ints(), want, "FLAC samples differ from the 16-bit input");
}

#[test]
fn wav_24_bit_keeps_24_bits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.wav");
    let x = noise(TARGET as usize, 0.9, 3);
    write_wav(&path, &WavSpec::new(TARGET, 1, WavFormat::Int24), &x);

    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.codec, "pcm_s24le");
    assert_eq!(report.original_bits, Some(24));
    assert_eq!(report.canonical_bits, 24);
    assert_eq!(report.canonical_channels, 1);
    let want: Vec<i32> = x.iter().map(|&v| to_int(v, 24)).collect();
    assert_eq!(decoded.ints(), want);
}

#[test]
fn float_wav_is_stored_as_24_bit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.wav");
    let x = sine(48_000, 2, 1.0, 1000.0, 0.8);
    write_wav(&path, &WavSpec::new(48_000, 2, WavFormat::Float32), &x);

    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.codec, "pcm_f32le");
    assert_eq!(report.original_bits, Some(32));
    assert_eq!(report.canonical_bits, 24);
    assert_eq!(report.original_rate, 48_000);
    assert_eq!(report.canonical_rate, TARGET);
    assert_lossless_duration(report.duration_seconds, x.len() / 2, 48_000);
    let f = tone_frequency(&decoded, 0);
    assert!((f - 1000.0).abs() < 0.5, "frequency {f}");
}

#[test]
fn aiff_round_trips_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.aiff");
    let x = noise(2 * 30_000, 0.5, 11);
    write_aiff(&path, TARGET, 2, &x);

    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.container, "aiff");
    assert_eq!(report.codec, "pcm_s16be");
    assert_eq!(report.frames, 30_000);
    let want: Vec<i32> = x.iter().map(|&v| to_int(v, 16)).collect();
    assert_eq!(decoded.ints(), want);
}

#[test]
fn flac_input_is_resampled_and_tagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(48_000, 2, 2.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(
        dir.path(),
        "in.flac",
        48_000,
        2,
        &x,
        &[
            "-c:a",
            "flac",
            "-metadata",
            "title=Flac Title",
            "-metadata",
            "artist=Flac Artist",
            "-metadata",
            "album=Flac Album",
        ],
    );
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.container.as_str(), report.codec.as_str()), ("flac", "flac"));
    assert_eq!(report.original_bits, Some(16));
    assert_eq!(report.canonical_bits, 16);
    assert_lossless_duration(report.duration_seconds, 96_000, 48_000);
    assert_eq!(report.title.as_deref(), Some("Flac Title"));
    assert_eq!(report.artist.as_deref(), Some("Flac Artist"));
    assert_eq!(report.album.as_deref(), Some("Flac Album"));
    assert!(report.tags.iter().any(|(k, v)| k.eq_ignore_ascii_case("title") && v == "Flac Title"));
    let f = tone_frequency(&decoded, 0);
    assert!((f - 440.0).abs() < 0.2, "frequency {f}");
}

#[test]
fn tone_keeps_its_pitch_when_resampled_from_48k_and_22k() {
    let dir = tempfile::tempdir().expect("tempdir");
    for rate in [48_000u32, 22_050] {
        let path = dir.path().join(format!("tone{rate}.wav"));
        let x = sine(rate, 1, 2.0, 440.0, 0.5);
        write_wav(&path, &WavSpec::new(rate, 1, WavFormat::Int16), &x);
        let (report, decoded) = ingest_ok(&path);
        assert_eq!(report.original_rate, rate);
        assert_eq!(report.canonical_rate, TARGET);
        assert_lossless_duration(report.duration_seconds, x.len(), rate);
        let f = tone_frequency(&decoded, 0);
        assert!((f - 440.0).abs() < 0.1, "{rate} Hz source: frequency {f}");
        // Also check the level survived: peak close to 0.5.
        let peak = decoded.samples.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
        assert!((peak - 0.5).abs() < 0.01, "{rate} Hz source: peak {peak}");
    }
}

#[test]
fn alac_in_m4a_ingests_losslessly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = noise(2 * 50_000, 0.5, 5);
    let path = encode_with_ffmpeg(dir.path(), "in.m4a", TARGET, 2, &x, &["-c:a", "alac"]);
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.container.as_str(), report.codec.as_str()), ("mp4", "alac"));
    assert_eq!(report.original_bits, Some(16));
    assert_eq!(report.frames, 50_000);
    let want: Vec<i32> = x.iter().map(|&v| to_int(v, 16)).collect();
    assert_eq!(decoded.ints(), want);
}

#[test]
fn five_one_is_folded_down_to_stereo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("surround.wav");
    // FL FR FC LFE BL BR: a tone on front-left only and a different tone on
    // back-right only.
    let frames = 48_000;
    let left = sine(48_000, 1, 1.0, 500.0, 0.5);
    let right = sine(48_000, 1, 1.0, 700.0, 0.5);
    let mut x = vec![0.0f32; frames * 6];
    for i in 0..frames {
        x[6 * i] = left[i];
        x[6 * i + 5] = right[i];
    }
    let spec = WavSpec { channel_mask: Some(0x3F), ..WavSpec::new(48_000, 6, WavFormat::Int16) };
    write_wav(&path, &spec, &x);

    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.original_channels, 6);
    assert_eq!(report.canonical_channels, 2);
    let l = decoded.channel(0);
    let r = decoded.channel(1);
    let fl = zero_crossing_frequency(&l[2000..l.len() - 2000], TARGET);
    let fr = zero_crossing_frequency(&r[2000..r.len() - 2000], TARGET);
    assert!((fl - 500.0).abs() < 0.5, "left {fl}");
    assert!((fr - 700.0).abs() < 0.5, "right {fr}");
    // Front-left is weighted 1, back-right 0.707, both scaled by 1/(1+2·0.707).
    let peak = |v: &[f32]| v.iter().fold(0.0f32, |m, &s| m.max(s.abs()));
    let norm = 1.0 + std::f32::consts::SQRT_2;
    assert!((peak(&l) - 0.5 / norm).abs() < 0.01, "left peak {}", peak(&l));
    assert!((peak(&r) - 0.5 * std::f32::consts::FRAC_1_SQRT_2 / norm).abs() < 0.01, "right peak {}", peak(&r));
}
