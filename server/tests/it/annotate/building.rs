//! The task builder and campaigns: clips with provenance, admins only, one build at a time.
use super::common::*;
use crate::helpers::{Browser, TestApp};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

#[tokio::test]
async fn building_cuts_clips_with_provenance_and_skips_silence() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin").await;
    // 20 s of tone then 15 s of silence: even 10 s clips at 0, 12.5 and 25 s; the last is silent.
    let source = upload(&app, &admin, "half.wav", tone_then_silence(8_000, 20.0, 15.0)).await;
    let c = new_campaign(&app, &admin, json!({"name": "Silence"})).await;
    let body = json!({"sources": {"kind": "audio", "ids": [source["id"]]}, "strategy": "even", "seed": 3});
    let job = build_and_wait(&app, &admin, c["id"].as_str().unwrap(), body.clone()).await;
    assert_eq!(job["status"], "done");
    assert_eq!((job["clips_made"].as_i64(), job["clips_skipped"].as_i64()), (Some(2), Some(1)), "{job}");
    assert!(job["skipped_reasons"].as_object().unwrap().keys().any(|k| k.starts_with("silent")), "{job}");

    let clips =
        app::db::audio::Entity::find().filter(app::db::audio::Column::Kind.eq("clip")).all(&app.db).await.unwrap();
    let mut offsets: Vec<i64> = clips.iter().map(|c| c.parent_offset_frames.unwrap()).collect();
    offsets.sort();
    assert_eq!(offsets, vec![0, 551_250]);
    for clip in &clips {
        assert_eq!(clip.parent_id.unwrap().to_string(), source["id"].as_str().unwrap());
        assert_eq!(clip.frames, 441_000, "exactly ten seconds at 44.1 kHz");
        assert!(clip.loudness_lufs.is_some());
    }
    // The same sources, strategy and seed again: nothing new.
    let again = build_and_wait(&app, &admin, c["id"].as_str().unwrap(), body).await;
    assert_eq!((again["clips_made"].as_i64(), again["clips_existing"].as_i64()), (Some(0), Some(2)), "{again}");
    assert_eq!(app::db::task::Entity::find().count(&app.db).await.unwrap(), 2);
    assert_eq!(
        app::db::audio::Entity::find().filter(app::db::audio::Column::Kind.eq("clip")).count(&app.db).await.unwrap(),
        2
    );
}

#[tokio::test]
async fn building_and_campaigns_are_for_admins() {
    let app = TestApp::spawn().await;
    let musician = signed_in(&app, "musician").await;
    let res = musician.http.post(app.url("/api/v1/campaigns")).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let admin = signed_in(&app, "admin").await;
    let res = admin
        .http
        .post(app.url("/api/v1/campaigns"))
        .json(&json!({"name": "x", "instruments": ["kazoo"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(res).await.contains("kazoo"));
}

/// A clip is always an audio of its own, cut from its source (even when its bytes equal the
/// source's), and is public only while its source is.
#[tokio::test]
async fn a_clip_is_its_own_audio_and_follows_its_source_s_visibility() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin").await;
    let form = Form::new()
        .part("file", Part::bytes(tone_then_silence(8_000, 10.0, 0.0)).file_name("exact.wav"))
        .text("public", "true");
    let res = admin.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    assert!(res.status().is_success());
    let source: Value = res.json().await.unwrap();
    let sid = source["id"].as_str().unwrap().to_string();
    let c = new_campaign(&app, &admin, json!({"name": "Exact", "instruments": ["piano", "drums"]})).await;
    let body = json!({"sources": {"kind": "audio", "ids": [sid]}, "strategy": "even", "seed": 1});
    assert_eq!(build_and_wait(&app, &admin, c["id"].as_str().unwrap(), body).await["clips_made"], 1);
    let tasks: Vec<Value> =
        app.get(&admin, &format!("/api/v1/campaigns/{}/tasks", c["id"].as_str().unwrap())).await.json().await.unwrap();
    let clip_id: Uuid = tasks[0]["clip_id"].as_str().unwrap().parse().unwrap();
    assert_ne!(clip_id.to_string(), sid, "the clip is not the upload it equals");
    let clip = app::db::audio::Entity::find_by_id(clip_id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((clip.kind.as_str(), clip.parent_id), ("clip", Some(sid.parse().unwrap())));
    let a = signed_in(&app, "annotator").await;
    let t = next(&app, &a).await.unwrap();
    assert_eq!(t["clip_id"], clip_id.to_string());

    let anonymous = Browser::new();
    let clip_url = format!("/api/v1/audio/{clip_id}/canonical");
    assert_eq!(app.get(&anonymous, &clip_url).await.status(), StatusCode::OK, "a public source's clip is public");
    let set_public = |public: bool| {
        admin.http.patch(app.url(&format!("/api/v1/audio/{sid}"))).json(&json!({"public": public})).send()
    };
    assert_eq!(set_public(false).await.unwrap().status(), StatusCode::OK);
    for path in [format!("/api/v1/audio/{clip_id}"), clip_url.clone(), format!("/api/v1/audio/{clip_id}/peaks")] {
        assert_eq!(app.get(&anonymous, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get(&a, &clip_url).await.status(), StatusCode::OK, "the lease holder still hears it");
    let seen: Value = app.get(&a, &format!("/api/v1/audio/{clip_id}")).await.json().await.unwrap();
    assert_eq!(seen["original_filename"], format!("clip-{clip_id}.wav"), "and knows nothing of the source");
    assert_eq!(set_public(true).await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get(&anonymous, &clip_url).await.status(), StatusCode::OK);
}

/// The admin page's task list: a page at a time, in source and time order, and gold answers set
/// from it; annotators may do neither.
#[tokio::test]
async fn the_admin_task_list_pages_tasks_and_sets_gold_answers() {
    let app = TestApp::spawn().await;
    let s = campaign_with_tasks(&app, 3, 2).await;
    let cid = s.campaign["id"].as_str().unwrap().to_string();
    let page = |b: &Browser, offset: &'static str| {
        b.http.post(app.url("/api/campaign_tasks")).form(&[("campaign_id", cid.as_str()), ("offset", offset)]).send()
    };
    let p: Value = page(&s.admin, "0").await.unwrap().json().await.unwrap();
    assert_eq!(p["total"], 3);
    let offsets: Vec<f64> =
        p["tasks"].as_array().unwrap().iter().map(|t| t["offset_seconds"].as_f64().unwrap()).collect();
    assert_eq!(offsets, [0.0, 10.0, 20.0]);
    assert!(p["tasks"].as_array().unwrap().iter().all(|t| t["source"] == "long.wav" && t["gold_answers"].is_null()));
    let rest: Value = page(&s.admin, "2").await.unwrap().json().await.unwrap();
    assert_eq!(rest["tasks"].as_array().unwrap().len(), 1);
    let annotator = signed_in(&app, "annotator").await;
    assert_eq!(page(&annotator, "0").await.unwrap().status(), StatusCode::FORBIDDEN);
    // The page's other admin functions refuse annotators too, and change nothing.
    let close = json!({"campaign_id": cid, "changes": {"is_open": false}});
    let res = annotator.http.post(app.url("/api/update_campaign")).json(&close).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = annotator.http.post(app.url("/api/campaign_agreement")).form(&[("campaign_id", cid.as_str())]).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = annotator.http.post(app.url("/api/latest_build_jobs")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let c: Value = app.get(&s.admin, &format!("/api/v1/campaigns/{cid}")).await.json().await.unwrap();
    assert_eq!(c["is_open"], true);

    let task = p["tasks"][1]["id"].as_str().unwrap().to_string();
    let set = |b: &Browser, answers: Value| {
        b.http.post(app.url("/api/set_gold")).json(&json!({"task_id": task, "answers": answers})).send()
    };
    assert_eq!(set(&annotator, json!({"piano": true})).await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = set(&s.admin, json!({"violin": true})).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Not instruments of this campaign: violin"));
    assert_eq!(set(&s.admin, json!({"piano": true, "drums": false})).await.unwrap().status(), StatusCode::OK);
    let p: Value = page(&s.admin, "0").await.unwrap().json().await.unwrap();
    assert_eq!(p["tasks"][1]["gold_answers"], json!({"piano": true, "drums": false}));
    assert_eq!(set(&s.admin, Value::Null).await.unwrap().status(), StatusCode::OK);
    let p: Value = page(&s.admin, "0").await.unwrap().json().await.unwrap();
    assert!(p["tasks"][1]["gold_answers"].is_null());
}

/// The same build asked again while it runs is that build, not a second one cutting every clip
/// again; a build with other parameters is a build of its own.
#[tokio::test]
async fn the_same_build_asked_twice_while_it_runs_is_one_build() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin").await;
    let source = upload(&app, &admin, "long.wav", tone_then_silence(8_000, 60.0, 0.0)).await;
    let c = new_campaign(&app, &admin, json!({"name": "Twice", "instruments": ["piano"]})).await;
    let url = app.url(&format!("/api/v1/campaigns/{}/builds", c["id"].as_str().unwrap()));
    let body = json!({"sources": {"kind": "audio", "ids": [source["id"]]}, "strategy": "even", "seed": 1});
    let start = || async { admin.http.post(&url).json(&body).send().await.unwrap().json::<Value>().await.unwrap() };
    let (first, second) = (start().await, start().await);
    assert_eq!(first["id"], second["id"], "{first} {second}");
    let other = admin
        .http
        .post(&url)
        .json(&json!({"sources": {"kind": "audio", "ids": [source["id"]]},
        "strategy": "random", "seed": 2, "clips_per_source": 1}))
        .send()
        .await
        .unwrap();
    let other: Value = other.json().await.unwrap();
    assert_ne!(other["id"], first["id"]);
    let done = build_and_wait(&app, &admin, c["id"].as_str().unwrap(), body.clone()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        app::db::build_job::Entity::find().count(&app.db).await.unwrap() as usize,
        3 - usize::from(done["id"] == first["id"])
    );
}

/// Each resource of a page is made once while the server renders it. Pages make them outside
/// their Suspense closures: a closure that ran again made them again, sent the dropped ones as
/// errors under the ids the browser reads (breaking hydration), and on /annotate leased again.
#[tokio::test]
async fn server_renders_make_each_resource_once() {
    let app = TestApp::spawn().await;
    let s = campaign_with_tasks(&app, 2, 1).await;
    let a = signed_in(&app, "annotator").await;
    for (who, path) in [
        (&s.admin, "/admin/campaigns"),
        (&s.admin, "/admin/users"),
        (&s.admin, "/library"),
        (&s.admin, "/profile"),
        (&s.admin, "/upload"),
        (&a, "/annotate"),
    ] {
        let html = app.get(who, path).await.text().await.unwrap();
        let payloads: Vec<String> = html
            .split("__RESOLVED_RESOURCES[")
            .skip(1)
            .map(|r| r.split_once("] = ").map(|(_, v)| v.chars().take(300).collect()).unwrap_or_default())
            .collect();
        assert!(payloads.len() >= 2, "{path}: the user and the page's data");
        let distinct: HashSet<&String> = payloads.iter().collect();
        assert_eq!(distinct.len(), payloads.len(), "{path}: a resource was made more than once: {payloads:?}");
        assert!(!html.contains(r#"\"Err\""#), "{path}: {payloads:?}");
    }
    assert_eq!(app::db::lease::Entity::find().count(&app.db).await.unwrap(), 1, "one page load, one lease");
}
