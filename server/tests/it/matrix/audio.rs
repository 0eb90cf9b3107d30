//! The authorization matrix for audio: uploads, tracks heard through compositions, mixdowns and clips.

use reqwest::Method;
use serde_json::json;

use crate::clients::{AnnotateClient, AudioClient, Call, CampaignClient, Person, StudioClient};
use crate::helpers::TestApp;

use super::{Table, Thing, tag};

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
