//! The admin's review of a campaign's answers: what is exchanged and its server function.
use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::TaskSummary;
use crate::domain::AnswerValue;
use crate::error::AppError;

/// Which tasks the review lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewFilter {
    #[default]
    All,
    /// Every answer it needs is in.
    Complete,
    /// Started (at least one answer) but not complete; gold tasks are not in it.
    InProgress,
    /// Complete, and annotators disagree on at least one instrument, or its trust-weighted
    /// consensus is less sure than `min_confidence`.
    Disputed,
    Gold,
    /// Complete, and the majority's share on some instrument is below `min_agreement`.
    LowAgreement,
}

/// In what order the review lists tasks (ties: source, then offset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    /// By source, then time in it.
    #[default]
    Source,
    /// Most answers first.
    Answers,
    /// Lowest agreement first; tasks without a consensus yet last.
    Agreement,
}

/// The review's query: a page of tasks, filtered and sorted by the database.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    #[serde(default)]
    pub offset: u64,
    /// Tasks per page (1–200); default [`super::TASKS_PER_PAGE`].
    pub limit: Option<u64>,
    #[serde(default)]
    pub filter: ReviewFilter,
    #[serde(default)]
    pub sort: ReviewSort,
    /// For "disputed" (0.5–1): default [`MIN_CONFIDENCE`].
    pub min_confidence: Option<f64>,
    /// For "low agreement" (0.5–1): default [`MIN_AGREEMENT`].
    pub min_agreement: Option<f64>,
}

/// Below this a trust-weighted consensus is disputed: one newcomer's answer (trusted 70%) is not,
/// an annotator whose gold answers are mostly wrong is.
pub const MIN_CONFIDENCE: f64 = 0.65;

/// Below this majority share agreement is low: 2 against 1 is, 3 against 1 is not.
pub const MIN_AGREEMENT: f64 = 0.75;

/// One annotator's answers to one task, under the campaign's pseudonym for them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotatorAnswers {
    /// "A1", "A2"…: numbered by first answer in the campaign, so the same person keeps a name.
    pub annotator: String,
    pub answers: BTreeMap<String, AnswerValue>,
}

/// A complete task's consensus on one instrument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstrumentConsensus {
    pub instrument: String,
    pub present: i32,
    pub absent: i32,
    pub unsure: i32,
    /// The majority's answer (`None`: a tie, or nobody decided).
    pub label: Option<bool>,
    /// The majority's share of the decided answers.
    pub confidence: f64,
    /// Trust-weighted probability that the instrument is present.
    pub trust_present: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskReview {
    #[serde(flatten)]
    pub task: TaskSummary,
    pub answers: Vec<AnnotatorAnswers>,
    /// Empty until the task is complete (the consensus is computed then).
    pub consensus: Vec<InstrumentConsensus>,
    /// The lowest majority share over the task's instruments.
    pub agreement: Option<f64>,
    pub disputed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewPage {
    /// Tasks that pass the filter.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    /// The pseudonyms answering on this page, in order.
    pub annotators: Vec<String>,
    pub tasks: Vec<TaskReview>,
}

#[server(endpoint = "campaign_review", input = server_fn::codec::Json)]
pub async fn campaign_review(campaign_id: Uuid, query: ReviewQuery) -> Result<ReviewPage, AppError> {
    crate::auth::ssr::require_admin().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::review::review_page(&ctx.db, campaign_id, &query).await
}
