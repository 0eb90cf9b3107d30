//! Metadata around the audio: cover art and ID3 tags in front of it,
//! thousands of tags, tags with control characters.

use std::path::{Path, PathBuf};

use crate::common::*;

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
