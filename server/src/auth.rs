//! Sign-in routes: OAuth 2.0 authorization code + PKCE + state against a configurable provider
//! (Google by default), demo sign-in, and sign-out. They are plain axum routes because each is a
//! top-level browser navigation ending in a redirect.
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use tower_sessions::Session;

use app::auth::ssr::{ExternalProfile, SESSION_USER_KEY, upsert_user};
use app::error::AppError;

use crate::AppState;
use crate::config::Config;

const STATE_KEY: &str = "oauth_state";
const PKCE_KEY: &str = "oauth_pkce";
const NEXT_KEY: &str = "oauth_next";
const DEMO_ROLES: [&str; 3] = ["musician", "annotator", "admin"];

pub type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

#[derive(Clone)]
pub struct OAuth {
    pub client: OAuthClient,
    pub userinfo_url: url::Url,
    pub provider: String,
    pub http: reqwest::Client,
}

impl OAuth {
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(o) = &config.oauth else {
            return Ok(None);
        };
        let client = BasicClient::new(ClientId::new(o.client_id.clone()))
            .set_client_secret(ClientSecret::new(o.client_secret.clone()))
            .set_auth_uri(AuthUrl::from_url(o.auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(o.token_url.clone()))
            .set_redirect_uri(RedirectUrl::from_url(config.oauth_redirect_url()));
        let http = reqwest::Client::builder()
            // Following redirects from the provider would open the server to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()?;
        Ok(Some(OAuth { client, userinfo_url: o.userinfo_url.clone(), provider: "google".into(), http }))
    }
}

/// A sign-in failure shown to the person as a page, with the matching status.
pub struct SignInError {
    status: StatusCode,
    title: &'static str,
    detail: String,
}

impl SignInError {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, title, detail: detail.into() }
    }
}

impl From<AppError> for SignInError {
    fn from(e: AppError) -> Self {
        SignInError::new(e.status_code(), "Sign-in failed", e.to_string())
    }
}

impl From<tower_sessions::session::Error> for SignInError {
    fn from(e: tower_sessions::session::Error) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for SignInError {
    fn into_response(self) -> Response {
        let page = status_page(self.status, self.title, &self.detail, "/signin", "Try again");
        (self.status, Html(page)).into_response()
    }
}

/// A small standalone page for responses rendered outside the Leptos app.
pub fn status_page(status: StatusCode, title: &str, detail: &str, link: &str, link_text: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Tutti</title><link rel=\"stylesheet\" href=\"/pkg/tutti.css\"></head>\
         <body><main class=\"page\"><section class=\"status-page\"><p class=\"status-code\">{code}</p>\
         <h1>{title}</h1><p>{detail}</p><a class=\"button\" href=\"{link}\">{link_text}</a></section></main></body></html>",
        title = esc(title),
        code = status.as_u16(),
        detail = esc(detail),
        link = esc(link),
        link_text = esc(link_text),
    )
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Result<Response, SignInError> {
    let Some(oauth) = &state.oauth else {
        return Err(SignInError::new(
            StatusCode::NOT_FOUND,
            "Sign-in with an external account is not set up",
            "This server has no OAuth client configured.",
        ));
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = oauth
        .client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    session.insert(STATE_KEY, csrf.secret()).await?;
    session.insert(PKCE_KEY, verifier.secret()).await?;
    session.insert(NEXT_KEY, app::auth::safe_next(q.next)).await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, SignInError> {
    let result = finish_sign_in(&state, &session, q).await;
    if result.is_err() {
        // Whatever went wrong, leave no session behind: not even the pre-sign-in one.
        session.flush().await?;
    }
    result
}

async fn finish_sign_in(state: &AppState, session: &Session, q: CallbackQuery) -> Result<Response, SignInError> {
    let Some(oauth) = &state.oauth else {
        return Err(SignInError::new(StatusCode::NOT_FOUND, "Not found", "No OAuth client is configured."));
    };
    // The state and verifier are single-use: take them out before anything else.
    let expected: Option<String> = session.remove(STATE_KEY).await?;
    let verifier: Option<String> = session.remove(PKCE_KEY).await?;
    let next: String = session.remove(NEXT_KEY).await?.unwrap_or_else(|| "/".into());
    let bad_request = |detail: &str| SignInError::new(StatusCode::BAD_REQUEST, "Sign-in failed", detail);
    let (Some(expected), Some(verifier)) = (expected, verifier) else {
        return Err(bad_request(
            "This sign-in link was not started in this browser, or was already used. Please start again.",
        ));
    };
    match q.state {
        Some(s) if s == expected => {}
        Some(_) => {
            return Err(bad_request("The sign-in response did not match this browser's request (state mismatch)."));
        }
        None => {
            return Err(bad_request("The sign-in response carried no state parameter."));
        }
    }
    if let Some(error) = q.error {
        let detail = match error.as_str() {
            "access_denied" => "You declined to share your account with Tutti.".to_string(),
            _ => format!(
                "The sign-in provider reported an error: {error}{}",
                q.error_description.map(|d| format!(" ({d})")).unwrap_or_default()
            ),
        };
        return Err(SignInError::new(StatusCode::UNAUTHORIZED, "Sign-in was not completed", detail));
    }
    let Some(code) = q.code else {
        return Err(bad_request("The sign-in response carried no authorization code."));
    };
    let token = oauth
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&oauth.http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) if *r.error() == BasicErrorResponseType::InvalidGrant => {
                bad_request("The sign-in code was invalid, expired or already used. Please sign in again.")
            }
            RequestTokenError::Request(e) => {
                tracing::warn!(error = %e, "OAuth token endpoint unreachable");
                SignInError::new(
                    StatusCode::BAD_GATEWAY,
                    "The sign-in provider could not be reached",
                    "Please try again in a moment.",
                )
            }
            other => {
                tracing::warn!(error = %other, "OAuth token exchange failed");
                SignInError::new(
                    StatusCode::BAD_GATEWAY,
                    "The sign-in provider refused the request",
                    "Please try again in a moment.",
                )
            }
        })?;
    let claims = fetch_userinfo(oauth, token.access_token().secret()).await?;
    let profile = crate::claims::profile(&oauth.provider, &claims).map_err(|problem| match problem {
        crate::claims::Problem::Unverified => SignInError::new(
            StatusCode::FORBIDDEN,
            "Sign-in failed",
            "Your e-mail address is not verified with the sign-in provider, so Tutti cannot tell it is yours. \
             Verify it with the provider, then sign in again.",
        ),
        crate::claims::Problem::Malformed(what) => {
            tracing::warn!(what, "OAuth userinfo answer refused");
            SignInError::new(
                StatusCode::BAD_GATEWAY,
                "The sign-in provider sent a profile Tutti cannot use",
                format!("Its {what}. Please try again, or sign in another way."),
            )
        }
    })?;
    let user = upsert_user(&state.ctx.db, &profile, &state.ctx.settings.admin_emails).await?;
    establish(session, user.id).await?;
    tracing::info!(user = %user.id, "signed in with OAuth");
    Ok(Redirect::to(&app::auth::safe_next(Some(next))).into_response())
}

async fn fetch_userinfo(oauth: &OAuth, access_token: &str) -> Result<serde_json::Value, SignInError> {
    let unreachable = |e: reqwest::Error| {
        tracing::warn!(error = %e, "OAuth userinfo endpoint failed");
        SignInError::new(
            StatusCode::BAD_GATEWAY,
            "The sign-in provider could not be reached",
            "Your profile could not be fetched. Please try again in a moment.",
        )
    };
    let res = oauth.http.get(oauth.userinfo_url.clone()).bearer_auth(access_token).send().await.map_err(unreachable)?;
    if !res.status().is_success() {
        tracing::warn!(status = %res.status(), "OAuth userinfo endpoint refused");
        return Err(SignInError::new(
            StatusCode::BAD_GATEWAY,
            "The sign-in provider refused the request",
            "Your profile could not be fetched. Please try again in a moment.",
        ));
    }
    res.json::<serde_json::Value>().await.map_err(unreachable)
}

/// Start an authenticated session. The id is rotated so a session id planted before sign-in
/// (session fixation) is worthless afterwards.
async fn establish(session: &Session, user_id: uuid::Uuid) -> Result<(), SignInError> {
    session.cycle_id().await?;
    session.insert(SESSION_USER_KEY, user_id).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct DemoForm {
    role: String,
    next: Option<String>,
}

pub async fn demo(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DemoForm>,
) -> Result<Response, SignInError> {
    if !state.ctx.settings.demo_enabled {
        return Err(SignInError::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "Demo sign-in is not enabled on this server.",
        ));
    }
    let Some(role) = DEMO_ROLES.iter().find(|r| **r == form.role) else {
        return Err(SignInError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unknown demo role",
            "Choose musician, annotator or admin.",
        ));
    };
    let email = format!("{role}@demo.tutti.invalid");
    let profile = ExternalProfile {
        provider: "demo".into(),
        subject: role.to_string(),
        email: email.clone(),
        email_verified: true,
        display_name: format!("Demo {}{}", role[..1].to_uppercase(), &role[1..]),
        avatar_url: None,
    };
    let admins = if *role == "admin" { vec![email] } else { Vec::new() };
    let user = upsert_user(&state.ctx.db, &profile, &admins).await?;
    establish(&session, user.id).await?;
    Ok(Redirect::to(&app::auth::safe_next(form.next)).into_response())
}

/// Sign-out deletes the session from the store and expires the cookie.
pub async fn logout(session: Session) -> Result<Response, SignInError> {
    session.flush().await?;
    Ok(Redirect::to("/").into_response())
}
