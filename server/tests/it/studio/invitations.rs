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

/// The first `href` in `html` that starts with `prefix`, as written in the page.
fn href_starting(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(&format!("href=\"{prefix}"))? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&"))
}

/// A signed-out visitor with a link learns it is an invitation and how to sign in to accept it,
/// comes back to it after signing in, and learns nothing of the composition before that; a used
/// or unknown token looks the same until then, so the page tells nothing about a token.
#[tokio::test]
async fn a_signed_out_visitor_is_invited_to_sign_in_and_comes_back() {
    use crate::helpers::{Browser, location};
    let app = TestApp::spawn().await;
    let owner = Browser::new();
    app.sign_in_demo(&owner, "musician").await;
    let c = app.post_json(&owner, "/api/v1/compositions", json!({"title": "Moonlit secret"})).await;
    let path = format!("/api/v1/compositions/{}/invitations", c["id"].as_str().unwrap());
    let token = app.post_json(&owner, &path, json!({"role": "viewer"})).await["token"].as_str().unwrap().to_string();
    let used = app.post_json(&owner, &path, json!({"role": "editor"})).await["token"].as_str().unwrap().to_string();
    let (taker, _) = app.demo_pair("annotator", "annotator").await;
    let res = taker.http.post(app.url(&format!("/api/v1/invitations/{used}/accept"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let signed_out = |t: String| {
        let req = Browser::new().http.get(app.url(&format!("/invite/{t}")));
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, html) = signed_out(token.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("You have been invited to a composition on Tutti."), "{html}");
    assert!(html.contains("Sign in to see the invitation and accept it."), "{html}");
    let signin = format!("/signin?next=/invite/{token}");
    assert!(html.contains(&format!("href=\"{signin}\"")), "{html}");
    for secret in ["Moonlit secret", "Demo Musician", "viewer", "Please sign in"] {
        assert!(!html.contains(secret), "{secret:?} shown to a signed-out visitor");
    }
    // Used and unknown tokens: the same page, but for the token in the link.
    let card = |t: &str, page: &str| {
        let start = page.find("<section class=\"card narrow invitation\"").expect("the invitation card");
        page[start..start + page[start..].find("</section>").unwrap()].replace(t, "TOKEN")
    };
    for other in [used.clone(), "no-such-token".to_string()] {
        let (s, page) = signed_out(other.clone()).await;
        assert_eq!(s, status, "{other}");
        assert!(page.contains(&format!("href=\"/signin?next=/invite/{other}\"")), "{other}");
        for tell in ["already used", "does not work", "expired"] {
            assert!(!page.contains(tell), "{other}: {tell}");
        }
        assert_eq!(card(&other, &page), card(&token, &html), "{other}");
    }

    // The sign-in page passes the destination on to both ways of signing in...
    let guest = Browser::new();
    let page = app.get(&guest, &signin).await.text().await.unwrap();
    assert!(page.contains(&format!("name=\"next\" value=\"/invite/{token}\"")), "{page}");
    let oauth = href_starting(&page, "/auth/google/login");
    assert_eq!(oauth, Some(format!("/auth/google/login?next=/invite/{token}")));
    // ...and signing in comes back to the invitation, which now says what it offers.
    let res = guest
        .http
        .post(app.url("/auth/demo"))
        .form(&[("role", "annotator"), ("next", &format!("/invite/{token}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), format!("/invite/{token}"));
    let res = app.get(&guest, &format!("/invite/{token}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Moonlit secret") && html.contains("Accept invitation"), "{html}");
}
