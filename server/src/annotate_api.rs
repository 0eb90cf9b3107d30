//! REST for campaigns, the task builder, serving and submissions, and the instruments' help for
//! annotators.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use app::annotate::{AnnotatorStats, Receipt, Submission};
use app::auth::ssr::{CurrentUser, RequireAdmin, RequireUser};
use app::campaigns::builder::{job_info, start_build};
use app::campaigns::listing::{Agreement, TaskRow};
use app::campaigns::store::{campaign_info, create_campaign};
use app::campaigns::{BuildJobInfo, BuildRequest, CampaignChanges, CampaignInfo, NewCampaign, ReviewPage, ReviewQuery};
use app::error::AppError;
use app::instruments::{HelpChange, InstrumentHelp};

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(new_campaign))
        .route("/campaigns/{id}", get(get_campaign).patch(update_campaign))
        .route("/campaigns/{id}/builds", post(build))
        .route("/campaigns/{id}/tasks", get(tasks))
        .route("/campaigns/{id}/review", get(review))
        .route("/campaigns/{id}/agreement", get(agreement))
        .route("/campaigns/{id}/stats", get(stats))
        .route("/builds/{id}", get(get_build))
        .route("/annotate/next", post(next))
        .route("/tasks/{id}/annotations", post(submit))
        .route("/tasks/{id}/lease", axum::routing::delete(skip))
        .route("/tasks/{id}/gold", put(set_gold))
        .route("/instruments/help", get(instrument_help))
        .route("/instruments/{slug}/help", put(set_instrument_help))
}

async fn new_campaign(
    State(s): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiJson(body): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignInfo>), AppError> {
    let c = create_campaign(&s.ctx.db, &admin, body).await?;
    Ok((StatusCode::CREATED, Json(campaign_info(&s.ctx.db, &c).await?)))
}

/// Every signed-in user sees the open campaigns; admins see all.
async fn list_campaigns(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Json<Vec<CampaignInfo>>, AppError> {
    Ok(Json(app::campaigns::listing::list_visible(&s.ctx.db, &user).await?))
}

async fn get_campaign(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CampaignInfo>, AppError> {
    let c = app::access::campaign::visible_campaign(&s.ctx.db, &user, id).await?;
    Ok(Json(campaign_info(&s.ctx.db, &c).await?))
}

async fn update_campaign(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CampaignChanges>,
) -> Result<Json<CampaignInfo>, AppError> {
    let c = app::campaigns::store::update_campaign(&s.ctx, id, body).await?;
    Ok(Json(campaign_info(&s.ctx.db, &c).await?))
}

async fn build(
    State(s): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<BuildRequest>,
) -> Result<(StatusCode, Json<BuildJobInfo>), AppError> {
    let job = start_build(&s.ctx, id, &admin, body).await?;
    Ok((StatusCode::ACCEPTED, Json(job_info(&job))))
}

async fn get_build(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<BuildJobInfo>, AppError> {
    Ok(Json(app::campaigns::builder::find_job(&s.ctx.db, id).await?))
}

async fn tasks(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TaskRow>>, AppError> {
    Ok(Json(app::campaigns::listing::task_rows(&s.ctx.db, id).await?))
}

/// A page of tasks with each annotator's answers (under pseudonyms) and the consensus:
/// `?offset=0&limit=25&filter=disputed&sort=agreement&min_confidence=0.65&min_agreement=0.75`.
async fn review(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<ReviewPage>, AppError> {
    Ok(Json(app::campaigns::review::review_page(&s.ctx.db, id, &q).await?))
}

async fn agreement(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<Agreement>>, AppError> {
    Ok(Json(app::campaigns::listing::agreement(&s.ctx.db, id).await?))
}

async fn stats(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<AnnotatorStats>, AppError> {
    Ok(Json(app::annotate::stats::stats(&s.ctx, &user, id, q.utc_offset_minutes.unwrap_or(0)).await?))
}

/// `?utc_offset_minutes=60`: the annotator's time zone, for "clips today" (UTC without it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    utc_offset_minutes: Option<i32>,
}

/// `?campaign=<id>`: serve from that campaign only (404 if the annotator cannot see it, 409 once
/// it is closed); without it, from any open campaign. A body, if any, is not read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NextQuery {
    campaign: Option<Uuid>,
}

/// 200 with the assignment, or 204 when there is nothing left to annotate.
async fn next(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiQuery(q): ApiQuery<NextQuery>,
) -> Result<Response, AppError> {
    Ok(match app::annotate::serve::next_task(&s.ctx, &user, q.campaign).await? {
        Some(a) => Json(a).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn submit(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Submission>,
) -> Result<(StatusCode, Json<Receipt>), AppError> {
    Ok((StatusCode::CREATED, Json(app::annotate::submit::submit(&s.ctx, &user, id, body).await?)))
}

async fn skip(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    app::annotate::serve::release(&s.ctx, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gold {
    /// Instrument slug → present. `null` turns the task back into a normal one; leaving the field
    /// out is a mistake, not an undo.
    #[serde(default, deserialize_with = "given")]
    answers: Option<Option<BTreeMap<String, bool>>>,
}

/// A field that is present, even as `null` (`Some(None)`); absent stays `None` by `default`.
fn given<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

async fn set_gold(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Gold>,
) -> Result<StatusCode, AppError> {
    let answers = body.answers.ok_or_else(|| {
        AppError::Invalid(
            "Send \"answers\": the known answers of the gold task, or null to make it a normal task again.".into(),
        )
    })?;
    app::campaigns::store::set_gold(&s.ctx, id, answers).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every instrument with its description and the example the caller may hear.
async fn instrument_help(
    State(s): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Vec<InstrumentHelp>>, AppError> {
    Ok(Json(app::instruments::help::ssr::help_for(&s.ctx, user.as_ref()).await?))
}

/// `{"description": "…", "example_audio_id": "<public audio id>" | null}` (admins).
async fn set_instrument_help(
    State(s): State<AppState>,
    RequireAdmin(admin): RequireAdmin,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<HelpChange>,
) -> Result<Json<InstrumentHelp>, AppError> {
    Ok(Json(app::instruments::help::ssr::set_help(&s.ctx, &admin, &slug, body).await?))
}
