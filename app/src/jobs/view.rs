//! Listing, reading and cancelling jobs on behalf of a user.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{JobInfo, JobPage, JobQuery, JobState};
use crate::context::ServerContext;
use crate::db::{job, user};
use crate::error::AppError;

/// The kinds a listing may be filtered by: those `app::job_handlers` registers (a test holds the
/// two lists equal; the queue itself names no feature, so it cannot ask them).
pub const KINDS: &[&str] = &["task_build", "mixdown", "dataset_compile"];
/// Jobs per page when the query names no `limit`, and the most it may name.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;
/// The deepest page: skipping rows costs the database their reading, so no client-chosen offset
/// makes it read without bound (filters narrow a long history instead).
pub const MAX_OFFSET: u64 = crate::error::MAX_OFFSET;

/// A page of the jobs `u` may see (`access::job::visible_to`), newest first, filtered by `q`. A
/// filter value that is not one of the allowed ones is refused (`Invalid`), never read as "any".
#[tracing::instrument(skip_all, fields(user = %u.id))]
pub async fn list(db: &impl ConnectionTrait, u: &user::Model, q: &JobQuery) -> Result<JobPage, AppError> {
    let kind = match q.kind.as_deref() {
        Some(k) => Some(
            KINDS
                .iter()
                .copied()
                .find(|known| *known == k)
                .ok_or_else(|| AppError::Invalid(format!("The kind must be one of: {}.", KINDS.join(", "))))?,
        ),
        None => None,
    };
    let state = match q.state.as_deref() {
        Some(s) => Some(JobState::iter().find(|known| known.as_str() == s).ok_or_else(|| {
            let states: Vec<&str> = JobState::iter().map(JobState::as_str).collect();
            AppError::Invalid(format!("The state must be one of: {}.", states.join(", ")))
        })?),
        None => None,
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::Invalid(format!("The limit must be 1 to {MAX_LIMIT}.")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(AppError::Invalid(format!("The offset must be at most {MAX_OFFSET}; filter by kind or state.")));
    }
    let mut find = job::Entity::find().filter(crate::access::job::visible_to(u));
    if let Some(kind) = kind {
        find = find.filter(job::Column::Kind.eq(kind));
    }
    if let Some(state) = state {
        find = find.filter(job::Column::State.eq(state));
    }
    // One row past the page tells whether another follows, without counting them all.
    let mut rows = find
        .order_by_desc(job::Column::CreatedAt)
        .order_by_desc(job::Column::Id)
        .offset(offset)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(JobPage { jobs: rows.iter().map(info).collect(), limit, offset, next_offset: more.then_some(offset + limit) })
}

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
