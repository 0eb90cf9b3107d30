//! A dataset and a release as pages and the REST API show them, and what compiling asks for.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::domain::{DatasetVisibility, ReleaseState};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Markdown.
    pub description: String,
    pub citation: String,
    pub visibility: DatasetVisibility,
    pub created_at: String,
    pub updated_at: String,
    /// The newest published release (for the catalogue).
    pub latest: Option<ReleaseInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    pub id: Uuid,
    pub version: i32,
    pub state: ReleaseState,
    pub notes: String,
    pub params: serde_json::Value,
    pub campaigns: Vec<Uuid>,
    pub job_id: Option<Uuid>,
    /// What the compiler is doing, with `done` of `total`.
    pub phase: String,
    pub done: i64,
    pub total: i64,
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
    /// Sizes of the two archives, once compiled.
    pub tar_bytes: Option<i64>,
    pub zip_bytes: Option<i64>,
    pub created_at: String,
    pub published_at: Option<String>,
}

/// A new dataset, or the fields of one to change (each optional when changing).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetFields {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub citation: Option<String>,
    pub visibility: Option<DatasetVisibility>,
}

/// How a label is decided from the answers about a clip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelRule {
    /// The share of "present" among decided answers.
    #[default]
    Majority,
    /// The probability of presence with each annotator weighted by their gold accuracy.
    TrustWeighted,
}

/// What never straddles train and test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    #[default]
    Source,
    Uploader,
    Composition,
    Artist,
}

/// What an admin asks a release to be compiled from. Every field but `campaigns` has a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileRequest {
    pub campaigns: Vec<Uuid>,
    /// The classes; all the campaigns' instruments when absent.
    #[serde(default)]
    pub instruments: Option<Vec<String>>,
    /// Tasks with at least this many answers count; only complete tasks when absent.
    #[serde(default)]
    pub min_annotations: Option<u32>,
    #[serde(default)]
    pub rule: LabelRule,
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default)]
    pub include_gold: bool,
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub group_by: GroupKey,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// What changed since the previous release.
    #[serde(default)]
    pub notes: String,
}

pub fn default_threshold() -> f64 {
    0.6
}
pub fn default_test_fraction() -> f64 {
    0.25
}
pub fn default_tolerance() -> f64 {
    0.1
}

/// Why sources or tasks were left out of a release, with how many.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exclusions {
    pub too_few_answers: u64,
    pub gold: u64,
    pub private_source: u64,
    pub licence_not_redistributable: u64,
}

/// What a compile produced, shown on the release's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompileReport {
    pub tasks_considered: u64,
    pub samples: u64,
    pub annotations: u64,
    pub annotators: u64,
    /// Excluded tasks, by reason.
    pub excluded: Exclusions,
    /// SPDX ids of the licences in the release.
    pub licences: Vec<String>,
    pub audio_bytes: u64,
    /// Train and test sizes and each instrument's positive / negative / unknown counts per split.
    pub prevalence: serde_json::Value,
}
