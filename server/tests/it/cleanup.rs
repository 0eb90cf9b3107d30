//! What a killed server leaves behind (staging files, unfinished multipart writes, objects written
//! before their row) is removed when a server starts, once it is older than the grace period;
//! nothing a live upload still needs is touched, and row-backed audio stays whole.
//!
//! The crash is real: the server binary runs as a child process and gets SIGKILL mid-upload.
//! Uploads whose pace the test controls are written by hand over raw TCP.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::sleep;
use uuid::Uuid;

use crate::child::ChildServer;
use crate::helpers::{Browser, TestApp, fresh_database_url};
use crate::ingest::wav;

/// Generous bounds: these tests run on loaded two-core machines.
const PATIENCE: Duration = Duration::from_secs(60);

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres")
}

/// A server in this process on the given configuration; returns it and its base URL.
async fn start_in_process(env: Vec<(String, String)>) -> (server::Running, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut env = env;
    env.push(("TUTTI_BIND".into(), addr.to_string()));
    env.push(("TUTTI_PUBLIC_URL".into(), format!("http://{addr}/")));
    let config = server::config::Config::load(env, None).expect("valid configuration");
    (server::start_on(listener, config).await.expect("server starts"), format!("http://{addr}"))
}

async fn sign_in(base: &str, browser: &Browser, role: &str) {
    let res =
        browser.http.post(format!("{base}/auth/demo")).form(&[("role", role), ("next", "/")]).send().await.unwrap();
    assert!(res.status().is_redirection(), "demo sign-in as {role}: {}", res.status());
}

async fn upload(base: &str, browser: &Browser, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    browser.http.post(format!("{base}/api/v1/audio")).multipart(form).send().await.unwrap()
}

/// A multipart upload written by hand on one connection, so the test sets the pace of its bytes.
struct SlowUpload {
    conn: TcpStream,
    body: Vec<u8>,
    sent: usize,
}

impl SlowUpload {
    async fn start(base: &str, session: &str, file: &[u8]) -> SlowUpload {
        let boundary = "tutti-slow-upload";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.wav\"\r\n\
             Content-Type: audio/wav\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let host = base.trim_start_matches("http://");
        let mut conn = TcpStream::connect(host).await.unwrap();
        let head = format!(
            "POST /api/v1/audio HTTP/1.1\r\nHost: {host}\r\nCookie: tutti_session={session}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        SlowUpload { conn, body, sent: 0 }
    }

    /// Send up to `n` more bytes; true once the whole body is sent.
    async fn send(&mut self, n: usize) -> bool {
        let end = (self.sent + n).min(self.body.len());
        self.conn.write_all(&self.body[self.sent..end]).await.unwrap();
        self.conn.flush().await.unwrap();
        self.sent = end;
        self.sent == self.body.len()
    }

    /// Send the rest and read the answer: its status and body.
    async fn finish(mut self) -> (u16, String) {
        while !self.send(1 << 20).await {}
        let mut response = Vec::new();
        let _ = self.conn.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response).to_string();
        let status = text.strip_prefix("HTTP/1.1 ").and_then(|t| t.get(..3)).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, text)
    }
}

/// Files directly in the temporary directory that are staging files (tempfile's `.tmp*`).
fn staging_files(tmp: &Path) -> Vec<PathBuf> {
    TestApp::files_under(tmp)
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(".tmp")))
        .collect()
}

/// object_store's unfinished local writes: `<key>#<n>`.
fn partial_files(store: &Path) -> Vec<PathBuf> {
    TestApp::files_under(store)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.rsplit_once('#'))
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect()
}

fn size_of(paths: &[PathBuf]) -> u64 {
    paths.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum()
}

/// Make every file under `dir` look `secs` seconds old.
fn age(dir: &Path, secs: u64) {
    let then = SystemTime::now() - Duration::from_secs(secs);
    for path in TestApp::files_under(dir) {
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(then).unwrap();
    }
}

fn age_file(path: &Path, secs: u64) {
    let then = SystemTime::now() - Duration::from_secs(secs);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(then).unwrap();
}

/// Write a file (and its directories) as a killed process would have left it.
fn leave(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Hold the database's write lock for audio rows: an upload then gets as far as its objects and
/// waits for its row (PostgreSQL blocks the insert; SQLite makes it wait for its busy timeout).
async fn hold_audio_inserts(db: &DatabaseConnection, postgres: bool) -> DatabaseTransaction {
    if postgres {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("LOCK TABLE audio IN SHARE MODE").await.unwrap();
        txn
    } else {
        app::db::begin_write(db).await.unwrap()
    }
}

/// PostgreSQL: another session waits on a lock in this database.
async fn insert_waits(txn: &DatabaseTransaction) -> bool {
    let row = txn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() > 0
}

async fn finished_runs(db: &DatabaseConnection) -> u64 {
    app::db::cleanup_run::Entity::find()
        .filter(app::db::cleanup_run::Column::FinishedAt.is_not_null())
        .count(db)
        .await
        .unwrap()
}

/// Wait until more than `before` runs have finished (a server started after the call sweeps at
/// start-up).
async fn wait_for_run(db: &DatabaseConnection, before: u64) {
    let started = Instant::now();
    while finished_runs(db).await <= before {
        assert!(started.elapsed() < PATIENCE, "no cleanup run finished within {PATIENCE:?}");
        sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_removes_what_killed_uploads_left_and_keeps_stored_audio() {
    let dir = TempDir::new().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let postgres = is_postgres(&database_url);
    let store = dir.path().join("objects");
    let tmp = dir.path().join("tmp");
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", database_url.clone()),
        ("TUTTI_STORAGE", store.display().to_string()),
        ("TUTTI_TMP_DIR", tmp.display().to_string()),
        ("TUTTI_DEMO", "true".into()),
        ("LEPTOS_SITE_ROOT", dir.path().join("site").display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let mut child = ChildServer::start(&env, dir.path(), "server").await;
    let musician = Browser::new();
    sign_in(&child.base, &musician, "musician").await;

    // Stored before the crash: this one must come through whole.
    let res = upload(&child.base, &musician, "kept.wav", wav(48_000, 2, 1.0)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let kept = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let kept_canonical = musician
        .http
        .get(format!("{}/api/v1/audio/{kept}/canonical", child.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let kept_objects = TestApp::files_under(&store.join("audio").join(kept.to_string()));
    assert_eq!(kept_objects.len(), 3, "{kept_objects:?}");

    // A slow upload, mid-body when the server dies: its bytes sit in a staging file.
    let session = musician.session_cookie(&child.base).expect("signed in");
    let mut slow = SlowUpload::start(&child.base, &session, &wav(48_000, 2, 4.0)).await;
    slow.send(256 * 1024).await;
    let started = Instant::now();
    while !staging_files(&tmp).iter().any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0)) {
        assert!(started.elapsed() < PATIENCE, "the slow upload is never staged");
        sleep(Duration::from_millis(20)).await;
    }

    // An upload that dies between its objects and its row: the row cannot be written yet.
    let db = Database::connect(&database_url).await.unwrap();
    let lock = hold_audio_inserts(&db, postgres).await;
    let pending = tokio::spawn({
        let (http, url) = (musician.http.clone(), format!("{}/api/v1/audio", child.base));
        let form = Form::new().part("file", Part::bytes(wav(44_100, 1, 1.5)).file_name("pending.wav"));
        async move { http.post(url).multipart(form).send().await }
    });
    let audio_dir = store.join("audio");
    let started = Instant::now();
    let pending_id = loop {
        let written = std::fs::read_dir(&audio_dir).unwrap().flatten().map(|e| e.path()).find(|d| {
            d.file_name().unwrap() != kept.to_string().as_str() && d.join("peaks.dat").exists() // written last
        });
        if let Some(d) = written {
            break d.file_name().unwrap().to_str().unwrap().parse::<Uuid>().unwrap();
        }
        assert!(started.elapsed() < PATIENCE, "the pending upload never wrote its objects");
        sleep(Duration::from_millis(5)).await;
    };
    if postgres {
        // Kill only once the row's INSERT waits on the lock: a statement already sent is run by
        // PostgreSQL whether or not its client lives.
        while !insert_waits(&lock).await {
            assert!(started.elapsed() < PATIENCE, "the pending upload's row never waited on the lock");
            sleep(Duration::from_millis(5)).await;
        }
    }
    child.kill();
    if postgres {
        // PostgreSQL would still run the dead server's queued INSERT once the lock is released:
        // end that session as a crash mid-statement would, so the objects stay without a row.
        lock.execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
        )
        .await
        .unwrap();
    }
    lock.rollback().await.unwrap();
    assert!(pending.await.unwrap().is_err(), "the pending upload never got an answer");
    drop(slow);

    // Debris a kill leaves in a local store mid-write (object_store writes `<key>#<n>` and renames
    // it when complete): an original cut short, and a set whose canonical was cut short.
    let cut_short = Uuid::new_v4();
    leave(&audio_dir.join(format!("{cut_short}/original#1")), &[7u8; 300_000]);
    let half_set = Uuid::new_v4();
    leave(&audio_dir.join(format!("{half_set}/original")), &[8u8; 200_000]);
    leave(&audio_dir.join(format!("{half_set}/canonical.flac#1")), &[9u8; 100_000]);

    // What the crash left, as the restarted server should find it.
    let pending_objects = TestApp::files_under(&audio_dir.join(pending_id.to_string()));
    assert_eq!(pending_objects.len(), 3, "original, canonical and peaks without a row: {pending_objects:?}");
    assert_eq!(app::db::audio::Entity::find().count(&db).await.unwrap(), 1, "only the kept upload has a row");
    let staged = staging_files(&tmp);
    assert!(!staged.is_empty(), "the crash left staging files");
    let partials = partial_files(&store);
    assert_eq!(partials.len(), 2, "{partials:?}");
    let orphans: Vec<PathBuf> =
        pending_objects.iter().cloned().chain([audio_dir.join(format!("{half_set}/original"))]).collect();
    let (staged_bytes, partial_bytes, orphan_bytes) = (size_of(&staged), size_of(&partials), size_of(&orphans));

    // Everything is an hour old now, the kept audio included: only its row protects it.
    age(&tmp, 3600);
    age(&store, 3600);

    let mut env = env;
    env.push(("TUTTI_CLEANUP_GRACE_SECONDS".into(), "5".into()));
    let (running, base) = start_in_process(env).await;

    let started = Instant::now();
    loop {
        let left: Vec<PathBuf> = staging_files(&tmp)
            .into_iter()
            .chain(partial_files(&store))
            .chain(orphans.iter().filter(|p| p.exists()).cloned())
            // The id directories that held nothing else go too.
            .chain(
                [pending_id, cut_short, half_set]
                    .map(|id| audio_dir.join(id.to_string()))
                    .into_iter()
                    .filter(|d| d.exists()),
            )
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "debris is still there after {PATIENCE:?}: {left:?}");
        sleep(Duration::from_millis(100)).await;
    }

    // The stored audio is whole: its row, its three objects, its bytes.
    assert_eq!(app::db::audio::Entity::find().count(&db).await.unwrap(), 1);
    for path in &kept_objects {
        assert!(path.exists(), "{path:?} is kept");
    }
    let canonical = musician.http.get(format!("{base}/api/v1/audio/{kept}/canonical")).send().await.unwrap();
    assert_eq!(canonical.status(), StatusCode::OK);
    assert_eq!(canonical.bytes().await.unwrap(), kept_canonical);

    // The run is on record for admins, and only for them.
    let path = format!("{base}/api/v1/admin/cleanup");
    assert_eq!(Browser::new().http.get(&path).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(musician.http.get(&path).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let admin = Browser::new();
    sign_in(&base, &admin, "admin").await;
    // The files are gone a moment before the run records its end.
    let started = Instant::now();
    let runs = loop {
        let res = admin.http.get(&path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let runs: Vec<Value> = res.json().await.unwrap();
        if runs.first().is_some_and(|r| r["finished_at"].is_string()) {
            break runs;
        }
        assert!(started.elapsed() < PATIENCE, "the run never finished: {runs:?}");
        sleep(Duration::from_millis(100)).await;
    };
    let run = &runs[0];
    assert!(run["error"].is_null(), "{run}");
    assert_eq!(run["grace_seconds"], 5, "{run}");
    assert_eq!(run["staging_files"], staged.len() as u64, "{run}");
    assert_eq!(run["staging_bytes"], staged_bytes, "{run}");
    assert_eq!(run["partial_files"], 2, "{run}");
    assert_eq!(run["partial_bytes"], partial_bytes, "{run}");
    assert_eq!(run["orphan_objects"], 4, "{run}");
    assert_eq!(run["orphan_bytes"], orphan_bytes, "{run}");
    let removed: Vec<(String, String)> = run["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap().to_string(), r["path"].as_str().unwrap().to_string()))
        .collect();
    for name in ["original", "canonical.flac", "peaks.dat"] {
        assert!(removed.contains(&("object".into(), format!("audio/{pending_id}/{name}"))), "{removed:?}");
    }
    assert!(removed.contains(&("partial".into(), format!("audio/{cut_short}/original#1"))), "{removed:?}");
    assert!(removed.iter().all(|(_, p)| !p.contains(&kept.to_string())), "{removed:?}");
    // The crashed server's own start-up run is there too, older and empty.
    assert!(runs.len() >= 2 && runs[1]["orphan_objects"] == 0, "{runs:?}");

    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_spares_live_uploads_and_removes_them_once_aged_and_rowless() {
    let tmp = TempDir::new().unwrap();
    let tmp_dir = tmp.path().display().to_string();
    let mut app = TestApp::spawn_with(&[("TUTTI_TMP_DIR", &tmp_dir), ("TUTTI_CLEANUP_GRACE_SECONDS", "5")]).await;
    let store = app.storage_dir();
    let audio_dir = store.join("audio");
    wait_for_run(&app.db, 0).await;
    let musician = Browser::new();
    app.sign_in_demo(&musician, "musician").await;
    let session = musician.session_cookie(&app.base).unwrap();

    // A slow upload, sending a little every 100 ms, for longer than the grace period.
    let file = wav(48_000, 2, 10.0);
    let mut slow = SlowUpload::start(&app.base, &session, &file).await;
    let began = Instant::now();
    let mut staged = None;
    while began.elapsed() < Duration::from_secs(6) {
        slow.send(8 * 1024).await;
        staged = staged.or_else(|| staging_files(tmp.path()).into_iter().next());
        sleep(Duration::from_millis(100)).await;
    }
    let staged = staged.expect("the slow upload is staged");

    // An upload whose objects are written and whose row is not yet: fresh objects, no row.
    let objects = server::open_store(&server::config::Storage::Local(store.clone())).unwrap();
    let unfinished = Uuid::new_v4();
    for name in ["original", "canonical.flac", "peaks.dat"] {
        app::storage::put_bytes(&objects, &format!("audio/{unfinished}/{name}"), vec![1; 1000]).await.unwrap();
    }
    // One whose original is long written while its canonical is still being written.
    let writing = Uuid::new_v4();
    app::storage::put_bytes(&objects, &format!("audio/{writing}/original"), vec![2; 1000]).await.unwrap();
    age_file(&audio_dir.join(format!("{writing}/original")), 3600);
    leave(&audio_dir.join(format!("{writing}/canonical.flac#1")), &[3; 1000]);
    // A partial write in progress.
    let partial = audio_dir.join(format!("{}/original#1", Uuid::new_v4()));
    leave(&partial, &[4; 1000]);

    // A second server on the same database and store sweeps at start-up, while all that goes on.
    let before = finished_runs(&app.db).await;
    let (replica, _) = start_in_process(app.env_vars()).await;
    loop {
        slow.send(8 * 1024).await;
        if finished_runs(&app.db).await > before {
            break;
        }
        assert!(began.elapsed() < PATIENCE, "the second server never swept");
        sleep(Duration::from_millis(100)).await;
    }
    assert!(staged.exists(), "the live upload's staging file is kept");
    for name in ["original", "canonical.flac", "peaks.dat"] {
        assert!(audio_dir.join(format!("{unfinished}/{name}")).exists(), "{name} of the unfinished upload is kept");
    }
    assert!(audio_dir.join(format!("{writing}/original")).exists(), "an old object beside a live write is kept");
    assert!(audio_dir.join(format!("{writing}/canonical.flac#1")).exists());
    assert!(partial.exists(), "a fresh partial write is kept");

    // The upload completes as if nothing happened.
    let (status, text) = slow.finish().await;
    assert_eq!(status, 201, "{text}");
    let id = text.split("\"id\":\"").nth(1).and_then(|t| t.get(..36)).unwrap().parse::<Uuid>().unwrap();
    let canonical = app.get(&musician, &format!("/api/v1/audio/{id}/canonical")).await;
    assert_eq!(canonical.status(), StatusCode::OK);
    assert_eq!(&canonical.bytes().await.unwrap()[..4], b"fLaC");

    // Past the grace period and still without rows, the rest goes at the next sweep.
    sleep(Duration::from_secs(6)).await;
    let before = finished_runs(&app.db).await;
    app.restart().await;
    wait_for_run(&app.db, before).await;
    for name in ["original", "canonical.flac", "peaks.dat"] {
        assert!(!audio_dir.join(format!("{unfinished}/{name}")).exists(), "{name} without a row is removed");
    }
    assert!(!audio_dir.join(format!("{writing}/original")).exists());
    assert!(!audio_dir.join(format!("{writing}/canonical.flac#1")).exists());
    assert!(!partial.exists());
    assert!(staging_files(tmp.path()).is_empty(), "{:?}", staging_files(tmp.path()));
    // The finished upload's objects are as old, and stay: it has its row.
    assert_eq!(TestApp::files_under(&audio_dir.join(id.to_string())).len(), 3);
    let canonical = app.get(&musician, &format!("/api/v1/audio/{id}/canonical")).await;
    assert_eq!(canonical.status(), StatusCode::OK);

    replica.stop().await.unwrap();
}

/// Many ids (more than one database batch), half with rows, swept by two sweeps at once: every
/// row-less set goes, every row-backed one stays, and nothing is counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sweeps_share_the_work_and_never_touch_rows() {
    let tmp = TempDir::new().unwrap();
    let tmp_dir = tmp.path().display().to_string();
    let app = TestApp::spawn_with(&[("TUTTI_TMP_DIR", &tmp_dir)]).await;
    let store_dir = app.storage_dir();
    let storage = server::config::Storage::Local(store_dir.clone());
    let store = server::open_store(&storage).unwrap();

    app.user_with_token("owner@example.org").await;
    let owner = app::db::user::Entity::find()
        .filter(app::db::user::Column::Email.eq("owner@example.org"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let (mut with_rows, mut without_rows) = (Vec::new(), Vec::new());
    for i in 0..450 {
        let id = Uuid::new_v4();
        let keys = app::library::ssr::ObjectKeys::for_audio(id);
        for key in [&keys.original, &keys.canonical, &keys.peaks] {
            app::storage::put_bytes(&store, key, vec![5; 100]).await.unwrap();
        }
        if i % 2 == 0 {
            app::db::audio::ActiveModel {
                id: Set(id),
                kind: Set(app::domain::AudioKind::Upload),
                owner_id: Set(owner.id),
                is_public: Set(false),
                sha256: Set(id.to_string()),
                original_filename: Set("x.wav".into()),
                original_format: Set("wav".into()),
                original_codec: Set("pcm_s16le".into()),
                original_bytes: Set(100),
                original_rate: Set(44_100),
                original_channels: Set(1),
                canonical_rate: Set(44_100),
                canonical_channels: Set(1),
                frames: Set(1),
                duration_seconds: Set(0.0),
                tags: Set("[]".into()),
                license: Set(app::domain::Licence::CcBy),
                original_key: Set(keys.original.clone()),
                canonical_key: Set(keys.canonical.clone()),
                peaks_key: Set(keys.peaks.clone()),
                created_at: Set(chrono::Utc::now()),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap();
            with_rows.push(id);
        } else {
            without_rows.push(id);
        }
    }
    for i in 0..5 {
        leave(&tmp.path().join(format!(".tmpcrash{i}")), &[6; 10]);
    }
    leave(&tmp.path().join("notes.txt"), b"not a staging file");
    age(&store_dir, 3600);
    age(tmp.path(), 3600);

    let grace = Duration::from_secs(60);
    let (a, b) = tokio::join!(
        server::cleanup::sweep(&app.db, &store, &storage, tmp.path(), grace),
        server::cleanup::sweep(&app.db, &store, &storage, tmp.path(), grace),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.orphan_objects + b.orphan_objects, 3 * without_rows.len() as u64);
    assert_eq!(a.orphan_bytes + b.orphan_bytes, 300 * without_rows.len() as u64);
    assert_eq!(a.staging_files + b.staging_files, 5);
    assert!(a.removed.len() <= server::cleanup::LISTED && b.removed.len() <= server::cleanup::LISTED);
    for id in &without_rows {
        assert!(!store_dir.join(format!("audio/{id}")).exists(), "{id} has no row and is removed");
    }
    for id in &with_rows {
        assert_eq!(TestApp::files_under(&store_dir.join(format!("audio/{id}"))).len(), 3, "{id} has a row");
    }
    assert!(tmp.path().join("notes.txt").exists(), "only staging files are touched");
    // Both runs are on record, with what each removed.
    let runs = app::db::cleanup_run::Entity::find()
        .filter(app::db::cleanup_run::Column::OrphanObjects.gt(0))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(runs.iter().map(|r| r.orphan_objects).sum::<i64>(), 3 * without_rows.len() as i64);
}
