//! What a release is compiled from, and how: the samples the server gathered and the parameters
//! stored with the release.
use serde::{Deserialize, Serialize};

/// How an instrument's label is decided from the answers about a clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelRule {
    /// The share of "present" among the decided answers ("not sure" abstains).
    Majority,
    /// The trust-weighted probability of presence, each annotator weighted by their gold accuracy.
    TrustWeighted,
}

/// What must never straddle train and test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    /// The source recording: two clips of one recording are always on the same side.
    Source,
    /// The source's uploader.
    Uploader,
    /// The composition the source belongs to (a source outside any composition is its own group).
    Composition,
    /// The source's `artist` tag, as OpenMIC-2018's artist-conditional split (a source without
    /// one is its own group).
    Artist,
}

/// The parameters of a release; stored with it, so a rebuild uses exactly these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The classes, in the order of `Y_true`'s columns.
    pub instruments: Vec<String>,
    /// Which tasks count: `None` = complete tasks only (as many answers as the campaign asked
    /// for), `Some(m)` = tasks with at least `m` answers.
    pub min_annotations: Option<u32>,
    pub rule: LabelRule,
    /// A label is known when the decided side's probability reaches this (0.5 < threshold ≤ 1);
    /// below it the instrument is unknown for that clip and masked.
    pub threshold: f64,
    pub include_gold: bool,
    /// Share of the samples that go to the test split (0 < test_fraction < 1).
    pub test_fraction: f64,
    pub seed: u64,
    pub group_by: GroupKey,
    /// How far (absolute) an instrument's positive rate in train or in test may be from its rate
    /// over all samples.
    pub tolerance: f64,
    /// Only answers given up to this instant count (RFC 3339, UTC); it is also the release's
    /// creation time in its manifest, so a rebuild later gives the same bytes.
    pub as_of: String,
}

/// One annotator's answers about one clip, all instruments together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Pseudonymous annotator id (salted per dataset); never a user id or an e-mail.
    pub annotator: String,
    /// (instrument slug, answer) for each instrument the annotator answered.
    pub answers: Vec<(String, Answer)>,
    /// The annotator's trust (gold accuracy under the campaign's prior), used by
    /// [`LabelRule::TrustWeighted`].
    pub trust: f64,
    /// When the answer was given (RFC 3339, UTC).
    pub time: String,
}

/// An answer as written in the release's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Present,
    Absent,
    Unsure,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Present => "present",
            Answer::Absent => "absent",
            Answer::Unsure => "unsure",
        }
    }
    pub fn consensus(self) -> consensus::Answer {
        match self {
            Answer::Present => consensus::Answer::Present,
            Answer::Absent => consensus::Answer::Absent,
            Answer::Unsure => consensus::Answer::Unsure,
        }
    }
}

/// Where a clip comes from, for the attribution file and the licence list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The source audio's URI (`{base}/api/v1/audio/{id}`).
    pub uri: String,
    pub title: String,
    pub artist: String,
    /// SPDX id of the source's licence.
    pub licence: String,
}

/// A file that is copied into the release as it is stored (a clip's canonical FLAC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Blob {
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// CRC-32 of the bytes (the zip layout needs it before the bytes are read).
    pub crc32: u32,
}

/// One clip of the release with everything the release says about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unique, stable and safe as a file name: the clip's id without hyphens.
    pub key: String,
    /// The clip's URI (`{base}/api/v1/audio/{clip id}`).
    pub uri: String,
    /// Offset of the clip in its source, in seconds.
    pub offset_seconds: f64,
    pub duration_seconds: f64,
    /// The value of the grouping key (already resolved by the server; see [`GroupKey`]).
    pub group: String,
    pub is_gold: bool,
    pub source: Source,
    pub audio: Blob,
    /// Sorted by time, then annotator.
    pub responses: Vec<Response>,
}

/// What the release is a version of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub name: String,
    pub slug: String,
    /// Markdown.
    pub description: String,
    pub citation: String,
    pub version: u32,
    /// Where the server is reached, e.g. `https://tutti.example.org` (no trailing slash).
    pub base_url: String,
    /// Campaigns the release was compiled from.
    pub campaigns: Vec<String>,
}

/// The decided label for one (sample, instrument).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Probability of presence in [0, 1] (0.5 when unknown), as OpenMIC-2018's `Y_true`.
    pub relevance: f32,
    /// Whether the label is known (decided with at least the threshold's confidence), as `Y_mask`.
    pub known: bool,
    /// How many annotators answered about this instrument (present, absent or unsure).
    pub num_responses: u32,
}

impl Label {
    /// Known and more likely present than not.
    pub fn positive(&self) -> bool {
        self.known && self.relevance > 0.5
    }
}

/// Positive, negative and unknown labels of one instrument on one side of the split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    pub positive: u32,
    pub negative: u32,
    pub unknown: u32,
}

impl ClassCounts {
    /// Positive rate among the known labels (`None` when none is known).
    pub fn rate(&self) -> Option<f64> {
        let known = self.positive + self.negative;
        (known > 0).then(|| f64::from(self.positive) / f64::from(known))
    }
}

/// One instrument's positive rates over all samples, in train and in test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstrumentPrevalence {
    pub instrument: String,
    pub all: ClassCounts,
    pub train: ClassCounts,
    pub test: ClassCounts,
}

/// What the split achieved: sizes and every instrument's prevalence per side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prevalence {
    pub train_samples: u32,
    pub test_samples: u32,
    pub tolerance: f64,
    pub instruments: Vec<InstrumentPrevalence>,
}
