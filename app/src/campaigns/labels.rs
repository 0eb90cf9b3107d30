//! A campaign's answers turned into labels: each task's consensus when it completes, annotator
//! trust from gold answers, and agreement (Krippendorff's alpha) per instrument.
use std::collections::BTreeMap;

use consensus::{Accuracy, Answer};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::{annotation, annotator_accuracy, campaign, task_label};
use crate::domain::AnswerValue;
use crate::error::AppError;

pub fn answer(v: AnswerValue) -> Answer {
    match v {
        AnswerValue::Present => Answer::Present,
        AnswerValue::Absent => Answer::Absent,
        AnswerValue::Unsure => Answer::Unsure,
    }
}

/// How much an annotator's answers are trusted: their gold accuracy under a Beta(3.5, 1.5) prior,
/// i.e. a newcomer counts as right 70% of the time until gold answers say otherwise. (A uniform
/// prior would give newcomers no weight at all, and campaigns without gold no estimate.)
pub fn trust(record: &Accuracy) -> f64 {
    record.estimate_with_prior(3.5, 1.5)
}

/// Compute the task's consensus per instrument (when it completes): majority counts and share, and the
/// trust-weighted probability using each annotator's gold accuracy.
#[tracing::instrument(skip_all, fields(task = %task_id))]
pub async fn update_labels(txn: &impl ConnectionTrait, task_id: Uuid, instruments: &[String]) -> Result<(), AppError> {
    let anns = annotation::Entity::find().filter(annotation::Column::TaskId.eq(task_id)).all(txn).await?;
    let records: BTreeMap<Uuid, Accuracy> = annotator_accuracy::Entity::find()
        .filter(annotator_accuracy::Column::UserId.is_in(anns.iter().map(|a| a.user_id).collect::<Vec<_>>()))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.user_id, Accuracy { correct: r.gold_correct as u32, total: r.gold_total as u32 }))
        .collect();
    let accuracy: BTreeMap<Uuid, f64> =
        anns.iter().map(|a| (a.user_id, trust(&records.get(&a.user_id).copied().unwrap_or_default()))).collect();
    let parsed: Vec<(Uuid, BTreeMap<String, AnswerValue>)> =
        anns.iter().map(|a| (a.user_id, serde_json::from_str(&a.answers).unwrap_or_default())).collect();
    task_label::Entity::delete_many().filter(task_label::Column::TaskId.eq(task_id)).exec(txn).await?;
    let mut rows = Vec::with_capacity(instruments.len());
    for slug in instruments {
        let answers: Vec<(Answer, f64)> =
            parsed.iter().filter_map(|(u, map)| map.get(slug).map(|v| (answer(*v), accuracy[u]))).collect();
        let plain: Vec<Answer> = answers.iter().map(|(a, _)| *a).collect();
        let m = consensus::majority(&plain);
        rows.push(task_label::ActiveModel {
            task_id: Set(task_id),
            instrument: Set(slug.clone()),
            present: Set(m.present as i32),
            absent: Set(m.absent as i32),
            unsure: Set(m.unsure as i32),
            relevance: Set(m.relevance),
            confidence: Set(m.confidence),
            trust_present: Set(consensus::trust_weighted(&answers, 0.5)),
        });
    }
    if !rows.is_empty() {
        task_label::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

/// Krippendorff's alpha per instrument over a campaign's non-gold annotations ("not sure" is
/// treated as no answer).
pub async fn agreement(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<Vec<(String, Option<f64>)>, AppError> {
    let anns = annotation::Entity::find()
        .filter(annotation::Column::CampaignId.eq(c.id))
        .filter(annotation::Column::IsGold.eq(false))
        .all(db)
        .await?;
    let mut by_task: BTreeMap<Uuid, Vec<BTreeMap<String, AnswerValue>>> = BTreeMap::new();
    for a in anns {
        by_task.entry(a.task_id).or_default().push(serde_json::from_str(&a.answers).unwrap_or_default());
    }
    Ok(c.instrument_slugs()
        .into_iter()
        .map(|slug| {
            let units: Vec<Vec<u32>> = by_task
                .values()
                .map(|answers| {
                    answers
                        .iter()
                        .filter_map(|m| m.get(&slug).and_then(|v| answer(*v).decided()))
                        .map(u32::from)
                        .collect()
                })
                .collect();
            let alpha = consensus::krippendorff_alpha_nominal(&units);
            (slug, alpha)
        })
        .collect())
}
