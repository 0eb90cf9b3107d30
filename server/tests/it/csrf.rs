//! Cross-site request forgery: a page on another origin (another port of the same host here) posts
//! with the victim's cookie. Every body shape a page can send without a preflight — a form, plain
//! text — and JSON, to server functions, REST and the sign-in routes, is refused; the same requests
//! from Tutti's own origin, and API-token requests from anywhere, are served.
use reqwest::multipart::{Form, Part};
use reqwest::{RequestBuilder, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp};
use crate::ingest::wav;

/// How a browser labels a request from a page at `origin` (`None`: no Origin header at all).
#[derive(Clone, Copy, Debug)]
enum From {
    Origin(&'static str),
    FetchSite(&'static str),
    Referer(&'static str),
}

const FOREIGN: [From; 6] = [
    From::Origin("http://127.0.0.1:1"),
    From::Origin("http://evil.example"),
    From::Origin("null"),
    From::FetchSite("same-site"),
    From::FetchSite("cross-site"),
    From::Referer("http://127.0.0.1:1/attack.html"),
];

fn from(req: RequestBuilder, f: From) -> RequestBuilder {
    match f {
        From::Origin(o) => req.header("origin", o),
        From::FetchSite(s) => req.header("sec-fetch-site", s),
        From::Referer(r) => req.header("referer", r),
    }
}

async fn is_admin(app: &TestApp, admin: &Browser, id: &str) -> bool {
    let users: Vec<Value> = app.get(admin, "/api/v1/users").await.json().await.unwrap();
    users.iter().find(|u| u["id"] == id).unwrap()["is_admin"].as_bool().unwrap()
}

#[tokio::test]
async fn making_someone_admin_from_another_origin_is_refused_in_every_body_shape() {
    let app = TestApp::spawn().await;
    let (admin, musician) = app.demo_pair("admin", "musician").await;
    let id = app.me(&musician).await.unwrap()["id"].as_str().unwrap().to_string();
    let form_body = format!("user_id={id}&admin=true");
    for f in FOREIGN {
        let attacks = [
            (
                "form",
                admin.http.post(app.url("/api/set_user_admin")).form(&[("user_id", id.as_str()), ("admin", "true")]),
            ),
            (
                "text/plain",
                admin
                    .http
                    .post(app.url("/api/set_user_admin"))
                    .header("content-type", "text/plain")
                    .body(form_body.clone()),
            ),
            ("json", admin.http.put(app.url(&format!("/api/v1/users/{id}/admin"))).json(&json!({"admin": true}))),
        ];
        for (shape, req) in attacks {
            let res = from(req, f).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{shape} {f:?}");
            assert!(!is_admin(&app, &admin, &id).await, "{shape} {f:?} changed nothing");
        }
    }
    // The REST refusal says why, in the API's error shape.
    let res =
        from(admin.http.put(app.url(&format!("/api/v1/users/{id}/admin"))).json(&json!({"admin": true})), FOREIGN[0])
            .send()
            .await
            .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");
    assert!(body["message"].as_str().unwrap().contains("http://127.0.0.1:1"), "{body}");

    // From Tutti's own origin, as its pages send them, the same requests work.
    let own = app.base.clone();
    let res = admin
        .http
        .post(app.url("/api/set_user_admin"))
        .header("origin", &own)
        .form(&[("user_id", id.as_str()), ("admin", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(is_admin(&app, &admin, &id).await);
    let res = admin
        .http
        .put(app.url(&format!("/api/v1/users/{id}/admin")))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"admin": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!is_admin(&app, &admin, &id).await);
    // The host the browser addressed counts as Tutti's own (localhost for a server on 127.0.0.1).
    let port = app.base.rsplit(':').next().unwrap();
    let res = admin
        .http
        .put(app.url(&format!("/api/v1/users/{id}/admin")))
        .header("host", format!("localhost:{port}"))
        .header("origin", format!("http://localhost:{port}"))
        .json(&json!({"admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_compositions_uploads_invitations_mixdowns_and_sign_out_refuse_other_origins() {
    let app = TestApp::spawn().await;
    let (owner, guest) = app.demo_pair("musician", "annotator").await;
    let evil = From::Origin("http://127.0.0.1:1");

    let res =
        from(owner.http.post(app.url("/api/create_api_token")).form(&[("name", "stolen")]), evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app::db::api_token::Entity::find().count(&app.db).await.unwrap(), 0, "no token made");

    let res = from(owner.http.post(app.url("/api/v1/compositions")).json(&json!({"title": "Forged"})), evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let form = Form::new().text("public", "true").part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("x.wav"));
    let res = from(owner.http.post(app.url("/api/v1/audio")).multipart(form), evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app::db::audio::Entity::find().count(&app.db).await.unwrap(), 0, "no audio stored");
    assert_eq!(app::db::composition::Entity::find().count(&app.db).await.unwrap(), 0, "no composition made");

    // A real composition with a track and an invitation, made from Tutti's own origin.
    let own = |req: RequestBuilder| req.header("origin", app.base.as_str());
    let c: Value = own(owner.http.post(app.url("/api/v1/compositions")))
        .json(&json!({"title": "Mine", "visibility": "private"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cid = c["id"].as_str().unwrap().to_string();
    let form = Form::new().part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("t.wav"));
    let audio: Value =
        own(owner.http.post(app.url("/api/v1/audio"))).multipart(form).send().await.unwrap().json().await.unwrap();
    let res = own(owner.http.post(app.url(&format!("/api/v1/compositions/{cid}/tracks"))))
        .json(&json!({"audio_id": audio["id"], "name": "Take", "instrument": "voice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let link: Value = own(owner.http.post(app.url(&format!("/api/v1/compositions/{cid}/invitations"))))
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = link["token"].as_str().unwrap().to_string();

    let res = from(guest.http.post(app.url("/api/accept_invitation")).form(&[("token", token.as_str())]), evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "an invitation is not accepted for the victim");
    let res =
        from(guest.http.post(app.url(&format!("/api/v1/invitations/{token}/accept"))), evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        from(owner.http.post(app.url(&format!("/api/v1/compositions/{cid}/mixdown"))), evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = from(owner.http.post(app.url("/api/render_mixdown")).form(&[("composition_id", cid.as_str())]), evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = from(owner.http.delete(app.url(&format!("/api/v1/compositions/{cid}"))), evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app.get(&owner, &format!("/api/v1/compositions/{cid}")).await.status().is_success(), "not deleted");

    // Sign-out and sign-in are state changes too (a forced sign-in is login CSRF).
    let res = from(owner.http.post(app.url("/auth/logout")), evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app.me(&owner).await.is_ok(), "still signed in");
    let stranger = Browser::new();
    let res = from(stranger.http.post(app.url("/auth/demo")).form(&[("role", "admin"), ("next", "/")]), evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("only accepts changes made from its own pages"));
    assert_eq!(app.me(&stranger).await.unwrap_err(), StatusCode::UNAUTHORIZED);
}

/// A browser adds cached HTTP Basic credentials to a cross-site form post by itself, so an
/// `Authorization` header proves nothing where the cookie is what authenticates.
#[tokio::test]
async fn an_authorization_header_does_not_excuse_a_cookie_request_from_another_origin() {
    let app = TestApp::spawn().await;
    let (admin, musician) = app.demo_pair("admin", "musician").await;
    let id = app.me(&musician).await.unwrap()["id"].as_str().unwrap().to_string();
    for auth in ["Basic eDp5", "Bearer bogus", "Bearer tutti_x"] {
        let res = admin
            .http
            .post(app.url("/api/set_user_admin"))
            .header("origin", "http://evil.example")
            .header("authorization", auth)
            .form(&[("user_id", id.as_str()), ("admin", "true")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{auth}");
        let res = admin
            .http
            .post(app.url("/auth/logout"))
            .header("origin", "http://evil.example")
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{auth}");
        // REST takes the header instead of the cookie: a bad one is a 401, never the cookie's user.
        let res = admin
            .http
            .put(app.url(&format!("/api/v1/users/{id}/admin")))
            .header("origin", "http://evil.example")
            .header("authorization", auth)
            .json(&json!({"admin": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth}");
    }
    assert!(!is_admin(&app, &admin, &id).await);
}

#[tokio::test]
async fn api_token_requests_are_not_affected_by_their_origin() {
    let app = TestApp::spawn().await;
    let token = app.user_with_token("script@example.org").await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/compositions"))
        .bearer_auth(&token)
        .header("origin", "http://elsewhere.example")
        .json(&json!({"title": "From a script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}
