//! The uploader over HTTP: formats, idempotency, Range, error classes leaving nothing behind, access.
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp};

/// A 16-bit PCM WAV of a sine (one frequency per channel, 440 Hz × channel index + 1).
pub fn wav(rate: u32, channels: u16, seconds: f64) -> Vec<u8> {
    let frames = (rate as f64 * seconds).round() as u32;
    let data_len = frames * channels as u32 * 2;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        for c in 0..channels {
            let f = 440.0 * (c + 1) as f64;
            let v = (0.5 * (2.0 * std::f64::consts::PI * f * i as f64 / rate as f64).sin() * 32767.0) as i16;
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b
}

/// Convert a WAV with ffmpeg (installed by the test command) into another container/codec.
pub fn ffmpeg(wav_bytes: &[u8], ext: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let output = dir.path().join(format!("out.{ext}"));
    std::fs::write(&input, wav_bytes).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&input)
        .args(args)
        .arg(&output)
        .status()
        .expect("ffmpeg must be installed to make the test fixtures (the test command installs it)");
    assert!(status.success(), "ffmpeg failed for {ext}");
    std::fs::read(output).unwrap()
}

async fn upload(app: &TestApp, browser: &Browser, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    browser.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap()
}

async fn signed_in(app: &TestApp, role: &str) -> Browser {
    let b = Browser::new();
    app.sign_in_demo(&b, role).await;
    b
}

async fn assert_nothing_left(app: &TestApp) {
    assert_eq!(app::db::audio::Entity::find().count(&app.db).await.unwrap(), 0, "no audio row");
    assert!(
        TestApp::files_under(&app.storage_dir()).is_empty(),
        "no object: {:?}",
        TestApp::files_under(&app.storage_dir())
    );
    assert!(
        TestApp::files_under(&app.tmp_dir()).is_empty(),
        "no temp file: {:?}",
        TestApp::files_under(&app.tmp_dir())
    );
}

#[tokio::test]
async fn every_listed_format_ingests_to_canonical_flac() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let source = wav(48_000, 2, 2.0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("take.wav", source.clone(), "wav"),
        ("take.aiff", ffmpeg(&source, "aiff", &[]), "aiff"),
        ("take.flac", ffmpeg(&source, "flac", &[]), "flac"),
        ("take.mp3", ffmpeg(&source, "mp3", &["-c:a", "libmp3lame", "-b:a", "192k"]), "mp3"),
        ("take.ogg", ffmpeg(&source, "ogg", &["-c:a", "libvorbis", "-q:a", "5"]), "ogg"),
        ("take.m4a", ffmpeg(&source, "m4a", &["-c:a", "aac", "-b:a", "192k"]), "mp4"),
        ("alac.m4a", ffmpeg(&source, "m4a", &["-c:a", "alac"]), "mp4"),
    ];
    for (name, bytes, container) in cases {
        let res = upload(&app, &b, name, bytes).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{name}: {}", res.text().await.unwrap());
        let a: Value = res.json().await.unwrap();
        assert_eq!(a["original_format"], container, "{name}");
        assert_eq!(a["canonical_rate"], 44_100, "{name}");
        assert_eq!(a["canonical_channels"], 2, "{name}");
        let duration = a["duration_seconds"].as_f64().unwrap();
        // Lossy codecs add encoder padding; lossless ones are exact to a sample.
        let tolerance = if matches!(container, "mp3" | "ogg") || name == "take.m4a" { 0.1 } else { 1.0 / 44_100.0 };
        assert!((duration - 2.0).abs() <= tolerance, "{name}: {duration}");
        let id = a["id"].as_str().unwrap();
        let canonical = app.get(&b, &format!("/api/v1/audio/{id}/canonical")).await;
        assert_eq!(canonical.headers()["content-type"], "audio/flac");
        assert_eq!(&canonical.bytes().await.unwrap()[..4], b"fLaC");
        let peaks = app.get(&b, &format!("/api/v1/audio/{id}/peaks")).await.bytes().await.unwrap();
        let parsed = audio::peaks::Peaks::from_dat_bytes(&peaks).unwrap();
        assert_eq!(parsed.sample_rate, 44_100);
        assert_eq!(parsed.channels, 2);
    }
}

#[tokio::test]
async fn mono_stays_mono_and_tags_are_read() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let tagged = ffmpeg(&wav(22_050, 1, 1.0), "flac", &["-metadata", "title=Morning Raga", "-metadata", "artist=Ravi"]);
    let a: Value = upload(&app, &b, "raga.flac", tagged).await.json().await.unwrap();
    assert_eq!(a["canonical_channels"], 1);
    assert_eq!(a["original_rate"], 22_050);
    assert_eq!(a["title"], "Morning Raga");
    assert_eq!(a["artist"], "Ravi");
    assert_eq!(a["frames"], 44_100);
}

#[tokio::test]
async fn uploading_the_same_bytes_again_returns_the_same_audio() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let bytes = wav(44_100, 1, 0.5);
    let first = upload(&app, &b, "a.wav", bytes.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = upload(&app, &b, "renamed.wav", bytes).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app::db::audio::Entity::find().count(&app.db).await.unwrap(), 1);
    assert!(TestApp::files_under(&app.tmp_dir()).is_empty());
}

#[tokio::test]
async fn range_requests_return_the_right_bytes() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let bytes = wav(44_100, 1, 0.5);
    let a: Value = upload(&app, &b, "a.wav", bytes.clone()).await.json().await.unwrap();
    let url = app.url(&format!("/api/v1/audio/{}/original", a["id"].as_str().unwrap()));
    let len = bytes.len();
    for (range, start, end) in [
        ("bytes=0-3", 0, 3),
        ("bytes=100-199", 100, 199),
        ("bytes=-10", len - 10, len - 1),
        (&format!("bytes={}-", len - 5)[..], len - 5, len - 1),
    ] {
        let res = b.http.get(&url).header("range", range).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(res.headers()["content-range"], format!("bytes {start}-{end}/{len}").as_str());
        assert_eq!(res.headers()["accept-ranges"], "bytes");
        assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[start..=end], "{range}");
    }
    let whole = b.http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    let etag = whole.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &bytes[..]);
    // Conditional requests: a cached copy is still good (304); a range of another version is
    // the whole object instead; a write-style precondition that fails is 412.
    let res = b.http.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = b.http.get(&url).header("range", "bytes=0-9").header("if-range", "\"other\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len(), len);
    let res = b.http.get(&url).header("range", "bytes=0-9").header("if-range", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let res = b.http.get(&url).header("if-match", "\"other\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let beyond = b.http.get(&url).header("range", format!("bytes={len}-")).send().await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(beyond.headers()["content-range"], format!("bytes */{len}").as_str());
    assert_eq!(beyond.json::<Value>().await.unwrap()["error"], "range_not_satisfiable");
}

#[tokio::test]
async fn opus_is_refused_as_unsupported_naming_the_codec() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let opus = ffmpeg(&wav(48_000, 1, 1.0), "opus", &["-c:a", "libopus"]);
    let res = upload(&app, &b, "voice.opus", opus).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("Opus"), "{body}");
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn corrupt_data_is_refused() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let mut noise = vec![0u8; 20_000];
    for (i, x) in noise.iter_mut().enumerate() {
        *x = (i.wrapping_mul(2_654_435_761) >> 7) as u8;
    }
    let res = upload(&app, &b, "noise.wav", noise).await;
    assert!(
        matches!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY),
        "{}",
        res.status()
    );
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn a_truncated_file_is_refused_as_corrupt() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let flac = ffmpeg(&wav(44_100, 1, 2.0), "flac", &[]);
    let res = upload(&app, &b, "cut.flac", flac[..flac.len() / 2].to_vec()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text().await.unwrap());
    assert_nothing_left(&app).await;
}

/// A header that claims 65,535 channels makes the WAV decoder's arithmetic overflow: the file is
/// refused as malformed (422), the server carries on, and nothing is kept.
#[tokio::test]
async fn a_wav_header_claiming_absurd_channels_is_refused_not_a_server_error() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let mut bytes = wav(8_000, 1, 0.5);
    bytes[22..24].copy_from_slice(&u16::MAX.to_le_bytes()); // fmt: number of channels
    let res = upload(&app, &b, "many.wav", bytes).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("many.wav could not be decoded"));
    assert_nothing_left(&app).await;
    let res = upload(&app, &b, "fine.wav", wav(8_000, 1, 0.5)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// sox writing WAV to a pipe cannot go back to fill in its sizes: it leaves placeholders in the
/// data size and, for float, 24-bit and multichannel audio, in the `fact` frame count. Such files
/// hold exactly the audio that follows the header.
#[tokio::test]
async fn wavs_that_sox_streamed_to_a_pipe_ingest_whole() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    for (name, args, channels) in [
        ("sox24.wav", &["-b", "24", "-c", "2", "-r", "48000"][..], 2),
        ("soxf32.wav", &["-e", "floating-point", "-b", "32", "-r", "44100"][..], 1),
        ("soxdefault.wav", &[][..], 1),
    ] {
        let out = std::process::Command::new("sox")
            .args(["-n"])
            .args(args)
            .args(["-t", "wav", "-", "synth", "2", "sine", "440"])
            .output()
            .expect("sox must be installed to make this fixture (the test command installs it)");
        assert!(out.status.success(), "sox failed for {name}");
        let res = upload(&app, &b, name, out.stdout).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{name}: {}", res.text().await.unwrap());
        let a: Value = res.json().await.unwrap();
        assert!((a["duration_seconds"].as_f64().unwrap() - 2.0).abs() < 1e-3, "{name}: {a}");
        assert_eq!(a["original_channels"], channels, "{name}: {a}");
    }
}

#[tokio::test]
async fn an_empty_file_is_refused() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let res = upload(&app, &b, "empty.wav", Vec::new()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let header_only = wav(44_100, 1, 0.0);
    let res = upload(&app, &b, "silent.wav", header_only).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("no audio"));
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_while_streaming() {
    let app = TestApp::spawn_with(&[("TUTTI_MAX_UPLOAD_BYTES", "100KB")]).await;
    let b = signed_in(&app, "musician").await;
    // Sent chunked, without a Content-Length, so only the streaming check can catch it.
    let big = wav(44_100, 2, 3.0);
    let stream =
        futures::stream::iter(big.chunks(16 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
    let part = Part::stream(reqwest::Body::wrap_stream(stream)).file_name("big.wav");
    let res = b.http.post(app.url("/api/v1/audio")).multipart(Form::new().part("file", part)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_nothing_left(&app).await;
    // With a Content-Length, it is refused before the body is read.
    let res = upload(&app, &b, "big.wav", wav(44_100, 2, 3.0)).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn audio_longer_than_the_limit_is_refused() {
    let app = TestApp::spawn_with(&[("TUTTI_MAX_AUDIO_SECONDS", "1")]).await;
    let b = signed_in(&app, "musician").await;
    let res = upload(&app, &b, "long.wav", wav(8_000, 1, 2.5)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("longest accepted"));
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn uploading_needs_a_signed_in_user() {
    let app = TestApp::spawn().await;
    let res = upload(&app, &Browser::new(), "a.wav", wav(8_000, 1, 0.5)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn an_unknown_licence_is_refused_with_the_choices() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let form = Form::new().text("license", "WTFPL").part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("a.wav"));
    let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("CC-BY-4.0"));
    // A visibility that is neither true nor false is refused too, rather than read as private.
    let form = Form::new().text("public", "maybe").part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("a.wav"));
    let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("public must be true or false"));
    assert_nothing_left(&app).await;
    let form = Form::new().text("public", "Yes").part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("a.wav"));
    let a: Value = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["is_public"], true);
}

#[tokio::test]
async fn an_oversized_form_field_is_refused_without_being_echoed() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    for field in ["kind", "license", "public"] {
        let form = Form::new()
            .text(field, "x".repeat(4 << 20))
            .part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("a.wav"));
        let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = res.text().await.unwrap();
        assert!(
            body.len() < 1024 && body.contains("longer than 1024 bytes"),
            "{field}: {}",
            &body[..body.len().min(200)]
        );
    }
    assert_nothing_left(&app).await;
}

#[tokio::test]
async fn private_audio_is_404_to_others_on_every_endpoint() {
    let app = TestApp::spawn().await;
    let owner = signed_in(&app, "musician").await;
    let a: Value = upload(&app, &owner, "mine.wav", wav(8_000, 1, 0.5)).await.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    let surfaces = ["", "/canonical", "/original", "/peaks"];
    let stranger = signed_in(&app, "annotator").await;
    for who in [&stranger, &Browser::new()] {
        for s in surfaces {
            let res = app.get(who, &format!("/api/v1/audio/{id}{s}")).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{s}");
        }
    }
    let admin = signed_in(&app, "admin").await;
    for s in surfaces {
        assert_eq!(app.get(&admin, &format!("/api/v1/audio/{id}{s}")).await.status(), StatusCode::OK, "admin {s}");
    }
    // Someone else cannot make it public; the owner can, and then everyone sees it.
    let res = stranger
        .http
        .patch(app.url(&format!("/api/v1/audio/{id}")))
        .json(&json!({"public": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res =
        owner.http.patch(app.url(&format!("/api/v1/audio/{id}"))).json(&json!({"public": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for who in [&stranger, &Browser::new()] {
        for s in surfaces {
            assert_eq!(app.get(who, &format!("/api/v1/audio/{id}{s}")).await.status(), StatusCode::OK, "public {s}");
        }
    }
    let res = stranger
        .http
        .patch(app.url(&format!("/api/v1/audio/{id}")))
        .json(&json!({"public": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Listing shows only your own.
    let mine: Vec<Value> = app.get(&stranger, "/api/v1/audio").await.json().await.unwrap();
    assert!(mine.is_empty());
}

#[tokio::test]
async fn bulk_import_ingests_a_folder_and_reports_duplicates_and_failures() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    drop(b);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.wav"), wav(44_100, 1, 0.5)).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/two.flac"), ffmpeg(&wav(48_000, 2, 0.5), "flac", &[])).unwrap();
    std::fs::write(dir.path().join("sub/copy.wav"), wav(44_100, 1, 0.5)).unwrap();
    std::fs::write(dir.path().join("bad.mp3"), b"not an mp3 at all").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["import"])
        .arg(dir.path())
        .args(["--owner", "musician@demo.tutti.invalid"])
        .envs(app.env_vars())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 2, duplicates 1, failed 1"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("bad.mp3"), "{stdout}");
    assert!(!out.status.success(), "a failure makes the exit status non-zero");
    assert_eq!(app::db::audio::Entity::find().count(&app.db).await.unwrap(), 2);
}
