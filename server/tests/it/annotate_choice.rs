//! Choosing a campaign, progress, instrument help and the minimum listening share.
use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::clients::{AnnotateClient, Args, AudioClient, Call, CampaignClient, InstrumentClient, Person, ServerFn};
use crate::helpers::TestApp;

/// Two open campaigns, "Alpha" and "Beta", each of `clips` ten-second tasks needing `k` answers.
async fn two_campaigns(app: &TestApp, admin: &Person, clips: usize, k: i32) -> (String, String) {
    let audio = AudioClient { app, who: admin };
    let campaigns = CampaignClient { app, who: admin };
    let mut ids = Vec::new();
    for (name, extra) in [("Alpha", 0.0), ("Beta", 0.5)] {
        let source = audio.upload(&format!("{name}.wav"), clips as f64 * 10.0 + extra, false).await;
        let body = json!({"name": name, "instruments": ["piano", "drums"], "annotations_per_task": k});
        let a = Call::rest(Method::POST, "/api/v1/campaigns", body).send(app, &admin.browser).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
        let id = a.json()["id"].as_str().unwrap().to_string();
        let job = campaigns.build(&id, &[&source]).await;
        assert_eq!(job["clips_made"], clips as i64, "{job}");
        ids.push(id);
    }
    (ids[0].clone(), ids[1].clone())
}

async fn task_ids(app: &TestApp, admin: &Person, campaign: &str) -> BTreeSet<String> {
    let tasks = CampaignClient { app, who: admin }.tasks(campaign).await;
    tasks.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
}

fn task_of(a: &Value) -> String {
    a["task_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_chosen_campaign_serves_only_its_clips_and_any_serves_both() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    // Two answers a task: both annotators may answer every clip.
    let (alpha, beta) = two_campaigns(&app, &admin, 2, 2).await;
    let (alpha_tasks, beta_tasks) = (task_ids(&app, &admin, &alpha).await, task_ids(&app, &admin, &beta).await);

    let ann = Person::demo(&app, "annotator", "annotator").await;
    let annotate = AnnotateClient { app: &app, who: &ann };
    let mut answered = BTreeSet::new();
    while let Some(a) = annotate.next_from(&alpha).await {
        assert_eq!(a["campaign_id"], alpha.as_str(), "{a}");
        assert!(alpha_tasks.contains(&task_of(&a)));
        let r = annotate.answer(&task_of(&a), &format!("alpha-{}", answered.len()), 10_000).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.excerpt());
        answered.insert(task_of(&a));
        assert!(answered.len() <= 2, "served more than Alpha has");
    }
    assert_eq!(answered, alpha_tasks, "all of Alpha, then nothing, though Beta has clips");

    // Any campaign: a second annotator gets clips of both.
    let mus = Person::demo(&app, "musician", "musician").await;
    let any = AnnotateClient { app: &app, who: &mus };
    let mut campaigns = BTreeSet::new();
    let mut n = 0;
    while let Some(a) = any.next().await {
        campaigns.insert(a["campaign_id"].as_str().unwrap().to_string());
        assert!(alpha_tasks.contains(&task_of(&a)) || beta_tasks.contains(&task_of(&a)));
        let r = any.answer(&task_of(&a), &format!("any-{n}"), 10_000).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.excerpt());
        n += 1;
        assert!(n <= 4);
    }
    assert_eq!(campaigns, BTreeSet::from([alpha.clone(), beta.clone()]));
    // The server function takes the choice too.
    let a = ServerFn::call(&app, &admin.browser, "next_task", &ServerFn::form(&[("campaign", &beta)])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
}

#[tokio::test]
async fn a_lease_held_in_another_campaign_is_not_served_and_stays_live() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let (alpha, beta) = two_campaigns(&app, &admin, 2, 1).await;
    let ann = Person::demo(&app, "annotator", "annotator").await;
    let annotate = AnnotateClient { app: &app, who: &ann };

    let held = annotate.next().await.expect("a clip from any campaign");
    let held_campaign = held["campaign_id"].as_str().unwrap().to_string();
    let other = if held_campaign == alpha { beta.clone() } else { alpha.clone() };
    let there = annotate.next_from(&other).await.expect("a clip of the chosen campaign");
    assert_eq!(there["campaign_id"], other.as_str(), "the held lease of the other campaign is not served");
    assert_ne!(task_of(&there), task_of(&held));
    // Back in the first campaign: the same clip, still held; answering it works.
    let back = annotate.next_from(&held_campaign).await.unwrap();
    assert_eq!(task_of(&back), task_of(&held));
    let r = annotate.answer(&task_of(&held), "held-1", 10_000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.excerpt());
    let r = annotate.answer(&task_of(&there), "there-1", 10_000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.excerpt());
}

#[tokio::test]
async fn unknown_and_closed_campaigns_are_refused_with_their_reason() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let (alpha, beta) = two_campaigns(&app, &admin, 2, 1).await;
    let ann = Person::demo(&app, "annotator", "annotator").await;
    let annotate = AnnotateClient { app: &app, who: &ann };

    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(annotate.next_in(&unknown).await.status, StatusCode::NOT_FOUND);
    let a = annotate.next_in("not-a-campaign").await;
    assert!(a.status.is_client_error() && a.status != StatusCode::NOT_FOUND, "{} {}", a.status, a.excerpt());
    let a = ServerFn::call(&app, &ann.browser, "next_task", &ServerFn::form(&[("campaign", &unknown)])).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.excerpt());

    // The annotator works in Alpha; then it closes.
    let t = annotate.next_from(&alpha).await.unwrap();
    assert_eq!(annotate.answer(&task_of(&t), "a-1", 10_000).await.status, StatusCode::CREATED);
    CampaignClient { app: &app, who: &admin }.set_open(&alpha, false).await;
    let a = annotate.next_in(&alpha).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.excerpt());
    assert!(a.json()["message"].as_str().unwrap().contains("campaign is closed"), "{}", a.body);
    // Someone who never worked in it learns nothing of it; an admin is told it is closed.
    let mus = Person::demo(&app, "musician", "musician").await;
    assert_eq!(AnnotateClient { app: &app, who: &mus }.next_in(&alpha).await.status, StatusCode::NOT_FOUND);
    assert_eq!(AnnotateClient { app: &app, who: &admin }.next_in(&alpha).await.status, StatusCode::CONFLICT);
    // Never a clip from elsewhere; "any" goes on with Beta.
    assert_eq!(annotate.next().await.unwrap()["campaign_id"], beta.as_str());
}

#[tokio::test]
async fn the_progress_line_counts_the_annotator_and_the_campaign() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let (alpha, _beta) = two_campaigns(&app, &admin, 3, 1).await;
    let ann = Person::demo(&app, "annotator", "annotator").await;
    let annotate = AnnotateClient { app: &app, who: &ann };

    let first = annotate.next_from(&alpha).await.unwrap();
    assert_eq!(first["progress"], json!({"answered": 0, "tasks_complete": 0, "tasks_total": 3}));
    let r = annotate.answer(&task_of(&first), "p-1", 10_000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.excerpt());
    assert_eq!(r.json()["progress"], json!({"answered": 1, "tasks_complete": 1, "tasks_total": 3}));
    let second = annotate.next_from(&alpha).await.unwrap();
    assert_eq!(second["progress"], json!({"answered": 1, "tasks_complete": 1, "tasks_total": 3}));
    let r = annotate.answer(&task_of(&second), "p-2", 10_000).await;
    assert_eq!(r.json()["progress"], json!({"answered": 2, "tasks_complete": 2, "tasks_total": 3}));
    // A retry is answered the same.
    let again = annotate.answer(&task_of(&second), "p-2", 10_000).await;
    assert_eq!(again.json()["progress"]["answered"], 2);
    // The chooser's list says the same of the campaign.
    let list = ServerFn::call(&app, &ann.browser, "open_campaigns", &ServerFn::form(&[])).await;
    let alpha_row = list.json().as_array().unwrap().iter().find(|c| c["id"] == alpha.as_str()).cloned().unwrap();
    assert_eq!((alpha_row["tasks_complete"].as_u64(), alpha_row["tasks_total"].as_u64()), (Some(2), Some(3)));
}

#[tokio::test]
async fn a_minimum_listening_share_is_enforced_by_the_server() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let (alpha, _beta) = two_campaigns(&app, &admin, 2, 1).await;
    let campaigns = CampaignClient { app: &app, who: &admin };
    for bad in [json!(1.5), json!(-0.1)] {
        let a = campaigns.patch(&alpha, json!({"min_listen_share": bad})).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", a.excerpt());
        assert!(a.json()["message"].as_str().unwrap().contains("minimum listening share"), "{}", a.body);
    }
    let a = ServerFn::call(
        &app,
        &admin.browser,
        "update_campaign",
        &Args::Json(json!({"campaign_id": alpha, "changes": {"min_listen_share": 2.0}})),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    let a = campaigns.patch(&alpha, json!({"min_listen_share": 0.5})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    assert_eq!(a.json()["min_listen_share"], 0.5);

    let ann = Person::demo(&app, "annotator", "annotator").await;
    let annotate = AnnotateClient { app: &app, who: &ann };
    let t = annotate.next_from(&alpha).await.unwrap();
    assert_eq!(t["min_listen_share"], 0.5);
    // Ten-second clips: at least 5 s must be heard.
    let r = annotate.answer(&task_of(&t), "short", 4_999).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.excerpt());
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("Listen to at least 50% of the clip"), "{message}");
    let r = annotate.answer(&task_of(&t), "enough", 5_000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.excerpt());
    // Off again: a short listen is taken.
    assert_eq!(campaigns.patch(&alpha, json!({"min_listen_share": 0})).await.status, StatusCode::OK);
    let t = annotate.next_from(&alpha).await.unwrap();
    assert_eq!(annotate.answer(&task_of(&t), "quick", 100).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn instrument_help_is_validated_public_and_for_admins_to_change() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let ann = Person::demo(&app, "annotator", "annotator").await;
    let as_admin = InstrumentClient { app: &app, who: &admin };
    let as_ann = InstrumentClient { app: &app, who: &ann };

    // Only admins change help (REST and server function).
    let body = json!({"description": "Struck strings, from a keyboard."});
    assert_eq!(as_ann.set_help("piano", body.clone()).await.status, StatusCode::FORBIDDEN);
    let a = ServerFn::call(
        &app,
        &ann.browser,
        "set_instrument_help",
        &Args::Json(json!({"slug": "piano", "change": body})),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.excerpt());
    assert_eq!(as_admin.set_help("no-such-instrument", body.clone()).await.status, StatusCode::NOT_FOUND);
    // At most 280 characters.
    let a = as_admin.set_help("piano", json!({"description": "x".repeat(281)})).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    assert!(a.json()["message"].as_str().unwrap().contains("280 characters"), "{}", a.body);
    let a = as_admin.set_help("piano", body.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    assert_eq!(as_ann.help_of("piano").await["description"], "Struck strings, from a keyboard.");

    // The example must be public audio.
    let audio = AudioClient { app: &app, who: &admin };
    let private = audio.upload("private-piano.wav", 3.0, false).await;
    let a = as_admin.set_help("piano", json!({"description": "Keys.", "example_audio_id": private})).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    assert!(a.json()["message"].as_str().unwrap().contains("public"), "{}", a.body);
    let a = as_admin.set_help("piano", json!({"example_audio_id": uuid::Uuid::new_v4()})).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    let public = audio.upload("public-piano.wav", 3.5, true).await;
    let a = as_admin.set_help("piano", json!({"description": "Keys.", "example_audio_id": public})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    assert_eq!(as_ann.help_of("piano").await["example_audio_id"], public.as_str());
    assert_eq!(AudioClient { app: &app, who: &ann }.canonical(&public).await.status, StatusCode::OK);

    // Made private later: the example disappears for others, not for its owner.
    let a = Call::rest(Method::PATCH, format!("/api/v1/audio/{public}"), json!({"public": false}))
        .send(&app, &admin.browser)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    assert_eq!(as_ann.help_of("piano").await["example_audio_id"], Value::Null);
    assert_eq!(as_admin.help_of("piano").await["example_audio_id"], public.as_str());
    // Deleted: gone for everyone (the column empties itself).
    let a = Call::rest(Method::DELETE, format!("/api/v1/audio/{public}"), json!({})).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.excerpt());
    assert_eq!(as_admin.help_of("piano").await["example_audio_id"], Value::Null);
    assert_eq!(as_admin.help_of("piano").await["description"], "Keys.");
}
