//! The REST adapters' own refusals (typed extractors: body, address, query string, method) answer
//! in the JSON shape of every API error, and the library's rules behind `PATCH /api/v1/audio/{id}`
//! and `GET /api/v1/audio` hold.
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Browser, TestApp};
use crate::ingest::wav;

async fn signed_in(app: &TestApp, role: &str) -> Browser {
    let b = Browser::new();
    app.sign_in_demo(&b, role).await;
    b
}

/// The status, and the JSON error body (which must be `application/json`).
async fn refusal(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    assert_eq!(res.headers()["content-type"], "application/json", "{status}");
    (status, res.json().await.unwrap())
}

fn says(v: &Value, words: &str) -> bool {
    v["message"].as_str().is_some_and(|m| m.contains(words))
}

#[tokio::test]
async fn json_endpoints_refuse_another_content_type_with_a_json_415() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "admin").await;
    let nil = Uuid::nil();
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/tokens".to_string()),
        (reqwest::Method::PATCH, format!("/api/v1/audio/{nil}")),
        (reqwest::Method::PUT, format!("/api/v1/users/{nil}/admin")),
        (reqwest::Method::POST, "/api/v1/campaigns".to_string()),
        // The studio's routes, through the transitional reshaping in `api.rs`.
        (reqwest::Method::POST, "/api/v1/compositions".to_string()),
    ] {
        let res = b
            .http
            .request(method.clone(), app.url(&path))
            .header("content-type", "text/plain")
            .body(r#"{"name": "x"}"#)
            .send()
            .await
            .unwrap();
        let (status, v) = refusal(res).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {path}: {v}");
        assert_eq!(v["error"], "unsupported_media_type", "{v}");
        assert!(says(&v, "Content-Type: application/json"), "{v}");
    }
}

#[tokio::test]
async fn a_malformed_id_in_the_address_is_a_json_400_that_quotes_it() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin").await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/audio/xyz"),
        (reqwest::Method::GET, "/api/v1/audio/xyz/canonical"),
        (reqwest::Method::GET, "/api/v1/audio/xyz/spectrogram"),
        (reqwest::Method::DELETE, "/api/v1/tokens/xyz"),
        (reqwest::Method::GET, "/api/v1/campaigns/xyz"),
        (reqwest::Method::GET, "/api/v1/builds/xyz"),
        (reqwest::Method::DELETE, "/api/v1/tasks/xyz/lease"),
    ] {
        let (status, v) = refusal(admin.http.request(method.clone(), app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {v}");
        assert_eq!(v["error"], "bad_request", "{v}");
        assert!(says(&v, "`xyz` in the address is not a valid id"), "{v}");
        assert!(!says(&v, "uuid::") && !says(&v, "Uuid"), "no Rust type names: {v}");
    }
    // Routes that still take axum's `Path` get the same shape (their words are axum's).
    for path in ["/api/v1/compositions/xyz", "/api/v1/jobs/xyz"] {
        let (status, v) = refusal(admin.http.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!((status, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{path}: {v}");
        assert!(says(&v, "xyz"), "{v}");
    }
}

#[tokio::test]
async fn a_bad_query_string_is_a_json_400() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "annotator").await;
    let nil = Uuid::nil();
    for query in ["utc_offset_minutes=soon", "timezone=CET"] {
        let res = app.get(&b, &format!("/api/v1/campaigns/{nil}/stats?{query}")).await;
        let (status, v) = refusal(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert_eq!(v["error"], "bad_request", "{v}");
        assert!(says(&v, "The query string is not valid"), "{v}");
        if query.starts_with("timezone") {
            assert!(says(&v, "unknown field `timezone`"), "{v}");
        }
    }
}

#[tokio::test]
async fn a_method_an_address_does_not_take_is_a_json_405_with_allow() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let nil = Uuid::nil();
    for (method, path, allowed) in [
        (reqwest::Method::PUT, format!("/api/v1/audio/{nil}"), "DELETE"),
        (reqwest::Method::PUT, "/api/v1/me".to_string(), "GET"),
        (reqwest::Method::GET, "/api/v1/annotate/next".to_string(), "POST"),
        (reqwest::Method::POST, format!("/api/v1/tracks/{nil}"), "DELETE"),
    ] {
        let res = b.http.request(method.clone(), app.url(&path)).send().await.unwrap();
        let allow = res.headers().get("allow").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let (status, v) = refusal(res).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {v}");
        assert_eq!(v["error"], "method_not_allowed", "{v}");
        assert!(allow.contains(allowed), "{method} {path}: Allow: {allow}");
    }
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_a_422_in_json_words() {
    let app = TestApp::spawn().await;
    let b = signed_in(&app, "musician").await;
    let id = upload(&app, &b, false).await;
    let patch = |body: &'static str| {
        b.http
            .patch(app.url(&format!("/api/v1/audio/{id}")))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (status, v) = refusal(patch("1").await.unwrap()).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")), "{v}");
    assert!(says(&v, "expected a JSON object at line 1 column 1"), "{v}");
    assert!(!says(&v, "AudioPatch") && !says(&v, "struct"), "{v}");
    let (status, v) = refusal(patch(r#"{"colour": "red"}"#).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(says(&v, "unknown field `colour`"), "{v}");
    let (status, v) = refusal(patch(r#"{"public": "#).await.unwrap()).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{v}");
    assert!(says(&v, "parse the request body as JSON"), "{v}");
}

async fn upload(app: &TestApp, b: &Browser, public: bool) -> Uuid {
    let form = Form::new()
        .part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("take.wav"))
        .text("public", public.to_string());
    let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_audio_is_changed_by_its_owner_only_and_its_clips_follow_it() {
    let app = TestApp::spawn().await;
    let owner = signed_in(&app, "musician").await;
    let other = signed_in(&app, "annotator").await;
    let id = upload(&app, &owner, false).await;
    // A clip cut from it (as a campaign build would).
    let source = app::db::audio::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap();
    let clip_id = Uuid::new_v4();
    let mut clip = source.clone();
    clip.id = clip_id;
    clip.kind = app::domain::AudioKind::Clip;
    clip.parent_id = Some(id);
    clip.parent_offset_frames = Some(0);
    clip.sha256 = "0".repeat(64);
    clip.into_active_model().reset_all().insert(&app.db).await.unwrap();

    let patch = |b: &Browser, body: Value| b.http.patch(app.url(&format!("/api/v1/audio/{id}"))).json(&body).send();
    // Hidden from others: not found, as for any id they may not see.
    let res = patch(&other, json!({"public": true})).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, v) = refusal(patch(&owner, json!({"license": "WTFPL"})).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says(&v, "Unknown licence 'WTFPL'"), "{v}");

    let res = patch(&owner, json!({"public": true, "license": "cc-by-4.0", "title": "  Take one  "})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let info: Value = res.json().await.unwrap();
    assert_eq!((info["is_public"].as_bool(), info["license"].as_str()), (Some(true), Some("CC-BY-4.0")));
    assert_eq!(info["title"], "Take one");
    let clip = app::db::audio::Entity::find_by_id(clip_id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((clip.is_public, clip.license), (true, app::domain::Licence::CcBy), "the clip follows its source");

    // Public now: others see it, but may not change it.
    assert_eq!(app.get(&other, &format!("/api/v1/audio/{id}")).await.status(), StatusCode::OK);
    let (status, v) = refusal(patch(&other, json!({"public": false})).await.unwrap()).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));

    let res = patch(&owner, json!({"public": false, "title": ""})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.json::<Value>().await.unwrap()["title"].is_null(), "an empty title clears it");
    let clip = app::db::audio::Entity::find_by_id(clip_id).one(&app.db).await.unwrap().unwrap();
    assert!(!clip.is_public, "and goes private with it");
    assert_eq!(app.get(&Browser::new(), &format!("/api/v1/audio/{clip_id}")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listing_everyone_s_audio_is_for_admins() {
    let app = TestApp::spawn().await;
    let owner = signed_in(&app, "musician").await;
    let id = upload(&app, &owner, false).await.to_string();
    let ids =
        |v: Value| v.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let mine = ids(app.get(&owner, "/api/v1/audio").await.json().await.unwrap());
    assert_eq!(mine, vec![id.clone()]);
    let (status, v) = refusal(app.get(&owner, "/api/v1/audio?scope=all").await).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let admin = signed_in(&app, "admin").await;
    assert!(ids(app.get(&admin, "/api/v1/audio").await.json().await.unwrap()).is_empty(), "an admin's own");
    assert!(ids(app.get(&admin, "/api/v1/audio?scope=all").await.json().await.unwrap()).contains(&id));
}

#[tokio::test]
async fn a_failed_if_match_is_a_json_412() {
    let app = TestApp::spawn().await;
    let owner = signed_in(&app, "musician").await;
    let id = upload(&app, &owner, false).await;
    let res = owner
        .http
        .get(app.url(&format!("/api/v1/audio/{id}/canonical")))
        .header("if-match", "\"another\"")
        .send()
        .await
        .unwrap();
    let (status, v) = refusal(res).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::PRECONDITION_FAILED, Some("precondition_failed")));
    assert!(says(&v, "If-Match"), "{v}");
}
