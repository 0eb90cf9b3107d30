//! The authorization matrix: role × visibility × surface, for the four kinds of private things
//! (audio, compositions, campaigns, background jobs). One rule holds everywhere: what the asker may not see is
//! indistinguishable from what does not exist. Every row is one request on one surface (REST,
//! the audio bytes, a server function, a server-rendered page) as one person, with the status
//! it must answer and whether the thing's secret (a title, a file name) may appear in the answer.
//! Every refused row is also sent again with a missing id in place of the thing's, and must be
//! answered the same way. All rows run; a failure prints every failing row whole.
use std::collections::BTreeMap;
use std::fmt;

use reqwest::Method;
use serde_json::json;

use app::jobs::JobState;

use crate::clients::{AnnotateClient, AudioClient, Call, CampaignClient, Person, StudioClient, Surface};
use crate::helpers::TestApp;
use crate::jobs::quiet_job;

/// An id that names nothing.
const MISSING: &str = "00000000-0000-4000-8000-000000000000";

/// A private thing under test: its label in messages, its id, and a text only those who may see
/// it can read.
struct Thing {
    label: String,
    id: String,
    secret: String,
}

struct Row<'a> {
    thing: &'a Thing,
    who: &'a Person,
    call: Call,
    /// The id in `call` that a missing one replaces (the thing's, or a part of it such as a track).
    id: String,
    want: u16,
    /// Whether the secret appears in a successful answer (`None`: this answer does not carry
    /// it). A refused answer never carries it.
    shows: Option<bool>,
    /// Whether the asker may see the thing at all; if not, a missing id must answer the same.
    seen: bool,
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = match self.shows {
            Some(true) => "shows",
            Some(false) => "hides",
            None => "-",
        };
        write!(
            f,
            "[{}] as {} ({}) on {}: {:?} => want {}, secret {:?} {secret}",
            self.thing.label,
            self.who.name,
            if self.seen { "may see it" } else { "may not see it" },
            self.call.surface(),
            self.call,
            self.want,
            self.thing.secret
        )
    }
}

#[derive(Default)]
struct Table<'a> {
    rows: Vec<Row<'a>>,
    seen: bool,
}

impl<'a> Table<'a> {
    fn add(&mut self, thing: &'a Thing, who: &'a Person, call: Call, want: u16, shows: Option<bool>) {
        self.add_by(&thing.id, thing, who, call, want, shows);
    }

    /// Whether the asker of the rows added next may see their thing.
    fn seen(&mut self, seen: bool) {
        self.seen = seen;
    }

    fn add_by(&mut self, id: &str, thing: &'a Thing, who: &'a Person, call: Call, want: u16, shows: Option<bool>) {
        self.rows.push(Row { thing, who, call, id: id.to_string(), want, shows, seen: self.seen });
    }

    /// Send every row in order; fail with all failing rows.
    async fn check(self, app: &TestApp, name: &str) {
        let started = std::time::Instant::now();
        let mut failures = Vec::new();
        let (mut per_surface, mut twins) = (BTreeMap::<Surface, usize>::new(), 0);
        for row in &self.rows {
            *per_surface.entry(row.call.surface()).or_default() += 1;
            let got = row.call.send(app, &row.who.browser).await;
            let mut wrong = Vec::new();
            if got.status.as_u16() != row.want {
                wrong.push(format!("answered {}", got.status));
            }
            let secret = row.thing.secret.as_str();
            let in_headers = got
                .headers
                .get("content-disposition")
                .is_some_and(|v| String::from_utf8_lossy(v.as_bytes()).contains(secret));
            let shown = in_headers || (row.call.surface() != Surface::Bytes && got.body.contains(secret));
            // Bytes carry no secret to look for, only a file name in their headers.
            let must_show = match (row.want, row.call.surface()) {
                (200..300, Surface::Bytes) => row.shows.filter(|s| !s),
                (200..300, _) => row.shows,
                _ => Some(false),
            };
            match must_show {
                Some(true) if !shown => wrong.push("the secret is missing".into()),
                Some(false) if shown => wrong.push("LEAK: the secret is in the answer".into()),
                _ => {}
            }
            // Refused what they may not see: a missing id is answered the same way.
            if !row.seen && !(200..300).contains(&row.want) {
                let twin = row.call.replace(&row.id, MISSING);
                if format!("{twin:?}") != format!("{:?}", row.call) {
                    twins += 1;
                    let missing = twin.send(app, &row.who.browser).await;
                    if missing.status != got.status {
                        wrong.push(format!("a missing id answers {} instead", missing.status));
                    } else if row.call.surface() != Surface::Page && missing.body != got.body.replace(&row.id, MISSING)
                    {
                        wrong.push(format!("a missing id answers otherwise: {}", missing.excerpt()));
                    }
                }
            }
            if !wrong.is_empty() {
                let body = match row.call.surface() {
                    Surface::Bytes if got.status.is_success() => format!("{} bytes", got.body.len()),
                    _ => got.excerpt(),
                };
                failures.push(format!("{row:?}\n    {}; body: {body}", wrong.join("; ")));
            }
        }
        let counts: Vec<String> = per_surface.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!(
            "{name}: {} cells ({}), {twins} missing-id twins, {:.1?}",
            self.rows.len(),
            counts.join(", "),
            started.elapsed()
        );
        assert!(
            failures.is_empty(),
            "{name}: {} of {} cells failed:\n{}",
            failures.len(),
            self.rows.len(),
            failures.join("\n")
        );
    }
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Private and public uploads, a track and a mixdown heard through a composition, and the clip of
/// a task, as anonymous, a stranger, the owner, a private composition's viewer, an annotator
/// holding the clip's task, and an admin.
#[tokio::test]
async fn audio_is_404_on_every_surface_to_whoever_may_not_hear_it() {
    let app = TestApp::spawn().await;
    let anonymous = Person::anonymous();
    let owner = Person::oauth(&app, "owner").await;
    let stranger = Person::oauth(&app, "stranger").await;
    let member = Person::oauth(&app, "member").await;
    let annotator = Person::demo(&app, "annotator", "annotator").await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let t = tag();

    let audio = AudioClient { app: &app, who: &owner };
    let studio = StudioClient { app: &app, who: &owner };
    let thing = |label: &str, id: String, secret: String| Thing { label: label.into(), id, secret };
    let name = |what: &str| format!("secret-{what}-{t}");
    let private =
        thing("private upload", audio.upload(&format!("{}.wav", name("private")), 0.5, false).await, name("private"));
    let public =
        thing("public upload", audio.upload(&format!("{}.wav", name("public")), 0.6, true).await, name("public"));
    // Heard through a private composition (its viewer hears it) and a members-only one.
    let in_private = audio.upload(&format!("{}.wav", name("in-private-song")), 0.7, false).await;
    let song = studio.create_composition(&format!("Private song {t}"), "private").await;
    studio.add_track(&song, &in_private, "Guide", true).await;
    studio.add_member(&song, member.id(), "viewer").await;
    let mixdown = studio.mixdown(&song).await;
    let mixdown = thing("mixdown of a private composition", mixdown, format!("Private song {t} (mixdown)"));
    let in_private = thing("track of a private composition", in_private, name("in-private-song"));
    let in_members = audio.upload(&format!("{}.wav", name("in-members-song")), 0.8, false).await;
    let song = studio.create_composition(&format!("Members song {t}"), "members").await;
    studio.add_track(&song, &in_members, "Guide", true).await;
    let in_members = thing("track of a members composition", in_members, name("in-members-song"));
    // A private upload made a track of a public composition: everyone hears it, no one else gets
    // the file, its name or its hash.
    let in_public = audio.upload(&format!("{}.wav", name("in-public-song")), 0.9, false).await;
    let song = studio.create_composition(&format!("Public song {t}"), "public").await;
    studio.add_track(&song, &in_public, "Guide", true).await;
    let in_public = thing("track of a public composition", in_public, name("in-public-song"));
    // The clip of a task, cut from the admin's private upload; the annotator holds its task.
    let admins_audio = AudioClient { app: &app, who: &admin };
    let source = admins_audio.upload(&format!("{}.wav", name("clip-source")), 10.0, false).await;
    let campaigns = CampaignClient { app: &app, who: &admin };
    let campaign = campaigns.create(&format!("Clips {t}")).await;
    campaigns.build(&campaign, &[&source]).await;
    let clip = campaigns.tasks(&campaign).await[0]["clip_id"].as_str().unwrap().to_string();
    let assignment = AnnotateClient { app: &app, who: &annotator }.next().await.expect("a task");
    assert_eq!(assignment["clip_id"], clip.as_str());
    let clip = thing("clip of a task", clip, name("clip-source"));
    // Sanity: the clients see what the setup says.
    assert_eq!(AudioClient { app: &app, who: &member }.canonical(&in_private.id).await.status, 200);
    assert_eq!(AudioClient { app: &app, who: &stranger }.get(&private.id).await.status, 404);
    // A listener's record of a track names neither its owner nor its bytes' hash.
    let heard: serde_json::Value =
        serde_json::from_str(&AudioClient { app: &app, who: &anonymous }.get(&in_public.id).await.body).unwrap();
    assert_eq!(
        (heard["owner_id"].as_str(), heard["sha256"].as_str()),
        (Some(&*uuid::Uuid::nil().to_string()), Some(""))
    );
    let whole: serde_json::Value =
        serde_json::from_str(&AudioClient { app: &app, who: &owner }.get(&in_public.id).await.body).unwrap();
    assert_eq!(whole["sha256"].as_str().map(str::len), Some(64));

    let people = [&anonymous, &stranger, &owner, &member, &annotator, &admin];
    let mut table = Table::default();
    for (thing, owned_by) in [
        (&private, &owner),
        (&public, &owner),
        (&in_private, &owner),
        (&mixdown, &owner),
        (&in_members, &owner),
        (&in_public, &owner),
        (&clip, &admin),
    ] {
        let id = thing.id.as_str();
        for &who in &people {
            let is_admin = who.name == "admin";
            let owns = std::ptr::eq(who, owned_by) || is_admin;
            let hears = owns
                || match thing.label.as_str() {
                    "public upload" => true,
                    "track of a private composition" | "mixdown of a private composition" => who.name == "member",
                    "track of a members composition" => who.id.is_some(),
                    "track of a public composition" => true,
                    "clip of a task" => who.name == "annotator",
                    _ => false,
                };
            // A track's listener and a clip's annotator hear it but learn nothing of its file: only
            // its owner, admins and (for public audio and a composition's own mixdown) everyone
            // who hears it get the record and the original.
            let whole = owns || thing.label == "public upload" || thing.label.starts_with("mixdown");
            let reads = hears && whole;
            table.seen(hears);
            let seen = if hears { 200 } else { 404 };
            table.add(thing, who, Call::get(format!("/api/v1/audio/{id}")), seen, Some(reads));
            for bytes in ["canonical", "peaks", "spectrogram"] {
                table.add(thing, who, Call::get(format!("/api/v1/audio/{id}/{bytes}")), seen, Some(reads));
            }
            // To whoever only hears a track, the original does not exist; a clip's original is the
            // WAV cut for its task, which its annotator may fetch (under an anonymous name).
            let fetches = reads || (hears && thing.label == "clip of a task");
            table.seen(fetches);
            let original = if fetches { 200 } else { 404 };
            table.add(thing, who, Call::get(format!("/api/v1/audio/{id}/original")), original, Some(reads));
            table.seen(hears);
            let is_public = thing.label == "public upload";
            let patch = Call::rest(Method::PATCH, format!("/api/v1/audio/{id}"), json!({"public": is_public}));
            let want = match () {
                _ if who.id.is_none() => 401,
                _ if !hears => 404,
                _ if owns => 200,
                _ => 403,
            };
            table.add(thing, who, patch, want, Some(reads));
            table.add(thing, who, Call::form("get_audio_card", &[("id", id)]), seen, Some(reads));
            // Lists: one's own audio (a clip's source is its owner's), and the admins' sources.
            let signed_in = if who.id.is_some() { 200 } else { 401 };
            let mine = std::ptr::eq(who, owned_by);
            table.add(thing, who, Call::form("list_my_audio", &[]), signed_in, Some(mine));
            table.add(thing, who, Call::get("/api/v1/audio"), signed_in, Some(mine));
            table.add(thing, who, Call::page("/library"), signed_in, Some(mine));
            let admins = match () {
                _ if who.id.is_none() => 401,
                _ if !is_admin => 403,
                _ => 200,
            };
            table.add(thing, who, Call::form("list_sources", &[]), admins, Some(is_admin));
        }
    }
    table.check(&app, "audio").await;
}

/// A role in a composition, weakest first; `None` sees nothing.
fn composition_role(visibility: &str, who: &str) -> Option<u8> {
    match (who, visibility) {
        ("owner" | "admin", _) => Some(4),
        ("editor", _) => Some(3),
        ("contributor", _) => Some(2),
        ("viewer", _) | (_, "public") | ("stranger", "members") => Some(1),
        _ => None,
    }
}

/// Private, members-only and public compositions, as anonymous, a stranger, the owner, an admin and
/// members of each role: reading, listing, changing and rendering, on every surface.
#[tokio::test]
async fn compositions_are_404_on_every_surface_to_whoever_may_not_see_them() {
    const CONTRIBUTOR: u8 = 2;
    const EDITOR: u8 = 3;
    const OWNER: u8 = 4;
    let app = TestApp::spawn().await;
    let anonymous = Person::anonymous();
    let owner = Person::oauth(&app, "owner").await;
    let stranger = Person::oauth(&app, "stranger").await;
    let viewer = Person::oauth(&app, "viewer").await;
    let contributor = Person::oauth(&app, "contributor").await;
    let editor = Person::oauth(&app, "editor").await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let people = [&anonymous, &stranger, &owner, &admin, &viewer, &contributor, &editor];
    let t = tag();
    // Everyone signed in has a take of their own to add as a track.
    let mut takes = BTreeMap::new();
    for (i, who) in people.iter().enumerate().filter(|(_, p)| p.id.is_some()) {
        let audio = AudioClient { app: &app, who };
        let take = audio.upload(&format!("take-{}.wav", who.name), 0.3 + i as f64 / 10.0, false).await;
        takes.insert(who.name, take);
    }
    let studio = StudioClient { app: &app, who: &owner };
    let mut songs = Vec::new();
    for (i, visibility) in ["private", "members", "public"].into_iter().enumerate() {
        let title = format!("Secret {visibility} song {t}");
        let id = studio.create_composition(&title, visibility).await;
        for who in [&viewer, &contributor, &editor] {
            studio.add_member(&id, who.id(), who.name).await;
        }
        let guide = AudioClient { app: &app, who: &owner }.upload("guide.wav", 1.0 + i as f64 / 10.0, false).await;
        let track = studio.add_track(&id, &guide, "Guide", true).await;
        songs.push((visibility, Thing { label: format!("{visibility} composition"), id, secret: title }, track));
    }

    let mut table = Table::default();
    let mut mixdowns = Table::default();
    for (visibility, song, track) in &songs {
        let id = song.id.as_str();
        for &who in &people {
            let role = composition_role(visibility, who.name).unwrap_or(0);
            let sees = role > 0;
            table.seen(sees);
            mixdowns.seen(sees);
            let read = if sees { 200 } else { 404 };
            // A change needs a signed-in user first, then sight of the composition, then the role.
            let change = |at_least: u8, done: u16| match () {
                _ if who.id.is_none() => 401,
                _ if !sees => 404,
                _ if role >= at_least => done,
                _ => 403,
            };
            table.add(song, who, Call::get(format!("/api/v1/compositions/{id}")), read, Some(sees));
            table.add(song, who, Call::get(format!("/api/v1/compositions/{id}/members")), read, None);
            table.add(song, who, Call::form("get_composition", &[("id", id)]), read, Some(sees));
            table.add(song, who, Call::page(format!("/studio/{id}")), read, Some(sees));
            table.add(song, who, Call::form("studio_home", &[]), 200, Some(sees));
            table.add(song, who, Call::form("list_compositions", &[]), 200, Some(sees));
            table.add(song, who, Call::page("/studio"), 200, Some(sees));
            table.add(song, who, Call::get("/api/v1/compositions"), 200, Some(sees));
            table.add(song, who, Call::get(format!("/api/v1/compositions/{id}/tracks")), read, None);
            table.add_by(track, song, who, Call::get(format!("/api/v1/tracks/{track}")), read, None);
            let tempo = Call::rest(Method::PATCH, format!("/api/v1/compositions/{id}"), json!({"tempo_bpm": 120}));
            table.add(song, who, tempo, change(EDITOR, 200), Some(true));
            let tempo = Call::json("update_composition", json!({"composition_id": id, "patch": {"tempo_bpm": 121}}));
            table.add(song, who, tempo, change(EDITOR, 200), Some(true));
            let role = json!({"composition_id": id, "user_id": editor.id(), "role": "editor"});
            table.add(song, who, Call::json("set_member_role", role), change(OWNER, 200), None);
            let invite =
                Call::rest(Method::POST, format!("/api/v1/compositions/{id}/invitations"), json!({"role": "viewer"}));
            table.add(song, who, invite, change(OWNER, 201), None);
            let take = takes.get(who.name).map_or(MISSING, String::as_str);
            let new_track = json!({"audio_id": take, "name": format!("{} take", who.name), "instrument": "voice"});
            let add = Call::json("add_track", json!({"composition_id": id, "track": new_track.clone()}));
            table.add(song, who, add, change(CONTRIBUTOR, 200), None);
            let add = Call::rest(Method::POST, format!("/api/v1/compositions/{id}/tracks"), new_track);
            table.add(song, who, add, change(CONTRIBUTOR, 201), None);
            let patch = Call::json("update_track", json!({"track_id": track, "patch": {"gain_db": -1.0}}));
            table.add_by(track, song, who, patch, change(EDITOR, 200), None);
            let invite = json!({"composition_id": id, "invitation": {"role": "viewer"}});
            table.add(song, who, Call::json("invite_member", invite), change(OWNER, 200), None);
            let mix = Call::form("render_mixdown", &[("composition_id", id)]);
            mixdowns.add(song, who, mix, change(EDITOR, 200), None);
        }
    }
    table.rows.extend(mixdowns.rows);
    table.check(&app, "compositions").await;
}

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
