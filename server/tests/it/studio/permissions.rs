//! Who sees and changes what in the studio, on every surface.
use super::common::*;
use crate::helpers::TestApp;
use crate::ingest::wav;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

#[tokio::test]
async fn the_permissions_matrix_holds_on_every_surface() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let editor = user(&app, "editor").await;
    let contributor = user(&app, "contributor").await;
    let viewer = user(&app, "viewer").await;
    let stranger = user(&app, "stranger").await;
    let anonymous = Who { token: None, id: String::new() };
    for visibility in ["private", "members", "public"] {
        let c = compose(
            &app,
            &owner,
            json!({"title": format!("Song {visibility}"), "visibility": visibility, "tempo_bpm": 96}),
        )
        .await;
        let cid = c["id"].as_str().unwrap().to_string();
        for (who, role) in [(&editor, "editor"), (&contributor, "contributor"), (&viewer, "viewer")] {
            let res = owner
                .req(&app, M::PUT, &format!("/api/v1/compositions/{cid}/members/{}", who.id))
                .json(&json!({"role": role}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
        }
        let master_audio = upload(&app, &owner, 1.0).await;
        let res = owner
            .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
            .json(&json!({"audio_id": master_audio, "name": "Guide", "instrument": "piano", "is_master": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let master: Value = res.json().await.unwrap();
        let tid = master["id"].as_str().unwrap().to_string();

        let members_see = |name: &str| name != "stranger" && name != "anonymous";
        for (name, who) in [
            ("owner", &owner),
            ("editor", &editor),
            ("contributor", &contributor),
            ("viewer", &viewer),
            ("stranger", &stranger),
            ("anonymous", &anonymous),
        ] {
            let sees = members_see(name) || visibility == "public" || (visibility == "members" && name == "stranger");
            let see = if sees { StatusCode::OK } else { StatusCode::NOT_FOUND };
            for path in [
                format!("/api/v1/compositions/{cid}"),
                format!("/api/v1/compositions/{cid}/tracks"),
                format!("/api/v1/tracks/{tid}"),
                format!("/api/v1/audio/{master_audio}"),
                format!("/api/v1/audio/{master_audio}/canonical"),
                format!("/api/v1/audio/{master_audio}/peaks"),
            ] {
                assert_eq!(status(who.req(&app, M::GET, &path)).await, see, "{visibility} {name} GET {path}");
            }
            // Editing the composition: owner and editor.
            let edit = status(
                who.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({"tempo_bpm": 100})),
            )
            .await;
            // Writes need a signed-in user first: 401 for anyone anonymous, whatever the id.
            let want = match (name, sees) {
                ("anonymous", _) => StatusCode::UNAUTHORIZED,
                (_, false) => StatusCode::NOT_FOUND,
                ("owner" | "editor", _) => StatusCode::OK,
                _ => StatusCode::FORBIDDEN,
            };
            assert_eq!(edit, want, "{visibility} {name} PATCH composition");
            // Moving someone else's track: owner and editor.
            let moved =
                status(who.req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}")).json(&json!({"offset_frames": 100})))
                    .await;
            // Writes need a signed-in user first: 401 for anyone anonymous, whatever the id.
            let want = match (name, sees) {
                ("anonymous", _) => StatusCode::UNAUTHORIZED,
                (_, false) => StatusCode::NOT_FOUND,
                ("owner" | "editor", _) => StatusCode::OK,
                _ => StatusCode::FORBIDDEN,
            };
            assert_eq!(moved, want, "{visibility} {name} PATCH track");
            // Adding a track of one's own audio: owner, editor, contributor.
            if who.token.is_some() {
                let audio = upload(&app, who, 0.5).await;
                let added = status(
                    who.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
                        .json(&json!({"audio_id": audio, "name": format!("{name} take"), "instrument": "voice"})),
                )
                .await;
                let want = match (name, sees) {
                    (_, false) => StatusCode::NOT_FOUND,
                    ("owner" | "editor" | "contributor", _) => StatusCode::CREATED,
                    _ => StatusCode::FORBIDDEN,
                };
                assert_eq!(added, want, "{visibility} {name} POST track");
            }
        }
        // Only the owner manages members and deletes.
        assert_eq!(
            status(
                editor
                    .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/invitations"))
                    .json(&json!({"role": "viewer"}))
            )
            .await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(editor.req(&app, M::DELETE, &format!("/api/v1/compositions/{cid}"))).await,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn an_open_composition_takes_tracks_from_anyone_who_sees_it() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let guest = user(&app, "guest").await;
    let c = compose(&app, &owner, json!({"title": "Jam", "visibility": "members", "open_to_contribution": true})).await;
    assert_eq!(c["my_role"], "owner");
    let cid = c["id"].as_str().unwrap();
    let mine: Value =
        guest.req(&app, M::GET, &format!("/api/v1/compositions/{cid}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["my_role"], "contributor");
    let audio = upload(&app, &guest, 0.5).await;
    let res = guest
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "Bass line", "instrument": "bass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Someone else's private audio cannot be placed in a track.
    let owners_audio = upload(&app, &owner, 0.5).await;
    let res = guest
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": owners_audio, "name": "x", "instrument": "bass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Only the owner decides who sees a composition and who may add to it; editors change the rest.
#[tokio::test]
async fn only_the_owner_widens_who_sees_a_composition() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let editor = user(&app, "editor").await;
    let c = compose(&app, &owner, json!({"title": "Private"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/compositions/{cid}/members/{}", editor.id);
    owner.req(&app, M::PUT, &url).json(&json!({"role": "editor"})).send().await.unwrap();
    let patch =
        |who: &Who, body: Value| status(who.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&body));
    assert_eq!(patch(&editor, json!({"visibility": "public"})).await, StatusCode::FORBIDDEN);
    assert_eq!(patch(&editor, json!({"open_to_contribution": true})).await, StatusCode::FORBIDDEN);
    assert_eq!(patch(&editor, json!({"tempo_bpm": 100, "title": "Renamed"})).await, StatusCode::OK);
    let now: Value =
        owner.req(&app, M::GET, &format!("/api/v1/compositions/{cid}")).send().await.unwrap().json().await.unwrap();
    assert_eq!((now["visibility"].as_str(), now["title"].as_str()), (Some("private"), Some("Renamed")));
    assert_eq!(patch(&owner, json!({"visibility": "public"})).await, StatusCode::OK);
    // What cannot be changed here is refused by name, not ignored with a 200.
    let res = owner
        .req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}"))
        .json(&json!({"collection_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("unknown field `collection_id`"));
}

/// The composition page knows which tracks its viewer may change: contributors their own only.
#[tokio::test]
async fn the_page_greys_out_the_tracks_a_contributor_may_not_change() {
    // Server functions take the session cookie: two demo browsers.
    let app = TestApp::spawn().await;
    let (owner, contributor) = app.demo_pair("musician", "annotator").await;
    let contributor_id = app.me(&contributor).await.unwrap()["id"].as_str().unwrap().to_string();
    let c = app.post_json(&owner, "/api/v1/compositions", json!({"title": "Band"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let url = app.url(&format!("/api/v1/compositions/{cid}/members/{contributor_id}"));
    owner.http.put(url).json(&json!({"role": "contributor"})).send().await.unwrap();
    let mut ids = Vec::new();
    for b in [&owner, &contributor] {
        let form = Form::new().part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("part.wav"));
        let a: Value =
            b.http.post(app.url("/api/v1/audio")).multipart(form).send().await.unwrap().json().await.unwrap();
        let body = json!({"audio_id": a["id"], "name": "Part", "instrument": "bass"});
        let t = app.post_json(b, &format!("/api/v1/compositions/{cid}/tracks"), body).await;
        ids.push(t["id"].as_str().unwrap().to_string());
    }
    let editable = |b: &crate::helpers::Browser| {
        let req = b.http.post(app.url("/api/get_composition")).form(&[("id", cid.as_str())]);
        async move {
            let view: Value = req.send().await.unwrap().json().await.unwrap();
            let mut ids: Vec<String> = view["editable"]
                .as_array()
                .unwrap_or_else(|| panic!("{view}"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut both = ids.clone();
    both.sort();
    assert_eq!(editable(&owner).await, both);
    assert_eq!(editable(&contributor).await, vec![ids[1].clone()]);
}

#[tokio::test]
async fn collections_list_what_each_user_may_open() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let other = user(&app, "other").await;
    let anonymous = Who { token: None, id: String::new() };
    let make = |title: &str, visibility: &str| json!({"title": title, "visibility": visibility});
    let mut ids = Vec::new();
    for (title, visibility) in [("Sketches", "private"), ("Band", "members"), ("Album", "public")] {
        let res = owner.req(&app, M::POST, "/api/v1/collections").json(&make(title, visibility)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    // In the public collection: one public and one private composition.
    for (title, visibility) in [("Open song", "public"), ("Secret song", "private")] {
        let res = owner
            .req(&app, M::POST, "/api/v1/compositions")
            .json(&json!({"title": title, "visibility": visibility, "collection_id": ids[2]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let titles = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap().to_string()).collect()
    };
    let list: Value = owner.req(&app, M::GET, "/api/v1/collections").send().await.unwrap().json().await.unwrap();
    assert_eq!(titles(&list), ["Album", "Band", "Sketches"]);
    assert_eq!(list[0]["compositions"], 2);
    let list: Value = other.req(&app, M::GET, "/api/v1/collections").send().await.unwrap().json().await.unwrap();
    assert_eq!(titles(&list), ["Album", "Band"]);
    assert_eq!(list[0]["compositions"], 1, "the private composition is not counted for others");
    let list: Value = anonymous.req(&app, M::GET, "/api/v1/collections").send().await.unwrap().json().await.unwrap();
    assert_eq!(titles(&list), ["Album"]);
    // One collection: the private one is 404 to others; a listed one shows only what they may open.
    assert_eq!(
        status(other.req(&app, M::GET, &format!("/api/v1/collections/{}", ids[0]))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(anonymous.req(&app, M::GET, &format!("/api/v1/collections/{}", ids[1]))).await,
        StatusCode::NOT_FOUND
    );
    let album: Value =
        other.req(&app, M::GET, &format!("/api/v1/collections/{}", ids[2])).send().await.unwrap().json().await.unwrap();
    assert_eq!(titles(&album["compositions"]), ["Open song"]);
    // Nobody files compositions into someone else's collection, or deletes it.
    let res = other
        .req(&app, M::POST, "/api/v1/compositions")
        .json(&json!({"title": "Intruder", "collection_id": ids[2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        status(other.req(&app, M::DELETE, &format!("/api/v1/collections/{}", ids[0]))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(other.req(&app, M::DELETE, &format!("/api/v1/collections/{}", ids[2]))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(owner.req(&app, M::POST, "/api/v1/collections").json(&make("  ", "private"))).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        status(anonymous.req(&app, M::POST, "/api/v1/collections").json(&make("x", "public"))).await,
        StatusCode::UNAUTHORIZED
    );
    // Deleting a collection keeps its compositions.
    assert_eq!(
        status(owner.req(&app, M::DELETE, &format!("/api/v1/collections/{}", ids[2]))).await,
        StatusCode::NO_CONTENT
    );
    let mine: Value = owner.req(&app, M::GET, "/api/v1/compositions").send().await.unwrap().json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    assert!(mine.as_array().unwrap().iter().all(|c| c["collection_id"].is_null()));
}

#[tokio::test]
async fn pages_are_compressed_and_audio_bytes_are_not() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let who = user(&app, "listener").await;
    let page = who.req(&app, M::GET, "/studio").header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-encoding"], "gzip");
    let gz = page.bytes().await.unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");
    let page = who.req(&app, M::GET, "/studio").header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(page.headers()["content-encoding"], "br");
    // Without Accept-Encoding the page comes as is.
    let plain = who.req(&app, M::GET, "/studio").send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain.text().await.unwrap().starts_with("<!DOCTYPE html>"));
    // Audio keeps its bytes and its ranges.
    let id = upload(&app, &who, 1.0).await;
    let path = format!("/api/v1/audio/{id}/original");
    let whole = who.req(&app, M::GET, &path).send().await.unwrap().bytes().await.unwrap();
    let res = who
        .req(&app, M::GET, &path)
        .header("accept-encoding", "gzip, br")
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.unwrap(), whole.slice(100..200));
}

#[tokio::test]
async fn the_composition_page_costs_the_same_whatever_the_offsets() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    // The fastest tempo and the shortest bar the meter allows, and a track an hour out.
    let c = compose(
        &app,
        &owner,
        json!({"title": "Far", "visibility": "public", "tempo_bpm": 400, "meter_beats": 1, "meter_unit": 32}),
    )
    .await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "Far", "instrument": "piano", "offset_frames": 3_600 * 48_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let page = reqwest::get(app.url(&format!("/studio/{cid}"))).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let marks = html.matches("class=\"bar\"").count();
    assert!((100..=400).contains(&marks), "{marks} bar marks, {} bytes", html.len());
    assert!(html.len() < 1 << 20, "{} bytes", html.len());
}
