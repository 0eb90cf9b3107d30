//! Setup through Tutti's public HTTP surface only: an admin (demo sign-in) uploads synthetic audio,
//! creates a campaign and builds its tasks; annotators sign in through the OAuth provider's
//! sign-in form (any e-mail gets its own identity) and each creates an API token.
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode, Url, redirect};
use serde_json::{Value, json};

use crate::Error;

/// Longest source file uploaded (Tutti refuses audio longer than TUTTI_MAX_AUDIO_SECONDS, 3 h by default).
const CLIPS_PER_FILE: u32 = 360;
const CLIP_SECONDS: u32 = 10;

#[derive(Clone, Debug)]
pub struct State {
    pub campaign_id: String,
    pub tasks: u64,
    pub k: u32,
    /// (e-mail, bearer secret) per annotator.
    pub users: Vec<(String, String)>,
}

impl State {
    pub fn to_json(&self) -> Value {
        json!({
            "campaign_id": self.campaign_id,
            "tasks": self.tasks,
            "k": self.k,
            "users": self.users.iter().map(|(e, t)| json!({"email": e, "token": t})).collect::<Vec<_>>(),
        })
    }

    pub fn from_json(v: &Value) -> Option<State> {
        Some(State {
            campaign_id: v["campaign_id"].as_str()?.to_string(),
            tasks: v["tasks"].as_u64()?,
            k: v["k"].as_u64()? as u32,
            users: v["users"]
                .as_array()?
                .iter()
                .map(|u| Some((u["email"].as_str()?.to_string(), u["token"].as_str()?.to_string())))
                .collect::<Option<Vec<_>>>()?,
        })
    }
}

fn browser() -> Result<Client, Error> {
    Ok(Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(600))
        .build()?)
}

fn location(res: &reqwest::Response) -> Result<String, Error> {
    if !res.status().is_redirection() {
        return Err(format!("expected a redirect from {}, got {}", res.url(), res.status()).into());
    }
    Ok(res
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("redirect without a Location")?
        .to_string())
}

async fn expect(res: reqwest::Response, want: &[StatusCode], what: &str) -> Result<Value, Error> {
    let status = res.status();
    let body = res.text().await?;
    if !want.contains(&status) {
        return Err(format!("{what}: {status}: {body}").into());
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Sign one annotator in through the OAuth flow and return their new API token's secret.
async fn annotator(base: &str, mock: &str, email: &str) -> Result<String, Error> {
    let b = browser()?;
    // Tutti → provider's /authorize with client id, redirect URI, state and PKCE challenge.
    let to_provider = location(&b.get(format!("{base}/auth/google/login")).send().await?)?;
    let url = Url::parse(&to_provider)?;
    // The provider's sign-in form posts those parameters back with the identity chosen.
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("email".into(), email.into()));
    form.push(("name".into(), email.split('@').next().unwrap_or(email).into()));
    form.push(("action".into(), "approve".into()));
    let to_callback = location(&b.post(format!("{mock}/authorize")).form(&form).send().await?)?;
    // The callback exchanges the code, upserts the user and starts the session.
    let done = b.get(&to_callback).send().await?;
    if !done.status().is_redirection() {
        let status = done.status();
        return Err(format!("OAuth callback for {email}: {status}: {}", done.text().await?).into());
    }
    let token = expect(
        b.post(format!("{base}/api/v1/tokens"))
            .json(&json!({"name": "load", "scopes": ["annotate", "read"]}))
            .send()
            .await?,
        &[StatusCode::CREATED],
        "create API token",
    )
    .await?;
    Ok(token["secret"].as_str().ok_or("token response without a secret")?.to_string())
}

pub async fn run(base: &str, mock: &str, users: usize, k: u32, tasks: u32, nonce: u64) -> Result<State, Error> {
    let started = Instant::now();
    let admin = browser()?;
    let health = admin.get(format!("{base}/healthz")).send().await?;
    if !health.status().is_success() {
        return Err(format!("{base}/healthz: {}", health.status()).into());
    }
    let res = admin.post(format!("{base}/auth/demo")).form(&[("role", "admin"), ("next", "/")]).send().await?;
    location(&res).map_err(|e| format!("demo sign-in (is TUTTI_DEMO on?): {e}"))?;

    // Sources: one file per CLIPS_PER_FILE clips, each a second longer than its clips so that
    // resampling cannot round the last clip away.
    let mut ids = Vec::new();
    let mut left = tasks;
    let mut n = 0u64;
    while left > 0 {
        let clips = left.min(CLIPS_PER_FILE);
        left -= clips;
        let wav = crate::wav::tone(clips * CLIP_SECONDS + 1, nonce.wrapping_mul(31).wrapping_add(n));
        let t = Instant::now();
        let size = wav.len();
        let part = Part::bytes(wav).file_name(format!("load-{nonce:x}-{n}.wav")).mime_str("audio/wav")?;
        let up = expect(
            admin.post(format!("{base}/api/v1/audio")).multipart(Form::new().part("file", part)).send().await?,
            &[StatusCode::CREATED, StatusCode::OK],
            "upload",
        )
        .await?;
        ids.push(up["id"].clone());
        eprintln!(
            "setup: uploaded {:.1} MB ({} s of audio) in {:.1} s",
            size as f64 / 1e6,
            clips * CLIP_SECONDS + 1,
            t.elapsed().as_secs_f64()
        );
        n += 1;
    }

    let campaign = expect(
        admin
            .post(format!("{base}/api/v1/campaigns"))
            .json(&json!({
                "name": format!("Load {nonce:x}"),
                "annotations_per_task": k,
                "instruments": ["piano", "drums"],
                "clip_seconds": CLIP_SECONDS,
            }))
            .send()
            .await?,
        &[StatusCode::CREATED],
        "create campaign",
    )
    .await?;
    let campaign_id = campaign["id"].as_str().ok_or("campaign without an id")?.to_string();
    let t = Instant::now();
    let job = expect(
        admin
            .post(format!("{base}/api/v1/campaigns/{campaign_id}/builds"))
            .json(&json!({"sources": {"kind": "audio", "ids": ids}, "strategy": "even", "seed": 1}))
            .send()
            .await?,
        &[StatusCode::ACCEPTED],
        "start build",
    )
    .await?;
    let job_id = job["id"].as_str().ok_or("build job without an id")?.to_string();
    let job = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let j = expect(
            admin.get(format!("{base}/api/v1/builds/{job_id}")).send().await?,
            &[StatusCode::OK],
            "build status",
        )
        .await?;
        match j["status"].as_str() {
            Some("done") => break j,
            Some("failed") => return Err(format!("build failed: {j}").into()),
            _ if t.elapsed() > Duration::from_secs(3600) => return Err(format!("build still running: {j}").into()),
            _ => {}
        }
    };
    let made = job["clips_made"].as_u64().unwrap_or(0) + job["clips_existing"].as_u64().unwrap_or(0);
    eprintln!(
        "setup: built {made} tasks (k = {k}, capacity {} cycles) in {:.1} s; skipped {}",
        made * k as u64,
        t.elapsed().as_secs_f64(),
        job["clips_skipped"]
    );
    if made < tasks as u64 {
        eprintln!("setup: warning: {tasks} tasks were asked for");
    }

    // Annotators, a few sign-ins at a time.
    let t = Instant::now();
    let base = Arc::new(base.to_string());
    let mock = Arc::new(mock.to_string());
    let mut out: Vec<Option<(String, String)>> = vec![None; users];
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0usize;
    let mut done = 0usize;
    while done < users {
        while next < users && set.len() < 8 {
            let (base, mock) = (base.clone(), mock.clone());
            let email = format!("annotator-{next:04}-{nonce:x}@load.tutti.invalid");
            let i = next;
            set.spawn(async move {
                let r = annotator(&base, &mock, &email).await;
                (i, email, r)
            });
            next += 1;
        }
        let Some(joined) = set.join_next().await else { break };
        let (i, email, token) = joined?;
        out[i] = Some((email, token.map_err(|e| format!("sign-in {i}: {e}"))?));
        done += 1;
    }
    eprintln!("setup: {users} annotators signed in with API tokens in {:.1} s", t.elapsed().as_secs_f64());
    eprintln!("setup: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(State { campaign_id, tasks: made, k, users: out.into_iter().flatten().collect() })
}
