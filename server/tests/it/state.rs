//! Two servers in one process keep their runtime state apart: whatever one remembers in memory
//! (token lookups, campaigns, clips) is its own, as it would be in two processes.
use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_token_remembered_by_one_server_means_nothing_to_another() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn().await;
    let secret = a.user_with_token("script@example.org").await;
    let script = reqwest::Client::new();

    // A looks the token up and remembers its user for a few seconds.
    let me = script.get(a.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // B's database has no such token (nor user); A's memory must not answer for it.
    let other = script.get(b.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}
