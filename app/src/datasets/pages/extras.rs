//! The parts of a release's entry that only change when the page is loaded again — what changed
//! since the release before, its parameters and (for admins) its report — rendered to HTML on the
//! server, like the label chart, so the browser's bundle does not carry them: a release that
//! finishes compiling while the page is open reloads the page's data to show them.
use leptos::prelude::*;

use super::release::Downloads;
use super::{Report, clips, human_bytes, report_of, short_date};
use crate::datasets::pages_api::ReleaseExtras;
use crate::datasets::{DatasetInfo, DatasetPage, ReleaseInfo, ReleaseState};

/// The latest published release's facts and downloads, for the dataset's card.
pub fn latest_html(d: &DatasetInfo) -> String {
    let Some(r) = d.latest.clone() else { return String::new() };
    let report = report_of(&r);
    let (train, test) = report.as_ref().map_or((0, 0), |r| (r.prevalence.train_samples, r.prevalence.test_samples));
    let licences = report.as_ref().map(|r| r.report.licences.join(", ")).filter(|l| !l.is_empty());
    view! {
        <h2>{format!("Latest release: version {}", r.version)}</h2>
        <dl class="ds-facts">
            <dt>"Published"</dt>
            <dd>{r.published_at.as_deref().map(short_date).unwrap_or_default()}</dd>
            <dt>"Clips"</dt>
            <dd>{format!("{} train · {} test", clips(train), clips(test))}</dd>
            <dt>"Licences"</dt>
            <dd>{licences.unwrap_or_else(|| "—".into())}</dd>
        </dl>
        <Downloads slug=d.slug.clone() release=r label=d.name.clone() />
    }
    .to_html()
}

/// The server-rendered parts of each release of `page`, in the same order.
pub fn release_extras(page: &DatasetPage) -> Vec<ReleaseExtras> {
    let list = &page.releases;
    list.iter()
        .enumerate()
        .map(|(k, r)| {
            let previous = list.get(k + 1);
            let changes = previous.map(|p| (p.version, changes(p, r))).filter(|(_, c)| !c.is_empty());
            let changes_html = changes
                .map(|(v, c)| {
                    view! {
                        <div class="ds-changes">
                            <h4>{format!("What changed since version {v}")}</h4>
                            <ul>{c.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                        </div>
                    }
                    .to_html()
                })
                .unwrap_or_default();
            let compiled = matches!(r.state, ReleaseState::Compiled | ReleaseState::Published);
            let report_html = report_of(r)
                .filter(|_| page.can_edit && compiled)
                .map(|rep| view! { <ReportView rep open={r.state == ReleaseState::Compiled} /> }.to_html())
                .unwrap_or_default();
            let params_html = view! { <ParamsView params=r.params.clone() /> }.to_html();
            ReleaseExtras { id: r.id, changes_html, report_html, params_html }
        })
        .collect()
}

/// What a release changed against the one before: its size and the parameters that differ.
fn changes(previous: &ReleaseInfo, this: &ReleaseInfo) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (report_of(previous), report_of(this)) {
        let (pa, pb) = (&a.prevalence, &b.prevalence);
        let delta = |x: u64, y: u64| {
            let d = y as i64 - x as i64;
            if d >= 0 { format!("+{d}") } else { d.to_string() }
        };
        out.push(format!(
            "{} in all ({}: train {}, test {})",
            clips(pb.train_samples + pb.test_samples),
            delta(pa.train_samples + pa.test_samples, pb.train_samples + pb.test_samples),
            delta(pa.train_samples, pb.train_samples),
            delta(pa.test_samples, pb.test_samples),
        ));
    }
    if previous.campaigns != this.campaigns {
        out.push(format!("campaigns: {} (was {})", this.campaigns.len(), previous.campaigns.len()));
    }
    for (key, word) in PARAMS {
        let (a, b) = (previous.params.get(key), this.params.get(key));
        if a != b {
            out.push(format!(
                "{word}: {} → {}",
                a.map_or("—".into(), |v| value_words(key, v)),
                b.map_or("—".into(), |v| value_words(key, v))
            ));
        }
    }
    out
}

/// The parameters a page shows, with their names in words (`as_of`, the cut-off instant, differs
/// between any two releases and says nothing about how they differ).
const PARAMS: [(&str, &str); 9] = [
    ("instruments", "instruments"),
    ("min_annotations", "answers per clip"),
    ("rule", "label rule"),
    ("threshold", "threshold"),
    ("include_gold", "gold clips"),
    ("test_fraction", "test share"),
    ("seed", "seed"),
    ("group_by", "kept together"),
    ("tolerance", "tolerance"),
];

fn value_words(key: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    match (key, v) {
        ("min_annotations", Value::Null) => "complete clips only".into(),
        ("min_annotations", n) => format!("at least {n}"),
        ("include_gold", Value::Bool(b)) => if *b { "included" } else { "left out" }.into(),
        ("rule", Value::String(s)) => s.replace('_', "-"),
        ("group_by", Value::String(s)) => format!("by {s}"),
        (_, Value::Array(list)) => {
            list.iter().map(|x| x.as_str().map_or(x.to_string(), str::to_string)).collect::<Vec<_>>().join(", ")
        }
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

#[component]
fn ParamsView(params: serde_json::Value) -> impl IntoView {
    let rows = PARAMS
        .iter()
        .filter_map(|(key, word)| params.get(key).map(|v| (word.to_string(), value_words(key, v))))
        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
        .collect_view();
    view! {
        <details class="ds-params">
            <summary>"Parameters"</summary>
            <dl class="ds-facts">{rows}</dl>
        </details>
    }
}

/// What compiling produced: what went in, what was left out and why, and each instrument's
/// positive share per split against the tolerance asked for.
#[component]
fn ReportView(rep: Report, open: bool) -> impl IntoView {
    let Report { report, prevalence: p } = rep;
    let x = &report.excluded;
    let excluded = [
        ("too few answers", x.too_few_answers),
        ("gold clips", x.gold),
        ("private source", x.private_source),
        ("licence does not allow redistribution", x.licence_not_redistributable),
    ];
    let pct = |c: super::Counts| {
        c.rate().map_or("—".to_string(), |r| format!("{r:.0}% ({} of {})", c.positive, c.positive + c.negative))
    };
    let tolerance = p.tolerance * 100.0;
    let rows = p
        .instruments
        .iter()
        .map(|i| {
            let all = i.all.rate();
            let off = |c: super::Counts| match (all, c.rate()) {
                (Some(a), Some(b)) => (a - b).abs() > tolerance + 1e-9,
                _ => false,
            };
            let within = if off(i.train) || off(i.test) { "no" } else { "yes" };
            view! {
                <tr>
                    <th scope="row">{i.instrument.clone()}</th>
                    <td>{pct(i.all)}</td>
                    <td>{pct(i.train)}</td>
                    <td>{pct(i.test)}</td>
                    <td>{format!("{} / {}", i.train.unknown, i.test.unknown)}</td>
                    <td>{within}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="ds-report" open=open>
            <summary>"Report"</summary>
            <p>{format!(
                "Included {} (train {}, test {}) from {} tasks considered; {} answers by {} annotators; {} of audio.",
                clips(report.samples), p.train_samples, p.test_samples, report.tasks_considered,
                report.annotations, report.annotators, human_bytes(report.audio_bytes as i64),
            )}</p>
            <p>"Licences: " {if report.licences.is_empty() { "—".to_string() } else { report.licences.join(", ") }}</p>
            <h4>"Left out"</h4>
            <ul class="ds-excluded">
                {excluded.into_iter().map(|(why, n)| view! { <li>{format!("{why}: {n}")}</li> }).collect_view()}
            </ul>
            <div class="ds-table-wrap">
                <table class="ds-table">
                    <caption>{format!("Positive share per instrument and split (tolerance ±{tolerance:.0} points)")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Instrument"</th>
                            <th scope="col">"All"</th>
                            <th scope="col">"Train"</th>
                            <th scope="col">"Test"</th>
                            <th scope="col">"Unknown (train / test)"</th>
                            <th scope="col">"Within tolerance"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
}
