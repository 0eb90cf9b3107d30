//! Small typed clients for the integration tests, one per area, so that a test reads as what it
//! does rather than as request chains. Each acts as one person's `Browser` (a session cookie, or
//! none for someone anonymous), so pages, server functions and REST all see the same user.
use std::fmt;
use std::time::{Duration, Instant};

use mock_oauth::MockUser;
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp};
use crate::ingest::wav;

/// Someone using Tutti in a test: a name for messages, their browser, and their user id.
pub struct Person {
    pub name: &'static str,
    pub browser: Browser,
    pub id: Option<String>,
}

impl Person {
    pub fn anonymous() -> Person {
        Person { name: "anonymous", browser: Browser::new(), id: None }
    }

    /// A new user signed in through the (mock) OAuth provider as `<name>@example.org`.
    pub async fn oauth(app: &TestApp, name: &'static str) -> Person {
        let browser = Browser::new();
        let res = app.sign_in_oauth(&browser, MockUser::new(format!("{name}@example.org"), name)).await;
        assert!(res.status().is_redirection(), "sign-in of {name}: {}", res.status());
        Self::signed_in(app, name, browser).await
    }

    /// The demo user of `role` (admin, musician, annotator).
    pub async fn demo(app: &TestApp, name: &'static str, role: &str) -> Person {
        let browser = Browser::new();
        let res = app.sign_in_demo(&browser, role).await;
        assert!(res.status().is_redirection(), "demo sign-in as {role}: {}", res.status());
        Self::signed_in(app, name, browser).await
    }

    async fn signed_in(app: &TestApp, name: &'static str, browser: Browser) -> Person {
        let me = app.me(&browser).await.expect("signed in");
        Person { name, id: Some(me["id"].as_str().unwrap().to_string()), browser }
    }

    pub fn id(&self) -> &str {
        self.id.as_deref().expect("a signed-in person")
    }
}

/// One answer, read whole: the status, the headers and the body (lossy text, binary or not).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    async fn read(res: reqwest::Response) -> Answer {
        let (status, headers) = (res.status(), res.headers().clone());
        let body = String::from_utf8_lossy(&res.bytes().await.unwrap()).into_owned();
        Answer { status, headers, body }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }

    /// The body, cut for a message.
    pub fn excerpt(&self) -> String {
        self.body.chars().take(400).collect()
    }
}

/// The arguments of a server function, in the encoding it declares.
#[derive(Clone, Debug)]
pub enum Args {
    Form(Vec<(String, String)>),
    Json(Value),
}

/// Leptos server functions as the browser calls them: `POST /api/<endpoint>`.
pub struct ServerFn;

impl ServerFn {
    pub async fn call(app: &TestApp, browser: &Browser, name: &str, args: &Args) -> Answer {
        let req = browser.http.post(app.url(&format!("/api/{name}")));
        let req = match args {
            Args::Form(pairs) => req.form(pairs),
            Args::Json(v) => req.json(v),
        };
        Answer::read(req.send().await.unwrap()).await
    }

    pub fn form(pairs: &[(&str, &str)]) -> Args {
        Args::Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }
}

/// Which kind of surface a request reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Surface {
    Rest,
    Bytes,
    ServerFn,
    Page,
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Surface::Rest => "REST",
            Surface::Bytes => "audio bytes",
            Surface::ServerFn => "server fn",
            Surface::Page => "page",
        })
    }
}

/// One request on any surface, as data: a row of a table can hold it, print it and send it.
#[derive(Clone)]
pub enum Call {
    Rest { method: Method, path: String, body: Option<Value> },
    Fn { name: &'static str, args: Args },
    Page(String),
}

impl Call {
    pub fn get(path: impl Into<String>) -> Call {
        Call::Rest { method: Method::GET, path: path.into(), body: None }
    }

    pub fn rest(method: Method, path: impl Into<String>, body: Value) -> Call {
        Call::Rest { method, path: path.into(), body: Some(body) }
    }

    pub fn page(path: impl Into<String>) -> Call {
        Call::Page(path.into())
    }

    pub fn form(name: &'static str, pairs: &[(&str, &str)]) -> Call {
        Call::Fn { name, args: ServerFn::form(pairs) }
    }

    pub fn json(name: &'static str, body: Value) -> Call {
        Call::Fn { name, args: Args::Json(body) }
    }

    pub fn surface(&self) -> Surface {
        match self {
            Call::Rest { path, .. }
                if ["/canonical", "/original", "/peaks", "/spectrogram"].iter().any(|s| path.ends_with(s)) =>
            {
                Surface::Bytes
            }
            Call::Rest { .. } => Surface::Rest,
            Call::Fn { .. } => Surface::ServerFn,
            Call::Page(_) => Surface::Page,
        }
    }

    /// The same request with every `from` in its path and body replaced by `to`.
    pub fn replace(&self, from: &str, to: &str) -> Call {
        let swap = |v: &Value| serde_json::from_str(&v.to_string().replace(from, to)).unwrap();
        match self {
            Call::Rest { method, path, body } => {
                Call::Rest { method: method.clone(), path: path.replace(from, to), body: body.as_ref().map(swap) }
            }
            Call::Fn { name, args: Args::Json(v) } => Call::Fn { name, args: Args::Json(swap(v)) },
            Call::Fn { name, args: Args::Form(pairs) } => Call::Fn {
                name,
                args: Args::Form(pairs.iter().map(|(k, v)| (k.clone(), v.replace(from, to))).collect()),
            },
            Call::Page(p) => Call::Page(p.replace(from, to)),
        }
    }

    pub async fn send(&self, app: &TestApp, browser: &Browser) -> Answer {
        match self {
            Call::Rest { method, path, body } => {
                let mut req = browser.http.request(method.clone(), app.url(path));
                if let Some(b) = body {
                    req = req.json(b);
                }
                Answer::read(req.send().await.unwrap()).await
            }
            Call::Fn { name, args } => ServerFn::call(app, browser, name, args).await,
            Call::Page(path) => Answer::read(app.get(browser, path).await).await,
        }
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Rest { method, path, body: None } => write!(f, "{method} {path}"),
            Call::Rest { method, path, body: Some(b) } => write!(f, "{method} {path} {b}"),
            Call::Fn { name, args: Args::Json(v) } => write!(f, "POST /api/{name} (json) {v}"),
            Call::Fn { name, args: Args::Form(p) } => write!(f, "POST /api/{name} (form) {p:?}"),
            Call::Page(path) => write!(f, "GET {path} (page)"),
        }
    }
}

/// Uploads and their records (`/api/v1/audio`).
pub struct AudioClient<'a> {
    pub app: &'a TestApp,
    pub who: &'a Person,
}

impl AudioClient<'_> {
    /// Upload `seconds` of a 440 Hz tone (distinct lengths make distinct audio) as `file_name`.
    pub async fn upload(&self, file_name: &str, seconds: f64, public: bool) -> String {
        let mut form = Form::new().part("file", Part::bytes(wav(8_000, 1, seconds)).file_name(file_name.to_string()));
        if public {
            form = form.text("public", "true");
        }
        let res = self.who.browser.http.post(self.app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
        let a = Answer::read(res).await;
        assert!(a.status.is_success(), "upload {file_name}: {} {}", a.status, a.excerpt());
        a.json()["id"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, id: &str) -> Answer {
        Call::get(format!("/api/v1/audio/{id}")).send(self.app, &self.who.browser).await
    }

    pub async fn canonical(&self, id: &str) -> Answer {
        Call::get(format!("/api/v1/audio/{id}/canonical")).send(self.app, &self.who.browser).await
    }
}

/// Compositions, their tracks and members (`/api/v1/compositions`).
pub struct StudioClient<'a> {
    pub app: &'a TestApp,
    pub who: &'a Person,
}

impl StudioClient<'_> {
    async fn send(&self, call: Call, want: StatusCode) -> Value {
        let a = call.send(self.app, &self.who.browser).await;
        assert_eq!(a.status, want, "{call:?} as {}: {}", self.who.name, a.excerpt());
        if a.body.is_empty() { Value::Null } else { a.json() }
    }

    /// A new composition; its id.
    pub async fn create_composition(&self, title: &str, visibility: &str) -> String {
        let body = json!({"title": title, "visibility": visibility});
        let c = self.send(Call::rest(Method::POST, "/api/v1/compositions", body), StatusCode::CREATED).await;
        c["id"].as_str().unwrap().to_string()
    }

    /// A track of `audio` in `composition`; its id.
    pub async fn add_track(&self, composition: &str, audio: &str, name: &str, master: bool) -> String {
        let body = json!({"audio_id": audio, "name": name, "instrument": "piano", "is_master": master});
        let call = Call::rest(Method::POST, format!("/api/v1/compositions/{composition}/tracks"), body);
        self.send(call, StatusCode::CREATED).await["id"].as_str().unwrap().to_string()
    }

    /// Render the composition's mixdown and follow its job to the end; the mix's audio id.
    pub async fn mixdown(&self, composition: &str) -> String {
        self.mixdown_job(composition).await["result"]["audio_id"].as_str().unwrap().to_string()
    }

    /// Render the composition's mixdown; its job once done.
    pub async fn mixdown_job(&self, composition: &str) -> Value {
        let call = Call::rest(Method::POST, format!("/api/v1/compositions/{composition}/mixdown"), json!({}));
        let job = self.send(call, StatusCode::ACCEPTED).await;
        let location = format!("/api/v1/jobs/{}", job["id"].as_str().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let job = self.send(Call::get(&location), StatusCode::OK).await;
            match job["state"].as_str().unwrap() {
                "done" => return job,
                "failed" | "cancelled" => panic!("the mixdown did not render: {job}"),
                _ => assert!(Instant::now() < deadline, "the mixdown did not finish: {job}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn add_member(&self, composition: &str, user: &str, role: &str) {
        let path = format!("/api/v1/compositions/{composition}/members/{user}");
        self.send(Call::rest(Method::PUT, path, json!({"role": role})), StatusCode::NO_CONTENT).await;
    }
}

/// Campaigns and task builds (`/api/v1/campaigns`), for an admin.
pub struct CampaignClient<'a> {
    pub app: &'a TestApp,
    pub who: &'a Person,
}

impl CampaignClient<'_> {
    /// A new campaign asking about piano and drums; its id.
    pub async fn create(&self, name: &str) -> String {
        let body = json!({"name": name, "instruments": ["piano", "drums"]});
        let a = Call::rest(Method::POST, "/api/v1/campaigns", body).send(self.app, &self.who.browser).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
        a.json()["id"].as_str().unwrap().to_string()
    }

    /// Build ten-second tasks from `sources` and wait for the build; the finished job.
    pub async fn build(&self, campaign: &str, sources: &[&str]) -> Value {
        let body = json!({"sources": {"kind": "audio", "ids": sources}, "strategy": "even", "seed": 1});
        let call = Call::rest(Method::POST, format!("/api/v1/campaigns/{campaign}/builds"), body);
        let a = call.send(self.app, &self.who.browser).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.excerpt());
        let job = a.json()["id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let j = Call::get(format!("/api/v1/builds/{job}")).send(self.app, &self.who.browser).await.json();
            if j["status"] == "done" || j["status"] == "failed" {
                assert_eq!(j["status"], "done", "{j}");
                return j;
            }
            assert!(Instant::now() < deadline, "the build did not finish: {j}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn set_open(&self, campaign: &str, open: bool) {
        let call = Call::rest(Method::PATCH, format!("/api/v1/campaigns/{campaign}"), json!({"is_open": open}));
        let a = call.send(self.app, &self.who.browser).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    }

    pub async fn tasks(&self, campaign: &str) -> Vec<Value> {
        let a = Call::get(format!("/api/v1/campaigns/{campaign}/tasks")).send(self.app, &self.who.browser).await;
        serde_json::from_value(a.json()).unwrap()
    }
}

/// Background jobs (`/api/v1/jobs`) and their server functions, for anyone.
pub struct JobClient<'a> {
    pub app: &'a TestApp,
    pub who: &'a Person,
}

impl JobClient<'_> {
    /// `GET /api/v1/jobs?{query}` (`query` already encoded; empty for none).
    pub async fn list(&self, query: &str) -> Answer {
        let path = if query.is_empty() { "/api/v1/jobs".to_string() } else { format!("/api/v1/jobs?{query}") };
        Call::get(path).send(self.app, &self.who.browser).await
    }

    /// The ids of a listing that must succeed, in its order.
    pub async fn ids(&self, query: &str) -> Vec<String> {
        let a = self.list(query).await;
        assert_eq!(a.status, StatusCode::OK, "jobs?{query} as {}: {}", self.who.name, a.excerpt());
        a.json()["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_string()).collect()
    }

    /// The `list_jobs` server function with these form fields.
    pub async fn list_fn(&self, pairs: &[(&str, &str)]) -> Answer {
        Call::form("list_jobs", pairs).send(self.app, &self.who.browser).await
    }

    pub async fn get(&self, id: &str) -> Answer {
        Call::get(format!("/api/v1/jobs/{id}")).send(self.app, &self.who.browser).await
    }

    pub async fn cancel(&self, id: &str) -> Answer {
        Call::rest(Method::DELETE, format!("/api/v1/jobs/{id}"), json!({})).send(self.app, &self.who.browser).await
    }
}

/// Annotating, for anyone signed in.
pub struct AnnotateClient<'a> {
    pub app: &'a TestApp,
    pub who: &'a Person,
}

impl AnnotateClient<'_> {
    /// The next assignment (leasing its task), or None when nothing is left.
    pub async fn next(&self) -> Option<Value> {
        let a = Call::rest(Method::POST, "/api/v1/annotate/next", json!({})).send(self.app, &self.who.browser).await;
        match a.status {
            StatusCode::OK => Some(a.json()),
            StatusCode::NO_CONTENT => None,
            s => panic!("next: {s} {}", a.excerpt()),
        }
    }
}

/// Annotating from a chosen campaign, and answering.
impl AnnotateClient<'_> {
    /// `POST /api/v1/annotate/next?campaign=<campaign>` (no body), as it answers.
    pub async fn next_in(&self, campaign: &str) -> Answer {
        let path = format!("/api/v1/annotate/next?campaign={campaign}");
        Answer::read(self.who.browser.http.post(self.app.url(&path)).send().await.unwrap()).await
    }

    /// The next assignment from `campaign`, which must be given or be None (204).
    pub async fn next_from(&self, campaign: &str) -> Option<Value> {
        let a = self.next_in(campaign).await;
        match a.status {
            StatusCode::OK => Some(a.json()),
            StatusCode::NO_CONTENT => None,
            s => panic!("next from {campaign}: {s} {}", a.excerpt()),
        }
    }

    /// Answer `task` with every instrument absent, `listening_ms` heard, under `client_id`.
    pub async fn answer(&self, task: &str, client_id: &str, listening_ms: u64) -> Answer {
        let body = json!({
            "client_id": client_id, "answers": {"piano": "absent", "drums": "absent"},
            "play_count": 1, "listening_ms": listening_ms, "time_to_submit_ms": 12_000,
        });
        Call::rest(Method::POST, format!("/api/v1/tasks/{task}/annotations"), body)
            .send(self.app, &self.who.browser)
            .await
    }
}

/// Changing a campaign as it answers (admins), for refusals as well as successes.
impl CampaignClient<'_> {
    pub async fn patch(&self, campaign: &str, body: Value) -> Answer {
        Call::rest(Method::PATCH, format!("/api/v1/campaigns/{campaign}"), body).send(self.app, &self.who.browser).await
    }
}

/// The instruments' help for annotators (`/api/v1/instruments/...`).
pub struct InstrumentClient<'a> {
    pub app: &'a TestApp,
    pub who: &'a Person,
}

impl InstrumentClient<'_> {
    /// Every instrument's help as this person sees it.
    pub async fn help(&self) -> Vec<Value> {
        let a = Call::get("/api/v1/instruments/help").send(self.app, &self.who.browser).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
        serde_json::from_value(a.json()).unwrap()
    }

    /// One instrument's help as this person sees it.
    pub async fn help_of(&self, slug: &str) -> Value {
        self.help().await.into_iter().find(|h| h["slug"] == slug).unwrap_or_else(|| panic!("no instrument {slug}"))
    }

    /// `PUT /api/v1/instruments/{slug}/help`.
    pub async fn set_help(&self, slug: &str, body: Value) -> Answer {
        Call::rest(Method::PUT, format!("/api/v1/instruments/{slug}/help"), body)
            .send(self.app, &self.who.browser)
            .await
    }
}
