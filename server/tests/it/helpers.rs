//! The harness every integration test uses: `TestApp::spawn()` boots Tutti with a fresh database,
//! a fresh object-store directory and a local mock OAuth provider.
use std::sync::Arc;

use mock_oauth::{MockConfig, MockProvider, MockUser};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use server::Running;
use server::config::Config;
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const ADMIN_EMAIL: &str = "boss@example.org";

pub struct TestApp {
    pub base: String,
    pub db: DatabaseConnection,
    pub oauth: MockProvider,
    running: Option<Running>,
    env: Vec<(String, String)>,
    _dir: TempDir,
}

/// A browser-like HTTP client: its own cookie jar, redirects not followed (tests look at each hop).
pub struct Browser {
    pub http: Client,
    pub jar: Arc<Jar>,
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let http =
            Client::builder().cookie_provider(jar.clone()).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http, jar }
    }

    /// The value of the session cookie the browser holds for `base`, if any.
    pub fn session_cookie(&self, base: &str) -> Option<String> {
        let header = self.jar.cookies(&base.parse().unwrap())?;
        header.to_str().unwrap().split("; ").find_map(|c| c.strip_prefix("tutti_session=").map(str::to_string))
    }
}

/// A fresh database for a server under test (in `dir` for SQLite), on the backend the test run
/// chose through its environment.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("TUTTI_TEST_POSTGRES") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("tutti_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect to TUTTI_TEST_POSTGRES");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
            admin.close().await.unwrap();
            let mut url: url::Url = admin_url.parse().unwrap();
            url.set_path(&name);
            url.to_string()
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("tutti.db").display()),
    }
}

/// Server logs appear in a failing test's output (`TUTTI_TEST_LOG=debug` for more).
fn init_tracing_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = std::env::var("TUTTI_TEST_LOG").unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    });
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// Boot with extra configuration (`KEY`, `value`) on top of the test defaults.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        init_tracing_once();
        let dir = tempfile::tempdir().unwrap();
        let oauth = MockProvider::start(MockConfig::default()).await.unwrap();
        let database_url = fresh_database_url(dir.path()).await;
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), database_url.clone()),
            ("TUTTI_STORAGE".into(), dir.path().join("objects").display().to_string()),
            ("TUTTI_OAUTH_CLIENT_ID".into(), "test-client".into()),
            ("TUTTI_OAUTH_CLIENT_SECRET".into(), "test-secret".into()),
            ("TUTTI_OAUTH_AUTH_URL".into(), oauth.auth_url()),
            ("TUTTI_OAUTH_TOKEN_URL".into(), oauth.token_url()),
            ("TUTTI_OAUTH_USERINFO_URL".into(), oauth.userinfo_url()),
            ("TUTTI_ADMIN_EMAILS".into(), ADMIN_EMAIL.into()),
            ("TUTTI_DEMO".into(), "true".into()),
            ("LEPTOS_SITE_ROOT".into(), dir.path().join("site").display().to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let db = Database::connect(&database_url).await.unwrap();
        let mut app = TestApp { base: String::new(), db, oauth, running: None, env, _dir: dir };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut env = self.env.clone();
        env.push(("TUTTI_BIND".into(), addr.to_string()));
        env.push(("TUTTI_PUBLIC_URL".into(), format!("http://{addr}/")));
        let config = Config::load(env, None).expect("test configuration is valid");
        self.running = Some(server::start_on(listener, config).await.expect("server starts"));
        self.base = format!("http://{addr}");
    }

    /// Stop the server gracefully and start a new one on the same database and store.
    pub async fn restart(&mut self) {
        self.running.take().unwrap().stop().await.unwrap();
        self.start().await;
    }

    /// The configuration of the running server as environment variables (for the CLI).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    pub fn storage_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("objects")
    }

    pub fn tmp_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("tmp")
    }

    /// Every file under a directory (recursively); empty when the directory does not exist.
    pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(Self::files_under(&p)) } else { out.push(p) }
        }
        out
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, browser: &Browser, path: &str) -> Response {
        browser.http.get(self.url(path)).send().await.unwrap()
    }

    /// POST a JSON body as `browser`; the answer as JSON.
    pub async fn post_json(&self, browser: &Browser, path: &str, body: serde_json::Value) -> serde_json::Value {
        browser.http.post(self.url(path)).json(&body).send().await.unwrap().json().await.unwrap()
    }

    /// Two browsers signed in with demo sign-in, as these roles.
    pub async fn demo_pair(&self, first: &str, second: &str) -> (Browser, Browser) {
        let (a, b) = (Browser::new(), Browser::new());
        self.sign_in_demo(&a, first).await;
        self.sign_in_demo(&b, second).await;
        (a, b)
    }

    pub async fn sessions(&self) -> u64 {
        app::db::session::Entity::find().count(&self.db).await.unwrap()
    }

    /// Run the whole OAuth flow as `user` in `browser`; returns the callback's response.
    pub async fn sign_in_oauth(&self, browser: &Browser, user: MockUser) -> Response {
        self.oauth.set_user(user);
        let (callback, _) = self.authorize(browser).await;
        browser.http.get(callback).send().await.unwrap()
    }

    /// Start sign-in and let the (auto-approving) provider answer: returns the callback URL the
    /// provider redirected to and the `state` it carries.
    pub async fn authorize(&self, browser: &Browser) -> (String, Option<String>) {
        let login = self.get(browser, "/auth/google/login").await;
        assert_eq!(login.status(), StatusCode::SEE_OTHER, "login redirects to the provider");
        let to_provider = location(&login);
        assert!(to_provider.starts_with(&self.oauth.auth_url()), "{to_provider}");
        let authorize = browser.http.get(&to_provider).send().await.unwrap();
        assert_eq!(authorize.status(), StatusCode::SEE_OTHER);
        let callback = location(&authorize);
        let state =
            url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned());
        (callback, state)
    }

    /// A user made directly in the database, with an API token for a script to act as them.
    pub async fn user_with_token(&self, email: &str) -> String {
        let profile = app::auth::ssr::ExternalProfile {
            provider: "test".into(),
            subject: email.into(),
            email: email.into(),
            email_verified: true,
            display_name: email.into(),
            avatar_url: None,
        };
        let user = app::auth::ssr::upsert_user(&self.db, &profile, &[]).await.unwrap();
        let scopes = ["read", "upload", "annotate"].map(String::from).to_vec();
        let request = app::auth::TokenRequest { name: "load".into(), scopes, expires_in_days: None };
        app::auth::ssr::create_token(&self.db, &user, &request, None).await.unwrap().secret
    }

    pub async fn sign_in_demo(&self, browser: &Browser, role: &str) -> Response {
        browser.http.post(self.url("/auth/demo")).form(&[("role", role), ("next", "/")]).send().await.unwrap()
    }

    /// GET /api/v1/me as JSON, or the status when it fails.
    pub async fn me(&self, browser: &Browser) -> Result<serde_json::Value, StatusCode> {
        let res = self.get(browser, "/api/v1/me").await;
        match res.status() {
            StatusCode::OK => Ok(res.json().await.unwrap()),
            s => Err(s),
        }
    }
}

pub fn location(res: &Response) -> String {
    res.headers().get("location").expect("a Location header").to_str().unwrap().to_string()
}

/// Ask for a composition's mixdown through `send` (a request builder for a method and path, as the
/// caller authenticates) and follow its job to the end: the mix's audio record.
pub async fn render_mixdown(
    send: impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder,
    cid: &str,
) -> serde_json::Value {
    let res = send(reqwest::Method::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{:?}", res.headers());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let job: serde_json::Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()));
    let job = finished_job(&send, &location).await;
    assert_eq!(job["state"], "done", "{job}");
    let id = job["result"]["audio_id"].as_str().unwrap();
    send(reqwest::Method::GET, &format!("/api/v1/audio/{id}")).send().await.unwrap().json().await.unwrap()
}

/// The job at `location` once it has ended.
pub async fn finished_job(
    send: &impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder,
    location: &str,
) -> serde_json::Value {
    for _ in 0..600 {
        let job: serde_json::Value = send(reqwest::Method::GET, location).send().await.unwrap().json().await.unwrap();
        if ["done", "failed", "cancelled"].contains(&job["state"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job at {location} did not end");
}
