//! The dashboard's server functions: one per figure group, and setting a coverage goal. Each asks
//! [`super::ssr::viewer`] first, as the REST handlers and the page do.
use leptos::prelude::*;
use uuid::Uuid;

use super::model::{AnnotationStats, CoverageStats, DashboardSetup, Figures, Filters, Goal, QualityStats, StudioStats};
use crate::error::AppError;

/// Whether the dashboard opens for the current user (the page asks this first), and what its
/// filters offer.
#[server(endpoint = "dashboard_init")]
pub async fn dashboard_init() -> Result<DashboardSetup, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::init(&ctx.db).await
}

/// Every figure group for the page, in one request.
#[server(endpoint = "dashboard_figures", input = server_fn::codec::Json)]
pub async fn dashboard_figures(filters: Filters) -> Result<Figures, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    let db = &ctx.db;
    Ok(Figures {
        annotation: super::ssr::annotation(db, &filters).await?,
        quality: super::ssr::quality(db, &filters).await?,
        coverage: super::ssr::coverage(db, &filters).await?,
        studio: super::ssr::studio(db, &filters).await?,
    })
}

#[server(endpoint = "dashboard_annotation", input = server_fn::codec::Json)]
pub async fn dashboard_annotation(filters: Filters) -> Result<AnnotationStats, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::annotation(&ctx.db, &filters).await
}

#[server(endpoint = "dashboard_quality", input = server_fn::codec::Json)]
pub async fn dashboard_quality(filters: Filters) -> Result<QualityStats, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::quality(&ctx.db, &filters).await
}

#[server(endpoint = "dashboard_coverage", input = server_fn::codec::Json)]
pub async fn dashboard_coverage(filters: Filters) -> Result<CoverageStats, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::coverage(&ctx.db, &filters).await
}

#[server(endpoint = "dashboard_studio", input = server_fn::codec::Json)]
pub async fn dashboard_studio(filters: Filters) -> Result<StudioStats, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::studio(&ctx.db, &filters).await
}

#[server(endpoint = "dashboard_set_goal", input = server_fn::codec::Json)]
pub async fn dashboard_set_goal(campaign_id: Uuid, goal: Option<i64>) -> Result<Goal, AppError> {
    super::ssr::viewer().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::set_goal(&ctx.db, campaign_id, goal).await
}
