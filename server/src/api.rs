//! The public REST API under `/api/v1`: JSON in and out, session cookie or bearer token.
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use app::admin::UserRow;
use app::auth::ssr::{RequireAdmin, RequireUser, me};
use app::auth::{ApiTokenInfo, Me, NewApiToken};
use app::error::AppError;
use app::instruments::Instrument;

use crate::AppState;

pub fn router(config: &crate::config::Config) -> Router<AppState> {
    Router::new()
        .nest("/audio", crate::audio_api::router(config))
        .merge(crate::annotate_api::router())
        .merge(crate::studio_api::router())
        .merge(crate::cleanup_api::routes())
        .route("/me", get(get_me))
        .route("/instruments", get(instruments))
        .route("/users", get(users))
        .route("/users/{id}/admin", put(set_admin))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .fallback(|| async { AppError::NotFound })
        .layer(axum::middleware::map_response(json_errors))
}

/// Axum's own rejections (a body that is not JSON or not the expected shape, a malformed id in
/// the path, a wrong content type, a method the address does not take) answer in plain text;
/// clients of the API get every error in the one JSON shape of [`AppError`], with the same words.
async fn json_errors(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, message) = match status {
        // The route adds its `Allow` header outside this layer.
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "This address does not take that method (see the Allow header).".to_string())
        }
        StatusCode::BAD_REQUEST => ("bad_request", text),
        StatusCode::NOT_FOUND => ("not_found", "Not found.".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", text),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", text),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", without_type_names(&text)),
        StatusCode::RANGE_NOT_SATISFIABLE => {
            ("range_not_satisfiable", "The byte range asked for lies outside the file (see Content-Range).".to_string())
        }
        _ => ("error", text),
    };
    let message = if message.is_empty() { status.canonical_reason().unwrap_or("Error").to_string() } else { message };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// serde names the Rust type it expected ("expected struct NewComposition with 10 elements");
/// a client knows it as a JSON object.
fn without_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("struct ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "struct ".len()..];
        let name_len = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        out.push_str("a JSON object");
        rest = &after[name_len..];
        // "… with 10 elements" counts the type's fields, which means nothing to the client.
        if let Some(tail) = rest.strip_prefix(" with ")
            && let Some(end) = tail.find(" elements")
            && tail[..end].chars().all(|c| c.is_ascii_digit())
        {
            rest = &tail[end + " elements".len()..];
        }
    }
    out.push_str(rest);
    out
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
    Path(id): Path<Uuid>,
    Json(body): Json<AdminFlag>,
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
}

async fn create_token(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, Json<NewApiToken>), AppError> {
    let token = app::auth::ssr::create_token(&s.ctx.db, user.id, &body.name).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

async fn revoke_token(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    app::auth::ssr::revoke_token(&s.ctx, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
