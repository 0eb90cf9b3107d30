//! Coverage: per campaign and instrument, how many clips of complete normal tasks are so far
//! confidently positive (trust-weighted probability of presence ≥ 0.8), confidently negative
//! (≤ 0.2) or neither (unsure or unknown), against the campaign's goal of positive clips per
//! instrument (`campaigns.coverage_goal`, which this feature owns and sets).
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, EntityTrait, Value};
use uuid::Uuid;

use super::{in_scope, num, resolve, rows};
use crate::dashboard::model::{
    CampaignCoverage, Chart, ChartKind, CoverageStats, Filters, Goal, InstrumentCoverage, MAX_GOAL, Series,
};
use crate::db::campaign;
use crate::error::AppError;

/// At or above this trust-weighted probability a clip confidently holds the instrument.
pub const POSITIVE: f64 = 0.8;
/// At or below this it confidently does not.
pub const NEGATIVE: f64 = 0.2;

pub async fn coverage(db: &impl ConnectionTrait, f: &Filters) -> Result<CoverageStats, AppError> {
    let s = resolve(db, f).await?;
    let mut out = Vec::new();
    for c in in_scope(db, &s).await? {
        let sql = format!(
            "SELECT tl.instrument AS instrument, \
               SUM(CASE WHEN tl.trust_present >= {POSITIVE} THEN 1 ELSE 0 END) AS pos, \
               SUM(CASE WHEN tl.trust_present <= {NEGATIVE} THEN 1 ELSE 0 END) AS neg, count(*) AS n \
             FROM task_labels tl JOIN tasks t ON t.id = tl.task_id \
             WHERE t.campaign_id = $1 AND t.is_complete AND NOT t.is_gold GROUP BY tl.instrument"
        );
        let mut counts: HashMap<String, (f64, f64, f64)> = HashMap::new();
        for r in rows(db, &sql, vec![c.id.into()]).await? {
            counts.insert(r.try_get("", "instrument")?, (num(&r, "pos"), num(&r, "neg"), num(&r, "n")));
        }
        let instruments = c
            .instrument_slugs()
            .into_iter()
            .map(|slug| {
                let (p, n, all) = counts.get(&slug).copied().unwrap_or_default();
                InstrumentCoverage {
                    instrument: slug,
                    positive: p as i64,
                    negative: n as i64,
                    unknown: (all - p - n).max(0.0) as i64,
                }
            })
            .collect();
        out.push(CampaignCoverage {
            campaign_id: c.id,
            campaign: c.name.clone(),
            goal: goal(db, c.id).await?,
            instruments,
        });
    }
    let mut categories = Vec::new();
    let mut series: Vec<Series> = ["positive", "negative", "unsure or unknown", "goal"]
        .iter()
        .map(|n| Series { name: n.to_string(), values: Vec::new() })
        .collect();
    for c in &out {
        for i in &c.instruments {
            categories.push(format!("{}: {}", c.campaign, i.instrument));
            for (k, v) in [Some(i.positive), Some(i.negative), Some(i.unknown), c.goal].into_iter().enumerate() {
                series[k].values.push(v.map(|v| v as f64));
            }
        }
    }
    let chart = Chart {
        id: "coverage".into(),
        title: "Coverage per instrument".into(),
        kind: ChartKind::Stacked,
        x_label: "campaign: instrument".into(),
        y_label: "clips".into(),
        categories,
        series,
    };
    Ok(CoverageStats { range: s.range(), campaigns: out, chart })
}

async fn goal(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<i64>, AppError> {
    let r = rows(db, "SELECT coverage_goal FROM campaigns WHERE id = $1", vec![id.into()]).await?;
    Ok(r.first().and_then(|r| r.try_get::<Option<i32>>("", "coverage_goal").ok().flatten()).map(i64::from))
}

/// Set (or clear, with `None`) a campaign's coverage goal: 1 to [`MAX_GOAL`] clips (422 else; 404
/// for a campaign that does not exist).
pub async fn set_goal(db: &impl ConnectionTrait, id: Uuid, goal: Option<i64>) -> Result<Goal, AppError> {
    if let Some(g) = goal
        && !(1..=MAX_GOAL).contains(&g)
    {
        return Err(AppError::Invalid(format!("The goal must be between 1 and {MAX_GOAL} clips, or empty.")));
    }
    campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    let value: Value = goal.map(|g| g as i32).into();
    db.execute_raw(crate::db::sql::stmt(
        db,
        "UPDATE campaigns SET coverage_goal = $1 WHERE id = $2",
        vec![value, id.into()],
    ))
    .await?;
    Ok(Goal { goal })
}
