//! The durable job queue: concurrent claims take each job once, a stale job is taken over and a
//! live one is not, failures retry with backoff until the attempts are used up, and a task build
//! survives its server being killed (SIGKILL) mid-way, and `server migrate` run beside it.
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::db::{audio, build_job, job, task};
use app::jobs::{self, Failed, JobState};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::time::sleep;
use uuid::Uuid;

use crate::child::ChildServer;
use crate::helpers::{Browser, fresh_database_url};

/// Generous bounds: these tests run on loaded two-core machines.
const PATIENCE: Duration = Duration::from_secs(120);
const STALE: Duration = Duration::from_secs(30);

async fn database(dir: &Path) -> DatabaseConnection {
    server::connect(&fresh_database_url(dir).await).await.unwrap()
}

async fn enqueue_n(db: &DatabaseConnection, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(jobs::enqueue(db, "test", &json!({ "n": i }).to_string(), None).await.unwrap().id);
    }
    ids
}

async fn row(db: &DatabaseConnection, id: Uuid) -> job::Model {
    job::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

async fn set(db: &DatabaseConnection, id: Uuid, change: impl FnOnce(&mut job::ActiveModel)) {
    let mut a: job::ActiveModel = row(db, id).await.into();
    change(&mut a);
    a.update(db).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_claim_every_job_exactly_once() {
    let dir = TempDir::new().unwrap();
    let db = database(dir.path()).await;
    let ids = enqueue_n(&db, 20).await;
    let claimed = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (db, claimed) = (db.clone(), claimed.clone());
        workers.push(tokio::spawn(async move {
            let started = Instant::now();
            // PostgreSQL may answer "nothing" to a claim that lost every race it saw: keep asking
            // until all jobs are taken.
            while claimed.lock().unwrap().len() < 20 {
                assert!(started.elapsed() < PATIENCE, "claims never took every job");
                if let Some(j) = jobs::claim(&db, &format!("worker-{w}"), STALE).await.unwrap() {
                    assert_eq!((j.state, j.attempts), (JobState::Running, 1));
                    claimed.lock().unwrap().push(j.id);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let claimed = claimed.lock().unwrap().clone();
    assert_eq!(claimed.len(), 20, "a job was claimed twice: {claimed:?}");
    assert_eq!(claimed.iter().collect::<HashSet<_>>(), ids.iter().collect::<HashSet<_>>());
    assert!(jobs::claim(&db, "late", STALE).await.unwrap().is_none());
    for id in ids {
        let j = row(&db, id).await;
        assert_eq!((j.state, j.attempts), (JobState::Running, 1), "{j:?}");
    }
}

#[tokio::test]
async fn a_stale_job_is_taken_over_and_a_live_one_is_not() {
    let dir = TempDir::new().unwrap();
    let db = database(dir.path()).await;
    let ids = enqueue_n(&db, 2).await;
    let (dead, live) = (ids[0], ids[1]);
    assert_eq!(jobs::claim(&db, "a", STALE).await.unwrap().unwrap().id, dead);
    assert_eq!(jobs::claim(&db, "a", STALE).await.unwrap().unwrap().id, live);
    assert!(jobs::claim(&db, "b", STALE).await.unwrap().is_none(), "both are live");

    // Worker a stops beating for `dead`.
    let old = jobs::now_ms() - STALE.as_millis() as i64 - 1_000;
    set(&db, dead, |a| a.heartbeat_at = Set(Some(old))).await;
    assert!(jobs::heartbeat(&db, live, "a").await.unwrap());
    let taken = jobs::claim(&db, "b", STALE).await.unwrap().expect("the stale job is taken over");
    assert_eq!((taken.id, taken.worker.as_deref(), taken.attempts), (dead, Some("b"), 2));
    assert!(jobs::claim(&db, "c", STALE).await.unwrap().is_none(), "a fresh heartbeat is never taken over");

    // The old owner learns at its next beat that the job is gone, and records nothing.
    assert!(!jobs::heartbeat(&db, dead, "a").await.unwrap());
    assert!(!jobs::complete(&db, dead, "a", None).await.unwrap());
    assert!(jobs::heartbeat(&db, dead, "b").await.unwrap());
    assert!(jobs::complete(&db, dead, "b", None).await.unwrap());
    assert_eq!(row(&db, dead).await.state, JobState::Done);

    // Cancelling a running job: its worker's next beat says stop.
    assert!(jobs::cancel(&db, live).await.unwrap());
    assert!(!jobs::heartbeat(&db, live, "a").await.unwrap());
    assert!(!jobs::complete(&db, live, "a", None).await.unwrap());
    assert_eq!(row(&db, live).await.state, JobState::Cancelled);
    assert!(!jobs::cancel(&db, dead).await.unwrap(), "a finished job cannot be cancelled");
}

#[tokio::test]
async fn a_failing_job_retries_with_backoff_then_fails() {
    let dir = TempDir::new().unwrap();
    let db = database(dir.path()).await;
    let id = enqueue_n(&db, 1).await[0];
    set(&db, id, |a| a.max_attempts = Set(3)).await;
    for attempt in 1..=3 {
        let j = jobs::claim(&db, "w", STALE).await.unwrap().expect("due");
        assert_eq!(j.attempts, attempt);
        let before = jobs::now_ms();
        let outcome = jobs::fail(&db, &j, "w", &jobs::JobError::Retry(format!("boom {attempt}"))).await.unwrap();
        let after = row(&db, id).await;
        assert_eq!(after.error.as_deref(), Some(format!("boom {attempt}").as_str()));
        if attempt < 3 {
            let Failed::Retry { run_after } = outcome else { panic!("{outcome:?}") };
            assert!(run_after >= before + jobs::backoff_ms(attempt), "backoff");
            assert_eq!((after.state, after.worker.as_deref()), (JobState::Queued, None));
            assert!(jobs::claim(&db, "w", STALE).await.unwrap().is_none(), "not before its backoff");
            set(&db, id, |a| a.run_after = Set(0)).await; // let time pass
        } else {
            assert_eq!(outcome, Failed::GaveUp);
            assert_eq!(after.state, JobState::Failed);
        }
    }
    assert_eq!(jobs::backoff_ms(2), 2 * jobs::backoff_ms(1), "the wait doubles");
    assert!(jobs::backoff_ms(40) <= jobs::BACKOFF_MAX_MS);
    assert!(jobs::claim(&db, "w", STALE).await.unwrap().is_none(), "a failed job stays failed");
}

/// Mono 16-bit WAV of a tone (each source its own pitch, so no two uploads are the same bytes).
fn tone(rate: u32, seconds: f64, hz: f32) -> Vec<u8> {
    let n = (rate as f64 * seconds) as usize;
    let samples: Vec<f32> =
        (0..n).map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin()).collect();
    ::audio::wav::encode_i16(&samples, rate, 1)
}

async fn post(b: &Browser, url: String, body: Value) -> Value {
    let res = b.http.post(url).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

async fn build(db: &DatabaseConnection, id: Uuid) -> build_job::Model {
    build_job::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

async fn wait_for(db: &DatabaseConnection, id: Uuid, what: &str, done: impl Fn(&build_job::Model) -> bool) {
    let started = Instant::now();
    loop {
        let b = build(db, id).await;
        if done(&b) {
            return;
        }
        assert_ne!(b.status, "failed", "{b:?}");
        assert!(started.elapsed() < PATIENCE, "{what}: {b:?}");
        sleep(Duration::from_millis(20)).await;
    }
}

/// The (source, offset) of every task of a campaign; panics on a duplicate.
async fn windows(db: &DatabaseConnection, campaign: Uuid) -> BTreeSet<(Uuid, i64)> {
    let tasks = task::Entity::find().filter(task::Column::CampaignId.eq(campaign)).all(db).await.unwrap();
    let set: BTreeSet<(Uuid, i64)> = tasks.iter().map(|t| (t.source_id, t.offset_frames)).collect();
    assert_eq!(set.len(), tasks.len(), "a window has two tasks");
    set
}

fn migrate(env: &[(String, String)], cwd: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("migrate")
        .current_dir(cwd)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_killed_mid_way_finishes_after_a_restart_exactly_as_an_uninterrupted_one() {
    let dir = TempDir::new().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", database_url.clone()),
        ("TUTTI_STORAGE", dir.path().join("objects").display().to_string()),
        ("TUTTI_TMP_DIR", dir.path().join("tmp").display().to_string()),
        ("TUTTI_DEMO", "true".into()),
        ("LEPTOS_SITE_ROOT", dir.path().join("site").display().to_string()),
        ("TUTTI_LOG", "warn".into()),
        // The restarted server takes the dead one's build over two seconds after its last beat.
        ("TUTTI_JOB_STALE_SECONDS", "2".into()),
        ("TUTTI_JOB_POLL_MS", "100".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let mut child = ChildServer::start(&env, dir.path(), "first").await;
    let db = sea_orm::Database::connect(&database_url).await.unwrap();
    let admin = Browser::new();
    let res = admin.http.post(format!("{}/auth/demo", child.base)).form(&[("role", "admin"), ("next", "/")]);
    assert!(res.send().await.unwrap().status().is_redirection());
    // Three two-minute sources: 36 ten-second clips, a few seconds of cutting and storing.
    let mut sources = Vec::new();
    for (i, hz) in [330.0, 440.0, 550.0].into_iter().enumerate() {
        let form = Form::new().part("file", Part::bytes(tone(8_000, 120.0, hz)).file_name(format!("s{i}.wav")));
        let res = admin.http.post(format!("{}/api/v1/audio", child.base)).multipart(form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        sources.push(res.json::<Value>().await.unwrap()["id"].clone());
    }
    let request = json!({"sources": {"kind": "audio", "ids": sources}, "strategy": "even", "seed": 7});
    let campaign = |name: &str| json!({"name": name, "instruments": ["piano"]});
    let killed = post(&admin, format!("{}/api/v1/campaigns", child.base), campaign("Killed")).await;
    let killed: Uuid = killed["id"].as_str().unwrap().parse().unwrap();
    let started = post(&admin, format!("{}/api/v1/campaigns/{killed}/builds", child.base), request.clone()).await;
    let build_id: Uuid = started["id"].as_str().unwrap().parse().unwrap();

    // Killed once some clips exist and others do not.
    wait_for(&db, build_id, "the build never got going", |b| b.status == "running" && b.clips_made >= 3).await;
    child.kill();
    let at_kill = windows(&db, killed).await;
    assert!(at_kill.len() < 36, "the build finished before the kill ({} tasks)", at_kill.len());
    assert_eq!(build(&db, build_id).await.status, "running");

    // `migrate` against the database of a build whose server died leaves the build alone.
    migrate(&env, dir.path());
    assert_eq!(build(&db, build_id).await.status, "running", "migrate touched a live build");

    let child = ChildServer::start(&env, dir.path(), "second").await;
    // Taken over (a second attempt), and `migrate` run while it runs leaves it running.
    let started = Instant::now();
    loop {
        let j = job::Entity::find().filter(job::Column::Kind.eq("task_build")).one(&db).await.unwrap().unwrap();
        if j.attempts >= 2 || j.state == JobState::Done {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the dead server's build was never taken over: {j:?}");
        sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(build(&db, build_id).await.status, "running", "the rest of the build takes a few seconds");
    migrate(&env, dir.path());
    assert_ne!(build(&db, build_id).await.status, "failed", "migrate touched a live build");
    let j = job::Entity::find().filter(job::Column::Kind.eq("task_build")).one(&db).await.unwrap().unwrap();
    assert!(j.state == JobState::Running || j.state == JobState::Done, "{j:?}");
    wait_for(&db, build_id, "the build never finished", |b| b.status == "done").await;
    let done = build(&db, build_id).await;
    assert_eq!((done.sources_done, done.clips_made + done.clips_existing, done.clips_skipped), (3, 36, 0), "{done:?}");

    // The same inputs built without interruption make the same windows.
    let whole = post(&admin, format!("{}/api/v1/campaigns", child.base), campaign("Whole")).await;
    let whole: Uuid = whole["id"].as_str().unwrap().parse().unwrap();
    let second = post(&admin, format!("{}/api/v1/campaigns/{whole}/builds", child.base), request).await;
    let second: Uuid = second["id"].as_str().unwrap().parse().unwrap();
    wait_for(&db, second, "the second build never finished", |b| b.status == "done").await;
    let (a, b) = (windows(&db, killed).await, windows(&db, whole).await);
    assert_eq!(a.len(), 36);
    assert_eq!(a, b, "the interrupted build made other windows than an uninterrupted one");
    assert!(at_kill.is_subset(&a));

    // One clip row per window, whichever build asked for it.
    let clips = audio::Entity::find().filter(audio::Column::Kind.eq("clip")).all(&db).await.unwrap();
    let clip_windows: BTreeSet<(Uuid, i64)> =
        clips.iter().map(|c| (c.parent_id.unwrap(), c.parent_offset_frames.unwrap())).collect();
    assert_eq!((clips.len(), &clip_windows), (36, &a), "duplicate or missing clips");
    assert_eq!(task::Entity::find().count(&db).await.unwrap(), 72);
    let j = job::Entity::find().filter(job::Column::Kind.eq("task_build")).all(&db).await.unwrap();
    assert!(j.iter().all(|j| j.state == JobState::Done), "{j:?}");
    drop(child);
}
