//! `GET /api/v1/admin/cleanup`: the latest runs of the cleanup of interrupted uploads (what each
//! removed), for admins.
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use app::auth::ssr::RequireAdmin;
use app::error::AppError;

use crate::AppState;
use crate::cleanup::runs::{CleanupRun, latest};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/cleanup", get(runs))
}

async fn runs(State(s): State<AppState>, _: RequireAdmin) -> Result<Json<Vec<CleanupRun>>, AppError> {
    Ok(Json(latest(&s.ctx.db).await?))
}
