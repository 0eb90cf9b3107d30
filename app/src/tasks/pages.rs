//! The admin's campaign page: create a campaign, cut clips into tasks, watch the build.
use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::{
    BuildJobInfo, BuildRequest, CampaignInfo, NewCampaign, Sources, Strategy, create_campaign_fn, get_build_job,
    list_campaigns_admin, list_sources, start_build_fn,
};
use crate::auth::use_me;
use crate::components::{ErrorNotice, Forbidden, SignInRequired};

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let me = use_me();
    view! {
        <Title text="Campaigns · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) if me.is_admin => view! { <Campaigns /> }.into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Campaigns() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let campaigns = Resource::new(move || version.get(), |_| list_campaigns_admin());
    let sources = Resource::new(|| (), |_| list_sources());
    let jobs: Jobs = RwSignal::new(Default::default());
    view! {
        <NewCampaignForm on_created=move || version.update(|v| *v += 1) />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let list = match campaigns.await {
                    Ok(list) => list,
                    Err(e) => return view! { <ErrorNotice error=e /> }.into_any(),
                };
                let sources = sources.await.unwrap_or_default();
                view! {
                    <ul class="campaign-list">
                        {list.into_iter().map(|c| view! {
                            <li><CampaignCard campaign=c sources=sources.clone() jobs=jobs on_change=move || version.update(|v| *v += 1) /></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn NewCampaignForm(on_created: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let instructions = RwSignal::new(String::new());
    let clip_seconds = RwSignal::new("10".to_string());
    let k = RwSignal::new("3".to_string());
    let gold = RwSignal::new("0".to_string());
    let stats_every = RwSignal::new("10".to_string());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let on_created = on_created.clone();
        let campaign = NewCampaign {
            name: name.get_untracked(),
            instructions: instructions.get_untracked(),
            clip_seconds: clip_seconds.get_untracked().trim().parse().ok(),
            annotations_per_task: k.get_untracked().trim().parse().ok(),
            instruments: None,
            gold_rate: gold.get_untracked().trim().parse().ok(),
            stats_every: stats_every.get_untracked().trim().parse().ok(),
        };
        leptos::task::spawn_local(async move {
            match create_campaign_fn(campaign).await {
                Ok(_) => {
                    error.set(None);
                    name.set(String::new());
                    on_created();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card">
            <h1>"Campaigns"</h1>
            <form class="stacked-form" on:submit=submit>
                <label for="campaign-name">"Name"</label>
                <input id="campaign-name" required maxlength="120" bind:value=name />
                <label for="campaign-instructions">"Instructions for annotators"</label>
                <textarea id="campaign-instructions" rows="3" bind:value=instructions></textarea>
                <div class="row">
                    <label>"Clip length (s)" <input id="campaign-clip" type="number" min="1" max="60" step="0.5" bind:value=clip_seconds /></label>
                    <label>"Annotations per clip" <input id="campaign-k" type="number" min="1" max="50" bind:value=k /></label>
                    <label>"Gold rate" <input id="campaign-gold" type="number" min="0" max="0.5" step="0.05" bind:value=gold /></label>
                    <label>"Show progress every" <input id="campaign-stats" type="number" min="1" max="1000" bind:value=stats_every /></label>
                </div>
                <p class="hint">"All 20 instruments of the taxonomy are asked."</p>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Create campaign"</button>
            </form>
        </section>
    }
}

#[component]
fn CampaignCard(
    campaign: CampaignInfo,
    sources: Vec<super::SourceChoice>,
    jobs: Jobs,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let c = campaign;
    let id = c.id;
    let chosen: RwSignal<Vec<Uuid>> = RwSignal::new(Vec::new());
    let strategy = RwSignal::new("even".to_string());
    let per_source = RwSignal::new(String::new());
    let seed = RwSignal::new("1".to_string());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let start = {
        let on_change = on_change.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let ids = chosen.get_untracked();
            let request = BuildRequest {
                sources: Sources::Audio { ids },
                strategy: if strategy.get_untracked() == "random" { Strategy::Random } else { Strategy::Even },
                clips_per_source: per_source.get_untracked().trim().parse().ok(),
                seed: seed.get_untracked().trim().parse().unwrap_or(0),
                silence_threshold_db: None,
            };
            let on_change = on_change.clone();
            leptos::task::spawn_local(async move {
                match start_build_fn(id, request).await {
                    Ok(j) => {
                        error.set(None);
                        let job_id = j.id;
                        jobs.update(|m| {
                            m.insert(id, j);
                        });
                        watch(jobs, id, job_id, on_change);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    view! {
        <section class="card campaign" data-campaign=c.name.clone()>
            <div class="card-head">
                <h2>{c.name.clone()}</h2>
                <span class="badge">{if c.is_open { "Open" } else { "Closed" }}</span>
            </div>
            <p class="muted">{format!(
                "{} s clips · {} answers each · {} of {} clips complete",
                c.clip_seconds, c.annotations_per_task, c.tasks_complete, c.tasks_total
            )}</p>
            <progress max=c.tasks_total.max(1) as f64 value=c.tasks_complete as f64></progress>
            <form class="stacked-form build-form" on:submit=start>
                <fieldset>
                    <legend>"Cut clips from"</legend>
                    {sources.into_iter().map(|s| {
                        let sid = s.id;
                        view! {
                            <label class="checkbox">
                                <input type="checkbox" value=sid.to_string() on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|v| if on { v.push(sid) } else { v.retain(|x| *x != sid) });
                                } />
                                {format!("{} — {} ({:.0} s)", s.name, s.owner, s.duration_seconds)}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="row">
                    <label>"Strategy"
                        <select on:change=move |ev| strategy.set(event_target_value(&ev))>
                            <option value="even" selected>"Evenly spaced"</option>
                            <option value="random">"Seeded random"</option>
                        </select>
                    </label>
                    <label>"Clips per source" <input type="number" min="1" placeholder="as many as fit" bind:value=per_source /></label>
                    <label>"Seed" <input type="number" min="0" bind:value=seed /></label>
                </div>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Build tasks"</button>
            </form>
            {move || jobs.get().get(&id).cloned().map(|j| view! { <JobProgress job=j /> })}
        </section>
    }
}

/// The latest build job of each campaign, kept above the cards so a refreshed list keeps showing it.
type Jobs = RwSignal<std::collections::HashMap<Uuid, BuildJobInfo>>;

/// Poll the job until it ends, then refresh the campaign list.
fn watch(jobs: Jobs, campaign: Uuid, id: Uuid, done: impl Fn() + Clone + Send + Sync + 'static) {
    set_timeout(
        move || {
            leptos::task::spawn_local(async move {
                if let Ok(j) = get_build_job(id).await {
                    let finished = j.status == "done" || j.status == "failed";
                    jobs.update(|m| {
                        m.insert(campaign, j);
                    });
                    if finished {
                        done();
                    } else {
                        watch(jobs, campaign, id, done);
                    }
                }
            });
        },
        Duration::from_millis(400),
    );
}

#[component]
fn JobProgress(job: BuildJobInfo) -> impl IntoView {
    let reasons: Vec<String> = job.skipped_reasons.iter().map(|(r, n)| format!("{n} × {r}")).collect();
    view! {
        <div class="job" role="status" data-status=job.status.clone()>
            <p>
                <strong>{format!("Build {}", job.status)}</strong>
                {format!(
                    " — {} of {} sources · {} clips made, {} already there, {} skipped",
                    job.sources_done, job.sources_total, job.clips_made, job.clips_existing, job.clips_skipped
                )}
            </p>
            <progress max=job.sources_total.max(1) as f64 value=job.sources_done as f64></progress>
            {(!reasons.is_empty()).then(|| view! { <p class="muted">"Skipped: " {reasons.join("; ")}</p> })}
            {job.error.map(|e| view! { <p class="error">{e}</p> })}
        </div>
    }
}
