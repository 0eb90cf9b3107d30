//! A job as pages and the REST API show it, and the server functions that list, read or cancel
//! jobs.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::domain::JobState;
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: Uuid,
    /// `task_build`, `mixdown`, …
    pub kind: String,
    pub state: JobState,
    /// Attempts so far (a failed attempt is retried with backoff) and how many it may take.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Why the last attempt failed (the job may still be retried).
    pub error: Option<String>,
    /// What a finished job produced (a mixdown: `{"audio_id": …}`).
    pub result: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
}

#[server(endpoint = "get_job")]
pub async fn get_job(id: Uuid) -> Result<JobInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let job = crate::access::job::visible_job(&ctx.db, &user, id).await?;
    Ok(super::view::info(&job))
}

#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: Uuid) -> Result<JobInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::view::cancel(&ctx, &user, id).await
}

/// Which jobs a listing shows (each filter optional) and which page of them, newest first. Values
/// are checked by the listing itself (`view::list`), so REST and the server function refuse the
/// same ones in the same words.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    /// A job kind: `task_build`, `mixdown`.
    pub kind: Option<String>,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: Option<String>,
    /// Jobs per page: 1 to 200, 50 when absent.
    pub limit: Option<u64>,
    /// Jobs to skip, from the newest.
    pub offset: Option<u64>,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<JobInfo>,
    pub limit: u64,
    pub offset: u64,
    /// The `offset` of the next page; none on the last one.
    pub next_offset: Option<u64>,
}

/// The jobs the signed-in user may see: those they asked for (every job, for an admin).
#[server(endpoint = "list_jobs")]
pub async fn list_jobs(
    kind: Option<String>,
    state: Option<String>,
    limit: Option<u64>,
    offset: Option<u64>,
) -> Result<JobPage, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::view::list(&ctx.db, &user, &JobQuery { kind, state, limit, offset }).await
}
