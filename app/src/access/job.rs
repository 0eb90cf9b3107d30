//! Who may see a job: the user who asked for it, and admins.
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::db::{job, user};
use crate::error::AppError;

pub async fn visible_job(db: &impl ConnectionTrait, viewer: &user::Model, id: Uuid) -> Result<job::Model, AppError> {
    let j = job::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if viewer.is_admin || j.requested_by == Some(viewer.id) {
        return Ok(j);
    }
    Err(AppError::NotFound)
}
