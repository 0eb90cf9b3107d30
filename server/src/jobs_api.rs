//! `/api/v1/jobs`: the background jobs a user may see (those they asked for; every job, for
//! admins), newest first and filtered by kind and state; `/api/v1/jobs/{id}`: one job's state,
//! error and result (anyone else: 404), and `DELETE` cancels it.
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use uuid::Uuid;

use app::auth::ssr::RequireUser;
use app::error::AppError;
use app::jobs::{JobInfo, JobPage, JobQuery};

use crate::AppState;
use crate::extract::{ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list)).route("/{id}", get(show).delete(cancel))
}

/// `?kind=&state=&limit=&offset=`: an unknown parameter or one that is not a number where a
/// number goes is a 400; a value outside the allowed ones a 422.
async fn list(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> Result<Json<JobPage>, AppError> {
    Ok(Json(app::jobs::view::list(&s.ctx.db, &u, &q).await?))
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
