//! The authorization matrix for background jobs: only whoever asked for one, and admins, may see or cancel it.

use reqwest::Method;
use serde_json::json;

use app::jobs::JobState;

use crate::clients::{AudioClient, Call, Person, StudioClient, Surface};
use crate::helpers::TestApp;
use crate::jobs::quiet_job;

use super::{Table, Thing, tag};

/// Cancelling a job on one surface.
fn cancel_call(id: &str, surface: Surface) -> Call {
    match surface {
        Surface::ServerFn => Call::form("cancel_job", &[("id", id)]),
        _ => Call::rest(Method::DELETE, format!("/api/v1/jobs/{id}"), json!({})),
    }
}

/// The owner's finished mixdown job and four of their waiting jobs, as anonymous, a stranger, the
/// owner and an admin: reading, cancelling and listing, over REST and server functions. A job is
/// its requester's and the admins'; to anyone else it is a missing job. Each waiting job is
/// cancelled once by one who may (the owner or an admin, on REST or the server function), after
/// the others tried; later cancels are a 409 to those who see it.
#[tokio::test]
async fn jobs_are_404_on_every_surface_to_whoever_did_not_ask_for_them() {
    let app = TestApp::spawn().await;
    let anonymous = Person::anonymous();
    let owner = Person::oauth(&app, "owner").await;
    let stranger = Person::oauth(&app, "stranger").await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let people = [&anonymous, &stranger, &owner, &admin];
    let t = tag();
    let take = AudioClient { app: &app, who: &owner }.upload("take.wav", 0.5, false).await;
    let studio = StudioClient { app: &app, who: &owner };
    let song = studio.create_composition(&format!("Song {t}"), "private").await;
    studio.add_track(&song, &take, "Guide", true).await;
    let done = studio.mixdown_job(&song).await["id"].as_str().unwrap().to_string();
    // A job's own id is what only those who see it learn (a listing shows it or not).
    let done = Thing { label: "finished mixdown job".into(), id: done.clone(), secret: done };
    let mut waiting = Vec::new();
    for (who, surface) in
        [(&owner, Surface::Rest), (&owner, Surface::ServerFn), (&admin, Surface::Rest), (&admin, Surface::ServerFn)]
    {
        let id = quiet_job(&app.db, "mixdown", JobState::Queued, owner.id.as_deref(), std::time::Duration::ZERO).await;
        let label = format!("waiting job cancelled by the {} ({surface})", who.name);
        waiting.push((Thing { label, id: id.clone(), secret: id }, who, surface));
    }

    let mut table = Table::default();
    let mut listings = Table::default();
    for &who in &people {
        let sees = std::ptr::eq(who, &owner) || std::ptr::eq(who, &admin);
        table.seen(sees);
        listings.seen(sees);
        let read = match () {
            _ if who.id.is_none() => 401,
            _ if sees => 200,
            _ => 404,
        };
        let id = done.id.as_str();
        table.add(&done, who, Call::get(format!("/api/v1/jobs/{id}")), read, Some(sees));
        table.add(&done, who, Call::form("get_job", &[("id", id)]), read, Some(sees));
        let ended = if read == 200 { 409 } else { read };
        for surface in [Surface::Rest, Surface::ServerFn] {
            table.add(&done, who, cancel_call(id, surface), ended, None);
        }
        // Listings: one's own jobs, filtered or not (the admins': everyone's).
        let signed_in = if who.id.is_some() { 200 } else { 401 };
        for (query, matches) in [
            ("", true),
            ("?kind=mixdown", true),
            ("?kind=mixdown&state=done&limit=200&offset=0", true),
            ("?kind=task_build", false),
            ("?state=failed", false),
            ("?offset=5", false),
        ] {
            table.add(&done, who, Call::get(format!("/api/v1/jobs{query}")), signed_in, Some(sees && matches));
        }
        for (pairs, matches) in [
            (&[][..], true),
            (&[("kind", "mixdown"), ("state", "done")][..], true),
            (&[("state", "queued")][..], false),
        ] {
            table.add(&done, who, Call::form("list_jobs", pairs), signed_in, Some(sees && matches));
        }
        for (job, _, _) in &waiting {
            let id = job.id.as_str();
            table.add(job, who, Call::get(format!("/api/v1/jobs/{id}")), read, Some(sees));
            table.add(job, who, Call::form("get_job", &[("id", id)]), read, Some(sees));
            listings.add(job, who, Call::get("/api/v1/jobs?state=queued"), signed_in, Some(sees));
            listings.add(job, who, Call::form("list_jobs", &[("state", "queued")]), signed_in, Some(sees));
            // Those who may not see it try to cancel it before those who may.
            if !sees {
                for surface in [Surface::Rest, Surface::ServerFn] {
                    table.add(job, who, cancel_call(id, surface), read, None);
                }
            }
        }
    }
    table.rows.extend(listings.rows);
    // Each waiting job is cancelled once, then is an ended job to everyone who sees it.
    for (job, canceller, surface) in &waiting {
        table.seen(true);
        table.add(job, canceller, cancel_call(&job.id, *surface), 200, Some(true));
        for who in [&owner, &admin] {
            for surface in [Surface::Rest, Surface::ServerFn] {
                table.add(job, who, cancel_call(&job.id, surface), 409, None);
            }
            let listing = Call::get("/api/v1/jobs?state=cancelled&kind=mixdown");
            table.add(job, who, listing, 200, Some(true));
            table.add(job, who, Call::get("/api/v1/jobs?state=queued"), 200, Some(false));
        }
        for who in [&anonymous, &stranger] {
            table.seen(false);
            let read = if who.id.is_none() { 401 } else { 404 };
            table.add(job, who, Call::get(format!("/api/v1/jobs/{}", job.id)), read, None);
            table.add(
                job,
                who,
                Call::get("/api/v1/jobs?state=cancelled"),
                if who.id.is_none() { 401 } else { 200 },
                Some(false),
            );
        }
    }
    table.check(&app, "jobs").await;
}
