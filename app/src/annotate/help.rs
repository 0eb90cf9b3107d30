//! Help on the instrument rows: an "About <instrument>" button that opens a short panel with the
//! admin's description and, when the annotator may hear one, an example to play.
use leptos::prelude::*;

use crate::instruments::InstrumentHelp;

#[component]
pub(super) fn HelpButton(name: String, open: RwSignal<bool>, panel_id: String) -> impl IntoView {
    view! {
        <button
            type="button"
            class="instrument-help-toggle"
            aria-label=format!("About {name}")
            aria-expanded=move || open.get().to_string()
            aria-controls=panel_id
            on:click=move |_| open.update(|o| *o = !*o)
        >
            <span aria-hidden="true">"?"</span>
        </button>
    }
}

#[component]
pub(super) fn HelpPanel(
    help: InstrumentHelp,
    open: RwSignal<bool>,
    panel_id: String,
    /// Pauses the clip, so the example is heard on its own.
    pause_clip: Callback<()>,
) -> impl IntoView {
    let example_ref = NodeRef::<leptos::html::Audio>::new();
    let playing = RwSignal::new(false);
    let toggle = move |_| {
        if let Some(el) = example_ref.get_untracked() {
            if el.paused() {
                pause_clip.run(());
                el.set_current_time(0.0);
                let _ = el.play();
            } else {
                let _ = el.pause();
            }
        }
    };
    // Closing the panel stops the example.
    Effect::new(move |_| {
        if !open.get()
            && let Some(el) = example_ref.get_untracked()
        {
            let _ = el.pause();
        }
    });
    let name = help.name.clone();
    view! {
        <div id=panel_id class="instrument-help-panel" role="region" aria-label=format!("About {name}") hidden=move || !open.get()>
            {(!help.description.is_empty()).then(|| view! { <p>{help.description.clone()}</p> })}
            {help.example_audio_id.map(|id| view! {
                <audio
                    node_ref=example_ref
                    src=format!("/api/v1/audio/{id}/canonical")
                    preload="none"
                    on:play=move |_| playing.set(true)
                    on:pause=move |_| playing.set(false)
                    on:ended=move |_| playing.set(false)
                ></audio>
                <button type="button" class="small" on:click=toggle>
                    {move || if playing.get() { "Stop the example" } else { "Play an example" }}
                    <span class="visually-hidden">{format!(" of {}", help.name)}</span>
                </button>
            })}
        </div>
    }
}
