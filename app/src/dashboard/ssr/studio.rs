//! The studio and uploads: compositions created, tracks added and minutes recorded per ISO week,
//! tracks per instrument, active musicians (distinct authors of tracks added in range), uploaded
//! files and hours per week, and the storage the original files take. The campaign filter does
//! not apply here.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Value};

use super::annotation::day_sql;
use super::{num, resolve, rows, week_of};
use crate::dashboard::model::{Chart, ChartKind, Filters, Series, StudioStats};
use crate::error::AppError;

fn week(day: &str) -> Option<String> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().map(week_of)
}

pub async fn studio(db: &impl ConnectionTrait, f: &Filters) -> Result<StudioStats, AppError> {
    let s = resolve(db, f).await?;
    let weeks = s.weeks();
    let at: HashMap<&str, usize> = weeks.iter().enumerate().map(|(i, w)| (w.as_str(), i)).collect();
    let range = || -> Vec<Value> { vec![s.start().into(), s.end().into()] };
    let zeros = || vec![Some(0.0); weeks.len()];

    let (mut made, mut added, mut minutes) = (zeros(), zeros(), zeros());
    let sql = format!(
        "SELECT {} AS day, count(*) AS n FROM compositions WHERE created_at >= $1 AND created_at < $2 GROUP BY 1",
        day_sql(db, "created_at")
    );
    for r in rows(db, &sql, range()).await? {
        if let Some(i) = week(&r.try_get::<String>("", "day")?).and_then(|w| at.get(w.as_str()).copied()) {
            made[i] = made[i].map(|v| v + num(&r, "n"));
        }
    }
    let sql = format!(
        "SELECT {} AS day, t.instrument AS instrument, t.author_id AS author, a.kind AS kind, \
           a.duration_seconds AS secs \
         FROM tracks t JOIN audio a ON a.id = t.audio_id WHERE t.created_at >= $1 AND t.created_at < $2",
        day_sql(db, "t.created_at")
    );
    let mut per_instrument: BTreeMap<String, f64> = BTreeMap::new();
    let mut authors: HashSet<uuid::Uuid> = HashSet::new();
    for r in rows(db, &sql, range()).await? {
        authors.insert(r.try_get("", "author")?);
        *per_instrument.entry(r.try_get("", "instrument")?).or_default() += 1.0;
        if let Some(i) = week(&r.try_get::<String>("", "day")?).and_then(|w| at.get(w.as_str()).copied()) {
            added[i] = added[i].map(|v| v + 1.0);
            if r.try_get::<String>("", "kind")? == "recording" {
                minutes[i] = minutes[i].map(|v| v + num(&r, "secs") / 60.0);
            }
        }
    }
    let weekly = Chart {
        id: "studio-weekly".into(),
        title: "Studio per week".into(),
        kind: ChartKind::Bars,
        x_label: "week".into(),
        y_label: "count / minutes".into(),
        categories: weeks.clone(),
        series: vec![
            Series { name: "compositions created".into(), values: made },
            Series { name: "tracks added".into(), values: added },
            Series { name: "minutes recorded".into(), values: minutes },
        ],
    };
    let instruments = Chart {
        id: "tracks-per-instrument".into(),
        title: "Tracks added per instrument".into(),
        kind: ChartKind::Stacked,
        x_label: "instrument".into(),
        y_label: "tracks".into(),
        categories: per_instrument.keys().cloned().collect(),
        series: vec![Series { name: "tracks".into(), values: per_instrument.values().map(|v| Some(*v)).collect() }],
    };

    let (mut files, mut hours) = (zeros(), zeros());
    let sql = format!(
        "SELECT {} AS day, count(*) AS n, SUM(duration_seconds) AS secs FROM audio \
         WHERE kind = 'upload' AND created_at >= $1 AND created_at < $2 GROUP BY 1",
        day_sql(db, "created_at")
    );
    for r in rows(db, &sql, range()).await? {
        if let Some(i) = week(&r.try_get::<String>("", "day")?).and_then(|w| at.get(w.as_str()).copied()) {
            files[i] = files[i].map(|v| v + num(&r, "n"));
            hours[i] = hours[i].map(|v| v + num(&r, "secs") / 3600.0);
        }
    }
    let uploads = Chart {
        id: "uploads-weekly".into(),
        title: "Uploads per week".into(),
        kind: ChartKind::Bars,
        x_label: "week".into(),
        y_label: "files / hours".into(),
        categories: weeks,
        series: vec![Series { name: "files".into(), values: files }, Series { name: "hours".into(), values: hours }],
    };
    let storage = rows(db, "SELECT CAST(COALESCE(SUM(original_bytes), 0) AS BIGINT) AS b FROM audio", vec![]).await?;
    Ok(StudioStats {
        range: s.range(),
        weekly,
        instruments,
        active_musicians: authors.len() as i64,
        uploads,
        storage_bytes: storage.first().map(|r| num(r, "b") as i64).unwrap_or(0),
    })
}
