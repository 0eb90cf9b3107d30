//! Changing a track after it was placed: its name and instrument, or removing it.
use leptos::prelude::*;
use uuid::Uuid;

use crate::studio::{TrackPatch, delete_track_fn, update_track_fn};

#[component]
pub(super) fn TrackEditor(
    id: Uuid,
    name: String,
    instrument: String,
    /// The taxonomy as (slug, name).
    instruments: Vec<(String, String)>,
    refresh: Callback<()>,
    /// Closes the editor without saving.
    close: Callback<()>,
    /// Told of each change saved (for Undo).
    saved: Callback<TrackPatch>,
) -> impl IntoView {
    let new_name = RwSignal::new(name.clone());
    let new_instrument = RwSignal::new(instrument.clone());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch = TrackPatch {
            name: Some(new_name.get_untracked()),
            instrument: Some(new_instrument.get_untracked()),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            match update_track_fn(id, patch.clone()).await {
                Ok(_) => {
                    saved.run(patch);
                    refresh.run(())
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let question = "Remove this track from the composition? Its audio stays in its owner's library.";
            if !web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false) {
                return;
            }
        }
        leptos::task::spawn_local(async move {
            match delete_track_fn(id).await {
                Ok(()) => refresh.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let field = format!("track-{id}");
    view! {
        <form class="track-editor" on:submit=save aria-label=format!("Edit track {name}")>
            <label>"Name" <input id=format!("{field}-name") required maxlength="200" bind:value=new_name /></label>
            <label>"Instrument"
                <select id=format!("{field}-instrument") on:change=move |ev| new_instrument.set(event_target_value(&ev))>
                    {std::iter::once((crate::instruments::UNKNOWN.to_string(), "Unknown / several".to_string())).chain(instruments).map(|(slug, label)| {
                        let selected = slug == instrument;
                        view! { <option value=slug selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="small primary">"Save"</button>
            <button type="button" class="small" on:click=move |_| close.run(())>"Cancel"</button>
            <button type="button" class="small danger" on:click=remove>"Remove track"</button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>
    }
}
