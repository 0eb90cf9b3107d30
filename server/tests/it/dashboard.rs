//! The admin dashboard's figures, checked against values computed by hand: answers and annotators
//! per day, task states, the time to completion, medians, the skip rate, agreement, the gold
//! accuracy histogram and who is far below the others, coverage and its goal, studio and upload
//! figures, the CSV of a chart; and who may read any of it (admins; 401 signed out, 403 others),
//! with bad filters refused (422). Where timing matters rows are dated directly in the database.
use chrono::{Datelike, Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clients::{Args, AudioClient, Call, CampaignClient, Person, ServerFn, StudioClient};
use crate::helpers::TestApp;

/// Take the next task of `campaign` and answer it; the task's id.
async fn answer(app: &TestApp, who: &Person, campaign: &str, piano: &str, listening: u64, submit: u64) -> String {
    let a = Call::rest(Method::POST, format!("/api/v1/annotate/next?campaign={campaign}"), json!({}))
        .send(app, &who.browser)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{} {}", who.name, a.excerpt());
    let task = a.json()["task_id"].as_str().unwrap().to_string();
    let body = json!({
        "client_id": format!("{}-{task}", who.name), "answers": {"piano": piano, "drums": "absent"},
        "play_count": 1, "listening_ms": listening, "time_to_submit_ms": submit,
    });
    let a = Call::rest(Method::POST, format!("/api/v1/tasks/{task}/annotations"), body).send(app, &who.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    task
}

async fn new_campaign(app: &TestApp, admin: &Person, name: &str, k: u32) -> String {
    let body = json!({"name": name, "annotations_per_task": k, "instruments": ["piano", "drums"]});
    let a = Call::rest(Method::POST, "/api/v1/campaigns", body).send(app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.excerpt());
    a.json()["id"].as_str().unwrap().to_string()
}

/// Move one answer `days` back in time.
async fn backdate(app: &TestApp, task: &str, who: &Person, days: i64) {
    let a = app::db::annotation::Entity::find()
        .filter(app::db::annotation::Column::TaskId.eq(Uuid::parse_str(task).unwrap()))
        .filter(app::db::annotation::Column::UserId.eq(Uuid::parse_str(who.id()).unwrap()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the answer");
    let mut m = a.into_active_model();
    m.created_at = Set(Utc::now() - Duration::days(days));
    m.update(&app.db).await.unwrap();
}

async fn get(app: &TestApp, who: &Person, path: &str) -> Value {
    let a = Call::get(path).send(app, &who.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.excerpt());
    a.json()
}

fn day(back: i64) -> String {
    (Utc::now().date_naive() - Duration::days(back)).to_string()
}

/// The values of the series named `name`, per category.
fn series(chart: &Value, name: &str) -> Vec<Value> {
    chart["series"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name}: {chart}"))
        ["values"]
        .as_array()
        .unwrap()
        .clone()
}

fn at(chart: &Value, name: &str, category: &str) -> Value {
    let i = chart["categories"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == category)
        .unwrap_or_else(|| panic!("{category}: {chart}"));
    series(chart, name)[i].clone()
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("a number, got {v}"));
    assert!((got - want).abs() < 1e-6, "{got} ≠ {want}");
}

struct Fixture {
    app: TestApp,
    admin: Person,
    first: Person,
    second: Person,
    third: Person,
    /// Four tasks, two answers each: two complete, one in progress, one made gold.
    main: String,
    /// Two tasks, never answered.
    idle: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let first = Person::demo(&app, "first", "annotator").await;
    let second = Person::demo(&app, "second", "musician").await;
    let third = Person::oauth(&app, "carol").await;
    let audio = AudioClient { app: &app, who: &admin };
    let campaigns = CampaignClient { app: &app, who: &admin };

    let main = new_campaign(&app, &admin, "Main", 2).await;
    let source = audio.upload("main.wav", 40.0, false).await;
    assert_eq!(campaigns.build(&main, &[&source]).await["clips_made"], 4);
    // Served most-answered first: the second annotator gets the first one's first two tasks.
    let t1 = answer(&app, &first, &main, "present", 9000, 12000).await;
    let t2 = answer(&app, &first, &main, "present", 4000, 6000).await;
    let started = answer(&app, &first, &main, "present", 7000, 20000).await;
    assert_eq!(answer(&app, &second, &main, "absent", 5000, 8000).await, t1);
    assert_eq!(answer(&app, &second, &main, "present", 11000, 10000).await, t2);
    backdate(&app, &started, &first, 3).await;
    backdate(&app, &t2, &second, 10).await;
    let all: Vec<String> = campaigns.tasks(&main).await.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    let gold_task = all.iter().find(|t| ![&t1, &t2, &started].contains(t)).unwrap().clone();
    let put = Call::rest(
        Method::PUT,
        format!("/api/v1/tasks/{gold_task}/gold"),
        json!({"answers": {"piano": true, "drums": false}}),
    );
    assert_eq!(put.send(&app, &admin.browser).await.status, StatusCode::NO_CONTENT);
    // Carol is served the started task and skips it.
    let a = Call::rest(Method::POST, format!("/api/v1/annotate/next?campaign={main}"), json!({}))
        .send(&app, &third.browser)
        .await;
    assert_eq!(a.json()["task_id"], started.as_str());
    let skip = Call::rest(Method::DELETE, format!("/api/v1/tasks/{started}/lease"), json!({}));
    let s = skip.send(&app, &third.browser).await;
    assert!(s.status.is_success(), "{}", s.excerpt());

    let idle = new_campaign(&app, &admin, "Idle", 2).await;
    let source = audio.upload("idle.wav", 20.0, false).await;
    assert_eq!(campaigns.build(&idle, &[&source]).await["clips_made"], 2);

    let gold = new_campaign(&app, &admin, "Gold", 3).await;
    let source = audio.upload("gold.wav", 60.0, false).await;
    assert_eq!(campaigns.build(&gold, &[&source]).await["clips_made"], 6);
    let tasks: Vec<Uuid> =
        campaigns.tasks(&gold).await.iter().map(|t| Uuid::parse_str(t["id"].as_str().unwrap()).unwrap()).collect();
    // Gold answers (2 instruments checked each): first 10/10, second 9/10, carol 4 answers only,
    // admin 2/10. In that order of first answer: A1, A2, A3, A4.
    let plan: [(&Person, &[i32]); 4] =
        [(&first, &[2, 2, 2, 2, 2]), (&second, &[2, 2, 2, 2, 1]), (&third, &[2, 2, 2, 2]), (&admin, &[1, 1, 0, 0, 0])];
    let base = (Utc::now().date_naive() - Duration::days(20)).and_hms_opt(12, 0, 0).unwrap().and_utc();
    for (p, (who, correct)) in plan.iter().enumerate() {
        for (i, c) in correct.iter().enumerate() {
            app::db::annotation::ActiveModel {
                id: Set(Uuid::new_v4()),
                task_id: Set(tasks[i]),
                user_id: Set(Uuid::parse_str(who.id()).unwrap()),
                campaign_id: Set(Uuid::parse_str(&gold).unwrap()),
                client_id: Set(format!("gold-{p}-{i}")),
                answers: Set("{}".into()),
                play_count: Set(1),
                listening_ms: Set(1000),
                time_to_submit_ms: Set(1000),
                is_gold: Set(true),
                gold_correct: Set(Some(*c)),
                gold_total: Set(Some(2)),
                created_at: Set(base + Duration::minutes((p * 10 + i) as i64)),
            }
            .insert(&app.db)
            .await
            .unwrap();
        }
    }
    Fixture { app, admin, first, second, third, main, idle }
}

#[tokio::test]
async fn annotation_quality_and_coverage_figures_match_the_answers() {
    let f = fixture().await;
    let (app, admin) = (&f.app, &f.admin);
    let main = f.main.as_str();

    // Annotation, in the main campaign over the default 30 days.
    let a = get(app, admin, &format!("/api/v1/stats/annotation?campaign={main}")).await;
    assert_eq!(a["range"]["from"], day(29));
    assert_eq!(a["range"]["to"], day(0));
    let per_day = &a["per_day"];
    assert_eq!(per_day["categories"].as_array().unwrap().len(), 30);
    assert_eq!(at(per_day, "Main", &day(0)), 3.0);
    assert_eq!(at(per_day, "Main", &day(3)), 1.0);
    assert_eq!(at(per_day, "Main", &day(10)), 1.0);
    assert_eq!(at(per_day, "Main", &day(1)), 0.0);
    let total: f64 = series(per_day, "Main").iter().map(|v| v.as_f64().unwrap()).sum();
    assert_eq!(total, 5.0);
    assert_eq!(a["answers"], 5);
    assert_eq!(at(&a["annotators"], "annotators", &day(0)), 2.0);
    assert_eq!(at(&a["annotators"], "annotators", &day(3)), 1.0);
    assert_eq!(at(&a["annotators"], "annotators", &day(10)), 1.0);
    let tasks = &a["tasks"];
    assert_eq!(tasks["categories"], json!(["Main"]));
    assert_eq!(
        (series(tasks, "complete"), series(tasks, "in progress"), series(tasks, "untouched")),
        (vec![json!(2.0)], vec![json!(1.0)], vec![json!(0.0)])
    );
    let eta = &a["eta"][0];
    assert_eq!((eta["remaining_answers"].as_i64(), eta["gold_tasks"].as_i64()), (Some(1), Some(1)));
    // Normal answers in the last 7 days: three today, one 3 days back → 4/7 a day; 1 left.
    close(&eta["answers_per_day"], 4.0 / 7.0);
    close(&eta["days"], 1.0 / (4.0 / 7.0));
    // Listening 9, 4, 7, 5, 11 s → 7 s; submit 12, 6, 20, 8, 10 s → 10 s.
    close(&a["median_listening_ms"], 7000.0);
    close(&a["median_submit_ms"], 10000.0);
    assert_eq!(a["skips"], 1);
    close(&a["skip_rate"], 1.0 / 6.0);

    // The last 6 days only: the answer 10 days back is out; medians of four (mean of the middle two).
    let a = get(app, admin, &format!("/api/v1/stats/annotation?campaign={main}&from={}&to={}", day(5), day(0))).await;
    assert_eq!(a["answers"], 4);
    close(&a["median_listening_ms"], 6000.0);
    close(&a["median_submit_ms"], 10000.0);
    close(&a["skip_rate"], 1.0 / 5.0);

    // Every campaign: Idle has no recent answers and all 2 × 2 answers to go.
    let a = get(app, admin, "/api/v1/stats/annotation").await;
    let idle = a["eta"].as_array().unwrap().iter().find(|e| e["campaign_id"] == f.idle.as_str()).unwrap();
    assert_eq!((idle["remaining_answers"].as_i64(), &idle["days"]), (Some(4), &Value::Null));
    assert_eq!(at(&a["per_day"], "Gold", &day(20)), 19.0);
    assert_eq!(at(&a["annotators"], "annotators", &day(20)), 4.0);
    assert_eq!(a["campaigns"].as_array().unwrap().len(), 3);

    // Quality. Piano in Main: units {present, absent} and {present, present} → alpha = 1 − 3·2/(3·1·2) = 0;
    // drums: everyone said absent, no variation → none.
    let q = get(app, admin, &format!("/api/v1/stats/quality?campaign={main}")).await;
    close(&at(&q["alpha"], "Main", "piano"), 0.0);
    assert_eq!(at(&q["alpha"], "Main", "drums"), Value::Null);
    // Gold accuracy (≥ 5 gold answers): 1.0 and 0.9 in the top tenth, 0.2 in the third; carol is out.
    let q = get(app, admin, "/api/v1/stats/quality").await;
    let bins = series(&q["gold_accuracy"], "annotators");
    let want: Vec<Value> = [0, 0, 1, 0, 0, 0, 0, 0, 0, 2].iter().map(|n| json!(*n as f64)).collect();
    assert_eq!(bins, want);
    // In Gold: values 1.0, 0.9, 0.2 → median 0.9, MAD 0.1, threshold min(0.7, 0.85): admin (A4) only.
    let outliers = q["outliers"].as_array().unwrap();
    assert_eq!(outliers.len(), 1, "{outliers:?}");
    let o = &outliers[0];
    assert_eq!(
        (&o["campaign"], &o["pseudonym"], &o["measure"]),
        (&json!("Gold"), &json!("A4"), &json!("gold accuracy"))
    );
    close(&o["value"], 0.2);
    close(&o["median"], 0.9);
    close(&o["threshold"], 0.7);
    let body = serde_json::to_string(&q).unwrap();
    for p in [&f.admin, &f.first, &f.second, &f.third] {
        assert!(!body.contains(p.id()), "a user id in the quality figures");
    }

    // Coverage of Main: complete tasks t1 (piano split → 0.5, drums absent twice → 0.16) and
    // t2 (piano present twice → 0.84, drums absent twice): piano 1 / 0 / 1, drums 0 / 2 / 0.
    let c = get(app, admin, &format!("/api/v1/stats/coverage?campaign={main}")).await;
    let inst = |name: &str| {
        c["campaigns"][0]["instruments"].as_array().unwrap().iter().find(|i| i["instrument"] == name).unwrap().clone()
    };
    assert_eq!(inst("piano"), json!({"instrument": "piano", "positive": 1, "negative": 0, "unknown": 1}));
    assert_eq!(inst("drums"), json!({"instrument": "drums", "positive": 0, "negative": 2, "unknown": 0}));
    assert_eq!(c["campaigns"][0]["goal"], Value::Null);
    let goal = |v: Value| Call::rest(Method::PUT, format!("/api/v1/stats/campaigns/{main}/goal"), json!({"goal": v}));
    let a = goal(json!(25)).send(app, &admin.browser).await;
    assert_eq!((a.status, a.json()), (StatusCode::OK, json!({"goal": 25})));
    let c = get(app, admin, &format!("/api/v1/stats/coverage?campaign={main}")).await;
    assert_eq!(c["campaigns"][0]["goal"], 25);
    assert_eq!(at(&c["chart"], "goal", "Main: piano"), 25.0);
    assert_eq!(goal(json!(0)).send(app, &admin.browser).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let by_fn = ServerFn::call(
        app,
        &admin.browser,
        "dashboard_set_goal",
        &Args::Json(json!({"campaign_id": main, "goal": null})),
    )
    .await;
    assert_eq!(by_fn.status, StatusCode::OK, "{}", by_fn.excerpt());
    let c = get(app, admin, &format!("/api/v1/stats/coverage?campaign={main}")).await;
    assert_eq!(c["campaigns"][0]["goal"], Value::Null);
    let missing =
        Call::rest(Method::PUT, format!("/api/v1/stats/campaigns/{}/goal", Uuid::new_v4()), json!({"goal": 3}));
    assert_eq!(missing.send(app, &admin.browser).await.status, StatusCode::NOT_FOUND);

    // A chart as CSV: its header and a row.
    let csv = Call::get(format!("/api/v1/stats/charts/annotations-per-day.csv?campaign={main}"))
        .send(app, &admin.browser)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "day,Main");
    assert_eq!(lines.len(), 31);
    assert_eq!(lines[30], format!("{},3", day(0)));
    assert!(lines.contains(&format!("{},1", day(3)).as_str()));
    let unknown = Call::get("/api/v1/stats/charts/nothing.csv").send(app, &admin.browser).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The server functions give the same figures.
    let by_fn = ServerFn::call(
        app,
        &admin.browser,
        "dashboard_annotation",
        &Args::Json(json!({"filters": {"campaign": main}})),
    )
    .await;
    assert_eq!(by_fn.status, StatusCode::OK, "{}", by_fn.excerpt());
    assert_eq!(by_fn.json()["answers"], 5);
}

#[tokio::test]
async fn studio_and_upload_figures_count_compositions_tracks_recordings_and_uploads() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let musician = Person::demo(&app, "musician", "musician").await;
    let audio = AudioClient { app: &app, who: &admin };
    audio.upload("a.wav", 30.0, false).await;
    audio.upload("b.wav", 60.0, false).await;
    // A take: uploaded, then stored as a recording.
    let take = AudioClient { app: &app, who: &musician }.upload("take.wav", 45.0, false).await;
    let row = app::db::audio::Entity::find_by_id(Uuid::parse_str(&take).unwrap()).one(&app.db).await.unwrap().unwrap();
    let mut m = row.into_active_model();
    m.kind = Set(app::domain::AudioKind::Recording);
    m.update(&app.db).await.unwrap();
    let other = AudioClient { app: &app, who: &musician }.upload("loop.wav", 15.0, false).await;
    let studio = StudioClient { app: &app, who: &musician };
    let song = studio.create_composition("Song", "private").await;
    studio.add_track(&song, &take, "Take", false).await;
    studio.add_track(&song, &other, "Loop", false).await;
    StudioClient { app: &app, who: &admin }.create_composition("Sketch", "private").await;

    let s = get(&app, &admin, "/api/v1/stats/studio").await;
    let week = {
        let w = Utc::now().date_naive().iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    };
    assert_eq!(s["weekly"]["categories"].as_array().unwrap().last().unwrap(), &json!(week));
    assert_eq!(at(&s["weekly"], "compositions created", &week), 2.0);
    assert_eq!(at(&s["weekly"], "tracks added", &week), 2.0);
    close(&at(&s["weekly"], "minutes recorded", &week), 0.75);
    assert_eq!(s["instruments"]["categories"], json!(["piano"]));
    assert_eq!(series(&s["instruments"], "tracks"), vec![json!(2.0)]);
    assert_eq!(s["active_musicians"], 1);
    // Uploads: a, b and loop (the take is a recording): 105 s.
    assert_eq!(at(&s["uploads"], "files", &week), 3.0);
    close(&at(&s["uploads"], "hours", &week), 105.0 / 3600.0);
    let stored: i64 = app::db::audio::Entity::find().all(&app.db).await.unwrap().iter().map(|a| a.original_bytes).sum();
    assert!(stored > 0);
    assert_eq!(s["storage_bytes"], stored);
    let csv = Call::get("/api/v1/stats/charts/uploads-weekly.csv").send(&app, &admin.browser).await;
    assert_eq!(csv.body.lines().next(), Some("week,files,hours"));
    // A date with a line break or tab around it is accepted trimmed, and the file name stays a
    // valid header (it once made the answer a 500).
    let odd = Call::get("/api/v1/stats/charts/uploads-weekly.csv?from=%0A2026-12-01&to=2026-12-07%09")
        .send(&app, &admin.browser)
        .await;
    assert_eq!(odd.status, 200, "{}", odd.excerpt());
    let name = odd.headers["content-disposition"].to_str().unwrap();
    assert_eq!(name, "attachment; filename=\"uploads-weekly-2026-12-01-2026-12-07.csv\"");
    assert!(csv.body.contains(&format!("{week},3,0.0292")), "{}", csv.body);
}

#[tokio::test]
async fn only_admins_read_the_dashboard_and_bad_filters_are_refused() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let member = Person::demo(&app, "member", "annotator").await;
    let nobody = Person::anonymous();
    let campaign = CampaignClient { app: &app, who: &admin }.create("Any").await;
    let filters = json!({"filters": {}});
    let surfaces = [
        Call::page("/dashboard"),
        Call::page(format!("/dashboard?from={}", day(10))),
        Call::Fn { name: "dashboard_init", args: Args::Form(vec![]) },
        Call::Fn { name: "dashboard_figures", args: Args::Json(filters.clone()) },
        Call::Fn { name: "dashboard_annotation", args: Args::Json(filters.clone()) },
        Call::Fn { name: "dashboard_quality", args: Args::Json(filters.clone()) },
        Call::Fn { name: "dashboard_coverage", args: Args::Json(filters.clone()) },
        Call::Fn { name: "dashboard_studio", args: Args::Json(filters.clone()) },
        Call::Fn { name: "dashboard_set_goal", args: Args::Json(json!({"campaign_id": campaign, "goal": 3})) },
        Call::get("/api/v1/stats/annotation"),
        Call::get("/api/v1/stats/quality"),
        Call::get("/api/v1/stats/coverage"),
        Call::get("/api/v1/stats/studio"),
        Call::get("/api/v1/stats/charts/annotations-per-day.csv"),
        Call::get("/api/v1/stats/charts/coverage.csv"),
        Call::rest(Method::PUT, format!("/api/v1/stats/campaigns/{campaign}/goal"), json!({"goal": 3})),
    ];
    for call in &surfaces {
        assert_eq!(call.send(&app, &nobody.browser).await.status, StatusCode::UNAUTHORIZED, "{call:?} signed out");
        assert_eq!(call.send(&app, &member.browser).await.status, StatusCode::FORBIDDEN, "{call:?} as a member");
        let a = call.send(&app, &admin.browser).await;
        assert_eq!(a.status, StatusCode::OK, "{call:?} as an admin: {}", a.excerpt());
    }
    let page = Call::page("/dashboard").send(&app, &admin.browser).await;
    assert!(page.body.contains("<svg"), "charts on the page");
    assert!(page.body.contains("Download CSV"));

    let year_ago = day(400);
    for (query, says) in [
        ("from=2026-13-01", "YYYY-MM-DD"),
        ("to=yesterday", "YYYY-MM-DD"),
        (&format!("from={}&to={}", day(0), day(1)) as &str, "after it ends"),
        (&format!("from={year_ago}&to={}", day(0)) as &str, "at most 366 days"),
        ("campaign=not-an-id", "campaign id"),
    ] {
        for path in [format!("/api/v1/stats/annotation?{query}"), format!("/api/v1/stats/charts/coverage.csv?{query}")]
        {
            let a = Call::get(&path).send(&app, &admin.browser).await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
            assert!(a.body.contains(says), "{path}: {}", a.body);
        }
    }
    let a = Call::page(format!("/dashboard?from={}&to={}", day(0), day(1))).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = json!({"filters": {"from": day(0), "to": day(1)}});
    let a = ServerFn::call(&app, &admin.browser, "dashboard_quality", &Args::Json(bad)).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.excerpt());
    // 366 days is the longest range answered.
    let a = Call::get(format!("/api/v1/stats/studio?from={}&to={}", day(365), day(0))).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.excerpt());
    let a = Call::get(format!("/api/v1/stats/annotation?campaign={}", Uuid::new_v4())).send(&app, &admin.browser).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}
