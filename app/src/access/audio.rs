//! Who may hear and see an audio object (uploads, clips, takes, mixdowns).
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::context::ServerContext;
use crate::db::{audio, user};
use crate::error::AppError;

/// The access rule of uploads: visible to its owner and admins, or to everyone once public.
/// Anything else is indistinguishable from a missing id (404).
pub async fn visible_audio(
    ctx: &ServerContext,
    id: Uuid,
    viewer: Option<&user::Model>,
) -> Result<audio::Model, AppError> {
    let a = audio::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    let allowed = a.is_public || viewer.is_some_and(|u| u.is_admin || u.id == a.owner_id);
    if allowed {
        return Ok(a);
    }
    // A track is heard by everyone who can see its composition.
    if super::composition::hears_as_track(&ctx.db, viewer, a.id).await? {
        return Ok(a);
    }
    // An annotator may hear the clip of a task they hold or have answered, nothing else of the source.
    if a.kind == crate::domain::AudioKind::Clip
        && let Some(u) = viewer
        && annotates_clip(ctx, u.id, a.id).await?
    {
        return Ok(anonymous_clip(a));
    }
    Err(AppError::NotFound)
}

/// What an annotator may know of a clip they were served: its sound, not where it was cut from
/// (the source's file name, owner, position and tags stay with the source).
fn anonymous_clip(mut a: audio::Model) -> audio::Model {
    a.original_filename = format!("clip-{}.wav", a.id);
    a.owner_id = Uuid::nil();
    a.parent_id = None;
    a.parent_offset_frames = None;
    a.title = None;
    a.artist = None;
    a.album = None;
    a.tags = "[]".into();
    a
}

async fn annotates_clip(ctx: &ServerContext, user_id: Uuid, clip_id: Uuid) -> Result<bool, AppError> {
    use crate::db::{annotation, campaign, lease, task};
    // Only tasks of open campaigns: a closed campaign is seen by admins only.
    let open = sea_orm::sea_query::Query::select()
        .column(campaign::Column::Id)
        .from(campaign::Entity)
        .and_where(campaign::Column::IsOpen.eq(true))
        .to_owned();
    let tasks: Vec<Uuid> = task::Entity::find()
        .filter(task::Column::ClipId.eq(clip_id))
        .filter(task::Column::CampaignId.in_subquery(open))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    if tasks.is_empty() {
        return Ok(false);
    }
    let leased = lease::Entity::find()
        .filter(lease::Column::TaskId.is_in(tasks.clone()))
        .filter(lease::Column::UserId.eq(user_id))
        .filter(lease::Column::ExpiresAt.gt(Utc::now()))
        .one(&ctx.db)
        .await?
        .is_some();
    Ok(leased
        || annotation::Entity::find()
            .filter(annotation::Column::TaskId.is_in(tasks))
            .filter(annotation::Column::UserId.eq(user_id))
            .one(&ctx.db)
            .await?
            .is_some())
}
