//! `/api/v1/stats`: the admin dashboard's figures as JSON (`/annotation`, `/quality`,
//! `/coverage`, `/studio`), each chart as CSV (`/charts/{chart}.csv`), all under the filters
//! `from`, `to` (ISO dates, UTC days) and `campaign`; and a campaign's coverage goal
//! (`PUT /campaigns/{id}/goal`). Every handler asks `app::dashboard::ssr::may_view` first.
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use app::auth::ssr::CurrentUser;
use app::dashboard::ssr::may_view;
use app::dashboard::{AnnotationStats, CoverageStats, Filters, Goal, QualityStats, StudioStats};
use app::error::AppError;

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/annotation", get(annotation))
        .route("/quality", get(quality))
        .route("/coverage", get(coverage))
        .route("/studio", get(studio))
        .route("/charts/{file}", get(chart_csv))
        .route("/campaigns/{id}/goal", put(set_goal))
}

/// The filters as the query string has them; a campaign that is not an id is a 422 like a bad date.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    from: Option<String>,
    to: Option<String>,
    campaign: Option<String>,
}

impl Query {
    fn filters(self) -> Result<Filters, AppError> {
        let campaign = match self.campaign.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(
                Uuid::parse_str(c)
                    .map_err(|_| AppError::Invalid(format!("`campaign` must be a campaign id (got `{c}`).")))?,
            ),
            None => None,
        };
        Ok(Filters { from: self.from, to: self.to, campaign })
    }
}

async fn annotation(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<AnnotationStats>, AppError> {
    may_view(u)?;
    Ok(Json(app::dashboard::ssr::annotation(&s.ctx.db, &q.filters()?).await?))
}

async fn quality(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<QualityStats>, AppError> {
    may_view(u)?;
    Ok(Json(app::dashboard::ssr::quality(&s.ctx.db, &q.filters()?).await?))
}

async fn coverage(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<CoverageStats>, AppError> {
    may_view(u)?;
    Ok(Json(app::dashboard::ssr::coverage(&s.ctx.db, &q.filters()?).await?))
}

async fn studio(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<StudioStats>, AppError> {
    may_view(u)?;
    Ok(Json(app::dashboard::ssr::studio(&s.ctx.db, &q.filters()?).await?))
}

/// One chart as CSV, named `<chart>.csv` (the ids are in each figure's JSON).
async fn chart_csv(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(file): ApiPath<String>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<impl IntoResponse, AppError> {
    may_view(u)?;
    let id = file.strip_suffix(".csv").ok_or(AppError::NotFound)?;
    let filters = q.filters()?;
    let chart = app::dashboard::ssr::chart(&s.ctx.db, id, &filters).await?;
    // The dates as accepted (trimmed), and the name made header-safe whatever they held.
    let range = match (&filters.from, &filters.to) {
        (Some(f), Some(t)) => format!("-{}-{}", f.trim(), t.trim()),
        _ => String::new(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, crate::ranged::disposition("attachment", &format!("{id}{range}.csv"))),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        chart.csv(),
    ))
}

async fn set_goal(
    State(s): State<AppState>,
    CurrentUser(u): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Goal>,
) -> Result<Json<Goal>, AppError> {
    may_view(u)?;
    Ok(Json(app::dashboard::ssr::set_goal(&s.ctx.db, id, body.goal).await?))
}
