//! A job as pages and the REST API show it, and the server functions that read or cancel one.
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
