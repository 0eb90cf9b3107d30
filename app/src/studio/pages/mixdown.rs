//! Rendering a composition's mixdown on the server and downloading it.
use leptos::prelude::*;
use uuid::Uuid;

use crate::studio::render_mixdown_fn;

#[component]
pub(super) fn Mixdown(
    composition: Uuid,
    mixdown: Option<Uuid>,
    can_render: bool,
    refresh: Callback<()>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let render = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = render_mixdown_fn(composition).await;
            busy.set(false);
            match result {
                Ok(_) => refresh.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <div class="mixdown">
            {mixdown.map(|id| view! {
                <a class="button" href=format!("/api/v1/audio/{id}/canonical") download="mixdown.flac" rel="external">"Download the mixdown (FLAC)"</a>
            })}
            {can_render.then(|| view! {
                <button type="button" disabled=move || busy.get() on:click=render>
                    {move || if busy.get() { "Rendering…" } else { "Render mixdown" }}
                </button>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
