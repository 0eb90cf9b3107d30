//! Who may hear and see an audio object (uploads, clips, takes, mixdowns).
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::context::ServerContext;
use crate::db::{audio, user};
use crate::error::AppError;

/// How a viewer reaches an audio object, which decides what of it they get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Its owner, an admin, anyone when it is public, or anyone who can see the composition whose
    /// mixdown it is: the record and every file, the original included.
    Whole,
    /// A track of a composition the viewer can see, or a clip an annotator was served: its sound
    /// (canonical audio, peaks, spectrogram) and an anonymous record, never the original file, its
    /// name, hash, tags or owner.
    Heard,
}

/// The access rule of audio: who may reach `id`, and how. Anything else is indistinguishable
/// from a missing id (404).
pub async fn reach_audio(
    ctx: &ServerContext,
    id: Uuid,
    viewer: Option<&user::Model>,
) -> Result<(audio::Model, Reach), AppError> {
    let a = audio::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    let allowed = a.is_public || viewer.is_some_and(|u| u.is_admin || u.id == a.owner_id);
    if allowed {
        return Ok((a, Reach::Whole));
    }
    // A mixdown belongs to its composition: whoever can see the composition gets all of it.
    if super::composition::sees_mixdown(&ctx.db, viewer, a.id).await? {
        return Ok((a, Reach::Whole));
    }
    // A track is heard by everyone who can see its composition; the file stays its owner's.
    if super::composition::hears_as_track(&ctx.db, viewer, a.id).await? {
        return Ok((anonymous(a), Reach::Heard));
    }
    // An annotator may hear the clip of a task they hold or have answered, nothing else of the source.
    if a.kind == crate::domain::AudioKind::Clip
        && let Some(u) = viewer
        && annotates_clip(ctx, u.id, a.id).await?
    {
        return Ok((anonymous(a), Reach::Heard));
    }
    Err(AppError::NotFound)
}

/// The audio record `viewer` may see: the whole record, or the anonymous one of audio they only
/// hear (see [`Reach`]).
pub async fn visible_audio(
    ctx: &ServerContext,
    id: Uuid,
    viewer: Option<&user::Model>,
) -> Result<audio::Model, AppError> {
    Ok(reach_audio(ctx, id, viewer).await?.0)
}

/// Audio whose original file `viewer` may download: with [`Reach::Whole`], and a clip to the
/// annotator it was served to (a clip's original is the WAV cut for the task, not its source's
/// file). To anyone who only hears a track, the original does not exist (404).
pub async fn original_audio(
    ctx: &ServerContext,
    id: Uuid,
    viewer: Option<&user::Model>,
) -> Result<audio::Model, AppError> {
    match reach_audio(ctx, id, viewer).await? {
        (a, Reach::Whole) => Ok(a),
        (a, Reach::Heard) if a.kind == crate::domain::AudioKind::Clip => Ok(a),
        (_, Reach::Heard) => Err(AppError::NotFound),
    }
}

/// What a listener who only hears audio may know of it: its sound, not whose file it is or where
/// it came from (the file name, hash, owner, tags and the source a clip was cut from stay private).
fn anonymous(mut a: audio::Model) -> audio::Model {
    let what = if a.kind == crate::domain::AudioKind::Clip { "clip" } else { "audio" };
    a.original_filename = format!("{what}-{}.wav", a.id);
    a.sha256 = String::new();
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
