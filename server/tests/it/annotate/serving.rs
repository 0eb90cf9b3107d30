//! Serving under leases: the same task after a reload, expiry, skips, privacy of sources.
use super::common::*;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

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
