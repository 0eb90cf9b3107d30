//! A composition's settings on its page: what editors change (title, description, tempo, meter,
//! count-in, licence) and what only the owner does (who sees it, who may add tracks, deleting it).
use leptos::prelude::*;

use crate::domain::{Licence, Role, Visibility};
use crate::studio::{CompositionInfo, CompositionPatch, delete_composition_fn, update_composition_fn};

#[component]
pub(super) fn CompositionSettings(c: CompositionInfo, refresh: Callback<()>) -> impl IntoView {
    let owner = c.my_role == Role::Owner;
    let id = c.id;
    let title = RwSignal::new(c.title.clone());
    let description = RwSignal::new(c.description.clone());
    let tempo = RwSignal::new(c.tempo_bpm.to_string());
    let beats = RwSignal::new(c.meter_beats.to_string());
    let unit = RwSignal::new(c.meter_unit.to_string());
    let count_in = RwSignal::new(c.count_in_bars.to_string());
    let licence = RwSignal::new(c.license.id().to_string());
    let visibility = RwSignal::new(c.visibility);
    let open = RwSignal::new(c.open_to_contribution);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<f64>().ok();
    let whole = |s: RwSignal<String>| s.get_untracked().trim().parse::<i32>().ok();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let patch = CompositionPatch {
            title: Some(title.get_untracked()),
            description: Some(description.get_untracked()),
            tempo_bpm: number(tempo),
            meter_beats: whole(beats),
            meter_unit: whole(unit),
            count_in_bars: whole(count_in),
            license: Some(licence.get_untracked()),
            visibility: owner.then(|| visibility.get_untracked()),
            open_to_contribution: owner.then(|| open.get_untracked()),
        };
        if patch.tempo_bpm.is_none()
            || patch.meter_beats.is_none()
            || patch.meter_unit.is_none()
            || patch.count_in_bars.is_none()
        {
            error.set(Some("Tempo, meter and count-in must be numbers.".into()));
            return;
        }
        leptos::task::spawn_local(async move {
            match update_composition_fn(id, patch).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                    refresh.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let navigate = leptos_router::hooks::use_navigate();
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let question = "Delete this composition with its tracks, members and invitations? The audio in it stays in its owners' libraries. This cannot be undone.";
            if !web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false) {
                return;
            }
        }
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match delete_composition_fn(id).await {
                Ok(()) => navigate("/studio", Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let visibility_choice = move |v: Visibility, label: &'static str| {
        view! { <option value=v.as_str() selected=move || visibility.get() == v>{label}</option> }
    };
    view! {
        <details class="card settings">
            <summary><h2>"Settings"</h2></summary>
            <form class="stacked-form" on:submit=save>
                <label>"Title" <input id="settings-title" required maxlength="200" bind:value=title /></label>
                <label>"Description" <textarea id="settings-description" maxlength="5000" rows="3" bind:value=description></textarea></label>
                <div class="row">
                    <label>"Tempo (BPM)" <input id="settings-tempo" type="number" min="20" max="400" step="any" bind:value=tempo /></label>
                    <label>"Beats per bar" <input id="settings-beats" type="number" min="1" max="32" bind:value=beats /></label>
                    <label>"Beat unit"
                        <select id="settings-unit" on:change=move |ev| unit.set(event_target_value(&ev))>
                            {[1, 2, 4, 8, 16, 32].map(|u| view! { <option value=u.to_string() selected=u == c.meter_unit>{u.to_string()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Count-in (bars)" <input id="settings-count-in" type="number" min="0" max="8" bind:value=count_in /></label>
                </div>
                <label>"Licence"
                    <select id="settings-licence" on:change=move |ev| licence.set(event_target_value(&ev))>
                        {Licence::ALL.map(|l| view! { <option value=l.id() selected=l == c.license>{l.name()}</option> }).collect_view()}
                    </select>
                </label>
                {owner.then(|| view! {
                    <label>"Who can see it"
                        <select id="settings-visibility" on:change=move |ev| {
                            if let Some(v) = Visibility::parse(&event_target_value(&ev)) { visibility.set(v) }
                        }>
                            {visibility_choice(Visibility::Private, "Its members")}
                            {visibility_choice(Visibility::Members, "Every signed-in user")}
                            {visibility_choice(Visibility::Public, "Everyone")}
                        </select>
                    </label>
                    <label class="checkbox"><input id="settings-open" type="checkbox" bind:checked=open />"Anyone who can see it may add tracks"</label>
                })}
                <div class="row">
                    <button type="submit" class="primary">"Save settings"</button>
                    {move || saved.get().then(|| view! { <span class="muted" role="status">"Saved."</span> })}
                </div>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>
            {owner.then(|| view! {
                <p><button type="button" class="danger" on:click=remove>"Delete composition"</button></p>
            })}
        </details>
    }
}
