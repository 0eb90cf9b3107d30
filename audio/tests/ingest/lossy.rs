//! Lossy inputs (MP3, Ogg Vorbis, AAC in MP4) keep their duration, tags and
//! pitch, and AAC's encoder delay is trimmed.

use crate::common::*;

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
