//! The admin's campaign page: create a campaign, cut clips into tasks, watch the build.
use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::review_page::ReviewTable;
use super::settings::{SettingsForm, confirm_close};
use super::source_picker::SourcePicker;
use super::{
    BuildJobInfo, BuildRequest, CampaignChanges, CampaignInfo, NewCampaign, Sources, Strategy, campaign_agreement,
    create_campaign_fn, get_build_job, latest_build_jobs, list_campaigns_admin, list_sources, start_build_fn,
    update_campaign_fn,
};
use crate::auth::use_me;
use crate::components::{ErrorNotice, Forbidden, SignInRequired};
use crate::error::AppError;
use crate::instruments::{Instrument, by_family, list_instruments};

/// The page's resources. They are made in the page component, once, outside the Suspense: a
/// Suspend closure may run more than once on the server, and resources made inside it would not
/// match the browser's.
#[derive(Clone, Copy)]
struct Data {
    version: RwSignal<u32>,
    campaigns: Resource<Result<Vec<CampaignInfo>, AppError>>,
    sources: Resource<Result<Vec<super::SourceChoice>, AppError>>,
    latest: Resource<Result<Vec<BuildJobInfo>, AppError>>,
    taxonomy: Resource<Result<Vec<Instrument>, AppError>>,
}

impl Data {
    fn new() -> Self {
        let version = RwSignal::new(0u32);
        Data {
            version,
            campaigns: Resource::new(move || version.get(), |_| list_campaigns_admin()),
            sources: Resource::new(|| (), |_| list_sources()),
            latest: Resource::new(|| (), |_| latest_build_jobs()),
            taxonomy: Resource::new(|| (), |_| list_instruments()),
        }
    }
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let me = use_me();
    let data = Data::new();
    view! {
        <Title text="Campaigns · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) if me.is_admin => view! { <Campaigns data /> }.into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Campaigns(data: Data) -> impl IntoView {
    let Data { version, campaigns, sources, latest, taxonomy } = data;
    let jobs: Jobs = RwSignal::new(Default::default());
    // Builds started before this page was (re)loaded: show them, and follow those still running.
    Effect::new(move |_| {
        let Some(Ok(list)) = latest.get() else { return };
        for j in list {
            if jobs.get_untracked().contains_key(&j.campaign_id) {
                continue;
            }
            let (campaign, id) = (j.campaign_id, j.id);
            let running = j.status != "done" && j.status != "failed";
            jobs.update(|m| {
                m.insert(campaign, j);
            });
            if running {
                watch(jobs, campaign, id, move || version.update(|v| *v += 1));
            }
        }
    });
    view! {
        <NewCampaignForm taxonomy on_created=move || version.update(|v| *v += 1) />
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
fn NewCampaignForm(
    taxonomy: Resource<Result<Vec<Instrument>, AppError>>,
    on_created: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let instructions = RwSignal::new(String::new());
    let clip_seconds = RwSignal::new("10".to_string());
    let k = RwSignal::new("3".to_string());
    let gold = RwSignal::new("0".to_string());
    let stats_every = RwSignal::new("10".to_string());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    // Instruments left out of the campaign (all are asked by default).
    let left_out: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let on_created = on_created.clone();
        let campaign = NewCampaign {
            name: name.get_untracked(),
            instructions: instructions.get_untracked(),
            clip_seconds: clip_seconds.get_untracked().trim().parse().ok(),
            annotations_per_task: k.get_untracked().trim().parse().ok(),
            instruments: taxonomy.get_untracked().and_then(|r| r.ok()).map(|all| {
                let out = left_out.get_untracked();
                all.into_iter().map(|i| i.slug).filter(|s| !out.contains(s)).collect()
            }),
            gold_rate: gold.get_untracked().trim().parse().ok(),
            stats_every: stats_every.get_untracked().trim().parse().ok(),
        };
        leptos::task::spawn_local(async move {
            match create_campaign_fn(campaign).await {
                Ok(_) => {
                    error.set(None);
                    name.set(String::new());
                    instructions.set(String::new());
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
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = taxonomy.await.unwrap_or_default();
                        let total = list.len();
                        view! {
                            <fieldset class="instrument-choice">
                                <legend>{move || format!("Instruments asked ({} of {total})", total.saturating_sub(left_out.get().len()))}</legend>
                                {by_family(list).into_iter().map(|(family, members)| view! {
                                    <div class="family-choice">
                                        <span class="muted">{family}</span>
                                        {members.into_iter().map(|i| {
                                            let slug = i.slug.clone();
                                            let checked_slug = i.slug.clone();
                                            view! {
                                                <label class="checkbox">
                                                    <input type="checkbox" value=i.slug.clone()
                                                        prop:checked=move || !left_out.get().contains(&checked_slug)
                                                        on:change=move |ev| {
                                                            let on = event_target_checked(&ev);
                                                            let slug = slug.clone();
                                                            left_out.update(|v| if on { v.retain(|s| *s != slug) } else if !v.contains(&slug) { v.push(slug) });
                                                        } />
                                                    {i.name.clone()}
                                                </label>
                                            }
                                        }).collect_view()}
                                    </div>
                                }).collect_view()}
                            </fieldset>
                        }
                    })}
                </Transition>
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
    // Where the clips come from: the ticked audio, all of one user's, or all public audio.
    let source_kind = RwSignal::new("audio".to_string());
    let source_user: RwSignal<Option<Uuid>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let mut owners: Vec<(Uuid, String)> = Vec::new();
    for s in &sources {
        if !owners.iter().any(|(id, _)| *id == s.owner_id) {
            owners.push((s.owner_id, s.owner.clone()));
        }
    }
    let agreement: RwSignal<Option<Result<Alphas, String>>> = RwSignal::new(None);
    let show_tasks = RwSignal::new(false);
    let show_settings = RwSignal::new(false);
    let instruments = c.instruments.clone();
    let name = c.name.clone();
    let show_agreement = move |_| {
        leptos::task::spawn_local(async move {
            agreement.set(Some(campaign_agreement(id).await.map_err(|e| e.to_string())));
        });
    };
    let set_open = {
        let on_change = on_change.clone();
        move |open: bool| {
            // Closing stops annotators' work: it is asked first, and declining changes nothing.
            if !open && !confirm_close(&name) {
                return;
            }
            let on_change = on_change.clone();
            leptos::task::spawn_local(async move {
                let changes = CampaignChanges { is_open: Some(open), ..Default::default() };
                match update_campaign_fn(id, changes).await {
                    Ok(_) => on_change(),
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let start = {
        let on_change = on_change.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let sources = match source_kind.get_untracked().as_str() {
                "public" => Sources::Public {},
                "user" => match source_user.get_untracked() {
                    Some(user_id) => Sources::User { user_id },
                    None => {
                        error.set(Some("Choose whose audio to cut clips from.".into()));
                        return;
                    }
                },
                _ => Sources::Audio { ids: chosen.get_untracked() },
            };
            let request = BuildRequest {
                sources,
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
                "{} s clips · {} · {} of {} clips complete · {} instrument{} · gold rate {} · progress shown every {} submission{}",
                c.clip_seconds,
                plural(c.annotations_per_task as u64, "answer", "answers each"),
                c.tasks_complete,
                c.tasks_total,
                c.instruments.len(),
                if c.instruments.len() == 1 { "" } else { "s" },
                c.gold_rate,
                c.stats_every,
                if c.stats_every == 1 { "" } else { "s" },
            )}</p>
            <div class="row">
                {if c.is_open {
                    let set_open = set_open.clone();
                    view! { <button type="button" on:click=move |_| set_open(false)>"Close campaign"</button> }.into_any()
                } else {
                    let set_open = set_open.clone();
                    view! { <button type="button" on:click=move |_| set_open(true)>"Reopen campaign"</button> }.into_any()
                }}
                <button type="button" on:click=show_agreement>"Agreement per instrument"</button>
                <button type="button" aria-expanded=move || show_tasks.get().to_string() on:click=move |_| show_tasks.update(|v| *v = !*v)>
                    "Tasks and gold answers"
                </button>
                <button type="button" aria-expanded=move || show_settings.get().to_string() on:click=move |_| show_settings.update(|v| *v = !*v)>
                    "Settings"
                </button>
            </div>
            {
                let (settings, on_saved) = (c.clone(), on_change.clone());
                move || show_settings.get().then(|| view! { <SettingsForm campaign=settings.clone() on_saved=on_saved.clone() /> })
            }
            {move || show_tasks.get().then(|| view! { <ReviewTable campaign=id instruments=instruments.clone() /> })}
            {move || agreement.get().map(|r| match r {
                Ok(rows) => view! {
                    <p class="muted">"Krippendorff's alpha over the answers so far (— : not enough answers yet)"</p>
                    <table class="agreement" aria-label="Agreement per instrument">
                        <thead><tr><th scope="col">"Instrument"</th><th scope="col">"α"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(slug, alpha)| view! {
                                <tr><td>{slug}</td><td>{alpha.map(|a| format!("{a:.2}")).unwrap_or_else(|| "—".into())}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
            })}
            <progress max=c.tasks_total.max(1) as f64 value=c.tasks_complete as f64></progress>
            <form class="stacked-form build-form" on:submit=start>
                <fieldset>
                    <legend>"Cut clips from"</legend>
                    <div class="row">
                        <label class="checkbox"><input type="radio" name=format!("sources-{id}") value="audio" checked
                            on:change=move |_| source_kind.set("audio".into()) />"the audio ticked below"</label>
                        <label class="checkbox"><input type="radio" name=format!("sources-{id}") value="user"
                            on:change=move |_| source_kind.set("user".into()) />"all audio of"</label>
                        <select aria-label="Whose audio" on:change=move |ev| source_user.set(event_target_value(&ev).parse().ok())>
                            <option value="">"— choose —"</option>
                            {owners.into_iter().map(|(uid, name)| view! { <option value=uid.to_string()>{name}</option> }).collect_view()}
                        </select>
                        <label class="checkbox"><input type="radio" name=format!("sources-{id}") value="public"
                            on:change=move |_| source_kind.set("public".into()) />"all public audio"</label>
                    </div>
                    <SourcePicker sources chosen />
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
                match get_build_job(id).await {
                    Ok(j) => {
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
                    // A lost request (network, restart) is no reason to stop following the build.
                    Err(_) => watch(jobs, campaign, id, done),
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

/// Krippendorff's alpha per instrument.
type Alphas = Vec<(String, Option<f64>)>;

/// "1 answer" / "3 answers each".
fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("{n} {one}") } else { format!("{n} {many}") }
}
