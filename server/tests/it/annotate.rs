//! Campaigns, the task builder, serving under leases, submissions and consensus, over HTTP.
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Browser, TestApp};

/// Mono 16-bit WAV: `tone_seconds` of 440 Hz, then `silent_seconds` of digital silence.
fn tone_then_silence(rate: u32, tone_seconds: f64, silent_seconds: f64) -> Vec<u8> {
    let tone = (rate as f64 * tone_seconds) as usize;
    let total = tone + (rate as f64 * silent_seconds) as usize;
    let samples: Vec<f32> = (0..total)
        .map(|i| if i < tone { 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin() } else { 0.0 })
        .collect();
    ::audio::wav::encode_i16(&samples, rate, 1)
}

pub struct Setup {
    pub admin: Browser,
    pub campaign: Value,
}

async fn signed_in(app: &TestApp, role: &str) -> Browser {
    let b = Browser::new();
    app.sign_in_demo(&b, role).await;
    b
}

async fn upload(app: &TestApp, b: &Browser, name: &str, bytes: Vec<u8>) -> Value {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    let res = b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

pub async fn build_and_wait(app: &TestApp, admin: &Browser, campaign: &str, body: Value) -> Value {
    let res =
        admin.http.post(app.url(&format!("/api/v1/campaigns/{campaign}/builds"))).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{}", res.text().await.unwrap());
    let job: Value = res.json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j: Value =
            app.get(admin, &format!("/api/v1/builds/{}", job["id"].as_str().unwrap())).await.json().await.unwrap();
        if j["status"] == "done" || j["status"] == "failed" {
            return j;
        }
        assert!(Instant::now() < deadline, "build did not finish: {j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn new_campaign(app: &TestApp, admin: &Browser, body: Value) -> Value {
    let res = admin.http.post(app.url("/api/v1/campaigns")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// A campaign with `clips` ten-second tasks asking about piano and drums.
pub async fn campaign_with_tasks(app: &TestApp, clips: usize, k: i32) -> Setup {
    let admin = signed_in(app, "admin").await;
    let source = upload(app, &admin, "long.wav", tone_then_silence(8_000, clips as f64 * 10.0, 0.0)).await;
    let campaign = new_campaign(
        app,
        &admin,
        json!({"name": "Test", "annotations_per_task": k, "instruments": ["piano", "drums"]}),
    )
    .await;
    let job = build_and_wait(
        app,
        &admin,
        campaign["id"].as_str().unwrap(),
        json!({"sources": {"kind": "audio", "ids": [source["id"]]}, "strategy": "even", "seed": 1}),
    )
    .await;
    assert_eq!(job["clips_made"], clips as i64, "{job}");
    Setup { admin, campaign }
}

fn answers(piano: &str, drums: &str) -> Value {
    json!({"piano": piano, "drums": drums})
}

async fn next(app: &TestApp, b: &Browser) -> Option<Value> {
    let res = b.http.post(app.url("/api/v1/annotate/next")).send().await.unwrap();
    match res.status() {
        StatusCode::OK => Some(res.json().await.unwrap()),
        StatusCode::NO_CONTENT => None,
        s => panic!("next: {s} {}", res.text().await.unwrap()),
    }
}

async fn submit(app: &TestApp, b: &Browser, task: &str, body: Value) -> reqwest::Response {
    b.http.post(app.url(&format!("/api/v1/tasks/{task}/annotations"))).json(&body).send().await.unwrap()
}

/// `submit` for a script holding an API token: the status and the body.
async fn submit_with_token(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    task: &str,
    body: Value,
) -> (StatusCode, String) {
    let res = http
        .post(format!("{base}/api/v1/tasks/{task}/annotations"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

fn submission(client: &str, answers: Value) -> Value {
    json!({"client_id": client, "answers": answers, "play_count": 1, "listening_ms": 9000, "time_to_submit_ms": 12000})
}

async fn message(res: reqwest::Response) -> String {
    res.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_string()
}

async fn expire_leases(app: &TestApp) {
    app::db::lease::Entity::update_many()
        .col_expr(
            app::db::lease::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(5)),
        )
        .exec(&app.db)
        .await
        .unwrap();
}

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

#[tokio::test]
async fn an_annotator_gets_the_same_task_back_after_a_reload() {
    let app = TestApp::spawn().await;
    let _s = campaign_with_tasks(&app, 2, 1).await;
    let a = signed_in(&app, "annotator").await;
    let first = next(&app, &a).await.unwrap();
    let again = next(&app, &a).await.unwrap();
    assert_eq!(first["task_id"], again["task_id"]);
    assert_eq!(first["instruments"].as_array().unwrap().len(), 2);
    // The clip is audible to the annotator holding it, though its source is private.
    let clip = first["clip_id"].as_str().unwrap();
    assert_eq!(app.get(&a, &format!("/api/v1/audio/{clip}/canonical")).await.status(), StatusCode::OK);
    let other = signed_in(&app, "musician").await;
    assert_eq!(app.get(&other, &format!("/api/v1/audio/{clip}/canonical")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn submissions_are_rejected_with_precise_reasons() {
    let app = TestApp::spawn().await;
    let _s = campaign_with_tasks(&app, 2, 2).await;
    let a = signed_in(&app, "annotator").await;
    let t = next(&app, &a).await.unwrap();
    let task = t["task_id"].as_str().unwrap();

    let res = submit(&app, &Browser::new(), task, submission("c0", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let mut unplayed = submission("c1", answers("present", "absent"));
    unplayed["play_count"] = json!(0);
    let res = submit(&app, &a, task, unplayed).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(res).await.contains("Play the clip"));

    let res = submit(&app, &a, task, submission("c2", json!({"piano": "present"}))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(res).await.contains("missing: drums"));

    let res =
        submit(&app, &a, task, submission("c3", json!({"piano": "present", "drums": "absent", "kazoo": "present"})))
            .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(res).await.contains("kazoo"));

    // A task this annotator does not hold.
    let tasks: Vec<Value> = app
        .get(&_s.admin, &format!("/api/v1/campaigns/{}/tasks", _s.campaign["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    let other_task = tasks.iter().find(|x| x["id"] != t["task_id"]).unwrap()["id"].as_str().unwrap().to_string();
    let res = submit(&app, &a, &other_task, submission("c4", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("no lease"));

    // Accepted, then retried with the same client id: same receipt, one annotation.
    let ok = submit(&app, &a, task, submission("c5", answers("present", "absent"))).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let ok: Value = ok.json().await.unwrap();
    let retry = submit(&app, &a, task, submission("c5", answers("present", "absent"))).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.json::<Value>().await.unwrap(), ok);
    assert_eq!(app::db::annotation::Entity::find().count(&app.db).await.unwrap(), 1);

    let res = submit(&app, &a, task, submission("c6", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("already annotated"));
}

#[tokio::test]
async fn an_expired_lease_is_refused_and_the_task_goes_to_someone_else() {
    let app = TestApp::spawn().await;
    let _s = campaign_with_tasks(&app, 1, 1).await;
    let a = signed_in(&app, "annotator").await;
    let b = signed_in(&app, "musician").await;
    let t = next(&app, &a).await.unwrap();
    let task = t["task_id"].as_str().unwrap();
    assert!(next(&app, &b).await.is_none(), "the only task is leased to a");

    expire_leases(&app).await;
    let res = submit(&app, &a, task, submission("a1", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("expired"));

    let for_b = next(&app, &b).await.expect("the expired lease is reused");
    assert_eq!(for_b["task_id"], t["task_id"]);
    let res = submit(&app, &b, task, submission("b1", answers("absent", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // a's late answer now meets a complete task.
    let res = submit(&app, &a, task, submission("a2", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("all the annotations it needs"));
}

#[tokio::test]
async fn consensus_is_aggregated_at_completion_and_gold_never_moves_it() {
    let app = TestApp::spawn().await;
    let s = campaign_with_tasks(&app, 2, 3).await;
    let cid = s.campaign["id"].as_str().unwrap().to_string();
    let tasks: Vec<Value> = app.get(&s.admin, &format!("/api/v1/campaigns/{cid}/tasks")).await.json().await.unwrap();
    let gold = tasks[1]["id"].as_str().unwrap().to_string();
    let res = s
        .admin
        .http
        .put(app.url(&format!("/api/v1/tasks/{gold}/gold")))
        .json(&json!({"answers": {"piano": true, "drums": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Three annotators; the only non-gold task is served first, then the gold one (rate 0: never mixed in).
    let votes = [("present", "absent"), ("present", "present"), ("absent", "absent")];
    for (i, role) in ["annotator", "musician", "admin"].iter().enumerate() {
        let b = signed_in(&app, role).await;
        let t = next(&app, &b).await.unwrap();
        assert_eq!(t["task_id"], tasks[0]["id"]);
        let res = submit(
            &app,
            &b,
            t["task_id"].as_str().unwrap(),
            submission(&format!("v{i}"), answers(votes[i].0, votes[i].1)),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let labels = |rows: &Vec<Value>, id: &Value| -> BTreeMap<String, Value> {
        let t = rows.iter().find(|t| &t["id"] == id).unwrap();
        t["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["instrument"].as_str().unwrap().to_string(), l.clone()))
            .collect()
    };
    let rows: Vec<Value> = app.get(&s.admin, &format!("/api/v1/campaigns/{cid}/tasks")).await.json().await.unwrap();
    let done = rows.iter().find(|t| t["id"] == tasks[0]["id"]).unwrap();
    assert_eq!(done["complete"], true);
    let l = labels(&rows, &tasks[0]["id"]);
    assert_eq!((l["piano"]["present"].as_i64(), l["piano"]["absent"].as_i64()), (Some(2), Some(1)));
    assert!((l["piano"]["relevance"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert!((l["piano"]["confidence"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    // Equal (prior) accuracies: the trust-weighted estimate leans the majority's way.
    assert!(l["piano"]["trust_present"].as_f64().unwrap() > 0.5);
    assert!(l["drums"]["trust_present"].as_f64().unwrap() < 0.5);

    // Answering the gold task records accuracy and leaves its consensus and count untouched.
    let b = signed_in(&app, "annotator").await;
    let t = app::db::task::Entity::find_by_id(gold.parse::<Uuid>().unwrap()).one(&app.db).await.unwrap().unwrap();
    assert!(t.is_gold);
    // Gold tasks are served by the campaign's gold rate; lease it directly here.
    app::db::lease::Entity::insert(app::db::lease::ActiveModel {
        id: sea_orm::Set(Uuid::new_v4()),
        task_id: sea_orm::Set(t.id),
        user_id: sea_orm::Set(app.me(&b).await.unwrap()["id"].as_str().unwrap().parse().unwrap()),
        expires_at: sea_orm::Set(chrono::Utc::now() + chrono::Duration::minutes(5)),
        created_at: sea_orm::Set(chrono::Utc::now()),
        counted: sea_orm::Set(false),
        skipped: sea_orm::Set(false),
    })
    .exec(&app.db)
    .await
    .unwrap();
    let res = submit(&app, &b, &gold, submission("g1", answers("present", "present"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t = app::db::task::Entity::find_by_id(t.id).one(&app.db).await.unwrap().unwrap();
    assert_eq!(t.annotations_count, 0);
    assert_eq!(
        app::db::task_label::Entity::find()
            .filter(app::db::task_label::Column::TaskId.eq(t.id))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    let stats: Value = app.get(&b, &format!("/api/v1/campaigns/{cid}/stats")).await.json().await.unwrap();
    assert_eq!(stats["gold_answers"], 2);
    assert_eq!(stats["gold_accuracy"], 0.5);
    assert_eq!(stats["tasks_complete"], 1);
    assert_eq!(stats["done_total"], 2);
    // Agreement is with the majority of the *other* annotators. The annotator's (present, absent)
    // meets a 1–1 split of the others on both instruments: nothing to agree with.
    assert!(stats["agreement"].is_null(), "{stats}");
    // The musician's piano "present" meets a 1–1 split; their drums "present" goes against the
    // others' 2–0 "absent": none of their decided answers agree.
    let musician = signed_in(&app, "musician").await;
    let stats: Value = app.get(&musician, &format!("/api/v1/campaigns/{cid}/stats")).await.json().await.unwrap();
    assert_eq!((stats["agreement"].as_f64(), stats["done_total"].as_u64()), (Some(0.0), Some(1)));
}

#[tokio::test]
async fn agreement_is_reported_per_instrument() {
    let app = TestApp::spawn().await;
    let s = campaign_with_tasks(&app, 2, 2).await;
    let cid = s.campaign["id"].as_str().unwrap().to_string();
    // Both annotators agree everywhere; the answers differ between the two clips.
    for (i, role) in ["annotator", "musician"].iter().enumerate() {
        let b = signed_in(&app, role).await;
        for j in 0..2 {
            let t = next(&app, &b).await.unwrap();
            let idx = if t["task_id"]
                == app
                    .get(&s.admin, &format!("/api/v1/campaigns/{cid}/tasks"))
                    .await
                    .json::<Vec<Value>>()
                    .await
                    .unwrap()[0]["id"]
            {
                0
            } else {
                1
            };
            let a = if idx == 0 { answers("present", "absent") } else { answers("absent", "present") };
            let res = submit(&app, &b, t["task_id"].as_str().unwrap(), submission(&format!("{i}-{j}"), a)).await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    }
    let rows: Vec<Value> = app.get(&s.admin, &format!("/api/v1/campaigns/{cid}/agreement")).await.json().await.unwrap();
    for r in rows {
        assert_eq!(r["alpha"], 1.0, "{r}");
    }
    // With k = 2 each agrees with the other on all four answers.
    let musician = signed_in(&app, "musician").await;
    let stats: Value = app.get(&musician, &format!("/api/v1/campaigns/{cid}/stats")).await.json().await.unwrap();
    assert_eq!((stats["agreement"].as_f64(), stats["done_total"].as_u64()), (Some(1.0), Some(2)), "{stats}");
}

#[tokio::test]
async fn fifty_concurrent_annotators_complete_a_campaign_exactly() {
    let app = TestApp::spawn_with(&[("TUTTI_AUDIO_JOBS", "2")]).await;
    let k = 3;
    let s = campaign_with_tasks(&app, 12, k).await;
    let cid = s.campaign["id"].as_str().unwrap().to_string();
    let mut clients = Vec::new();
    for i in 0..50 {
        clients.push(app.user_with_token(&format!("crowd{i}@example.org")).await);
    }
    let base = app.base.clone();
    let acknowledged = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<(Uuid, Uuid, Uuid)>::new()));
    let mut handles = Vec::new();
    for (i, token) in clients.into_iter().enumerate() {
        let (base, cid, acknowledged) = (base.clone(), cid.clone(), acknowledged.clone());
        handles.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut n = 0;
            while Instant::now() < deadline {
                let res = http.post(format!("{base}/api/v1/annotate/next")).bearer_auth(&token).send().await.unwrap();
                if res.status() == StatusCode::NO_CONTENT {
                    let c: Value = http
                        .get(format!("{base}/api/v1/campaigns/{cid}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    if c["tasks_complete"] == c["tasks_total"] {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
                let t: Value = res.json().await.unwrap();
                n += 1;
                let body = submission(&format!("{i}-{n}"), answers("present", "absent"));
                let res = http
                    .post(format!("{base}/api/v1/tasks/{}/annotations", t["task_id"].as_str().unwrap()))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                if res.status() == StatusCode::CREATED {
                    let r: Value = res.json().await.unwrap();
                    let me: Value = http
                        .get(format!("{base}/api/v1/me"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    acknowledged.lock().await.push((
                        r["annotation_id"].as_str().unwrap().parse().unwrap(),
                        r["task_id"].as_str().unwrap().parse().unwrap(),
                        me["id"].as_str().unwrap().parse().unwrap(),
                    ));
                } else {
                    assert_eq!(res.status(), StatusCode::CONFLICT, "{}", res.text().await.unwrap());
                }
            }
            panic!("annotator {i} ran out of time");
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let tasks = app::db::task::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(tasks.len(), 12);
    for t in &tasks {
        assert_eq!(t.annotations_count, k, "task {}", t.id);
        assert!(t.is_complete);
        let stored = app::db::annotation::Entity::find()
            .filter(app::db::annotation::Column::TaskId.eq(t.id))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(stored, k as u64);
    }
    let all = app::db::annotation::Entity::find().all(&app.db).await.unwrap();
    let pairs: HashSet<(Uuid, Uuid)> = all.iter().map(|a| (a.task_id, a.user_id)).collect();
    assert_eq!(pairs.len(), all.len(), "no one annotated a task twice");
    let acknowledged = acknowledged.lock().await;
    let stored: HashSet<Uuid> = all.iter().map(|a| a.id).collect();
    assert_eq!(acknowledged.len(), all.len());
    for (id, task, user) in acknowledged.iter() {
        assert!(stored.contains(id));
        assert!(all.iter().any(|a| a.id == *id && a.task_id == *task && a.user_id == *user));
    }
}

#[tokio::test]
async fn a_skipped_task_goes_to_someone_else() {
    let app = TestApp::spawn().await;
    let _s = campaign_with_tasks(&app, 1, 1).await;
    let a = signed_in(&app, "annotator").await;
    let b = signed_in(&app, "musician").await;
    let t = next(&app, &a).await.unwrap();
    let task = t["task_id"].as_str().unwrap();
    assert!(next(&app, &b).await.is_none(), "the only place is reserved for a");
    skip(&app, &a, task).await;
    let for_b = next(&app, &b).await.expect("the place a gave back");
    assert_eq!(for_b["task_id"], t["task_id"]);
    let res = submit(&app, &a, task, submission("a1", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("You skipped this clip"));
    let res = submit(&app, &b, task, submission("b1", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["submissions"], 1);
    assert!(next(&app, &a).await.is_none(), "complete");
}

#[tokio::test]
async fn gold_tasks_are_mixed_in_at_the_campaign_rate_and_leave_places_alone() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin").await;
    let source = upload(&app, &admin, "long.wav", tone_then_silence(8_000, 20.0, 0.0)).await;
    let c = new_campaign(
        &app,
        &admin,
        json!({"name": "Gold", "annotations_per_task": 1, "instruments": ["piano", "drums"], "gold_rate": 0.5}),
    )
    .await;
    let cid = c["id"].as_str().unwrap().to_string();
    let body = json!({"sources": {"kind": "audio", "ids": [source["id"]]}, "strategy": "even", "seed": 1});
    assert_eq!(build_and_wait(&app, &admin, &cid, body).await["clips_made"], 2);
    let tasks: Vec<Value> = app.get(&admin, &format!("/api/v1/campaigns/{cid}/tasks")).await.json().await.unwrap();
    let gold = tasks[1]["id"].as_str().unwrap().to_string();
    let res = admin
        .http
        .put(app.url(&format!("/api/v1/tasks/{gold}/gold")))
        .json(&json!({"answers": {"piano": true, "drums": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Half the fresh leases are swapped for the gold task; skip the normal one until it comes.
    let a = signed_in(&app, "annotator").await;
    let mut served_gold = false;
    for _ in 0..40 {
        let t = next(&app, &a).await.unwrap();
        let task = t["task_id"].as_str().unwrap();
        if task == gold {
            served_gold = true;
            break;
        }
        skip(&app, &a, task).await;
    }
    assert!(served_gold, "gold rate 0.5, yet 40 fresh leases were all normal");
    // Answering it moves no count and takes no place.
    let res = submit(&app, &a, &gold, submission("g", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // No gold left for a: the normal task, with its one place still free for a.
    let t = next(&app, &a).await.unwrap();
    assert_eq!(t["task_id"], tasks[0]["id"]);
    let res = submit(&app, &a, t["task_id"].as_str().unwrap(), submission("n", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["submissions"], 2);
    let rows: Vec<Value> = app.get(&admin, &format!("/api/v1/campaigns/{cid}/tasks")).await.json().await.unwrap();
    for r in rows {
        if r["id"].as_str().unwrap() == gold {
            assert_eq!((r["annotations"].as_i64(), r["complete"].as_bool()), (Some(0), Some(false)), "{r}");
        } else {
            assert_eq!((r["annotations"].as_i64(), r["complete"].as_bool()), (Some(1), Some(true)), "{r}");
        }
    }
    let stats: Value = app.get(&a, &format!("/api/v1/campaigns/{cid}/stats")).await.json().await.unwrap();
    assert_eq!(stats["gold_answers"], 2);
    assert_eq!(stats["gold_accuracy"], 1.0);
}

/// Requests arriving together are served together (one database call per batch on PostgreSQL):
/// a burst of annotators never gets more places than a task has, and an answer that makes its
/// whole batch fail (a client id used before, for another task) gets its own precise refusal
/// while the answers that travelled with it are stored, and keeps its lease.
#[tokio::test]
async fn bursts_never_over_promise_and_one_bad_answer_spoils_nothing() {
    let app = TestApp::spawn().await;
    let k = 4;
    let _s = campaign_with_tasks(&app, 2, k).await;
    let mut tokens = Vec::new();
    for i in 0..24 {
        tokens.push(app.user_with_token(&format!("burst{i}@example.org")).await);
    }
    let base = app.base.clone();
    let http = reqwest::Client::new();
    let grants = futures::future::join_all(tokens.iter().map(|token| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let res = http.post(format!("{base}/api/v1/annotate/next")).bearer_auth(token).send().await.unwrap();
            match res.status() {
                StatusCode::OK => Some(res.json::<Value>().await.unwrap()["task_id"].as_str().unwrap().to_string()),
                StatusCode::NO_CONTENT => None,
                s => panic!("next: {s}"),
            }
        }
    }))
    .await;
    let mut per_task: BTreeMap<String, usize> = BTreeMap::new();
    for t in grants.iter().flatten() {
        *per_task.entry(t.clone()).or_default() += 1;
    }
    assert_eq!(per_task.len(), 2, "{per_task:?}");
    assert!(per_task.values().all(|&n| n == k as usize), "every task promised exactly k times: {per_task:?}");
    assert_eq!(grants.iter().filter(|g| g.is_none()).count(), 24 - 2 * k as usize);

    // One holder answers its task with client id "same"; a holder of the other task skips it, so
    // the first takes that place; then everyone answers at once, the first reusing "same".
    let holders: Vec<(usize, String)> =
        grants.iter().enumerate().filter_map(|(i, g)| g.clone().map(|t| (i, t))).collect();
    let (first, first_task) = holders[0].clone();
    let (skipper, second_task) = holders.iter().find(|(_, t)| *t != first_task).cloned().unwrap();
    let (status, _) =
        submit_with_token(&http, &base, &tokens[first], &first_task, submission("same", answers("present", "absent")))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let res = http
        .delete(format!("{base}/api/v1/tasks/{second_task}/lease"))
        .bearer_auth(&tokens[skipper])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = http.post(format!("{base}/api/v1/annotate/next")).bearer_auth(&tokens[first]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["task_id"].as_str().unwrap(), second_task);
    let answering: Vec<(usize, String, String)> = holders
        .iter()
        .filter(|(i, _)| *i != first && *i != skipper)
        .map(|(i, t)| (*i, t.clone(), format!("ok-{i}")))
        .chain([(first, second_task.clone(), "same".to_string())])
        .collect();
    let results =
        futures::future::join_all(
            answering.iter().map(|(i, t, client)| {
                let (http, base, token) = (http.clone(), base.clone(), tokens[*i].clone());
                async move {
                    submit_with_token(&http, &base, &token, t, submission(client, answers("present", "absent"))).await
                }
            }),
        )
        .await;
    let (bad, good) = results.split_last().unwrap();
    assert!(good.iter().all(|(s, _)| *s == StatusCode::CREATED), "{good:?}");
    assert_eq!(bad.0, StatusCode::CONFLICT, "{}", bad.1);
    assert!(bad.1.contains("already used for another task"), "{}", bad.1);
    // Its lease is still there: a fresh client id is accepted, and that completes both tasks.
    let (status, body) = submit_with_token(
        &http,
        &base,
        &tokens[first],
        &second_task,
        submission("fresh", answers("present", "absent")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tasks = app::db::task::Entity::find().all(&app.db).await.unwrap();
    assert!(tasks.iter().all(|t| t.is_complete && t.annotations_count == k), "{tasks:?}");
    assert_eq!(app::db::annotation::Entity::find().count(&app.db).await.unwrap(), 2 * k as u64);
}

#[tokio::test]
async fn answers_that_finish_a_task_together_are_all_stored_and_counted_once() {
    let app = TestApp::spawn().await;
    let k = 8;
    let _s = campaign_with_tasks(&app, 1, k).await;
    let http = reqwest::Client::new();
    let base = app.base.clone();
    let mut holders = Vec::new();
    for i in 0..k {
        let token = app.user_with_token(&format!("together{i}@example.org")).await;
        let res = http.post(format!("{base}/api/v1/annotate/next")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let task = res.json::<Value>().await.unwrap()["task_id"].as_str().unwrap().to_string();
        holders.push((token, task));
    }
    // Everyone answers at once, so that answers to the one task meet in the same database call;
    // the first `present` answers make piano present on 5 of 8.
    let results = futures::future::join_all(holders.iter().enumerate().map(|(i, (token, task))| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let piano = if i < 5 { "present" } else { "absent" };
            submit_with_token(&http, &base, token, task, submission(&format!("t-{i}"), answers(piano, "absent"))).await
        }
    }))
    .await;
    assert!(results.iter().all(|(s, _)| *s == StatusCode::CREATED), "{results:?}");
    let tasks = app::db::task::Entity::find().all(&app.db).await.unwrap();
    assert!(tasks.iter().all(|t| t.is_complete && t.annotations_count == k), "{tasks:?}");
    assert_eq!(app::db::annotation::Entity::find().count(&app.db).await.unwrap(), k as u64);
    assert_eq!(app::db::lease::Entity::find().count(&app.db).await.unwrap(), 0);
    let labels = app::db::task_label::Entity::find().all(&app.db).await.unwrap();
    let piano = labels.iter().find(|l| l.instrument == "piano").expect("piano label");
    assert_eq!((piano.present, piano.absent, labels.len()), (5, 3, 2), "{labels:?}");
}

#[tokio::test]
async fn an_annotator_learns_nothing_of_a_clip_s_source_nor_of_closed_campaigns() {
    let app = TestApp::spawn().await;
    let s = campaign_with_tasks(&app, 1, 3).await;
    let cid = s.campaign["id"].as_str().unwrap();
    let annotator = signed_in(&app, "annotator").await;
    let a = next(&app, &annotator).await.expect("a task");
    let clip = a["clip_id"].as_str().unwrap();
    let seen: Value = app.get(&annotator, &format!("/api/v1/audio/{clip}")).await.json().await.unwrap();
    assert_eq!(seen["original_filename"], format!("clip-{clip}.wav"), "{seen}");
    assert!(seen["parent_id"].is_null() && seen["parent_offset_frames"].is_null(), "{seen}");
    assert_eq!(seen["owner_id"], Uuid::nil().to_string());
    let res = app.get(&annotator, &format!("/api/v1/audio/{clip}/original")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_string());
    assert!(!disposition.unwrap_or_default().contains("long"));
    // The admin who built it sees where it came from.
    let full: Value = app.get(&s.admin, &format!("/api/v1/audio/{clip}")).await.json().await.unwrap();
    assert!(full["parent_id"].is_string() && full["original_filename"].as_str().unwrap().contains("long"), "{full}");

    assert_eq!(app.get(&annotator, &format!("/api/v1/campaigns/{cid}/stats")).await.status(), StatusCode::OK);
    let res = s.admin.http.patch(app.url(&format!("/api/v1/campaigns/{cid}"))).json(&json!({"is_open": false}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    for path in [
        format!("/api/v1/campaigns/{cid}"),
        format!("/api/v1/campaigns/{cid}/stats"),
        format!("/api/v1/audio/{clip}"),
        format!("/api/v1/audio/{clip}/canonical"),
    ] {
        assert_eq!(app.get(&annotator, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(app.get(&s.admin, &path).await.status(), StatusCode::OK, "{path}");
    }
    // The lease is still held, but a closed campaign takes no more answers.
    let task = a["task_id"].as_str().unwrap();
    let res = submit(&app, &annotator, task, submission("after-close", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("closed"));
    assert_eq!(app::db::annotation::Entity::find().count(&app.db).await.unwrap(), 0);
    let long = "x".repeat(20_001);
    let res = s.admin.http.patch(app.url(&format!("/api/v1/campaigns/{cid}"))).json(&json!({"instructions": long}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn skip(app: &TestApp, b: &Browser, task: &str) {
    let res = b.http.delete(app.url(&format!("/api/v1/tasks/{task}/lease"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

async fn next_id(app: &TestApp, b: &Browser) -> Option<String> {
    next(app, b).await.map(|t| t["task_id"].as_str().unwrap().to_string())
}

/// A skip moves on: the skipped task is not served to the same annotator again while anything
/// else is left for them; then the skipped tasks come back.
#[tokio::test]
async fn skipping_moves_on_and_skipped_tasks_come_back_last() {
    let app = TestApp::spawn().await;
    let _s = campaign_with_tasks(&app, 3, 1).await;
    let a = signed_in(&app, "annotator").await;
    let first = next_id(&app, &a).await.unwrap();
    skip(&app, &a, &first).await;
    let second = next_id(&app, &a).await.unwrap();
    assert_ne!(second, first, "a skip moves on");
    skip(&app, &a, &second).await;
    let third = next_id(&app, &a).await.unwrap();
    assert!(third != first && third != second);
    let res = submit(&app, &a, &first, submission("late", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(message(res).await.contains("You skipped this clip"));
    let res = submit(&app, &a, &third, submission("third", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Only skipped tasks are left: they come back, and can be answered.
    let again = next_id(&app, &a).await.expect("a skipped task comes back when nothing else is left");
    assert!(again == first || again == second, "{again}");
    let res = submit(&app, &a, &again, submission("again", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let last = next_id(&app, &a).await.expect("the other skipped task");
    assert!(last != again && (last == first || last == second));
    let res = submit(&app, &a, &last, submission("last", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(next_id(&app, &a).await.is_none(), "all three answered");
    // A client id is counted in characters, not bytes.
    let res = submit(&app, &a, &last, submission(&"𝄞".repeat(100), answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "the length is fine; the clip was answered already");
    let res = submit(&app, &a, &last, submission(&"𝄞".repeat(101), answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A task answered as a normal task and made gold afterwards is not served to the same annotator
/// again; a gold request must say what the known answers are; stats count one campaign's work.
#[tokio::test]
async fn gold_is_never_served_to_someone_who_answered_it_and_must_say_its_answers() {
    let app = TestApp::spawn().await;
    let s = campaign_with_tasks(&app, 2, 2).await;
    let cid = s.campaign["id"].as_str().unwrap().to_string();
    let a = signed_in(&app, "annotator").await;
    let answered = next_id(&app, &a).await.unwrap();
    let res = submit(&app, &a, &answered, submission("n1", answers("present", "absent"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let gold_url = app.url(&format!("/api/v1/tasks/{answered}/gold"));
    let res = s.admin.http.put(&gold_url).json(&json!({"answers": {"piano": true}})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for (body, says) in [
        (json!({}), "\"answers\""),
        // A misspelt field is refused by name, with the one that was meant.
        (json!({"answer": null}), "`answer`, expected `answers`"),
        (json!({"answers": {}}), "at least one known answer"),
    ] {
        let res = s.admin.http.put(&gold_url).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message(res).await.contains(says), "{body}");
    }
    let t = app::db::task::Entity::find_by_id(answered.parse::<Uuid>().unwrap()).one(&app.db).await.unwrap().unwrap();
    assert!(t.is_gold, "refused changes change nothing");
    let res = s.admin.http.patch(app.url(&format!("/api/v1/campaigns/{cid}"))).json(&json!({"gold_rate": 0.5}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    for _ in 0..12 {
        let t = next_id(&app, &a).await.expect("the normal task");
        assert_ne!(t, answered, "the gold task was answered by this annotator already");
        skip(&app, &a, &t).await;
    }

    // Stats are per campaign: a second campaign's answer does not count here.
    let other = new_campaign(&app, &s.admin, json!({"name": "Other", "instruments": ["piano", "drums"]})).await;
    let source = upload(&app, &s.admin, "other.wav", tone_then_silence(8_000, 10.0, 0.0)).await;
    let body = json!({"sources": {"kind": "audio", "ids": [source["id"]]}, "strategy": "even", "seed": 1});
    build_and_wait(&app, &s.admin, other["id"].as_str().unwrap(), body).await;
    let mut done_elsewhere = false;
    for _ in 0..4 {
        let t = next(&app, &a).await.unwrap();
        if t["campaign_id"] == other["id"] {
            let res = submit(&app, &a, t["task_id"].as_str().unwrap(), submission("o1", answers("absent", "absent")));
            assert_eq!(res.await.status(), StatusCode::CREATED);
            done_elsewhere = true;
            break;
        }
        skip(&app, &a, t["task_id"].as_str().unwrap()).await;
    }
    assert!(done_elsewhere);
    let stats: Value = app.get(&a, &format!("/api/v1/campaigns/{cid}/stats")).await.json().await.unwrap();
    assert_eq!((stats["done_total"].as_u64(), stats["done_today"].as_u64()), (Some(1), Some(1)), "{stats}");

    // "Today" is the annotator's own day. The answer is moved to 23 hours ago: it is today only
    // where the local time is now between 23:00 and midnight.
    let now = chrono::Utc::now();
    use app::db::annotation;
    use chrono::Timelike;
    use sea_orm::ActiveModelTrait;
    let answer = annotation::Entity::find()
        .filter(annotation::Column::CampaignId.eq(Uuid::parse_str(&cid).unwrap()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut moved: annotation::ActiveModel = answer.into();
    moved.created_at = sea_orm::Set(now - chrono::Duration::hours(23));
    moved.update(&app.db).await.unwrap();
    let minutes = (now.time().num_seconds_from_midnight() / 60) as i32;
    // The offset that makes it 23:30 there now, and the one that makes it 22:30.
    let late = match (23 * 60 + 30 - minutes).rem_euclid(1440) {
        o if o >= 720 => o - 1440,
        o => o,
    };
    let today = |offset: i32| {
        let (app, a, cid) = (&app, &a, &cid);
        async move {
            let url = format!("/api/v1/campaigns/{cid}/stats?utc_offset_minutes={offset}");
            let stats: Value = app.get(a, &url).await.json().await.unwrap();
            stats["done_today"].as_u64()
        }
    };
    assert_eq!(today(late).await, Some(1), "at 23:30 local, an answer 23 hours old was made today");
    assert_eq!(today(late - 60).await, Some(0), "at 22:30 local, it was made yesterday");
    let res = app.get(&a, &format!("/api/v1/campaigns/{cid}/stats?utc_offset_minutes=5000")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("utc_offset_minutes must be between -840 and 840"));
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
