//! The authorization matrix for compositions: reading, listing, changing and rendering, by role and visibility.
use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use crate::clients::{AudioClient, Call, Person, StudioClient};
use crate::helpers::TestApp;

use super::{MISSING, Table, Thing, tag};

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
