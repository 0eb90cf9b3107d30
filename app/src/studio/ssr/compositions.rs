//! Compositions: finding one the asker may open, creating, changing and listing them.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::checks::mixdown_filename;
use crate::access::composition::access;
use crate::db::{audio, composition, member, user};
use crate::domain::{CountIn, Meter, Tempo};
use crate::domain::{Description, Licence, Title};
use crate::error::AppError;
use crate::studio::{CompositionInfo, CompositionPatch, NewComposition, Role, Visibility};

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
        license: c.license,
        visibility: c.visibility,
        open_to_contribution: c.open_to_contribution,
        created_at: c.created_at.to_rfc3339(),
        mixdown_id: c.mixdown_id,
        my_role: role,
    }
}

#[tracing::instrument(skip_all, fields(user = %owner.id))]
pub async fn create(
    db: &impl ConnectionTrait,
    owner: &user::Model,
    new: NewComposition,
    default_license: Licence,
) -> Result<composition::Model, AppError> {
    let title = Title::parse(&new.title)?.into_string();
    let tempo = Tempo::parse(new.tempo_bpm.unwrap_or(120.0))?.bpm();
    let meter = Meter::parse(new.meter_beats.unwrap_or(4), new.meter_unit.unwrap_or(4))?;
    let (beats, unit) = (meter.beats(), meter.unit());
    let count_in = CountIn::parse(new.count_in_bars.unwrap_or(1))?.bars();
    let license = Licence::chosen_or(new.license.as_deref(), default_license)?;
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
        description: Set(Description::parse(&new.description)?.into_string()),
        tempo_bpm: Set(tempo),
        meter_beats: Set(beats),
        meter_unit: Set(unit),
        count_in_bars: Set(count_in),
        license: Set(license),
        visibility: Set(new.visibility.unwrap_or(Visibility::Private)),
        open_to_contribution: Set(new.open_to_contribution.unwrap_or(false)),
        mixdown_id: Set(None),
        mixdown_recipe: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    member::ActiveModel {
        composition_id: Set(c.id),
        user_id: Set(owner.id),
        role: Set(Role::Owner),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(c)
}

/// Editors change the composition; who may see it and who may add to it are the owner's to
/// decide, since widening either shows every member's tracks to more people.
#[tracing::instrument(skip_all, fields(composition = %c.id))]
pub async fn update(
    db: &impl ConnectionTrait,
    c: composition::Model,
    role: Role,
    patch: CompositionPatch,
    default_license: Licence,
) -> Result<composition::Model, AppError> {
    if (patch.visibility.is_some() || patch.open_to_contribution.is_some()) && role < Role::Owner {
        return Err(AppError::Forbidden);
    }
    let mut a: composition::ActiveModel = c.clone().into();
    let mut renamed = None;
    if let Some(t) = patch.title {
        let title = Title::parse(&t)?.into_string();
        renamed = (title != c.title).then(|| title.clone());
        a.title = Set(title);
    }
    if let Some(d) = patch.description {
        a.description = Set(Description::parse(&d)?.into_string());
    }
    if let Some(bpm) = patch.tempo_bpm {
        a.tempo_bpm = Set(Tempo::parse(bpm)?.bpm());
    }
    if patch.meter_beats.is_some() || patch.meter_unit.is_some() {
        let m = Meter::parse(patch.meter_beats.unwrap_or(c.meter_beats), patch.meter_unit.unwrap_or(c.meter_unit))?;
        let (b, u) = (m.beats(), m.unit());
        a.meter_beats = Set(b);
        a.meter_unit = Set(u);
    }
    if let Some(n) = patch.count_in_bars {
        a.count_in_bars = Set(CountIn::parse(n)?.bars());
    }
    if let Some(l) = patch.license {
        a.license = Set(Licence::chosen_or(Some(&l), default_license)?);
    }
    if let Some(v) = patch.visibility {
        a.visibility = Set(v);
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

/// Delete a composition (its owner or an admin): its tracks, members and invitations go with it;
/// the audio stays its owners', and a mixdown still on its way finds it gone.
#[tracing::instrument(skip_all, fields(composition = %id, user = %u.id))]
pub async fn delete(db: &impl ConnectionTrait, u: &user::Model, id: Uuid) -> Result<(), AppError> {
    use sea_orm::ModelTrait;
    let (c, _) = find(db, Some(u), id, Role::Owner).await?;
    c.delete(db).await?;
    Ok(())
}
