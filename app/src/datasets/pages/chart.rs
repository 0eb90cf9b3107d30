//! A release's labels per instrument as an inline SVG, rendered on the server only: for each instrument a bar per split (train,
//! test), stacked positive / negative / unknown, on a shared axis of clips. Drawn here rather than
//! by a charting script, and to HTML on the server, so it costs the bundle nothing and follows the
//! page's colours (the CSS fills it with the palette's variables, dark mode included). Each piece
//! names its value on hover; screen readers get the same numbers as a table.
use leptos::prelude::*;

use super::{Counts, Prevalence};

/// How one drawing is laid out, in its own units (the SVG scales to its box). A wide one puts each
/// instrument's name beside its bars; a narrow one, for phones, puts it above them, so that the
/// text stays readable when the drawing shrinks to a phone's width.
#[derive(Clone, Copy)]
struct Layout {
    class: &'static str,
    width: f64,
    /// Where the bars start and end (split names sit left of them, each bar's total right of it).
    bar_x0: f64,
    bar_x1: f64,
    /// The height of an instrument's name line above its bars (0: the name is beside them).
    name_h: f64,
}

const WIDE: Layout =
    Layout { class: "ds-chart-svg ds-chart-wide", width: 640.0, bar_x0: 170.0, bar_x1: 596.0, name_h: 0.0 };
const NARROW: Layout =
    Layout { class: "ds-chart-svg ds-chart-narrow", width: 320.0, bar_x0: 40.0, bar_x1: 284.0, name_h: 18.0 };
const BAR_H: f64 = 13.0;
const BAR_GAP: f64 = 3.0;
const GROUP_GAP: f64 = 13.0;
const TOP: f64 = 6.0;
const AXIS_H: f64 = 34.0;

/// A round step giving about four intervals up to `max`.
fn step_for(max: u64) -> u64 {
    let raw = (max.max(1) as f64 / 4.0).max(1.0);
    let pow = 10f64.powf(raw.log10().floor());
    let m = [1.0, 2.0, 5.0, 10.0].into_iter().find(|m| m * pow >= raw).unwrap_or(10.0);
    (m * pow).round().max(1.0) as u64
}

fn total(c: &Counts) -> u64 {
    c.positive + c.negative + c.unknown
}

/// The chart as HTML, for the page to insert as it is.
pub fn chart_html(prevalence: Prevalence) -> String {
    view! { <LabelChart prevalence /> }.to_html()
}

#[component]
pub fn LabelChart(prevalence: Prevalence) -> impl IntoView {
    let p = prevalence;
    let summary = format!(
        "Bar chart: positive, negative and unknown labels of {} instrument{} in the train split ({}) and the test split ({}). The table below holds the same numbers.",
        p.instruments.len(),
        if p.instruments.len() == 1 { "" } else { "s" },
        super::clips(p.train_samples),
        super::clips(p.test_samples),
    );
    let rows = p
        .instruments
        .iter()
        .flat_map(|i| [(i.instrument.clone(), "train", i.train), (i.instrument.clone(), "test", i.test)])
        .map(|(name, split, c)| {
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    <td>{split}</td>
                    <td>{c.positive}</td>
                    <td>{c.negative}</td>
                    <td>{c.unknown}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="ds-chart">
            <ul class="ds-legend" aria-hidden="true">
                <li><span class="ds-swatch ds-pos"></span>"positive"</li>
                <li><span class="ds-swatch ds-neg"></span>"negative"</li>
                <li><span class="ds-swatch ds-unk"></span>"unknown"</li>
            </ul>
            // Both drawings are made; the stylesheet shows the one that fits the screen.
            {drawing(&p, WIDE, summary.clone())}
            {drawing(&p, NARROW, summary)}
            // A table box ignores overflow, so the hidden box is a div around it.
            <div class="visually-hidden">
                <table>
                    <caption>"Labels per instrument and split"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Instrument"</th>
                            <th scope="col">"Split"</th>
                            <th scope="col">"Positive"</th>
                            <th scope="col">"Negative"</th>
                            <th scope="col">"Unknown"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </figure>
    }
}

fn drawing(p: &Prevalence, l: Layout, summary: String) -> impl IntoView + use<> {
    let largest = p.instruments.iter().flat_map(|i| [total(&i.train), total(&i.test)]).max().unwrap_or(0);
    let step = step_for(largest);
    let axis_max = largest.div_ceil(step).max(1) * step;
    let x = move |n: u64| l.bar_x0 + (l.bar_x1 - l.bar_x0) * n as f64 / axis_max as f64;
    let group_h = l.name_h + 2.0 * BAR_H + BAR_GAP + GROUP_GAP;
    let plot_h = p.instruments.len() as f64 * group_h;
    let height = TOP + plot_h + AXIS_H;
    let ticks: Vec<u64> = (0..=axis_max / step).map(|k| k * step).collect();

    let bar = move |instrument: &str, split: &'static str, c: Counts, y: f64| {
        let n = total(&c);
        let mut at = 0u64;
        let pieces = [("positive", "ds-pos", c.positive), ("negative", "ds-neg", c.negative), ("unknown", "ds-unk", c.unknown)]
            .into_iter()
            .filter(|(_, _, v)| *v > 0)
            .map(|(word, class, v)| {
                let (x0, x1) = (x(at), x(at + v));
                at += v;
                let share = 100.0 * v as f64 / n.max(1) as f64;
                view! {
                    <rect class=class x=format!("{x0:.1}") y=format!("{y:.1}") width=format!("{:.1}", (x1 - x0).max(0.5)) height=BAR_H>
                        <title>{format!("{instrument}, {split}: {v} {word} ({share:.0}%)")}</title>
                    </rect>
                }
            })
            .collect_view();
        view! {
            <text class="ds-chart-split" x=l.bar_x0 - 6.0 y=format!("{:.1}", y + BAR_H - 3.0) text-anchor="end">{split}</text>
            {pieces}
            <text class="ds-chart-total" x=format!("{:.1}", x(n) + 4.0) y=format!("{:.1}", y + BAR_H - 3.0)>{n.to_string()}</text>
        }
    };

    let groups = p
        .instruments
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let top = TOP + k as f64 * group_h;
            let y = top + l.name_h;
            // Beside the bars the name sits between them; above them, on its own line.
            let name_y = if l.name_h > 0.0 { top + l.name_h - 5.0 } else { y + BAR_H + BAR_GAP / 2.0 + 4.0 };
            view! {
                <g class="ds-chart-group">
                    <text class="ds-chart-name" x="0" y=format!("{name_y:.1}")>{i.instrument.clone()}</text>
                    {bar(&i.instrument, "train", i.train, y)}
                    {bar(&i.instrument, "test", i.test, y + BAR_H + BAR_GAP)}
                </g>
            }
        })
        .collect_view();

    let axis_y = TOP + plot_h - GROUP_GAP / 2.0;
    let grid = ticks
        .iter()
        .map(|&t| {
            let gx = format!("{:.1}", x(t));
            view! {
                <line class="ds-chart-grid" x1=gx.clone() x2=gx.clone() y1=format!("{TOP:.1}") y2=format!("{axis_y:.1}") />
                <text class="ds-chart-tick" x=gx y=format!("{:.1}", axis_y + 14.0) text-anchor="middle">{t.to_string()}</text>
            }
        })
        .collect_view();

    view! {
        <svg
            class=l.class
            viewBox=format!("0 0 {} {height:.0}", l.width)
            role="img"
            aria-label=summary
            preserveAspectRatio="xMinYMin meet"
        >
            {grid}
            <line class="ds-chart-axis" x1=l.bar_x0 x2=l.bar_x1 y1=format!("{axis_y:.1}") y2=format!("{axis_y:.1}") />
            {groups}
            <text class="ds-chart-tick" x=l.bar_x1 y=format!("{:.1}", axis_y + 28.0) text-anchor="end">"clips"</text>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::step_for;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(step_for(0), 1);
        assert_eq!(step_for(3), 1);
        assert_eq!(step_for(10), 5);
        assert_eq!(step_for(40), 10);
        assert_eq!(step_for(130), 50);
        assert_eq!(step_for(1_000), 500);
    }
}
