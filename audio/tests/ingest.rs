#![cfg(feature = "ingest")]
//! End-to-end tests of `audio::ingest`: fixtures are generated in code (WAV
//! and AIFF by hand, compressed formats with ffmpeg), ingested, and the FLAC
//! output is decoded back with symphonia and checked.

mod common;

use std::io::Cursor;

use audio::ingest::{IngestError, IngestOptions, ingest};
use audio::peaks::{Peaks, PeaksBuilder, sample_to_i16};
use common::*;

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
fn mp3_ingests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 2.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(
        dir.path(),
        "in.mp3",
        TARGET,
        2,
        &x,
        &["-c:a", "libmp3lame", "-b:a", "192k", "-metadata", "title=Mp3 Title", "-metadata", "artist=Mp3 Artist"],
    );
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.container.as_str(), report.codec.as_str()), ("mp3", "mp3"));
    assert_eq!(report.original_bits, None);
    assert_eq!((report.canonical_channels, report.canonical_bits), (2, 16));
    assert_lossy_duration(report.duration_seconds, 2.0);
    assert_eq!(report.title.as_deref(), Some("Mp3 Title"));
    assert_eq!(report.artist.as_deref(), Some("Mp3 Artist"));
    assert!(report.tags.iter().any(|(k, _)| k == "TIT2"), "tags: {:?}", report.tags);
    let f = tone_frequency(&decoded, 0);
    assert!((f - 440.0).abs() < 0.5, "frequency {f}");
}

#[test]
fn ogg_vorbis_ingests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(48_000, 1, 2.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(
        dir.path(),
        "in.ogg",
        48_000,
        1,
        &x,
        &["-c:a", "libvorbis", "-q:a", "5", "-metadata", "title=Vorbis Title", "-metadata", "album=Vorbis Album"],
    );
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.container.as_str(), report.codec.as_str()), ("ogg", "vorbis"));
    assert_eq!((report.original_rate, report.canonical_rate), (48_000, TARGET));
    assert_eq!(report.canonical_channels, 1);
    assert_lossy_duration(report.duration_seconds, 2.0);
    assert_eq!(report.title.as_deref(), Some("Vorbis Title"));
    assert_eq!(report.album.as_deref(), Some("Vorbis Album"));
    let f = tone_frequency(&decoded, 0);
    assert!((f - 440.0).abs() < 0.5, "frequency {f}");
}

#[test]
fn aac_in_m4a_ingests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 2.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(
        dir.path(),
        "in.m4a",
        TARGET,
        2,
        &x,
        &["-c:a", "aac", "-b:a", "160k", "-metadata", "title=Aac Title", "-metadata", "artist=Aac Artist"],
    );
    let (report, decoded) = ingest_ok(&path);
    assert_eq!((report.container.as_str(), report.codec.as_str()), ("mp4", "aac"));
    assert_eq!(report.canonical_channels, 2);
    assert_lossy_duration(report.duration_seconds, 2.0);
    assert_eq!(report.title.as_deref(), Some("Aac Title"));
    assert_eq!(report.artist.as_deref(), Some("Aac Artist"));
    let f = tone_frequency(&decoded, 0);
    assert!((f - 440.0).abs() < 0.5, "frequency {f}");
}

/// AAC in MP4 starts with encoder priming (1024 frames from ffmpeg, 2112 from
/// Apple's encoders) and pads its last packet; the file's edit list says where
/// the signal is. At 16 kHz the priming alone is 64 ms: left in, every event
/// in the upload would sit that much late.
#[test]
fn aac_priming_and_padding_are_trimmed_by_the_edit_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seconds = 3.0;
    // A chirp (100 Hz to 3 kHz) lines up with itself at one lag only.
    let chirp = |t: f64| 0.5 * (2.0 * std::f64::consts::PI * (100.0 * t + 1_450.0 / 3.0 * t * t)).sin();
    // 96 kHz also checks the trim is in decoded frames: the MP4 reader reports no rate for it.
    for rate in [16_000, 96_000] {
        let x: Vec<f32> = (0..(seconds * f64::from(rate)) as usize)
            .flat_map(|i| {
                let v = chirp(i as f64 / f64::from(rate)) as f32;
                [v, v]
            })
            .collect();
        let path = encode_with_ffmpeg(dir.path(), "in.m4a", rate, 2, &x, &["-c:a", "aac", "-b:a", "96k"]);
        let (report, decoded) = ingest_ok(&path);
        assert_eq!((report.container.as_str(), report.codec.as_str()), ("mp4", "aac"));
        // The edit list's duration is in milliseconds (ffmpeg's movie timescale).
        assert!((report.duration_seconds - seconds).abs() <= 0.001, "{rate} Hz: duration {}", report.duration_seconds);
        // The lag that best aligns the output with the chirp, over ±100 ms, on a quarter second:
        // every 8th lag first, then every lag around the best.
        let y = decoded.channel(0);
        let out_rate = f64::from(decoded.rate);
        let from = decoded.rate as usize; // 1 s in
        let len = decoded.rate as usize / 4;
        let score = |lag: i64| -> f64 {
            (from..from + len).map(|i| f64::from(y[i]) * chirp((i as i64 - lag) as f64 / out_rate)).sum()
        };
        let best = |lags: &mut dyn Iterator<Item = i64>| lags.max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap();
        let max_lag = decoded.rate as i64 / 10;
        let coarse = best(&mut (-max_lag..=max_lag).step_by(8));
        let lag = best(&mut (coarse - 8..=coarse + 8));
        let lag_ms = lag as f64 * 1000.0 / out_rate;
        assert!(lag_ms.abs() < 0.5, "{rate} Hz: the output is {lag_ms:.2} ms off the source");
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
fn peaks_match_a_direct_computation_over_the_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.wav");
    // Resampled path, stereo, with different content per channel.
    let mut x = sine(48_000, 2, 1.3, 330.0, 0.7);
    for (i, n) in noise(x.len() / 2, 0.2, 9).into_iter().enumerate() {
        x[2 * i + 1] = n;
    }
    write_wav(&path, &WavSpec::new(48_000, 2, WavFormat::Int16), &x);
    let (report, decoded) = ingest_ok(&path);

    let spp = IngestOptions::default().samples_per_pixel as usize;
    let mut direct = Vec::new();
    for pixel in decoded.samples.chunks(spp * 2) {
        for ch in 0..2 {
            let vals = pixel.iter().skip(ch).step_by(2).map(|&v| sample_to_i16(v));
            direct.push(vals.clone().min().expect("non-empty"));
            direct.push(vals.max().expect("non-empty"));
        }
    }
    let peaks = &report.peaks;
    assert_eq!(peaks.sample_rate, TARGET);
    assert_eq!(peaks.samples_per_pixel as usize, spp);
    assert_eq!(peaks.channels, 2);
    assert_eq!(peaks.pixels(), decoded.frames().div_ceil(spp));
    assert_eq!(peaks.data, direct);

    // The builder fed the decoded output block by block agrees as well.
    let mut b = PeaksBuilder::new(TARGET, 2, spp as u32);
    for block in decoded.samples.chunks(999) {
        b.push(block);
    }
    assert_eq!(&b.finish(), peaks);

    // And the report's peaks survive the .dat round trip.
    let dat = peaks.to_dat_bytes();
    assert_eq!(&dat[..4], &2i32.to_le_bytes());
    assert_eq!(&dat[20..24], &2i32.to_le_bytes());
    assert_eq!(&Peaks::from_dat_bytes(&dat).expect("parse .dat"), peaks);
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

#[test]
fn opus_is_unsupported_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(48_000, 2, 1.0, 440.0, 0.5);
    for name in ["in.opus", "in.webm"] {
        let path = encode_with_ffmpeg(dir.path(), name, 48_000, 2, &x, &["-c:a", "libopus"]);
        let what = expect_unsupported(ingest_path(&path, &IngestOptions::default()));
        assert!(what.contains("Opus"), "{name}: {what}");
    }
}

#[test]
fn truncated_wav_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cut.wav");
    let x = sine(TARGET, 2, 1.0, 440.0, 0.5);
    let bytes = WavSpec::new(TARGET, 2, WavFormat::Int16).bytes(&x);
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let why = expect_corrupt(ingest_path(&path, &IngestOptions::default()));
    assert!(why.contains("truncated"), "{why}");
}

#[test]
fn truncated_flac_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = noise(2 * 88_200, 0.5, 21);
    let path = encode_with_ffmpeg(dir.path(), "full.flac", TARGET, 2, &x, &["-c:a", "flac"]);
    let bytes = std::fs::read(&path).expect("read");
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let why = expect_corrupt(ingest_path(&cut, &IngestOptions::default()));
    assert!(why.contains("truncated"), "{why}");
}

/// FLAC's STREAMINFO MD5 is checked against the decoded samples, for the
/// specialised (16-bit mono and stereo) and the general layouts: a correct
/// file passes, one whose declared MD5 is off by one bit is rejected.
#[test]
fn flac_md5_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (channels, extra, bits) in [(1u16, None, 16), (2, None, 16), (6, None, 16), (2, Some("s32"), 24)] {
        let x = noise(channels as usize * 30_000, 0.5, 5 + u32::from(channels));
        let mut args = vec!["-c:a", "flac"];
        if let Some(fmt) = extra {
            args.extend(["-sample_fmt", fmt]);
        }
        let name = format!("in-{channels}-{bits}.flac");
        let path = encode_with_ffmpeg(dir.path(), &name, 48_000, channels, &x, &args);
        let (report, _) = ingest_ok(&path);
        assert_eq!(report.original_bits, Some(bits), "{name}");
        let mut bytes = std::fs::read(&path).expect("read");
        // "fLaC", the STREAMINFO block header, then the MD5 at byte 18 of the block.
        assert!(&bytes[..4] == b"fLaC" && bytes[4] & 0x7F == 0, "{name}: no STREAMINFO first");
        bytes[8 + 18 + 5] ^= 0x10;
        let bad = dir.path().join(format!("bad-{name}"));
        std::fs::write(&bad, &bytes).expect("write");
        let why = expect_corrupt(ingest_path(&bad, &IngestOptions::default()));
        assert!(why.contains("checksum"), "{name}: {why}");
    }
}

/// An MP3 has no container-level length unless a Xing/LAME header declares
/// one; ffmpeg writes that header, so cutting the file in half leaves fewer
/// frames than declared. The cut usually lands inside a frame, so the reader
/// hits end-of-file mid-packet: reported as truncated.
#[test]
fn truncated_mp3_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 3.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(dir.path(), "full.mp3", TARGET, 2, &x, &["-c:a", "libmp3lame", "-b:a", "128k"]);
    let bytes = std::fs::read(&path).expect("read");
    let cut = dir.path().join("cut.mp3");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).expect("write");
    let why = expect_corrupt(ingest_path(&cut, &IngestOptions::default()));
    assert!(why.contains("truncated"), "{why}");
}

#[test]
fn header_only_wav_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.wav");
    write_wav(&path, &WavSpec::new(TARGET, 2, WavFormat::Int16), &[]);
    match ingest_path(&path, &IngestOptions::default()) {
        Err(IngestError::Empty) => {}
        other => panic!("expected Empty, got {other:?}"),
    }
}

#[test]
fn random_bytes_and_text_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let random = dir.path().join("random.mp3");
    let bytes: Vec<u8> = noise(200_000, 1.0, 99).iter().map(|v| (v * 127.0) as i8 as u8).collect();
    std::fs::write(&random, bytes).expect("write");
    match ingest_path(&random, &IngestOptions::default()) {
        Err(IngestError::Unsupported { what }) => assert!(what.contains(".mp3"), "{what}"),
        Err(IngestError::Corrupt(why)) => assert!(!why.is_empty()),
        other => panic!("expected Unsupported or Corrupt, got {other:?}"),
    }

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "These are my rehearsal notes.\nBar 12: slower.\n".repeat(100)).expect("write");
    let what = expect_unsupported(ingest_path(&text, &IngestOptions::default()));
    assert!(what.contains(".txt") && what.contains("not in a recognised audio format"), "{what}");

    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").expect("write");
    expect_unsupported(ingest_path(&empty, &IngestOptions::default()));
}

#[test]
fn too_long_is_rejected_up_front_and_while_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(8000, 1, 3.0, 440.0, 0.5);
    let opts = IngestOptions { max_seconds: 2.0, ..IngestOptions::default() };

    let declared = dir.path().join("declared.wav");
    write_wav(&declared, &WavSpec::new(8000, 1, WavFormat::Int16), &x);
    match ingest_path(&declared, &opts) {
        Err(IngestError::TooLong { seconds, max }) => {
            assert!((seconds - 3.0).abs() < 1e-9, "{seconds}");
            assert_eq!(max, 2.0);
        }
        other => panic!("expected TooLong, got {other:?}"),
    }

    // Length not declared (streaming WAV): caught while decoding.
    let streamed = dir.path().join("streamed.wav");
    let spec = WavSpec { unknown_length: true, ..WavSpec::new(8000, 1, WavFormat::Int16) };
    write_wav(&streamed, &spec, &x);
    match ingest_path(&streamed, &opts) {
        Err(IngestError::TooLong { seconds, max }) => {
            assert!(seconds > 2.0 && seconds <= 3.0, "{seconds}");
            assert_eq!(max, 2.0);
        }
        other => panic!("expected TooLong, got {other:?}"),
    }

    // The same streaming file is fine under the default limit.
    let (report, decoded) = ingest_ok(&streamed);
    assert_eq!(report.original_rate, 8000);
    assert_lossless_duration(report.duration_seconds, x.len(), 8000);
    assert_eq!(decoded.total_samples_declared, Some(report.frames));
}

#[test]
fn loudness_of_silence_and_tones() {
    let dir = tempfile::tempdir().expect("tempdir");

    let silence = dir.path().join("silence.wav");
    write_wav(&silence, &WavSpec::new(TARGET, 2, WavFormat::Int16), &vec![0.0; 2 * 3 * TARGET as usize]);
    let (report, _) = ingest_ok(&silence);
    assert_eq!(report.integrated_lufs, None);
    assert!(report.peaks.data.iter().all(|&v| v == 0));

    // Reference point of BS.1770: a full-scale 1 kHz sine in one channel
    // reads -3.01 LUFS.
    let full = dir.path().join("full.wav");
    write_wav(&full, &WavSpec::new(48_000, 1, WavFormat::Float32), &sine(48_000, 1, 5.0, 1000.0, 1.0));
    let (report, _) = ingest_ok(&full);
    let lufs = report.integrated_lufs.expect("tone has loudness");
    assert!((lufs + 3.01).abs() < 0.15, "full-scale 1 kHz sine: {lufs} LUFS");

    // 20 dB lower is about -23 LUFS, the EBU R128 target.
    let quiet = dir.path().join("quiet.wav");
    write_wav(&quiet, &WavSpec::new(TARGET, 1, WavFormat::Int16), &sine(TARGET, 1, 5.0, 1000.0, 0.1));
    let (report, _) = ingest_ok(&quiet);
    let lufs = report.integrated_lufs.expect("tone has loudness");
    assert!((lufs + 23.01).abs() < 0.15, "-20 dBFS 1 kHz sine: {lufs} LUFS");
    let gain = audio::loudness::gain_db_for_target(lufs, -23.0);
    assert!(gain.abs() < 0.2, "{gain}");
}

#[test]
fn output_can_start_at_an_offset_and_invalid_options_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.wav");
    let x = sine(TARGET, 1, 0.5, 440.0, 0.5);
    write_wav(&path, &WavSpec::new(TARGET, 1, WavFormat::Int16), &x);

    let mut out = Cursor::new(b"prefix".to_vec());
    out.set_position(6);
    let file = std::fs::File::open(&path).expect("open");
    let report = ingest(file, Some(".WAV"), &mut out, &IngestOptions::default()).expect("ingest");
    let bytes = out.into_inner();
    assert_eq!(&bytes[..6], b"prefix");
    let decoded = decode_flac(&bytes[6..]);
    assert_eq!(decoded.frames() as u64, report.frames);

    for opts in [
        IngestOptions { target_rate: 0, ..IngestOptions::default() },
        IngestOptions { samples_per_pixel: 0, ..IngestOptions::default() },
        IngestOptions { max_seconds: f64::NAN, ..IngestOptions::default() },
    ] {
        assert!(matches!(ingest_path(&path, &opts), Err(IngestError::InvalidOptions(_))));
    }
}

#[test]
fn very_short_inputs_encode_valid_flac() {
    let dir = tempfile::tempdir().expect("tempdir");
    for frames in [1usize, 15, 4096, 4097] {
        let path = dir.path().join(format!("short{frames}.wav"));
        let x = noise(frames * 2, 0.5, frames as u32);
        write_wav(&path, &WavSpec::new(TARGET, 2, WavFormat::Int16), &x);
        let (report, decoded) = ingest_ok(&path);
        assert_eq!(report.frames as usize, frames);
        let want: Vec<i32> = x.iter().map(|&v| to_int(v, 16)).collect();
        assert_eq!(decoded.ints(), want);
    }
}

/// Overwrites `bytes[from..to]` with deterministic noise.
fn scribble(bytes: &mut [u8], from: usize, to: usize) {
    let n = noise(to - from, 1.0, 1234);
    for (b, v) in bytes[from..to].iter_mut().zip(n) {
        *b = (v * 127.0) as i8 as u8;
    }
}

#[test]
fn garbage_after_a_valid_start_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 4.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(dir.path(), "in.mp3", TARGET, 2, &x, &["-c:a", "libmp3lame"]);
    let mut bytes = std::fs::read(&path).expect("read");
    let len = bytes.len();
    scribble(&mut bytes, 3000, len);
    std::fs::write(&path, &bytes).expect("write");
    let why = expect_corrupt(ingest_path(&path, &IngestOptions::default()));
    assert!(why.contains("damaged"), "{why}");
}

/// The Ogg demuxer drops pages that fail their CRC and carries on; the jump in
/// timestamps is what reveals the loss.
#[test]
fn ogg_with_damaged_pages_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 4.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(dir.path(), "in.ogg", TARGET, 2, &x, &["-c:a", "libvorbis"]);
    let mut bytes = std::fs::read(&path).expect("read");
    let (mid, span) = (bytes.len() / 2, bytes.len() / 50);
    scribble(&mut bytes, mid, mid + span);
    std::fs::write(&path, &bytes).expect("write");
    let why = expect_corrupt(ingest_path(&path, &IngestOptions::default()));
    assert!(why.contains("missing"), "{why}");
}

/// An MP4 written front to back has its index (`moov`) at the end; a cut
/// file has none.
#[test]
fn truncated_m4a_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = sine(TARGET, 2, 2.0, 440.0, 0.5);
    let path = encode_with_ffmpeg(dir.path(), "full.m4a", TARGET, 2, &x, &["-c:a", "aac"]);
    let bytes = std::fs::read(&path).expect("read");
    let cut = dir.path().join("cut.m4a");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let why = expect_corrupt(ingest_path(&cut, &IngestOptions::default()));
    assert!(why.contains("incomplete"), "{why}");
}

/// The FLAC must be readable by other decoders, not just symphonia: ffmpeg
/// decodes it to the same samples (it checks every frame's CRC on the way).
#[test]
fn output_decodes_identically_with_ffmpeg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.wav");
    let x = sine(48_000, 2, 1.0, 440.0, 0.5);
    write_wav(&path, &WavSpec::new(48_000, 2, WavFormat::Int16), &x);
    let (report, flac) = ingest_path(&path, &IngestOptions::default()).expect("ingest");
    let out = dir.path().join("out.flac");
    std::fs::write(&out, &flac).expect("write");

    let raw = ffmpeg(&["-i", out.to_str().expect("utf-8 path"), "-f", "s16le", "-"]);
    let theirs: Vec<i32> = raw.chunks_exact(2).map(|b| i32::from(i16::from_le_bytes([b[0], b[1]]))).collect();
    assert_eq!(theirs.len() as u64, report.frames * 2);
    assert_eq!(theirs, decode_flac(&flac).ints());
}

#[test]
fn implausible_sample_rates_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slow.wav");
    write_wav(&path, &WavSpec::new(500, 1, WavFormat::Int16), &sine(500, 1, 1.0, 50.0, 0.5));
    let what = expect_unsupported(ingest_path(&path, &IngestOptions::default()));
    assert!(what.contains("500 Hz"), "{what}");
}
