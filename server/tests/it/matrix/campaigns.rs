//! The authorization matrix for campaigns: open and closed, their tasks, clips and builds.

use reqwest::Method;
use serde_json::json;

use crate::clients::{AnnotateClient, AudioClient, Call, CampaignClient, Person};
use crate::helpers::TestApp;

use super::{MISSING, Table, Thing, tag};

/// Who and what the campaign matrix is about: a closed campaign whose one task the annotator
/// leased before it closed, and an open one.
struct Campaigns {
    anonymous: Person,
    stranger: Person,
    annotator: Person,
    admin: Person,
    closed: Thing,
    open: Thing,
    /// The clip of the closed campaign's task, its task and its build job.
    clip: Thing,
    task: String,
    build: String,
}

async fn campaigns(app: &TestApp) -> Campaigns {
    let anonymous = Person::anonymous();
    let stranger = Person::oauth(app, "stranger").await;
    let annotator = Person::demo(app, "annotator", "annotator").await;
    let admin = Person::demo(app, "admin", "admin").await;
    let t = tag();
    let campaigns = CampaignClient { app, who: &admin };
    let sources = AudioClient { app, who: &admin };
    let closed_name = format!("Secret closed campaign {t}");
    let closed = campaigns.create(&closed_name).await;
    let closed_source = format!("secret-closed-source-{t}");
    let source = sources.upload(&format!("{closed_source}.wav"), 10.0, false).await;
    let build = campaigns.build(&closed, &[&source]).await["id"].as_str().unwrap().to_string();
    let held = AnnotateClient { app, who: &annotator }.next().await.expect("the closed campaign's task");
    assert_eq!(held["campaign_id"], closed.as_str());
    campaigns.set_open(&closed, false).await;
    let open_name = format!("Secret open campaign {t}");
    let open = campaigns.create(&open_name).await;
    campaigns.build(&open, &[&sources.upload("open.wav", 20.0, false).await]).await;
    let clip = held["clip_id"].as_str().unwrap().to_string();
    Campaigns {
        closed: Thing { label: "closed campaign".into(), id: closed, secret: closed_name },
        open: Thing { label: "open campaign".into(), id: open, secret: open_name },
        clip: Thing { label: "clip of the closed campaign's held task".into(), id: clip, secret: closed_source },
        task: held["task_id"].as_str().unwrap().to_string(),
        build,
        anonymous,
        stranger,
        annotator,
        admin,
    }
}

/// Answering a task: through REST and the server function.
fn answer_calls(task: &str, who: &Person) -> [Call; 2] {
    let answer = json!({"client_id": format!("m-{}", who.name), "answers": {"piano": "present", "drums": "absent"},
        "play_count": 1, "listening_ms": 9000, "time_to_submit_ms": 12000});
    [
        Call::rest(Method::POST, format!("/api/v1/tasks/{task}/annotations"), answer.clone()),
        Call::json("submit_annotation", json!({"task_id": task, "submission": answer})),
    ]
}

/// An open and a closed campaign, as anonymous, a stranger, an annotator who holds a task of the
/// closed one (leased before it closed) and an admin. Open campaigns are seen by everyone signed
/// in, closed ones by admins only; the campaigns' admin pages and functions are the admins' alone
/// (403 to others, for any id).
#[tokio::test]
async fn campaigns_are_404_on_every_surface_to_whoever_may_not_see_them() {
    let app = TestApp::spawn().await;
    let s = campaigns(&app).await;
    let Campaigns { anonymous, stranger, annotator, admin, closed, open, clip, task, build: closed_build } = &s;
    let (task, closed_build) = (task.as_str(), closed_build.as_str());
    let people = [anonymous, stranger, annotator, admin];
    let (mut table, mut serving) = (Table::default(), Table::default());
    for (campaign, is_open) in [(closed, false), (open, true)] {
        let id = campaign.id.as_str();
        for &who in &people {
            let is_admin = who.name == "admin";
            let sees = is_admin || (is_open && who.id.is_some());
            table.seen(sees);
            serving.seen(sees);
            let signed_in = if who.id.is_some() { 200 } else { 401 };
            let read = match () {
                _ if who.id.is_none() => 401,
                _ if sees => 200,
                _ => 404,
            };
            let admins = match () {
                _ if who.id.is_none() => 401,
                _ if is_admin => 200,
                _ => 403,
            };
            table.add(campaign, who, Call::get(format!("/api/v1/campaigns/{id}")), read, Some(sees));
            table.add(campaign, who, Call::get(format!("/api/v1/campaigns/{id}/stats")), read, Some(sees));
            let stats = Call::form("get_annotator_stats", &[("campaign_id", id), ("utc_offset_minutes", "0")]);
            table.add(campaign, who, stats, read, Some(sees));
            table.add(campaign, who, Call::get("/api/v1/campaigns"), signed_in, Some(sees));
            // The admins' own surfaces.
            table.add(campaign, who, Call::get(format!("/api/v1/campaigns/{id}/tasks")), admins, None);
            table.add(campaign, who, Call::get(format!("/api/v1/campaigns/{id}/agreement")), admins, None);
            let same = json!({"is_open": is_open});
            let patch = Call::rest(Method::PATCH, format!("/api/v1/campaigns/{id}"), same.clone());
            table.add(campaign, who, patch, admins, Some(true));
            let update = Call::json("update_campaign", json!({"campaign_id": id, "changes": same}));
            table.add(campaign, who, update, admins, Some(true));
            let tasks = Call::form("campaign_tasks", &[("campaign_id", id), ("offset", "0")]);
            table.add(campaign, who, tasks, admins, None);
            table.add(campaign, who, Call::form("campaign_agreement", &[("campaign_id", id)]), admins, None);
            table.add(campaign, who, Call::form("list_campaigns_admin", &[]), admins, Some(true));
            table.add(campaign, who, Call::page("/admin/campaigns"), admins, Some(true));
            // Building is the admins' too (their own builds are not started here).
            if !is_admin {
                let request = json!({"sources": {"kind": "audio", "ids": [MISSING]}, "strategy": "even", "seed": 9});
                let build = Call::rest(Method::POST, format!("/api/v1/campaigns/{id}/builds"), request.clone());
                table.add(campaign, who, build, admins, None);
                let start = Call::json("start_build", json!({"campaign_id": id, "request": request}));
                table.add(campaign, who, start, admins, None);
            }
            // Serving (last: it leases): a closed campaign's tasks are never served, not even the
            // one the annotator held when it closed; an open one's are, to everyone signed in.
            let served = Some(is_open && who.id.is_some());
            serving.add(campaign, who, Call::form("next_task", &[]), signed_in, served);
            serving.add(campaign, who, Call::page("/annotate"), signed_in, served);
        }
    }
    // The clip of the task the annotator held when its campaign closed: the admins' alone now.
    for &who in &people {
        let is_admin = who.name == "admin";
        table.seen(is_admin);
        let want = if is_admin { 200 } else { 404 };
        let id = clip.id.as_str();
        for bytes in ["", "/canonical", "/original", "/peaks", "/spectrogram"] {
            table.add(clip, who, Call::get(format!("/api/v1/audio/{id}{bytes}")), want, Some(is_admin));
        }
        table.add(clip, who, Call::form("get_audio_card", &[("id", id)]), want, Some(is_admin));
        // Its build job, the admins' alone as every job.
        let admins = if who.id.is_none() {
            401
        } else if is_admin {
            200
        } else {
            403
        };
        let job = Call::get(format!("/api/v1/builds/{closed_build}"));
        table.add_by(closed_build, closed, who, job, admins, None);
        let job = Call::form("get_build_job", &[("id", closed_build)]);
        table.add_by(closed_build, closed, who, job, admins, None);
        table.add(closed, who, Call::form("latest_build_jobs", &[]), admins, None);
        // The task itself. Giving it back is a no-op for anyone (as for a missing one); answering
        // it is refused to everyone, as its campaign is closed: admins, who may see that, learn
        // it (409); others are in `answering_a_closed_campaign_s_task_is_404_to_non_admins`.
        let skip = if who.id.is_none() { 401 } else { 204 };
        let lease = Call::rest(Method::DELETE, format!("/api/v1/tasks/{task}/lease"), json!({}));
        table.add_by(task, closed, who, lease, skip, None);
        let skip = if who.id.is_none() { 401 } else { 200 };
        table.add_by(task, closed, who, Call::form("skip_task", &[("task_id", task)]), skip, None);
        if who.id.is_none() || is_admin {
            for call in answer_calls(task, who) {
                table.add_by(task, closed, who, call, if is_admin { 409 } else { 401 }, None);
            }
        }
        let gold = Call::rest(Method::PUT, format!("/api/v1/tasks/{task}/gold"), json!({"answers": {"piano": true}}));
        table.add_by(task, closed, who, gold, if admins == 200 { 204 } else { admins }, None);
    }
    table.rows.extend(serving.rows);
    table.check(&app, "campaigns").await;
}

/// Answering a task of a closed campaign is 404 to a non-admin who never held it, on REST and on
/// the server function alike, as for a missing task; whoever held it is told the campaign closed
/// (409, in `annotate::an_annotator_learns_nothing_of_a_clip_s_source_nor_of_closed_campaigns`).
#[tokio::test]
async fn answering_a_closed_campaign_s_task_is_404_to_non_admins() {
    let app = TestApp::spawn().await;
    let s = campaigns(&app).await;
    let mut table = Table::default();
    for who in [&s.stranger] {
        for call in answer_calls(&s.task, who) {
            table.add_by(&s.task, &s.closed, who, call, 404, None);
        }
    }
    table.check(&app, "closed campaign's task").await;
}
