//! The dataset pages: the catalogue (`/datasets`) and one dataset with its releases
//! (`/datasets/:slug`). Both read the JSON a release carries (its report and parameters) through
//! the small typed views below, so a field the compiler adds later never breaks a page.
pub(super) mod catalogue;
#[cfg(feature = "ssr")]
pub(super) mod chart;
mod compile_form;
mod dataset;
#[cfg(feature = "ssr")]
pub(super) mod extras;
mod fields_form;
mod release;

pub use catalogue::DatasetsPage;
pub use dataset::DatasetPageView;

#[cfg(any(feature = "ssr", test))]
use serde::Deserialize;

use super::ReleaseState;
#[cfg(any(feature = "ssr", test))]
use super::{CompileReport, ReleaseInfo};

/// Positive, negative and unknown labels of one instrument in one split.
#[cfg(any(feature = "ssr", test))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct Counts {
    pub positive: u64,
    pub negative: u64,
    pub unknown: u64,
}

#[cfg(any(feature = "ssr", test))]
impl Counts {
    /// The positive share of the known labels, as a percentage.
    fn rate(&self) -> Option<f64> {
        let known = self.positive + self.negative;
        (known > 0).then(|| 100.0 * self.positive as f64 / known as f64)
    }
}

#[cfg(any(feature = "ssr", test))]
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct InstrumentCounts {
    pub instrument: String,
    pub all: Counts,
    pub train: Counts,
    pub test: Counts,
}

#[cfg(any(feature = "ssr", test))]
/// What the split achieved (the report's `prevalence`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct Prevalence {
    pub train_samples: u64,
    pub test_samples: u64,
    pub tolerance: f64,
    pub instruments: Vec<InstrumentCounts>,
}

#[cfg(any(feature = "ssr", test))]
/// A compiled release's report, with its prevalence read.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Report {
    pub report: CompileReport,
    pub prevalence: Prevalence,
}

#[cfg(any(feature = "ssr", test))]
pub(crate) fn report_of(r: &ReleaseInfo) -> Option<Report> {
    let report: CompileReport = serde_json::from_value(r.report.clone()?).ok()?;
    let prevalence = serde_json::from_value(report.prevalence.clone()).unwrap_or_default();
    Some(Report { report, prevalence })
}

/// "12.3 MB": decimal units, as download sizes are usually given.
pub(crate) fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// An RFC 3339 instant as "2026-12-08 14:05 UTC" (the server writes UTC).
pub(crate) fn short_date(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

pub(crate) fn state_label(s: ReleaseState) -> &'static str {
    match s {
        ReleaseState::Compiling => "Compiling",
        ReleaseState::Compiled => "Compiled",
        ReleaseState::Failed => "Failed",
        ReleaseState::Published => "Published",
    }
}

pub(crate) fn state_key(s: ReleaseState) -> &'static str {
    match s {
        ReleaseState::Compiling => "compiling",
        ReleaseState::Compiled => "compiled",
        ReleaseState::Failed => "failed",
        ReleaseState::Published => "published",
    }
}

/// Where a release's files are served (see the REST API).
pub(crate) fn file_href(slug: &str, version: i32, file: &str) -> String {
    format!("/api/v1/datasets/{slug}/releases/{version}/{file}")
}

#[cfg(any(feature = "ssr", test))]
/// "1 clip" / "3 clips".
pub(crate) fn clips(n: u64) -> String {
    if n == 1 { "1 clip".into() } else { format!("{n} clips") }
}

/// Ask the browser to confirm; on the server (never reached: only click handlers ask) no.
pub(crate) fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(12_345_678), "12 MB");
        assert_eq!(human_bytes(2_000_000_000), "2.0 GB");
    }

    #[test]
    fn dates_are_short_and_say_their_zone() {
        assert_eq!(short_date("2026-12-08T14:05:09.123+00:00"), "2026-12-08 14:05 UTC");
        assert_eq!(short_date("soon"), "soon");
    }

    #[test]
    fn a_report_with_unknown_fields_still_reads() {
        let r: Prevalence = serde_json::from_value(serde_json::json!({"train_samples": 3, "extra": 1,
            "instruments": [{"instrument": "piano", "train": {"positive": 2, "negative": 1, "unknown": 0}}]}))
        .unwrap();
        assert_eq!(r.train_samples, 3);
        assert_eq!(r.instruments[0].train.rate(), Some(200.0 / 3.0));
    }
}
