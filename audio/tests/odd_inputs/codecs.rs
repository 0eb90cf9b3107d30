//! Compressed formats as encoders and devices write them: VBR MP3 without a
//! length, raw AAC, MPEG 2.5, chained Ogg, 24-bit and surround ALAC, AAC
//! variants and priming, one-frame files.

use std::path::Path;

use audio::ingest::{IngestError, IngestOptions};

use crate::common::*;

/// symphonia sizes an MP3 without a Xing/VBRI tag from its first 16 frames
/// and cuts the audio at that estimate. On a VBR file a loud start made the
/// estimate short (a 10 s file came out 7.8 s long) and a quiet start made
/// it long (the complete file was rejected as truncated).
#[test]
fn vbr_mp3_without_a_xing_tag_keeps_its_full_length() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rate = TARGET as usize;
    let loud = noise(8 * rate, 0.3, 5);
    let silence = vec![0.0f32; 2 * rate];
    for (name, x) in
        [("quiet_start.mp3", [&silence[..], &loud].concat()), ("loud_start.mp3", [&loud[..], &silence].concat())]
    {
        let path = encode_with_ffmpeg(
            dir.path(),
            name,
            TARGET,
            1,
            &x,
            &["-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0"],
        );
        let (report, decoded) = ingest_path(&path, &IngestOptions::default())
            .map(|(r, flac)| (r, decode_flac(&flac)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_lossy_duration(report.duration_seconds, 10.0);
        // The noise is where the source has it: compare the level of each second.
        let y = decoded.channel(0);
        for s in 0..10 {
            let level = |v: &[f32]| (v.iter().map(|&a| a * a).sum::<f32>() / v.len() as f32).sqrt();
            let (a, b) = (s * rate, (s + 1) * rate);
            let (want, got) = (level(&x[a..b]), level(&y[a + 2000..b - 2000]));
            assert!((want - got).abs() < 0.03, "{name}: second {s}: level {got} vs {want}");
        }
    }
}

/// Raw ADTS (.aac) states no length at all; symphonia estimates one from a
/// few sample points, and a quiet start made a complete file look truncated.
#[test]
fn raw_aac_with_a_quiet_start_is_not_called_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rate = TARGET as usize;
    let x = [vec![0.0f32; 3 * rate], noise(9 * rate, 0.5, 9)].concat();
    let path = encode_with_ffmpeg(dir.path(), "in.aac", TARGET, 1, &x, &["-c:a", "aac", "-b:a", "256k", "-f", "adts"]);
    let (report, _) = ingest_path(&path, &IngestOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.container, "aac");
    assert_lossy_duration(report.duration_seconds, 12.0);
}

#[test]
fn mpeg_2_5_mp3_at_8_khz_and_a_wav_named_mp3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(8_000, 1, 2.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(dir.path(), "low.mp3", 8_000, 1, &x, &["-c:a", "libmp3lame"]);
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.codec.as_str(), report.original_rate, report.canonical_rate), ("mp3", 8_000, TARGET));
    assert_lossy_duration(report.duration_seconds, 2.0);
    assert!((tone_frequency(&decoded, 0) - 440.0).abs() < 0.5);

    let wav = dir.path().join("actually_wav.mp3");
    let y = noise(2 * 10_000, 0.5, 3);
    write_wav(&wav, &WavSpec::new(TARGET, 2, WavFormat::Int16), &y);
    let (report, decoded) = ingest_ok(&wav);
    assert_eq!((report.container.as_str(), report.codec.as_str()), ("wav", "pcm_s16le"));
    assert_eq!(decoded.samples, as_16_bit(&y));
}

#[test]
fn chained_ogg_of_the_same_format_plays_both_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a =
        encode_with_ffmpeg(dir.path(), "a.ogg", TARGET, 2, &sine(TARGET, 2, 2.0, 440.0, 0.5), &["-c:a", "libvorbis"]);
    let b =
        encode_with_ffmpeg(dir.path(), "b.ogg", TARGET, 2, &sine(TARGET, 2, 1.0, 880.0, 0.5), &["-c:a", "libvorbis"]);
    let path = dir.path().join("chained.ogg");
    std::fs::write(&path, [std::fs::read(a).expect("a"), std::fs::read(b).expect("b")].concat()).expect("write");
    let (report, decoded) = ingest_ok(&path);
    assert_lossy_duration(report.duration_seconds, 3.0);
    let first = Decoded { samples: decoded.samples[..2 * 2 * TARGET as usize].to_vec(), ..decoded };
    assert!((tone_frequency(&first, 0) - 440.0).abs() < 0.5);
}

#[test]
fn alac_24_bit_and_5_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = noise(2 * 30_000, 0.7, 17);
    // 24-bit ALAC from a 24-bit WAV.
    let wav = dir.path().join("hi.wav");
    write_wav(&wav, &WavSpec::new(TARGET, 2, WavFormat::Int24), &x);
    let m4a = dir.path().join("hi.m4a");
    ffmpeg(&["-i", wav.to_str().expect("utf-8"), "-c:a", "alac", m4a.to_str().expect("utf-8")]);
    let (report, decoded) = ingest_ok(&m4a);
    assert_eq!((report.codec.as_str(), report.original_bits, report.canonical_bits), ("alac", Some(24), 24));
    assert_eq!(decoded.ints(), x.iter().map(|&v| to_int(v, 24)).collect::<Vec<_>>());

    // 5.1: a tone on front-left only folds down to the left channel.
    let frames = 48_000;
    let tone_fl = sine(48_000, 1, 1.0, 500.0, 0.5);
    let mut six = vec![0.0f32; frames * 6];
    for i in 0..frames {
        six[6 * i] = tone_fl[i];
    }
    let path = encode_with_ffmpeg(dir.path(), "surround.m4a", 48_000, 6, &six, &["-c:a", "alac"]);
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.original_channels, report.canonical_channels), (6, 2));
    assert_lossless_duration(report.duration_seconds, frames, 48_000);
    assert!((tone_frequency(&decoded, 0) - 500.0).abs() < 0.5);
    let right_peak = decoded.channel(1).iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    assert!(right_peak < 0.001, "front-left leaked into the right channel: {right_peak}");
}

/// Surround Vorbis is refused by name: symphonia's decoder loses a channel of some of them (six
/// identical channels: one comes out silent). Stereo Vorbis is fine, and surround FLAC folds
/// down as it should.
#[test]
fn surround_vorbis_is_refused_and_surround_flac_folds_down_evenly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let same = sine(TARGET, 6, 1.0, 440.0, 0.1);
    let ogg = encode_with_ffmpeg(dir.path(), "same6.ogg", TARGET, 6, &same, &["-c:a", "libvorbis"]);
    match ingest_path(&ogg, &IngestOptions::default()) {
        Err(IngestError::Unsupported { what }) => assert!(what.contains("Vorbis with 6 channels"), "{what}"),
        other => panic!("surround Vorbis was not refused: {:?}", other.map(|(r, _)| r)),
    }
    let flac = encode_with_ffmpeg(dir.path(), "same6.flac", TARGET, 6, &same, &["-c:a", "flac"]);
    let (_, decoded) = ingest_ok(&flac);
    let rms = |x: &[f32]| (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let (l, r) = (rms(&decoded.channel(0)), rms(&decoded.channel(1)));
    assert!(l > 0.05 && (l - r).abs() < 1e-3 * l, "L {l} R {r}");
    let stereo = sine(TARGET, 2, 1.0, 440.0, 0.1);
    let ogg = encode_with_ffmpeg(dir.path(), "stereo.ogg", TARGET, 2, &stereo, &["-c:a", "libvorbis"]);
    let (report, _) = ingest_ok(&ogg);
    assert_eq!((report.codec.as_str(), report.canonical_channels), ("vorbis", 2));
}

/// Apple's encoders prime AAC with 2112 frames (ffmpeg with 1024). The file
/// here is ffmpeg's with 1088 more frames of noise in front of the signal and
/// its edit list rewritten the Apple way: start at 2112, last 2 s.
#[test]
fn aac_with_apple_priming_starts_where_the_signal_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signal: Vec<f32> = (0..2 * TARGET as usize).map(|i| chirp(i as f64 / f64::from(TARGET)) as f32).collect();
    let x = [noise(1088, 0.5, 4), signal].concat();
    let path = encode_with_ffmpeg(dir.path(), "apple.m4a", TARGET, 1, &x, &["-c:a", "aac", "-b:a", "128k"]);
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.windows(4).position(|w| w == b"elst").expect("edit list");
    assert_eq!(bytes[at + 4], 0, "version 0 edit list");
    assert_eq!(&bytes[at + 16..at + 20], &1024u32.to_be_bytes(), "ffmpeg's priming");
    bytes[at + 12..at + 16].copy_from_slice(&2000u32.to_be_bytes()); // ms
    bytes[at + 16..at + 20].copy_from_slice(&2112u32.to_be_bytes());
    std::fs::write(&path, bytes).expect("write");

    let (report, decoded) = ingest_ok(&path);
    assert!((report.duration_seconds - 2.0).abs() <= 0.001, "duration {}", report.duration_seconds);
    let y = decoded.channel(0);
    let score = |lag: i64| -> f64 {
        (TARGET as usize / 2..TARGET as usize)
            .map(|i| f64::from(y[i]) * chirp((i as i64 - lag) as f64 / f64::from(TARGET)))
            .sum()
    };
    let lag = (-200..=200).max_by(|&a, &b| score(a).total_cmp(&score(b))).expect("lags");
    assert!(lag.abs() <= 2, "the output is {lag} frames off the signal");
}

/// Replaces the AAC AudioSpecificConfig in an M4A written by ffmpeg (a
/// 5-byte DecoderSpecificInfo) with `asc`, padded with zeros.
fn with_audio_specific_config(path: &Path, asc: &[u8]) {
    let mut bytes = std::fs::read(path).expect("read");
    let esds = bytes.windows(4).position(|w| w == b"esds").expect("esds");
    let dsi = esds + bytes[esds..].windows(4).position(|w| w == [0x05, 0x80, 0x80, 0x80]).expect("dsi");
    assert_eq!(bytes[dsi + 4], 5, "ffmpeg's DecoderSpecificInfo length");
    let body = &mut bytes[dsi + 5..dsi + 10];
    body.fill(0);
    body[..asc.len()].copy_from_slice(asc);
    std::fs::write(path, bytes).expect("write");
}

/// symphonia decodes AAC-LC in mono and stereo only. Other AAC used to be
/// rejected with "AAC audio is not supported", which reads as if no AAC
/// upload worked; the message now names what this file is.
#[test]
fn aac_the_decoder_cannot_read_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 1, 1.0, 440.0, 0.5);
    // Explicit hierarchical signalling: core LC at 22.05 kHz, mono, SBR to 44.1 kHz (and PS for v2).
    for (name, asc, kind) in [("he.m4a", [0x2B, 0x8A, 0x08], "HE-AAC"), ("hev2.m4a", [0xEB, 0x8A, 0x08], "HE-AAC v2")] {
        let path = encode_with_ffmpeg(dir.path(), name, TARGET, 1, &x, &["-c:a", "aac"]);
        with_audio_specific_config(&path, &asc);
        let what = expect_unsupported(ingest_path(&path, &IngestOptions::default()));
        assert!(what.starts_with(&format!("{kind} audio is not supported")), "{name}: {what}");
        assert!(what.contains("AAC-LC"), "{name}: {what}");
    }
    let six = sine(TARGET, 6, 1.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(dir.path(), "surround.m4a", TARGET, 6, &six, &["-c:a", "aac"]);
    let what = expect_unsupported(ingest_path(&path, &IngestOptions::default()));
    assert!(what.starts_with("6-channel AAC audio is not supported"), "{what}");
}

#[test]
fn m4a_with_the_index_before_or_after_the_audio_is_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 2.0, 440.0, 0.5);
    let back = encode_with_ffmpeg(dir.path(), "back.m4a", TARGET, 2, &x, &["-c:a", "aac"]);
    let front = encode_with_ffmpeg(dir.path(), "front.m4a", TARGET, 2, &x, &["-c:a", "aac", "-movflags", "+faststart"]);
    let order = |p: &Path| {
        let b = std::fs::read(p).expect("read");
        let find = |k: &[u8]| b.windows(4).position(|w| w == k).expect("box");
        find(b"moov") < find(b"mdat")
    };
    assert!(!order(&back) && order(&front));
    let (rb, db) = ingest_ok(&back);
    let (rf, df) = ingest_ok(&front);
    assert_eq!(rb.frames, rf.frames);
    assert_eq!(db.samples, df.samples);
    assert!((rb.duration_seconds - 2.0).abs() <= 0.001, "duration {}", rb.duration_seconds);
}

#[test]
fn one_frame_files_ingest_in_every_codec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = [0.25f32, -0.25];
    for (name, args) in [
        ("one.flac", &["-c:a", "flac"][..]),
        ("one_alac.m4a", &["-c:a", "alac"]),
        ("one.aiff", &["-c:a", "pcm_s16be"]),
        ("one.mp3", &["-c:a", "libmp3lame"]),
        ("one.ogg", &["-c:a", "libvorbis"]),
        ("one_aac.m4a", &["-c:a", "aac"]),
    ] {
        let path = encode_with_ffmpeg(dir.path(), name, TARGET, 2, &x, args);
        let (report, decoded) = ingest_ok(&path);
        if report.original_bits.is_some() {
            assert_eq!(report.frames, 1, "{name}");
            assert_eq!(decoded.samples, as_16_bit(&x), "{name}");
        } else {
            assert_lossy_duration(report.duration_seconds, 1.0 / f64::from(TARGET));
        }
    }
}
