//! A local OAuth 2.0 authorization server standing in for Google in tests and offline development.
//!
//! It implements the authorization-code grant with PKCE (RFC 6749, RFC 7636) and a Google-shaped
//! OpenID userinfo endpoint. All state lives in memory and ends with the provider.

use std::{
    collections::HashMap,
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use url::{Url, form_urlencoded};

/// Google's authorization codes are short-lived; a tight limit catches clients that dawdle.
const CODE_TTL: Duration = Duration::from_secs(60);
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The identity an authorization grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockUser {
    pub sub: String,
    pub email: String,
    pub name: String,
}

impl MockUser {
    /// A user whose subject is derived from the email, exactly as the sign-in form derives it.
    pub fn new(email: impl Into<String>, name: impl Into<String>) -> Self {
        let email = email.into();
        Self { sub: format!("mock-{email}"), email, name: name.into() }
    }
}

#[derive(Clone, Debug)]
pub struct MockConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Grant the current user without showing the sign-in form.
    pub auto_approve: bool,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub user: MockUser,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            client_id: "test-client".into(),
            client_secret: "test-secret".into(),
            auto_approve: true,
            port: 0,
            user: MockUser::new("ada@example.org", "Ada Lovelace"),
        }
    }
}

/// Error injection, so callers can exercise their failure paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Failure {
    #[default]
    None,
    /// `POST /token` answers 500.
    TokenServerError,
    /// `GET /userinfo` answers 500.
    UserinfoServerError,
    /// `/authorize` redirects back with `?error=<code>`.
    AuthorizeError(String),
}

/// A running provider. Dropping it shuts the server down as well.
pub struct MockProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl MockProvider {
    pub async fn start(cfg: MockConfig) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, cfg.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            client_id: cfg.client_id,
            client_secret: cfg.client_secret,
            auto_approve: cfg.auto_approve,
            token_requests: AtomicUsize::new(0),
            state: Mutex::new(Inner {
                user: cfg.user,
                userinfo: None,
                failure: Failure::None,
                codes: HashMap::new(),
                tokens: HashMap::new(),
            }),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = router(shared.clone());
        // The receiver also resolves when the sender is dropped, which ties the server's
        // lifetime to the handle's.
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self { addr, shared, shutdown, task })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn auth_url(&self) -> String {
        format!("{}/authorize", self.base_url())
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    pub fn userinfo_url(&self) -> String {
        format!("{}/userinfo", self.base_url())
    }

    /// Sets the identity granted by subsequent authorizations (and prefilled in the form).
    pub fn set_user(&self, user: MockUser) {
        self.shared.inner().user = user;
    }

    /// Answer `GET /userinfo` (for a valid token) with exactly this JSON instead of the user's
    /// profile, so callers can test claims a real provider might send; `None` restores the default.
    pub fn set_userinfo(&self, claims: Option<serde_json::Value>) {
        self.shared.inner().userinfo = claims;
    }

    pub fn set_failure(&self, failure: Failure) {
        self.shared.inner().failure = failure;
    }

    /// How many `POST /token` requests arrived, successful or not.
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    pub async fn stop(self) {
        let Self { shutdown, mut task, .. } = self;
        let _ = shutdown.send(());
        // In-flight requests get a moment to finish, but a client holding a connection open
        // must not stall shutdown.
        if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
            task.abort();
        }
    }
}

struct Shared {
    client_id: String,
    client_secret: String,
    auto_approve: bool,
    token_requests: AtomicUsize,
    state: Mutex<Inner>,
}

struct Inner {
    user: MockUser,
    userinfo: Option<serde_json::Value>,
    failure: Failure,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, (MockUser, Instant)>,
}

/// What an authorization code stands for until it is exchanged.
struct Grant {
    redirect_uri: String,
    challenge: Option<String>,
    scope: Option<String>,
    user: MockUser,
    issued: Instant,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // No code path panics while holding the lock, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn client_authenticated(&self, headers: &HeaderMap, form: &TokenParams) -> bool {
        let Some(basic) = auth_param(headers, "Basic") else {
            return form.client_id.as_deref() == Some(&self.client_id)
                && form.client_secret.as_deref() == Some(&self.client_secret);
        };
        let Some(decoded) = STANDARD.decode(basic).ok().and_then(|b| String::from_utf8(b).ok()) else {
            return false;
        };
        let Some((id, secret)) = decoded.split_once(':') else {
            return false;
        };
        // RFC 6749 §2.3.1 form-encodes both parts (the oauth2 crate does); many clients don't.
        let matches = |given: &str, expected: &str| {
            given == expected || given == form_urlencoded::byte_serialize(expected.as_bytes()).collect::<String>()
        };
        matches(id, &self.client_id) && matches(secret, &self.client_secret)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/authorize", get(authorize).post(sign_in))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(shared)
}

/// Parameters of `/authorize`; the sign-in form posts them back together with its own fields.
#[derive(Deserialize)]
struct AuthParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scope: Option<String>,
    email: Option<String>,
    name: Option<String>,
    action: Option<String>,
}

impl AuthParams {
    /// The redirect target, or the response that ends the request. Like Google, a bad client or
    /// redirect URI gets an error page, since redirecting would send the user somewhere untrusted;
    /// every other problem goes back to the client.
    fn validate(&self, shared: &Shared) -> Result<Url, Box<Response>> {
        if self.client_id.as_deref() != Some(&shared.client_id) {
            return Err(error_page("Unknown client_id.").into());
        }
        let Some(target) = self
            .redirect_uri
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            return Err(error_page("Missing or invalid redirect_uri.").into());
        };
        let error = if self.response_type.as_deref() != Some("code") {
            Some("unsupported_response_type".to_owned())
        } else if self.code_challenge.is_some() && self.code_challenge_method.as_deref() != Some("S256") {
            // The plain method defeats the point of PKCE; a client using it is misconfigured.
            Some("invalid_request".to_owned())
        } else if let Failure::AuthorizeError(e) = &shared.inner().failure {
            Some(e.clone())
        } else {
            None
        };
        match error {
            Some(e) => Err(self.redirect(target, "error", &e).into()),
            None => Ok(target),
        }
    }

    fn redirect(&self, mut target: Url, key: &str, value: &str) -> Response {
        {
            let mut query = target.query_pairs_mut();
            query.append_pair(key, value);
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
        }
        Redirect::to(target.as_str()).into_response()
    }

    fn issue_code(&self, shared: &Shared, target: Url, user: MockUser) -> Response {
        let code = random_token();
        shared.inner().codes.insert(
            code.clone(),
            Grant {
                // Kept verbatim: the token request must repeat it exactly.
                redirect_uri: self.redirect_uri.clone().unwrap_or_default(),
                challenge: self.code_challenge.clone(),
                scope: self.scope.clone(),
                user,
                issued: Instant::now(),
            },
        );
        self.redirect(target, "code", &code)
    }
}

async fn authorize(State(shared): State<Arc<Shared>>, Query(params): Query<AuthParams>) -> Response {
    let target = match params.validate(&shared) {
        Ok(target) => target,
        Err(response) => return *response,
    };
    let user = shared.inner().user.clone();
    if shared.auto_approve {
        params.issue_code(&shared, target, user)
    } else {
        sign_in_page(&params, &user.email, &user.name, None)
    }
}

async fn sign_in(State(shared): State<Arc<Shared>>, Form(params): Form<AuthParams>) -> Response {
    let target = match params.validate(&shared) {
        Ok(target) => target,
        Err(response) => return *response,
    };
    if params.action.as_deref() == Some("deny") {
        return params.redirect(target, "error", "access_denied");
    }
    let email = params.email.as_deref().unwrap_or_default().trim();
    let name = params.name.as_deref().unwrap_or_default().trim();
    if email.is_empty() {
        let page = sign_in_page(&params, email, name, Some("Enter an email address."));
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    let name = if name.is_empty() { email.split('@').next().unwrap_or(email) } else { name };
    let current = shared.inner().user.clone();
    // Submitting the prefilled email keeps the configured subject, so `set_user` decides the
    // identity in form-driven tests too; any other email maps to its own stable subject.
    let user =
        if current.email == email { MockUser { name: name.to_owned(), ..current } } else { MockUser::new(email, name) };
    params.issue_code(&shared, target, user)
}

#[derive(Deserialize)]
struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Response {
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    if shared.inner().failure == Failure::TokenServerError {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "injected failure");
    }
    let Ok(Form(params)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected an application/x-www-form-urlencoded body",
        );
    };
    if !shared.client_authenticated(&headers, &params) {
        let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "bad client credentials");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"mock-oauth\""));
        return response;
    }
    if params.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only authorization_code is supported");
    }
    // Removing the code before any other check makes it single-use even when the exchange
    // fails, which also stops verifier guessing.
    let grant = params.code.as_deref().and_then(|code| shared.inner().codes.remove(code));
    let problem = match &grant {
        None => Some("unknown or already used code"),
        Some(g) if g.issued.elapsed() > CODE_TTL => Some("code expired"),
        Some(g) if params.redirect_uri.as_deref() != Some(&g.redirect_uri) => {
            Some("redirect_uri differs from the authorization request")
        }
        Some(g) => match (&g.challenge, &params.code_verifier) {
            (None, None) => None,
            (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => None,
            _ => Some("PKCE verification failed"),
        },
    };
    let (Some(grant), None) = (grant, problem) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", problem.unwrap_or_default());
    };
    let access_token = random_token();
    shared.inner().tokens.insert(access_token.clone(), (grant.user, Instant::now()));
    let body =
        TokenResponse { access_token, token_type: "Bearer", expires_in: TOKEN_TTL.as_secs(), scope: grant.scope };
    ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(body)).into_response()
}

/// RFC 7636 §4.6 S256 check; also insists on a well-formed verifier (§4.1) so client bugs show.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier)) == challenge
}

#[derive(Serialize)]
struct UserInfo<'a> {
    sub: &'a str,
    email: &'a str,
    email_verified: bool,
    name: &'a str,
    given_name: &'a str,
    picture: Option<&'a str>,
}

async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let inner = shared.inner();
    if inner.failure == Failure::UserinfoServerError {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "injected failure");
    }
    let user = auth_param(&headers, "Bearer")
        .and_then(|token| inner.tokens.get(token))
        .filter(|(_, issued)| issued.elapsed() < TOKEN_TTL)
        .map(|(user, _)| user);
    let Some(user) = user else {
        let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "unknown or expired token");
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
        return response;
    };
    if let Some(claims) = &inner.userinfo {
        return Json(claims.clone()).into_response();
    }
    Json(UserInfo {
        sub: &user.sub,
        email: &user.email,
        email_verified: true,
        name: &user.name,
        given_name: user.name.split_whitespace().next().unwrap_or_default(),
        picture: None,
    })
    .into_response()
}

/// The credentials of an `Authorization: <scheme> <param>` header; schemes are case-insensitive.
fn auth_param<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let (given, param) = headers.get(header::AUTHORIZATION)?.to_str().ok()?.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(param.trim())
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    (status, Json(body)).into_response()
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;\
padding:0 1rem}label,input{display:block;width:100%;box-sizing:border-box}label{margin-top:1rem}\
input{padding:.4rem}button{margin:1rem .5rem 0 0;padding:.4rem 1rem}.notice{color:#b00020}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    );
    // The pages need no script at all; the policy keeps it that way. `form-action` is left
    // out on purpose: browsers apply it to the redirect that follows the form post.
    let headers = [
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (status, headers, Html(html)).into_response()
}

fn error_page(message: &str) -> Response {
    let body = format!("<h1>Sign-in error</h1><p>{}</p>", escape(message));
    page(StatusCode::BAD_REQUEST, "Mock sign-in error", &body)
}

fn sign_in_page(params: &AuthParams, email: &str, name: &str, notice: Option<&str>) -> Response {
    let forwarded = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("scope", &params.scope),
    ];
    let hidden: String = forwarded
        .iter()
        .filter_map(|(key, value)| {
            let value = escape(value.as_deref()?);
            Some(format!("<input type=\"hidden\" name=\"{key}\" value=\"{value}\">"))
        })
        .collect();
    let notice = notice.map(|n| format!("<p class=\"notice\" role=\"alert\">{}</p>", escape(n))).unwrap_or_default();
    let body = format!(
        "<h1>Mock sign-in</h1>\
         <p><code>{client}</code> asks for <code>{scope}</code>.</p>{notice}\
         <form method=\"post\" action=\"/authorize\">{hidden}\
         <label for=\"email\">Email</label>\
         <input id=\"email\" name=\"email\" type=\"text\" value=\"{email}\" autocomplete=\"email\" required>\
         <label for=\"name\">Name</label>\
         <input id=\"name\" name=\"name\" type=\"text\" value=\"{name}\" autocomplete=\"name\">\
         <button type=\"submit\" name=\"action\" value=\"approve\">Sign in</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Deny</button>\
         </form>",
        client = escape(params.client_id.as_deref().unwrap_or_default()),
        scope = escape(params.scope.as_deref().unwrap_or("no scopes")),
        email = escape(email),
        name = escape(name),
    );
    page(StatusCode::OK, "Mock sign-in", &body)
}
