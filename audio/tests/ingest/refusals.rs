//! Inputs that must be refused, each with the right error: unsupported
//! codecs, truncated or damaged files, empty, too long or implausible ones.

use audio::ingest::{IngestError, IngestOptions};

use crate::common::*;

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

#[test]
fn implausible_sample_rates_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slow.wav");
    write_wav(&path, &WavSpec::new(500, 1, WavFormat::Int16), &sine(500, 1, 1.0, 50.0, 0.5));
    let what = expect_unsupported(ingest_path(&path, &IngestOptions::default()));
    assert!(what.contains("500 Hz"), "{what}");
}
