//! `/api/v1/jobs/{id}`: a background job's state, error and result, for the user who asked for it
//! and for admins (anyone else: 404); `DELETE` cancels it.
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use uuid::Uuid;

use app::auth::ssr::RequireUser;
use app::error::AppError;
use app::jobs::JobInfo;

use crate::AppState;
use crate::extract::ApiPath;

pub fn router() -> Router<AppState> {
    Router::new().route("/{id}", get(show).delete(cancel))
}

async fn show(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobInfo>, AppError> {
    let job = app::access::job::visible_job(&s.ctx.db, &u, id).await?;
    Ok(Json(app::jobs::view::info(&job)))
}

/// `200` with the cancelled job; `409` when it had already ended.
async fn cancel(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<JobInfo>), AppError> {
    Ok((StatusCode::OK, Json(app::jobs::view::cancel(&s.ctx, &u, id).await?)))
}
