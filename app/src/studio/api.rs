//! The studio's server functions (each at `/api/<endpoint>`), thin wrappers over `ssr`.
use leptos::prelude::*;
use uuid::Uuid;

use super::Role;
#[cfg(feature = "ssr")]
use super::ssr;
use super::{
    CalibrationInfo, CollectionInfo, CollectionView, CompositionInfo, CompositionPatch, CompositionView,
    InvitationLink, InvitationPreview, NewCalibration, NewCollection, NewComposition, NewInvitation, NewTrack,
    StudioOverview, TrackInfo, TrackPatch,
};
use crate::error::AppError;

#[server(endpoint = "list_compositions")]
pub async fn list_compositions() -> Result<Vec<CompositionInfo>, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::list_visible(&ctx.db, user.as_ref()).await
}

#[server(endpoint = "create_composition", input = server_fn::codec::Json)]
pub async fn create_composition_fn(composition: NewComposition) -> Result<CompositionInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let c = ssr::create(&ctx.db, &user, composition, ctx.settings.default_license).await?;
    Ok(ssr::info(&c, Role::Owner))
}

#[server(endpoint = "get_composition")]
pub async fn get_composition(id: Uuid) -> Result<CompositionView, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let (c, role) = ssr::find(&ctx.db, user.as_ref(), id, Role::Viewer).await?;
    let my_audio = match &user {
        Some(u) if role >= Role::Contributor => crate::db::audio::Entity::find()
            .filter(crate::db::audio::Column::OwnerId.eq(u.id))
            .filter(crate::db::audio::Column::Kind.ne(crate::domain::AudioKind::Clip))
            .order_by_desc(crate::db::audio::Column::CreatedAt)
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.title.unwrap_or(a.original_filename)))
            .collect(),
        _ => Vec::new(),
    };
    let tracks = ssr::tracks(&ctx.db, &c).await?;
    let mut waveforms = std::collections::HashMap::new();
    for t in &tracks {
        if let Some(a) = crate::db::audio::Entity::find_by_id(t.audio_id).one(&ctx.db).await? {
            waveforms.insert(t.audio_id, crate::library::ssr::card(&ctx, &a).await?.waveform);
        }
    }
    let editable =
        tracks.iter().filter(|t| user.as_ref().is_some_and(|u| ssr::may_change(t.author_id, role, u.id))).map(|t| t.id);
    let recipe =
        ssr::mix_recipe(tracks.iter().map(|t| (t.id, t.audio_id, t.offset_frames, t.gain_db, t.pan, t.mute, t.solo)));
    Ok(CompositionView {
        mixdown_current: c.mixdown_recipe.as_deref() == Some(recipe.as_str()),
        editable: editable.collect(),
        composition: ssr::info(&c, role),
        waveforms,
        tracks,
        members: ssr::members(&ctx.db, &c).await?,
        my_audio,
        canonical_rate: ctx.settings.canonical_rate,
        instruments: crate::instruments::ssr::all(&ctx.db).await?.into_iter().map(|i| (i.slug, i.name)).collect(),
    })
}

#[server(endpoint = "add_track", input = server_fn::codec::Json)]
pub async fn add_track_fn(composition_id: Uuid, track: NewTrack) -> Result<TrackInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    async {
        let (c, role) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Contributor).await?;
        let t = ssr::add_track(&ctx.db, &ctx.settings, &c, role, &user, track).await?;
        ssr::track_info(&ctx.db, &t).await
    }
    .await
}

#[server(endpoint = "update_track", input = server_fn::codec::Json)]
pub async fn update_track_fn(track_id: Uuid, patch: TrackPatch) -> Result<TrackInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    async {
        let t = ssr::update_track(&ctx.db, &ctx.settings, &user, track_id, patch).await?;
        ssr::track_info(&ctx.db, &t).await
    }
    .await
}

/// Remove a track (its author while a contributor, editors and the owner any).
#[server(endpoint = "delete_track")]
pub async fn delete_track_fn(track_id: Uuid) -> Result<(), AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::delete_track(&ctx.db, &user, track_id).await
}

/// Change a composition's settings: editors change the music, only the owner who sees it.
#[server(endpoint = "update_composition", input = server_fn::codec::Json)]
pub async fn update_composition_fn(composition_id: Uuid, patch: CompositionPatch) -> Result<CompositionInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let (c, role) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Editor).await?;
    let c = ssr::update(&ctx.db, c, role, patch, ctx.settings.default_license).await?;
    Ok(ssr::info(&c, role))
}

/// Delete a composition with its tracks, members and invitations (the owner only). The audio
/// placed in it stays in its owners' libraries.
#[server(endpoint = "delete_composition")]
pub async fn delete_composition_fn(composition_id: Uuid) -> Result<(), AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::delete(&ctx.db, &user, composition_id).await
}

/// Give a member another role, or remove them (`role` absent); the owner only.
#[server(endpoint = "set_member_role", input = server_fn::codec::Json)]
pub async fn set_member_role(composition_id: Uuid, user_id: Uuid, role: Option<Role>) -> Result<(), AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let (c, _) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Owner).await?;
    ssr::set_member(&ctx.db, &c, user_id, role).await
}

#[server(endpoint = "invite_member", input = server_fn::codec::Json)]
pub async fn invite_member(composition_id: Uuid, invitation: NewInvitation) -> Result<InvitationLink, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    async {
        let (c, _) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Owner).await?;
        ssr::invite(&ctx.db, &c, &user, invitation).await
    }
    .await
}

#[server(endpoint = "preview_invitation")]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, AppError> {
    let _user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::preview(&ctx.db, &token).await
}

#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<Uuid, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::accept(&ctx.db, &user, &token).await.map(|c| c.id)
}

/// Ask for a mixdown: the job that renders it (follow it with `get_job`).
#[server(endpoint = "render_mixdown")]
pub async fn render_mixdown_fn(composition_id: Uuid) -> Result<crate::jobs::JobInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let (c, _) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Editor).await?;
    let job = ssr::start_mixdown(&ctx, &c, &user).await?;
    Ok(crate::jobs::view::info(&job))
}

#[server(endpoint = "save_calibration", input = server_fn::codec::Json)]
pub async fn save_calibration(calibration: NewCalibration) -> Result<CalibrationInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::save_calibration(&ctx.db, &user, calibration).await
}

#[server(endpoint = "my_calibrations")]
pub async fn my_calibrations() -> Result<Vec<CalibrationInfo>, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::calibrations(&ctx.db, &user).await
}

#[server(endpoint = "studio_home")]
pub async fn studio_home() -> Result<StudioOverview, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    Ok(StudioOverview {
        compositions: ssr::list_visible(&ctx.db, user.as_ref()).await?,
        collections: ssr::list_collections(&ctx.db, user.as_ref()).await?,
        signed_in: user.is_some(),
    })
}

#[server(endpoint = "create_collection", input = server_fn::codec::Json)]
pub async fn create_collection_fn(collection: NewCollection) -> Result<CollectionInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::create_collection(&ctx.db, &user, collection).await
}

#[server(endpoint = "get_collection")]
pub async fn get_collection(id: Uuid) -> Result<CollectionView, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::collection_view(&ctx.db, user.as_ref(), id).await
}
