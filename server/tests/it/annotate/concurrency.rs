//! Many annotators at once: never over-promised, every answer counted once.
use super::common::*;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

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
