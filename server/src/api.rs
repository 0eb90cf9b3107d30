//! The public REST API under `/api/v1`: JSON in and out, session cookie or bearer token. Handlers
//! take their input through the extractors of [`crate::extract`].
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use app::admin::UserRow;
use app::auth::ssr::{RequireAdmin, RequireUser, TokenGrant, me};
use app::auth::{ApiTokenInfo, Me, NewApiToken, TokenRequest};
use app::error::AppError;
use app::instruments::Instrument;

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiRejection};

pub fn router(config: &crate::config::Config) -> Router<AppState> {
    Router::new()
        .nest("/audio", crate::audio_api::router(config))
        .merge(crate::annotate_api::router())
        .nest("/jobs", crate::jobs_api::router())
        .nest("/datasets", crate::datasets_api::router())
        .nest("/stats", crate::stats_api::router())
        .merge(crate::studio_api::router())
        .merge(crate::cleanup_api::routes())
        .route("/me", get(get_me))
        .route("/instruments", get(instruments))
        .route("/users", get(users))
        .route("/users/{id}/admin", put(set_admin))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        // Every route above needs the scope `scopes::TABLE` names when a bearer token calls it.
        .route_layer(axum::middleware::from_fn(crate::scopes::enforce))
        .fallback(|| async { AppError::NotFound })
        // After every route: it applies to the routes there are. The route adds its `Allow` header.
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed() -> ApiRejection {
    ApiRejection::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This address does not take that method (see the Allow header).",
    )
}

async fn get_me(RequireUser(user): RequireUser) -> Json<Me> {
    Json(me(&user))
}

async fn instruments(State(s): State<AppState>) -> Result<Json<Vec<Instrument>>, AppError> {
    Ok(Json(app::instruments::ssr::all(&s.ctx.db).await?))
}

async fn users(State(s): State<AppState>, _: RequireAdmin) -> Result<Json<Vec<UserRow>>, AppError> {
    Ok(Json(app::admin::ssr::list(&s.ctx.db).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminFlag {
    admin: bool,
}

async fn set_admin(
    State(s): State<AppState>,
    RequireAdmin(actor): RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AdminFlag>,
) -> Result<Json<UserRow>, AppError> {
    Ok(Json(app::admin::ssr::set_admin(&s.ctx.db, &actor, id, body.admin).await?))
}

async fn tokens(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Json<Vec<ApiTokenInfo>>, AppError> {
    Ok(Json(app::auth::ssr::list_tokens(&s.ctx.db, user.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    /// Absent is refused with a reason rather than as a missing field: at least one is needed.
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

async fn create_token(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    by_token: Option<Extension<TokenGrant>>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<NewApiToken>), AppError> {
    let request = TokenRequest { name: body.name, scopes: body.scopes, expires_in_days: body.expires_in_days };
    let by_token = by_token.as_ref().map(|Extension(grant)| grant);
    let token = app::auth::ssr::create_token(&s.ctx.db, &user, &request, by_token).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

async fn revoke_token(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    app::auth::ssr::revoke_token(&s.ctx, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
