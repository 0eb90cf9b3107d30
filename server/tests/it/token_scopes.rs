//! API tokens with scopes and expiry: each scope opens its routes and nothing else (403 naming the
//! missing scope), `admin` only for admins and never admin data for anyone else, expired tokens
//! refused (also when a server had them in memory), last use recorded, tokens from before scopes
//! migrated with every scope their user could choose, cookie sessions untouched.
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, StatusCode};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clients::{CampaignClient, Person, ServerFn};
use crate::helpers::{TestApp, fresh_database_url};
use crate::ingest::wav;
use app::db::api_token;

/// A token made through REST by `who` (signed in with the cookie): its secret and id.
async fn mint(app: &TestApp, who: &Person, scopes: &[&str], expires_in_days: Option<i64>) -> (String, String) {
    let name = format!("{} {}", who.name, scopes.join("+"));
    let body = json!({"name": name, "scopes": scopes, "expires_in_days": expires_in_days});
    let res = who.browser.http.post(app.url("/api/v1/tokens")).json(&body).send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    (v["secret"].as_str().unwrap().to_string(), v["token"]["id"].as_str().unwrap().to_string())
}

/// A REST call with a bearer token and no cookie: the status and the JSON body (`null` if none).
async fn call(app: &TestApp, secret: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Client::new().request(method, app.url(path)).bearer_auth(secret);
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

async fn read(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Upload a short WAV with a bearer token.
async fn upload(app: &TestApp, secret: &str) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("scoped.wav"));
    read(Client::new().post(app.url("/api/v1/audio")).bearer_auth(secret).multipart(form).send().await.unwrap()).await
}

fn assert_lacks(status: StatusCode, v: &Value, scope: &str, what: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {v}");
    assert_eq!(v["error"], "insufficient_scope", "{what}: {v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains(&format!("'{scope}' scope")), "{what}: {message}");
}

async fn set_expiry(app: &TestApp, id: &str, at: chrono::DateTime<Utc>) {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::ExpiresAt, Expr::value(Some(at)))
        .filter(api_token::Column::Id.eq(Uuid::parse_str(id).unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn each_scope_opens_its_routes_and_a_token_without_it_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let all = ["read", "upload", "annotate", "submit", "admin"];
    let without = |scope: &str| all.iter().copied().filter(|s| *s != scope).collect::<Vec<_>>();

    // read: GET /api/v1/me.
    let (only, _) = mint(&app, &admin, &["read"], None).await;
    let (others, _) = mint(&app, &admin, &without("read"), None).await;
    let (status, v) = call(&app, &only, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = call(&app, &others, Method::GET, "/api/v1/me", None).await;
    assert_lacks(status, &v, "read", "GET /me without read");
    assert_eq!(v["message"], "This token lacks the 'read' scope needed for GET /api/v1/me.");

    // upload: POST /api/v1/audio, and a studio write.
    let (only, _) = mint(&app, &admin, &["upload"], None).await;
    let (others, _) = mint(&app, &admin, &without("upload"), None).await;
    let (status, v) = upload(&app, &only).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = upload(&app, &others).await;
    assert_lacks(status, &v, "upload", "upload without upload");
    assert_eq!(v["message"], "This token lacks the 'upload' scope needed for POST /api/v1/audio.");
    let body = json!({"title": "Scoped"});
    let (status, v) = call(&app, &only, Method::POST, "/api/v1/compositions", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = call(&app, &others, Method::POST, "/api/v1/compositions", Some(body)).await;
    assert_lacks(status, &v, "upload", "a composition without upload");
    // Reading what it made needs read, which an upload-only token has not.
    let (status, v) = call(&app, &only, Method::GET, "/api/v1/compositions", None).await;
    assert_lacks(status, &v, "read", "GET /compositions with upload only");

    // annotate: the next task (none yet: 204).
    let (only, _) = mint(&app, &admin, &["annotate"], None).await;
    let (others, _) = mint(&app, &admin, &without("annotate"), None).await;
    let (status, v) = call(&app, &only, Method::POST, "/api/v1/annotate/next", None).await;
    assert!(status == StatusCode::NO_CONTENT || status == StatusCode::OK, "{status} {v}");
    let (status, v) = call(&app, &others, Method::POST, "/api/v1/annotate/next", None).await;
    assert_lacks(status, &v, "annotate", "next without annotate");
    let lease = format!("/api/v1/tasks/{}/lease", Uuid::nil());
    let (status, v) = call(&app, &others, Method::DELETE, &lease, None).await;
    assert_lacks(status, &v, "annotate", "skip without annotate");

    // admin: the user list, and the listing of every audio.
    let (only, _) = mint(&app, &admin, &["admin"], None).await;
    let (others, _) = mint(&app, &admin, &without("admin"), None).await;
    let (status, v) = call(&app, &only, Method::GET, "/api/v1/users", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = call(&app, &others, Method::GET, "/api/v1/users", None).await;
    assert_lacks(status, &v, "admin", "users without admin");
    let (status, v) = call(&app, &others, Method::GET, "/api/v1/audio?scope=all", None).await;
    assert_lacks(status, &v, "admin", "every audio without admin");
    assert!(v["message"].as_str().unwrap().contains("GET /api/v1/audio?scope=all"), "{v}");
    let (status, v) = call(&app, &others, Method::GET, "/api/v1/audio", None).await;
    assert_eq!(status, StatusCode::OK, "one's own audio needs read only: {v}");
    let (status, v) = call(&app, &others, Method::GET, "/api/v1/admin/cleanup", None).await;
    assert_lacks(status, &v, "admin", "cleanup without admin");
}

#[tokio::test]
async fn a_write_route_missing_from_the_table_needs_admin() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let (everyday, _) = mint(&app, &admin, &["read", "upload", "annotate", "submit"], None).await;
    let (admin_token, _) = mint(&app, &admin, &["admin"], None).await;

    // The lookup itself: nothing is listed for these.
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let uri: axum::http::Uri = "/api/v1/not-in-the-table".parse().unwrap();
        let needed = server::scopes::needed_scope(&method, "/api/v1/not-in-the-table", &uri);
        assert_eq!(needed, app::auth::Scope::Admin, "{method}");
    }

    // And through the layer the API uses, on a router with a route the table does not name.
    let mut env = app.env_vars();
    env.push(("TUTTI_BIND".into(), "127.0.0.1:0".into()));
    let config = server::config::Config::load(env, None).unwrap();
    let ctx = server::server_context(&config, app.db.clone(), false).unwrap();
    let router = axum::Router::new()
        .route("/api/v1/not-in-the-table", axum::routing::post(|| async { "done" }))
        .route_layer(axum::middleware::from_fn(server::scopes::enforce))
        .layer(axum::Extension(ctx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let post = |secret: &str| Client::new().post(format!("{base}/api/v1/not-in-the-table")).bearer_auth(secret).send();
    let (status, v) = read(post(&everyday).await.unwrap()).await;
    assert_lacks(status, &v, "admin", "an unlisted write");
    assert!(v["message"].as_str().unwrap().contains("POST /api/v1/not-in-the-table"), "{v}");
    let res = post(&admin_token).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "done");
    server.abort();
}

#[tokio::test]
async fn only_admins_give_the_admin_scope_and_no_one_else_gets_admin_data() {
    let app = TestApp::spawn().await;
    let musician = Person::demo(&app, "musician", "musician").await;
    let admin = Person::demo(&app, "admin", "admin").await;

    // Asking for admin as someone who is not one: refused, on REST and on the profile page's form.
    let body = json!({"name": "sneaky", "scopes": ["read", "admin"]});
    let (status, v) =
        read(musician.browser.http.post(app.url("/api/v1/tokens")).json(&body).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains("'admin'"), "{v}");
    let form = ServerFn::form(&[("name", "sneaky"), ("scopes[]", "read"), ("scopes[]", "admin")]);
    let a = ServerFn::call(&app, &musician.browser, "create_api_token", &form).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    let tokens = api_token::Entity::find().all(&app.db).await.unwrap();
    assert!(tokens.is_empty(), "nothing was made: {tokens:?}");

    // A non-admin's token that says `admin` anyway (written directly, as if forged or left from
    // when they were an admin) still gets no admin data: the user's own rights bound the token.
    let (secret, id) = mint(&app, &musician, &["read", "upload", "annotate", "submit"], None).await;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::Scopes, Expr::value("admin,annotate,read,submit,upload"))
        .filter(api_token::Column::Id.eq(Uuid::parse_str(&id).unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    for path in ["/api/v1/users", "/api/v1/audio?scope=all", "/api/v1/admin/cleanup"] {
        let (status, v) = call(&app, &secret, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {v}");
        assert_eq!(v["error"], "forbidden", "{path}: {v}");
    }

    // An admin's token without `admin` sees what anyone signed in sees: no closed campaign.
    let campaigns = CampaignClient { app: &app, who: &admin };
    let closed = campaigns.create("Closed one").await;
    campaigns.set_open(&closed, false).await;
    let (reader, _) = mint(&app, &admin, &["read"], None).await;
    let (full, _) = mint(&app, &admin, &["read", "admin"], None).await;
    let listed = |v: &Value| v.as_array().unwrap().iter().any(|c| c["id"] == closed.as_str());
    let (status, v) = call(&app, &reader, Method::GET, "/api/v1/campaigns", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(!listed(&v), "a read-only token of an admin lists a closed campaign: {v}");
    let (status, v) = call(&app, &full, Method::GET, "/api/v1/campaigns", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(listed(&v), "an admin token lists every campaign: {v}");
}

#[tokio::test]
async fn token_requests_are_checked_by_name() {
    let app = TestApp::spawn().await;
    let musician = Person::demo(&app, "musician", "musician").await;
    let post = |body: Value| musician.browser.http.post(app.url("/api/v1/tokens")).json(&body).send();
    let cases = [
        (json!({"name": "x", "scopes": ["read", "wrte"]}), "'wrte'"),
        (json!({"name": "x"}), "at least one scope"),
        (json!({"name": "x", "scopes": []}), "at least one scope"),
        (json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}), "expires_in_days"),
        (json!({"name": "x", "scopes": ["read"], "expires_in_days": 366}), "expires_in_days"),
    ];
    for (body, words) in cases {
        let (status, v) = read(post(body.clone()).await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["message"].as_str().unwrap().contains(words), "{body}: {v}");
    }

    // What a made token lists: scopes (sorted), expiry, never used.
    let body = json!({"name": "weekly", "scopes": ["upload", "read"], "expires_in_days": 30});
    let (status, v) = read(post(body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["token"]["scopes"], json!(["read", "upload"]));
    let listed: Vec<Value> =
        musician.browser.http.get(app.url("/api/v1/tokens")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["scopes"], json!(["read", "upload"]));
    assert!(listed[0]["last_used_at"].is_null(), "{}", listed[0]);
    let expires: chrono::DateTime<Utc> = listed[0]["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - Utc::now()).num_hours() as f64 / 24.0;
    assert!((29.9..=30.0).contains(&days), "expires in {days} days");

    // The profile page's form: checkboxes and the expiry select.
    let form = ServerFn::form(&[
        ("name", "from the page"),
        ("scopes[]", "read"),
        ("scopes[]", "annotate"),
        ("expires_in_days", "never"),
    ]);
    let a = ServerFn::call(&app, &musician.browser, "create_api_token", &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    assert_eq!(a.json()["token"]["scopes"], json!(["annotate", "read"]));
    assert!(a.json()["token"]["expires_at"].is_null());
    let none = ServerFn::form(&[("name", "no scopes"), ("expires_in_days", "7")]);
    let a = ServerFn::call(&app, &musician.browser, "create_api_token", &none).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    assert!(a.body.contains("at least one scope"), "{}", a.excerpt());

    // A token makes tokens only with scopes it has (and token management needs `admin`).
    let admin = Person::demo(&app, "admin", "admin").await;
    let (admin_only, _) = mint(&app, &admin, &["admin"], None).await;
    let (status, v) =
        call(&app, &admin_only, Method::POST, "/api/v1/tokens", Some(json!({"name": "w", "scopes": ["read"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains("'read'"), "{v}");
    let (status, v) =
        call(&app, &admin_only, Method::POST, "/api/v1/tokens", Some(json!({"name": "n", "scopes": ["admin"]}))).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (reader, _) = mint(&app, &musician, &["read"], None).await;
    let (status, v) =
        call(&app, &reader, Method::POST, "/api/v1/tokens", Some(json!({"name": "r", "scopes": ["read"]}))).await;
    assert_lacks(status, &v, "admin", "a read token making tokens");
}

#[tokio::test]
async fn the_profile_page_offers_scopes_and_expiry() {
    let app = TestApp::spawn().await;
    let musician = Person::demo(&app, "musician", "musician").await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let (_, _) = mint(&app, &musician, &["read", "upload"], Some(7)).await;
    let html = app.get(&musician.browser, "/profile").await.text().await.unwrap();
    assert!(html.contains("<fieldset") && html.contains("<legend>Scopes"), "a fieldset with a legend");
    for scope in ["read", "upload", "annotate", "submit"] {
        assert!(html.contains(&format!("id=\"token-scope-{scope}\"")), "{scope} offered");
    }
    assert!(!html.contains("token-scope-admin"), "admin is not offered to a musician");
    assert!(html.contains("id=\"token-expiry\"") && html.contains("In 30 days"));
    assert!(html.contains("read, upload") && html.contains("never used"), "the list shows scopes and use");
    let html = app.get(&admin.browser, "/profile").await.text().await.unwrap();
    assert!(html.contains("id=\"token-scope-admin\""), "admin is offered to an admin");
}

#[tokio::test]
async fn expired_tokens_are_refused_saying_so_also_from_memory() {
    let app = TestApp::spawn().await;
    let musician = Person::demo(&app, "musician", "musician").await;

    // Expired before its first use.
    let (secret, id) = mint(&app, &musician, &["read"], Some(7)).await;
    set_expiry(&app, &id, Utc::now() - chrono::Duration::minutes(1)).await;
    let (status, v) = call(&app, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");

    // Used while valid, so the server holds it in memory; it stops working when its time is up,
    // well inside the time the server keeps a token's lookup.
    let (secret, id) = mint(&app, &musician, &["read"], Some(7)).await;
    let deadline = Utc::now() + chrono::Duration::seconds(2);
    set_expiry(&app, &id, deadline).await;
    let (status, v) = call(&app, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    tokio::time::sleep((deadline - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100)).await;
    let (status, v) = call(&app, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");

    // Expiry changed behind the server's back after a successful use: not served for longer
    // than the lookup is kept (5 s).
    let (secret, id) = mint(&app, &musician, &["read"], None).await;
    let (status, _) = call(&app, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK);
    set_expiry(&app, &id, Utc::now() - chrono::Duration::seconds(1)).await;
    let changed = Instant::now();
    loop {
        let (status, v) = call(&app, &secret, Method::GET, "/api/v1/me", None).await;
        if status == StatusCode::UNAUTHORIZED {
            assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");
            break;
        }
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(changed.elapsed() < Duration::from_secs(7), "an expired token is still served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn last_use_is_recorded_and_listed() {
    let app = TestApp::spawn().await;
    let musician = Person::demo(&app, "musician", "musician").await;
    let (secret, id) = mint(&app, &musician, &["read"], None).await;
    let before: Vec<Value> =
        musician.browser.http.get(app.url("/api/v1/tokens")).send().await.unwrap().json().await.unwrap();
    assert!(before[0]["last_used_at"].is_null());
    let (status, _) = call(&app, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK);
    let stored = api_token::Entity::find_by_id(Uuid::parse_str(&id).unwrap()).one(&app.db).await.unwrap().unwrap();
    let used = stored.last_used_at.expect("last_used_at is set");
    assert!((Utc::now() - used).num_seconds().abs() < 60, "{used}");
    let (status, after) = call(&app, &secret, Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(after[0]["last_used_at"].is_string(), "{after}");
}

#[tokio::test]
async fn cookie_sessions_are_not_scoped() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    // The admin also holds a narrow token; the cookie does not borrow its limits.
    let (_reader, _) = mint(&app, &admin, &["read"], None).await;
    let get = |path: &str| admin.browser.http.get(app.url(path)).send();
    assert_eq!(get("/api/v1/users").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("/api/v1/audio?scope=all").await.unwrap().status(), StatusCode::OK);
    let res = admin.browser.http.post(app.url("/api/v1/compositions")).json(&json!({"title": "Cookie"})).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::CREATED);
    let res = admin.browser.http.post(app.url("/api/v1/annotate/next")).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

/// The migration, run on a database as it was before it, with tokens of an admin and of someone
/// else: both keep every scope their user could choose.
#[tokio::test]
async fn tokens_made_before_scopes_get_every_scope_their_user_could_choose() {
    use migrations::MigratorTrait as _;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(&fresh_database_url(dir.path()).await).await.unwrap();
    let all = migrations::Migrator::migrations();
    let before = all.iter().position(|m| m.name() == "m20261208_000018_token_scopes").expect("the migration exists");
    migrations::Migrator::up(&db, Some(before as u32)).await.unwrap();

    let now = Utc::now();
    let mut tokens = Vec::new();
    for (email, is_admin) in [("old-admin@example.org", true), ("old-user@example.org", false)] {
        let (user, token) = (Uuid::new_v4(), Uuid::new_v4());
        let insert = Query::insert()
            .into_table("users")
            .columns(["id", "email", "display_name", "is_admin", "created_at", "last_seen_at"])
            .values_panic([user.into(), email.into(), email.into(), is_admin.into(), now.into(), now.into()])
            .to_owned();
        db.execute(&insert).await.unwrap();
        let insert = Query::insert()
            .into_table("api_tokens")
            .columns(["id", "user_id", "name", "token_hash", "prefix", "created_at"])
            .values_panic([token.into(), user.into(), "old".into(), email.into(), "tutti_old".into(), now.into()])
            .to_owned();
        db.execute(&insert).await.unwrap();
        tokens.push((token, is_admin));
    }

    migrations::Migrator::up(&db, None).await.unwrap();
    for (token, is_admin) in tokens {
        let row = api_token::Entity::find_by_id(token).one(&db).await.unwrap().unwrap();
        let expected = if is_admin { "admin,annotate,read,submit,upload" } else { "annotate,read,submit,upload" };
        assert_eq!(row.scopes, expected, "admin: {is_admin}");
    }
    db.close().await.unwrap();
}
