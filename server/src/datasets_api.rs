//! `/api/v1/datasets`: the catalogue, a dataset with its releases, and for admins creating and
//! changing datasets, compiling a release (a job; `202` with the release to poll), publishing it
//! and deleting an unpublished one. A published release never changes (`409`). A release's
//! archive (`archive.tar`, `archive.zip`) is streamed with HTTP Range; its hidden test labels
//! (`test-labels.csv`) are for admins.
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use app::access::dataset::{visible_dataset, visible_release};
use app::auth::ssr::{CurrentUser, RequireAdmin, RequireUser};
use app::datasets::ssr::store;
use app::datasets::ssr::stream::{Archive, Format};
use app::datasets::{CompileRequest, DatasetFields, DatasetInfo, DatasetPage, ReleaseInfo};
use app::error::AppError;

use crate::AppState;
use crate::extract::{ApiJson, ApiPath};
use crate::ranged::{CACHE_FOREVER, Described, disposition, respond};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{slug}", get(show).patch(update))
        .route("/{slug}/releases", post(compile))
        .route("/{slug}/releases/{version}", get(release).patch(notes).delete(delete))
        .route("/{slug}/releases/{version}/publish", post(publish))
        .route("/{slug}/releases/{version}/recompile", post(recompile))
        .route("/{slug}/releases/{version}/{file}", get(file))
}

async fn list(State(s): State<AppState>, CurrentUser(viewer): CurrentUser) -> Result<Json<Vec<DatasetInfo>>, AppError> {
    Ok(Json(store::catalogue(&s.ctx.db, viewer.as_ref()).await?))
}

async fn create(
    State(s): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiJson(f): ApiJson<DatasetFields>,
) -> Result<(StatusCode, Json<DatasetInfo>), AppError> {
    Ok((StatusCode::CREATED, Json(store::create(&s.ctx.db, &admin, f).await?)))
}

async fn show(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<DatasetPage>, AppError> {
    Ok(Json(store::page(&s.ctx.db, viewer.as_ref(), &slug).await?))
}

async fn update(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(f): ApiJson<DatasetFields>,
) -> Result<Json<DatasetInfo>, AppError> {
    Ok(Json(store::update(&s.ctx.db, &u, &slug, f).await?))
}

async fn compile(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<CompileRequest>,
) -> Result<(StatusCode, Json<ReleaseInfo>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(store::compile(&s.ctx, &u, &slug, req).await?)))
}

async fn release(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath((slug, version)): ApiPath<(String, i32)>,
) -> Result<Json<ReleaseInfo>, AppError> {
    Ok(Json(store::release(&s.ctx.db, viewer.as_ref(), &slug, version).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Notes {
    notes: String,
}

async fn notes(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath((slug, version)): ApiPath<(String, i32)>,
    ApiJson(n): ApiJson<Notes>,
) -> Result<Json<ReleaseInfo>, AppError> {
    Ok(Json(store::set_notes(&s.ctx.db, &u, &slug, version, n.notes).await?))
}

async fn delete(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath((slug, version)): ApiPath<(String, i32)>,
) -> Result<StatusCode, AppError> {
    store::delete_release(&s.ctx, &u, &slug, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath((slug, version)): ApiPath<(String, i32)>,
) -> Result<Json<ReleaseInfo>, AppError> {
    Ok(Json(store::publish(&s.ctx.db, &u, &slug, version).await?))
}

async fn recompile(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath((slug, version)): ApiPath<(String, i32)>,
) -> Result<(StatusCode, Json<ReleaseInfo>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(store::recompile(&s.ctx, &u, &slug, version).await?)))
}

/// `archive.tar`, `archive.zip` or (admins) `test-labels.csv` of a release.
async fn file(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath((slug, version, file)): ApiPath<(String, i32, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (d, r) = visible_release(&s.ctx.db, viewer.as_ref(), &slug, version).await?;
    if file == "test-labels.csv" {
        if !viewer.as_ref().is_some_and(|u| u.is_admin) {
            // Visible to whoever may see the release, but the hidden labels are the admins'.
            visible_dataset(&s.ctx.db, viewer.as_ref(), &slug).await?;
            return Err(AppError::Forbidden);
        }
        let key = r.test_labels_key.clone().ok_or(AppError::NotFound)?;
        let bytes = s
            .ctx
            .store
            .get(&object_store::path::Path::from(key))
            .await
            .map_err(|_| AppError::NotFound)?
            .bytes()
            .await
            .map_err(|e| AppError::internal("reading test labels", e))?;
        let name = format!("{}-v{}-test-labels.csv", d.slug, r.version);
        return Ok((
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (axum::http::header::CONTENT_DISPOSITION, disposition("attachment", &name)),
                (axum::http::header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            bytes,
        )
            .into_response());
    }
    let format = file.strip_prefix("archive.").and_then(Format::parse).ok_or(AppError::NotFound)?;
    let archive = Archive::open(&s.ctx.db, &r, format).await?;
    let name = format!("{}-v{}.{}", d.slug, r.version, format.ext());
    let described = Described {
        size: archive.len(),
        // A release's files never change under its id, so its archives never do either.
        etag: Some(format!("\"{}-{}\"", r.id.simple(), format.ext())),
        content_type: format.mime(),
        cache_control: if r.state == app::domain::ReleaseState::Published {
            CACHE_FOREVER
        } else {
            "private, no-store"
        },
        disposition: Some(disposition("attachment", &name)),
        extra: Vec::new(),
    };
    let ctx = s.ctx.clone();
    respond(&headers, described, |range| async move { Ok(Body::from_stream(archive.stream(&ctx, range))) }).await
}
