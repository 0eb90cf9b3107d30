//! Who may see a dataset and its releases. A dataset is seen by everyone, by signed-in users or by
//! admins alone, as its visibility says; a release is seen with its dataset once published, and
//! by admins from the moment it is asked for. Everything else is an admin's to change. What may not
//! be seen answers exactly as what does not exist.
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::db::{dataset, dataset_release, user};
use crate::domain::{DatasetVisibility, ReleaseState};
use crate::error::AppError;

/// The datasets `viewer` may see, as a condition on `datasets`; one dataset and the catalogue both
/// filter with it.
pub fn visible_to(viewer: Option<&user::Model>) -> Condition {
    match viewer {
        Some(u) if u.is_admin => Condition::all(),
        Some(_) => Condition::any()
            .add(dataset::Column::Visibility.eq(DatasetVisibility::Public))
            .add(dataset::Column::Visibility.eq(DatasetVisibility::SignedIn)),
        None => Condition::all().add(dataset::Column::Visibility.eq(DatasetVisibility::Public)),
    }
}

/// The releases of a visible dataset that `viewer` may see.
pub fn releases_visible_to(viewer: Option<&user::Model>) -> Condition {
    match viewer {
        Some(u) if u.is_admin => Condition::all(),
        _ => Condition::all().add(dataset_release::Column::State.eq(ReleaseState::Published)),
    }
}

/// The dataset `slug`, or `NotFound` when it does not exist or `viewer` may not see it.
pub async fn visible_dataset(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    slug: &str,
) -> Result<dataset::Model, AppError> {
    dataset::Entity::find()
        .filter(dataset::Column::Slug.eq(slug))
        .filter(visible_to(viewer))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Release `version` of dataset `slug`, under both rules.
pub async fn visible_release(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    slug: &str,
    version: i32,
) -> Result<(dataset::Model, dataset_release::Model), AppError> {
    let d = visible_dataset(db, viewer, slug).await?;
    let r = dataset_release::Entity::find()
        .filter(dataset_release::Column::DatasetId.eq(d.id))
        .filter(dataset_release::Column::Version.eq(version))
        .filter(releases_visible_to(viewer))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((d, r))
}

/// Changing datasets and compiling releases is for admins; others are told the thing is not there
/// when they could not see it, and forbidden when they could.
pub async fn editable_dataset(
    db: &impl ConnectionTrait,
    viewer: &user::Model,
    slug: &str,
) -> Result<dataset::Model, AppError> {
    let d = visible_dataset(db, Some(viewer), slug).await?;
    if viewer.is_admin { Ok(d) } else { Err(AppError::Forbidden) }
}
