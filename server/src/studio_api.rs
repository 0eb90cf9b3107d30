//! REST for the studio model: compositions, members, invitations, tracks.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use app::auth::ssr::{CurrentUser, RequireUser};
use app::error::AppError;
use app::studio::ssr as studio;
use app::studio::{
    CompositionInfo, CompositionPatch, InvitationLink, MemberInfo, NewComposition, NewInvitation, NewTrack, Role,
    TrackInfo, TrackPatch,
};

use crate::AppState;
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/compositions", get(list).post(create))
        .route("/compositions/{id}", get(detail).patch(update).delete(remove))
        .route("/compositions/{id}/tracks", get(tracks).post(add_track))
        .route("/compositions/{id}/members", get(members))
        .route("/compositions/{id}/members/{user}", put(set_member).delete(remove_member))
        .route("/compositions/{id}/invitations", post(invite))
        .route("/compositions/{id}/mixdown", post(mixdown))
        .route("/invitations/{token}/accept", post(accept))
        .route("/tracks/{id}", get(track).patch(update_track).delete(delete_track))
        .route("/me/latency", get(latencies).put(save_latency))
        .route("/collections", get(collections).post(create_collection))
        .route("/collections/{id}", get(collection).delete(delete_collection))
}

async fn list(State(s): State<AppState>, CurrentUser(u): CurrentUser) -> Result<Json<Vec<CompositionInfo>>, AppError> {
    Ok(Json(studio::list_visible(&s.ctx.db, u.as_ref()).await?))
}

async fn create(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiJson(body): ApiJson<NewComposition>,
) -> Result<(StatusCode, Json<CompositionInfo>), AppError> {
    let c = studio::create(&s.ctx.db, &u, body, s.ctx.settings.default_license).await?;
    Ok((StatusCode::CREATED, Json(studio::info(&c, Role::Owner))))
}

async fn detail(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CompositionInfo>, AppError> {
    let (c, role) = studio::find(&s.ctx.db, u.as_ref(), id, Role::Viewer).await?;
    Ok(Json(studio::info(&c, role)))
}

async fn update(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CompositionPatch>,
) -> Result<Json<CompositionInfo>, AppError> {
    let (c, role) = studio::find(&s.ctx.db, Some(&u), id, Role::Editor).await?;
    let c = studio::update(&s.ctx.db, c, role, body, s.ctx.settings.default_license).await?;
    Ok(Json(studio::info(&c, role)))
}

async fn remove(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    studio::delete(&s.ctx.db, &u, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn tracks(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TrackInfo>>, AppError> {
    let (c, _) = studio::find(&s.ctx.db, u.as_ref(), id, Role::Viewer).await?;
    Ok(Json(studio::tracks(&s.ctx.db, &c).await?))
}

async fn add_track(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewTrack>,
) -> Result<(StatusCode, Json<TrackInfo>), AppError> {
    let (c, role) = studio::find(&s.ctx.db, Some(&u), id, Role::Contributor).await?;
    let t = studio::add_track(&s.ctx.db, &s.ctx.settings, &c, role, &u, body).await?;
    Ok((StatusCode::CREATED, Json(studio::track_info(&s.ctx.db, &t).await?)))
}

async fn track(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TrackInfo>, AppError> {
    let (t, _, _) = studio::find_track(&s.ctx.db, u.as_ref(), id).await?;
    Ok(Json(studio::track_info(&s.ctx.db, &t).await?))
}

async fn update_track(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TrackPatch>,
) -> Result<Json<TrackInfo>, AppError> {
    let t = studio::update_track(&s.ctx.db, &s.ctx.settings, &u, id, body).await?;
    Ok(Json(studio::track_info(&s.ctx.db, &t).await?))
}

async fn delete_track(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    studio::delete_track(&s.ctx.db, &u, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn members(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<MemberInfo>>, AppError> {
    let (c, _) = studio::find(&s.ctx.db, u.as_ref(), id, Role::Viewer).await?;
    Ok(Json(studio::members(&s.ctx.db, &c).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberRole {
    role: Role,
}

async fn set_member(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath((id, user)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MemberRole>,
) -> Result<StatusCode, AppError> {
    let (c, _) = studio::find(&s.ctx.db, Some(&u), id, Role::Owner).await?;
    studio::set_member(&s.ctx.db, &c, user, Some(body.role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath((id, user)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, AppError> {
    let (c, _) = studio::find(&s.ctx.db, Some(&u), id, Role::Owner).await?;
    studio::set_member(&s.ctx.db, &c, user, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn invite(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, Json<InvitationLink>), AppError> {
    let (c, _) = studio::find(&s.ctx.db, Some(&u), id, Role::Owner).await?;
    Ok((StatusCode::CREATED, Json(studio::invite(&s.ctx.db, &c, &u, body).await?)))
}

async fn accept(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<CompositionInfo>, AppError> {
    let c = studio::accept(&s.ctx.db, &u, &token).await?;
    let role = app::access::composition::access(&s.ctx.db, Some(&u), &c).await?.ok_or(AppError::NotFound)?;
    Ok(Json(studio::info(&c, role)))
}

/// Ask for the mix to be rendered on the server: `202` with the job that renders it (`Location`:
/// follow it at `/api/v1/jobs/{id}`; when done, its result names the audio). A mix that cannot be
/// made is refused at once (`422`, `409`).
async fn mixdown(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<impl IntoResponse, AppError> {
    let (c, _) = studio::find(&s.ctx.db, Some(&u), id, Role::Editor).await?;
    let job = studio::start_mixdown(&s.ctx, &c, &u).await?;
    let location = format!("/api/v1/jobs/{}", job.id);
    Ok((StatusCode::ACCEPTED, [(axum::http::header::LOCATION, location)], Json(app::jobs::view::info(&job))))
}

/// The caller's latency measurements, one per input device.
async fn latencies(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
) -> Result<Json<Vec<app::studio::CalibrationInfo>>, AppError> {
    Ok(Json(studio::calibrations(&s.ctx.db, &u).await?))
}

async fn save_latency(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiJson(new): ApiJson<app::studio::NewCalibration>,
) -> Result<Json<app::studio::CalibrationInfo>, AppError> {
    Ok(Json(studio::save_calibration(&s.ctx.db, &u, new).await?))
}

async fn collections(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<Vec<app::studio::CollectionInfo>>, AppError> {
    Ok(Json(studio::list_collections(&s.ctx.db, u.as_ref()).await?))
}

async fn create_collection(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiJson(new): ApiJson<app::studio::NewCollection>,
) -> Result<(StatusCode, Json<app::studio::CollectionInfo>), AppError> {
    Ok((StatusCode::CREATED, Json(studio::create_collection(&s.ctx.db, &u, new).await?)))
}

async fn collection(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<app::studio::CollectionView>, AppError> {
    Ok(Json(studio::collection_view(&s.ctx.db, u.as_ref(), id).await?))
}

async fn delete_collection(
    State(s): State<AppState>,
    RequireUser(u): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    studio::delete_collection(&s.ctx.db, &u, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
