//! The studio model over HTTP: the permissions matrix on every surface, invitations, track state.
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::TestApp;
use crate::ingest::wav;

/// A script client acting as one user through an API token.
struct Who {
    token: Option<String>,
    id: String,
}

impl Who {
    fn req(&self, app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = reqwest::Client::new().request(method, app.url(path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
}

async fn user(app: &TestApp, name: &str) -> Who {
    let token = app.user_with_token(&format!("{name}@example.org")).await;
    let me: Value = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Who { token: Some(token), id: me["id"].as_str().unwrap().to_string() }
}

/// Ask for the composition's mixdown and follow its job to the end: the mix's audio record.
async fn mixdown(app: &TestApp, who: &Who, cid: &str) -> Value {
    crate::helpers::render_mixdown(|m, p| who.req(app, m, p), cid).await
}

/// The job at `location` once it has ended.
async fn finished(app: &TestApp, who: &Who, location: &str) -> Value {
    crate::helpers::finished_job(&|m, p| who.req(app, m, p), location).await
}

async fn upload(app: &TestApp, who: &Who, seconds: f64) -> String {
    let form = Form::new().part("file", Part::bytes(wav(8_000, 1, seconds)).file_name("take.wav"));
    let res = who.req(app, reqwest::Method::POST, "/api/v1/audio").multipart(form).send().await.unwrap();
    assert!(res.status().is_success());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// Creates a composition as `who`; the server's answer.
async fn compose(app: &TestApp, who: &Who, body: Value) -> Value {
    who.req(app, reqwest::Method::POST, "/api/v1/compositions").json(&body).send().await.unwrap().json().await.unwrap()
}

async fn status(res: reqwest::RequestBuilder) -> StatusCode {
    res.send().await.unwrap().status()
}

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

#[tokio::test]
async fn invitations_are_single_use_and_expire() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let guest = user(&app, "guest").await;
    let late = user(&app, "late").await;
    let c = compose(&app, &owner, json!({"title": "Secret"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    assert_eq!(status(guest.req(&app, M::GET, &format!("/api/v1/compositions/{cid}"))).await, StatusCode::NOT_FOUND);

    let inv: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/invitations"))
        .json(&json!({"role": "contributor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = inv["token"].as_str().unwrap().to_string();
    assert_eq!(inv["path"], format!("/invite/{token}"));
    let res = guest.req(&app, M::POST, &format!("/api/v1/invitations/{token}/accept")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["my_role"], "contributor");
    assert_eq!(status(guest.req(&app, M::GET, &format!("/api/v1/compositions/{cid}"))).await, StatusCode::OK);
    // Used once: a second person cannot use it.
    let res = late.req(&app, M::POST, &format!("/api/v1/invitations/{token}/accept")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(status(late.req(&app, M::GET, &format!("/api/v1/compositions/{cid}"))).await, StatusCode::NOT_FOUND);
    // An expired one does nothing.
    let inv: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/invitations"))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app::db::invitation::Entity::update_many()
        .col_expr(
            app::db::invitation::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(app::db::invitation::Column::Id.eq(inv["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    let res = late
        .req(&app, M::POST, &format!("/api/v1/invitations/{}/accept", inv["token"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("expired"));
    assert_eq!(
        status(late.req(&app, M::POST, "/api/v1/invitations/no-such-token/accept")).await,
        StatusCode::NOT_FOUND
    );
    // Six people accepting one link at the same moment: one gets in, the others get 409 and no role.
    let inv: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/invitations"))
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut racers = Vec::new();
    for i in 0..6 {
        racers.push(user(&app, &format!("racer{i}")).await);
    }
    let url = format!("/api/v1/invitations/{}/accept", inv["token"].as_str().unwrap());
    let answers = futures::future::join_all(racers.iter().map(|r| status(r.req(&app, M::POST, &url)))).await;
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{answers:?}");
    let editors = app::db::member::Entity::find()
        .filter(app::db::member::Column::CompositionId.eq(cid.parse::<uuid::Uuid>().unwrap()))
        .filter(app::db::member::Column::Role.eq("editor"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(editors, 1);
    // Only a hash of the token is stored.
    let stored = app::db::invitation::Entity::find().all(&app.db).await.unwrap();
    assert!(stored.iter().all(|i| i.token_hash != token));
}

/// One master per composition, even when several requests to add one arrive together.
#[tokio::test]
async fn a_composition_has_one_master_even_when_requests_race() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Guide"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let audio = upload(&app, &owner, 0.5).await;
    let url = format!("/api/v1/compositions/{cid}/tracks");
    let body = json!({"audio_id": audio, "name": "Guide", "instrument": "piano", "is_master": true});
    let answers = futures::future::join_all((0..20).map(|_| status(owner.req(&app, M::POST, &url).json(&body)))).await;
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{answers:?}");
    let masters = app::db::track::Entity::find()
        .filter(app::db::track::Column::CompositionId.eq(cid.parse::<uuid::Uuid>().unwrap()))
        .filter(app::db::track::Column::IsMaster.eq(true))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(masters, 1);
}

#[tokio::test]
async fn offsets_and_mixer_state_are_persisted_and_checked() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Mix"})).await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    let t: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "Keys", "instrument": "piano", "offset_frames": 22050}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tid = t["id"].as_str().unwrap();
    let res = owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}"))
        .json(&json!({"offset_frames": 44100, "gain_db": -6.0, "pan": -0.5, "mute": true, "solo": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let back: Vec<Value> = owner
        .req(&app, M::GET, &format!("/api/v1/compositions/{cid}/tracks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back[0]["offset_frames"], 44100);
    assert_eq!(back[0]["gain_db"], -6.0);
    assert_eq!(back[0]["pan"], -0.5);
    assert_eq!((back[0]["mute"].as_bool(), back[0]["solo"].as_bool()), (Some(true), Some(true)));
    for bad in [json!({"pan": 2.0}), json!({"gain_db": 40.0}), json!({"instrument": "kazoo"})] {
        let res = owner.req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}")).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "x", "instrument": "kazoo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner
        .req(&app, M::POST, "/api/v1/compositions")
        .json(&json!({"title": "Too fast", "tempo_bpm": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// 16-bit mono WAV of silence with single full-scale clicks at the given frames.
fn clicks(rate: u32, frames: usize, at: &[usize]) -> Vec<u8> {
    let mut samples = vec![0.0f32; frames];
    for &i in at {
        samples[i] = 1.0;
    }
    ::audio::wav::encode_i16(&samples, rate, 1)
}

#[tokio::test]
async fn the_server_mixdown_places_every_click_at_its_sample_with_the_pan_law() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Clicks"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let add = |bytes: Vec<u8>, name: &'static str| {
        let (app, owner, cid) = (&app, &owner, cid.clone());
        async move {
            let form = Form::new().part("file", Part::bytes(bytes).file_name(format!("{name}.wav")));
            let a: Value =
                owner.req(app, M::POST, "/api/v1/audio").multipart(form).send().await.unwrap().json().await.unwrap();
            let t: Value = owner
                .req(app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
                .json(&json!({"audio_id": a["id"], "name": name, "instrument": "drums"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            t["id"].as_str().unwrap().to_string()
        }
    };
    // Track A: click at frame 1000, placed at 22 050 (0.5 s), centre.
    let a = add(clicks(44_100, 44_100, &[1000]), "a").await;
    owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{a}"))
        .json(&json!({"offset_frames": 22050}))
        .send()
        .await
        .unwrap();
    // Track B: click at frame 10, hard left, −6.0206 dB; Track C: muted.
    let b = add(clicks(44_100, 44_100, &[10, 5]), "b").await;
    owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{b}"))
        .json(&json!({"pan": -1.0, "gain_db": -6.0206}))
        .send()
        .await
        .unwrap();
    let m = add(clicks(44_100, 44_100, &[300]), "m").await;
    owner.req(&app, M::PATCH, &format!("/api/v1/tracks/{m}")).json(&json!({"mute": true})).send().await.unwrap();

    let mix = mixdown(&app, &owner, &cid).await;
    assert_eq!(mix["kind"], "mixdown");
    assert_eq!(mix["canonical_channels"], 2);
    assert_eq!(mix["frames"], 22050 + 44100);
    // The mix as rendered: the original is a 32-bit float WAV (58-byte header, then stereo frames).
    let wav = owner
        .req(&app, M::GET, &format!("/api/v1/audio/{}/original", mix["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 3, "IEEE float");
    let s: Vec<f32> = wav[58..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert_eq!(s.len(), 2 * 66_150);
    let frame = |i: usize| (s[2 * i], s[2 * i + 1]);
    let centre = std::f32::consts::FRAC_1_SQRT_2;
    let q = 1.0 / 32767.0; // the sources' 16-bit quantisation (full scale is 32767/32768)
    let (l, r) = frame(22050 + 1000);
    assert!((l - centre).abs() < q && (r - centre).abs() < q, "A at 23050: {l} {r}");
    for i in [10, 5] {
        let (l, r) = frame(i);
        assert!((l - 0.5).abs() < q && r.abs() < q, "B at {i}: {l} {r}");
    }
    // Nothing else sounds: the muted click and every other sample are silent.
    let loud: Vec<usize> = (0..s.len() / 2).filter(|&i| frame(i).0.abs() > q || frame(i).1.abs() > q).collect();
    assert_eq!(loud, vec![5, 10, 23050]);
    // The mixdown is visible to whoever sees the composition, and to no one else.
    let stranger = user(&app, "stranger").await;
    let path = format!("/api/v1/audio/{}/canonical", mix["id"].as_str().unwrap());
    assert_eq!(status(stranger.req(&app, M::GET, &path)).await, StatusCode::NOT_FOUND);
    owner
        .req(&app, M::PUT, &format!("/api/v1/compositions/{cid}/members/{}", stranger.id))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(stranger.req(&app, M::GET, &path)).await, StatusCode::OK);
    assert_eq!(
        status(stranger.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown"))).await,
        StatusCode::FORBIDDEN
    );
    // Removing a track retires the mix that holds its audio.
    let extra = add(clicks(44_100, 100, &[1]), "extra").await;
    let stale = mixdown(&app, &owner, &cid).await;
    assert_eq!(
        status(stranger.req(&app, M::GET, &format!("/api/v1/audio/{}/canonical", stale["id"].as_str().unwrap()))).await,
        StatusCode::OK
    );
    assert_eq!(status(owner.req(&app, M::DELETE, &format!("/api/v1/tracks/{extra}"))).await, StatusCode::NO_CONTENT);
    assert_eq!(
        status(stranger.req(&app, M::GET, &format!("/api/v1/audio/{}/canonical", stale["id"].as_str().unwrap()))).await,
        StatusCode::NOT_FOUND
    );
    let info: Value =
        owner.req(&app, M::GET, &format!("/api/v1/compositions/{cid}")).send().await.unwrap().json().await.unwrap();
    assert!(info["mixdown_id"].is_null(), "{info}");
    mixdown(&app, &owner, &cid).await;
    // It follows the composition's visibility as that changes: public, then private, then gone.
    let visibility = |v: &'static str| {
        owner.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({ "visibility": v })).send()
    };
    assert_eq!(visibility("public").await.unwrap().status(), StatusCode::OK);
    let nobody = reqwest::Client::new();
    assert_eq!(nobody.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(visibility("private").await.unwrap().status(), StatusCode::OK);
    assert_eq!(nobody.get(app.url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let meta = format!("/api/v1/audio/{}", mix["id"].as_str().unwrap());
    assert_eq!(nobody.get(app.url(&meta)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(visibility("public").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        status(owner.req(&app, M::DELETE, &format!("/api/v1/compositions/{cid}"))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(nobody.get(app.url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(status(stranger.req(&app, M::GET, &path)).await, StatusCode::NOT_FOUND);
    assert_eq!(status(owner.req(&app, M::GET, &path)).await, StatusCode::OK, "the owner keeps the mix");
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

/// The invitation page says what the link offers before it is accepted, and why it no longer can be.
#[tokio::test]
async fn an_invitation_says_what_it_offers_before_it_is_accepted() {
    let app = TestApp::spawn().await;
    let (owner, guest) = app.demo_pair("musician", "annotator").await;
    let c = app.post_json(&owner, "/api/v1/compositions", json!({"title": "Night song"})).await;
    let path = format!("/api/v1/compositions/{}/invitations", c["id"].as_str().unwrap());
    let inv = app.post_json(&owner, &path, json!({"role": "contributor"})).await;
    let token = inv["token"].as_str().unwrap();
    let preview = |token: &str| {
        let req = guest.http.post(app.url("/api/preview_invitation")).form(&[("token", token)]);
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, p) = preview(token).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!((p["composition_title"].as_str(), p["role"].as_str()), (Some("Night song"), Some("contributor")));
    assert!(p["unusable"].is_null(), "{p}");
    let accepted = guest.http.post(app.url(&format!("/api/v1/invitations/{token}/accept"))).send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let (_, p) = preview(token).await;
    assert!(p["unusable"].as_str().unwrap().contains("already used"), "{p}");
    assert_eq!(preview("no-such-token").await.0, StatusCode::NOT_FOUND);
    let signed_out = reqwest::Client::new().post(app.url("/api/preview_invitation")).form(&[("token", token)]);
    assert_eq!(signed_out.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// A mix with nothing to play says why: every track muted, or every track before the start.
#[tokio::test]
async fn a_mixdown_with_nothing_to_play_says_why() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Early"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let audio = upload(&app, &owner, 0.5).await;
    let t: Value = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "Early", "instrument": "drums", "offset_frames": -44_100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let render = || async {
        let res = owner.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
        (res.status(), res.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_string())
    };
    let (status, message) = render().await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("ends before the composition's start"), "{message}");
    let patch = json!({"mute": true});
    owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{}", t["id"].as_str().unwrap()))
        .json(&patch)
        .send()
        .await
        .unwrap();
    let (status, message) = render().await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("Every track is muted"), "{message}");
    assert_eq!(
        app::db::audio::Entity::find().filter(app::db::audio::Column::Kind.eq("mixdown")).count(&app.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_browser_take_is_stored_as_a_recording_with_its_provenance() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let musician = user(&app, "musician").await;
    // What the browser uploads: mono 32-bit float WAV at the capture rate, samples kept exactly.
    let rate = 48_000u32;
    let samples: Vec<f32> = (0..rate * 2).map(|i| ((i % 4096) as f32 - 2048.0) / 4096.0).collect();
    let form = Form::new()
        .text("kind", "recording")
        .part("file", Part::bytes(::audio::wav::encode_f32(&samples, rate, 1)).file_name("Take 1.wav"));
    let res = musician.req(&app, M::POST, "/api/v1/audio").multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let take: Value = res.json().await.unwrap();
    assert_eq!(take["kind"], "recording");
    assert_eq!(take["original_rate"], 48_000);
    assert_eq!(take["original_codec"], "pcm_f32le");
    assert!((take["duration_seconds"].as_f64().unwrap() - 2.0).abs() < 1.0 / 44_100.0, "{take}");
    // The original bytes are the float samples, unchanged.
    let id = take["id"].as_str().unwrap();
    let original = musician
        .req(&app, M::GET, &format!("/api/v1/audio/{id}/original"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let back: Vec<f32> = original[58..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(back, samples);

    // Placed at an offset with its capture provenance, which reads back as stored.
    let c = compose(&app, &musician, json!({"title": "Takes"})).await;
    let capture = json!({"source": "browser", "input_device": "USB mic", "capture_sample_rate": 48000,
        "latency": {"round_trip_ms": 12.5, "quality_db": 31.0}, "compensation_ms": 12.5, "compensation_frames": 551});
    let res = musician
        .req(&app, M::POST, &format!("/api/v1/compositions/{}/tracks", c["id"].as_str().unwrap()))
        .json(&json!({"audio_id": id, "name": "Take 1", "instrument": "voice", "offset_frames": -551, "capture": capture}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let track: Value = res.json().await.unwrap();
    assert_eq!(track["offset_frames"], -551);
    assert_eq!(track["capture"], capture);

    // Only uploads and recordings come from clients.
    for kind in ["clip", "mixdown", "podcast"] {
        let form = Form::new().text("kind", kind).part("file", Part::bytes(wav(8_000, 1, 0.5)).file_name("x.wav"));
        let res = musician.req(&app, M::POST, "/api/v1/audio").multipart(form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(res.text().await.unwrap().contains("Unknown audio kind"));
    }
}

#[tokio::test]
async fn latency_measurements_are_kept_per_user_and_device() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let good = json!({"device_key": "dev-1", "device_label": "USB mic", "latency_ms": 42.5, "spread_ms": 0.3,
        "quality_db": 34.0, "sample_rate": 48000, "runs": 5, "accepted": 5, "user_agent": "test"});
    let res = ada.req(&app, M::PUT, "/api/v1/me/latency").json(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Measuring the same device again replaces the value; another device is kept beside it.
    let again = json!({"device_key": "dev-1", "latency_ms": 40.0, "quality_db": 30.0, "sample_rate": 48000,
        "runs": 5, "accepted": 4});
    let res = ada.req(&app, M::PUT, "/api/v1/me/latency").json(&again).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let other = json!({"device_key": "dev-2", "latency_ms": 8.0, "quality_db": 40.0, "sample_rate": 44100,
        "runs": 3, "accepted": 3});
    assert_eq!(status(ada.req(&app, M::PUT, "/api/v1/me/latency").json(&other)).await, StatusCode::OK);
    let list: Value = ada.req(&app, M::GET, "/api/v1/me/latency").send().await.unwrap().json().await.unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let dev1 = list.iter().find(|c| c["device_key"] == "dev-1").unwrap();
    assert_eq!(dev1["latency_ms"], 40.0);
    assert_eq!(dev1["accepted"], 4);
    // Each user sees only their own.
    let theirs: Value = bob.req(&app, M::GET, "/api/v1/me/latency").send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs, json!([]));
    let anonymous = Who { token: None, id: String::new() };
    assert_eq!(status(anonymous.req(&app, M::GET, "/api/v1/me/latency")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(anonymous.req(&app, M::PUT, "/api/v1/me/latency").json(&good)).await, StatusCode::UNAUTHORIZED);
    // A weak or impossible measurement is refused with a reason, and nothing is stored.
    for (field, value, words) in [
        ("quality_db", json!(12.0), "too weak"),
        ("latency_ms", json!(-3.0), "between 0 and 1000"),
        ("latency_ms", json!(5000.0), "between 0 and 1000"),
        ("device_key", json!("  "), "device"),
        ("accepted", json!(6), "Runs"),
        ("sample_rate", json!(1000), "sample rate"),
    ] {
        let mut bad = good.clone();
        bad["device_key"] = json!("dev-bad");
        bad[field] = value;
        let res = bob.req(&app, M::PUT, "/api/v1/me/latency").json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(res.text().await.unwrap().contains(words), "{field}");
    }
    let theirs: Value = bob.req(&app, M::GET, "/api/v1/me/latency").send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs, json!([]));
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
async fn far_off_tracks_and_long_texts_are_refused_before_anything_is_allocated() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Far"})).await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    let add = |offset: i64| {
        owner
            .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
            .json(&json!({"audio_id": audio, "name": "Keys", "instrument": "piano", "offset_frames": offset}))
            .send()
    };
    for offset in [i64::MAX, i64::MIN, 10_000_000_000] {
        let res = add(offset).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{offset}");
        let v: Value = res.json().await.unwrap();
        assert!(v["message"].as_str().unwrap().contains("can start at most"), "{v}");
    }
    let t: Value = add(0).await.unwrap().json().await.unwrap();
    let tid = t["id"].as_str().unwrap();
    let res = owner
        .req(&app, M::PATCH, &format!("/api/v1/tracks/{tid}"))
        .json(&json!({"offset_frames": i64::MAX}))
        .send()
        .await;
    assert_eq!(res.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A track stored far out before offsets were checked: the mixdown refuses, and the server lives.
    app::db::track::Entity::update_many()
        .col_expr(app::db::track::Column::OffsetFrames, sea_orm::sea_query::Expr::value(i64::MAX - 1))
        .exec(&app.db)
        .await
        .unwrap();
    let res = owner.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = res.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("later than Tutti renders"), "{v}");
    assert_eq!(owner.req(&app, M::GET, "/api/v1/me").send().await.unwrap().status(), StatusCode::OK);

    let long = "x".repeat(5_001);
    let res = owner.req(&app, M::POST, "/api/v1/compositions").json(&json!({"title": "T", "description": long})).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({"description": long}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner.req(&app, M::PATCH, &format!("/api/v1/audio/{audio}")).json(&json!({"title": "t".repeat(201)}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "K", "instrument": "piano", "capture": {"note": "y".repeat(70_000)}}))
        .send();
    assert_eq!(res.await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = owner.req(&app, M::PATCH, &format!("/api/v1/compositions/{cid}")).json(&json!({"description": "fine"}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
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

#[tokio::test]
async fn a_mixdown_job_is_seen_and_cancelled_by_whoever_asked_for_it_only() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let editor = user(&app, "editor").await;
    let stranger = user(&app, "stranger").await;
    let c = compose(&app, &owner, json!({"title": "Jobs", "visibility": "public"})).await;
    let cid = c["id"].as_str().unwrap();
    let res = owner
        .req(&app, M::PUT, &format!("/api/v1/compositions/{cid}/members/{}", editor.id))
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let audio = upload(&app, &owner, 1.0).await;
    let res = owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "One", "instrument": "piano"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = editor.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    // Seen by whoever asked for it; a stranger (even one who sees the composition) and a signed-out
    // visitor cannot tell it exists.
    assert_eq!(status(stranger.req(&app, M::GET, &location)).await, StatusCode::NOT_FOUND);
    assert_eq!(status(stranger.req(&app, M::DELETE, &location)).await, StatusCode::NOT_FOUND);
    assert_eq!(reqwest::get(app.url(&location)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let job = finished(&app, &editor, &location).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["kind"], "mixdown");
    // An ended job cannot be cancelled.
    let res = editor.req(&app, M::DELETE, &location).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // The composition names the mix the job made.
    let info: Value =
        owner.req(&app, M::GET, &format!("/api/v1/compositions/{cid}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["mixdown_id"], job["result"]["audio_id"], "{info}");
    let missing = format!("/api/v1/jobs/{}", uuid::Uuid::new_v4());
    assert_eq!(status(editor.req(&app, M::GET, &missing)).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_queued_mixdown_is_asked_for_once_and_can_be_cancelled() {
    use reqwest::Method as M;
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let c = compose(&app, &owner, json!({"title": "Queued"})).await;
    let cid = c["id"].as_str().unwrap();
    let audio = upload(&app, &owner, 0.5).await;
    owner
        .req(&app, M::POST, &format!("/api/v1/compositions/{cid}/tracks"))
        .json(&json!({"audio_id": audio, "name": "One", "instrument": "piano"}))
        .send()
        .await
        .unwrap();
    // A mixdown already on its way (queued, not due for a long while).
    let payload = json!({ "composition_id": cid }).to_string();
    let owner_id = uuid::Uuid::parse_str(&owner.id).unwrap();
    let pending = app::jobs::enqueue(&app.db, "mixdown", &payload, Some(owner_id)).await.unwrap();
    app::db::job::Entity::update_many()
        .col_expr(app::db::job::Column::RunAfter, sea_orm::sea_query::Expr::value(i64::MAX / 2))
        .filter(app::db::job::Column::Id.eq(pending.id))
        .exec(&app.db)
        .await
        .unwrap();
    let ask = || owner.req(&app, M::POST, &format!("/api/v1/compositions/{cid}/mixdown")).send();
    let again: Value = ask().await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], pending.id.to_string(), "one job per composition while one is on its way");
    assert_eq!(again["state"], "queued");
    let location = format!("/api/v1/jobs/{}", pending.id);
    let res = owner.req(&app, M::DELETE, &location).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let job: Value = res.json().await.unwrap();
    assert_eq!(job["state"], "cancelled");
    // Asked again, a new job renders the mix.
    let mix = mixdown(&app, &owner, cid).await;
    assert_eq!(mix["kind"], "mixdown");
}
