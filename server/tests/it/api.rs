use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp};

#[tokio::test]
async fn require_user_answers_401_to_strangers() {
    let app = TestApp::spawn().await;
    let res = app.get(&Browser::new(), "/api/v1/me").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn require_admin_answers_403_to_members_and_401_to_strangers() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get(&Browser::new(), "/api/v1/users").await.status(), StatusCode::UNAUTHORIZED);
    let musician = Browser::new();
    app.sign_in_demo(&musician, "musician").await;
    let res = app.get(&musician, "/api/v1/users").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "forbidden");
    let admin = Browser::new();
    app.sign_in_demo(&admin, "admin").await;
    let users: Vec<Value> = app.get(&admin, "/api/v1/users").await.json().await.unwrap();
    assert_eq!(users.len(), 2);
}

#[tokio::test]
async fn server_functions_answer_401_and_403() {
    let app = TestApp::spawn().await;
    let call = |b: &Browser| b.http.post(app.url("/api/list_users")).form(&[("_", "")]).send();
    assert_eq!(call(&Browser::new()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let musician = Browser::new();
    app.sign_in_demo(&musician, "musician").await;
    assert_eq!(call(&musician).await.unwrap().status(), StatusCode::FORBIDDEN);
    let admin = Browser::new();
    app.sign_in_demo(&admin, "admin").await;
    assert_eq!(call(&admin).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_can_grant_admin_rights_but_not_drop_their_own() {
    let app = TestApp::spawn().await;
    let musician = Browser::new();
    app.sign_in_demo(&musician, "musician").await;
    let musician_id = app.me(&musician).await.unwrap()["id"].as_str().unwrap().to_string();
    let admin = Browser::new();
    app.sign_in_demo(&admin, "admin").await;
    let admin_id = app.me(&admin).await.unwrap()["id"].as_str().unwrap().to_string();

    let res = musician
        .http
        .put(app.url(&format!("/api/v1/users/{admin_id}/admin")))
        .json(&json!({"admin": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = admin
        .http
        .put(app.url(&format!("/api/v1/users/{musician_id}/admin")))
        .json(&json!({"admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.me(&musician).await.unwrap()["is_admin"], true);

    let res = admin
        .http
        .put(app.url(&format!("/api/v1/users/{admin_id}/admin")))
        .json(&json!({"admin": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = admin
        .http
        .put(app.url(&format!("/api/v1/users/{}/admin", uuid::Uuid::nil())))
        .json(&json!({"admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_tokens_authenticate_scripts_until_revoked() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    app.sign_in_demo(&browser, "annotator").await;
    let body = json!({"name": "laptop", "scopes": ["read"]});
    let res = browser.http.post(app.url("/api/v1/tokens")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("tutti_"));

    // Only a hash is stored.
    let stored = <app::db::api_token::Entity as sea_orm::EntityTrait>::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, secret);
    assert!(!stored[0].token_hash.contains(&secret[6..]));

    let script = reqwest::Client::new();
    let me: Value = script.get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "annotator@demo.tutti.invalid");
    // The scheme's name is case-insensitive.
    let lower = script.get(app.url("/api/v1/me")).header("authorization", format!("bearer {secret}")).send();
    assert_eq!(lower.await.unwrap().status(), StatusCode::OK);

    let wrong = script.get(app.url("/api/v1/me")).bearer_auth("tutti_nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let id = created["token"]["id"].as_str().unwrap();
    let res = browser.http.delete(app.url(&format!("/api/v1/tokens/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = script.get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_cannot_revoke_someone_elses_token() {
    let app = TestApp::spawn().await;
    let owner = Browser::new();
    app.sign_in_demo(&owner, "musician").await;
    let created: Value = owner
        .http
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"name": "mine", "scopes": ["read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = Browser::new();
    app.sign_in_demo(&other, "annotator").await;
    let id = created["token"]["id"].as_str().unwrap();
    let res = other.http.delete(app.url(&format!("/api/v1/tokens/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let listed: Vec<Value> = app.get(&owner, "/api/v1/tokens").await.json().await.unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn a_nameless_token_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    app.sign_in_demo(&browser, "musician").await;
    let body = json!({"name": "  ", "scopes": ["read"]});
    let res = browser.http.post(app.url("/api/v1/tokens")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("name"));
}

#[tokio::test]
async fn the_taxonomy_is_public() {
    let app = TestApp::spawn().await;
    let list: Vec<Value> = app.get(&Browser::new(), "/api/v1/instruments").await.json().await.unwrap();
    assert_eq!(list.len(), 20);
    assert_eq!(list[0]["slug"], "accordion");
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    let app = TestApp::spawn().await;
    let res = app.get(&Browser::new(), "/api/v1/nothing-here").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "not_found");
}

#[tokio::test]
async fn malformed_requests_get_json_errors_that_say_what_is_wrong() {
    let app = TestApp::spawn().await;
    let b = Browser::new();
    app.sign_in_demo(&b, "annotator").await;
    let nil = "/api/v1/tasks/00000000-0000-0000-0000-000000000000/annotations";
    let json_body =
        |body: &'static str| b.http.post(app.url(nil)).header("content-type", "application/json").body(body).send();
    let cases = [
        (json_body("not json").await.unwrap(), StatusCode::BAD_REQUEST, "bad_request", "parse the request body as JSON"),
        (json_body("{}").await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "missing field `client_id`"),
        // A number where an object belongs: said in JSON words, not the server type names.
        (json_body("1").await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "expected a JSON object at"),
        (
            json_body(r#"{"client_id":"x","answers":{"piano":"maybe"},"play_count":1,"listening_ms":1,"time_to_submit_ms":1}"#)
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "unknown variant `maybe`",
        ),
        (
            b.http.post(app.url(nil)).body("{}").send().await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type: application/json",
        ),
        (
            b.http.post(app.url("/api/v1/tasks/not-a-uuid/annotations")).json(&json!({})).send().await.unwrap(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            "not-a-uuid",
        ),
        (
            b.http.delete(app.url("/api/v1/annotate/next")).send().await.unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Allow header",
        ),
        (
            b.http.post(app.url("/api/v1/audio")).json(&json!({})).send().await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "multipart/form-data",
        ),
        // A server function that does not exist (they live at /api/<name>).
        (
            b.http.post(app.url("/api/no_such_function")).body("x=1").send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
        ),
    ];
    for (res, status, code, says) in cases {
        assert_eq!(res.status(), status);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(res.headers()["allow"], "POST");
        }
        assert_eq!(res.headers()["content-type"], "application/json");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"], code, "{v}");
        assert!(v["message"].as_str().unwrap().contains(says), "{v}");
    }
    // Errors the API raises itself keep their shape, and successes are untouched.
    let res = b.http.post(app.url("/api/v1/annotate/next")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&b, "/api/v1/me").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn server_function_errors_carry_their_status() {
    let app = TestApp::spawn().await;
    let admin = Browser::new();
    app.sign_in_demo(&admin, "admin").await;
    let id = uuid::Uuid::new_v4().to_string();
    let res = admin.http.post(app.url("/api/get_build_job")).form(&[("id", id.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Arguments that do not parse are the caller's mistake: 400, not a server error.
    let res = admin.http.post(app.url("/api/get_build_job")).form(&[("id", "nope")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", res.text().await.unwrap());
    let res = admin.http.post(app.url("/api/skip_task")).form(&[("wrong", "field")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", res.text().await.unwrap());
}
