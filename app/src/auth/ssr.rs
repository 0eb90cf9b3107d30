//! Server-side identity: sessions, bearer tokens, the require helpers every feature uses, and the
//! user upsert shared by every sign-in method.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};
use tower_sessions::Session;
use uuid::Uuid;

use super::scope::{self, Scope};
use super::{ApiTokenInfo, Me, NewApiToken, TokenRequest};
use crate::context::ServerContext;
use crate::db::{api_token, identity, user};
use crate::error::AppError;

/// The session key holding the signed-in user's id.
pub const SESSION_USER_KEY: &str = "user_id";
/// Bearer tokens start with this, so a leaked one is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "tutti_";

pub fn me(u: &user::Model) -> Me {
    Me {
        id: u.id,
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        avatar_url: u.avatar_url.clone(),
        is_admin: u.is_admin,
    }
}

pub async fn user_for_session(db: &DatabaseConnection, session: &Session) -> Result<Option<user::Model>, AppError> {
    let Some(id) = session.get::<Uuid>(SESSION_USER_KEY).await? else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// How long a bearer token's user is taken from memory before the database is asked again.
/// Revoking a token through this process takes effect at once; other replicas, and changes to
/// the user (admin rights), are seen within this time. A token's expiry is kept with it and
/// checked on every use, so a cached token stops working the moment it expires.
const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

struct CachedToken {
    grant: TokenGrant,
    expires_at: Option<chrono::DateTime<Utc>>,
    last_used_at: Option<chrono::DateTime<Utc>>,
    fetched: std::time::Instant,
}

/// Token hash → what it resolved to, in this server (`RuntimeState::tokens`).
#[derive(Default)]
pub struct TokenCache(std::sync::Mutex<std::collections::HashMap<String, CachedToken>>);

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, CachedToken>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A bearer token that may be used: whose it is and what it may do. The REST API's scope check
/// puts it in the request's extensions, where [`CurrentUser`] takes the user from.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub token_id: Uuid,
    /// The token's user as the handlers see it: without admin rights unless the token has the
    /// `admin` scope, so no admin-only view (every job, every audio, closed campaigns) leaks to a
    /// token that was not given it, whatever route serves it.
    pub user: user::Model,
    pub scopes: Vec<Scope>,
}

impl TokenGrant {
    fn new(token_id: Uuid, mut user: user::Model, scopes: Vec<Scope>) -> Self {
        if !scopes.contains(&Scope::Admin) {
            user.is_admin = false;
        }
        TokenGrant { token_id, user, scopes }
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// What a bearer secret resolved to.
#[derive(Clone, Debug)]
pub enum TokenAuth {
    Granted(TokenGrant),
    /// No such token (never made, revoked, or its user is gone).
    Unknown,
    /// The token existed but its time is up.
    Expired(chrono::DateTime<Utc>),
}

impl TokenAuth {
    /// 401 for a token that cannot be used, saying so when it expired.
    pub fn refusal_message(&self) -> Option<String> {
        match self {
            TokenAuth::Granted(_) => None,
            TokenAuth::Unknown => Some(AppError::Unauthorized.to_string()),
            TokenAuth::Expired(at) => Some(format!(
                "This API token expired on {}. Create a new one on your profile page.",
                at.format("%Y-%m-%d %H:%M UTC")
            )),
        }
    }
}

/// The secret of an `Authorization` header: `None` without one, `Some(Err)` when it is not a
/// bearer token (a 401, never a fall-back to the cookie). The scheme's name is case-insensitive
/// (RFC 9110 §11.1).
pub fn bearer_secret(headers: &axum::http::HeaderMap) -> Option<Result<&str, AppError>> {
    let header = headers.get(axum::http::header::AUTHORIZATION)?;
    Some(
        header
            .to_str()
            .ok()
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, secret)| secret.trim())
            .ok_or(AppError::Unauthorized),
    )
}

pub async fn resolve_token(ctx: &ServerContext, secret: &str) -> Result<TokenAuth, AppError> {
    let (db, tokens) = (&ctx.db, &*ctx.runtime.get::<TokenCache>());
    let hash = hash_token(secret);
    let now = Utc::now();
    let cached = tokens
        .lock()
        .get(&hash)
        .filter(|c| c.fetched.elapsed() < TOKEN_TTL)
        .map(|c| (c.grant.clone(), c.expires_at, c.last_used_at));
    if let Some((grant, expires_at, last_used_at)) = cached {
        if let Some(at) = expires_at.filter(|t| *t <= now) {
            return Ok(TokenAuth::Expired(at));
        }
        if last_used_at.is_none_or(|t| now - t > chrono::Duration::minutes(1)) {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(Some(now)))
                .filter(api_token::Column::Id.eq(grant.token_id))
                .exec(db)
                .await?;
            if let Some(c) = tokens.lock().get_mut(&hash) {
                c.last_used_at = Some(now);
            }
        }
        return Ok(TokenAuth::Granted(grant));
    }
    let Some(token) = api_token::Entity::find().filter(api_token::Column::TokenHash.eq(hash.as_str())).one(db).await?
    else {
        return Ok(TokenAuth::Unknown);
    };
    if let Some(at) = token.expires_at.filter(|t| *t <= now) {
        return Ok(TokenAuth::Expired(at));
    }
    let (token_id, user_id, expires_at, mut last_used_at) =
        (token.id, token.user_id, token.expires_at, token.last_used_at);
    let scopes = scope::split(&token.scopes);
    // "Last used" to the minute is enough, and saves a write on every scripted request.
    if last_used_at.is_none_or(|t| now - t > chrono::Duration::minutes(1)) {
        let mut active: api_token::ActiveModel = token.into();
        active.last_used_at = Set(Some(now));
        active.update(db).await?;
        last_used_at = Some(now);
    }
    let Some(user) = user::Entity::find_by_id(user_id).one(db).await? else { return Ok(TokenAuth::Unknown) };
    let grant = TokenGrant::new(token_id, user, scopes);
    let mut map = tokens.lock();
    if map.len() >= 100_000 {
        map.clear();
    }
    map.insert(
        hash,
        CachedToken { grant: grant.clone(), expires_at, last_used_at, fetched: std::time::Instant::now() },
    );
    Ok(TokenAuth::Granted(grant))
}

/// The signed-in user of the current server function or page render, if any.
pub async fn current_user() -> Result<Option<user::Model>, AppError> {
    let ctx = ServerContext::current()?;
    let session: Session = leptos_axum::extract().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::Internal
    })?;
    user_for_session(&ctx.db, &session).await
}

/// The signed-in user, or 401.
pub async fn require_user() -> Result<user::Model, AppError> {
    current_user().await.and_then(|u| u.ok_or(AppError::Unauthorized))
}

/// The signed-in admin, or 401 / 403.
pub async fn require_admin() -> Result<user::Model, AppError> {
    require_user().await.and_then(check_admin)
}

pub fn check_admin(u: user::Model) -> Result<user::Model, AppError> {
    if u.is_admin { Ok(u) } else { Err(AppError::Forbidden) }
}

/// Axum extractor for REST handlers: the user from the session cookie or an `Authorization: Bearer`
/// API token. Never fails by itself; see [`RequireUser`] and [`RequireAdmin`].
pub struct CurrentUser(pub Option<user::Model>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts.extensions.get::<ServerContext>().cloned().ok_or(AppError::Internal)?;
        if let Some(secret) = bearer_secret(&parts.headers) {
            // The REST API's scope check resolved the token already; otherwise resolve it here.
            if let Some(grant) = parts.extensions.get::<TokenGrant>() {
                return Ok(CurrentUser(Some(grant.user.clone())));
            }
            return match resolve_token(&ctx, secret?).await? {
                TokenAuth::Granted(grant) => Ok(CurrentUser(Some(grant.user))),
                TokenAuth::Unknown | TokenAuth::Expired(_) => Err(AppError::Unauthorized),
            };
        }
        let session = Session::from_request_parts(parts, state).await.map_err(|_| AppError::Internal)?;
        Ok(CurrentUser(user_for_session(&ctx.db, &session).await?))
    }
}

/// Extractor: the signed-in user, or 401.
pub struct RequireUser(pub user::Model);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(u) = CurrentUser::from_request_parts(parts, state).await?;
        u.map(RequireUser).ok_or(AppError::Unauthorized)
    }
}

/// Extractor: the signed-in admin, or 401 / 403.
pub struct RequireAdmin(pub user::Model);

impl<S: Send + Sync> FromRequestParts<S> for RequireAdmin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RequireUser(u) = RequireUser::from_request_parts(parts, state).await?;
        check_admin(u).map(RequireAdmin)
    }
}

/// A profile as an identity provider reports it.
#[derive(Clone, Debug)]
pub struct ExternalProfile {
    pub provider: String,
    pub subject: String,
    pub email: String,
    /// The provider vouches for the e-mail (OpenID `email_verified: true`). Only then is it linked
    /// to an existing user with that e-mail, or matched against the admin list.
    pub email_verified: bool,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// Create or update the user behind an external identity. An identity already known maps to its
/// user; otherwise a user with the same (provider-verified) e-mail is linked; otherwise a new user
/// is made. Configured admin e-mails become admins; admin rights are never taken away here.
pub async fn upsert_user(
    db: &DatabaseConnection,
    profile: &ExternalProfile,
    admin_emails: &[String],
) -> Result<user::Model, AppError> {
    let email = profile.email.trim().to_lowercase();
    if email.is_empty() {
        return Err(AppError::Invalid("The identity provider did not share an e-mail address.".into()));
    }
    let is_configured_admin = profile.email_verified && admin_emails.iter().any(|a| a == &email);
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let known = identity::Entity::find()
        .filter(identity::Column::Provider.eq(&profile.provider))
        .filter(identity::Column::Subject.eq(&profile.subject))
        .one(&txn)
        .await?;
    let existing = match &known {
        Some(ident) => user::Entity::find_by_id(ident.user_id).one(&txn).await?,
        None => {
            let same_email = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&txn).await?;
            if same_email.is_some() && !profile.email_verified {
                return Err(AppError::Conflict(
                    "Another account uses this e-mail address, and the sign-in provider does not vouch for it.".into(),
                ));
            }
            same_email
        }
    };
    let user = match existing {
        Some(u) => {
            let is_admin = u.is_admin || is_configured_admin;
            let mut active: user::ActiveModel = u.into();
            active.email = Set(email.clone());
            active.display_name = Set(profile.display_name.clone());
            active.avatar_url = Set(profile.avatar_url.clone());
            active.is_admin = Set(is_admin);
            active.last_seen_at = Set(now);
            active.update(&txn).await?
        }
        None => {
            user::ActiveModel {
                id: Set(Uuid::new_v4()),
                email: Set(email.clone()),
                display_name: Set(profile.display_name.clone()),
                avatar_url: Set(profile.avatar_url.clone()),
                is_admin: Set(is_configured_admin),
                created_at: Set(now),
                last_seen_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    if known.is_none() {
        identity::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(user.id),
            provider: Set(profile.provider.clone()),
            subject: Set(profile.subject.clone()),
            email: Set(Some(email)),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(user)
}

fn token_info(t: &api_token::Model) -> ApiTokenInfo {
    ApiTokenInfo {
        id: t.id,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        scopes: scope::split(&t.scopes),
        created_at: t.created_at.to_rfc3339(),
        expires_at: t.expires_at.map(|d| d.to_rfc3339()),
        last_used_at: t.last_used_at.map(|d| d.to_rfc3339()),
    }
}

pub async fn list_tokens(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<ApiTokenInfo>, AppError> {
    let tokens = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(tokens.iter().map(token_info).collect())
}

/// The longest a token may live, in days.
pub const MAX_TOKEN_DAYS: i64 = 365;

/// Make a token for `user`. `by_token` is the token the request came with, if any: a token can
/// only make tokens with scopes it has itself, so no token widens its own reach.
pub async fn create_token(
    db: &impl ConnectionTrait,
    user: &user::Model,
    request: &TokenRequest,
    by_token: Option<&TokenGrant>,
) -> Result<NewApiToken, AppError> {
    use base64::Engine as _;
    use rand::RngCore as _;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::Invalid("Give the token a name of 1 to 80 characters.".into()));
    }
    let scopes = scope::parse_requested(&request.scopes, user.is_admin)?;
    if let Some(wider) = by_token.and_then(|g| scopes.iter().find(|s| !g.allows(**s))) {
        return Err(AppError::Invalid(format!(
            "A token can only make tokens with scopes it has; this one lacks '{wider}'."
        )));
    }
    let now = Utc::now();
    let expires_at = match request.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_TOKEN_DAYS) => Some(now + chrono::Duration::days(days)),
        Some(_) => {
            return Err(AppError::Invalid(format!(
                "expires_in_days must be from 1 to {MAX_TOKEN_DAYS}, or null for a token that does not expire."
            )));
        }
    };
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let model = api_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        name: Set(name.to_string()),
        token_hash: Set(hash_token(&secret)),
        prefix: Set(secret[..TOKEN_PREFIX.len() + 6].to_string()),
        created_at: Set(now),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        scopes: Set(scope::join(&scopes)),
    }
    .insert(db)
    .await?;
    Ok(NewApiToken { token: token_info(&model), secret })
}

/// Revoking someone else's token is indistinguishable from revoking a missing one.
pub async fn revoke_token(ctx: &ServerContext, user_id: Uuid, id: Uuid) -> Result<(), AppError> {
    let res = api_token::Entity::delete_many()
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::UserId.eq(user_id))
        .exec(&ctx.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    ctx.runtime.get::<TokenCache>().lock().retain(|_, c| c.grant.token_id != id);
    Ok(())
}
