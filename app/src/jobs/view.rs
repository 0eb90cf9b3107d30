//! Reading and cancelling a job on behalf of a user.
use uuid::Uuid;

use super::JobInfo;
use crate::context::ServerContext;
use crate::db::{job, user};
use crate::error::AppError;

pub fn info(j: &job::Model) -> JobInfo {
    JobInfo {
        id: j.id,
        kind: j.kind.clone(),
        state: j.state,
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        error: j.error.clone(),
        result: j.result.as_deref().and_then(|r| serde_json::from_str(r).ok()),
        created_at: j.created_at.to_rfc3339(),
        updated_at: j.updated_at.to_rfc3339(),
    }
}

/// Cancel a job the user may see; `Conflict` when it had already ended.
#[tracing::instrument(skip_all, fields(job = %id, user = %u.id))]
pub async fn cancel(ctx: &ServerContext, u: &user::Model, id: Uuid) -> Result<JobInfo, AppError> {
    let mut j = crate::access::job::visible_job(&ctx.db, u, id).await?;
    if !super::cancel(&ctx.db, id).await? {
        return Err(AppError::Conflict("The job has already ended.".into()));
    }
    // What `cancel` wrote; the row is not read again.
    j.state = super::JobState::Cancelled;
    j.updated_at = chrono::Utc::now();
    Ok(info(&j))
}
