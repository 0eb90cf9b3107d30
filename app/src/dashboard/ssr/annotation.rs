//! Annotation progress: answers and annotators per UTC day, task states and the time to
//! completion per campaign, median listening and submit times, and the skip rate.
use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::{Scope, in_scope, median, num, refs, resolve, rows};
use crate::dashboard::model::{AnnotationStats, Chart, ChartKind, Eta, Filters, Series};
use crate::db::sql::is_postgres;
use crate::error::AppError;

/// The rate behind the time to completion: answers over this many days, up to now.
const RATE_DAYS: i64 = 7;

/// A timestamp column's UTC day as `YYYY-MM-DD` (SQLite stores timestamps as UTC text).
pub fn day_sql(db: &impl ConnectionTrait, column: &str) -> String {
    if is_postgres(db) {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
    } else {
        format!("substr({column}, 1, 10)")
    }
}

pub async fn annotation(db: &impl ConnectionTrait, f: &Filters) -> Result<AnnotationStats, AppError> {
    let s = resolve(db, f).await?;
    let campaigns = in_scope(db, &s).await?;
    let all = super::campaigns(db).await?;
    let days = s.days();
    let at: HashMap<&str, usize> = days.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
    let day = day_sql(db, "created_at");

    // Answers per day and campaign.
    let mut v: Vec<Value> = vec![s.start().into(), s.end().into()];
    let cc = s.campaign_clause("campaign_id", &mut v);
    let sql = format!(
        "SELECT {day} AS day, campaign_id, count(*) AS n FROM annotations \
         WHERE created_at >= $1 AND created_at < $2{cc} GROUP BY 1, 2"
    );
    let mut per: HashMap<Uuid, Vec<Option<f64>>> = HashMap::new();
    let mut answers = 0i64;
    for r in rows(db, &sql, v.clone()).await? {
        let d: String = r.try_get("", "day")?;
        let c: Uuid = r.try_get("", "campaign_id")?;
        let n = num(&r, "n");
        answers += n as i64;
        if let Some(i) = at.get(d.as_str()) {
            per.entry(c).or_insert_with(|| vec![Some(0.0); days.len()])[*i] = Some(n);
        }
    }
    let series = campaigns
        .iter()
        .map(|c| Series {
            name: c.name.clone(),
            values: per.remove(&c.id).unwrap_or_else(|| vec![Some(0.0); days.len()]),
        })
        .collect();
    let per_day = Chart {
        id: "annotations-per-day".into(),
        title: "Answers per day".into(),
        kind: ChartKind::Line,
        x_label: "day".into(),
        y_label: "answers".into(),
        categories: days.clone(),
        series,
    };

    // Distinct annotators per day.
    let sql = format!(
        "SELECT {day} AS day, count(DISTINCT user_id) AS n FROM annotations \
         WHERE created_at >= $1 AND created_at < $2{cc} GROUP BY 1"
    );
    let mut active = vec![Some(0.0); days.len()];
    for r in rows(db, &sql, v.clone()).await? {
        let d: String = r.try_get("", "day")?;
        if let Some(i) = at.get(d.as_str()) {
            active[*i] = Some(num(&r, "n"));
        }
    }
    let annotators = Chart {
        id: "annotators-per-day".into(),
        title: "Active annotators per day".into(),
        kind: ChartKind::Line,
        x_label: "day".into(),
        y_label: "annotators".into(),
        categories: days,
        series: vec![Series { name: "annotators".into(), values: active }],
    };

    let (tasks, eta) = task_states(db, &s, &campaigns).await?;

    let mut lv: Vec<Value> = vec![s.start().into(), s.end().into()];
    let lc = s.campaign_clause("t.campaign_id", &mut lv);
    let sql = format!(
        "SELECT count(*) AS n FROM leases l JOIN tasks t ON t.id = l.task_id \
         WHERE l.skipped AND l.created_at >= $1 AND l.created_at < $2{lc}"
    );
    let skips = rows(db, &sql, lv).await?.first().map(|r| num(r, "n") as i64).unwrap_or(0);
    let skip_rate = (skips + answers > 0).then(|| skips as f64 / (skips + answers) as f64);

    let (median_listening_ms, median_submit_ms) = medians(db, &cc, v).await?;
    Ok(AnnotationStats {
        range: s.range(),
        campaigns: refs(&all),
        per_day,
        annotators,
        tasks,
        eta,
        answers,
        skips,
        skip_rate,
        median_listening_ms,
        median_submit_ms,
    })
}

/// Median listening time and time to submit of the answers in range: `percentile_cont` on
/// PostgreSQL; on SQLite the two columns of the range's rows, sorted here.
async fn medians(db: &impl ConnectionTrait, cc: &str, v: Vec<Value>) -> Result<(Option<f64>, Option<f64>), AppError> {
    let filter = format!("FROM annotations WHERE created_at >= $1 AND created_at < $2{cc}");
    if is_postgres(db) {
        let sql = format!(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY listening_ms) AS l, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_submit_ms) AS s {filter}"
        );
        let r = rows(db, &sql, v).await?;
        let get = |c: &str| r.first().and_then(|r| r.try_get::<Option<f64>>("", c).ok().flatten());
        return Ok((get("l"), get("s")));
    }
    let sql = format!("SELECT listening_ms AS l, time_to_submit_ms AS s {filter}");
    let (mut l, mut s) = (Vec::new(), Vec::new());
    for r in rows(db, &sql, v).await? {
        l.push(num(&r, "l"));
        s.push(num(&r, "s"));
    }
    Ok((median(l), median(s)))
}

/// Per campaign: normal tasks complete / in progress (some answers) / untouched, as they are now;
/// gold tasks apart; and the time to completion at the last 7 days' rate of normal answers.
async fn task_states(
    db: &impl ConnectionTrait,
    s: &Scope,
    campaigns: &[crate::db::campaign::Model],
) -> Result<(Chart, Vec<Eta>), AppError> {
    let mut v: Vec<Value> = Vec::new();
    let cc = s.campaign_clause("campaign_id", &mut v);
    let sql = format!(
        "SELECT campaign_id, \
           SUM(CASE WHEN NOT is_gold AND is_complete THEN 1 ELSE 0 END) AS complete, \
           SUM(CASE WHEN NOT is_gold AND NOT is_complete AND annotations_count > 0 THEN 1 ELSE 0 END) AS progress, \
           SUM(CASE WHEN NOT is_gold AND NOT is_complete AND annotations_count = 0 THEN 1 ELSE 0 END) AS untouched, \
           SUM(CASE WHEN is_gold THEN 1 ELSE 0 END) AS gold, \
           SUM(CASE WHEN NOT is_gold AND NOT is_complete AND annotations_required > annotations_count \
                    THEN annotations_required - annotations_count ELSE 0 END) AS remaining \
         FROM tasks WHERE 1 = 1{cc} GROUP BY campaign_id"
    );
    let mut state: HashMap<Uuid, [f64; 5]> = HashMap::new();
    for r in rows(db, &sql, v).await? {
        let c: Uuid = r.try_get("", "campaign_id")?;
        state.insert(c, ["complete", "progress", "untouched", "gold", "remaining"].map(|k| num(&r, k)));
    }
    let mut v: Vec<Value> = vec![(Utc::now() - Duration::days(RATE_DAYS)).into()];
    let cc = s.campaign_clause("campaign_id", &mut v);
    let sql = format!(
        "SELECT campaign_id, count(*) AS n FROM annotations WHERE NOT is_gold AND created_at >= $1{cc} GROUP BY campaign_id"
    );
    let mut recent: HashMap<Uuid, f64> = HashMap::new();
    for r in rows(db, &sql, v).await? {
        recent.insert(r.try_get("", "campaign_id")?, num(&r, "n"));
    }
    let names = ["complete", "in progress", "untouched"];
    let mut series: Vec<Series> = names.iter().map(|n| Series { name: n.to_string(), values: Vec::new() }).collect();
    let mut eta = Vec::new();
    for c in campaigns {
        let st = state.get(&c.id).copied().unwrap_or_default();
        for (k, se) in series.iter_mut().enumerate() {
            se.values.push(Some(st[k]));
        }
        let rate = recent.get(&c.id).copied().unwrap_or(0.0) / RATE_DAYS as f64;
        let remaining = st[4] as i64;
        eta.push(Eta {
            campaign_id: c.id,
            campaign: c.name.clone(),
            remaining_answers: remaining,
            answers_per_day: rate,
            days: (rate > 0.0).then(|| remaining as f64 / rate),
            gold_tasks: st[3] as i64,
        });
    }
    let chart = Chart {
        id: "task-states".into(),
        title: "Tasks per campaign".into(),
        kind: ChartKind::Stacked,
        x_label: "campaign".into(),
        y_label: "tasks".into(),
        categories: campaigns.iter().map(|c| c.name.clone()).collect(),
        series,
    };
    Ok((chart, eta))
}
