//! Deleting audio from a library: refused while a composition or a campaign depends on it,
//! otherwise the record, its clips and its stored files go, and nothing else learns it existed.
use reqwest::Method;

use crate::clients::{AudioClient, Call, CampaignClient, Person, StudioClient};
use crate::helpers::TestApp;

fn delete(id: &str) -> Call {
    Call::rest(Method::DELETE, format!("/api/v1/audio/{id}"), serde_json::Value::Null)
}

#[tokio::test]
async fn audio_is_deleted_only_when_nothing_depends_on_it_and_leaves_no_files() {
    let app = TestApp::spawn().await;
    let owner = Person::oauth(&app, "owner").await;
    let stranger = Person::oauth(&app, "stranger").await;
    let anonymous = Person::anonymous();
    let audio = AudioClient { app: &app, who: &owner };
    let id = audio.upload("keeper.wav", 0.7, true).await;
    let studio = StudioClient { app: &app, who: &owner };
    let song = studio.create_composition("Song that holds it", "private").await;
    let track = studio.add_track(&song, &id, "Guide", true).await;
    let files_before = TestApp::files_under(&app.storage_dir()).len();

    // Others may not: signed out, a stranger (public audio: seen, not theirs).
    assert_eq!(delete(&id).send(&app, &anonymous.browser).await.status, 401);
    assert_eq!(delete(&id).send(&app, &stranger.browser).await.status, 403);
    // A track of a composition: refused, naming it.
    let refused = delete(&id).send(&app, &owner.browser).await;
    assert_eq!(refused.status, 409, "{}", refused.excerpt());
    assert!(refused.body.contains("Song that holds it"), "{}", refused.body);
    assert_eq!(audio.get(&id).await.status, 200);

    // Once the track is gone, the server function deletes it with its stored files.
    let gone = Call::rest(Method::DELETE, format!("/api/v1/tracks/{track}"), serde_json::Value::Null);
    assert_eq!(gone.send(&app, &owner.browser).await.status, 204);
    let deleted = Call::form("delete_audio", &[("id", &id)]).send(&app, &owner.browser).await;
    assert_eq!(deleted.status, 200, "{}", deleted.excerpt());
    assert_eq!(audio.get(&id).await.status, 404);
    assert_eq!(AudioClient { app: &app, who: &anonymous }.canonical(&id).await.status, 404);
    assert_eq!(TestApp::files_under(&app.storage_dir()).len(), files_before - 3, "original, canonical and peaks");
    // Deleting it again is a missing id.
    assert_eq!(delete(&id).send(&app, &owner.browser).await.status, 404);
}

#[tokio::test]
async fn audio_whose_clips_are_tasks_is_kept() {
    let app = TestApp::spawn().await;
    let admin = Person::demo(&app, "admin", "admin").await;
    let source = AudioClient { app: &app, who: &admin }.upload("long-source.wav", 10.0, false).await;
    let campaigns = CampaignClient { app: &app, who: &admin };
    let campaign = campaigns.create("Kept clips").await;
    campaigns.build(&campaign, &[&source]).await;
    let refused = delete(&source).send(&app, &admin.browser).await;
    assert_eq!(refused.status, 409, "{}", refused.excerpt());
    assert!(refused.body.contains("Kept clips"), "{}", refused.body);
    let clip = campaigns.tasks(&campaign).await[0]["clip_id"].as_str().unwrap().to_string();
    assert_eq!(delete(&clip).send(&app, &admin.browser).await.status, 409);
}

#[tokio::test]
async fn a_library_is_searched_sorted_and_paged_and_shows_only_its_owners_audio() {
    let app = TestApp::spawn().await;
    let owner = Person::oauth(&app, "owner").await;
    let other = Person::oauth(&app, "other").await;
    let mine = AudioClient { app: &app, who: &owner };
    let short_bird = mine.upload("Blackbird at dawn.wav", 0.4, false).await;
    let long_bird = mine.upload("robin-BIRD-song.wav", 0.9, false).await;
    let percent = mine.upload("100% rain.wav", 0.5, false).await;
    AudioClient { app: &app, who: &other }.upload("bird of the neighbour.wav", 0.6, false).await;
    let search = |query: &'static str, sort: &'static str, offset: &'static str| {
        let owner = &owner;
        let app = &app;
        async move {
            let a = Call::form("search_my_audio", &[("query", query), ("sort", sort), ("offset", offset)])
                .send(app, &owner.browser)
                .await;
            assert_eq!(a.status, 200, "{}", a.excerpt());
            let v = a.json();
            let ids: Vec<String> =
                v["cards"].as_array().unwrap().iter().map(|c| c["info"]["id"].as_str().unwrap().to_string()).collect();
            (ids, v["total"].as_u64().unwrap())
        }
    };
    assert_eq!(search("bird", "name", "0").await, (vec![short_bird.clone(), long_bird.clone()], 2));
    assert_eq!(search(" Bird ", "longest", "0").await, (vec![long_bird.clone(), short_bird.clone()], 2));
    // Wildcards are taken literally.
    assert_eq!(search("%", "newest", "0").await, (vec![percent.clone()], 1));
    assert_eq!(search("", "oldest", "0").await.0, vec![short_bird.clone(), long_bird.clone(), percent.clone()]);
    assert_eq!(search("", "oldest", "2").await, (vec![percent], 3));
    let bad = Call::form("search_my_audio", &[("query", ""), ("sort", "loudest"), ("offset", "0")])
        .send(&app, &owner.browser)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.excerpt());
    // An offset past any page is refused in words, not by a panic deep in the database driver
    // (beyond 2^63 - 1 the driver cannot bind it).
    for offset in ["100001", "9223372036854775808", "18446744073709551615"] {
        let far = Call::form("search_my_audio", &[("query", ""), ("sort", "name"), ("offset", offset)])
            .send(&app, &owner.browser)
            .await;
        assert_eq!(far.status, 422, "{offset}: {}", far.excerpt());
        assert!(far.body.contains("at most 100000"), "{}", far.excerpt());
    }
    let anonymous = Person::anonymous();
    let refused = Call::form("search_my_audio", &[("query", ""), ("sort", "name"), ("offset", "0")])
        .send(&app, &anonymous.browser)
        .await;
    assert_eq!(refused.status, 401);
}
