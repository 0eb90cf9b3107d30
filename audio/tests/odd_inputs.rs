#![cfg(feature = "ingest")]
//! Uploads nobody on the team made: sample formats, header quirks and
//! codec variants that real tools and devices write. Each fixture is made at
//! test time (ffmpeg, sox, or bytes written here) and either ingests with the
//! right rate, channel count, duration and content, or fails with an error
//! of the right class and a message a person understands.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use audio::ingest::{IngestError, IngestOptions};
use common::*;

fn max_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// The source quantised to 16 bits, as the 16-bit WAV given to ffmpeg holds it.
fn as_16_bit(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| to_int(v, 16) as f32 / 32_768.0).collect()
}

#[test]
fn wav_sample_formats_other_than_16_bit_decode_to_the_same_signal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 1.0, 440.0, 0.5);
    let source = as_16_bit(&x);
    // (codec, report codec, canonical bits, largest sample error)
    let cases = [
        ("pcm_u8", "pcm_u8", 16, 1.0 / 128.0),
        ("pcm_mulaw", "pcm_mulaw", 16, 0.02),
        ("pcm_alaw", "pcm_alaw", 16, 0.02),
        ("pcm_s24le", "pcm_s24le", 24, 1e-6),
        ("pcm_s32le", "pcm_s32le", 24, 1e-6),
        ("pcm_f64le", "pcm_f64le", 24, 1e-6),
    ];
    for (codec, short, bits, tolerance) in cases {
        let path = encode_with_ffmpeg(dir.path(), &format!("{codec}.wav"), TARGET, 2, &x, &["-c:a", codec]);
        let (report, decoded) = ingest_ok(&path);
        assert_eq!(report.codec, short);
        assert_eq!((report.original_rate, report.original_channels), (TARGET, 2), "{codec}");
        assert_eq!((report.canonical_channels, report.canonical_bits), (2, bits), "{codec}");
        assert_lossless_duration(report.duration_seconds, x.len() / 2, TARGET);
        let err = max_error(&decoded.samples, &source);
        assert!(err <= tolerance, "{codec}: samples off by up to {err}");
    }
}

/// WAVE_FORMAT_EXTENSIBLE with 24 valid bits in 32-bit containers, as some
/// interfaces and DAWs write.
#[test]
fn extensible_wav_with_24_bits_in_32_bit_containers_is_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = noise(2 * 20_000, 0.8, 21);
    let want: Vec<i32> = x.iter().map(|&v| to_int(v, 24)).collect();
    let mut b = Vec::new();
    let data_len = (want.len() * 4) as u32;
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(4 + 8 + 40 + 8 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&0xFFFEu16.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&TARGET.to_le_bytes());
    b.extend_from_slice(&(TARGET * 8).to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes()); // block align
    b.extend_from_slice(&32u16.to_le_bytes()); // container bits
    b.extend_from_slice(&22u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes()); // valid bits
    b.extend_from_slice(&3u32.to_le_bytes()); // FL | FR
    b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for v in &want {
        b.extend_from_slice(&(v << 8).to_le_bytes());
    }
    let path = dir.path().join("in.wav");
    std::fs::write(&path, b).expect("write");
    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.original_bits, Some(24));
    assert_eq!((report.canonical_channels, report.canonical_bits), (2, 24));
    assert_eq!(report.frames, 20_000);
    assert_eq!(decoded.ints(), want);
}

/// AIFF-C as ffmpeg writes it: `sowt` (little-endian) and `fl32`; plus 8- and 24-bit AIFF.
#[test]
fn aiff_variants_decode_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 1, 1.0, 440.0, 0.5);
    let source = as_16_bit(&x);
    let cases = [
        ("sowt.aifc", "pcm_s16le", 16, 0.0),
        ("fl32.aifc", "pcm_f32be", 24, 1e-6),
        ("s24.aiff", "pcm_s24be", 24, 0.0),
        ("s8.aiff", "pcm_s8", 16, 1.0 / 128.0),
    ];
    for (name, codec, bits, tolerance) in cases {
        let path = encode_with_ffmpeg(dir.path(), name, TARGET, 1, &x, &["-c:a", codec, "-f", "aiff"]);
        let (report, decoded) = ingest_ok(&path);
        assert_eq!((report.container.as_str(), report.codec.as_str()), ("aiff", codec), "{name}");
        assert_eq!(report.canonical_bits, bits, "{name}");
        assert_lossless_duration(report.duration_seconds, x.len(), TARGET);
        let err = max_error(&decoded.samples, &source);
        assert!(err <= tolerance, "{name}: samples off by up to {err}");
    }
}

/// A 1000×1000 noise PNG (about 1.4 MB) to embed as cover art.
fn big_picture(dir: &Path) -> PathBuf {
    let png = dir.join("cover.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "nullsrc=s=1000x1000,geq=random(1)*255:128:128",
        "-frames:v",
        "1",
        "-update",
        "1",
        png.to_str().expect("utf-8 path"),
    ]);
    assert!(std::fs::metadata(&png).expect("png").len() > 1_000_000);
    png
}

#[test]
fn cover_art_and_id3_tags_in_front_of_flac_and_mp3_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = big_picture(dir.path());
    let png = png.to_str().expect("utf-8 path");
    let x = sine(TARGET, 2, 2.0, 440.0, 0.5);
    let art = |codec: &'static str| {
        ["-i", png, "-map", "0:a", "-map", "1:v", "-c:a", codec, "-c:v", "copy", "-disposition:v", "attached_pic"]
    };
    let flac = encode_with_ffmpeg(dir.path(), "art.flac", TARGET, 2, &x, &art("flac"));
    let (report, decoded) = ingest_ok(&flac);
    assert_eq!(report.codec, "flac");
    assert_eq!(decoded.samples, as_16_bit(&x));

    let mp3 = encode_with_ffmpeg(
        dir.path(),
        "art.mp3",
        TARGET,
        2,
        &x,
        &[&art("libmp3lame")[..], &["-metadata", "title=Cover"]].concat(),
    );
    assert!(std::fs::metadata(&mp3).expect("mp3").len() > 1_000_000);
    let (report, decoded) = ingest_ok(&mp3);
    assert_eq!(report.title.as_deref(), Some("Cover"));
    assert_lossy_duration(report.duration_seconds, 2.0);
    assert!((tone_frequency(&decoded, 0) - 440.0).abs() < 0.5);

    // Some taggers put an ID3v2 tag (here 64 KiB, padded) in front of a FLAC file.
    let plain = encode_with_ffmpeg(dir.path(), "plain.flac", TARGET, 2, &x, &["-c:a", "flac"]);
    let mut tagged = b"ID3\x03\x00\x00\x00\x04\x00\x00".to_vec(); // syncsafe 65 536
    tagged.extend_from_slice(b"TIT2\x00\x00\x00\x06\x00\x00\x03Hello");
    tagged.resize(10 + 65_536, 0);
    tagged.extend(std::fs::read(&plain).expect("read"));
    let path = dir.path().join("id3.flac");
    std::fs::write(&path, tagged).expect("write");
    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.codec, "flac");
    assert_eq!(decoded.samples, as_16_bit(&x));
}

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
fn extreme_sample_rates_keep_duration_and_pitch() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rate, channels) in [(8_000u32, 1u16), (192_000, 2), (384_000, 2)] {
        let x = sine(rate, usize::from(channels), 1.0, 1000.0, 0.5);
        let path = dir.path().join(format!("r{rate}.wav"));
        write_wav(&path, &WavSpec::new(rate, channels, WavFormat::Int16), &x);
        let (report, decoded) = ingest_ok(&path);
        assert_eq!((report.original_rate, report.canonical_channels), (rate, channels));
        assert_lossless_duration(report.duration_seconds, x.len() / usize::from(channels), rate);
        let f = tone_frequency(&decoded, 0);
        assert!((f - 1000.0).abs() < 0.2, "{rate} Hz: frequency {f}");
    }
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
    let chirp = |t: f64| 0.5 * (2.0 * std::f64::consts::PI * (100.0 * t + 1_450.0 / 3.0 * t * t)).sin();
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

/// The data of a WAV written by a tool that could not go back and fill in
/// the sizes: they are placeholders, and the audio runs to the end of the file.
fn assert_streamed_wav_ingests(path: &Path, source: &[f32], codec: &str, tolerance: f32) {
    let (report, decoded) =
        ingest_path(path, &IngestOptions::default()).map(|(r, f)| (r, decode_flac(&f))).unwrap_or_else(|e| {
            panic!("{}: {e}", path.display());
        });
    assert_eq!(report.codec, codec);
    assert_lossless_duration(report.duration_seconds, source.len(), TARGET);
    let err = max_error(&decoded.samples, source);
    assert!(err <= tolerance, "{}: samples off by up to {err}", path.display());
}

#[test]
fn wav_with_placeholder_sizes_ingests_to_the_end_of_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 1, 2.0, 440.0, 0.5);
    let source = as_16_bit(&x);
    let spec = WavSpec::new(TARGET, 1, WavFormat::Int16);
    let data_size_at = spec.header(0).len() - 4;

    // ffmpeg writing to a pipe: 0xFFFFFFFF (16-bit, and μ-law, which the end-of-file rule missed).
    let wav = dir.path().join("src.wav");
    write_wav(&wav, &spec, &x);
    for (codec, tolerance) in [("pcm_s16le", 0.0), ("pcm_mulaw", 0.02)] {
        let piped = ffmpeg(&["-i", wav.to_str().expect("utf-8"), "-c:a", codec, "-f", "wav", "-"]);
        assert_eq!(&piped[4..8], &[0xFF; 4]);
        let path = dir.path().join(format!("{codec}_piped.wav"));
        std::fs::write(&path, piped).expect("write");
        assert_streamed_wav_ingests(&path, &source, codec, tolerance);
    }

    // sox writing to a pipe: 0x7ffff000, which declared 6 h 45 min and was rejected as too long.
    // Raw samples on stdin, so sox cannot know the length either.
    let raw: Vec<u8> = x.iter().flat_map(|&v| (to_int(v, 16) as i16).to_le_bytes()).collect();
    let mut child = Command::new("sox")
        .args(["-t", "raw", "-r", "44100", "-e", "signed", "-b", "16", "-c", "1", "-", "-t", "wav", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sox is required for this test");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || stdin.write_all(&raw).expect("feed sox"));
    let sox = child.wait_with_output().expect("run sox");
    feeder.join().expect("feeder");
    assert!(sox.status.success(), "sox: {}", String::from_utf8_lossy(&sox.stderr));
    assert_eq!(&sox.stdout[data_size_at..data_size_at + 4], &0x7fff_f000u32.to_le_bytes(), "sox's placeholder");
    let path = dir.path().join("sox_piped.wav");
    std::fs::write(&path, &sox.stdout).expect("write");
    assert_streamed_wav_ingests(&path, &source, "pcm_s16le", 0.0);

    // A recorder that stopped before finishing the file: both sizes still 0
    // (was "damaged header: invalid riff length").
    let mut bytes = spec.bytes(&x);
    bytes[4..8].fill(0);
    bytes[data_size_at..data_size_at + 4].fill(0);
    let path = dir.path().join("unfinished.wav");
    std::fs::write(&path, bytes).expect("write");
    assert_streamed_wav_ingests(&path, &source, "pcm_s16le", 0.0);

    // A WAV cut short with a real size is still truncated, and one with no audio still empty.
    let bytes = spec.bytes(&x);
    let path = dir.path().join("cut.wav");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    assert!(matches!(ingest_path(&path, &IngestOptions::default()), Err(IngestError::Corrupt(_))));
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, spec.header(0)).expect("write");
    assert!(matches!(ingest_path(&path, &IngestOptions::default()), Err(IngestError::Empty)));
}

/// RF64 (EBU Tech 3306) carries its sizes in a `ds64` chunk; field recorders
/// and DAWs write it for long takes, and ffmpeg with `-rf64 always`. It used
/// to be rejected as "not in a recognised audio format; upload WAV …".
#[test]
fn rf64_wav_ingests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = noise(2 * 30_000, 0.6, 13);
    let path = encode_with_ffmpeg(dir.path(), "long.wav", TARGET, 2, &x, &["-c:a", "pcm_s24le", "-rf64", "always"]);
    let mut bytes = std::fs::read(&path).expect("read");
    assert_eq!(&bytes[..4], b"RF64");
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.container.as_str(), report.codec.as_str(), report.canonical_bits), ("wav", "pcm_s24le", 24));
    assert_eq!(report.frames, 30_000);
    assert_eq!(decoded.samples, as_16_bit(&x));

    // A chunk after the audio is not audio: the data size comes from ds64.
    bytes.extend_from_slice(b"junk\x10\x00\x00\x00");
    bytes.extend_from_slice(&[0x55; 16]);
    std::fs::write(&path, &bytes).expect("write");
    let (report, decoded) = ingest_ok(&path);
    assert_eq!(report.frames, 30_000);
    assert_eq!(decoded.samples, as_16_bit(&x));
}

#[test]
fn a_file_with_thousands_of_tags_keeps_a_bounded_few() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tags.wav");
    let mut info = vec![("INAM", "x".repeat(5_000))];
    info.extend((0..20_000).map(|i| ("ICMT", format!("comment {i}"))));
    let spec = WavSpec { info, ..WavSpec::new(TARGET, 1, WavFormat::Int16) };
    write_wav(&path, &spec, &sine(TARGET, 1, 0.5, 440.0, 0.5));
    let (report, _) = ingest_ok(&path);
    assert_eq!(report.tags.len(), 256);
    assert_eq!(report.title.as_deref().map(|t| t.chars().count()), Some(1_000));
    assert!(report.tags.iter().all(|(k, v)| k.chars().count() <= 1_000 && v.chars().count() <= 1_000));
    assert!(report.tags.iter().any(|(_, v)| v == "comment 0"));
}

/// A FLAC file with the given Vorbis comments (`NAME=value`) in place of its own.
fn flac_with_comments(flac: &[u8], comments: &[&str]) -> Vec<u8> {
    assert_eq!(&flac[..4], b"fLaC");
    let mut blocks = Vec::new();
    let mut at = 4;
    loop {
        let (kind, last) = (flac[at] & 0x7f, flac[at] & 0x80 != 0);
        let len = u32::from_be_bytes([0, flac[at + 1], flac[at + 2], flac[at + 3]]) as usize;
        if kind != 4 {
            blocks.push((kind, flac[at + 4..at + 4 + len].to_vec()));
        }
        at += 4 + len;
        if last {
            break;
        }
    }
    let mut body = Vec::new();
    for field in std::iter::once("tutti tests").chain(comments.iter().copied()) {
        if body.is_empty() {
            body.extend_from_slice(&(field.len() as u32).to_le_bytes());
            body.extend_from_slice(field.as_bytes());
            body.extend_from_slice(&(comments.len() as u32).to_le_bytes());
            continue;
        }
        body.extend_from_slice(&(field.len() as u32).to_le_bytes());
        body.extend_from_slice(field.as_bytes());
    }
    blocks.insert(1, (4, body));
    let mut out = b"fLaC".to_vec();
    for (i, (kind, body)) in blocks.iter().enumerate() {
        let last = if i + 1 == blocks.len() { 0x80 } else { 0 };
        out.push(kind | last);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&flac[at..]);
    out
}

/// Tags end up in database text columns and on pages: NUL (which PostgreSQL's
/// text refuses), other control characters and bidirectional overrides are
/// removed, tabs and line breaks become a space, and a value with nothing
/// left is dropped; right-to-left text and its marks are kept.
#[test]
fn tags_with_control_characters_are_cleaned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 0.5, 440.0, 0.5);
    let plain = encode_with_ffmpeg(dir.path(), "plain.flac", TARGET, 2, &x, &["-c:a", "flac"]);
    let flac = flac_with_comments(
        &std::fs::read(&plain).expect("read"),
        &[
            "TITLE=Nul\0Title \u{202E}3pm.exe\u{1}\tPart\r\nTwo",
            "ARTIST=\0\u{202E}\t",
            "ALBUM=אלבום\u{200F} \u{2066}isolated\u{2069}",
            "COMMENT\u{1}=line one\nline two",
        ],
    );
    let path = dir.path().join("tags.flac");
    std::fs::write(&path, flac).expect("write");
    let (report, _) = ingest_ok(&path);
    assert_eq!(report.title.as_deref(), Some("NulTitle 3pm.exe Part Two"));
    assert_eq!(report.artist, None);
    assert_eq!(report.album.as_deref(), Some("אלבום\u{200F} isolated"));
    let tags: Vec<(&str, &str)> = report.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(tags.contains(&("COMMENT", "line one line two")), "{tags:?}");
    assert!(!tags.iter().any(|(k, _)| k.eq_ignore_ascii_case("artist")), "{tags:?}");

    // WAV INFO (read by our own RIFF reader) and MP3 ID3 (symphonia's) alike.
    let wav = dir.path().join("tags.wav");
    let spec = WavSpec {
        info: vec![("INAM", "Wav\0Title\u{202D}\n".into()), ("IART", "\u{1}\u{9f}".into())],
        ..WavSpec::new(TARGET, 1, WavFormat::Int16)
    };
    write_wav(&wav, &spec, &sine(TARGET, 1, 0.5, 440.0, 0.5));
    let (report, _) = ingest_ok(&wav);
    assert_eq!(report.title.as_deref(), Some("WavTitle"));
    assert_eq!(report.artist, None);
    assert!(report.tags.iter().all(|(k, _)| k != "IART"), "{:?}", report.tags);

    let mp3 = encode_with_ffmpeg(
        dir.path(),
        "tags.mp3",
        TARGET,
        2,
        &x,
        &["-c:a", "libmp3lame", "-metadata", "title=Mp3\u{1}\tTitle\u{202E}\n", "-metadata", "artist=\u{2067}Band"],
    );
    let (report, _) = ingest_ok(&mp3);
    assert_eq!(report.title.as_deref(), Some("Mp3 Title"));
    assert_eq!(report.artist.as_deref(), Some("Band"));
}
