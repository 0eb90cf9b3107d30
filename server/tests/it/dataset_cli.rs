//! `server dataset compile` and `server dataset export`, run as the built binary against a test
//! app's database and store: a release compiled from the shell is the release REST serves, and
//! the exported archive is byte for byte the one downloaded over HTTP. Non-admins are refused.
use std::path::Path;
use std::process::Output;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clients::{AudioClient, Call, CampaignClient, Person};
use crate::helpers::TestApp;

/// Run the server binary with the app's configuration (and its public address, which compiled
/// files cite), in `cwd`; its output.
async fn run(app: &TestApp, cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .current_dir(cwd)
        .envs(app.env_vars())
        .env("TUTTI_PUBLIC_URL", format!("{}/", app.base))
        .env("TUTTI_JOB_POLL_MS", "100")
        .env("TUTTI_LOG", "warn");
    // The app under test serves from this runtime meanwhile: wait for the child off its threads.
    tokio::task::spawn_blocking(move || cmd.output().expect("the server binary runs")).await.unwrap()
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Two public CC-BY sources of four ten-second clips, every task answered by two annotators.
async fn fixture(app: &TestApp, admin: &Person) -> String {
    let audio = AudioClient { app, who: admin };
    let mut sources = Vec::new();
    for (i, secs) in [40.0, 40.5, 41.0].into_iter().enumerate() {
        sources.push(audio.upload(&format!("public{i}.wav"), secs, true).await);
    }
    let body = json!({"name": "Shell", "annotations_per_task": 2, "instruments": ["piano", "drums"]});
    let a = Call::rest(Method::POST, "/api/v1/campaigns", body).send(app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    let campaign = a.json()["id"].as_str().unwrap().to_string();
    let campaigns = CampaignClient { app, who: admin };
    let ids: Vec<&str> = sources.iter().map(String::as_str).collect();
    let built = campaigns.build(&campaign, &ids).await;
    assert_eq!(built["clips_made"], 12, "{built}");
    for name in ["cli1", "cli2"] {
        let who = Person::oauth(app, name).await;
        loop {
            let a = Call::rest(Method::POST, "/api/v1/annotate/next", json!({})).send(app, &who.browser).await;
            if a.status == StatusCode::NO_CONTENT {
                break;
            }
            assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
            let task = a.json()["task_id"].as_str().unwrap().to_string();
            let b = task.as_bytes();
            let word = |x: u8| if x.is_multiple_of(2) { "present" } else { "absent" };
            let body = json!({
                "client_id": format!("{name}-{task}"), "answers": {"piano": word(b[0]), "drums": word(b[1])},
                "play_count": 1, "listening_ms": 10_000, "time_to_submit_ms": 12_000,
            });
            let a = Call::rest(Method::POST, format!("/api/v1/tasks/{task}/annotations"), body)
                .send(app, &who.browser)
                .await;
            assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
        }
    }
    campaign
}

async fn download(app: &TestApp, who: &Person, path: &str) -> Vec<u8> {
    let res = who.browser.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.bytes().await.unwrap().to_vec()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_compiled_and_exported_from_the_shell_is_the_one_rest_serves() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let campaign = fixture(&app, &admin).await;
    let body = json!({"slug": "shell-mix", "name": "Shell mix", "visibility": "admins"});
    let a = Call::rest(Method::POST, "/api/v1/datasets", body).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let compile = |who: &'static str| {
        [
            "dataset",
            "compile",
            "--dataset",
            "shell-mix",
            "--campaign",
            campaign.as_str(),
            "--test-fraction",
            "0.34",
            "--tolerance",
            "1.0",
            "--seed",
            "7",
            "--group-by",
            "source",
            "--rule",
            "trust_weighted",
            "--notes",
            "From the shell.",
            "--as",
            who,
        ]
    };

    // Not an admin: refused, and no release is made.
    let out = run(&app, cwd, &compile("cli1@example.org")).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an admin"), "{}", text(&out));
    let page = Call::get("/api/v1/datasets/shell-mix").send(&app, &admin.browser).await.json();
    assert_eq!(page["releases"], json!([]), "{page}");

    // An admin: release 1, compiled in the command's own worker, with its report.
    let out = run(&app, cwd, &compile("admin@demo.tutti.invalid")).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("release 1 of shell-mix compiled"), "{}", text(&out));
    assert!(stdout.contains("samples            12"), "{}", text(&out));
    assert!(stdout.contains("0 too few answers"), "{}", text(&out));
    assert!(stdout.contains("finished in "), "{}", text(&out));
    let r = Call::get("/api/v1/datasets/shell-mix/releases/1").send(&app, &admin.browser).await.json();
    assert_eq!(r["state"], "compiled", "{r}");
    assert_eq!(r["notes"], "From the shell.");
    assert_eq!(r["params"]["rule"], "trust_weighted", "{r}");
    assert!(stdout.contains(&format!("archive.tar        {} bytes", r["tar_bytes"])), "{}", text(&out));

    // Exported from the shell: the same bytes as the HTTP download, and no partial file left.
    for format in ["tar", "zip"] {
        let file = cwd.join(format!("shell-mix-v1.{format}"));
        let out = run(
            &app,
            cwd,
            &["dataset", "export", "shell-mix", "1", "--format", format, "--out", file.to_str().unwrap()],
        )
        .await;
        assert!(out.status.success(), "{}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("MB/s"), "{}", text(&out));
        let exported = std::fs::read(&file).unwrap();
        let served = download(&app, &admin, &format!("/api/v1/datasets/shell-mix/releases/1/archive.{format}")).await;
        assert_eq!(exported.len() as u64, r[format!("{format}_bytes")].as_u64().unwrap());
        assert_eq!(sha(&exported), sha(&served), "the exported {format} is the downloaded one");
        assert!(!server::cli_dataset::part_path(&file).exists());
    }

    // What cannot be exported says why.
    let missing = cwd.join("missing.tar");
    let out =
        run(&app, cwd, &["dataset", "export", "shell-mix", "2", "--format", "tar", "--out", missing.to_str().unwrap()])
            .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no release 2"), "{}", text(&out));
    assert!(!missing.exists() && !server::cli_dataset::part_path(&missing).exists());
}
