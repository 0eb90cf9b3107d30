//! An annotator's own statistics: today, overall, agreement with the others, gold accuracy.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::serve::answered_in;
use super::{AnnotatorStats, InstrumentProgress};
use crate::campaigns::labels::answer;
use crate::context::ServerContext;
use crate::db::{annotation, annotator_accuracy, instrument, task, task_label, user};
use crate::domain::AnswerValue;
use crate::error::AppError;

/// When the annotator's day began: local midnight for a UTC offset in minutes (east positive,
/// at most 14 hours either way, as time zones go).
pub fn day_start(now: DateTime<Utc>, utc_offset_minutes: i32) -> Result<DateTime<Utc>, AppError> {
    let tz = (-14 * 60..=14 * 60)
        .contains(&utc_offset_minutes)
        .then(|| chrono::FixedOffset::east_opt(utc_offset_minutes * 60))
        .flatten()
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "utc_offset_minutes must be between -840 and 840 (a time zone's offset), not {utc_offset_minutes}"
            ))
        })?;
    let local = now.with_timezone(&tz).date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(local.and_local_timezone(tz).single().map(|t| t.with_timezone(&Utc)).unwrap_or(now))
}

/// `utc_offset_minutes` is the annotator's time zone, so "today" is their day (UTC without it).
#[tracing::instrument(skip_all, fields(user = %user.id, campaign = %campaign_id))]
pub async fn stats(
    ctx: &ServerContext,
    user: &user::Model,
    campaign_id: Uuid,
    utc_offset_minutes: i32,
) -> Result<AnnotatorStats, AppError> {
    let midnight = day_start(Utc::now(), utc_offset_minutes)?;
    let c = crate::access::campaign::visible_campaign(&ctx.db, user, campaign_id).await?;
    // Your work in this campaign (the receipt's submission number counts the same way).
    let mine = annotation::Entity::find()
        .filter(annotation::Column::UserId.eq(user.id))
        .filter(annotation::Column::CampaignId.eq(c.id))
        .all(&ctx.db)
        .await?;
    let done_today = mine.iter().filter(|a| a.created_at >= midnight).count() as u64;
    // Agreement: your decided answers on complete tasks against their majority label. The labels of
    // every complete task you answered come in one query, not one per answer.
    let answered = answered_in(user.id, c.id).and_where(annotation::Column::IsGold.eq(false)).to_owned();
    let complete = sea_orm::sea_query::Query::select()
        .column(task::Column::Id)
        .from(task::Entity)
        .and_where(task::Column::IsComplete.eq(true))
        .and_where(task::Column::Id.in_subquery(answered))
        .to_owned();
    let mut labels_of: HashMap<Uuid, Vec<task_label::Model>> = HashMap::new();
    for l in task_label::Entity::find().filter(task_label::Column::TaskId.in_subquery(complete)).all(&ctx.db).await? {
        labels_of.entry(l.task_id).or_default().push(l);
    }
    let (mut agree, mut decided) = (0u64, 0u64);
    for a in mine.iter().filter(|a| !a.is_gold) {
        let Some(labels) = labels_of.get(&a.task_id) else { continue };
        let answers: BTreeMap<String, AnswerValue> = serde_json::from_str(&a.answers).unwrap_or_default();
        for l in labels {
            let Some(v) = answers.get(&l.instrument).and_then(|v| answer(*v).decided()) else { continue };
            // The majority of the *other* annotators: counting your own answer in would make you
            // agree with yourself (with k = 2, always).
            let (p, n) = (l.present - i32::from(v), l.absent - i32::from(!v));
            if p != n {
                decided += 1;
                agree += u64::from((p > n) == v);
            }
        }
    }
    let acc = annotator_accuracy::Entity::find_by_id(user.id).one(&ctx.db).await?;
    let info = crate::campaigns::store::campaign_info(&ctx.db, &c).await?;
    let names: BTreeMap<String, String> =
        instrument::Entity::find().all(&ctx.db).await?.into_iter().map(|i| (i.slug, i.name)).collect();
    let mut instruments = Vec::new();
    for slug in c.instrument_slugs() {
        let present = task_label::Entity::find()
            .filter(task_label::Column::Instrument.eq(slug.as_str()))
            .filter(task_label::Column::Relevance.gt(0.5))
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
            .count(&ctx.db)
            .await?;
        instruments.push(InstrumentProgress {
            name: names.get(&slug).cloned().unwrap_or_else(|| slug.clone()),
            slug,
            present,
        });
    }
    Ok(AnnotatorStats {
        done_today,
        done_total: mine.len() as u64,
        agreement: (decided > 0).then(|| agree as f64 / decided as f64),
        gold_accuracy: acc.as_ref().filter(|a| a.gold_total > 0).map(|a| a.gold_correct as f64 / a.gold_total as f64),
        gold_answers: acc.map(|a| a.gold_total as u32).unwrap_or(0),
        campaign_name: c.name,
        tasks_complete: info.tasks_complete,
        tasks_total: info.tasks_total,
        instruments,
    })
}

#[cfg(test)]
mod tests {
    use super::day_start;

    #[test]
    fn the_day_starts_at_the_annotator_s_midnight() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        let now = at("2026-11-22T23:30:00Z");
        assert_eq!(day_start(now, 0).unwrap(), at("2026-11-22T00:00:00Z"));
        // Already 00:30 on the 23rd in UTC+1.
        assert_eq!(day_start(now, 60).unwrap(), at("2026-11-22T23:00:00Z"));
        // 18:30 on the 22nd in UTC-5.
        assert_eq!(day_start(now, -300).unwrap(), at("2026-11-22T05:00:00Z"));
        // Kiritimati (UTC+14) and Baker Island (UTC-12).
        assert_eq!(day_start(now, 840).unwrap(), at("2026-11-22T10:00:00Z"));
        assert_eq!(day_start(now, -720).unwrap(), at("2026-11-22T12:00:00Z"));
        assert!(day_start(now, 841).is_err() && day_start(now, -841).is_err());
        assert!(day_start(now, i32::MIN).is_err() && day_start(now, i32::MAX).is_err(), "no overflow");
    }
}
