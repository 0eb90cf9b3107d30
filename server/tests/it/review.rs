//! The admin's review of a campaign's answers: pseudonyms that stay put and name nobody, each
//! filter and sort done by the database, paging, and who may read it.
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::clients::{Args, AudioClient, Call, CampaignClient, Person, ServerFn};
use crate::helpers::TestApp;

async fn next(app: &TestApp, who: &Person) -> Value {
    let a = Call::rest(Method::POST, "/api/v1/annotate/next", json!({})).send(app, &who.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{} {}", who.name, a.excerpt());
    a.json()
}

/// Take the next task and answer it; the task's id.
async fn answer(app: &TestApp, who: &Person, piano: &str, drums: &str) -> String {
    let task = next(app, who).await["task_id"].as_str().unwrap().to_string();
    let body = json!({
        "client_id": format!("{}-{task}", who.name), "answers": {"piano": piano, "drums": drums},
        "play_count": 1, "listening_ms": 9000, "time_to_submit_ms": 12000,
    });
    let a = Call::rest(Method::POST, format!("/api/v1/tasks/{task}/annotations"), body).send(app, &who.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    task
}

async fn review(app: &TestApp, who: &Person, campaign: &str, query: &str) -> Value {
    let a = Call::get(format!("/api/v1/campaigns/{campaign}/review?{query}")).send(app, &who.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{query}: {}", a.excerpt());
    a.json()
}

fn ids(page: &Value) -> Vec<String> {
    page["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The task's answers as (pseudonym, piano, drums).
fn answers_of(page: &Value, task: &str) -> Vec<(String, String, String)> {
    let t = page["tasks"].as_array().unwrap().iter().find(|t| t["id"] == task).expect("the task on the page");
    t["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |k: &str| a["answers"][k].as_str().unwrap().to_string();
            (a["annotator"].as_str().unwrap().to_string(), s("piano"), s("drums"))
        })
        .collect()
}

struct Fixture {
    app: TestApp,
    admin: Person,
    first: Person,
    second: Person,
    campaign: String,
    /// Complete, annotators split on piano.
    split: String,
    /// Complete, unanimous.
    agreed: String,
    /// One answer of two.
    started: String,
    /// No answers; made gold.
    gold: String,
}

/// Four ten-second tasks, two answers each. Tasks are served most-answered first, so the second
/// annotator gets the first annotator's first two tasks.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let first = Person::demo(&app, "first", "annotator").await;
    let second = Person::demo(&app, "second", "musician").await;
    let source = AudioClient { app: &app, who: &admin }.upload("review.wav", 40.0, false).await;
    let campaigns = CampaignClient { app: &app, who: &admin };
    let body = json!({"name": "Review", "annotations_per_task": 2, "instruments": ["piano", "drums"]});
    let a = Call::rest(Method::POST, "/api/v1/campaigns", body).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    let campaign = a.json()["id"].as_str().unwrap().to_string();
    assert_eq!(campaigns.build(&campaign, &[&source]).await["clips_made"], 4);
    let split = answer(&app, &first, "present", "absent").await;
    let agreed = answer(&app, &first, "present", "absent").await;
    let started = answer(&app, &first, "present", "absent").await;
    assert_eq!(answer(&app, &second, "absent", "absent").await, split);
    assert_eq!(answer(&app, &second, "present", "absent").await, agreed);
    let all: Vec<String> =
        campaigns.tasks(&campaign).await.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    let gold = all.into_iter().find(|t| ![&split, &agreed, &started].contains(&t)).unwrap();
    let put = Call::rest(
        Method::PUT,
        format!("/api/v1/tasks/{gold}/gold"),
        json!({"answers": {"piano": true, "drums": false}}),
    );
    assert_eq!(put.send(&app, &admin.browser).await.status, StatusCode::NO_CONTENT);
    Fixture { app, admin, first, second, campaign, split, agreed, started, gold }
}

#[tokio::test]
async fn answers_are_shown_under_stable_pseudonyms_that_name_nobody() {
    let f = fixture().await;
    let (app, c) = (&f.app, f.campaign.as_str());
    let page = review(app, &f.admin, c, "").await;
    assert_eq!(page["total"], 4);
    for offset in ["100001", "9223372036854775808"] {
        let far = Call::get(format!("/api/v1/campaigns/{c}/review?offset={offset}")).send(app, &f.admin.browser).await;
        assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{offset}: {}", far.excerpt());
    }
    assert_eq!(page["annotators"], json!(["A1", "A2"]));
    let p = |s: &str| s.to_string();
    assert_eq!(
        answers_of(&page, &f.split),
        [(p("A1"), p("present"), p("absent")), (p("A2"), p("absent"), p("absent"))]
    );
    assert_eq!(answers_of(&page, &f.started), [(p("A1"), p("present"), p("absent"))]);
    let split = page["tasks"].as_array().unwrap().iter().find(|t| t["id"] == f.split.as_str()).unwrap();
    assert_eq!(split["disputed"], true);
    assert_eq!(split["agreement"], 0.5);
    let piano = split["consensus"].as_array().unwrap().iter().find(|l| l["instrument"] == "piano").unwrap();
    assert_eq!(
        (piano["present"].as_i64(), piano["absent"].as_i64(), &piano["label"]),
        (Some(1), Some(1), &Value::Null)
    );

    // A third annotator, who signed in by OAuth, answers last: A1 and A2 keep their names.
    let third = Person::oauth(app, "carol").await;
    assert_eq!(answer(app, &third, "unsure", "absent").await, f.started);
    let later = review(app, &f.admin, c, "").await;
    assert_eq!(later["annotators"], json!(["A1", "A2", "A3"]));
    assert_eq!(answers_of(&later, &f.split), answers_of(&page, &f.split));
    assert_eq!(answers_of(&later, &f.started)[1], (p("A3"), p("unsure"), p("absent")));

    // Nothing names the annotators: no user id, e-mail address or name, on REST or the server function.
    let by_fn = ServerFn::call(
        app,
        &f.admin.browser,
        "campaign_review",
        &Args::Json(json!({
            "campaign_id": c, "query": {},
        })),
    )
    .await;
    assert_eq!(by_fn.status, StatusCode::OK, "{}", by_fn.excerpt());
    assert_eq!(by_fn.json()["annotators"], later["annotators"]);
    let text = format!("{later}{}", by_fn.body).to_lowercase();
    for who in [&f.first, &f.second, &third] {
        let me = app.me(&who.browser).await.unwrap();
        for secret in [who.id(), me["email"].as_str().unwrap(), me["display_name"].as_str().unwrap_or("carol")] {
            assert!(!text.contains(&secret.to_lowercase()), "{secret} is in the review");
        }
    }
    assert!(!text.contains("@"), "an e-mail address is in the review");
}

#[tokio::test]
async fn each_filter_and_sort_is_answered_by_the_database_with_paging() {
    let f = fixture().await;
    let (app, c) = (&f.app, f.campaign.as_str());
    let get = |q: &'static str| review(app, &f.admin, c, q);
    assert_eq!(sorted(ids(&get("filter=complete").await)), sorted(vec![f.split.clone(), f.agreed.clone()]));
    assert_eq!(ids(&get("filter=in_progress").await), vec![f.started.clone()]);
    assert_eq!(ids(&get("filter=disputed").await), vec![f.split.clone()]);
    // Two newcomers agreeing make a trust-weighted consensus of about 0.85: disputed only when
    // more is asked.
    let strict = sorted(ids(&get("filter=disputed&min_confidence=0.9").await));
    assert_eq!(strict, sorted(vec![f.split.clone(), f.agreed.clone()]));
    assert_eq!(ids(&get("filter=gold").await), vec![f.gold.clone()]);
    let low = get("filter=low_agreement").await;
    assert_eq!((ids(&low), low["total"].as_u64()), (vec![f.split.clone()], Some(1)));
    // The split is 50%: not below a minimum of 0.5.
    assert_eq!(get("filter=low_agreement&min_agreement=0.5").await["total"], 0);

    // All, in source and time order; paging keeps that order.
    let all = ids(&get("").await);
    assert_eq!(all.len(), 4);
    let second = get("limit=1&offset=1").await;
    assert_eq!((ids(&second), second["total"].as_u64()), (vec![all[1].clone()], Some(4)));
    let by_answers = get("sort=answers").await;
    let counts: Vec<i64> =
        by_answers["tasks"].as_array().unwrap().iter().map(|t| t["annotations"].as_i64().unwrap()).collect();
    assert_eq!(counts, [2, 2, 1, 0]);
    // Lowest agreement first; tasks without a consensus yet last, in source order.
    let by_agreement = ids(&get("sort=agreement").await);
    assert_eq!(by_agreement[..2], [f.split.clone(), f.agreed.clone()]);
    let rest: Vec<String> = all.iter().filter(|t| **t == f.started || **t == f.gold).cloned().collect();
    assert_eq!(by_agreement[2..], rest[..]);
    let filtered_sorted = get("filter=complete&sort=agreement&limit=1").await;
    assert_eq!((ids(&filtered_sorted), filtered_sorted["total"].as_u64()), (vec![f.split.clone()], Some(2)));

    // Refusals name what is wrong.
    for (q, status) in [
        ("filter=bogus", StatusCode::BAD_REQUEST),
        ("min_confidence=0.2", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("color=red", StatusCode::BAD_REQUEST),
    ] {
        let a = Call::get(format!("/api/v1/campaigns/{c}/review?{q}")).send(app, &f.admin.browser).await;
        assert_eq!(a.status, status, "{q}: {}", a.excerpt());
    }
}

#[tokio::test]
async fn only_admins_read_the_review() {
    let f = fixture().await;
    let (app, c) = (&f.app, f.campaign.as_str());
    let missing = uuid::Uuid::new_v4().to_string();
    let anonymous = Person::anonymous();
    for (who, status) in
        [(&anonymous, StatusCode::UNAUTHORIZED), (&f.first, StatusCode::FORBIDDEN), (&f.second, StatusCode::FORBIDDEN)]
    {
        for id in [c, missing.as_str()] {
            let a = Call::get(format!("/api/v1/campaigns/{id}/review")).send(app, &who.browser).await;
            assert_eq!(a.status, status, "{} on {id}: {}", who.name, a.excerpt());
            let a = ServerFn::call(
                app,
                &who.browser,
                "campaign_review",
                &Args::Json(json!({"campaign_id": id, "query": {}})),
            )
            .await;
            assert_eq!(a.status, status, "{} (server fn) on {id}: {}", who.name, a.excerpt());
            assert!(!a.body.contains("present"), "{}", a.excerpt());
        }
    }
    let a = Call::get(format!("/api/v1/campaigns/{missing}/review")).send(app, &f.admin.browser).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // A closed campaign is still the admins' to review.
    CampaignClient { app, who: &f.admin }.set_open(c, false).await;
    assert_eq!(review(app, &f.admin, c, "filter=disputed").await["total"], 1);
}
