//! What the annotator's page exchanges with the server: assignments, submissions, receipts,
//! progress, statistics, the campaigns to choose from, and the server functions that carry them.
use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::domain::AnswerValue;
use crate::error::AppError;
use crate::instruments::Instrument;

/// A task handed to an annotator, with the lease that reserves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub task_id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The campaign's instructions rendered from Markdown (raw HTML in them is shown as text).
    pub instructions_html: String,
    pub clip_id: Uuid,
    pub duration_seconds: f64,
    /// Playback gain (dB) that brings the clip to the common loudness target.
    pub gain_db: f64,
    pub instruments: Vec<Instrument>,
    pub lease_expires_at: String,
    pub stats_every: i32,
    pub waveform: Vec<(f32, f32)>,
    /// Share of the clip to hear before answering (0 = no minimum); see [`listen_needed_ms`].
    pub min_listen_share: f64,
    /// Where the annotator and the campaign stand, as of this assignment.
    pub progress: Progress,
}

/// The progress line of the annotator's page: their answers in the campaign, and the campaign's
/// complete and total clips (counted every few seconds, not at every request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub answered: u64,
    pub tasks_complete: u64,
    pub tasks_total: u64,
}

/// Milliseconds of a clip to hear before an answer is taken: the campaign's share of its length
/// (the page and the server count the same way).
pub fn listen_needed_ms(share: f64, duration_seconds: f64) -> u64 {
    if share.is_nan() || share <= 0.0 || !duration_seconds.is_finite() {
        return 0;
    }
    (share.min(1.0) * duration_seconds.max(0.0) * 1000.0).floor() as u64
}

/// An open campaign the annotator may choose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignChoice {
    pub id: Uuid,
    pub name: String,
    pub tasks_complete: u64,
    pub tasks_total: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Chosen by the client once per submission; a retry with the same id is answered the same.
    pub client_id: String,
    pub answers: BTreeMap<String, AnswerValue>,
    pub play_count: u32,
    pub listening_ms: u64,
    pub time_to_submit_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub annotation_id: Uuid,
    pub task_id: Uuid,
    /// This user's submissions in the campaign so far.
    pub submissions: u64,
    /// Time to show the stats panel (every `stats_every` submissions).
    pub show_stats: bool,
    /// The progress line after this answer.
    pub progress: Progress,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstrumentProgress {
    pub slug: String,
    pub name: String,
    /// Complete tasks whose consensus says present.
    pub present: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotatorStats {
    pub done_today: u64,
    pub done_total: u64,
    /// Share of your decided answers on complete tasks that match the majority of the other
    /// annotators' decided answers (answers the others split evenly on are left out).
    pub agreement: Option<f64>,
    /// Your accuracy on gold tasks (raw share), and how many gold answers it rests on.
    pub gold_accuracy: Option<f64>,
    pub gold_answers: u32,
    pub campaign_name: String,
    pub tasks_complete: u64,
    pub tasks_total: u64,
    pub instruments: Vec<InstrumentProgress>,
}

/// The next task for the signed-in annotator (the same one again while its lease lasts), or None
/// when nothing is left to annotate: from `campaign` only when one is chosen (404 for a campaign
/// the annotator cannot see, 409 for one that closed), from any open campaign otherwise.
#[server(endpoint = "next_task")]
pub async fn next_task(campaign: Option<Uuid>) -> Result<Option<Assignment>, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::serve::next_task(&ctx, &user, campaign).await
}

/// The open campaigns, newest first, with their progress: what the annotator's page offers.
#[server(endpoint = "open_campaigns")]
pub async fn open_campaigns() -> Result<Vec<CampaignChoice>, AppError> {
    crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::progress::open_campaigns(&ctx).await
}

#[server(endpoint = "submit_annotation", input = server_fn::codec::Json)]
pub async fn submit_annotation(task_id: Uuid, submission: Submission) -> Result<Receipt, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::submit::submit(&ctx, &user, task_id, submission).await
}

/// Give the task back before the lease runs out (the Skip button).
#[server(endpoint = "skip_task")]
pub async fn skip_task(task_id: Uuid) -> Result<(), AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::serve::release(&ctx, &user, task_id).await
}

#[server(endpoint = "get_annotator_stats")]
pub async fn get_annotator_stats(campaign_id: Uuid, utc_offset_minutes: i32) -> Result<AnnotatorStats, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::stats::stats(&ctx, &user, campaign_id, utc_offset_minutes).await
}
