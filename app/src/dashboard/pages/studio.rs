//! The coverage panel (progress towards each campaign's goal of confidently positive clips per
//! instrument, and the goal's editor) and the studio and uploads panel.
use leptos::prelude::*;
use uuid::Uuid;

use super::chart::ChartView;
use super::csv_href;
use super::panels::Figure;
use crate::dashboard::{CampaignCoverage, CoverageStats, StudioStats, dashboard_set_goal};

fn bytes(n: i64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.2} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.0} kB", n / 1e3),
        n => format!("{n} bytes"),
    }
}

#[component]
pub fn CoveragePanel(stats: CoverageStats, tick: RwSignal<u32>) -> impl IntoView {
    let r = stats.range.clone();
    let chart = stats.chart.clone();
    view! {
        <section class="card dash-panel" aria-labelledby="dash-coverage">
            <div class="dash-panel-head">
                <h2 id="dash-coverage">"Coverage"</h2>
                <a class="dash-csv" href=csv_href(&chart.id, &r) download="">"Download CSV"<span class="visually-hidden">" of the coverage"</span></a>
            </div>
            <p class="muted">"Clips of complete tasks so far: confidently positive (trust-weighted probability ≥ 0.8), negative (≤ 0.2), or neither."</p>
            {stats.campaigns.into_iter().map(|c| view! { <CampaignGoal c tick /> }).collect_view()}
        </section>
    }
}

#[component]
fn CampaignGoal(c: CampaignCoverage, tick: RwSignal<u32>) -> impl IntoView {
    let id: Uuid = c.campaign_id;
    let input = RwSignal::new(c.goal.map(|g| g.to_string()).unwrap_or_default());
    let message = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = input.get_untracked();
        let goal = match text.trim() {
            "" => None,
            t => match t.parse::<i64>() {
                Ok(g) => Some(g),
                Err(_) => return message.set(Some("The goal is a whole number of clips.".into())),
            },
        };
        leptos::task::spawn_local(async move {
            match dashboard_set_goal(id, goal).await {
                Ok(_) => {
                    message.set(Some("Saved.".into()));
                    tick.update(|t| *t += 1);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let scale = c.goal.unwrap_or_else(|| c.instruments.iter().map(|i| i.positive).max().unwrap_or(0)).max(1);
    let field = format!("dash-goal-{id}");
    view! {
        <div class="dash-coverage">
            <div class="dash-coverage-head">
                <h3>{c.campaign.clone()}</h3>
                <form class="dash-goal" on:submit=save>
                    <label for=field.clone()>"Goal (positive clips per instrument)"</label>
                    <input id=field type="number" min="1" step="1" inputmode="numeric" placeholder="none"
                        prop:value=move || input.get() on:input=move |ev| input.set(event_target_value(&ev)) />
                    <button type="submit" class="small">"Save goal"</button>
                    <span class="muted" role="status">{move || message.get()}</span>
                </form>
            </div>
            <ul class="dash-bars">
                {c.instruments.into_iter().map(|i| {
                    let label = match c.goal {
                        Some(g) => format!("{} of {g}", i.positive),
                        None => format!("{} (no goal set)", i.positive),
                    };
                    view! {
                        <li>
                            <span class="dash-bar-name">{i.instrument.clone()}</span>
                            <progress max=scale value=i.positive.min(scale) aria-label=format!("{}: {label} confidently positive", i.instrument)></progress>
                            <span class="dash-bar-text">{label}<small class="muted">{format!(" · {} negative · {} unsure", i.negative, i.unknown)}</small></span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
pub fn StudioPanel(stats: StudioStats) -> impl IntoView {
    let s = stats;
    let r = s.range.clone();
    view! {
        <section class="card dash-panel" aria-labelledby="dash-studio">
            <h2 id="dash-studio">"Studio and uploads"</h2>
            <dl class="dash-figures">
                <Figure label="Active musicians" value=s.active_musicians.to_string() note="track authors in range".to_string() />
                <Figure label="Storage used" value=bytes(s.storage_bytes) note="original files; canonical copies not counted".to_string() />
            </dl>
            <div class="dash-grid2">
                <ChartView csv=csv_href(&s.weekly.id, &r) chart=s.weekly />
                <ChartView csv=csv_href(&s.uploads.id, &r) chart=s.uploads />
            </div>
            <ChartView csv=csv_href(&s.instruments.id, &r) chart=s.instruments />
        </section>
    }
}
