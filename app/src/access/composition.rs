//! Who may see or change a composition, and hear its tracks: the owner and admins own it, members
//! hold their role, and its visibility lets others view it.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::{composition, member, track, user};
use crate::domain::{Role, Visibility};
use crate::error::AppError;

/// The role `viewer` has in `c`, or None when they may not see it at all.
pub async fn access(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    c: &composition::Model,
) -> Result<Option<Role>, AppError> {
    let mut role = None;
    if let Some(u) = viewer {
        if u.id == c.owner_id || u.is_admin {
            return Ok(Some(Role::Owner));
        }
        if let Some(m) = member::Entity::find_by_id((c.id, u.id)).one(db).await? {
            role = Some(m.role);
        }
    }
    let visible_to_all = match c.visibility {
        Visibility::Public => true,
        Visibility::Members => viewer.is_some(),
        Visibility::Private => false,
    };
    if visible_to_all {
        role = role.max(Some(Role::Viewer));
    }
    // Open compositions take tracks from anyone who can see them and is signed in.
    if c.open_to_contribution && viewer.is_some() && role.is_some() {
        role = role.max(Some(Role::Contributor));
    }
    Ok(role)
}

/// Whether `audio_id` is the mixdown of a composition `viewer` can see.
pub async fn sees_mixdown(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    audio_id: Uuid,
) -> Result<bool, AppError> {
    for c in composition::Entity::find().filter(composition::Column::MixdownId.eq(audio_id)).all(db).await? {
        if access(db, viewer, &c).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `viewer` may hear `audio_id` because it is a track of a composition they can see.
pub async fn hears_as_track(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    audio_id: Uuid,
) -> Result<bool, AppError> {
    let uses = track::Entity::find().filter(track::Column::AudioId.eq(audio_id)).all(db).await?;
    for t in uses {
        if let Some(c) = composition::Entity::find_by_id(t.composition_id).one(db).await?
            && access(db, viewer, &c).await?.is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}
