//! Who may see a campaign.
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::db::{campaign, user};
use crate::error::AppError;

/// The campaign, if `viewer` may see it: open campaigns are seen by everyone signed in, closed
/// ones by admins only (404 to anyone else).
pub async fn visible_campaign(
    db: &impl ConnectionTrait,
    viewer: &user::Model,
    id: Uuid,
) -> Result<campaign::Model, AppError> {
    let c = campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !c.is_open && !viewer.is_admin {
        return Err(AppError::NotFound);
    }
    Ok(c)
}
