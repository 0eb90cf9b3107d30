//! REST for campaigns, the task builder, serving and submissions.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use app::annotate::{AnnotatorStats, Receipt, Submission};
use app::auth::ssr::{RequireAdmin, RequireUser};
use app::campaigns::builder::{job_info, start_build};
use app::campaigns::store::{campaign_info, create_campaign};
use app::campaigns::{BuildJobInfo, BuildRequest, CampaignChanges, CampaignInfo, NewCampaign};
use app::db::{build_job, campaign, task, task_label};
use app::error::AppError;

use crate::AppState;
use crate::api::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(new_campaign))
        .route("/campaigns/{id}", get(get_campaign).patch(update_campaign))
        .route("/campaigns/{id}/builds", post(build))
        .route("/campaigns/{id}/tasks", get(tasks))
        .route("/campaigns/{id}/agreement", get(agreement))
        .route("/campaigns/{id}/stats", get(stats))
        .route("/builds/{id}", get(get_build))
        .route("/annotate/next", post(next))
        .route("/tasks/{id}/annotations", post(submit))
        .route("/tasks/{id}/lease", axum::routing::delete(skip))
        .route("/tasks/{id}/gold", put(set_gold))
}

async fn find_campaign(s: &AppState, id: Uuid) -> Result<campaign::Model, AppError> {
    campaign::Entity::find_by_id(id).one(&s.ctx.db).await?.ok_or(AppError::NotFound)
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
    let mut q = campaign::Entity::find().order_by_desc(campaign::Column::CreatedAt);
    if !user.is_admin {
        q = q.filter(campaign::Column::IsOpen.eq(true));
    }
    let mut out = Vec::new();
    for c in q.all(&s.ctx.db).await? {
        out.push(campaign_info(&s.ctx.db, &c).await?);
    }
    Ok(Json(out))
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
    let job = build_job::Entity::find_by_id(id).one(&s.ctx.db).await?.ok_or(AppError::NotFound)?;
    Ok(Json(job_info(&job)))
}

#[derive(Serialize)]
struct TaskRow {
    id: Uuid,
    clip_id: Uuid,
    source_id: Uuid,
    offset_frames: i64,
    is_gold: bool,
    annotations: i32,
    required: i32,
    complete: bool,
    labels: Vec<task_label::Model>,
}

async fn tasks(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TaskRow>>, AppError> {
    let c = find_campaign(&s, id).await?;
    let rows = task::Entity::find()
        .filter(task::Column::CampaignId.eq(c.id))
        .order_by_asc(task::Column::SourceId)
        .order_by_asc(task::Column::OffsetFrames)
        .all(&s.ctx.db)
        .await?;
    // By subquery: a list of every task id would pass SQLite's limit on bound values.
    let of_campaign = sea_orm::sea_query::Query::select()
        .column(task::Column::Id)
        .from(task::Entity)
        .and_where(task::Column::CampaignId.eq(c.id))
        .to_owned();
    let mut labels: BTreeMap<Uuid, Vec<task_label::Model>> = BTreeMap::new();
    for l in
        task_label::Entity::find().filter(task_label::Column::TaskId.in_subquery(of_campaign)).all(&s.ctx.db).await?
    {
        labels.entry(l.task_id).or_default().push(l);
    }
    Ok(Json(
        rows.into_iter()
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
            .collect(),
    ))
}

#[derive(Serialize)]
struct Agreement {
    instrument: String,
    alpha: Option<f64>,
}

async fn agreement(
    State(s): State<AppState>,
    _: RequireAdmin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<Agreement>>, AppError> {
    let c = find_campaign(&s, id).await?;
    let rows = app::campaigns::labels::agreement(&s.ctx.db, &c).await?;
    Ok(Json(rows.into_iter().map(|(instrument, alpha)| Agreement { instrument, alpha }).collect()))
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

/// 200 with the assignment, or 204 when there is nothing left to annotate.
async fn next(State(s): State<AppState>, RequireUser(user): RequireUser) -> Result<Response, AppError> {
    Ok(match app::annotate::serve::next_task(&s.ctx, &user).await? {
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
