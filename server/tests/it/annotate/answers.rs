//! Submissions and consensus: precise refusals, gold tasks, agreement.
use super::common::*;
use crate::helpers::{Browser, TestApp};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

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
