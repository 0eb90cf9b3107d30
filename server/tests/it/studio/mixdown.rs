//! The server mixdown: exact to the sample, refused when empty, run and followed as a job.
use super::common::*;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// Ask for the composition's mixdown and follow its job to the end: the mix's audio record.
async fn mixdown(app: &TestApp, who: &Who, cid: &str) -> Value {
    crate::helpers::render_mixdown(|m, p| who.req(app, m, p), cid).await
}

/// The job at `location` once it has ended.
async fn finished(app: &TestApp, who: &Who, location: &str) -> Value {
    crate::helpers::finished_job(&|m, p| who.req(app, m, p), location).await
}

/// 16-bit mono WAV of silence with single full-scale clicks at the given frames.
fn clicks(rate: u32, frames: usize, at: &[usize]) -> Vec<u8> {
    let mut samples = vec![0.0f32; frames];
    for &i in at {
        samples[i] = 1.0;
    }
    ::audio::wav::encode_i16(&samples, rate, 1)
}

#[tokio::test]
async fn the_server_mixdown_places_every_click_at_its_sample_with_the_pan_law() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Clicks"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let add = |bytes: Vec<u8>, name: &'static str| {
        let (app, owner, cid) = (&app, &owner, cid.clone());
        async move {
            let form = Form::new().part("file", Part::bytes(bytes).file_name(format!("{name}.wav")));
            let a: Value =
                owner.req(app, M::POST, "/api/v1/audio").multipart(form).send().await.unwrap().json().await.unwrap();
            let t: Value = owner
                .req(app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
                .json(&json!({"audio_id": a["id"], "name": name, "instrument": "drums"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            t["id"].as_str().unwrap().to_string()
        }
    };
    // Track A: click at frame 1000, placed at 22 050 (0.5 s), centre.
    let a = add(clicks(44_100, 44_100, &[1000]), "a").await;
    owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{a}"))
        .json(&json!({"offset_frames": 22050}))
        .send()
        .await
        .unwrap();
    // Track B: click at frame 10, hard left, −6.0206 dB; Track C: muted.
    let b = add(clicks(44_100, 44_100, &[10, 5]), "b").await;
    owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{b}"))
        .json(&json!({"pan": -1.0, "gain_db": -6.0206}))
        .send()
        .await
        .unwrap();
    let m = add(clicks(44_100, 44_100, &[300]), "m").await;
    owner.req(&app, M::PATCH, &format!("/api/v1/tracks/{m}")).json(&json!({"mute": true})).send().await.unwrap();

    let mix = mixdown(&app, &owner, &cid).await;
    assert_eq!(mix["kind"], "mixdown");
    assert_eq!(mix["canonical_channels"], 2);
    assert_eq!(mix["frames"], 22050 + 44100);
    // The mix as rendered: the original is a 32-bit float WAV (58-byte header, then stereo frames).
    let wav = owner
        .req(&app, M::GET, &format!("/api/v1/audio/{}/original", mix["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 3, "IEEE float");
    let s: Vec<f32> = wav[58..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert_eq!(s.len(), 2 * 66_150);
    let frame = |i: usize| (s[2 * i], s[2 * i + 1]);
    let centre = std::f32::consts::FRAC_1_SQRT_2;
    let q = 1.0 / 32767.0; // the sources' 16-bit quantisation (full scale is 32767/32768)
    let (l, r) = frame(22050 + 1000);
    assert!((l - centre).abs() < q && (r - centre).abs() < q, "A at 23050: {l} {r}");
    for i in [10, 5] {
        let (l, r) = frame(i);
        assert!((l - 0.5).abs() < q && r.abs() < q, "B at {i}: {l} {r}");
    }
    // Nothing else sounds: the muted click and every other sample are silent.
    let loud: Vec<usize> = (0..s.len() / 2).filter(|&i| frame(i).0.abs() > q || frame(i).1.abs() > q).collect();
    assert_eq!(loud, vec![5, 10, 23050]);
    // The mixdown is visible to whoever sees the composition, and to no one else.
    let stranger = user(&app, "stranger").await;
    let path = format!("/api/v1/audio/{}/canonical", mix["id"].as_str().unwrap());
    assert_eq!(status(stranger.req(&app, M::GET, &path)).await, StatusCode::NOT_FOUND);
    owner
        .req(&app, M::PUT, &format!("/api/v1/compositions/{cid}/members/{}", stranger.id))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(stranger.req(&app, M::GET, &path)).await, StatusCode::OK);
    assert_eq!(
        status(stranger.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown"))).await,
        StatusCode::FORBIDDEN
    );
    // Removing a track retires the mix that holds its audio.
    let extra = add(clicks(44_100, 100, &[1]), "extra").await;
    let stale = mixdown(&app, &owner, &cid).await;
    assert_eq!(
        status(stranger.req(&app, M::GET, &format!("/api/v1/audio/{}/canonical", stale["id"].as_str().unwrap()))).await,
        StatusCode::OK
    );
    assert_eq!(status(owner.req(&app, M::DELETE, &format!("/api/v1/tracks/{extra}"))).await, StatusCode::NO_CONTENT);
    assert_eq!(
        status(stranger.req(&app, M::GET, &format!("/api/v1/audio/{}/canonical", stale["id"].as_str().unwrap()))).await,
        StatusCode::NOT_FOUND
    );
    let info: Value =
        owner.req(&app, M::GET, &format!("/api/v1/compositions/{cid}")).send().await.unwrap().json().await.unwrap();
    assert!(info["mixdown_id"].is_null(), "{info}");
    mixdown(&app, &owner, &cid).await;
    // It follows the composition's visibility as that changes: public, then private, then gone.
    let visibility = |v: &'static str| {
        owner.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({ "visibility": v })).send()
    };
    assert_eq!(visibility("public").await.unwrap().status(), StatusCode::OK);
    let nobody = reqwest::Client::new();
    assert_eq!(nobody.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(visibility("private").await.unwrap().status(), StatusCode::OK);
    assert_eq!(nobody.get(app.url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let meta = format!("/api/v1/audio/{}", mix["id"].as_str().unwrap());
    assert_eq!(nobody.get(app.url(&meta)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(visibility("public").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        status(owner.req(&app, M::DELETE, &format!("/api/v1/compositions/{cid}"))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(nobody.get(app.url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(status(stranger.req(&app, M::GET, &path)).await, StatusCode::NOT_FOUND);
    assert_eq!(status(owner.req(&app, M::GET, &path)).await, StatusCode::OK, "the owner keeps the mix");
}

/// A mix with nothing to play says why: every track muted, or every track before the start.
#[tokio::test]
async fn a_mixdown_with_nothing_to_play_says_why() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Early"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let audio = upload(&app, &owner, 0.5).await;
    let t: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "Early", "instrument": "drums", "offset_frames": -44_100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let render = || async {
        let res = owner.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
        (res.status(), res.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_string())
    };
    let (status, message) = render().await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("ends before the composition's start"), "{message}");
    let patch = json!({"mute": true});
    owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{}", t["id"].as_str().unwrap()))
        .json(&patch)
        .send()
        .await
        .unwrap();
    let (status, message) = render().await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("Every track is muted"), "{message}");
    assert_eq!(
        app::db::audio::Entity::find().filter(app::db::audio::Column::Kind.eq("mixdown")).count(&app.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_mixdown_job_is_seen_and_cancelled_by_whoever_asked_for_it_only() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let editor = user(&app, "editor").await;
    let stranger = user(&app, "stranger").await;
    let c = compose(&app, &owner, json!({"title": "Jobs", "visibility": "public"})).await;
    let cid = c["id"].as_str().unwrap();
    let res = owner
        .req(&app, M::PUT, &format!("/api/v1/compositions/{cid}/members/{}", editor.id))
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let audio = upload(&app, &owner, 1.0).await;
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "One", "instrument": "piano"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = editor.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    // Seen by whoever asked for it; a stranger (even one who sees the composition) and a signed-out
    // visitor cannot tell it exists.
    assert_eq!(status(stranger.req(&app, M::GET, &location)).await, StatusCode::NOT_FOUND);
    assert_eq!(status(stranger.req(&app, M::DELETE, &location)).await, StatusCode::NOT_FOUND);
    assert_eq!(reqwest::get(app.url(&location)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let job = finished(&app, &editor, &location).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["kind"], "mixdown");
    // An ended job cannot be cancelled.
    let res = editor.req(&app, M::DELETE, &location).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // The composition names the mix the job made.
    let info: Value =
        owner.req(&app, M::GET, &format!("/api/v1/compositions/{cid}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["mixdown_id"], job["result"]["audio_id"], "{info}");
    let missing = format!("/api/v1/jobs/{}", uuid::Uuid::new_v4());
    assert_eq!(status(editor.req(&app, M::GET, &missing)).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_queued_mixdown_is_asked_for_once_and_can_be_cancelled() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Queued"})).await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "One", "instrument": "piano"}))
        .send()
        .await
        .unwrap();
    // A mixdown already on its way (queued, not due for a long while).
    let payload = json!({ "composition_id": cid }).to_string();
    let owner_id = uuid::Uuid::parse_str(&owner.id).unwrap();
    let pending = app::jobs::enqueue(&app.db, "mixdown", &payload, Some(owner_id)).await.unwrap();
    app::db::job::Entity::update_many()
        .col_expr(app::db::job::Column::RunAfter, sea_orm::sea_query::Expr::value(i64::MAX / 2))
        .filter(app::db::job::Column::Id.eq(pending.id))
        .exec(&app.db)
        .await
        .unwrap();
    let ask = || owner.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send();
    let again: Value = ask().await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], pending.id.to_string(), "one job per composition while one is on its way");
    assert_eq!(again["state"], "queued");
    let location = format!("/api/v1/jobs/{}", pending.id);
    let res = owner.req(&app, M::DELETE, &location).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let job: Value = res.json().await.unwrap();
    assert_eq!(job["state"], "cancelled");
    // Asked again, a new job renders the mix.
    let mix = mixdown(&app, &owner, cid).await;
    assert_eq!(mix["kind"], "mixdown");
}
