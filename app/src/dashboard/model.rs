//! What the dashboard exchanges: the filters, one generic chart shape (categories × series, which
//! the page draws and the CSV download writes) and each figure group's answer.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The dashboard's filters as they arrive (query string, server-function argument): `from` and
/// `to` are ISO dates (UTC days, both included); missing means the last 30 days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Uuid>,
}

impl Filters {
    /// The query string (without `?`) that carries these filters.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.from {
            parts.push(format!("from={}", crate::text::urlencode(f)));
        }
        if let Some(t) = &self.to {
            parts.push(format!("to={}", crate::text::urlencode(t)));
        }
        if let Some(c) = self.campaign {
            parts.push(format!("campaign={c}"));
        }
        parts.join("&")
    }
}

/// The longest range the dashboard answers for, in days (both ends included).
pub const MAX_DAYS: i64 = 366;
/// The default range, in days ending today.
pub const DEFAULT_DAYS: i64 = 30;

/// How a chart is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// One line per series over the categories (time).
    Line,
    /// Bars side by side per category, one per series.
    Bars,
    /// One bar per category, the series stacked.
    Stacked,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    /// One value per category; `None` where there is none (no agreement computed, say).
    pub values: Vec<Option<f64>>,
}

/// One chart's data: its id (also its CSV address), the categories along the x axis and the
/// series over them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub kind: ChartKind,
    /// The x axis' name (the CSV's first column).
    pub x_label: String,
    /// The unit of the values (axis title).
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

impl Chart {
    /// The chart as CSV: a header (`x_label`, then each series) and one row per category.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = std::iter::once(self.x_label.as_str())
            .chain(self.series.iter().map(|s| s.name.as_str()))
            .map(cell)
            .collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for (i, c) in self.categories.iter().enumerate() {
            let mut row = vec![cell(c)];
            for s in &self.series {
                row.push(s.values.get(i).copied().flatten().map(number).unwrap_or_default());
            }
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }
}

/// A value as the CSV writes it: integers without a fraction, others to 4 places.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.4}") }
}

/// A CSV cell, quoted when it must be; a leading formula character is defused.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRef {
    pub id: Uuid,
    pub name: String,
}

/// The range a figure was computed for (resolved defaults).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub from: String,
    pub to: String,
    pub campaign: Option<Uuid>,
}

/// A campaign's remaining work and when it ends at the current rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eta {
    pub campaign_id: Uuid,
    pub campaign: String,
    /// Answers still needed by normal tasks (required − given, over incomplete tasks).
    pub remaining_answers: i64,
    /// Normal answers per day over the last 7 days (to now).
    pub answers_per_day: f64,
    /// `remaining_answers ÷ answers_per_day`; `None` when the rate is 0 ("no recent answers").
    pub days: Option<f64>,
    /// Gold tasks of the campaign (counted apart from the task states).
    pub gold_tasks: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotationStats {
    pub range: Range,
    /// Every campaign (for the filter).
    pub campaigns: Vec<CampaignRef>,
    /// Answers per UTC day, one series per campaign.
    pub per_day: Chart,
    /// Distinct annotators per UTC day.
    pub annotators: Chart,
    /// Per campaign: normal tasks complete / in progress / untouched.
    pub tasks: Chart,
    pub eta: Vec<Eta>,
    pub answers: i64,
    pub skips: i64,
    /// `skips ÷ (skips + answers)`; `None` without either.
    pub skip_rate: Option<f64>,
    pub median_listening_ms: Option<f64>,
    pub median_submit_ms: Option<f64>,
}

/// An annotator far below the others of a campaign, under the campaign's pseudonym.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outlier {
    pub campaign_id: Uuid,
    pub campaign: String,
    pub pseudonym: String,
    /// Which measure is low: "gold accuracy" or "agreement with consensus".
    pub measure: String,
    pub value: f64,
    /// Below this the measure is flagged (median − 2 × MAD, and at least 0.05 under the median).
    pub threshold: f64,
    pub median: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityStats {
    pub range: Range,
    /// Krippendorff's alpha per instrument, one series per campaign.
    pub alpha: Chart,
    /// Annotators (≥ 5 gold answers in range) per tenth of gold accuracy.
    pub gold_accuracy: Chart,
    pub outliers: Vec<Outlier>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstrumentCoverage {
    pub instrument: String,
    pub positive: i64,
    pub negative: i64,
    pub unknown: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignCoverage {
    pub campaign_id: Uuid,
    pub campaign: String,
    pub goal: Option<i64>,
    pub instruments: Vec<InstrumentCoverage>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoverageStats {
    pub range: Range,
    pub campaigns: Vec<CampaignCoverage>,
    /// The same numbers as one chart (category "campaign: instrument") for the CSV.
    pub chart: Chart,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudioStats {
    pub range: Range,
    /// Per ISO week: compositions created, tracks added, recorded minutes.
    pub weekly: Chart,
    /// Tracks added in range per instrument.
    pub instruments: Chart,
    /// Distinct authors of tracks added in range.
    pub active_musicians: i64,
    /// Per ISO week: uploaded files and hours.
    pub uploads: Chart,
    /// Sum of the original files' sizes of all audio (canonical copies, peaks and spectrograms not counted).
    pub storage_bytes: i64,
}

/// A coverage goal as set (`PUT /api/v1/stats/campaigns/{id}/goal`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    pub goal: Option<i64>,
}

/// The largest goal accepted.
pub const MAX_GOAL: i64 = 1_000_000;

/// What the page needs before any figure: the campaigns to filter by and the default range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardSetup {
    pub campaigns: Vec<CampaignRef>,
    pub default_from: String,
    pub default_to: String,
}

/// Every figure group at once, as the page fetches them (one request per refresh).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub annotation: AnnotationStats,
    pub quality: QualityStats,
    pub coverage: CoverageStats,
    pub studio: StudioStats,
}
