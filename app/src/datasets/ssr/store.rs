//! Datasets and releases as rows: the catalogue, a dataset's page, creating and changing datasets,
//! asking for a release, publishing it and deleting an unpublished one. A published release never
//! changes: every change to one is refused with 409.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set, SqlErr,
    TransactionTrait,
};
use uuid::Uuid;

use crate::access::dataset::{editable_dataset, releases_visible_to, visible_dataset, visible_to};
use crate::context::ServerContext;
use crate::datasets::{CompileRequest, DatasetFields, DatasetInfo, DatasetPage, ReleaseInfo};
use crate::db::{campaign, dataset as dataset_row, dataset_release, user};
use crate::domain::{DatasetVisibility, ReleaseState};
use crate::error::AppError;

pub fn release_info(r: &dataset_release::Model) -> ReleaseInfo {
    ReleaseInfo {
        id: r.id,
        version: r.version,
        state: r.state,
        notes: r.notes.clone(),
        params: serde_json::from_str(&r.params).unwrap_or_default(),
        campaigns: serde_json::from_str(&r.campaigns).unwrap_or_default(),
        job_id: r.job_id,
        phase: r.phase.clone(),
        done: r.done,
        total: r.total,
        report: r.report.as_deref().and_then(|t| serde_json::from_str(t).ok()),
        error: r.error.clone(),
        tar_bytes: r.tar_bytes,
        zip_bytes: r.zip_bytes,
        created_at: r.created_at.to_rfc3339(),
        published_at: r.published_at.map(|t| t.to_rfc3339()),
    }
}

/// A release still compiling whose job ended without it (cancelled while queued, or given up)
/// is failed here, with the job's reason, so it never shows "compiling" for ever.
pub async fn settle(db: &impl ConnectionTrait, r: dataset_release::Model) -> Result<dataset_release::Model, AppError> {
    use crate::domain::JobState;
    if r.state != ReleaseState::Compiling {
        return Ok(r);
    }
    let Some(job) = r.job_id else { return Ok(r) };
    let error = match crate::db::job::Entity::find_by_id(job).one(db).await?.map(|j| (j.state, j.error)) {
        Some((JobState::Cancelled, _)) => "cancelled".to_string(),
        Some((JobState::Failed, e)) => e.unwrap_or_else(|| "the compile job failed".into()),
        None => "the compile job is gone".to_string(),
        _ => return Ok(r),
    };
    dataset_release::Entity::update_many()
        .col_expr(dataset_release::Column::State, sea_orm::sea_query::Expr::value(ReleaseState::Failed))
        .col_expr(dataset_release::Column::Error, sea_orm::sea_query::Expr::value(error))
        .filter(dataset_release::Column::Id.eq(r.id))
        .filter(dataset_release::Column::State.eq(ReleaseState::Compiling))
        .filter(dataset_release::Column::JobId.eq(job))
        .exec(db)
        .await?;
    Ok(dataset_release::Entity::find_by_id(r.id).one(db).await?.unwrap_or(r))
}

/// Release `version` of `slug` as `viewer` may see it, settled.
pub async fn release(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    slug: &str,
    version: i32,
) -> Result<ReleaseInfo, AppError> {
    let (_, r) = crate::access::dataset::visible_release(db, viewer, slug, version).await?;
    Ok(release_info(&settle(db, r).await?))
}

fn info(d: &dataset_row::Model, latest: Option<&dataset_release::Model>) -> DatasetInfo {
    DatasetInfo {
        id: d.id,
        slug: d.slug.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        citation: d.citation.clone(),
        visibility: d.visibility,
        created_at: d.created_at.to_rfc3339(),
        updated_at: d.updated_at.to_rfc3339(),
        latest: latest.map(release_info),
    }
}

/// Every dataset `viewer` may see, by name, each with its newest published release.
pub async fn catalogue(db: &impl ConnectionTrait, viewer: Option<&user::Model>) -> Result<Vec<DatasetInfo>, AppError> {
    let sets =
        dataset_row::Entity::find().filter(visible_to(viewer)).order_by_asc(dataset_row::Column::Name).all(db).await?;
    let ids: Vec<Uuid> = sets.iter().map(|d| d.id).collect();
    let published = dataset_release::Entity::find()
        .filter(dataset_release::Column::DatasetId.is_in(ids))
        .filter(dataset_release::Column::State.eq(ReleaseState::Published))
        .order_by_desc(dataset_release::Column::Version)
        .all(db)
        .await?;
    Ok(sets.iter().map(|d| info(d, published.iter().find(|r| r.dataset_id == d.id))).collect())
}

pub async fn page(
    db: &impl ConnectionTrait,
    viewer: Option<&user::Model>,
    slug: &str,
) -> Result<DatasetPage, AppError> {
    let d = visible_dataset(db, viewer, slug).await?;
    let releases = dataset_release::Entity::find()
        .filter(dataset_release::Column::DatasetId.eq(d.id))
        .filter(releases_visible_to(viewer))
        .order_by_desc(dataset_release::Column::Version)
        .all(db)
        .await?;
    let mut settled = Vec::with_capacity(releases.len());
    for r in releases {
        settled.push(settle(db, r).await?);
    }
    let releases = settled;
    let latest = releases.iter().find(|r| r.state == ReleaseState::Published);
    Ok(DatasetPage {
        dataset: info(&d, latest),
        releases: releases.iter().map(release_info).collect(),
        can_edit: viewer.is_some_and(|u| u.is_admin),
    })
}

/// A slug is what the dataset's address and archive names are made of.
pub fn check_slug(slug: &str) -> Result<String, AppError> {
    let s = slug.trim();
    let ok = (2..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(AppError::Invalid(
            "A slug is 2 to 64 lowercase letters, digits and hyphens, not starting or ending with a hyphen.".into(),
        ))
    }
}

fn check_text(what: &str, text: &str, max: usize, required: bool) -> Result<String, AppError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(AppError::Invalid(format!("The {what} is required.")));
    }
    if t.chars().count() > max {
        return Err(AppError::Invalid(format!("The {what} is longer than {max} characters.")));
    }
    Ok(t.to_string())
}

fn salt() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub async fn create(db: &impl ConnectionTrait, admin: &user::Model, f: DatasetFields) -> Result<DatasetInfo, AppError> {
    let slug = check_slug(f.slug.as_deref().unwrap_or(""))?;
    let now = Utc::now();
    let row = dataset_row::ActiveModel {
        id: Set(Uuid::new_v4()),
        slug: Set(slug.clone()),
        name: Set(check_text("name", f.name.as_deref().unwrap_or(""), 120, true)?),
        description: Set(check_text("description", f.description.as_deref().unwrap_or(""), 20_000, false)?),
        citation: Set(check_text("citation", f.citation.as_deref().unwrap_or(""), 4_000, false)?),
        visibility: Set(f.visibility.unwrap_or(DatasetVisibility::Admins)),
        salt: Set(salt()),
        created_by: Set(admin.id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match row.insert(db).await {
        Ok(d) => Ok(info(&d, None)),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AppError::Conflict(format!("A dataset with the slug '{slug}' already exists.")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Change a dataset's name, description, citation or visibility (its slug stays: links and
/// citations point at it).
pub async fn update(
    db: &impl ConnectionTrait,
    u: &user::Model,
    slug: &str,
    f: DatasetFields,
) -> Result<DatasetInfo, AppError> {
    let d = editable_dataset(db, u, slug).await?;
    if f.slug.as_deref().is_some_and(|s| s != d.slug) {
        return Err(AppError::Invalid("A dataset's slug cannot change: its releases are cited by it.".into()));
    }
    let mut row = d.into_active_model();
    if let Some(n) = f.name {
        row.name = Set(check_text("name", &n, 120, true)?);
    }
    if let Some(t) = f.description {
        row.description = Set(check_text("description", &t, 20_000, false)?);
    }
    if let Some(t) = f.citation {
        row.citation = Set(check_text("citation", &t, 4_000, false)?);
    }
    if let Some(v) = f.visibility {
        row.visibility = Set(v);
    }
    row.updated_at = Set(Utc::now());
    let d = row.update(db).await?;
    Ok(info(&d, None))
}

/// The parameters a release is compiled with, from what was asked: defaults filled in, the
/// campaigns' instruments when none were named, and every value checked.
pub async fn params(db: &impl ConnectionTrait, req: &CompileRequest) -> Result<dataset::Params, AppError> {
    if req.campaigns.is_empty() {
        return Err(AppError::Invalid("Choose at least one campaign to compile from.".into()));
    }
    let mut instruments: Vec<String> = Vec::new();
    for id in &req.campaigns {
        let c = campaign::Entity::find_by_id(*id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::Invalid(format!("There is no campaign {id}.")))?;
        for slug in c.instrument_slugs() {
            if !instruments.contains(&slug) {
                instruments.push(slug);
            }
        }
    }
    let chosen = match &req.instruments {
        Some(list) => {
            if let Some(bad) = list.iter().find(|s| !instruments.contains(s)) {
                return Err(AppError::Invalid(format!("No chosen campaign asks about the instrument '{bad}'.")));
            }
            list.clone()
        }
        None => instruments,
    };
    let p = dataset::Params {
        instruments: chosen,
        min_annotations: req.min_annotations,
        rule: match req.rule {
            crate::datasets::LabelRule::Majority => dataset::LabelRule::Majority,
            crate::datasets::LabelRule::TrustWeighted => dataset::LabelRule::TrustWeighted,
        },
        threshold: req.threshold,
        include_gold: req.include_gold,
        test_fraction: req.test_fraction,
        seed: req.seed,
        group_by: match req.group_by {
            crate::datasets::GroupKey::Source => dataset::GroupKey::Source,
            crate::datasets::GroupKey::Uploader => dataset::GroupKey::Uploader,
            crate::datasets::GroupKey::Composition => dataset::GroupKey::Composition,
            crate::datasets::GroupKey::Artist => dataset::GroupKey::Artist,
        },
        tolerance: req.tolerance,
        as_of: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    dataset::labels::check(&p).map_err(|e| AppError::Invalid(e.to_string()))?;
    Ok(p)
}

/// Ask for release N+1 of a dataset: the row and its compile job are written together.
pub async fn compile(
    ctx: &ServerContext,
    u: &user::Model,
    slug: &str,
    req: CompileRequest,
) -> Result<ReleaseInfo, AppError> {
    let d = editable_dataset(&ctx.db, u, slug).await?;
    let p = params(&ctx.db, &req).await?;
    let notes = check_text("release notes", &req.notes, 4_000, false)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let last = dataset_release::Entity::find()
        .filter(dataset_release::Column::DatasetId.eq(d.id))
        .order_by_desc(dataset_release::Column::Version)
        .one(&txn)
        .await?;
    let id = Uuid::new_v4();
    let payload = serde_json::json!({ "release_id": id }).to_string();
    let job = crate::jobs::enqueue(&txn, super::COMPILE, &payload, Some(u.id)).await?;
    let row = dataset_release::ActiveModel {
        id: Set(id),
        dataset_id: Set(d.id),
        version: Set(last.map_or(1, |r| r.version + 1)),
        state: Set(ReleaseState::Compiling),
        params: Set(serde_json::to_string(&p).map_err(|e| AppError::internal("release parameters", e))?),
        campaigns: Set(serde_json::to_string(&req.campaigns).map_err(|e| AppError::internal("release campaigns", e))?),
        notes: Set(notes),
        job_id: Set(Some(job.id)),
        phase: Set("queued".into()),
        done: Set(0),
        total: Set(0),
        report: Set(None),
        error: Set(None),
        tar_bytes: Set(None),
        zip_bytes: Set(None),
        test_labels_key: Set(None),
        created_by: Set(u.id),
        created_at: Set(Utc::now()),
        published_at: Set(None),
    };
    let r = match row.insert(&txn).await {
        Ok(r) => r,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::Conflict("Another release of this dataset was just asked for; try again.".into()));
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    crate::jobs::wake(ctx);
    Ok(release_info(&r))
}

/// The release to change, refused with 409 once published.
async fn changeable(
    db: &impl ConnectionTrait,
    u: &user::Model,
    slug: &str,
    version: i32,
) -> Result<dataset_release::Model, AppError> {
    let d = editable_dataset(db, u, slug).await?;
    let r = dataset_release::Entity::find()
        .filter(dataset_release::Column::DatasetId.eq(d.id))
        .filter(dataset_release::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = settle(db, r).await?;
    if r.state == ReleaseState::Published {
        return Err(AppError::Conflict(format!(
            "Release {version} is published and cannot change; compile a new release instead."
        )));
    }
    Ok(r)
}

pub async fn publish(
    db: &impl ConnectionTrait,
    u: &user::Model,
    slug: &str,
    version: i32,
) -> Result<ReleaseInfo, AppError> {
    let r = changeable(db, u, slug, version).await?;
    if r.state != ReleaseState::Compiled {
        return Err(AppError::Conflict(format!(
            "Only a compiled release can be published; release {version} is {}.",
            state_word(r.state)
        )));
    }
    // Only a compiled row becomes published, so two publishers (or a delete) cannot race past it.
    let done = dataset_release::Entity::update_many()
        .col_expr(dataset_release::Column::State, sea_orm::sea_query::Expr::value(ReleaseState::Published))
        .col_expr(dataset_release::Column::PublishedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(dataset_release::Column::Id.eq(r.id))
        .filter(dataset_release::Column::State.eq(ReleaseState::Compiled))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::Conflict(format!("Release {version} changed meanwhile; reload the page.")));
    }
    let r = dataset_release::Entity::find_by_id(r.id).one(db).await?.ok_or(AppError::NotFound)?;
    Ok(release_info(&r))
}

fn state_word(s: ReleaseState) -> &'static str {
    match s {
        ReleaseState::Compiling => "still compiling",
        ReleaseState::Compiled => "compiled",
        ReleaseState::Failed => "failed",
        ReleaseState::Published => "published",
    }
}

pub async fn set_notes(
    db: &impl ConnectionTrait,
    u: &user::Model,
    slug: &str,
    version: i32,
    notes: String,
) -> Result<ReleaseInfo, AppError> {
    let r = changeable(db, u, slug, version).await?;
    let mut row = r.into_active_model();
    row.notes = Set(check_text("release notes", &notes, 4_000, false)?);
    Ok(release_info(&row.update(db).await?))
}

/// Delete an unpublished release: its compile job is cancelled, its rows and its files go.
pub async fn delete_release(ctx: &ServerContext, u: &user::Model, slug: &str, version: i32) -> Result<(), AppError> {
    let r = changeable(&ctx.db, u, slug, version).await?;
    if let Some(job) = r.job_id {
        crate::jobs::cancel(&ctx.db, job).await?;
    }
    let keys = super::compile::stored_keys(&ctx.db, r.id).await?;
    let txn = ctx.db.begin().await?;
    let gone = dataset_release::Entity::delete_many()
        .filter(dataset_release::Column::Id.eq(r.id))
        .filter(dataset_release::Column::State.ne(ReleaseState::Published))
        .exec(&txn)
        .await?;
    if gone.rows_affected != 1 {
        return Err(AppError::Conflict(format!("Release {version} changed meanwhile; reload the page.")));
    }
    txn.commit().await?;
    for k in keys {
        crate::storage::delete_quietly(&ctx.store, &k).await;
    }
    Ok(())
}

/// Compile an unpublished release again with its own parameters (after a failure, or to check that
/// it reproduces): the same data and parameters give the same files, hence the same archive.
pub async fn recompile(
    ctx: &ServerContext,
    u: &user::Model,
    slug: &str,
    version: i32,
) -> Result<ReleaseInfo, AppError> {
    let r = changeable(&ctx.db, u, slug, version).await?;
    if r.state == ReleaseState::Compiling {
        return Err(AppError::Conflict(format!("Release {version} is still compiling.")));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let payload = serde_json::json!({ "release_id": r.id }).to_string();
    let job = crate::jobs::enqueue(&txn, super::COMPILE, &payload, Some(u.id)).await?;
    let done = dataset_release::Entity::update_many()
        .col_expr(dataset_release::Column::State, sea_orm::sea_query::Expr::value(ReleaseState::Compiling))
        .col_expr(dataset_release::Column::Phase, sea_orm::sea_query::Expr::value("queued".to_string()))
        .col_expr(dataset_release::Column::Error, sea_orm::sea_query::Expr::value(Option::<String>::None))
        .col_expr(dataset_release::Column::JobId, sea_orm::sea_query::Expr::value(Some(job.id)))
        .filter(dataset_release::Column::Id.eq(r.id))
        .filter(dataset_release::Column::State.eq(r.state))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::Conflict(format!("Release {version} changed meanwhile; reload the page.")));
    }
    txn.commit().await?;
    crate::jobs::wake(ctx);
    let r = dataset_release::Entity::find_by_id(r.id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    Ok(release_info(&r))
}
