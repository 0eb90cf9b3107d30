use mock_oauth::{Failure, MockUser};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{ADMIN_EMAIL, Browser, TestApp, location};

fn ada() -> MockUser {
    MockUser::new("ada@example.org", "Ada Lovelace")
}

#[tokio::test]
async fn oauth_sign_in_creates_the_user_and_a_session() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    let res = app.sign_in_oauth(&browser, ada()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");
    let me = app.me(&browser).await.unwrap();
    assert_eq!(me["email"], "ada@example.org");
    assert_eq!(me["display_name"], "Ada Lovelace");
    assert_eq!(me["is_admin"], false);
    let identities = app::db::identity::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0].provider, "google");
    assert_eq!(identities[0].subject, "mock-ada@example.org");
    assert_eq!(app.sessions().await, 1);
}

#[tokio::test]
async fn signing_in_again_updates_the_same_user() {
    let app = TestApp::spawn().await;
    app.sign_in_oauth(&Browser::new(), ada()).await;
    let mut renamed = ada();
    renamed.name = "Augusta Ada King".into();
    let browser = Browser::new();
    app.sign_in_oauth(&browser, renamed).await;
    assert_eq!(app.me(&browser).await.unwrap()["display_name"], "Augusta Ada King");
    assert_eq!(app::db::user::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(app::db::identity::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn configured_admin_emails_become_admins() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    app.sign_in_oauth(&browser, MockUser::new(ADMIN_EMAIL, "The Boss")).await;
    assert_eq!(app.me(&browser).await.unwrap()["is_admin"], true);
}

#[tokio::test]
async fn session_id_is_rotated_at_sign_in() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    let (callback, _) = app.authorize(&browser).await;
    let before = browser.session_cookie(&app.base).expect("login started a session");
    browser.http.get(callback).send().await.unwrap();
    let after = browser.session_cookie(&app.base).expect("signed-in session");
    assert_ne!(before, after);
}

#[tokio::test]
async fn a_mismatched_state_is_refused_and_leaves_no_session() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    let (callback, state) = app.authorize(&browser).await;
    let forged = callback.replace(&state.unwrap(), "forged-state");
    let res = browser.http.get(forged).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("state mismatch"));
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(app.sessions().await, 0);
}

#[tokio::test]
async fn a_missing_state_is_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    let (callback, state) = app.authorize(&browser).await;
    let stripped = callback.replace(&format!("state={}", state.unwrap()), "");
    let res = browser.http.get(stripped).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.sessions().await, 0);
}

#[tokio::test]
async fn a_callback_not_started_in_this_browser_is_refused() {
    let app = TestApp::spawn().await;
    let (callback, _) = app.authorize(&Browser::new()).await;
    let stranger = Browser::new();
    let res = stranger.http.get(callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.me(&stranger).await, Err(StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let app = TestApp::spawn().await;
    let first = Browser::new();
    let (callback, _) = app.authorize(&first).await;
    assert_eq!(first.http.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let code = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();

    // A second browser starts its own sign-in but presents the already-spent code.
    let second = Browser::new();
    let (own_callback, _) = app.authorize(&second).await;
    let own_code =
        url::Url::parse(&own_callback).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let replay = own_callback.replace(&own_code, &code);
    let res = second.http.get(replay).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("already used"));
    assert_eq!(app.me(&second).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(app.sessions().await, 1, "only the first browser's session exists");
}

#[tokio::test]
async fn a_provider_error_is_refused() {
    let app = TestApp::spawn().await;
    app.oauth.set_failure(Failure::AuthorizeError("access_denied".into()));
    let browser = Browser::new();
    let (callback, _) = app.authorize(&browser).await;
    let res = browser.http.get(callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("declined"));
    assert_eq!(app.sessions().await, 0);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_a_bad_gateway() {
    let app = TestApp::spawn().await;
    app.oauth.set_failure(Failure::TokenServerError);
    let browser = Browser::new();
    let res = app.sign_in_oauth(&browser, ada()).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(app.sessions().await, 0);
}

#[tokio::test]
async fn a_failing_userinfo_endpoint_is_a_bad_gateway() {
    let app = TestApp::spawn().await;
    app.oauth.set_failure(Failure::UserinfoServerError);
    let browser = Browser::new();
    let res = app.sign_in_oauth(&browser, ada()).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(app.sessions().await, 0);
    assert_eq!(app::db::user::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_bad_gateway() {
    // Reserve a port, then close it: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dead = format!("http://{closed}/token");
    let app = TestApp::spawn_with(&[("TUTTI_OAUTH_TOKEN_URL", dead.as_str())]).await;
    let browser = Browser::new();
    let res = app.sign_in_oauth(&browser, ada()).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert!(res.text().await.unwrap().contains("could not be reached"));
    assert_eq!(app.sessions().await, 0);
}

#[tokio::test]
async fn the_session_survives_a_server_restart() {
    let mut app = TestApp::spawn().await;
    let browser = Browser::new();
    app.sign_in_oauth(&browser, ada()).await;
    app.restart().await;
    assert_eq!(app.me(&browser).await.unwrap()["email"], "ada@example.org");
}

#[tokio::test]
async fn sign_out_deletes_the_session() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    app.sign_in_oauth(&browser, ada()).await;
    let cookie = browser.session_cookie(&app.base).unwrap();
    let res = browser.http.post(app.url("/auth/logout")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(app.sessions().await, 0);
    // Replaying the old cookie does not bring the session back.
    let replay = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("tutti_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    let res = app.sign_in_oauth(&browser, ada()).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("tutti_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http must not set Secure: {cookie}");
    assert!(cookie.contains("Max-Age") || cookie.contains("Expires"), "{cookie}");
}

#[tokio::test]
async fn demo_sign_in_works_for_each_role() {
    let app = TestApp::spawn().await;
    for (role, admin) in [("musician", false), ("annotator", false), ("admin", true)] {
        let browser = Browser::new();
        let res = app.sign_in_demo(&browser, role).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{role}");
        let me = app.me(&browser).await.unwrap();
        assert_eq!(me["email"], format!("{role}@demo.tutti.invalid"));
        assert_eq!(me["is_admin"], admin, "{role}");
    }
}

#[tokio::test]
async fn demo_sign_in_rejects_unknown_roles() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();
    let res = app.sign_in_demo(&browser, "root").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn demo_sign_in_is_refused_when_demo_mode_is_off() {
    let app = TestApp::spawn_with(&[("TUTTI_DEMO", "false")]).await;
    let browser = Browser::new();
    let res = app.sign_in_demo(&browser, "admin").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.me(&browser).await, Err(StatusCode::UNAUTHORIZED));
    let page = app.get(&browser, "/signin").await.text().await.unwrap();
    assert!(!page.contains("/auth/demo"), "no demo form is offered");
}

#[test]
fn the_server_refuses_to_start_in_demo_mode_on_a_public_bind() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("TUTTI_BIND", "0.0.0.0:0")
        .env("TUTTI_DEMO", "true")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TUTTI_DEMO") && stderr.contains("loopback"), "{stderr}");
}

#[test]
fn the_server_names_a_bad_configuration_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("TUTTI_MAX_UPLOAD_BYTES", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TUTTI_MAX_UPLOAD_BYTES"));
}

#[tokio::test]
async fn sessions_expire_after_the_configured_inactivity() {
    let app = TestApp::spawn_with(&[("TUTTI_SESSION_IDLE_MINUTES", "30")]).await;
    let browser = Browser::new();
    app.sign_in_demo(&browser, "musician").await;
    let expiry = || async { app::db::session::Entity::find().one(&app.db).await.unwrap().unwrap().expiry_date };
    let first = expiry().await;
    let in_30 = chrono::Utc::now() + chrono::Duration::minutes(30);
    assert!((first - in_30).num_seconds().abs() < 60, "{first} vs {in_30}");
    // Activity pushes the deadline forward.
    app.me(&browser).await.unwrap();
    assert!(expiry().await > first);
}
