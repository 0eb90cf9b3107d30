//! The durable job queue: concurrent claims take each job once, a stale job is taken over and a
//! live one is not, failures retry with backoff until the attempts are used up, and a task build
//! survives its server being killed (SIGKILL) mid-way, and `server migrate` run beside it. Listing
//! jobs (`GET /api/v1/jobs`, `list_jobs`): each user their own, admins all, filters refused unless
//! allowed, and another user's job out of reach on every surface.
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
use crate::clients::{Call, JobClient, Person};
use crate::helpers::{Browser, TestApp, fresh_database_url};

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
    // A build's row says done just before its job's row does (the handler returns, then the
    // queue records it): wait for the job rows rather than read them at once.
    let started = Instant::now();
    loop {
        let j = job::Entity::find().filter(job::Column::Kind.eq("task_build")).all(&db).await.unwrap();
        if j.iter().all(|j| j.state == JobState::Done) {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "a build's job never finished: {j:?}");
        sleep(Duration::from_millis(20)).await;
    }
    drop(child);
}

/// A job row written directly, `age` old, in `state`, which no worker will touch: a queued one is
/// due in a year, a running one beats a year ahead.
pub async fn quiet_job(
    db: &DatabaseConnection,
    kind: &str,
    state: JobState,
    requested_by: Option<&str>,
    age: Duration,
) -> String {
    let created = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap();
    let later = jobs::now_ms() + 365 * 24 * 3_600_000;
    let j = job::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(kind.into()),
        payload: Set("{}".into()),
        state: Set(state),
        attempts: Set(0),
        max_attempts: Set(jobs::DEFAULT_MAX_ATTEMPTS),
        run_after: Set(later),
        heartbeat_at: Set((state == JobState::Running).then_some(later)),
        worker: Set((state == JobState::Running).then(|| "elsewhere".to_string())),
        error: Set(None),
        requested_by: Set(requested_by.map(|u| u.parse().unwrap())),
        result: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
    }
    .insert(db)
    .await
    .unwrap();
    j.id.to_string()
}

/// Jobs of two users and a system job, as written by [`quiet_job`]: the ids of each, newest first.
struct History {
    a: Vec<String>,
    b: Vec<String>,
    system: String,
    /// Every id, newest first.
    all: Vec<String>,
}

async fn history(app: &TestApp, a: &Person, b: &Person) -> History {
    let rows = [
        ("mixdown", JobState::Done, Some(a.id())),
        ("task_build", JobState::Failed, Some(a.id())),
        ("mixdown", JobState::Queued, Some(b.id())),
        ("mixdown", JobState::Running, Some(a.id())),
        ("task_build", JobState::Done, None),
        ("mixdown", JobState::Cancelled, Some(a.id())),
        ("mixdown", JobState::Done, Some(b.id())),
    ];
    let (mut ha, mut hb, mut system, mut all) = (Vec::new(), Vec::new(), String::new(), Vec::new());
    // The first row is the oldest; a minute between rows keeps the order plain on both databases.
    for (i, (kind, state, by)) in rows.into_iter().enumerate() {
        let id = quiet_job(&app.db, kind, state, by, Duration::from_secs(60 * (10 - i as u64))).await;
        match by {
            Some(u) if u == a.id() => ha.insert(0, id.clone()),
            Some(_) => hb.insert(0, id.clone()),
            None => system = id.clone(),
        }
        all.insert(0, id);
    }
    History { a: ha, b: hb, system, all }
}

/// Signed-in users list the jobs they asked for, admins every job (system jobs too), newest first;
/// signed out is a 401 in the API's error shape, on REST and the server function alike.
#[tokio::test]
async fn a_listing_shows_users_their_own_jobs_and_admins_every_job() {
    let app = TestApp::spawn().await;
    let a = Person::oauth(&app, "alice").await;
    let b = Person::oauth(&app, "bob").await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let anonymous = Person::anonymous();
    let h = history(&app, &a, &b).await;

    assert_eq!(JobClient { app: &app, who: &a }.ids("").await, h.a);
    assert_eq!(JobClient { app: &app, who: &b }.ids("").await, h.b);
    let everything = JobClient { app: &app, who: &admin }.ids("").await;
    assert_eq!(everything, h.all);
    assert!(everything.contains(&h.system));

    let page = JobClient { app: &app, who: &a }.list("").await.json();
    assert_eq!(
        (page["limit"].as_u64(), page["offset"].as_u64(), page["next_offset"].is_null()),
        (Some(50), Some(0), true)
    );
    let first = &page["jobs"][0];
    assert_eq!((first["kind"].as_str(), first["state"].as_str()), (Some("mixdown"), Some("cancelled")), "{first}");

    // The server function lists the same.
    let listed = JobClient { app: &app, who: &b }.list_fn(&[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.excerpt());
    let listed = listed.json();
    let ids: Vec<&str> = listed["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids, h.b);

    let nobody = JobClient { app: &app, who: &anonymous };
    let refused = nobody.list("").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error"], "unauthorized", "{}", refused.body);
    assert_eq!(nobody.list_fn(&[]).await.status, StatusCode::UNAUTHORIZED);
    // So is a bearer token that is no token, even beside nothing else.
    let res = anonymous.browser.http.get(app.url("/api/v1/jobs")).bearer_auth("tutti_nonsense").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Filters by kind and state combine with the access rule; pages follow `next_offset`.
#[tokio::test]
async fn a_listing_filters_by_kind_and_state_and_pages_newest_first() {
    let app = TestApp::spawn().await;
    let a = Person::oauth(&app, "alice").await;
    let b = Person::oauth(&app, "bob").await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let h = history(&app, &a, &b).await;
    let (ja, jadmin) = (JobClient { app: &app, who: &a }, JobClient { app: &app, who: &admin });

    for job in ja.list("kind=mixdown").await.json()["jobs"].as_array().unwrap() {
        assert_eq!(job["kind"], "mixdown");
    }
    assert_eq!(ja.ids("kind=mixdown").await.len(), 3);
    // Alice's jobs, newest first: a cancelled, a running mixdown, a failed build, a done mixdown.
    assert_eq!(ja.ids("kind=task_build").await, vec![h.a[2].clone()]);
    assert_eq!(ja.ids("state=done").await, vec![h.a[3].clone()]);
    assert_eq!(ja.ids("kind=mixdown&state=running").await, vec![h.a[1].clone()]);
    assert_eq!(ja.ids("kind=task_build&state=done").await, Vec::<String>::new(), "the system's build is not hers");
    assert_eq!(jadmin.ids("kind=task_build&state=done").await, vec![h.system.clone()]);
    assert_eq!(jadmin.ids("state=queued").await, vec![h.b[1].clone()]);
    for job in jadmin.list("state=done").await.json()["jobs"].as_array().unwrap() {
        assert_eq!(job["state"], "done");
    }

    // Pages of two over the admin's seven jobs.
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let page = jadmin.list(&format!("limit=2&offset={at}")).await.json();
        assert_eq!(page["limit"], 2);
        let jobs = page["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 2);
        seen.extend(jobs.iter().map(|j| j["id"].as_str().unwrap().to_string()));
        offset = page["next_offset"].as_u64();
    }
    assert_eq!(seen, h.all);
    assert_eq!(jadmin.ids("offset=7").await, Vec::<String>::new());
    assert_eq!(jadmin.ids("limit=200&offset=100000").await, Vec::<String>::new());
    assert_eq!(jadmin.ids("limit=1&offset=6").await, vec![h.all[6].clone()]);

    // The server function takes the same filters.
    let listed = ja.list_fn(&[("kind", "mixdown"), ("state", "running"), ("limit", "1")]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.excerpt());
    assert_eq!(listed.json()["jobs"][0]["id"], h.a[1].as_str());
}

/// The kinds a listing takes are exactly those the server runs.
#[test]
fn listing_kinds_are_the_registered_job_kinds() {
    let mut registered: Vec<&str> = app::job_handlers().keys().copied().collect();
    let mut listed = app::jobs::view::KINDS.to_vec();
    registered.sort_unstable();
    listed.sort_unstable();
    assert_eq!(listed, registered);
}

/// Filter values that are not allowed are refused in the API's JSON error shape, never read as
/// "any": 422 for a value outside the allowed ones, 400 for what cannot be read at all (a
/// parameter the listing does not take, a number that is not one, a parameter given twice).
#[tokio::test]
async fn a_listing_refuses_unknown_filters_in_the_api_error_shape() {
    let app = TestApp::spawn().await;
    let a = Person::oauth(&app, "alice").await;
    let b = Person::oauth(&app, "bob").await;
    history(&app, &a, &b).await;
    let jb = JobClient { app: &app, who: &b };
    let invalid = [
        "kind=bogus",
        "kind=",
        "kind=MIXDOWN",
        "kind=test",
        "kind=mixdown%27%20OR%20%271%27%3D%271",
        "kind=mixdown%25",
        "kind=%25",
        "state=DONE",
        "state=done%27--",
        "state=",
        "state=%2A",
        "limit=0",
        "limit=201",
        "limit=18446744073709551615",
        "offset=100001",
        "offset=18446744073709551615",
    ];
    for q in invalid {
        let got = jb.list(q).await;
        assert_eq!(got.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {}", got.body);
        assert_eq!(got.json()["error"], "invalid", "{q}: {}", got.body);
        assert!(got.json()["message"].as_str().unwrap().starts_with("The "), "{q}: {}", got.body);
    }
    let unreadable = [
        "limit=-1",
        "offset=-1",
        "limit=1e3",
        "limit=18446744073709551616",
        "offset=abc",
        "requested_by=00000000-0000-4000-8000-000000000000",
        "user=all",
        "scope=all",
        "state=done&state=failed",
        "kind=mixdown&kind=task_build",
    ];
    for q in unreadable {
        let got = jb.list(q).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{q}: {}", got.body);
        assert_eq!(got.json()["error"], "bad_request", "{q}: {}", got.body);
    }
    // The server function refuses the same values.
    for pairs in [[("kind", "bogus")], [("state", "DONE")], [("limit", "201")], [("offset", "100001")]] {
        let got = jb.list_fn(&pairs).await;
        assert_eq!(got.status, StatusCode::UNPROCESSABLE_ENTITY, "{pairs:?}: {}", got.body);
    }
    assert_eq!(jb.list_fn(&[("limit", "-1")]).await.status, StatusCode::BAD_REQUEST);
    // Bob's own two jobs, whatever he tried.
    assert_eq!(jb.ids("").await.len(), 2);
}

/// A way of writing a job id in an address or a form.
type Shape = fn(&str) -> String;

/// Another user's job is unreachable through every job surface, whatever shape its id takes, and
/// answers exactly as a missing job in that shape does; neither it nor its owner's listing can
/// be touched from another origin.
#[tokio::test]
async fn another_users_job_is_unreachable_in_every_id_shape_and_from_other_origins() {
    let app = TestApp::spawn().await;
    let a = Person::oauth(&app, "alice").await;
    let b = Person::oauth(&app, "bob").await;
    let job = quiet_job(&app.db, "mixdown", JobState::Queued, Some(a.id()), Duration::ZERO).await;
    let missing = "00000000-0000-4000-8000-000000000000";
    let shapes: [(&str, Shape); 8] = [
        ("as is", |id| id.to_string()),
        ("upper case", |id| id.to_uppercase()),
        ("no hyphens", |id| id.replace('-', "")),
        ("braces", |id| format!("{{{id}}}")),
        ("urn", |id| format!("urn:uuid:{id}")),
        ("percent-encoded", |id| id.replace('-', "%2D")),
        ("trailing slash", |id| format!("{id}/")),
        ("padded", |id| format!("%20{id}")),
    ];
    let (ja, jb) = (JobClient { app: &app, who: &a }, JobClient { app: &app, who: &b });
    for (shape, f) in shapes {
        let (theirs, none) = (f(&job), f(missing));
        for (what, got, twin) in [
            ("GET", jb.get(&theirs).await, jb.get(&none).await),
            ("DELETE", jb.cancel(&theirs).await, jb.cancel(&none).await),
            (
                "get_job",
                Call::form("get_job", &[("id", &theirs)]).send(&app, &b.browser).await,
                Call::form("get_job", &[("id", &none)]).send(&app, &b.browser).await,
            ),
            (
                "cancel_job",
                Call::form("cancel_job", &[("id", &theirs)]).send(&app, &b.browser).await,
                Call::form("cancel_job", &[("id", &none)]).send(&app, &b.browser).await,
            ),
        ] {
            assert!(!got.status.is_success(), "{what} {shape}: {} {}", got.status, got.body);
            assert_eq!(got.status, twin.status, "{what} {shape}: {} vs {}", got.body, twin.body);
            // A refusal may quote the id as sent, decoded.
            assert_eq!(got.body.replace(&theirs, &none).replace(&job, missing), twin.body, "{what} {shape}");
        }
        // Its owner's shapes that parse reach it, so nothing above was refused for its shape alone.
        if ["as is", "upper case", "no hyphens"].contains(&shape) {
            assert_eq!(ja.get(&theirs).await.status, StatusCode::OK, "{shape}");
        }
    }
    assert_eq!(row(&app.db, job.parse().unwrap()).await.state, JobState::Queued, "bob cancelled it");
    assert!(!jb.ids("").await.contains(&job));
    assert!(!jb.ids("kind=mixdown&state=queued&limit=200").await.contains(&job));

    // From another origin, with Alice's cookie: nothing changes, nor with a bearer token beside it.
    let evil = "http://evil.example";
    let path = app.url(&format!("/api/v1/jobs/{job}"));
    let res = a.browser.http.delete(&path).header("origin", evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = a.browser.http.delete(&path).header("origin", evil).bearer_auth("tutti_nonsense").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a cookie request is never excused by a bad token");
    let res = a.browser.http.delete(&path).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for body in ["id={job}", "{\"id\":\"{job}\"}"] {
        let res = a
            .browser
            .http
            .post(app.url("/api/cancel_job"))
            .header("origin", evil)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.replace("{job}", &job))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{body}");
    }
    let res = a.browser.http.post(app.url("/api/list_jobs")).header("origin", evil).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a server function is a POST: checked like any change");
    assert_eq!(row(&app.db, job.parse().unwrap()).await.state, JobState::Queued, "cancelled from another origin");
    // The same request from Tutti's own page cancels it.
    let res = a.browser.http.delete(&path).header("origin", &app.base).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(row(&app.db, job.parse().unwrap()).await.state, JobState::Cancelled);
}
