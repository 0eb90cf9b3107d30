//! Tracks and takes: one master, persisted mixer state, checked offsets and texts, recordings, latency.
use super::common::*;
use crate::helpers::TestApp;
use crate::ingest::wav;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// One master per composition, even when several requests to add one arrive together.
#[tokio::test]
async fn a_composition_has_one_master_even_when_requests_race() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Guide"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let audio = upload(&app, &owner, 0.5).await;
    let url = format!("/api/v1/compositions/{cid}/tracks");
    let body = json!({"audio_id": audio, "name": "Guide", "instrument": "piano", "is_master": true});
    let answers = futures::future::join_all((0..20).map(|_| status(owner.req(&app, M::POST, &url).json(&body)))).await;
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{answers:?}");
    let masters = app::db::track::Entity::find()
        .filter(app::db::track::Column::CompositionId.eq(cid.parse::<uuid::Uuid>().unwrap()))
        .filter(app::db::track::Column::IsMaster.eq(true))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(masters, 1);
}

#[tokio::test]
async fn offsets_and_mixer_state_are_persisted_and_checked() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Mix"})).await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    let t: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "Keys", "instrument": "piano", "offset_frames": 22050}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tid = t["id"].as_str().unwrap();
    let res = owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}"))
        .json(&json!({"offset_frames": 44100, "gain_db": -6.0, "pan": -0.5, "mute": true, "solo": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let back: Vec<Value> = owner
        .req(&app, M::GET, &format!("/api/v1/compositions/{cid}/tracks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back[0]["offset_frames"], 44100);
    assert_eq!(back[0]["gain_db"], -6.0);
    assert_eq!(back[0]["pan"], -0.5);
    assert_eq!((back[0]["mute"].as_bool(), back[0]["solo"].as_bool()), (Some(true), Some(true)));
    for bad in [json!({"pan": 2.0}), json!({"gain_db": 40.0}), json!({"instrument": "kazoo"})] {
        let res = owner.req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}")).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "x", "instrument": "kazoo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner
        .req(&app, M::POST, "/api/v1/compositions")
        .json(&json!({"title": "Too fast", "tempo_bpm": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn far_off_tracks_and_long_texts_are_refused_before_anything_is_allocated() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Far"})).await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    let add = |offset: i64| {
        owner
            .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
            .json(&json!({"audio_id": audio, "name": "Keys", "instrument": "piano", "offset_frames": offset}))
            .send()
    };
    for offset in [i64::MAX, i64::MIN, 10_000_000_000] {
        let res = add(offset).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{offset}");
        let v: Value = res.json().await.unwrap();
        assert!(v["message"].as_str().unwrap().contains("can start at most"), "{v}");
    }
    let t: Value = add(0).await.unwrap().json().await.unwrap();
    let tid = t["id"].as_str().unwrap();
    let res = owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}"))
        .json(&json!({"offset_frames": i64::MAX}))
        .send()
        .await;
    assert_eq!(res.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A track stored far out before offsets were checked: the mixdown refuses, and the server lives.
    app::db::track::Entity::update_many()
        .col_expr(app::db::track::Column::OffsetFrames, sea_orm::sea_query::Expr::value(i64::MAX - 1))
        .exec(&app.db)
        .await
        .unwrap();
    let res = owner.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = res.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("later than Tutti renders"), "{v}");
    assert_eq!(owner.req(&app, M::GET, "/api/v1/me").send().await.unwrap().status(), StatusCode::OK);

    let long = "x".repeat(5_001);
    let res = owner.req(&app, M::POST, "/api/v1/compositions").json(&json!({"title": "T", "description": long})).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({"description": long}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner.req(&app, M::PATCH, &format!("/api/v1/audio/{audio}")).json(&json!({"title": "t".repeat(201)}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "K", "instrument": "piano", "capture": {"note": "y".repeat(70_000)}}))
        .send();
    assert_eq!(res.await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({"description": "fine"}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_browser_take_is_stored_as_a_recording_with_its_provenance() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let musician = user(&app, "musician").await;
    // What the browser uploads: mono 32-bit float WAV at the capture rate, samples kept exactly.
    let rate = 48_000u32;
    let samples: Vec<f32> = (0..rate * 2).map(|i| ((i % 4096) as f32 - 2048.0) / 4096.0).collect();
    let form = Form::new()
        .text("kind", "recording")
        .part("file", Part::bytes(::audio::wav::encode_f32(&samples, rate, 1)).file_name("Take 1.wav"));
    let res = musician.req(&app, M::POST, "/api/v1/audio").multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let take: Value = res.json().await.unwrap();
    assert_eq!(take["kind"], "recording");
    assert_eq!(take["original_rate"], 48_000);
    assert_eq!(take["original_codec"], "pcm_f32le");
    assert!((take["duration_seconds"].as_f64().unwrap() - 2.0).abs() < 1.0 / 44_100.0, "{take}");
    // The original bytes are the float samples, unchanged.
    let id = take["id"].as_str().unwrap();
    let original = musician
        .req(&app, M::GET, &format!("/api/v1/audio/{id}/original"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let back: Vec<f32> = original[58..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(back, samples);

    // Placed at an offset with its capture provenance, which reads back as stored.
    let c = compose(&app, &musician, json!({"title": "Takes"})).await;
    let capture = json!({"source": "browser", "input_device": "USB mic", "capture_sample_rate": 48000,
        "latency": {"round_trip_ms": 12.5, "quality_db": 31.0}, "compensation_ms": 12.5, "compensation_frames": 551});
    let res = musician
        .req(&app, M::POST, &format!("/api/v1/compositions/{}/tracks", c["id"].as_str().unwrap()))
        .json(&json!({"audio_id": id, "name": "Take 1", "instrument": "voice", "offset_frames": -551, "capture": capture}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let track: Value = res.json().await.unwrap();
    assert_eq!(track["offset_frames"], -551);
    assert_eq!(track["capture"], capture);

    // Only uploads and recordings come from clients.
    for kind in ["clip", "mixdown", "podcast"] {
        let form = Form::new().text("kind", kind).part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("x.wav"));
        let res = musician.req(&app, M::POST, "/api/v1/audio").multipart(form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(res.text().await.unwrap().contains("Unknown audio kind"));
    }
}

#[tokio::test]
async fn latency_measurements_are_kept_per_user_and_device() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let good = json!({"device_key": "dev-1", "device_label": "USB mic", "latency_ms": 42.5, "spread_ms": 0.3,
        "quality_db": 34.0, "sample_rate": 48000, "runs": 5, "accepted": 5, "user_agent": "test"});
    let res = ada.req(&app, M::PUT, "/api/v1/me/latency").json(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Measuring the same device again replaces the value; another device is kept beside it.
    let again = json!({"device_key": "dev-1", "latency_ms": 40.0, "quality_db": 30.0, "sample_rate": 48000,
        "runs": 5, "accepted": 4});
    let res = ada.req(&app, M::PUT, "/api/v1/me/latency").json(&again).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let other = json!({"device_key": "dev-2", "latency_ms": 8.0, "quality_db": 40.0, "sample_rate": 44100,
        "runs": 3, "accepted": 3});
    assert_eq!(status(ada.req(&app, M::PUT, "/api/v1/me/latency").json(&other)).await, StatusCode::OK);
    let list: Value = ada.req(&app, M::GET, "/api/v1/me/latency").send().await.unwrap().json().await.unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let dev1 = list.iter().find(|c| c["device_key"] == "dev-1").unwrap();
    assert_eq!(dev1["latency_ms"], 40.0);
    assert_eq!(dev1["accepted"], 4);
    // Each user sees only their own.
    let theirs: Value = bob.req(&app, M::GET, "/api/v1/me/latency").send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs, json!([]));
    let anonymous = Who { token: None, id: String::new() };
    assert_eq!(status(anonymous.req(&app, M::GET, "/api/v1/me/latency")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(anonymous.req(&app, M::PUT, "/api/v1/me/latency").json(&good)).await, StatusCode::UNAUTHORIZED);
    // A weak or impossible measurement is refused with a reason, and nothing is stored.
    for (field, value, words) in [
        ("quality_db", json!(12.0), "too weak"),
        ("latency_ms", json!(-3.0), "between 0 and 1000"),
        ("latency_ms", json!(5000.0), "between 0 and 1000"),
        ("device_key", json!("  "), "device"),
        ("accepted", json!(6), "Runs"),
        ("sample_rate", json!(1000), "sample rate"),
    ] {
        let mut bad = good.clone();
        bad["device_key"] = json!("dev-bad");
        bad[field] = value;
        let res = bob.req(&app, M::PUT, "/api/v1/me/latency").json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(res.text().await.unwrap().contains(words), "{field}");
    }
    let theirs: Value = bob.req(&app, M::GET, "/api/v1/me/latency").send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs, json!([]));
}
