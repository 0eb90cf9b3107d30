use mock_oauth::{Failure, MockConfig, MockProvider, MockUser};
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::Value;
use url::Url;

/// RFC 7636 appendix B test vector, so the S256 check is verified independently of this crate.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:3000/auth/callback";

fn client() -> Client {
    // Redirects point at the (absent) app; the tests read them instead of following them.
    Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn start(auto_approve: bool) -> MockProvider {
    MockProvider::start(MockConfig { auto_approve, ..MockConfig::default() }).await.unwrap()
}

fn authorize_url(mock: &MockProvider, client_id: &str) -> String {
    let mut url = Url::parse(&mock.auth_url()).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st&te")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scope", "openid email profile");
    url.into()
}

/// The query of a 303 redirect to the app's callback.
fn callback_query(response: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    assert_eq!(&url[..url::Position::AfterPath], REDIRECT);
    url.query_pairs().into_owned().collect()
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

async fn authorize_code(mock: &MockProvider) -> String {
    let response = client().get(authorize_url(mock, "test-client")).send().await.unwrap();
    let query = callback_query(&response);
    assert_eq!(param(&query, "state"), Some("st&te"));
    param(&query, "code").expect("code").to_owned()
}

/// Exchanges a code the way the oauth2 crate does: HTTP Basic with form-encoded credentials.
async fn exchange(mock: &MockProvider, code: &str, verifier: &str, secret: &str) -> (StatusCode, Value) {
    let response = client()
        .post(mock.token_url())
        .basic_auth("test-client", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn userinfo(mock: &MockProvider, token: &str) -> reqwest::Response {
    client().get(mock.userinfo_url()).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn happy_path_with_pkce() {
    let mock = start(true).await;
    let code = authorize_code(&mock).await;

    let (status, body) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid email profile");
    let token = body["access_token"].as_str().unwrap();

    let response = userinfo(&mock, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["sub"], "mock-ada@example.org");
    assert_eq!(info["email"], "ada@example.org");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Ada Lovelace");
    assert_eq!(info["given_name"], "Ada");
    assert!(info["picture"].is_null());
    assert_eq!(mock.token_requests(), 1);
    mock.stop().await;
}

#[tokio::test]
async fn set_user_changes_later_grants_and_client_secret_may_be_in_the_body() {
    let mock = start(true).await;
    let grace = MockUser { sub: "grace-1".into(), email: "grace@example.org".into(), name: "Grace Hopper".into() };
    mock.set_user(grace);
    let code = authorize_code(&mock).await;

    let response = client()
        .post(mock.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "test-client"),
            ("client_secret", "test-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let info: Value = userinfo(&mock, body["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(info["sub"], "grace-1");
    assert_eq!(info["email"], "grace@example.org");
}

#[tokio::test]
async fn basic_credentials_are_accepted_form_encoded() {
    let mock =
        MockProvider::start(MockConfig { client_secret: "s3cret/with:odd chars".into(), ..MockConfig::default() })
            .await
            .unwrap();
    let code = authorize_code(&mock).await;
    let (status, body) = exchange(&mock, &code, VERIFIER, "s3cret%2Fwith%3Aodd+chars").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn replayed_code_is_invalid_grant() {
    let mock = start(true).await;
    let code = authorize_code(&mock).await;
    let (first, _) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(first, StatusCode::OK);

    let (second, body) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(second, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(mock.token_requests(), 2);
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant_and_burns_the_code() {
    let mock = start(true).await;
    let code = authorize_code(&mock).await;
    let wrong = "A".repeat(43);
    let (status, body) = exchange(&mock, &code, &wrong, "test-secret").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    let (status, body) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn bad_client_secret_is_invalid_client_and_keeps_the_code() {
    let mock = start(true).await;
    let code = authorize_code(&mock).await;
    let (status, body) = exchange(&mock, &code, VERIFIER, "nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");

    // An unauthenticated caller must not be able to spend someone else's code.
    let (status, _) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn mismatched_redirect_uri_is_invalid_grant() {
    let mock = start(true).await;
    let code = authorize_code(&mock).await;
    let response = client()
        .post(mock.token_url())
        .basic_auth("test-client", Some("test-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:3000/elsewhere"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn userinfo_rejects_unknown_token() {
    let mock = start(true).await;
    let response = userinfo(&mock, "not-a-token").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));

    let response = client().get(mock.userinfo_url()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn injected_authorize_error_redirects_back() {
    let mock = start(true).await;
    mock.set_failure(Failure::AuthorizeError("temporarily_unavailable".into()));
    let response = client().get(authorize_url(&mock, "test-client")).send().await.unwrap();
    let query = callback_query(&response);
    assert_eq!(param(&query, "error"), Some("temporarily_unavailable"));
    assert_eq!(param(&query, "state"), Some("st&te"));
    assert_eq!(param(&query, "code"), None);
}

#[tokio::test]
async fn injected_server_errors() {
    let mock = start(true).await;
    let code = authorize_code(&mock).await;
    mock.set_failure(Failure::TokenServerError);
    let (status, _) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    mock.set_failure(Failure::None);
    let (status, body) = exchange(&mock, &code, VERIFIER, "test-secret").await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().unwrap();

    mock.set_failure(Failure::UserinfoServerError);
    assert_eq!(userinfo(&mock, token).await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    mock.set_failure(Failure::None);
    assert_eq!(userinfo(&mock, token).await.status(), StatusCode::OK);
    assert_eq!(mock.token_requests(), 2);
}

#[tokio::test]
async fn unknown_client_gets_an_error_page_not_a_redirect() {
    let mock = start(true).await;
    let response = client().get(authorize_url(&mock, "intruder")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("Unknown client_id"));
}

#[tokio::test]
async fn form_sign_in_uses_the_entered_identity() {
    let mock = start(false).await;
    let response = client().get(authorize_url(&mock, "test-client")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Mock sign-in</title>"));
    assert!(html.contains(r#"id="email" name="email" type="text" value="ada@example.org""#));
    assert!(html.contains(r#"id="name" name="name" type="text" value="Ada Lovelace""#));
    assert!(html.contains(r#"name="state" value="st&amp;te""#));
    assert!(!html.contains("<script"));

    // Post back what the browser would: the hidden fields plus the edited inputs.
    let url = Url::parse(&authorize_url(&mock, "test-client")).unwrap();
    let mut fields: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    fields.push(("email".into(), "lin@example.org".into()));
    fields.push(("name".into(), "Lin Chen".into()));
    fields.push(("action".into(), "approve".into()));
    let response = client().post(mock.auth_url()).form(&fields).send().await.unwrap();
    let query = callback_query(&response);
    let code = param(&query, "code").unwrap();

    let (status, body) = exchange(&mock, code, VERIFIER, "test-secret").await;
    assert_eq!(status, StatusCode::OK);
    let info: Value = userinfo(&mock, body["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(info["sub"], "mock-lin@example.org");
    assert_eq!(info["email"], "lin@example.org");
    assert_eq!(info["name"], "Lin Chen");

    // Deny goes back to the client with access_denied.
    fields.retain(|(k, _)| k != "action");
    fields.push(("action".into(), "deny".into()));
    let response = client().post(mock.auth_url()).form(&fields).send().await.unwrap();
    let query = callback_query(&response);
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some("st&te"));
}

#[tokio::test]
async fn stop_closes_the_port() {
    let mock = start(true).await;
    let url = mock.base_url();
    mock.stop().await;
    assert!(client().get(url).send().await.is_err());
}
