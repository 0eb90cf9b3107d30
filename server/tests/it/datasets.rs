//! Dataset compiling, releases and their archives, through REST and server functions: who may do
//! what, what a release leaves out and why, that the archive holds what its manifest says (and no
//! one's identity), that a rebuild gives the same bytes, that byte ranges resume a download, and
//! that a published release never changes.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clients::{AudioClient, Call, Person, ServerFn};
use crate::helpers::TestApp;

struct Fixture {
    app: TestApp,
    admin: Person,
    annotators: [Person; 2],
    campaign: String,
    /// The three public CC-BY sources.
    public: Vec<String>,
}

/// The answer `who` gives about a task: the same for both annotators, decided by the task's id so
/// that the labels vary.
fn answers_for(task: &str) -> Value {
    let b = task.as_bytes();
    let word = |x: u8| if x.is_multiple_of(2) { "present" } else { "absent" };
    json!({"piano": word(b[0]), "drums": word(b[1])})
}

async fn answer_everything(app: &TestApp, who: &Person) -> usize {
    let mut n = 0;
    loop {
        let a = Call::rest(Method::POST, "/api/v1/annotate/next", json!({})).send(app, &who.browser).await;
        if a.status == StatusCode::NO_CONTENT {
            return n;
        }
        assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
        let task = a.json()["task_id"].as_str().unwrap().to_string();
        let body = json!({
            "client_id": format!("{}-{task}", who.name), "answers": answers_for(&task),
            "play_count": 1, "listening_ms": 10_000, "time_to_submit_ms": 12_000,
        });
        let a =
            Call::rest(Method::POST, format!("/api/v1/tasks/{task}/annotations"), body).send(app, &who.browser).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
        n += 1;
    }
}

/// Three public CC-BY sources, one private, one public but all rights reserved; four ten-second
/// clips each, every task answered twice.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let annotators = [Person::oauth(&app, "ann1").await, Person::oauth(&app, "ann2").await];
    let audio = AudioClient { app: &app, who: &admin };
    let mut sources = Vec::new();
    for (i, secs) in [40.0, 40.5, 41.0].into_iter().enumerate() {
        sources.push(audio.upload(&format!("public{i}.wav"), secs, true).await);
    }
    sources.push(audio.upload("private.wav", 41.5, false).await);
    let reserved = audio.upload("reserved.wav", 42.0, true).await;
    let patch = json!({"license": "LicenseRef-All-Rights-Reserved"});
    let a = Call::rest(Method::PATCH, format!("/api/v1/audio/{reserved}"), patch).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    sources.push(reserved);
    let body = json!({"name": "Data", "annotations_per_task": 2, "instruments": ["piano", "drums"]});
    let a = Call::rest(Method::POST, "/api/v1/campaigns", body).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    let campaign = a.json()["id"].as_str().unwrap().to_string();
    let ids: Vec<&str> = sources.iter().map(String::as_str).collect();
    let built = crate::clients::CampaignClient { app: &app, who: &admin }.build(&campaign, &ids).await;
    assert_eq!(built["clips_made"], 20, "{built}");
    for who in &annotators {
        assert_eq!(answer_everything(&app, who).await, 20);
    }
    let public = sources[..3].to_vec();
    Fixture { app, admin, annotators, campaign, public }
}

async fn create_dataset(f: &Fixture, slug: &str, visibility: &str) {
    let body = json!({"slug": slug, "name": "Open mix", "description": "Clips **labelled** by the crowd.",
        "citation": "Tutti contributors (2026). Open mix.", "visibility": visibility});
    let a = Call::rest(Method::POST, "/api/v1/datasets", body).send(&f.app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
}

/// Ask for a release and wait until it is compiled (or failed); the release.
async fn compile(f: &Fixture, slug: &str, extra: Value) -> Value {
    let mut body = json!({"campaigns": [f.campaign], "test_fraction": 0.34, "tolerance": 1.0, "seed": 7});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let a = Call::rest(Method::POST, format!("/api/v1/datasets/{slug}/releases"), body)
        .send(&f.app, &f.admin.browser)
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.excerpt());
    wait(f, slug, a.json()["version"].as_i64().unwrap()).await
}

async fn wait(f: &Fixture, slug: &str, version: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = Call::get(format!("/api/v1/datasets/{slug}/releases/{version}")).send(&f.app, &f.admin.browser).await;
        let r = r.json();
        if r["state"] != "compiling" {
            return r;
        }
        assert!(Instant::now() < deadline, "the release did not compile: {r}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn bytes(
    app: &TestApp,
    who: &Person,
    path: &str,
    range: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = who.browser.http.get(app.url(path));
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.bytes().await.unwrap().to_vec())
}

fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        out.insert(path, data);
    }
    out
}

/// Run the Python readers researchers use (numpy, pandas, Hugging Face `datasets`, mlcroissant) on
/// an archive, in the pinned environment `scripts/python-env.sh` makes (cached after its first run).
fn python_reads(archive: &[u8], name: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let env =
        std::process::Command::new(root.join("scripts/python-env.sh")).output().expect("scripts/python-env.sh runs");
    assert!(env.status.success(), "the Python environment: {}", String::from_utf8_lossy(&env.stderr));
    let venv = String::from_utf8(env.stdout).unwrap().trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, archive).unwrap();
    let out = std::process::Command::new(format!("{venv}/bin/python"))
        .arg(root.join("scripts/check_release.py"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Python readers refused {name}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn a_release_holds_what_its_manifest_says_and_no_ones_identity() {
    let f = fixture().await;
    create_dataset(&f, "open-mix", "public").await;
    let r = compile(&f, "open-mix", json!({})).await;
    assert_eq!(r["state"], "compiled", "{r}");
    assert_eq!(r["version"], 1);
    let report = &r["report"];
    assert_eq!(report["samples"], 12, "{report}");
    assert_eq!(report["excluded"]["private_source"], 4, "{report}");
    assert_eq!(report["excluded"]["licence_not_redistributable"], 4, "{report}");
    assert_eq!(report["licences"], json!(["CC-BY-4.0"]));
    assert_eq!(report["annotators"], 2);

    let (status, headers, tar) =
        bytes(&f.app, &f.admin, "/api/v1/datasets/open-mix/releases/1/archive.tar", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-length"].to_str().unwrap(), tar.len().to_string());
    assert_eq!(r["tar_bytes"].as_u64(), Some(tar.len() as u64));
    python_reads(&tar, "open-mix-v1.tar");
    let (status, _, zip) = bytes(&f.app, &f.admin, "/api/v1/datasets/open-mix/releases/1/archive.zip", None).await;
    assert_eq!(status, StatusCode::OK);
    python_reads(&zip, "open-mix-v1.zip");
    let files = untar(&tar);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len() + 1, files.len(), "every file but the manifest is listed");
    for file in listed {
        let path = file["path"].as_str().unwrap();
        let data = files.get(path).unwrap_or_else(|| panic!("{path} is in the archive"));
        assert_eq!(file["size"].as_u64(), Some(data.len() as u64), "{path}");
        assert_eq!(file["sha256"].as_str(), Some(sha(data).as_str()), "{path}");
    }
    let audio = files.keys().filter(|p| p.ends_with(".flac")).count();
    assert_eq!(audio, 12);
    for required in [
        "aggregated-labels.csv",
        "individual-responses.csv",
        "partitions/train.csv",
        "partitions/test.csv",
        "class-map.json",
        "labels.npz",
        "train/metadata.csv",
        "test/metadata.csv",
        "croissant.json",
        "README.md",
        "ATTRIBUTION.csv",
    ] {
        assert!(files.contains_key(required), "{required} is missing: {:?}", files.keys().collect::<Vec<_>>());
    }
    // The test split is unlabelled: its metadata has no instrument column and its keys have no labels.
    let test_meta = String::from_utf8(files["test/metadata.csv"].clone()).unwrap();
    assert!(!test_meta.lines().next().unwrap().contains("piano"), "{test_meta}");
    let test_keys: Vec<String> =
        String::from_utf8(files["partitions/test.csv"].clone()).unwrap().lines().skip(1).map(String::from).collect();
    assert!(!test_keys.is_empty());
    let aggregated = String::from_utf8(files["aggregated-labels.csv"].clone()).unwrap();
    for key in &test_keys {
        assert!(!aggregated.contains(key.as_str()), "test sample {key} is labelled in the public archive");
    }
    // No e-mail, user id or name of anyone, anywhere in the archive's bytes.
    let text = String::from_utf8_lossy(&tar).to_lowercase();
    for who in f.annotators.iter().chain([&f.admin]) {
        let id = who.id().to_lowercase();
        assert!(!text.contains(&id), "{}'s user id is in the archive", who.name);
        assert!(!text.contains(&id.replace('-', "")), "{}'s user id is in the archive", who.name);
    }
    for needle in ["example.org", "ann1", "ann2"] {
        assert!(!text.contains(needle), "'{needle}' is in the archive");
    }
    // Annotators appear under pseudonyms, the same two throughout.
    let responses = String::from_utf8(files["individual-responses.csv"].clone()).unwrap();
    let mut names: Vec<&str> = responses.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 2, "{names:?}");

    // A source whose clips a release holds cannot be deleted, even once no campaign needs them.
    use sea_orm::EntityTrait;
    let campaign: uuid::Uuid = f.campaign.parse().unwrap();
    app::db::campaign::Entity::delete_by_id(campaign).exec(&f.app.db).await.unwrap();
    let a = Call::rest(Method::DELETE, format!("/api/v1/audio/{}", f.public[0]), Value::Null)
        .send(&f.app, &f.admin.browser)
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.excerpt());
    assert!(a.json()["message"].as_str().unwrap().contains("“Open mix v1”"), "{}", a.excerpt());

    // The hidden test labels are the admins'.
    let (status, _, labels) =
        bytes(&f.app, &f.admin, "/api/v1/datasets/open-mix/releases/1/test-labels.csv", None).await;
    assert_eq!(status, StatusCode::OK);
    let labels = String::from_utf8(labels).unwrap();
    for key in &test_keys {
        assert!(labels.contains(key.as_str()), "{key} has no hidden label");
    }
}

#[tokio::test]
async fn a_rebuild_gives_the_same_bytes_and_ranges_resume_a_download() {
    let f = fixture().await;
    create_dataset(&f, "again", "admins").await;
    let r = compile(&f, "again", json!({"group_by": "artist", "rule": "trust_weighted"})).await;
    assert_eq!(r["state"], "compiled", "{r}");
    let path = "/api/v1/datasets/again/releases/1/archive.tar";
    let (_, headers, first) = bytes(&f.app, &f.admin, path, None).await;
    let zip_path = "/api/v1/datasets/again/releases/1/archive.zip";
    let (status, _, zip_first) = bytes(&f.app, &f.admin, zip_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["zip_bytes"].as_u64(), Some(zip_first.len() as u64));

    // New answers after the release's instant change nothing in a rebuild.
    let late = Person::oauth(&f.app, "late").await;
    let _ = answer_everything(&f.app, &late).await;
    let a = Call::rest(Method::POST, "/api/v1/datasets/again/releases/1/recompile", json!({}))
        .send(&f.app, &f.admin.browser)
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.excerpt());
    assert_eq!(wait(&f, "again", 1).await["state"], "compiled");
    let (_, _, second) = bytes(&f.app, &f.admin, path, None).await;
    assert_eq!(sha(&first), sha(&second), "a rebuild is byte-identical");
    let (_, _, zip_second) = bytes(&f.app, &f.admin, zip_path, None).await;
    assert_eq!(sha(&zip_first), sha(&zip_second), "a rebuild is byte-identical (zip)");

    // A resumed download: any range is the same bytes as the whole's.
    let n = first.len();
    for (a, b) in [(0, 0), (100, 1_000), (511, 513), (n / 2, n - 1), (n - 10, n - 1)] {
        let (status, h, part) = bytes(&f.app, &f.admin, path, Some(&format!("bytes={a}-{b}"))).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{a}-{b}");
        assert_eq!(h["content-range"].to_str().unwrap(), format!("bytes {a}-{b}/{n}"));
        assert_eq!(part, first[a..=b], "bytes {a}-{b}");
    }
    let (status, _, tail) = bytes(&f.app, &f.admin, path, Some("bytes=-700")).await;
    assert_eq!((status, tail.as_slice()), (StatusCode::PARTIAL_CONTENT, &first[n - 700..]));
    let (status, _, _) = bytes(&f.app, &f.admin, path, Some(&format!("bytes={n}-"))).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    // If-Range with the archive's tag resumes; with another, the whole comes back.
    let etag = headers["etag"].to_str().unwrap().to_string();
    let res = f.admin.browser.http.get(f.app.url(path)).header("Range", "bytes=10-19").header("If-Range", &etag);
    assert_eq!(res.send().await.unwrap().status(), StatusCode::PARTIAL_CONTENT);
    let res = f.admin.browser.http.get(f.app.url(path)).header("Range", "bytes=10-19").header("If-Range", "\"other\"");
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_published_release_never_changes_and_others_see_only_what_they_may() {
    let f = fixture().await;
    create_dataset(&f, "secret", "admins").await;
    create_dataset(&f, "members", "signed_in").await;
    let r = compile(&f, "members", json!({})).await;
    assert_eq!(r["state"], "compiled", "{r}");
    let reader = &f.annotators[0];
    let anonymous = Person::anonymous();

    // Unpublished: admins only.
    let release = "/api/v1/datasets/members/releases/1";
    for who in [reader, &anonymous] {
        assert_eq!(Call::get(release).send(&f.app, &who.browser).await.status, StatusCode::NOT_FOUND, "{}", who.name);
        let (status, _, _) = bytes(&f.app, who, &format!("{release}/archive.tar"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", who.name);
    }
    let a = Call::rest(Method::POST, format!("{release}/publish"), json!({})).send(&f.app, &reader.browser).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.excerpt());
    let a = Call::rest(Method::POST, format!("{release}/publish"), json!({})).send(&f.app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    assert_eq!(a.json()["state"], "published");

    // Published: every change is a 409, through REST and through server functions.
    for (method, path, body) in [
        (Method::POST, format!("{release}/publish"), json!({})),
        (Method::POST, format!("{release}/recompile"), json!({})),
        (Method::PATCH, release.to_string(), json!({"notes": "changed"})),
        (Method::DELETE, release.to_string(), json!({})),
    ] {
        let a = Call::rest(method.clone(), &path, body).send(&f.app, &f.admin.browser).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{method} {path}: {}", a.excerpt());
        assert!(a.json()["message"].as_str().unwrap().contains("published"), "{}", a.excerpt());
    }
    for name in ["publish_release", "recompile_release", "delete_release"] {
        let args = ServerFn::form(&[("slug", "members"), ("version", "1")]);
        let a = ServerFn::call(&f.app, &f.admin.browser, name, &args).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{name}: {}", a.excerpt());
    }
    let args = ServerFn::form(&[("slug", "members"), ("version", "1"), ("notes", "x")]);
    let a = ServerFn::call(&f.app, &f.admin.browser, "update_release_notes", &args).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.excerpt());

    // Signed in: the signed-in dataset and its published release; the archive but not the labels.
    assert_eq!(Call::get(release).send(&f.app, &reader.browser).await.status, StatusCode::OK);
    let (status, _, _) = bytes(&f.app, reader, &format!("{release}/archive.zip"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = bytes(&f.app, reader, &format!("{release}/test-labels.csv"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let listed: Vec<String> = Call::get("/api/v1/datasets")
        .send(&f.app, &reader.browser)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["slug"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, ["members"]);
    // Signed out: nothing of either.
    for path in ["/api/v1/datasets/members", "/api/v1/datasets/secret", "/api/v1/datasets/secret/releases/1"] {
        assert_eq!(Call::get(path).send(&f.app, &anonymous.browser).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(Call::get("/api/v1/datasets").send(&f.app, &anonymous.browser).await.json(), json!([]));
    // Not an admin: no dataset made, none compiled, the admins' dataset invisible.
    let a = Call::rest(Method::POST, "/api/v1/datasets", json!({"slug": "mine", "name": "Mine"}))
        .send(&f.app, &reader.browser)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.excerpt());
    let body = json!({"campaigns": [f.campaign]});
    let a =
        Call::rest(Method::POST, "/api/v1/datasets/members/releases", body.clone()).send(&f.app, &reader.browser).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.excerpt());
    let a = Call::rest(Method::POST, "/api/v1/datasets/secret/releases", body).send(&f.app, &reader.browser).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.excerpt());
}

#[tokio::test]
async fn bad_requests_get_clear_refusals_and_leave_nothing_behind() {
    let f = fixture().await;
    create_dataset(&f, "strict", "public").await;
    let post = |body: Value| Call::rest(Method::POST, "/api/v1/datasets/strict/releases", body);
    for (body, words) in [
        (json!({"campaigns": []}), "at least one campaign"),
        (json!({"campaigns": [f.campaign], "threshold": 0.4}), "threshold"),
        (json!({"campaigns": [f.campaign], "test_fraction": 1.0}), "test"),
        (json!({"campaigns": [f.campaign], "instruments": ["cello"]}), "cello"),
        (json!({"campaigns": ["00000000-0000-0000-0000-000000000000"]}), "no campaign"),
    ] {
        let a = post(body.clone()).send(&f.app, &f.admin.browser).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", a.excerpt());
        let message = a.json()["message"].as_str().unwrap().to_lowercase();
        assert!(message.contains(words), "{body}: {message}");
    }
    let a = post(json!({"campaigns": [f.campaign], "colour": "red"})).send(&f.app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    assert!(a.json()["message"].as_str().unwrap().contains("colour"), "{}", a.excerpt());
    let page = Call::get("/api/v1/datasets/strict").send(&f.app, &f.admin.browser).await.json();
    assert_eq!(page["releases"], json!([]), "no release was made by a refused request");

    // A split that cannot be made fails the release with the reason (every source has the same
    // uploader, so grouping by uploader leaves one group); the prevalence refusal, which names the
    // instrument, is the `dataset` crate's to test.
    let r = compile(&f, "strict", json!({"group_by": "uploader"})).await;
    assert_eq!(r["state"], "failed", "{r}");
    let e = r["error"].as_str().unwrap();
    assert!(e.contains("belong to the group"), "{e}");
    let bad = [("slug", "Bad Slug"), ("slug", "a"), ("slug", "-x-")];
    for (k, v) in bad {
        let a = Call::rest(Method::POST, "/api/v1/datasets", json!({k: v, "name": "X"}))
            .send(&f.app, &f.admin.browser)
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{v}: {}", a.excerpt());
    }
    let again = json!({"slug": "strict", "name": "Again"});
    let a = Call::rest(Method::POST, "/api/v1/datasets", again).send(&f.app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.excerpt());
}

#[tokio::test]
async fn a_release_whose_compile_is_cancelled_says_so_instead_of_compiling_for_ever() {
    use sea_orm::ActiveModelTrait;
    use sea_orm::ActiveValue::Set;
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let f = Fixture {
        app,
        admin,
        annotators: [Person::anonymous(), Person::anonymous()],
        campaign: String::new(),
        public: vec![],
    };
    create_dataset(&f, "halted", "public").await;
    let page = Call::get("/api/v1/datasets/halted").send(&f.app, &f.admin.browser).await.json();
    let dataset: uuid::Uuid = page["dataset"]["id"].as_str().unwrap().parse().unwrap();
    // A compile job that no worker will reach (due in a year), and its release.
    let job = crate::jobs::quiet_job(
        &f.app.db,
        "dataset_compile",
        app::domain::JobState::Queued,
        Some(f.admin.id()),
        Duration::ZERO,
    )
    .await;
    app::db::dataset_release::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        dataset_id: Set(dataset),
        version: Set(1),
        state: Set(app::domain::ReleaseState::Compiling),
        params: Set("{}".into()),
        campaigns: Set("[]".into()),
        notes: Set(String::new()),
        job_id: Set(Some(job.parse().unwrap())),
        phase: Set("queued".into()),
        done: Set(0),
        total: Set(0),
        report: Set(None),
        error: Set(None),
        tar_bytes: Set(None),
        zip_bytes: Set(None),
        test_labels_key: Set(None),
        created_by: Set(f.admin.id().parse().unwrap()),
        created_at: Set(chrono::Utc::now()),
        published_at: Set(None),
    }
    .insert(&f.app.db)
    .await
    .unwrap();
    let release = "/api/v1/datasets/halted/releases/1";
    assert_eq!(Call::get(release).send(&f.app, &f.admin.browser).await.json()["state"], "compiling");
    let a = Call::rest(Method::DELETE, format!("/api/v1/jobs/{job}"), Value::Null).send(&f.app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    let r = Call::get(release).send(&f.app, &f.admin.browser).await.json();
    assert_eq!((r["state"].as_str(), r["error"].as_str()), (Some("failed"), Some("cancelled")), "{r}");
    let page = Call::get("/api/v1/datasets/halted").send(&f.app, &f.admin.browser).await.json();
    assert_eq!(page["releases"][0]["state"], "failed");
    // A failed release can be deleted, and leaves no row.
    let a = Call::rest(Method::DELETE, release, Value::Null).send(&f.app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.excerpt());
    assert_eq!(Call::get(release).send(&f.app, &f.admin.browser).await.status, StatusCode::NOT_FOUND);
}
