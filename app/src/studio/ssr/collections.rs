//! Collections of compositions: who sees them, creating, listing, showing and deleting them.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::compositions::list_visible;
use crate::db::{collection, composition, user};
use crate::domain::{Description, Title};
use crate::error::AppError;
use crate::studio::{CollectionInfo, CollectionView, CompositionInfo, NewCollection, Visibility};

/// Whether `viewer` may see collection `c` (its compositions still check their own access).
fn sees_collection(viewer: Option<&user::Model>, c: &collection::Model) -> bool {
    match c.visibility {
        Visibility::Public => true,
        Visibility::Members => viewer.is_some(),
        Visibility::Private => viewer.is_some_and(|u| u.id == c.owner_id || u.is_admin),
    }
}

async fn collection_info(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    c: &collection::Model,
    compositions: usize,
) -> Result<CollectionInfo, AppError> {
    let owner = user::Entity::find_by_id(c.owner_id).one(db).await?.map(|u| u.display_name).unwrap_or_default();
    Ok(CollectionInfo {
        id: c.id,
        owner_id: c.owner_id,
        owner_name: owner,
        title: c.title.clone(),
        description: c.description.clone(),
        visibility: c.visibility,
        created_at: c.created_at.to_rfc3339(),
        compositions,
        mine: viewer.is_some_and(|u| u.id == c.owner_id),
    })
}

#[tracing::instrument(skip_all, fields(user = %owner.id))]
pub async fn create_collection(
    db: &impl ConnectionTrait,
    owner: &user::Model,
    new: NewCollection,
) -> Result<CollectionInfo, AppError> {
    let title = Title::parse(&new.title)?.into_string();
    let c = collection::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner.id),
        title: Set(title),
        description: Set(Description::parse(&new.description)?.into_string()),
        visibility: Set(new.visibility.unwrap_or(Visibility::Private)),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    collection_info(db, Some(owner), &c, 0).await
}

/// The collections `viewer` may see, newest first, each with how many of its compositions they can open.
pub async fn list_collections(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
) -> Result<Vec<CollectionInfo>, AppError> {
    let visible = list_visible(db, viewer).await?;
    let all = collection::Entity::find().order_by_desc(collection::Column::CreatedAt).all(db).await?;
    let mut out = Vec::new();
    for c in all.iter().filter(|c| sees_collection(viewer, c)) {
        let n = visible.iter().filter(|v| v.collection_id == Some(c.id)).count();
        out.push(collection_info(db, viewer, c, n).await?);
    }
    Ok(out)
}

/// A collection with its compositions `viewer` can open; 404 when they may not see it.
pub async fn collection_view(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    id: Uuid,
) -> Result<CollectionView, AppError> {
    let c = collection::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !sees_collection(viewer, &c) {
        return Err(AppError::NotFound);
    }
    let compositions: Vec<CompositionInfo> =
        list_visible(db, viewer).await?.into_iter().filter(|v| v.collection_id == Some(c.id)).collect();
    Ok(CollectionView { collection: collection_info(db, viewer, &c, compositions.len()).await?, compositions })
}

/// Deletes a collection (its owner or an admin); its compositions stay, outside any collection.
#[tracing::instrument(skip_all, fields(collection = %id, user = %u.id))]
pub async fn delete_collection(db: &impl ConnectionTrait, u: &user::Model, id: Uuid) -> Result<(), AppError> {
    let c = collection::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !sees_collection(Some(u), &c) {
        return Err(AppError::NotFound);
    }
    if c.owner_id != u.id && !u.is_admin {
        return Err(AppError::Forbidden);
    }
    composition::Entity::update_many()
        .col_expr(composition::Column::CollectionId, sea_orm::sea_query::Expr::value(Option::<Uuid>::None))
        .filter(composition::Column::CollectionId.eq(c.id))
        .exec(db)
        .await?;
    c.delete(db).await?;
    Ok(())
}
