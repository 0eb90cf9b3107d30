//! A task's places: `reserved` counts its answers plus the leases that hold a place, and changes
//! only under the task's row lock (see `annotate::serve`).
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use crate::context::ServerContext;
use crate::db::sql::{is_postgres, stmt};
use crate::error::AppError;

/// The task row as submission checks need it, locked on PostgreSQL.
pub struct LockedTask {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub is_gold: bool,
    pub gold_answers: Option<String>,
    pub annotations_count: i32,
    pub annotations_required: i32,
    pub is_complete: bool,
    pub reserved: i32,
}

pub async fn lock_task(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<LockedTask>, AppError> {
    let lock = if is_postgres(txn) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT id, campaign_id, is_gold, gold_answers, annotations_count, annotations_required, is_complete, \
         reserved FROM tasks WHERE id = $1{lock}"
    );
    let Some(r) = txn.query_one_raw(stmt(txn, &sql, vec![id.into()])).await? else { return Ok(None) };
    Ok(Some(LockedTask {
        id: r.try_get("", "id")?,
        campaign_id: r.try_get("", "campaign_id")?,
        is_gold: r.try_get("", "is_gold")?,
        gold_answers: r.try_get("", "gold_answers")?,
        annotations_count: r.try_get("", "annotations_count")?,
        annotations_required: r.try_get("", "annotations_required")?,
        is_complete: r.try_get("", "is_complete")?,
        reserved: r.try_get("", "reserved")?,
    }))
}

/// After a task's places are changed by hand (it became gold, or normal again): leases on gold
/// tasks hold no place, and `reserved` is recounted under the task's lock.
#[tracing::instrument(skip_all, fields(task = %task_id))]
pub async fn recount_task(ctx: &ServerContext, task_id: Uuid) -> Result<(), AppError> {
    let _serial = ctx.serial().await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    lock_task(&txn, task_id).await?;
    txn.execute_raw(stmt(
        &txn,
        "UPDATE leases SET counted = false WHERE task_id = $1 AND counted \
           AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = $1 AND t.is_gold)",
        vec![task_id.into()],
    ))
    .await?;
    txn.execute_raw(stmt(
        &txn,
        "UPDATE tasks SET reserved = annotations_count + \
           (SELECT count(*) FROM leases l WHERE l.task_id = $1 AND l.counted) WHERE id = $1",
        vec![task_id.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(())
}
