//! Who may see a job: the user who asked for it, and admins. A system job (asked for by no one) is
//! the admins' alone.
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::{job, user};
use crate::error::AppError;

/// The jobs `viewer` may see, as a condition on `jobs`: every job for an admin, else those they
/// asked for. One job and a listing both filter with it, so the rule cannot drift between them.
pub fn visible_to(viewer: &user::Model) -> Condition {
    if viewer.is_admin { Condition::all() } else { Condition::all().add(job::Column::RequestedBy.eq(viewer.id)) }
}

/// The job `id`, or `NotFound` when it does not exist or `viewer` may not see it (the same answer).
pub async fn visible_job(db: &impl ConnectionTrait, viewer: &user::Model, id: Uuid) -> Result<job::Model, AppError> {
    job::Entity::find_by_id(id).filter(visible_to(viewer)).one(db).await?.ok_or(AppError::NotFound)
}
