//! The campaign pages' server functions (admins only).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{BuildJobInfo, BuildRequest, CampaignChanges, CampaignInfo, NewCampaign};

use crate::error::AppError;

/// Audio an admin can cut clips from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceChoice {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub owner: String,
    pub duration_seconds: f64,
    pub is_public: bool,
    pub kind: crate::domain::AudioKind,
}

#[server(endpoint = "list_campaigns_admin")]
pub async fn list_campaigns_admin() -> Result<Vec<CampaignInfo>, AppError> {
    let admin = crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::listing::list_visible(&ctx.db, &admin).await
}

#[server(endpoint = "create_campaign", input = server_fn::codec::Json)]
pub async fn create_campaign_fn(campaign: NewCampaign) -> Result<CampaignInfo, AppError> {
    let admin = crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    let c = super::store::create_campaign(&ctx.db, &admin, campaign).await?;
    super::store::campaign_info(&ctx.db, &c).await
}

#[server(endpoint = "update_campaign", input = server_fn::codec::Json)]
pub async fn update_campaign_fn(campaign_id: Uuid, changes: CampaignChanges) -> Result<CampaignInfo, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    let c = super::store::update_campaign(&ctx, campaign_id, changes).await?;
    super::store::campaign_info(&ctx.db, &c).await
}

/// A task as the admin's task list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: Uuid,
    pub clip_id: Uuid,
    /// The source's title or file name.
    pub source: String,
    pub offset_seconds: f64,
    pub annotations: i32,
    pub required: i32,
    pub complete: bool,
    /// The known answers of a gold task; `None` for a normal task.
    pub gold_answers: Option<std::collections::BTreeMap<String, bool>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskPage {
    pub total: u64,
    pub offset: u64,
    pub tasks: Vec<TaskSummary>,
}

#[server(endpoint = "campaign_tasks")]
pub async fn campaign_tasks(campaign_id: Uuid, offset: u64) -> Result<TaskPage, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::store::task_page(&ctx.db, campaign_id, offset, TASKS_PER_PAGE).await
}

/// Tasks per page of the admin's task list.
pub const TASKS_PER_PAGE: u64 = 25;

/// Make a task a gold task with these known answers (instrument → present), or normal (`None`).
#[server(endpoint = "set_gold", input = server_fn::codec::Json)]
pub async fn set_gold_fn(
    task_id: Uuid,
    answers: Option<std::collections::BTreeMap<String, bool>>,
) -> Result<(), AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::store::set_gold(&ctx, task_id, answers).await
}

/// The latest build job of every campaign that has one, so a reloaded page still shows builds.
#[server(endpoint = "latest_build_jobs")]
pub async fn latest_build_jobs() -> Result<Vec<BuildJobInfo>, AppError> {
    use sea_orm::{EntityTrait, QueryOrder};
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    let mut seen = std::collections::HashSet::new();
    Ok(crate::db::build_job::Entity::find()
        .order_by_desc(crate::db::build_job::Column::CreatedAt)
        .all(&ctx.db)
        .await?
        .into_iter()
        .filter(|j| seen.insert(j.campaign_id))
        .map(|j| super::builder::job_info(&j))
        .collect())
}

/// Krippendorff's alpha per instrument over the campaign's answers so far (`None`: too few).
#[server(endpoint = "campaign_agreement")]
pub async fn campaign_agreement(campaign_id: Uuid) -> Result<Vec<(String, Option<f64>)>, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    let c = super::listing::find(&ctx.db, campaign_id).await?;
    super::labels::agreement(&ctx.db, &c).await
}

#[server(endpoint = "start_build", input = server_fn::codec::Json)]
pub async fn start_build_fn(campaign_id: Uuid, request: BuildRequest) -> Result<BuildJobInfo, AppError> {
    let admin = crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    let job = super::builder::start_build(&ctx, campaign_id, &admin, request).await?;
    Ok(super::builder::job_info(&job))
}

#[server(endpoint = "get_build_job")]
pub async fn get_build_job(id: Uuid) -> Result<BuildJobInfo, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::builder::find_job(&ctx.db, id).await
}

#[server(endpoint = "list_sources")]
pub async fn list_sources() -> Result<Vec<SourceChoice>, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    let owners: std::collections::HashMap<Uuid, String> =
        crate::db::user::Entity::find().all(&ctx.db).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let rows = crate::db::audio::Entity::find()
        .filter(crate::db::audio::Column::Kind.ne(crate::domain::AudioKind::Clip))
        .order_by_desc(crate::db::audio::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|a| SourceChoice {
            id: a.id,
            name: a.title.clone().unwrap_or(a.original_filename.clone()),
            owner_id: a.owner_id,
            owner: owners.get(&a.owner_id).cloned().unwrap_or_default(),
            duration_seconds: a.duration_seconds,
            is_public: a.is_public,
            kind: a.kind,
        })
        .collect())
}
