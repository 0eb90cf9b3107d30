//! The review listing: a page of a campaign's tasks with every answer under a pseudonym and the
//! stored consensus. Filters and sorting are SQL (the query builder, or one correlated subquery
//! written for both backends), so only the page's rows and answers are read, however big the
//! campaign. "Disputed" and "low agreement" read the consensus in `task_labels`, which a task gets
//! when it completes.
use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::review_api::{
    AnnotatorAnswers, InstrumentConsensus, MIN_AGREEMENT, MIN_CONFIDENCE, ReviewFilter, ReviewPage, ReviewQuery,
    ReviewSort, TaskReview,
};
use crate::db::{annotation, campaign, task, task_label};
use crate::domain::AnswerValue;
use crate::error::AppError;

/// A task's agreement for sorting: its lowest majority share; 2 (after every real value) without
/// a consensus. Written once for SQLite and PostgreSQL, whose default NULL orders differ.
const AGREEMENT: &str =
    "COALESCE((SELECT MIN(task_labels.confidence) FROM task_labels WHERE task_labels.task_id = tasks.id), 2.0)";

pub async fn review_page(
    db: &impl ConnectionTrait,
    campaign_id: Uuid,
    q: &ReviewQuery,
) -> Result<ReviewPage, AppError> {
    let min_confidence = q.min_confidence.unwrap_or(MIN_CONFIDENCE);
    let min_agreement = q.min_agreement.unwrap_or(MIN_AGREEMENT);
    for (name, v) in [("min_confidence", min_confidence), ("min_agreement", min_agreement)] {
        if !(0.5..=1.0).contains(&v) {
            return Err(AppError::Invalid(format!("{name} must be between 0.5 and 1.")));
        }
    }
    let limit = q.limit.unwrap_or(super::TASKS_PER_PAGE);
    if !(1..=200).contains(&limit) {
        return Err(AppError::Invalid("The limit must be between 1 and 200 tasks.".into()));
    }
    let c = campaign::Entity::find_by_id(campaign_id).one(db).await?.ok_or(AppError::NotFound)?;
    let mut find = task::Entity::find().filter(task::Column::CampaignId.eq(c.id));
    find = match q.filter {
        ReviewFilter::All => find,
        ReviewFilter::Complete => find.filter(task::Column::IsComplete.eq(true)),
        ReviewFilter::InProgress => find
            .filter(task::Column::IsGold.eq(false))
            .filter(task::Column::IsComplete.eq(false))
            .filter(task::Column::AnnotationsCount.gt(0)),
        ReviewFilter::Gold => find.filter(task::Column::IsGold.eq(true)),
        ReviewFilter::Disputed => {
            // Someone heard it and someone did not, or the trust-weighted estimate stays between
            // 1 − c and c (its confidence, max(p, 1 − p), is below c).
            let split = Condition::all().add(task_label::Column::Present.gt(0)).add(task_label::Column::Absent.gt(0));
            let unsure = Condition::all()
                .add(task_label::Column::TrustPresent.gt(1.0 - min_confidence))
                .add(task_label::Column::TrustPresent.lt(min_confidence));
            find.filter(task::Column::IsGold.eq(false))
                .filter(task::Column::Id.in_subquery(labelled(Condition::any().add(split).add(unsure))))
        }
        ReviewFilter::LowAgreement => find.filter(task::Column::IsGold.eq(false)).filter(
            task::Column::Id
                .in_subquery(labelled(Condition::all().add(task_label::Column::Confidence.lt(min_agreement)))),
        ),
    };
    let total = find.clone().count(db).await?;
    find = match q.sort {
        ReviewSort::Source => find,
        ReviewSort::Answers => find.order_by_desc(task::Column::AnnotationsCount),
        ReviewSort::Agreement => find.order_by(Expr::cust(AGREEMENT), Order::Asc),
    };
    let rows = find
        .order_by_asc(task::Column::SourceId)
        .order_by_asc(task::Column::OffsetFrames)
        .order_by_asc(task::Column::Id)
        .offset(crate::error::page_offset(q.offset)?)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let mut labels: HashMap<Uuid, Vec<task_label::Model>> = HashMap::new();
    for l in task_label::Entity::find().filter(task_label::Column::TaskId.is_in(ids.clone())).all(db).await? {
        labels.entry(l.task_id).or_default().push(l);
    }
    let mut answers: HashMap<Uuid, Vec<annotation::Model>> = HashMap::new();
    for a in annotation::Entity::find().filter(annotation::Column::TaskId.is_in(ids)).all(db).await? {
        answers.entry(a.task_id).or_default().push(a);
    }
    let names = pseudonyms(db, c.id).await?;
    let order = c.instrument_slugs();
    let mut shown: Vec<usize> = Vec::new();
    let summaries = super::store::summaries(db, rows).await?;
    let mut tasks = Vec::with_capacity(summaries.len());
    for summary in summaries {
        let mut given = answers.remove(&summary.id).unwrap_or_default();
        given.sort_by_key(|a| names.get(&a.user_id).copied().unwrap_or(usize::MAX));
        let given: Vec<AnnotatorAnswers> = given
            .into_iter()
            .filter_map(|a| {
                let n = *names.get(&a.user_id)?;
                if !shown.contains(&n) {
                    shown.push(n);
                }
                let answers: BTreeMap<String, AnswerValue> = serde_json::from_str(&a.answers).unwrap_or_default();
                Some(AnnotatorAnswers { annotator: pseudonym(n), answers })
            })
            .collect();
        let mut consensus: Vec<InstrumentConsensus> =
            labels.remove(&summary.id).unwrap_or_default().into_iter().map(consensus_of).collect();
        consensus.sort_by_key(|l| order.iter().position(|s| *s == l.instrument).unwrap_or(usize::MAX));
        let agreement = consensus.iter().map(|l| l.confidence).reduce(f64::min);
        let disputed = summary.gold_answers.is_none()
            && consensus.iter().any(|l| {
                (l.present > 0 && l.absent > 0) || l.trust_present.max(1.0 - l.trust_present) < min_confidence
            });
        tasks.push(TaskReview { task: summary, answers: given, consensus, agreement, disputed });
    }
    shown.sort_unstable();
    Ok(ReviewPage { total, offset: q.offset, limit, annotators: shown.into_iter().map(pseudonym).collect(), tasks })
}

/// The ids of tasks with a label that meets `cond`.
fn labelled(cond: Condition) -> sea_orm::sea_query::SelectStatement {
    Query::select().column(task_label::Column::TaskId).from(task_label::Entity).cond_where(cond).to_owned()
}

fn consensus_of(l: task_label::Model) -> InstrumentConsensus {
    InstrumentConsensus {
        label: match l.present.cmp(&l.absent) {
            std::cmp::Ordering::Greater => Some(true),
            std::cmp::Ordering::Less => Some(false),
            std::cmp::Ordering::Equal => None,
        },
        instrument: l.instrument,
        present: l.present,
        absent: l.absent,
        unsure: l.unsure,
        confidence: l.confidence,
        trust_present: l.trust_present,
    }
}

fn pseudonym(n: usize) -> String {
    format!("A{n}")
}

/// Each annotator of the campaign → their number: 1 for whoever answered first in it, and so on
/// (ties by id), so a name stays put while answers come in. Grouped in SQL: one row per person.
async fn pseudonyms(db: &impl ConnectionTrait, campaign_id: Uuid) -> Result<HashMap<Uuid, usize>, AppError> {
    let people: Vec<Uuid> = annotation::Entity::find()
        .select_only()
        .column(annotation::Column::UserId)
        .filter(annotation::Column::CampaignId.eq(campaign_id))
        .group_by(annotation::Column::UserId)
        .order_by(sea_orm::sea_query::Func::min(Expr::col(annotation::Column::CreatedAt)), Order::Asc)
        .order_by_asc(annotation::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(people.into_iter().enumerate().map(|(i, u)| (u, i + 1)).collect())
}
