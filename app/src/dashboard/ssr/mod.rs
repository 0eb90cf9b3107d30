//! The dashboard's figures on the server: the one access check every surface (page, server
//! functions, REST, CSV) goes through, the filters resolved into a UTC range, and one file per
//! figure group, each with SQL that runs on SQLite and PostgreSQL.
mod annotation;
mod coverage;
mod quality;
mod studio;

pub use annotation::annotation;
pub use coverage::{coverage, set_goal};
pub use quality::quality;
pub use studio::studio;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QueryResult, Value};

use super::model::{CampaignRef, Chart, DEFAULT_DAYS, Filters, MAX_DAYS, Range};
use crate::db::{campaign, user};
use crate::error::AppError;

/// Who may read the dashboard: admins only (401 signed out, 403 anyone else).
pub fn may_view(viewer: Option<user::Model>) -> Result<user::Model, AppError> {
    viewer.ok_or(AppError::Unauthorized).and_then(crate::auth::ssr::check_admin)
}

/// [`may_view`] for the user of the current server function or page render.
pub async fn viewer() -> Result<user::Model, AppError> {
    may_view(crate::auth::ssr::current_user().await?)
}

/// The filters resolved: UTC days `from..=to`, and the campaign, if one.
pub struct Scope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub campaign: Option<campaign::Model>,
}

impl Scope {
    /// The first instant of the range.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
    }

    /// The first instant after the range.
    pub fn end(&self) -> DateTime<Utc> {
        (self.to + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
    }

    /// Every day of the range, as `YYYY-MM-DD`.
    pub fn days(&self) -> Vec<String> {
        self.from.iter_days().take_while(|d| *d <= self.to).map(|d| d.to_string()).collect()
    }

    /// Every ISO week the range touches, as `YYYY-Www`.
    pub fn weeks(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.from.iter_days().take_while(|d| *d <= self.to) {
            let w = week_of(d);
            if out.last() != Some(&w) {
                out.push(w);
            }
        }
        out
    }

    pub fn range(&self) -> Range {
        Range { from: self.from.to_string(), to: self.to.to_string(), campaign: self.campaign.as_ref().map(|c| c.id) }
    }

    /// `AND <column> = $n` when a campaign is chosen, with its value pushed.
    pub fn campaign_clause(&self, column: &str, values: &mut Vec<Value>) -> String {
        match &self.campaign {
            Some(c) => {
                values.push(c.id.into());
                format!(" AND {column} = ${}", values.len())
            }
            None => String::new(),
        }
    }
}

/// The ISO week of a day, `YYYY-Www`.
pub fn week_of(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

fn parse_day(name: &str, text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::Invalid(format!("`{name}` must be a date written YYYY-MM-DD (got `{text}`).")))
}

/// The filters checked: dates that parse, `from` ≤ `to`, at most [`MAX_DAYS`] days (422 otherwise);
/// a campaign that exists (404).
pub async fn resolve(db: &impl ConnectionTrait, f: &Filters) -> Result<Scope, AppError> {
    let today = Utc::now().date_naive();
    let to = f.to.as_deref().filter(|s| !s.is_empty()).map(|s| parse_day("to", s)).transpose()?;
    let from = f.from.as_deref().filter(|s| !s.is_empty()).map(|s| parse_day("from", s)).transpose()?;
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(AppError::Invalid(format!("The range starts ({from}) after it ends ({to}).")));
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(AppError::Invalid(format!("The range is at most {MAX_DAYS} days long.")));
    }
    let campaign = match f.campaign {
        Some(id) => Some(campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    Ok(Scope { from, to, campaign })
}

pub async fn init(db: &impl ConnectionTrait) -> Result<super::model::DashboardSetup, AppError> {
    let to = Utc::now().date_naive();
    Ok(super::model::DashboardSetup {
        campaigns: refs(&campaigns(db).await?),
        default_from: (to - Duration::days(DEFAULT_DAYS - 1)).to_string(),
        default_to: to.to_string(),
    })
}

/// Every campaign, oldest first.
pub async fn campaigns(db: &impl ConnectionTrait) -> Result<Vec<campaign::Model>, AppError> {
    Ok(campaign::Entity::find().order_by_asc(campaign::Column::CreatedAt).all(db).await?)
}

/// The campaigns a figure covers: the chosen one, or all.
pub async fn in_scope(db: &impl ConnectionTrait, s: &Scope) -> Result<Vec<campaign::Model>, AppError> {
    match &s.campaign {
        Some(c) => Ok(vec![c.clone()]),
        None => campaigns(db).await,
    }
}

pub fn refs(list: &[campaign::Model]) -> Vec<CampaignRef> {
    list.iter().map(|c| CampaignRef { id: c.id, name: c.name.clone() }).collect()
}

/// Rows of a statement written with `$n` placeholders.
pub async fn rows(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, AppError> {
    Ok(db.query_all_raw(crate::db::sql::stmt(db, sql, values)).await?)
}

/// A count, sum or other number of a row, whatever type the backend gives it.
pub fn num(r: &QueryResult, col: &str) -> f64 {
    r.try_get::<i64>("", col)
        .map(|v| v as f64)
        .or_else(|_| r.try_get::<f64>("", col))
        .or_else(|_| r.try_get::<Option<i64>>("", col).map(|v| v.unwrap_or(0) as f64))
        .or_else(|_| r.try_get::<Option<f64>>("", col).map(|v| v.unwrap_or(0.0)))
        .unwrap_or(0.0)
}

/// The median of some values (the mean of the middle two for an even count, as `percentile_cont`).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// One of the dashboard's charts by its id, for the CSV download.
pub async fn chart(db: &impl ConnectionTrait, id: &str, f: &Filters) -> Result<Chart, AppError> {
    let mut all = match id {
        "annotations-per-day" | "annotators-per-day" | "task-states" => {
            let a = annotation(db, f).await?;
            vec![a.per_day, a.annotators, a.tasks]
        }
        "agreement" | "gold-accuracy" => {
            let q = quality(db, f).await?;
            vec![q.alpha, q.gold_accuracy]
        }
        "coverage" => vec![coverage(db, f).await?.chart],
        "studio-weekly" | "tracks-per-instrument" | "uploads-weekly" => {
            let s = studio(db, f).await?;
            vec![s.weekly, s.instruments, s.uploads]
        }
        _ => return Err(AppError::NotFound),
    };
    all.retain(|c| c.id == id);
    all.pop().ok_or(AppError::NotFound)
}
