//! Forms that make a new collection or a new composition.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use uuid::Uuid;

use crate::studio::{NewCollection, NewComposition, Visibility, create_collection_fn, create_composition_fn};

#[component]
pub(super) fn NewCollectionForm(refresh: Callback<()>) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let visibility = RwSignal::new("private".to_string());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewCollection {
            title: title.get_untracked(),
            visibility: Visibility::parse(&visibility.get_untracked()),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            match create_collection_fn(new).await {
                Ok(_) => refresh.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <label for="collection-title">"New collection"</label>
            <input id="collection-title" required maxlength="200" placeholder="Title" bind:value=title />
            <select aria-label="Collection visibility" on:change=move |ev| visibility.set(event_target_value(&ev))>
                <option value="private" selected>"Private"</option>
                <option value="members">"Every signed-in user"</option>
                <option value="public">"Public"</option>
            </select>
            <button type="submit">"Create collection"</button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
pub(super) fn NewCompositionForm(collections: Vec<(Uuid, String)>, preset: Option<Uuid>) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let collection = RwSignal::new(preset.map(|c| c.to_string()).unwrap_or_default());
    let tempo = RwSignal::new("120".to_string());
    let beats = RwSignal::new("4".to_string());
    let count_in = RwSignal::new("1".to_string());
    let visibility = RwSignal::new("private".to_string());
    let open = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let navigate = use_navigate();
    let unit = RwSignal::new("4".to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // An emptied or unreadable number is said, not silently replaced by the default.
        fn number<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, String> {
            text.trim().parse().map_err(|_| format!("{field}: enter a number."))
        }
        let numbers = (|| {
            Ok::<_, String>((
                number::<f64>("Tempo (BPM)", &tempo.get_untracked())?,
                number::<i32>("Beats per bar", &beats.get_untracked())?,
                number::<i32>("Count-in bars", &count_in.get_untracked())?,
            ))
        })();
        let (tempo_bpm, meter_beats, count_in_bars) = match numbers {
            Ok(n) => n,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let new = NewComposition {
            title: title.get_untracked(),
            tempo_bpm: Some(tempo_bpm),
            meter_beats: Some(meter_beats),
            meter_unit: unit.get_untracked().parse().ok(),
            count_in_bars: Some(count_in_bars),
            visibility: Visibility::parse(&visibility.get_untracked()),
            open_to_contribution: Some(open.get_untracked()),
            collection_id: collection.get_untracked().parse().ok(),
            ..Default::default()
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match create_composition_fn(new).await {
                Ok(c) => {
                    navigate(&format!("/studio/{}", c.id), Default::default());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"New composition"</h2>
            <form class="stacked-form" on:submit=submit>
                <label for="composition-title">"Title"</label>
                <input id="composition-title" required maxlength="200" bind:value=title />
                <div class="row">
                    <label>"Tempo (BPM)" <input id="composition-tempo" type="number" min="20" max="400" step="0.1" bind:value=tempo /></label>
                    <label>"Beats per bar" <input type="number" min="1" max="32" bind:value=beats /></label>
                    <label>"Beat unit"
                        <select id="composition-unit" on:change=move |ev| unit.set(event_target_value(&ev))>
                            <option value="2">"2 (half notes)"</option>
                            <option value="4" selected>"4 (quarter notes)"</option>
                            <option value="8">"8 (eighth notes)"</option>
                            <option value="16">"16 (sixteenth notes)"</option>
                        </select>
                    </label>
                    <label>"Count-in bars" <input type="number" min="0" max="8" bind:value=count_in /></label>
                    <label>"Visibility"
                        <select on:change=move |ev| visibility.set(event_target_value(&ev))>
                            <option value="private" selected>"Private (members only)"</option>
                            <option value="members">"Every signed-in user"</option>
                            <option value="public">"Public"</option>
                        </select>
                    </label>
                </div>
                {(!collections.is_empty()).then(|| view! {
                    <label>"Collection"
                        <select id="composition-collection" on:change=move |ev| collection.set(event_target_value(&ev))>
                            <option value="" selected=preset.is_none()>"None"</option>
                            {collections.into_iter().map(|(id, title)| view! { <option value=id.to_string() selected=preset == Some(id)>{title}</option> }).collect_view()}
                        </select>
                    </label>
                })}
                <label class="checkbox"><input type="checkbox" bind:checked=open />"Open to contribution"</label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Create"</button>
            </form>
        </section>
    }
}
