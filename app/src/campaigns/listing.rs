//! Reading campaigns for the REST API and the admin pages: which a user may list, a campaign's
//! tasks with their labels, its agreement.
use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use super::CampaignInfo;
use super::store::campaign_info;
use crate::db::{campaign, task, task_label, user};
use crate::error::AppError;

/// The campaign, whoever asks (admin surfaces; others go through `access::campaign`).
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<campaign::Model, AppError> {
    campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)
}

/// Newest first: every signed-in user sees the open campaigns; admins see all.
pub async fn list_visible(db: &impl ConnectionTrait, viewer: &user::Model) -> Result<Vec<CampaignInfo>, AppError> {
    let mut q = campaign::Entity::find().order_by_desc(campaign::Column::CreatedAt);
    if !viewer.is_admin {
        q = q.filter(campaign::Column::IsOpen.eq(true));
    }
    let mut out = Vec::new();
    for c in q.all(db).await? {
        out.push(campaign_info(db, &c).await?);
    }
    Ok(out)
}

/// A task as the REST task list shows it, with its consensus labels.
#[derive(Serialize)]
pub struct TaskRow {
    pub id: Uuid,
    pub clip_id: Uuid,
    pub source_id: Uuid,
    pub offset_frames: i64,
    pub is_gold: bool,
    pub annotations: i32,
    pub required: i32,
    pub complete: bool,
    pub labels: Vec<task_label::Model>,
}

/// Every task of the campaign, in source and time order.
pub async fn task_rows(db: &impl ConnectionTrait, campaign_id: Uuid) -> Result<Vec<TaskRow>, AppError> {
    let c = find(db, campaign_id).await?;
    let rows = task::Entity::find()
        .filter(task::Column::CampaignId.eq(c.id))
        .order_by_asc(task::Column::SourceId)
        .order_by_asc(task::Column::OffsetFrames)
        .all(db)
        .await?;
    // By subquery: a list of every task id would pass SQLite's limit on bound values.
    let of_campaign = sea_orm::sea_query::Query::select()
        .column(task::Column::Id)
        .from(task::Entity)
        .and_where(task::Column::CampaignId.eq(c.id))
        .to_owned();
    let mut labels: BTreeMap<Uuid, Vec<task_label::Model>> = BTreeMap::new();
    for l in task_label::Entity::find().filter(task_label::Column::TaskId.in_subquery(of_campaign)).all(db).await? {
        labels.entry(l.task_id).or_default().push(l);
    }
    Ok(rows
        .into_iter()
        .map(|t| TaskRow {
            labels: labels.remove(&t.id).unwrap_or_default(),
            id: t.id,
            clip_id: t.clip_id,
            source_id: t.source_id,
            offset_frames: t.offset_frames,
            is_gold: t.is_gold,
            annotations: t.annotations_count,
            required: t.annotations_required,
            complete: t.is_complete,
        })
        .collect())
}

/// Krippendorff's alpha of one instrument (none while too few answers overlap).
#[derive(Serialize)]
pub struct Agreement {
    pub instrument: String,
    pub alpha: Option<f64>,
}

pub async fn agreement(db: &impl ConnectionTrait, campaign_id: Uuid) -> Result<Vec<Agreement>, AppError> {
    let c = find(db, campaign_id).await?;
    let rows = super::labels::agreement(db, &c).await?;
    Ok(rows.into_iter().map(|(instrument, alpha)| Agreement { instrument, alpha }).collect())
}
