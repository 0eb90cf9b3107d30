//! Hardening against hostile input: where a sign-in sends the person, which e-mails are trusted,
//! whose name a mixdown carries, which characters text may hold, and which JSON fields exist.
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, Browser, TestApp, location};
use crate::ingest::{ffmpeg, wav};

/// Sign in through the provider with `next` exactly as given on the wire; the callback's answer.
async fn sign_in_with_next(app: &TestApp, browser: &Browser, raw_next: &str) -> reqwest::Response {
    let login = browser.http.get(format!("{}/auth/google/login?next={raw_next}", app.base)).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "{raw_next}");
    let authorize = browser.http.get(location(&login)).send().await.unwrap();
    browser.http.get(location(&authorize)).send().await.unwrap()
}

#[tokio::test]
async fn after_sign_in_only_paths_on_this_site_are_followed() {
    let app = TestApp::spawn().await;
    // As sent on the wire (the server percent-decodes the query once).
    let evil = [
        "/%09/evil.example",
        "/%09%09/evil.example",
        "//evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%252F/evil.example",
        "/%25252F%25252Fevil.example",
        "/%5Cevil.example",
        "/%5C/evil.example",
        "%5C%5Cevil.example",
        "/%0D%0ASet-Cookie:%20x=1",
        "/%0A",
        "/%0D",
        "/%00",
        "javascript:alert(1)",
        "https://evil.example/",
        "http:%2F%2Fevil.example",
        "HTTPS:%5C%5Cevil.example",
        "/%2e%2e/%2e%2e//evil.example",
        "/%E2%80%AE",
    ];
    for raw in evil {
        let b = Browser::new();
        let res = sign_in_with_next(&app, &b, raw).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{raw}: the sign-in completes");
        assert_eq!(location(&res), "/", "{raw}");
        assert!(app.me(&b).await.is_ok(), "{raw}: signed in");
    }
    for (raw, kept) in [("/profile%3Ftab%3D1", "/profile?tab=1"), ("/invite/abc-123", "/invite/abc-123")] {
        let b = Browser::new();
        assert_eq!(location(&sign_in_with_next(&app, &b, raw).await), kept);
    }
    // The demo sign-in form follows the same rule.
    for next in
        ["/\t/evil.example", "//evil.example", "/\\evil.example", "/\r\nX-Evil: 1", "/\0", "https://evil.example"]
    {
        let b = Browser::new();
        let res =
            b.http.post(app.url("/auth/demo")).form(&[("role", "musician"), ("next", next)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&res), "/", "{next:?}");
    }
}

/// The userinfo answer for `email`, with `verified` as the `email_verified` claim (`None`: absent).
fn claims(sub: &str, email: &str, verified: Option<Value>) -> Value {
    let mut c = json!({"sub": sub, "email": email, "name": "Mallory"});
    if let Some(v) = verified {
        c["email_verified"] = v;
    }
    c
}

async fn oauth_as(app: &TestApp, claims: Value) -> (Browser, reqwest::Response) {
    app.oauth.set_userinfo(Some(claims));
    let b = Browser::new();
    let (callback, _) = app.authorize(&b).await;
    let res = b.http.get(callback).send().await.unwrap();
    (b, res)
}

#[tokio::test]
async fn only_an_explicitly_verified_email_is_trusted() {
    let app = TestApp::spawn().await;
    let victim_token = app.user_with_token("victim@example.org").await;
    let users_before = app::db::user::Entity::find().count(&app.db).await.unwrap();
    let not_verified =
        [None, Some(json!(false)), Some(json!("true")), Some(json!("True")), Some(json!(1)), Some(json!(null))];
    for (i, verified) in not_verified.into_iter().enumerate() {
        for email in [ADMIN_EMAIL, "Boss@Example.ORG", "victim@example.org", "VICTIM@example.org", "new@example.org"] {
            let (b, res) = oauth_as(&app, claims(&format!("attacker-{i}"), email, verified.clone())).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{email} {verified:?}");
            assert!(res.text().await.unwrap().contains("not verified"));
            assert_eq!(app.me(&b).await.unwrap_err(), StatusCode::UNAUTHORIZED, "{email} {verified:?}: no session");
        }
    }
    assert_eq!(app::db::user::Entity::find().count(&app.db).await.unwrap(), users_before, "no user made");
    let google_identities = app::db::identity::Entity::find()
        .filter(app::db::identity::Column::Provider.eq("google"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(google_identities, 0, "nothing linked to the victim");
    let victim_tokens: Vec<Value> = Client::new()
        .get(app.url("/api/v1/tokens"))
        .bearer_auth(&victim_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(victim_tokens.len(), 1);

    // Verified, in another case: the same person, and the admin list matches without case.
    let (b, res) = oauth_as(&app, claims("boss-sub", "Boss@Example.ORG", Some(json!(true)))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let me = app.me(&b).await.unwrap();
    assert_eq!(me["is_admin"], true, "{me}");
    let (b, _) = oauth_as(&app, claims("victim-google", "VICTIM@example.org", Some(json!(true)))).await;
    let me = app.me(&b).await.unwrap();
    let victim_me: Value =
        Client::new().get(app.url("/api/v1/me")).bearer_auth(&victim_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], victim_me["id"], "a verified e-mail links to its owner's account");
}

#[tokio::test]
async fn a_userinfo_answer_with_bad_claims_signs_no_one_in() {
    let app = TestApp::spawn().await;
    for bad in [
        json!({"sub": "", "email": "a@example.org", "email_verified": true}),
        json!({"sub": "x", "email": "a@exa\u{0}mple.org", "email_verified": true}),
        json!({"sub": "x", "email": "not an email", "email_verified": true}),
        json!({"sub": 5, "email": "a@example.org", "email_verified": true}),
        json!(["a", "list"]),
    ] {
        let (b, res) = oauth_as(&app, bad.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{bad}");
        assert_eq!(app.me(&b).await.unwrap_err(), StatusCode::UNAUTHORIZED);
    }
    // A name with NUL and direction overrides is cleaned, not stored as given.
    let (b, _) = oauth_as(
        &app,
        json!({"sub": "eve", "email": "eve@example.org", "email_verified": true,
               "name": "Eve\u{0}\u{202E}nilev", "picture": "javascript:alert(1)"}),
    )
    .await;
    let me = app.me(&b).await.unwrap();
    assert_eq!(me["display_name"], "Evenilev");
    assert!(me["avatar_url"].is_null());
}

#[tokio::test]
async fn a_mixdown_never_carries_another_compositions_name() {
    let app = TestApp::spawn().await;
    let token = app.user_with_token("composer@example.org").await;
    let call = |m: reqwest::Method, path: &str| Client::new().request(m, app.url(path)).bearer_auth(&token);
    let form = Form::new().part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("take.wav"));
    let audio: Value =
        call(reqwest::Method::POST, "/api/v1/audio").multipart(form).send().await.unwrap().json().await.unwrap();
    let mut mixes = Vec::new();
    for (title, visibility) in [("Secret plans", "private"), ("Open song", "public")] {
        let c: Value = call(reqwest::Method::POST, "/api/v1/compositions")
            .json(&json!({"title": title, "visibility": visibility}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cid = c["id"].as_str().unwrap().to_string();
        let res = call(reqwest::Method::POST, &format!("/api/v1/compositions/{cid}/tracks"))
            .json(&json!({"audio_id": audio["id"], "name": "Take", "instrument": "voice"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let mix = crate::helpers::render_mixdown(call, &cid).await;
        mixes.push((cid, mix));
    }
    let ((secret, secret_mix), (_, public_mix)) = (&mixes[0], &mixes[1]);
    assert_ne!(secret_mix["id"], public_mix["id"], "identical mixes of two compositions are two records");
    assert_eq!(secret_mix["sha256"], public_mix["sha256"]);
    let anonymous = |mix: &Value| Client::new().get(app.url(&format!("/api/v1/audio/{}", mix["id"].as_str().unwrap())));
    let seen: Value = anonymous(public_mix).send().await.unwrap().json().await.unwrap();
    let name = seen["original_filename"].as_str().unwrap();
    assert!(name.contains("Open song") && !name.contains("Secret"), "{seen}");
    assert_eq!(anonymous(secret_mix).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Renamed and made public, the composition's mix carries its new name, not the private one.
    let res = call(reqwest::Method::PATCH, &format!("/api/v1/compositions/{secret}"))
        .json(&json!({"title": "Harmless", "visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let seen: Value = anonymous(secret_mix).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["original_filename"], "Harmless (mixdown).wav", "{seen}");
}

/// A demo musician's browser and the id of a short WAV they uploaded.
async fn musician_with_audio(app: &TestApp) -> (Browser, String) {
    let b = Browser::new();
    app.sign_in_demo(&b, "musician").await;
    let form = Form::new().part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("take.wav"));
    let audio: Value =
        b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap().json().await.unwrap();
    (b, audio["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn nul_and_other_invisible_controls_are_refused_by_field_name() {
    let app = TestApp::spawn().await;
    let (b, aid) = musician_with_audio(&app).await;
    let cases = [
        (b.http.post(app.url("/api/v1/compositions")).json(&json!({"title": "a\u{0}b"})), "title", "NUL"),
        (
            b.http.post(app.url("/api/v1/compositions")).json(&json!({"title": "ok", "description": "bell\u{7}"})),
            "description",
            "U+0007",
        ),
        (b.http.patch(app.url(&format!("/api/v1/audio/{aid}"))).json(&json!({"title": "x\u{0}"})), "title", "NUL"),
        (b.http.post(app.url("/api/v1/tokens")).json(&json!({"name": "evil\u{202E}gpj.exe"})), "name", "U+202E"),
        (b.http.post(app.url("/api/v1/collections")).json(&json!({"title": "c\u{85}"})), "title", "U+0085"),
        (b.http.post(app.url("/api/create_api_token")).form(&[("name", "a\u{0}b")]), "name", "NUL"),
        (
            b.http.post(app.url("/api/create_api_token")).header("content-type", "text/plain").body("name=a\u{0}b"),
            "name",
            "NUL",
        ),
        (b.http.get(app.url("/api/v1/compositions?scope=%00")), "scope", "NUL"),
        // Whatever the body claims to be: axum reads `+json` types as JSON, and server functions
        // read their body whatever its type.
        (
            b.http
                .post(app.url("/api/v1/compositions"))
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"title": "a\u0000b"}"#),
            "title",
            "NUL",
        ),
        (
            b.http
                .post(app.url("/api/create_api_token"))
                .header("content-type", "application/octet-stream")
                .body("name=a%00b"),
            "name",
            "NUL",
        ),
        (b.http.post(app.url("/api/create_api_token")).body("name=a%00b"), "name", "NUL"),
    ];
    for (req, field, what) in cases {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let text = res.text().await.unwrap();
        assert!(text.contains(&format!("'{field}'")) && text.contains(what), "{text}");
    }
    assert_eq!(app::db::composition::Entity::find().count(&app.db).await.unwrap(), 0, "nothing half-made");
    assert_eq!(app::db::api_token::Entity::find().count(&app.db).await.unwrap(), 0);
    // Tabs and line breaks are ordinary text, and so is right-to-left script with its marks.
    let res = b
        .http
        .post(app.url("/api/v1/compositions"))
        .json(&json!({"title": "שיר \u{200F}1", "description": "line one\n\tline two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_file_whose_tags_hold_nul_and_overrides_is_stored_with_clean_tags() {
    let app = TestApp::spawn().await;
    let b = Browser::new();
    app.sign_in_demo(&b, "musician").await;
    // ffmpeg cannot put a NUL in an argument: write a placeholder of the same length and patch it.
    let mut flac =
        ffmpeg(&wav(22_050, 1, 0.5), "flac", &["-metadata", "title=TTTTTTTTTT", "-metadata", "artist=AAAAAAAAAA"]);
    let patch = |bytes: &mut Vec<u8>, from: &[u8], to: &[u8]| {
        let at = bytes.windows(from.len()).position(|w| w == from).expect("placeholder present");
        bytes[at..at + to.len()].copy_from_slice(to);
    };
    patch(&mut flac, b"TTTTTTTTTT", b"Ti\x00tle\xE2\x80\xAEa");
    patch(&mut flac, b"AAAAAAAAAA", b"Art\x01\tist\n!");
    let form = Form::new().part("file", Part::bytes(flac).file_name("tags\u{202E}cafl.flac"));
    let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["title"], "Titlea", "{a}");
    assert_eq!(a["artist"], "Art ist !");
    assert!(!a["original_filename"].as_str().unwrap().contains('\u{202E}'), "{a}");
}

#[tokio::test]
async fn every_json_body_refuses_unknown_fields_by_name() {
    let app = TestApp::spawn().await;
    let (b, aid) = musician_with_audio(&app).await;
    let cases = [
        (b.http.post(app.url("/api/v1/compositions")).json(&json!({"title": "x", "colour": "red"})), "colour"),
        (b.http.patch(app.url(&format!("/api/v1/audio/{aid}"))).json(&json!({"titel": "x"})), "titel"),
        (b.http.post(app.url("/api/v1/tokens")).json(&json!({"name": "x", "scope": "all"})), "scope"),
        (b.http.post(app.url("/api/v1/collections")).json(&json!({"title": "x", "owner_id": aid})), "owner_id"),
        (b.http.put(app.url("/api/v1/me/latency")).json(&json!({"device_key": "d", "extra": 1})), "extra"),
        (
            b.http.post(app.url("/api/v1/audio")).multipart(
                Form::new().text("title", "x").part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("t.wav")),
            ),
            "title",
        ),
    ];
    for (req, field) in cases {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body: Value = res.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(field), "{body}");
    }
    assert_eq!(app::db::composition::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(app::db::api_token::Entity::find().count(&app.db).await.unwrap(), 0);
}
