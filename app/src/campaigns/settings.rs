//! The campaign card's settings form: what may change once tasks exist.
use leptos::prelude::*;

use super::{CampaignChanges, CampaignInfo, update_campaign_fn};

/// Asks before a campaign closes; `false` when the admin declines. (Only a click in the browser
/// gets here.)
pub fn confirm_close(name: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let question = format!(
            "Close “{name}”? Annotators will stop getting its tasks; answers already given are kept, and you can reopen it later."
        );
        web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = name;
        false
    }
}

/// The changes in the form, or what is wrong with it, before anything is sent.
fn read_changes(
    name: &str,
    instructions: String,
    gold_rate: &str,
    stats_every: &str,
    min_listen: &str,
    is_open: bool,
) -> Result<CampaignChanges, String> {
    if name.trim().is_empty() {
        return Err("Give the campaign a name.".into());
    }
    let gold_rate: f64 =
        gold_rate.trim().parse().map_err(|_| "The gold rate must be a number, e.g. 0.1.".to_string())?;
    let stats_every: i32 =
        stats_every.trim().parse().map_err(|_| "Show progress every: a whole number of submissions.".to_string())?;
    let min_listen: f64 =
        min_listen.trim().parse().ok().filter(|s: &f64| (0.0..=1.0).contains(s)).ok_or_else(|| {
            "Must hear at least: a share from 0 (no minimum) to 1 (the whole clip), e.g. 0.5.".to_string()
        })?;
    Ok(CampaignChanges {
        name: Some(name.to_string()),
        instructions: Some(instructions),
        gold_rate: Some(gold_rate),
        stats_every: Some(stats_every),
        is_open: Some(is_open),
        min_listen_share: Some(min_listen),
    })
}

#[component]
pub fn SettingsForm(campaign: CampaignInfo, on_saved: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let id = campaign.id;
    let was_open = campaign.is_open;
    let name = RwSignal::new(campaign.name.clone());
    let instructions = RwSignal::new(campaign.instructions.clone());
    let gold = RwSignal::new(campaign.gold_rate.to_string());
    let stats_every = RwSignal::new(campaign.stats_every.to_string());
    let min_listen = RwSignal::new(campaign.min_listen_share.to_string());
    let is_open = RwSignal::new(campaign.is_open);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let changes = match read_changes(
            &name.get_untracked(),
            instructions.get_untracked(),
            &gold.get_untracked(),
            &stats_every.get_untracked(),
            &min_listen.get_untracked(),
            is_open.get_untracked(),
        ) {
            Ok(c) => c,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        if was_open && !is_open.get_untracked() && !confirm_close(&name.get_untracked()) {
            return;
        }
        let on_saved = on_saved.clone();
        leptos::task::spawn_local(async move {
            match update_campaign_fn(id, changes).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                    on_saved();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let field = move |suffix: &str| format!("campaign-{id}-{suffix}");
    view! {
        <form class="stacked-form settings-form" novalidate on:submit=submit>
            <label for=field("name")>"Name"</label>
            <input id=field("name") class="settings-name" bind:value=name />
            <label for=field("instructions")>"Instructions for annotators (Markdown)"</label>
            <textarea id=field("instructions") rows="4" bind:value=instructions></textarea>
            <div class="row">
                <label>"Gold rate" <input type="number" min="0" max="0.5" step="0.05" bind:value=gold /></label>
                <label>"Show progress every" <input type="number" min="1" max="1000" bind:value=stats_every /></label>
                <label>
                    "Must hear at least (share of each clip, 0 = no minimum)"
                    <input class="settings-min-listen" type="number" min="0" max="1" step="0.05" bind:value=min_listen />
                </label>
                <label class="checkbox"><input type="checkbox" bind:checked=is_open />"Open (annotators get its tasks)"</label>
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || saved.get().then(|| view! { <p class="muted" role="status">"Saved."</p> })}
            <button type="submit" class="primary">"Save settings"</button>
        </form>
    }
}
