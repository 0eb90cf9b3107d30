//! What the ingest produces besides the FLAC samples: peaks, loudness, a
//! FLAC other decoders read, written wherever the output stream stands.

use std::io::Cursor;

use audio::ingest::{IngestError, IngestOptions, ingest};
use audio::peaks::{Peaks, PeaksBuilder, sample_to_i16};

use crate::common::*;

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
