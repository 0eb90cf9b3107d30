//! What the studio tests share: script clients acting as users, uploads, compositions.
use crate::helpers::TestApp;
use crate::ingest::wav;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

/// A script client acting as one user through an API token.
pub(super) struct Who {
    pub(super) token: Option<String>,
    pub(super) id: String,
}

impl Who {
    pub(super) fn req(&self, app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = reqwest::Client::new().request(method, app.url(path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
}

pub(super) async fn user(app: &TestApp, name: &str) -> Who {
    let token = app.user_with_token(&format!("{name}@example.org")).await;
    let me: Value = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Who { token: Some(token), id: me["id"].as_str().unwrap().to_string() }
}

pub(super) async fn upload(app: &TestApp, who: &Who, seconds: f64) -> String {
    let form = Form::new().part("file", Part::bytes(wav(8_000, 1, seconds)).file_name("take.wav"));
    let res = who.req(app, reqwest::Method::POST, "/api/v1/audio").multipart(form).send().await.unwrap();
    assert!(res.status().is_success());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// Creates a composition as `who`; the server's answer.
pub(super) async fn compose(app: &TestApp, who: &Who, body: Value) -> Value {
    who.req(app, reqwest::Method::POST, "/api/v1/compositions").json(&body).send().await.unwrap().json().await.unwrap()
}

pub(super) async fn status(res: reqwest::RequestBuilder) -> StatusCode {
    res.send().await.unwrap().status()
}
