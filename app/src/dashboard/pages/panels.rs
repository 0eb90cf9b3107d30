//! The annotation and quality panels: key figures, their charts, the time to completion per
//! campaign and the annotators far below the others (under the campaign's pseudonyms).
use leptos::prelude::*;

use super::chart::ChartView;
use super::csv_href;
use crate::dashboard::{AnnotationStats, QualityStats};

pub fn seconds(ms: Option<f64>) -> String {
    ms.map(|v| format!("{:.1} s", v / 1000.0)).unwrap_or_else(|| "–".into())
}

pub fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

/// One key figure: a big value over its name.
#[component]
pub fn Figure(label: &'static str, value: String, #[prop(optional)] note: Option<String>) -> impl IntoView {
    view! {
        <div class="dash-figure">
            <dt>{label}</dt>
            <dd>{value}{note.map(|n| view! { <small class="muted">{n}</small> })}</dd>
        </div>
    }
}

#[component]
pub fn AnnotationPanel(stats: AnnotationStats) -> impl IntoView {
    let a = stats;
    let r = a.range.clone();
    view! {
        <section class="card dash-panel" aria-labelledby="dash-annotation">
            <h2 id="dash-annotation">"Annotation"</h2>
            <dl class="dash-figures">
                <Figure label="Answers" value=a.answers.to_string() note=format!("{} to {}", r.from, r.to) />
                <Figure label="Skip rate" value=percent(a.skip_rate) note=format!("{} skips", a.skips) />
                <Figure label="Median listening time" value=seconds(a.median_listening_ms) />
                <Figure label="Median time to submit" value=seconds(a.median_submit_ms) />
            </dl>
            <div class="dash-grid2">
                <ChartView csv=csv_href(&a.per_day.id, &r) chart=a.per_day />
                <ChartView csv=csv_href(&a.annotators.id, &r) chart=a.annotators />
            </div>
            <ChartView csv=csv_href(&a.tasks.id, &r) chart=a.tasks />
            <div class="dash-table-wrap" tabindex="0" role="region" aria-label="Time to completion">
            <table class="table dash-table">
                <caption>"Time to completion at the last 7 days' rate (normal tasks; task states are as of now)"</caption>
                <thead><tr>
                    <th scope="col">"Campaign"</th><th scope="col">"Answers still needed"</th>
                    <th scope="col">"Answers per day"</th><th scope="col">"Done in"</th><th scope="col">"Gold tasks"</th>
                </tr></thead>
                <tbody>
                    {a.eta.into_iter().map(|e| view! {
                        <tr>
                            <th scope="row">{e.campaign}</th>
                            <td>{e.remaining_answers}</td>
                            <td>{format!("{:.1}", e.answers_per_day)}</td>
                            <td>{match (e.remaining_answers, e.days) {
                                (0, _) => "complete".to_string(),
                                (_, Some(d)) => format!("about {:.1} days", d),
                                (_, None) => "no recent answers".to_string(),
                            }}</td>
                            <td>{e.gold_tasks}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
    }
}

#[component]
pub fn QualityPanel(stats: QualityStats) -> impl IntoView {
    let q = stats;
    let r = q.range.clone();
    let outliers = if q.outliers.is_empty() {
        view! { <p class="muted">"No annotator is far below the others."</p> }.into_any()
    } else {
        view! {
            <div class="dash-table-wrap" tabindex="0" role="region" aria-label="Annotators far below the others">
            <table class="table dash-table">
                <caption>"Far below the others (under median − 2 × MAD and 0.05 under the median)"</caption>
                <thead><tr>
                    <th scope="col">"Campaign"</th><th scope="col">"Annotator"</th><th scope="col">"Measure"</th>
                    <th scope="col">"Value"</th><th scope="col">"Median"</th><th scope="col">"Threshold"</th>
                </tr></thead>
                <tbody>
                    {q.outliers.into_iter().map(|o| view! {
                        <tr>
                            <td>{o.campaign}</td><th scope="row">{o.pseudonym}</th><td>{o.measure}</td>
                            <td>{percent(Some(o.value))}</td><td>{percent(Some(o.median))}</td><td>{percent(Some(o.threshold))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        }.into_any()
    };
    view! {
        <section class="card dash-panel" aria-labelledby="dash-quality">
            <h2 id="dash-quality">"Quality"</h2>
            <div class="dash-grid2">
                <ChartView csv=csv_href(&q.alpha.id, &r) chart=q.alpha />
                <ChartView csv=csv_href(&q.gold_accuracy.id, &r) chart=q.gold_accuracy />
            </div>
            <h3>"Annotators to look at"</h3>
            <p class="muted">"Pseudonyms are the campaign's, as on its review."</p>
            {outliers}
        </section>
    }
}
