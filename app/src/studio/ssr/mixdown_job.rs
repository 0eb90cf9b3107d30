//! A mixdown runs as a job on the queue: asked for in the request (which hears at once why a mix
//! cannot be made), rendered by whichever server's worker claims it, its audio named as the job's
//! result. Asking again while one is queued or running returns that one.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::mixdown::{plan, render_mixdown};
use crate::context::ServerContext;
use crate::db::{composition, job, user};
use crate::error::AppError;
use crate::jobs::{JobError, JobOutput, JobRun, JobState};

pub const MIXDOWN: &str = "mixdown";

#[derive(Serialize, Deserialize)]
struct Payload {
    composition_id: Uuid,
}

/// Queue a mixdown of `c` for `u` (who may edit it), or return the one already on its way.
#[tracing::instrument(skip_all, fields(composition = %c.id, user = %u.id))]
pub async fn start_mixdown(
    ctx: &ServerContext,
    c: &composition::Model,
    u: &user::Model,
) -> Result<job::Model, AppError> {
    plan(ctx, c).await?;
    let payload = serde_json::to_string(&Payload { composition_id: c.id })
        .map_err(|e| AppError::internal("queueing a mixdown", e))?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let pending = job::Entity::find()
        .filter(job::Column::Kind.eq(MIXDOWN))
        .filter(job::Column::State.is_in([JobState::Queued, JobState::Running]))
        .filter(job::Column::Payload.eq(payload.as_str()))
        .order_by_asc(job::Column::CreatedAt)
        .one(&txn)
        .await?;
    let j = match pending {
        Some(j) => j,
        None => crate::jobs::enqueue(&txn, MIXDOWN, &payload, Some(u.id)).await?,
    };
    txn.commit().await?;
    crate::jobs::wake(ctx);
    Ok(j)
}

/// Renders mixdowns for the job queue.
pub struct MixdownHandler;

impl crate::jobs::Handler for MixdownHandler {
    fn run(
        &self,
        ctx: ServerContext,
        run: std::sync::Arc<JobRun>,
    ) -> futures::future::BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let p: Payload = serde_json::from_str(&run.job.payload)
                .map_err(|e| JobError::Fatal(format!("bad mixdown payload: {e}")))?;
            let Some(c) = composition::Entity::find_by_id(p.composition_id)
                .one(&ctx.db)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?
            else {
                return Err(JobError::Fatal("The composition was deleted.".into()));
            };
            match render_mixdown(&ctx, &c).await {
                Ok(a) => Ok(Some(serde_json::json!({ "audio_id": a.id }).to_string())),
                // Worth another attempt only when the server itself failed.
                Err(AppError::Internal) => Err(JobError::Retry("the server could not render the mix".into())),
                Err(AppError::NotFound) => Err(JobError::Fatal("The composition was deleted.".into())),
                Err(e) => Err(JobError::Fatal(e.to_string())),
            }
        })
    }
}
