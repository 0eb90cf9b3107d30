//! A dashboard chart as inline SVG, drawn here so it renders on the server and costs the bundle
//! little: lines over time, grouped bars or stacked bars, with a value axis and its ticks,
//! category labels, a legend when there are several series, each value named on hover
//! (`<title>`), an `aria-label` summary and the numbers as a visually hidden table. Colours are
//! the CSS classes `dash-s0…dash-s5`, which follow the palette (dark mode included).
use leptos::prelude::*;

use crate::dashboard::model::{Chart, ChartKind, number};

const W: f64 = 560.0;
const H: f64 = 250.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
/// Room under the plot for the category labels (slanted when there are many).
const BOTTOM: f64 = 58.0;
/// At most this many category labels are written; the others are named on hover.
const MAX_LABELS: usize = 12;

/// A round step giving about four intervals over `span`.
fn step_for(span: f64) -> f64 {
    let raw = (span / 4.0).max(1e-9);
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * pow).find(|s| *s >= raw).unwrap_or(10.0 * pow)
}

fn short(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{:.1}k", v / 1000.0).replace(".0k", "k")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

#[component]
pub fn ChartView(chart: Chart, csv: String) -> impl IntoView {
    let n = chart.categories.len();
    let ns = chart.series.len();
    let value = |s: usize, i: usize| chart.series[s].values.get(i).copied().flatten();
    let stacked = chart.kind == ChartKind::Stacked;
    let (mut lo, mut hi) = (0f64, 0f64);
    for i in 0..n {
        if stacked {
            hi = hi.max((0..ns).filter_map(|s| value(s, i)).sum());
        } else {
            for v in (0..ns).filter_map(|s| value(s, i)) {
                (lo, hi) = (lo.min(v), hi.max(v));
            }
        }
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let step = step_for(hi - lo);
    let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let plot_h = H - TOP - BOTTOM;
    let y = move |v: f64| TOP + plot_h * (1.0 - (v - lo) / (hi - lo));
    let band = (W - LEFT - RIGHT) / n.max(1) as f64;
    let cx = move |i: usize| LEFT + band * (i as f64 + 0.5);
    let ticks: Vec<f64> = (0..=((hi - lo) / step).round() as usize).map(|k| lo + k as f64 * step).collect();
    let every = n.div_ceil(MAX_LABELS).max(1);
    let slant = n > 6 || chart.categories.iter().any(|c| c.chars().count() as f64 * 6.5 > band);

    let grid = ticks
        .iter()
        .map(|t| {
            let ty = format!("{:.1}", y(*t));
            view! {
                <line class="dash-grid" x1=LEFT x2=W - RIGHT y1=ty.clone() y2=ty.clone() />
                <text class="dash-tick" x=LEFT - 6.0 y=format!("{:.1}", y(*t) + 4.0) text-anchor="end">{short(*t)}</text>
            }
        })
        .collect_view();
    let labels = chart
        .categories
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .enumerate()
        .map(|(k, (i, c))| {
            let class = if k % 2 == 1 { "dash-tick dash-odd" } else { "dash-tick" };
            let (x, ly) = (cx(i), H - BOTTOM + 14.0);
            let text: String = if c.chars().count() > 16 { c.chars().take(15).chain(['…']).collect() } else { c.clone() };
            if slant {
                view! { <text class=class x=format!("{x:.1}") y=ly text-anchor="end" transform=format!("rotate(-35 {x:.1} {ly})")>{text}</text> }
            } else {
                view! { <text class=class x=format!("{x:.1}") y=ly text-anchor="middle" transform="">{text}</text> }
            }
        })
        .collect_view();

    let title_of = |s: usize, i: usize, v: f64| {
        format!("{}, {}: {}", chart.categories[i], chart.series[s].name, number((v * 100.0).round() / 100.0))
    };
    let marks = match chart.kind {
        ChartKind::Line => (0..ns)
            .map(|s| {
                let pts: Vec<String> =
                    (0..n).filter_map(|i| value(s, i).map(|v| format!("{:.1},{:.1}", cx(i), y(v)))).collect();
                let dots = (0..n)
                    .filter_map(|i| value(s, i).map(|v| (i, v)))
                    .map(|(i, v)| view! {
                        <circle class=format!("dash-s{}", s % 6) cx=format!("{:.1}", cx(i)) cy=format!("{:.1}", y(v)) r="3.5">
                            <title>{title_of(s, i, v)}</title>
                        </circle>
                    })
                    .collect_view();
                view! { <polyline class=format!("dash-line dash-s{}", s % 6) points=pts.join(" ") /> {dots} }
            })
            .collect_view()
            .into_any(),
        ChartKind::Bars | ChartKind::Stacked => (0..n)
            .flat_map(|i| {
                let mut base = 0.0;
                let width = if stacked { (band * 0.6).min(72.0) } else { (band * 0.8).min(96.0) / ns.max(1) as f64 };
                (0..ns)
                    .filter_map(|s| value(s, i).map(|v| (s, v)))
                    .map(|(s, v)| {
                        let (x0, a, b) = if stacked {
                            base += v;
                            (cx(i) - width / 2.0, base - v, base)
                        } else {
                            (cx(i) - width * ns as f64 / 2.0 + width * s as f64, 0f64.min(v), 0f64.max(v))
                        };
                        view! {
                            <rect class=format!("dash-s{}", s % 6) x=format!("{x0:.1}") y=format!("{:.1}", y(b))
                                width=format!("{:.1}", (width - 1.0).max(1.0)) height=format!("{:.1}", (y(a) - y(b)).max(0.5))>
                                <title>{title_of(s, i, v)}</title>
                            </rect>
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect_view()
            .into_any(),
    };
    let summary = summary(&chart);
    let legend = (ns > 1).then(|| {
        let items = chart
            .series
            .iter()
            .enumerate()
            .map(|(s, se)| view! { <li><span class=format!("dash-key dash-s{}", s % 6) aria-hidden="true"></span>{se.name.clone()}</li> })
            .collect_view();
        view! { <ul class="dash-legend">{items}</ul> }
    });
    // Wrapped: a table's caption is drawn outside the table box, so the table itself cannot hide it.
    let table = view! {
        <div class="visually-hidden">
        <table>
            <caption>{chart.title.clone()}</caption>
            <thead><tr><th scope="col">{chart.x_label.clone()}</th>{chart.series.iter().map(|s| view! { <th scope="col">{s.name.clone()}</th> }).collect_view()}</tr></thead>
            <tbody>
                {chart.categories.iter().enumerate().map(|(i, c)| view! {
                    <tr><th scope="row">{c.clone()}</th>{(0..ns).map(|s| view! { <td>{value(s, i).map(number).unwrap_or_else(|| "–".into())}</td> }).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    };
    view! {
        <figure class="dash-chart">
            <figcaption>
                <span class="dash-chart-title">{chart.title.clone()}</span>
                <a class="dash-csv" href=csv download="">"Download CSV"<span class="visually-hidden">{format!(" of {}", chart.title)}</span></a>
            </figcaption>
            {if n == 0 {
                view! { <p class="muted dash-empty">"Nothing in this range yet."</p> }.into_any()
            } else {
                view! {
                    <svg class="dash-svg" viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary>
                        {grid}
                        <line class="dash-axis" x1=LEFT x2=W - RIGHT y1=format!("{:.1}", y(lo.max(0.0).min(hi))) y2=format!("{:.1}", y(lo.max(0.0).min(hi))) />
                        {marks}
                        {labels}
                        <text class="dash-unit" x="12" y=TOP transform=format!("rotate(-90 12 {TOP})") text-anchor="end">{chart.y_label.clone()}</text>
                    </svg>
                }.into_any()
            }}
            {legend}
            {table}
        </figure>
    }
}

/// The chart in a sentence for screen readers; the table that follows has every number.
fn summary(c: &Chart) -> String {
    let kind = match c.kind {
        ChartKind::Line => "Line chart",
        ChartKind::Bars => "Bar chart",
        ChartKind::Stacked => "Stacked bar chart",
    };
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    format!(
        "{kind}: {}, in {} per {} from {} to {}; series: {}. The table that follows has every value.",
        c.title,
        c.y_label,
        c.x_label,
        c.categories.first().cloned().unwrap_or_default(),
        c.categories.last().cloned().unwrap_or_default(),
        names.join(", ")
    )
}
