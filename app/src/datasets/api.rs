//! The server functions of datasets and releases. Each asks `access::dataset` first; the REST API
//! calls the same `ssr` functions, so both refuse the same requests in the same words.
use leptos::prelude::*;

use super::{CompileRequest, DatasetFields, DatasetInfo, ReleaseInfo};
use crate::error::AppError;

/// A dataset's page: the dataset, the releases the viewer may see (newest first) and whether the
/// viewer may change it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetPage {
    pub dataset: DatasetInfo,
    pub releases: Vec<ReleaseInfo>,
    pub can_edit: bool,
}

#[server(endpoint = "list_datasets")]
pub async fn list_datasets() -> Result<Vec<DatasetInfo>, AppError> {
    let viewer = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::catalogue(&ctx.db, viewer.as_ref()).await
}

#[server(endpoint = "get_dataset_page")]
pub async fn get_dataset_page(slug: String) -> Result<DatasetPage, AppError> {
    let viewer = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::page(&ctx.db, viewer.as_ref(), &slug).await
}

#[server(endpoint = "create_dataset", input = server_fn::codec::Json)]
pub async fn create_dataset(fields: DatasetFields) -> Result<DatasetInfo, AppError> {
    let admin = crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::create(&ctx.db, &admin, fields).await
}

#[server(endpoint = "update_dataset", input = server_fn::codec::Json)]
pub async fn update_dataset(slug: String, fields: DatasetFields) -> Result<DatasetInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::update(&ctx.db, &user, &slug, fields).await
}

#[server(endpoint = "compile_release", input = server_fn::codec::Json)]
pub async fn compile_release(slug: String, request: CompileRequest) -> Result<ReleaseInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::compile(&ctx, &user, &slug, request).await
}

#[server(endpoint = "get_release")]
pub async fn get_release(slug: String, version: i32) -> Result<ReleaseInfo, AppError> {
    let viewer = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::release(&ctx.db, viewer.as_ref(), &slug, version).await
}

#[server(endpoint = "publish_release")]
pub async fn publish_release(slug: String, version: i32) -> Result<ReleaseInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::publish(&ctx.db, &user, &slug, version).await
}

#[server(endpoint = "recompile_release")]
pub async fn recompile_release(slug: String, version: i32) -> Result<ReleaseInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::recompile(&ctx, &user, &slug, version).await
}

#[server(endpoint = "update_release_notes")]
pub async fn update_release_notes(slug: String, version: i32, notes: String) -> Result<ReleaseInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::set_notes(&ctx.db, &user, &slug, version, notes).await
}

#[server(endpoint = "delete_release")]
pub async fn delete_release(slug: String, version: i32) -> Result<(), AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::ssr::store::delete_release(&ctx, &user, &slug, version).await
}
