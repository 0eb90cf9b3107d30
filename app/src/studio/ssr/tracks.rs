//! Tracks: placing audio in a composition, the mixer settings, and who may change which track.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use super::checks::longest_frames;
use super::compositions::find;
use crate::context::AppSettings;
use crate::db::{audio, composition, instrument, track, user};
use crate::domain::{Mixer, Title};
use crate::error::AppError;
use crate::studio::{NewTrack, Role, TrackInfo, TrackPatch};

/// A take's capture record (devices, latency, stalls) is small; 64 KiB is far more than it needs.
fn check_capture(c: &serde_json::Value) -> Result<String, AppError> {
    let text = c.to_string();
    if text.len() > 64 * 1024 {
        return Err(AppError::Invalid("The capture record is larger than 64 KiB.".into()));
    }
    Ok(text)
}

pub async fn track_info(db: &impl ConnectionTrait, t: &track::Model) -> Result<TrackInfo, AppError> {
    let a = audio::Entity::find_by_id(t.audio_id).one(db).await?.ok_or(AppError::Internal)?;
    Ok(TrackInfo {
        id: t.id,
        composition_id: t.composition_id,
        audio_id: t.audio_id,
        author_id: t.author_id,
        name: t.name.clone(),
        instrument: t.instrument.clone(),
        offset_frames: t.offset_frames,
        gain_db: t.gain_db,
        pan: t.pan,
        mute: t.mute,
        solo: t.solo,
        is_master: t.is_master,
        capture: t.capture.as_deref().and_then(|c| serde_json::from_str(c).ok()),
        duration_seconds: a.duration_seconds,
        canonical_rate: a.canonical_rate,
    })
}

pub async fn tracks(db: &impl ConnectionTrait, c: &composition::Model) -> Result<Vec<TrackInfo>, AppError> {
    let rows = track::Entity::find()
        .filter(track::Column::CompositionId.eq(c.id))
        .order_by_desc(track::Column::IsMaster)
        .order_by_asc(track::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for t in &rows {
        out.push(track_info(db, t).await?);
    }
    Ok(out)
}

async fn check_instrument(db: &impl ConnectionTrait, slug: &str) -> Result<String, AppError> {
    if slug == crate::instruments::UNKNOWN {
        return Ok(slug.to_string());
    }
    instrument::Entity::find_by_id(slug.to_string()).one(db).await?.map(|i| i.slug).ok_or_else(|| {
        AppError::Invalid(format!("Unknown instrument '{slug}'; choose one from the taxonomy, or 'unknown'."))
    })
}

/// A track starts within the longest composition, before or after frame 0; anything further would
/// make the mixdown longer than Tutti renders.
fn check_offset(offset: i64, settings: &AppSettings) -> Result<i64, AppError> {
    if offset.unsigned_abs() > longest_frames(settings).unsigned_abs() {
        return Err(AppError::Invalid(format!(
            "A track can start at most {} from the start of the composition.",
            crate::library::ssr::human_duration(settings.max_audio_seconds as f64)
        )));
    }
    Ok(offset)
}

#[tracing::instrument(skip_all, fields(composition = %c.id, user = %author.id))]
pub async fn add_track(
    db: &impl ConnectionTrait,
    settings: &AppSettings,
    c: &composition::Model,
    role: Role,
    author: &user::Model,
    new: NewTrack,
) -> Result<track::Model, AppError> {
    check_offset(new.offset_frames, settings)?;
    let a = audio::Entity::find_by_id(new.audio_id).one(db).await?.ok_or(AppError::NotFound)?;
    // Contributors bring their own audio; editors may place any audio they can see.
    let own = a.owner_id == author.id;
    if !own && !(role >= Role::Editor && (a.is_public || author.is_admin)) {
        return Err(AppError::NotFound);
    }
    if a.kind == crate::domain::AudioKind::Clip {
        return Err(AppError::Invalid("Clips cannot be used as tracks.".into()));
    }
    let name = Title::parse(&new.name)?.into_string();
    let instrument = check_instrument(db, &new.instrument).await?;
    if new.is_master {
        if role < Role::Editor {
            return Err(AppError::Forbidden);
        }
        let existing = track::Entity::find()
            .filter(track::Column::CompositionId.eq(c.id))
            .filter(track::Column::IsMaster.eq(true))
            .count(db)
            .await?;
        if existing > 0 {
            return Err(AppError::Conflict("This composition already has a master track.".into()));
        }
    }
    track::ActiveModel {
        id: Set(Uuid::new_v4()),
        composition_id: Set(c.id),
        audio_id: Set(a.id),
        author_id: Set(author.id),
        name: Set(name),
        instrument: Set(instrument),
        offset_frames: Set(new.offset_frames),
        gain_db: Set(0.0),
        pan: Set(0.0),
        mute: Set(false),
        solo: Set(false),
        is_master: Set(new.is_master),
        capture: Set(new.capture.map(|c| check_capture(&c)).transpose()?),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        // Another request made a master in the meantime (`ux_tracks_one_master`).
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) if new.is_master => {
            AppError::Conflict("This composition already has a master track.".into())
        }
        _ => e.into(),
    })
}

/// The track and the composition it belongs to, if `viewer` may see them.
pub async fn find_track(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    id: Uuid,
) -> Result<(track::Model, composition::Model, Role), AppError> {
    let t = track::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    let (c, role) = find(db, viewer, t.composition_id, Role::Viewer).await?;
    Ok((t, c, role))
}

/// Contributors change their own tracks; editors and owners any track.
fn may_edit(t: &track::Model, role: Role, u: &user::Model) -> bool {
    may_change(t.author_id, role, u.id)
}

/// Whether someone with `role` may change a track by `author` (the page greys out the others).
pub fn may_change(author: Uuid, role: Role, user: Uuid) -> bool {
    role >= Role::Editor || (role >= Role::Contributor && author == user)
}

#[tracing::instrument(skip_all, fields(track = %id, user = %u.id))]
pub async fn update_track(
    db: &impl ConnectionTrait,
    settings: &AppSettings,
    u: &user::Model,
    id: Uuid,
    patch: TrackPatch,
) -> Result<track::Model, AppError> {
    let (t, c, role) = find_track(db, Some(u), id).await?;
    if !may_edit(&t, role, u) {
        return Err(AppError::Forbidden);
    }
    patch.gain_db.map(Mixer::gain_db).transpose()?;
    patch.pan.map(Mixer::pan).transpose()?;
    let mut a: track::ActiveModel = t.clone().into();
    if let Some(n) = patch.name {
        a.name = Set(Title::parse(&n)?.into_string());
    }
    if let Some(i) = patch.instrument {
        a.instrument = Set(check_instrument(db, &i).await?);
    }
    if let Some(o) = patch.offset_frames {
        a.offset_frames = Set(check_offset(o, settings)?);
    }
    if let Some(g) = patch.gain_db {
        a.gain_db = Set(g);
    }
    if let Some(p) = patch.pan {
        a.pan = Set(p);
    }
    if let Some(m) = patch.mute {
        a.mute = Set(m);
    }
    if let Some(s) = patch.solo {
        a.solo = Set(s);
    }
    if let Some(master) = patch.is_master {
        if role < Role::Editor {
            return Err(AppError::Forbidden);
        }
        if master {
            // One master per composition: this one takes over.
            track::Entity::update_many()
                .col_expr(track::Column::IsMaster, sea_orm::sea_query::Expr::value(false))
                .filter(track::Column::CompositionId.eq(c.id))
                .exec(db)
                .await?;
        }
        a.is_master = Set(master);
    }
    a.update(db).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("Another track became the master at the same time; reload and try again.".into())
        }
        _ => e.into(),
    })
}

#[tracing::instrument(skip_all, fields(track = %id, user = %u.id))]
pub async fn delete_track(db: &impl ConnectionTrait, u: &user::Model, id: Uuid) -> Result<(), AppError> {
    let (t, _, role) = find_track(db, Some(u), id).await?;
    if !may_edit(&t, role, u) {
        return Err(AppError::Forbidden);
    }
    let composition_id = t.composition_id;
    t.delete(db).await?;
    // The mix still holds the removed track's audio, which may be private: it is no longer the
    // composition's (its owner keeps it); render again for a new one.
    composition::Entity::update_many()
        .col_expr(composition::Column::MixdownId, sea_orm::sea_query::Expr::value(Option::<Uuid>::None))
        .filter(composition::Column::Id.eq(composition_id))
        .exec(db)
        .await?;
    Ok(())
}
