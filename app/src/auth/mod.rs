//! Who is signed in: the current user, sign-in options, personal API tokens, and their pages.
mod next;
pub(crate) mod pages;
pub mod scope;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use pages::{ProfilePage, SignInPage, safe_next};
pub use scope::Scope;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// The signed-in user as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub is_admin: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub demo: bool,
    pub oauth: bool,
    pub provider_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenInfo {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    /// `None`: it does not expire.
    pub expires_at: Option<String>,
    /// `None`: never used.
    pub last_used_at: Option<String>,
}

/// What a new token should be: a name, the scopes asked for by name (checked when it is made, so
/// an unknown one is refused by name) and how many days it lives (`None`: until revoked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<i64>,
}

/// A freshly created token: the secret is shown once and never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub token: ApiTokenInfo,
    pub secret: String,
}

#[server(endpoint = "get_me")]
pub async fn get_me() -> Result<Option<Me>, AppError> {
    Ok(ssr::current_user().await?.map(|u| ssr::me(&u)))
}

#[server(endpoint = "get_sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    let ctx = crate::context::ServerContext::current()?;
    Ok(SignInOptions {
        demo: ctx.settings.demo_enabled,
        oauth: ctx.settings.oauth_enabled,
        provider_name: ctx.settings.oauth_provider_name.clone(),
    })
}

#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenInfo>, AppError> {
    let user = ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::list_tokens(&ctx.db, user.id).await
}

/// The profile page's form: `scopes[]` from its checkboxes (none checked sends none, refused with a
/// reason), `expires_in_days` from its select (`never` or a number of days).
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] expires_in_days: String,
) -> Result<NewApiToken, AppError> {
    let user = ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let expires_in_days = match expires_in_days.trim() {
        "" | "never" => None,
        days => Some(
            days.parse::<i64>()
                .map_err(|_| AppError::Invalid("Choose when the token expires: never, or a number of days.".into()))?,
        ),
    };
    ssr::create_token(&ctx.db, &user, &TokenRequest { name, scopes, expires_in_days }, None).await
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: Uuid) -> Result<(), AppError> {
    let user = ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::revoke_token(&ctx, user.id, id).await
}

/// The current user, as provided by `App` for every page.
pub type MeResource = Resource<Result<Option<Me>, AppError>>;

pub fn use_me() -> MeResource {
    expect_context::<MeResource>()
}
