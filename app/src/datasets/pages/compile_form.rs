//! The admin's form asking for a new release: which campaigns (and, optionally, which of their
//! instruments), how a label is decided, how the clips split into train and test, and notes. Every
//! field starts at the compiler's default; the server checks the values and its words are shown.
use leptos::prelude::*;
use uuid::Uuid;

use crate::campaigns::{CampaignInfo, list_campaigns_admin};
use crate::datasets::{
    CompileRequest, GroupKey, LabelRule, ReleaseInfo, compile_release, default_test_fraction, default_threshold,
    default_tolerance,
};

#[component]
pub fn CompileForm(slug: String, on_compiled: Callback<ReleaseInfo>) -> impl IntoView {
    // Only admins see this form, and the list is only needed once the page runs in the browser: it
    // is asked for then, so the server's page and the hydrated one start out the same.
    let campaigns: RwSignal<Option<Result<Vec<CampaignInfo>, String>>> = RwSignal::new(None);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let list = list_campaigns_admin().await.map_err(|e| e.to_string());
            campaigns.try_set(Some(list));
        });
    });
    let chosen: RwSignal<Vec<Uuid>> = RwSignal::new(Vec::new());
    let instruments: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let rule = RwSignal::new(LabelRule::Majority);
    let threshold = RwSignal::new(default_threshold().to_string());
    let complete_only = RwSignal::new(true);
    let min_annotations = RwSignal::new("2".to_string());
    let include_gold = RwSignal::new(false);
    let test_fraction = RwSignal::new(default_test_fraction().to_string());
    let seed = RwSignal::new("0".to_string());
    let group_by = RwSignal::new(GroupKey::Source);
    let tolerance = RwSignal::new(default_tolerance().to_string());
    let notes = RwSignal::new(String::new());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let started: RwSignal<Option<i32>> = RwSignal::new(None);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        // Instruments ticked under a campaign since unticked are not asked for.
        let offer = campaigns.get_untracked().and_then(|r| r.ok()).map(|l| offered(&l, &chosen.get_untracked()));
        let ticked: Vec<String> =
            instruments.get_untracked().into_iter().filter(|i| offer.as_ref().is_some_and(|o| o.contains(i))).collect();
        let request = match read(
            chosen.get_untracked(),
            ticked,
            rule.get_untracked(),
            &threshold.get_untracked(),
            complete_only.get_untracked(),
            &min_annotations.get_untracked(),
            include_gold.get_untracked(),
            &test_fraction.get_untracked(),
            &seed.get_untracked(),
            group_by.get_untracked(),
            &tolerance.get_untracked(),
            notes.get_untracked(),
        ) {
            Ok(r) => r,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let slug = slug.clone();
        busy.set(true);
        started.set(None);
        leptos::task::spawn_local(async move {
            let result = compile_release(slug, request).await;
            busy.set(false);
            match result {
                Ok(r) => {
                    error.set(None);
                    started.set(Some(r.version));
                    on_compiled.run(r);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    view! {
        <form class="stacked-form ds-compile-form" novalidate on:submit=submit>
            {move || {
                    let list = match campaigns.get() {
                        None => return view! { <p class="muted">"Loading campaigns…"</p> }.into_any(),
                        Some(Ok(list)) => list,
                        Some(Err(e)) => return view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    };
                    let for_instruments = list.clone();
                    view! {
                        <fieldset class="ds-choice">
                            <legend>"Campaigns to compile from"</legend>
                            {list.is_empty().then(|| view! { <p class="muted">"There are no campaigns yet."</p> })}
                            {list.into_iter().map(|c| {
                                let id = c.id;
                                view! {
                                    <label class="checkbox">
                                        <input type="checkbox" value=id.to_string()
                                            prop:checked=move || chosen.get().contains(&id)
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|v| if on { if !v.contains(&id) { v.push(id) } } else { v.retain(|x| *x != id) });
                                            } />
                                        <span>
                                            {c.name.clone()}
                                            <span class="muted">{format!(
                                                " — {} of {} clips complete{}",
                                                c.tasks_complete, c.tasks_total, if c.is_open { ", open" } else { ", closed" }
                                            )}</span>
                                        </span>
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                        <fieldset class="ds-choice">
                            <legend>"Instruments (none ticked: all those the chosen campaigns ask about)"</legend>
                            {move || {
                                let offer = offered(&for_instruments, &chosen.get());
                                if offer.is_empty() {
                                    return view! { <p class="muted">"Choose a campaign first."</p> }.into_any();
                                }
                                offer.into_iter().map(|slug| {
                                    let (s1, s2) = (slug.clone(), slug.clone());
                                    view! {
                                        <label class="checkbox">
                                            <input type="checkbox" value=slug.clone()
                                                prop:checked=move || instruments.get().contains(&s1)
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    let s = s2.clone();
                                                    instruments.update(|v| if on { if !v.contains(&s) { v.push(s) } } else { v.retain(|x| *x != s) });
                                                } />
                                            {slug}
                                        </label>
                                    }
                                }).collect_view().into_any()
                            }}
                        </fieldset>
                    }.into_any()
            }}
            <div class="ds-grid">
                <div>
                    <label for="ds-c-rule">"Label rule"</label>
                    <select id="ds-c-rule" on:change=move |ev| rule.set(if event_target_value(&ev) == "trust_weighted" { LabelRule::TrustWeighted } else { LabelRule::Majority })>
                        <option value="majority" selected>"Majority of answers"</option>
                        <option value="trust_weighted">"Weighted by annotator trust"</option>
                    </select>
                </div>
                <div>
                    <label for="ds-c-threshold">"Threshold (0.5–1)"</label>
                    <input id="ds-c-threshold" type="number" min="0.5" max="1" step="0.05" inputmode="decimal" bind:value=threshold
                        aria-describedby="ds-c-threshold-hint" />
                    <p class="hint" id="ds-c-threshold-hint">"Below it, a label is unknown and masked."</p>
                </div>
                <div>
                    <label for="ds-c-test">"Test share (0–1)"</label>
                    <input id="ds-c-test" type="number" min="0.05" max="0.95" step="0.05" inputmode="decimal" bind:value=test_fraction />
                </div>
                <div>
                    <label for="ds-c-tolerance">"Tolerance (0–1)"</label>
                    <input id="ds-c-tolerance" type="number" min="0" max="1" step="0.01" inputmode="decimal" bind:value=tolerance
                        aria-describedby="ds-c-tolerance-hint" />
                    <p class="hint" id="ds-c-tolerance-hint">"How far an instrument's positive share in a split may be from its share overall."</p>
                </div>
                <div>
                    <label for="ds-c-group">"Kept together"</label>
                    <select id="ds-c-group" on:change=move |ev| group_by.set(match event_target_value(&ev).as_str() {
                        "uploader" => GroupKey::Uploader,
                        "composition" => GroupKey::Composition,
                        "artist" => GroupKey::Artist,
                        _ => GroupKey::Source,
                    })>
                        <option value="source" selected>"Clips of one recording"</option>
                        <option value="uploader">"Recordings of one uploader"</option>
                        <option value="composition">"Tracks of one composition"</option>
                        <option value="artist">"Recordings of one artist"</option>
                    </select>
                </div>
                <div>
                    <label for="ds-c-seed">"Seed"</label>
                    <input id="ds-c-seed" type="number" min="0" step="1" inputmode="numeric" bind:value=seed />
                </div>
            </div>
            <fieldset class="ds-choice ds-answers">
                <legend>"Which clips count"</legend>
                <label class="checkbox"><input type="checkbox" bind:checked=complete_only />"Only clips with all the answers their campaign asks for"</label>
                <label for="ds-c-min">"Otherwise, clips with at least this many answers"</label>
                <input id="ds-c-min" type="number" min="1" step="1" inputmode="numeric" bind:value=min_annotations
                    disabled=move || complete_only.get() />
                <label class="checkbox"><input type="checkbox" bind:checked=include_gold />"Include gold clips"</label>
            </fieldset>
            <label for="ds-c-notes">"Release notes (what changed since the last release)"</label>
            <textarea id="ds-c-notes" rows="2" maxlength="4000" bind:value=notes></textarea>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || started.get().map(|v| view! {
                <p class="notice" role="status">{format!("Version {v} is compiling; follow it under ")}<a href="#ds-releases">"Releases"</a>"."</p>
            })}
            <div class="ds-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Compile release"</button>
            </div>
        </form>
    }
}

/// The instruments of the ticked campaigns, in their order.
fn offered(list: &[CampaignInfo], ticked: &[Uuid]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in list.iter().filter(|c| ticked.contains(&c.id)) {
        for i in &c.instruments {
            if !out.contains(i) {
                out.push(i.clone());
            }
        }
    }
    out
}

/// The request in the form, or what is wrong with it in words.
#[allow(clippy::too_many_arguments)]
fn read(
    campaigns: Vec<Uuid>,
    instruments: Vec<String>,
    rule: LabelRule,
    threshold: &str,
    complete_only: bool,
    min_annotations: &str,
    include_gold: bool,
    test_fraction: &str,
    seed: &str,
    group_by: GroupKey,
    tolerance: &str,
    notes: String,
) -> Result<CompileRequest, String> {
    fn number<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, String> {
        text.trim().parse().map_err(|_| format!("The {what} must be a number."))
    }
    if campaigns.is_empty() {
        return Err("Choose at least one campaign to compile from.".into());
    }
    Ok(CompileRequest {
        campaigns,
        instruments: (!instruments.is_empty()).then_some(instruments),
        min_annotations: if complete_only { None } else { Some(number("number of answers", min_annotations)?) },
        rule,
        threshold: number("threshold", threshold)?,
        include_gold,
        test_fraction: number("test share", test_fraction)?,
        seed: number("seed", seed)?,
        group_by,
        tolerance: number("tolerance", tolerance)?,
        notes,
    })
}
