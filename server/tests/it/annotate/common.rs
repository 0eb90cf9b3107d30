//! What the annotation tests share: audio, campaigns built from it, serving and answering calls.
use crate::helpers::{Browser, TestApp};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Mono 16-bit WAV: `tone_seconds` of 440 Hz, then `silent_seconds` of digital silence.
pub(super) fn tone_then_silence(rate: u32, tone_seconds: f64, silent_seconds: f64) -> Vec<u8> {
    let tone = (rate as f64 * tone_seconds) as usize;
    let total = tone + (rate as f64 * silent_seconds) as usize;
    let samples: Vec<f32> = (0..total)
        .map(|i| if i < tone { 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin() } else { 0.0 })
        .collect();
    ::audio::wav::encode_i16(&samples, rate, 1)
}

pub struct Setup {
    pub admin: Browser,
    pub campaign: Value,
}

pub(super) async fn signed_in(app: &TestApp, role: &str) -> Browser {
    let b = Browser::new();
    app.sign_in_demo(&b, role).await;
    b
}

pub(super) async fn upload(app: &TestApp, b: &Browser, name: &str, bytes: Vec<u8>) -> Value {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

pub async fn build_and_wait(app: &TestApp, admin: &Browser, campaign: &str, body: Value) -> Value {
    let res =
        admin.http.post(app.url(&format!("/api/v1/campaigns/{campaign}/builds"))).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{}", res.text().await.unwrap());
    let job: Value = res.json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j: Value =
            app.get(admin, &format!("/api/v1/builds/{}", job["id"].as_str().unwrap())).await.json().await.unwrap();
        if j["status"] == "done" || j["status"] == "failed" {
            return j;
        }
        assert!(Instant::now() < deadline, "build did not finish: {j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(super) async fn new_campaign(app: &TestApp, admin: &Browser, body: Value) -> Value {
    let res = admin.http.post(app.url("/api/v1/campaigns")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// A campaign with `clips` ten-second tasks asking about piano and drums.
pub async fn campaign_with_tasks(app: &TestApp, clips: usize, k: i32) -> Setup {
    let admin = signed_in(app, "admin").await;
    let source = upload(app, &admin, "long.wav", tone_then_silence(8_000, clips as f64 * 10.0, 0.0)).await;
    let campaign = new_campaign(
        app,
        &admin,
        json!({"name": "Test", "annotations_per_task": k, "instruments": ["piano", "drums"]}),
    )
    .await;
    let job = build_and_wait(
        app,
        &admin,
        campaign["id"].as_str().unwrap(),
        json!({"sources": {"kind": "audio", "ids": [source["id"]]}, "strategy": "even", "seed": 1}),
    )
    .await;
    assert_eq!(job["clips_made"], clips as i64, "{job}");
    Setup { admin, campaign }
}

pub(super) fn answers(piano: &str, drums: &str) -> Value {
    json!({"piano": piano, "drums": drums})
}

pub(super) async fn next(app: &TestApp, b: &Browser) -> Option<Value> {
    let res = b.http.post(app.url("/api/v1/annotate/next")).send().await.unwrap();
    match res.status() {
        StatusCode::OK => Some(res.json().await.unwrap()),
        StatusCode::NO_CONTENT => None,
        s => panic!("next: {s} {}", res.text().await.unwrap()),
    }
}

pub(super) async fn submit(app: &TestApp, b: &Browser, task: &str, body: Value) -> reqwest::Response {
    b.http.post(app.url(&format!("/api/v1/tasks/{task}/annotations"))).json(&body).send().await.unwrap()
}

/// `submit` for a script holding an API token: the status and the body.
pub(super) async fn submit_with_token(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    task: &str,
    body: Value,
) -> (StatusCode, String) {
    let res = http
        .post(format!("{base}/api/v1/tasks/{task}/annotations"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

pub(super) fn submission(client: &str, answers: Value) -> Value {
    json!({"client_id": client, "answers": answers, "play_count": 1, "listening_ms": 9000, "time_to_submit_ms": 12000})
}

pub(super) async fn message(res: reqwest::Response) -> String {
    res.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_string()
}

pub(super) async fn expire_leases(app: &TestApp) {
    app::db::lease::Entity::update_many()
        .col_expr(
            app::db::lease::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(5)),
        )
        .exec(&app.db)
        .await
        .unwrap();
}

pub(super) async fn skip(app: &TestApp, b: &Browser, task: &str) {
    let res = b.http.delete(app.url(&format!("/api/v1/tasks/{task}/lease"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

pub(super) async fn next_id(app: &TestApp, b: &Browser) -> Option<String> {
    next(app, b).await.map(|t| t["task_id"].as_str().unwrap().to_string())
}
