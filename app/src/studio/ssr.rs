//! Server side of the studio model. Every operation starts from [`access`]: a composition the user
//! may not see does not exist for them (404); one they see but may not change is a 403.
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use super::{
    CalibrationInfo, CollectionInfo, CollectionView, CompositionInfo, CompositionPatch, InvitationLink, MemberInfo,
    NewCalibration, NewCollection, NewComposition, NewInvitation, NewTrack, Role, TrackInfo, TrackPatch, Visibility,
};
use crate::context::AppSettings;
use crate::db::{audio, collection, composition, instrument, invitation, latency_calibration, member, track, user};
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
            role = Role::parse(&m.role);
        }
    }
    let visible_to_all = match Visibility::parse(&c.visibility).unwrap_or(Visibility::Private) {
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

/// The composition and the asker's role, or 404; `at_least` turns a weaker role into 403.
pub async fn find(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    id: Uuid,
    at_least: Role,
) -> Result<(composition::Model, Role), AppError> {
    let c = composition::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    let role = access(db, viewer, &c).await?.ok_or(AppError::NotFound)?;
    if role < at_least {
        return Err(if viewer.is_none() { AppError::Unauthorized } else { AppError::Forbidden });
    }
    Ok((c, role))
}

pub fn info(c: &composition::Model, role: Role) -> CompositionInfo {
    CompositionInfo {
        id: c.id,
        collection_id: c.collection_id,
        owner_id: c.owner_id,
        title: c.title.clone(),
        description: c.description.clone(),
        tempo_bpm: c.tempo_bpm,
        meter_beats: c.meter_beats,
        meter_unit: c.meter_unit,
        count_in_bars: c.count_in_bars,
        license: c.license.clone(),
        visibility: Visibility::parse(&c.visibility).unwrap_or(Visibility::Private),
        open_to_contribution: c.open_to_contribution,
        created_at: c.created_at.to_rfc3339(),
        mixdown_id: c.mixdown_id,
        my_role: role,
    }
}

/// A take's capture record (devices, latency, stalls) is small; 64 KiB is far more than it needs.
fn check_capture(c: &serde_json::Value) -> Result<String, AppError> {
    let text = c.to_string();
    if text.len() > 64 * 1024 {
        return Err(AppError::Invalid("The capture record is larger than 64 KiB.".into()));
    }
    Ok(text)
}

/// A free-text description: trimmed, at most 5,000 characters.
pub fn check_description(d: &str) -> Result<String, AppError> {
    crate::error::within(d, 5_000, "Keep the description under 5,000 characters.")
}

fn check_title(t: &str) -> Result<String, AppError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(AppError::Invalid("Give it a title of 1 to 200 characters.".into()));
    }
    Ok(t.to_string())
}

fn check_tempo(bpm: f64) -> Result<f64, AppError> {
    if (20.0..=400.0).contains(&bpm) {
        Ok(bpm)
    } else {
        Err(AppError::Invalid("The tempo must be 20 to 400 BPM.".into()))
    }
}

fn check_meter(beats: i32, unit: i32) -> Result<(i32, i32), AppError> {
    if !(1..=32).contains(&beats) || ![1, 2, 4, 8, 16, 32].contains(&unit) {
        return Err(AppError::Invalid("The meter must be 1–32 beats of a 1, 2, 4, 8, 16 or 32 note.".into()));
    }
    Ok((beats, unit))
}

fn check_count_in(bars: i32) -> Result<i32, AppError> {
    if (0..=8).contains(&bars) { Ok(bars) } else { Err(AppError::Invalid("The count-in must be 0 to 8 bars.".into())) }
}

pub async fn create(
    db: &impl ConnectionTrait,
    owner: &user::Model,
    new: NewComposition,
    default_license: &str,
) -> Result<composition::Model, AppError> {
    let title = check_title(&new.title)?;
    let tempo = check_tempo(new.tempo_bpm.unwrap_or(120.0))?;
    let (beats, unit) = check_meter(new.meter_beats.unwrap_or(4), new.meter_unit.unwrap_or(4))?;
    let count_in = check_count_in(new.count_in_bars.unwrap_or(1))?;
    let license = crate::ingest::ssr::check_license(new.license.as_deref(), default_license)?;
    if let Some(cid) = new.collection_id {
        let col = crate::db::collection::Entity::find_by_id(cid).one(db).await?.ok_or(AppError::NotFound)?;
        if col.owner_id != owner.id {
            return Err(AppError::NotFound);
        }
    }
    let c = composition::ActiveModel {
        id: Set(Uuid::new_v4()),
        collection_id: Set(new.collection_id),
        owner_id: Set(owner.id),
        title: Set(title),
        description: Set(check_description(&new.description)?),
        tempo_bpm: Set(tempo),
        meter_beats: Set(beats),
        meter_unit: Set(unit),
        count_in_bars: Set(count_in),
        license: Set(license),
        visibility: Set(new.visibility.unwrap_or(Visibility::Private).as_str().to_string()),
        open_to_contribution: Set(new.open_to_contribution.unwrap_or(false)),
        mixdown_id: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    member::ActiveModel {
        composition_id: Set(c.id),
        user_id: Set(owner.id),
        role: Set(Role::Owner.as_str().into()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(c)
}

/// Editors change the composition; who may see it and who may add to it are the owner's to
/// decide, since widening either shows every member's tracks to more people.
pub async fn update(
    db: &impl ConnectionTrait,
    c: composition::Model,
    role: Role,
    patch: CompositionPatch,
    default_license: &str,
) -> Result<composition::Model, AppError> {
    if (patch.visibility.is_some() || patch.open_to_contribution.is_some()) && role < Role::Owner {
        return Err(AppError::Forbidden);
    }
    let mut a: composition::ActiveModel = c.clone().into();
    let mut renamed = None;
    if let Some(t) = patch.title {
        let title = check_title(&t)?;
        renamed = (title != c.title).then(|| title.clone());
        a.title = Set(title);
    }
    if let Some(d) = patch.description {
        a.description = Set(check_description(&d)?);
    }
    if let Some(bpm) = patch.tempo_bpm {
        a.tempo_bpm = Set(check_tempo(bpm)?);
    }
    if patch.meter_beats.is_some() || patch.meter_unit.is_some() {
        let (b, u) = check_meter(patch.meter_beats.unwrap_or(c.meter_beats), patch.meter_unit.unwrap_or(c.meter_unit))?;
        a.meter_beats = Set(b);
        a.meter_unit = Set(u);
    }
    if let Some(n) = patch.count_in_bars {
        a.count_in_bars = Set(check_count_in(n)?);
    }
    if let Some(l) = patch.license {
        a.license = Set(crate::ingest::ssr::check_license(Some(&l), default_license)?);
    }
    if let Some(v) = patch.visibility {
        a.visibility = Set(v.as_str().into());
    }
    if let Some(o) = patch.open_to_contribution {
        a.open_to_contribution = Set(o);
    }
    let updated = a.update(db).await?;
    // A mixdown is named after its composition: it must not keep a title the owner replaced
    // (perhaps before making the composition public).
    if let Some(title) = renamed {
        audio::Entity::update_many()
            .col_expr(audio::Column::OriginalFilename, sea_orm::sea_query::Expr::value(mixdown_filename(&title)))
            .filter(audio::Column::CompositionId.eq(c.id))
            .exec(db)
            .await?;
    }
    Ok(updated)
}

/// What a composition's mixdown is called.
fn mixdown_filename(title: &str) -> String {
    format!("{title} (mixdown).wav")
}

/// Every composition `viewer` can see, newest first.
pub async fn list_visible(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
) -> Result<Vec<CompositionInfo>, AppError> {
    let all = composition::Entity::find().order_by_desc(composition::Column::CreatedAt).all(db).await?;
    let mut out = Vec::new();
    for c in all {
        if let Some(role) = access(db, viewer, &c).await? {
            out.push(info(&c, role));
        }
    }
    Ok(out)
}

pub async fn members(db: &impl ConnectionTrait, c: &composition::Model) -> Result<Vec<MemberInfo>, AppError> {
    let rows = member::Entity::find().filter(member::Column::CompositionId.eq(c.id)).all(db).await?;
    let mut out = Vec::new();
    for m in rows {
        let name = user::Entity::find_by_id(m.user_id).one(db).await?.map(|u| u.display_name).unwrap_or_default();
        out.push(MemberInfo {
            user_id: m.user_id,
            display_name: name,
            role: Role::parse(&m.role).unwrap_or(Role::Viewer),
        });
    }
    Ok(out)
}

pub async fn set_member(
    db: &impl ConnectionTrait,
    c: &composition::Model,
    user_id: Uuid,
    role: Option<Role>,
) -> Result<(), AppError> {
    if user_id == c.owner_id {
        return Err(AppError::Conflict("The owner's role cannot be changed.".into()));
    }
    if role == Some(Role::Owner) {
        return Err(AppError::Invalid("A composition has one owner.".into()));
    }
    member::Entity::delete_by_id((c.id, user_id)).exec(db).await?;
    if let Some(role) = role {
        user::Entity::find_by_id(user_id).one(db).await?.ok_or(AppError::NotFound)?;
        member::ActiveModel {
            composition_id: Set(c.id),
            user_id: Set(user_id),
            role: Set(role.as_str().into()),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn invite(
    db: &impl ConnectionTrait,
    c: &composition::Model,
    by: &user::Model,
    new: NewInvitation,
) -> Result<InvitationLink, AppError> {
    use base64::Engine as _;
    use rand::RngCore as _;
    if new.role == Role::Owner {
        return Err(AppError::Invalid("Invite as editor, contributor or viewer.".into()));
    }
    let hours = new.expires_in_hours.unwrap_or(24 * 7);
    if !(1..=24 * 90).contains(&hours) {
        return Err(AppError::Invalid("An invitation lasts 1 hour to 90 days.".into()));
    }
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let inv = invitation::ActiveModel {
        id: Set(Uuid::new_v4()),
        composition_id: Set(c.id),
        token_hash: Set(crate::auth::ssr::hash_token(&token)),
        role: Set(new.role.as_str().into()),
        expires_at: Set(Utc::now() + Duration::hours(hours)),
        used_by: Set(None),
        used_at: Set(None),
        created_by: Set(by.id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(InvitationLink {
        id: inv.id,
        path: format!("/invite/{token}"),
        token,
        role: new.role,
        expires_at: inv.expires_at.to_rfc3339(),
    })
}

/// What an invitation offers: the composition's title and owner, the role, and whether it can still
/// be accepted. Knowing the token is what entitles one to this.
pub async fn preview(db: &impl ConnectionTrait, token: &str) -> Result<super::InvitationPreview, AppError> {
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(crate::auth::ssr::hash_token(token)))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = composition::Entity::find_by_id(inv.composition_id).one(db).await?.ok_or(AppError::NotFound)?;
    let owner = user::Entity::find_by_id(c.owner_id).one(db).await?.map(|u| u.display_name).unwrap_or_default();
    let unusable = if inv.used_by.is_some() {
        Some("This invitation was already used. Ask for a new one.".to_string())
    } else if inv.expires_at <= Utc::now() {
        Some("This invitation has expired. Ask for a new one.".to_string())
    } else {
        None
    };
    Ok(super::InvitationPreview {
        composition_title: c.title,
        owner_name: owner,
        role: Role::parse(&inv.role).unwrap_or(Role::Viewer),
        expires_at: inv.expires_at.to_rfc3339(),
        unusable,
    })
}

/// Accept an invitation: single use, before it expires. Returns the composition.
///
/// The invitation is claimed first, by a conditional update, and the membership is made in the
/// same transaction: of two people accepting one link at once, exactly one becomes a member.
pub async fn accept(
    db: &sea_orm::DatabaseConnection,
    u: &user::Model,
    token: &str,
) -> Result<composition::Model, AppError> {
    use sea_orm::TransactionTrait;
    let hash = crate::auth::ssr::hash_token(token);
    let now = Utc::now();
    // Writing first also takes SQLite's write lock before any read, so two transactions never
    // both read and then both try to write.
    let txn = db.begin().await?;
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::UsedBy, sea_orm::sea_query::Expr::value(u.id))
        .col_expr(invitation::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(invitation::Column::TokenHash.eq(hash.clone()))
        .filter(invitation::Column::UsedBy.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(hash))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if claimed.rows_affected == 0 {
        return Err(if inv.used_by.is_some() {
            AppError::Conflict("This invitation was already used. Ask for a new one.".into())
        } else {
            AppError::Conflict("This invitation has expired. Ask for a new one.".into())
        });
    }
    let c = composition::Entity::find_by_id(inv.composition_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let role = Role::parse(&inv.role).unwrap_or(Role::Viewer);
    let current = member::Entity::find_by_id((c.id, u.id)).one(&txn).await?.and_then(|m| Role::parse(&m.role));
    // Accepting never lowers a role someone already has.
    if current.is_none_or(|r| r < role) && u.id != c.owner_id {
        set_member(&txn, &c, u.id, Some(role)).await?;
    }
    txn.commit().await?;
    Ok(c)
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
    instrument::Entity::find_by_id(slug.to_string())
        .one(db)
        .await?
        .map(|i| i.slug)
        .ok_or_else(|| AppError::Invalid(format!("Unknown instrument '{slug}'; choose one from the taxonomy.")))
}

fn check_mixer(gain_db: Option<f64>, pan: Option<f64>) -> Result<(), AppError> {
    if gain_db.is_some_and(|g| !(-60.0..=12.0).contains(&g)) {
        return Err(AppError::Invalid("Gain must be between −60 and +12 dB.".into()));
    }
    if pan.is_some_and(|p| !(-1.0..=1.0).contains(&p)) {
        return Err(AppError::Invalid("Pan must be between −1 (left) and 1 (right).".into()));
    }
    Ok(())
}

/// The longest composition Tutti renders, in frames: as long as the longest audio it takes.
fn longest_frames(settings: &AppSettings) -> i64 {
    i64::try_from(settings.max_audio_seconds.saturating_mul(u64::from(settings.canonical_rate))).unwrap_or(i64::MAX)
}

/// A track starts within the longest composition, before or after frame 0; anything further would
/// make the mixdown longer than Tutti renders.
fn check_offset(offset: i64, settings: &AppSettings) -> Result<i64, AppError> {
    if offset.unsigned_abs() > longest_frames(settings).unsigned_abs() {
        return Err(AppError::Invalid(format!(
            "A track can start at most {} from the start of the composition.",
            crate::ingest::ssr::human_duration(settings.max_audio_seconds as f64)
        )));
    }
    Ok(offset)
}

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
    if a.kind == "clip" {
        return Err(AppError::Invalid("Clips cannot be used as tracks.".into()));
    }
    let name = check_title(&new.name)?;
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
    check_mixer(patch.gain_db, patch.pan)?;
    let mut a: track::ActiveModel = t.clone().into();
    if let Some(n) = patch.name {
        a.name = Set(check_title(&n)?);
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

/// Whether `viewer` may hear `audio_id` because it is a track or the mixdown of a composition they
/// can see.
pub async fn hears_as_track(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    audio_id: Uuid,
) -> Result<bool, AppError> {
    for c in composition::Entity::find().filter(composition::Column::MixdownId.eq(audio_id)).all(db).await? {
        if access(db, viewer, &c).await?.is_some() {
            return Ok(true);
        }
    }
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

/// Frames of the mix rendered and written at a time.
const MIX_BLOCK_FRAMES: usize = 1 << 16;

/// Render the composition on the server with the same gain and pan law as the browser, store it
/// as audio of kind `mixdown` (owned by the composition's owner, with its licence) and remember it
/// on the composition. Each track's canonical audio is decoded in full, so memory grows with the
/// tracks' own length; the mix itself is written a block at a time.
pub async fn render_mixdown(
    ctx: &crate::context::ServerContext,
    c: &composition::Model,
) -> Result<audio::Model, AppError> {
    use ::audio::mixdown::{TrackMix, mix_frames, mix_range};
    let rows = track::Entity::find().filter(track::Column::CompositionId.eq(c.id)).all(&ctx.db).await?;
    if rows.is_empty() {
        return Err(AppError::Invalid("The composition has no tracks to mix.".into()));
    }
    let mut sources = Vec::with_capacity(rows.len());
    for t in &rows {
        sources.push(audio::Entity::find_by_id(t.audio_id).one(&ctx.db).await?.ok_or(AppError::Internal)?);
    }
    // The mix is allocated whole: refuse one longer than Tutti renders before decoding anything
    // (tracks stored before offsets were checked could place audio arbitrarily far out).
    let any_solo = rows.iter().any(|t| t.solo);
    let end = rows
        .iter()
        .zip(&sources)
        .filter(|(t, _)| !t.mute && (t.solo || !any_solo))
        .map(|(t, a)| i128::from(t.offset_frames) + i128::from(a.frames.max(0)))
        .max()
        .unwrap_or(0);
    if end > i128::from(longest_frames(&ctx.settings)) {
        return Err(AppError::Invalid(format!(
            "The mixdown would end after {}, later than Tutti renders; move the tracks closer to the start.",
            crate::ingest::ssr::human_duration(ctx.settings.max_audio_seconds as f64)
        )));
    }
    let mut decoded = Vec::with_capacity(rows.len());
    for (t, a) in rows.iter().zip(sources) {
        if a.canonical_rate as u32 != ctx.settings.canonical_rate {
            return Err(AppError::Conflict(format!(
                "Track '{}' is stored at {} Hz; re-ingest it at the canonical rate.",
                t.name, a.canonical_rate
            )));
        }
        let flac = ctx
            .store
            .get(&object_store::path::Path::from(a.canonical_key.as_str()))
            .await
            .map_err(|e| mix_error(&e))?
            .bytes()
            .await
            .map_err(|e| mix_error(&e))?;
        decoded.push((t.clone(), flac, a.frames.max(0) as u64));
    }
    let rate = ctx.settings.canonical_rate;
    let tmp_dir = ctx.settings.tmp_dir.clone();
    let permit = ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| mix_error(&e))?;
    let staged = tokio::task::spawn_blocking(move || -> Result<crate::ingest::ssr::Staged, AppError> {
        let _permit = permit;
        let mut sources = Vec::with_capacity(decoded.len());
        for (t, flac, frames) in decoded {
            let (samples, channels) = crate::tasks::ssr::decode_whole_blocking(flac, frames)?;
            sources.push((t, samples, channels));
        }
        let tracks: Vec<TrackMix> = sources
            .iter()
            .map(|(t, samples, channels)| TrackMix {
                samples,
                channels: *channels,
                offset_frames: t.offset_frames,
                gain_db: t.gain_db,
                pan: t.pan,
                mute: t.mute,
                solo: t.solo,
            })
            .collect();
        let frames = mix_frames(&tracks);
        if frames == 0 {
            let any_solo = tracks.iter().any(|t| t.solo);
            let sounding = tracks.iter().any(|t| !t.mute && (t.solo || !any_solo));
            return Err(AppError::Invalid(if sounding {
                "Every track that sounds ends before the composition's start: there is nothing to mix.".into()
            } else {
                "Every track is muted: there is nothing to mix.".into()
            }));
        }
        // 32-bit float: the sum keeps the tracks' full precision and any peak above full scale
        // (the canonical FLAC made from it is clipped there, like every canonical).
        let header = ::audio::wav::f32_header(frames.saturating_mul(2), rate, 2).ok_or_else(|| {
            AppError::Invalid(
                "The mixdown would be larger than a WAV file holds (4 GiB); move the tracks closer to the start."
                    .into(),
            )
        })?;
        // Rendered and written a block at a time: memory stays at the tracks' own audio however
        // far apart they lie.
        crate::ingest::ssr::Staged::write_in(&tmp_dir, |w| {
            w.write(&header)?;
            let mut bytes = Vec::new();
            for start in (0..frames).step_by(MIX_BLOCK_FRAMES) {
                let len = (frames - start).min(MIX_BLOCK_FRAMES as u64) as usize;
                bytes.clear();
                ::audio::wav::put_f32(&mut bytes, &mix_range(&tracks, start, len));
                w.write(&bytes)?;
            }
            Ok(())
        })
    })
    .await
    .map_err(|e| mix_error(&e))??;
    let new = crate::ingest::ssr::NewAudio {
        owner_id: c.owner_id,
        kind: "mixdown",
        filename: mixdown_filename(&c.title),
        license: c.license.clone(),
        // Never public by itself: whoever sees the composition hears its mixdown
        // (`hears_as_track`), so the mix follows the composition's visibility as it changes.
        is_public: false,
        parent_id: None,
        parent_offset_frames: None,
        composition_id: Some(c.id),
    };
    let a = crate::ingest::ssr::ingest(ctx, staged, new).await?.audio;
    // The composition may have been deleted while its mix rendered: the mix then stays its
    // owner's audio only, and the request is told the composition is gone.
    let set = composition::Entity::update_many()
        .col_expr(composition::Column::MixdownId, sea_orm::sea_query::Expr::value(Some(a.id)))
        .filter(composition::Column::Id.eq(c.id))
        .exec(&ctx.db)
        .await?;
    if set.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

fn mix_error(e: &dyn std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "mixdown failed");
    AppError::Internal
}

fn calibration_info(m: latency_calibration::Model) -> CalibrationInfo {
    CalibrationInfo {
        device_key: m.device_key,
        device_label: m.device_label,
        latency_ms: m.latency_ms,
        spread_ms: m.spread_ms,
        quality_db: m.quality_db,
        sample_rate: m.sample_rate,
        runs: m.runs,
        accepted: m.accepted,
        measured_at: m.measured_at.to_rfc3339(),
    }
}

/// Stores `new` as the user's latency for its device, replacing an earlier measurement of it.
/// The server applies the same quality gate as the browser: a weak result is refused, not stored.
pub async fn save_calibration(
    db: &sea_orm::DatabaseConnection,
    u: &user::Model,
    new: NewCalibration,
) -> Result<CalibrationInfo, AppError> {
    let key = new.device_key.trim().to_string();
    if key.is_empty() || key.chars().count() > 512 {
        return Err(AppError::Invalid("The input device is missing or its key is too long.".into()));
    }
    if !new.latency_ms.is_finite() || !(0.0..=1000.0).contains(&new.latency_ms) {
        return Err(AppError::Invalid("The round-trip latency must be between 0 and 1000 ms.".into()));
    }
    if !new.spread_ms.is_finite() || !(0.0..=1000.0).contains(&new.spread_ms) {
        return Err(AppError::Invalid("The spread must be between 0 and 1000 ms.".into()));
    }
    if !(8_000..=384_000).contains(&new.sample_rate) {
        return Err(AppError::Invalid("The sample rate must be between 8 and 384 kHz.".into()));
    }
    if new.runs < 1 || new.runs > 50 || new.accepted < 1 || new.accepted > new.runs {
        return Err(AppError::Invalid("Runs must be 1 to 50, with 1 to that many accepted.".into()));
    }
    let gate = ::audio::calibration::DEFAULT_GATE_DB;
    if !new.quality_db.is_finite() || new.quality_db < gate {
        return Err(AppError::Invalid(format!(
            "The measurement is too weak to trust (peak-to-noise {:.1} dB, the gate is {gate:.0} dB).",
            new.quality_db
        )));
    }
    let label: String = new.device_label.trim().chars().take(200).collect();
    let agent: String = new.user_agent.chars().take(500).collect();
    let txn = crate::db::begin_write(db).await?;
    // A new measurement of the same input replaces the old one.
    latency_calibration::Entity::delete_many()
        .filter(latency_calibration::Column::UserId.eq(u.id))
        .filter(latency_calibration::Column::DeviceKey.eq(key.clone()))
        .exec(&txn)
        .await?;
    let row = latency_calibration::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(u.id),
        device_key: Set(key),
        device_label: Set(label),
        latency_ms: Set(new.latency_ms),
        spread_ms: Set(new.spread_ms),
        quality_db: Set(new.quality_db),
        sample_rate: Set(new.sample_rate),
        runs: Set(new.runs),
        accepted: Set(new.accepted),
        user_agent: Set(agent),
        measured_at: Set(Utc::now()),
    };
    let saved = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(calibration_info(saved))
}

/// The user's stored latency measurements, newest first.
pub async fn calibrations(db: &impl ConnectionTrait, u: &user::Model) -> Result<Vec<CalibrationInfo>, AppError> {
    Ok(latency_calibration::Entity::find()
        .filter(latency_calibration::Column::UserId.eq(u.id))
        .order_by_desc(latency_calibration::Column::MeasuredAt)
        .all(db)
        .await?
        .into_iter()
        .map(calibration_info)
        .collect())
}

/// Whether `viewer` may see collection `c` (its compositions still check their own access).
fn sees_collection(viewer: Option<&user::Model>, c: &collection::Model) -> bool {
    match Visibility::parse(&c.visibility).unwrap_or(Visibility::Private) {
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
        visibility: Visibility::parse(&c.visibility).unwrap_or(Visibility::Private),
        created_at: c.created_at.to_rfc3339(),
        compositions,
        mine: viewer.is_some_and(|u| u.id == c.owner_id),
    })
}

pub async fn create_collection(
    db: &impl ConnectionTrait,
    owner: &user::Model,
    new: NewCollection,
) -> Result<CollectionInfo, AppError> {
    let title = check_title(&new.title)?;
    let c = collection::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner.id),
        title: Set(title),
        description: Set(check_description(&new.description)?),
        visibility: Set(new.visibility.unwrap_or(Visibility::Private).as_str().to_string()),
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
