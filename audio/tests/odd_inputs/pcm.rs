//! WAV and AIFF as tools write them: other sample formats, extensible
//! headers, extreme rates, placeholder sizes, RF64.

use std::path::Path;

use audio::ingest::{IngestError, IngestOptions};

use crate::common::*;

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
    let sox = sox_piped(&x, TARGET, 1, &["-t", "wav", "-"]);
    assert_eq!(&sox[data_size_at..data_size_at + 4], &0x7fff_f000u32.to_le_bytes(), "sox's placeholder");
    let path = dir.path().join("sox_piped.wav");
    std::fs::write(&path, &sox).expect("write");
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
