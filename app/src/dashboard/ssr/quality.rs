//! Answer quality: Krippendorff's alpha per instrument (the campaign page's `agreement`), the
//! distribution of annotators' gold accuracy, and the annotators far below the others.
//!
//! Far below: per campaign and measure — gold accuracy (≥ 5 gold answers in range) and agreement
//! with the consensus (share of the annotator's present/absent answers in range, on complete
//! normal tasks, that match the stored majority where it is not a tie; ≥ 5 such answers) — an
//! annotator is listed when their value is below both median − 2 × MAD and median − 0.05, among at
//! least 3 annotators with that measure. (MAD: the median absolute deviation. The 0.05 floor
//! keeps a campaign where nearly everyone agrees, MAD 0, from flagging tiny differences.)
use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Value};
use uuid::Uuid;

use super::{Scope, in_scope, median, num, resolve, rows};
use crate::dashboard::model::{Chart, ChartKind, Filters, Outlier, QualityStats, Series};
use crate::db::{annotation, campaign, task, task_label};
use crate::domain::AnswerValue;
use crate::error::AppError;

/// Alpha per instrument slug, as `agreement` gives it.
type Alphas = Vec<(String, Option<f64>)>;

/// Gold answers an annotator needs in range to count in the accuracy figures.
pub const MIN_GOLD: i64 = 5;
/// Compared answers an annotator needs to count in the agreement-with-consensus measure.
const MIN_COMPARED: usize = 5;
/// Annotators a measure needs before anyone is called far below the others.
const MIN_PEERS: usize = 3;

pub async fn quality(db: &impl ConnectionTrait, f: &Filters) -> Result<QualityStats, AppError> {
    let s = resolve(db, f).await?;
    let campaigns = in_scope(db, &s).await?;
    let mut categories: Vec<String> = Vec::new();
    let mut per: Vec<(String, Alphas)> = Vec::new();
    for c in &campaigns {
        let alpha = crate::campaigns::labels::agreement(db, c).await?;
        for (slug, _) in &alpha {
            if !categories.contains(slug) {
                categories.push(slug.clone());
            }
        }
        per.push((c.name.clone(), alpha));
    }
    let series = per
        .into_iter()
        .map(|(name, alpha)| Series {
            name,
            values: categories.iter().map(|k| alpha.iter().find(|(s, _)| s == k).and_then(|(_, a)| *a)).collect(),
        })
        .collect();
    let alpha = Chart {
        id: "agreement".into(),
        title: "Agreement per instrument (Krippendorff's alpha)".into(),
        kind: ChartKind::Bars,
        x_label: "instrument".into(),
        y_label: "alpha".into(),
        categories,
        series,
    };

    let mut bins = vec![Some(0.0); 10];
    for (_, acc) in gold_accuracy(db, &s, None).await? {
        // A tenth each, the last one closed: 100% is in 90–100%.
        let bin = ((acc * 10.0 + 1e-9).floor() as usize).min(9);
        bins[bin] = bins[bin].map(|n| n + 1.0);
    }
    let gold = Chart {
        id: "gold-accuracy".into(),
        title: format!("Gold accuracy of annotators (≥ {MIN_GOLD} gold answers)"),
        kind: ChartKind::Stacked,
        x_label: "gold accuracy".into(),
        y_label: "annotators".into(),
        categories: (0..10).map(|k| format!("{}–{}%", k * 10, k * 10 + 10)).collect(),
        series: vec![Series { name: "annotators".into(), values: bins }],
    };

    let mut outliers = Vec::new();
    for c in &campaigns {
        let names = pseudonyms(db, c.id).await?;
        let gold: Vec<(Uuid, f64)> = gold_accuracy(db, &s, Some(c.id)).await?;
        let agree = consensus_agreement(db, &s, c).await?;
        for (measure, values) in [("gold accuracy", gold), ("agreement with consensus", agree)] {
            for (user, value, threshold, med) in far_below(&values) {
                outliers.push(Outlier {
                    campaign_id: c.id,
                    campaign: c.name.clone(),
                    pseudonym: names.get(&user).map(|n| format!("A{n}")).unwrap_or_else(|| "?".into()),
                    measure: measure.into(),
                    value,
                    threshold,
                    median: med,
                });
            }
        }
    }
    Ok(QualityStats { range: s.range(), alpha, gold_accuracy: gold, outliers })
}

/// Each annotator's gold accuracy over gold answers in range (Σ correct ÷ Σ checked), for those
/// with at least [`MIN_GOLD`] of them; in one campaign or all.
pub async fn gold_accuracy(
    db: &impl ConnectionTrait,
    s: &Scope,
    campaign: Option<Uuid>,
) -> Result<Vec<(Uuid, f64)>, AppError> {
    let mut v: Vec<Value> = vec![s.start().into(), s.end().into()];
    let cc = match campaign {
        Some(id) => {
            v.push(id.into());
            " AND campaign_id = $3".to_string()
        }
        None => s.campaign_clause("campaign_id", &mut v),
    };
    let sql = format!(
        "SELECT user_id, count(*) AS n, SUM(gold_correct) AS c, SUM(gold_total) AS t FROM annotations \
         WHERE is_gold AND gold_total IS NOT NULL AND created_at >= $1 AND created_at < $2{cc} GROUP BY user_id"
    );
    let mut out = Vec::new();
    for r in rows(db, &sql, v).await? {
        let (n, c, t) = (num(&r, "n") as i64, num(&r, "c"), num(&r, "t"));
        if n >= MIN_GOLD && t > 0.0 {
            out.push((r.try_get("", "user_id")?, c / t));
        }
    }
    Ok(out)
}

/// Each annotator's share of present/absent answers (in range, complete normal tasks) that match
/// the task's stored majority, where that majority is not a tie.
async fn consensus_agreement(
    db: &impl ConnectionTrait,
    s: &Scope,
    c: &campaign::Model,
) -> Result<Vec<(Uuid, f64)>, AppError> {
    let anns = annotation::Entity::find()
        .filter(annotation::Column::CampaignId.eq(c.id))
        .filter(annotation::Column::IsGold.eq(false))
        .filter(annotation::Column::CreatedAt.gte(s.start()))
        .filter(annotation::Column::CreatedAt.lt(s.end()))
        .filter(
            annotation::Column::TaskId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(task::Column::Id)
                    .from(task::Entity)
                    .and_where(task::Column::CampaignId.eq(c.id))
                    .and_where(task::Column::IsComplete.eq(true))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    let mut majority: HashMap<(Uuid, String), bool> = HashMap::new();
    let labels = task_label::Entity::find()
        .filter(
            task_label::Column::TaskId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(task::Column::Id)
                    .from(task::Entity)
                    .and_where(task::Column::CampaignId.eq(c.id))
                    .and_where(task::Column::IsComplete.eq(true))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    for l in labels {
        if l.present != l.absent {
            majority.insert((l.task_id, l.instrument), l.present > l.absent);
        }
    }
    let mut tally: BTreeMap<Uuid, (usize, usize)> = BTreeMap::new();
    for a in anns {
        let answers: BTreeMap<String, AnswerValue> = serde_json::from_str(&a.answers).unwrap_or_default();
        for (slug, value) in answers {
            let said = match value {
                AnswerValue::Present => true,
                AnswerValue::Absent => false,
                AnswerValue::Unsure => continue,
            };
            if let Some(m) = majority.get(&(a.task_id, slug)) {
                let t = tally.entry(a.user_id).or_default();
                t.1 += 1;
                if *m == said {
                    t.0 += 1;
                }
            }
        }
    }
    Ok(tally.into_iter().filter(|(_, (_, n))| *n >= MIN_COMPARED).map(|(u, (k, n))| (u, k as f64 / n as f64)).collect())
}

/// The values below both median − 2 × MAD and median − 0.05: (who, value, threshold, median).
pub fn far_below(values: &[(Uuid, f64)]) -> Vec<(Uuid, f64, f64, f64)> {
    if values.len() < MIN_PEERS {
        return Vec::new();
    }
    let Some(med) = median(values.iter().map(|(_, v)| *v).collect()) else { return Vec::new() };
    let mad = median(values.iter().map(|(_, v)| (v - med).abs()).collect()).unwrap_or(0.0);
    let threshold = (med - 2.0 * mad).min(med - 0.05);
    values.iter().filter(|(_, v)| *v < threshold).map(|(u, v)| (*u, *v, threshold, med)).collect()
}

/// The campaign's pseudonym numbers, as the review numbers them: 1 for whoever answered first in
/// it (ties by id), and so on.
async fn pseudonyms(db: &impl ConnectionTrait, campaign_id: Uuid) -> Result<HashMap<Uuid, usize>, AppError> {
    let people: Vec<Uuid> = annotation::Entity::find()
        .select_only()
        .column(annotation::Column::UserId)
        .filter(annotation::Column::CampaignId.eq(campaign_id))
        .group_by(annotation::Column::UserId)
        .order_by(Func::min(Expr::col(annotation::Column::CreatedAt)), Order::Asc)
        .order_by_asc(annotation::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(people.into_iter().enumerate().map(|(i, u)| (u, i + 1)).collect())
}
