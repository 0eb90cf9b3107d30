//! Placing audio from one's library, or a file uploaded on the spot, as a new track.
use leptos::prelude::*;
use uuid::Uuid;

use super::Taxonomy;
use crate::instruments::UNKNOWN as UNKNOWN_INSTRUMENT;

const NO_INSTRUMENT: &str = "Choose the track's instrument first (or “Unknown / several”).";
use crate::studio::{NewTrack, add_track_fn};

#[component]
pub(super) fn AddTrack(
    composition: Uuid,
    my_audio: Vec<(Uuid, String)>,
    can_master: bool,
    refresh: Callback<()>,
    instruments: Taxonomy,
    visibility: crate::domain::Visibility,
) -> impl IntoView {
    let audio = RwSignal::new(my_audio.first().map(|(id, _)| id.to_string()).unwrap_or_default());
    let name = RwSignal::new(String::new());
    // No instrument is assumed: a wrong one would mislabel research data without anyone noticing.
    let instrument = RwSignal::new(String::new());
    let master = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    // A file chosen here is uploaded through the uploader, then placed as a track.
    let upload_state = RwSignal::new(crate::library::UploadState::Processing);
    let uploading = RwSignal::new(false);
    // Places `audio_id` as a new track at the start, named as typed (or `fallback_name`).
    let place = move |audio_id: Uuid, fallback_name: String| {
        if instrument.get_untracked().is_empty() {
            error.set(Some(NO_INSTRUMENT.into()));
            return;
        }
        let name = Some(name.get_untracked()).filter(|n| !n.trim().is_empty()).unwrap_or(fallback_name);
        let track = NewTrack {
            audio_id,
            name,
            instrument: instrument.get_untracked(),
            offset_frames: 0,
            is_master: master.get_untracked(),
            capture: None,
        };
        leptos::task::spawn_local(async move {
            match add_track_fn(composition, track).await {
                Ok(_) => {
                    error.set(None);
                    refresh.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let file_name = StoredValue::new(String::new());
    Effect::new(move |_| {
        if let crate::library::UploadState::Done { id, .. } = upload_state.get()
            && uploading.get_untracked()
        {
            uploading.set(false);
            place(id, file_name.get_value());
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        let input = event_target::<leptos::web_sys::HtmlInputElement>(&ev);
        if instrument.get_untracked().is_empty() {
            error.set(Some(NO_INSTRUMENT.into()));
            input.set_value("");
            return;
        }
        let Some(file) = input.files().and_then(|l| l.get(0)) else { return };
        let stem = file.name().rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or(file.name());
        file_name.set_value(stem);
        upload_state.set(crate::library::UploadState::Uploading { sent: 0.0, total: file.size() });
        uploading.set(true);
        #[cfg(feature = "hydrate")]
        crate::library::browser::upload(file, String::new(), false, "upload", upload_state);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(audio_id) = audio.get_untracked().parse::<Uuid>() else {
            error.set(Some("Choose audio from your library (upload it first).".into()));
            return;
        };
        // An empty name is sent as is: the server asks for one.
        place(audio_id, String::new());
    };
    view! {
        <section class="card">
            <h2>"Add a track"</h2>
            <form class="stacked-form" on:submit=submit>
                <div class="row">
                    <label>"Audio"
                        <select id="track-audio" on:change=move |ev| audio.set(event_target_value(&ev))>
                            {my_audio.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Name" <input id="track-name" required maxlength="200" bind:value=name /></label>
                    <label>"Instrument"
                        <select id="track-instrument" required on:change=move |ev| { error.set(None); instrument.set(event_target_value(&ev)) }>
                            <option value="" selected disabled>"Choose…"</option>
                            <option value=UNKNOWN_INSTRUMENT>"Unknown / several"</option>
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    instruments.await.unwrap_or_default().into_iter().map(|i| {
                                        view! { <option value=i.slug.clone()>{i.name}</option> }
                                    }).collect_view()
                                })}
                            </Suspense>
                        </select>
                    </label>
                </div>
                {(visibility != crate::domain::Visibility::Private).then(|| view! {
                    <p class="notice" id="track-audience">
                        {if visibility == crate::domain::Visibility::Public { "Everyone" } else { "Every signed-in user" }}
                        " will hear the tracks of this composition. A file of yours stays yours: listeners get its sound, not the file, its name or its tags."
                    </p>
                })}
                {can_master.then(|| view! { <label class="checkbox"><input type="checkbox" bind:checked=master />"Master (sync) track"</label> })}
                <label>"…or upload a file as a new track "
                    <input id="track-file" type="file" accept="audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.m4a" on:change=on_file />
                </label>
                {move || match upload_state.get() {
                    crate::library::UploadState::Uploading { sent, total } if uploading.get() => view! { <progress max=total.max(1.0) value=sent></progress> }.into_any(),
                    crate::library::UploadState::Processing if uploading.get() => view! { <progress></progress> }.into_any(),
                    crate::library::UploadState::Failed(m) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                    _ => ().into_any(),
                }}
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Add track"</button>
            </form>
        </section>
    }
}
