//! Invitations: single use, expiring, saying what they offer.
use super::common::*;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

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
