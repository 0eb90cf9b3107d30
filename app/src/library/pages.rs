//! The Upload page (drag-and-drop, a progress bar per file, then processing, then the result) and
//! the library of your audio.
use leptos::prelude::*;
use leptos_meta::Title;

use super::{AudioCard, UploadOptions, get_audio_card, get_upload_options};
use crate::auth::use_me;
use crate::components::{ErrorNotice, SignInRequired, Waveform};
use crate::error::AppError;

/// What happens to one file on the Upload page.
// Only the browser moves an upload through its states.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    /// Bytes sent so far, out of the total.
    Uploading {
        sent: f64,
        total: f64,
    },
    /// All bytes are on the server; it decodes, resamples and stores.
    Processing,
    /// Done: the audio id, and whether it was already in the library.
    Done {
        id: uuid::Uuid,
        existed: bool,
    },
    Failed(String),
}

#[derive(Clone)]
pub struct UploadItem {
    pub key: usize,
    pub name: String,
    pub size: f64,
    pub state: RwSignal<UploadState>,
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[component]
pub fn UploadPage() -> impl IntoView {
    let me = use_me();
    // Resources are made here, once, outside the Suspense: a Suspend closure may run more than
    // once on the server, and resources made inside it would not match the browser's.
    let options = Resource::new(|| (), |_| get_upload_options());
    view! {
        <Title text="Upload · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! { <Uploader options /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Uploader(options: Resource<Result<UploadOptions, AppError>>) -> impl IntoView {
    let items: RwSignal<Vec<UploadItem>> = RwSignal::new(Vec::new());
    let license = RwSignal::new(String::new());
    let public = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let next_key = StoredValue::new(0usize);

    // Start one upload per file. Browser only: the server never runs these handlers.
    let start = move |files: Vec<leptos::web_sys::File>| {
        for file in files {
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            let item = UploadItem {
                key,
                name: file.name(),
                size: file.size(),
                state: RwSignal::new(UploadState::Uploading { sent: 0.0, total: file.size() }),
            };
            items.update(|list| list.insert(0, item.clone()));
            #[cfg(feature = "hydrate")]
            browser::upload(file, license.get_untracked(), public.get_untracked(), "upload", item.state);
        }
    };

    // The file input works before the WebAssembly has loaded: a file chosen (or dropped) then
    // waits in the input, with the licence and visibility picked then, and is uploaded as soon as
    // the page is ready instead of being silently ignored.
    let file_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(input) = file_input.get() else { return false };
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let document = leptos::prelude::document();
            if let Some(select) = document
                .get_element_by_id("license")
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlSelectElement>().ok())
                && !select.value().is_empty()
            {
                license.set(select.value());
            }
            if let Some(check) = document
                .get_element_by_id("upload-public")
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
            {
                public.set(check.checked());
            }
        }
        if let Some(list) = input.files()
            && list.length() > 0
        {
            start((0..list.length()).filter_map(|i| list.get(i)).collect());
            input.set_value("");
        }
        true
    });

    view! {
        <section class="card">
            <h1>"Upload audio"</h1>
            <p class="lead">
                "WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC/M4A and ALAC are accepted. Every file is kept as it is \
                 and converted to lossless 44.1 kHz FLAC with a waveform."
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    options.await.ok().map(|opts| {
                        if license.get_untracked().is_empty() {
                            license.set(opts.default_license.clone());
                        }
                        view! {
                            <div class="upload-options">
                                <label for="license">"Licence"</label>
                                <select id="license" on:change=move |ev| license.set(event_target_value(&ev))>
                                    {opts.licenses.into_iter().map(|(id, name)| {
                                        let selected = id == opts.default_license;
                                        view! { <option value=id.clone() selected=selected>{name}</option> }
                                    }).collect_view()}
                                </select>
                                <label class="checkbox">
                                    <input id="upload-public" type="checkbox" on:change=move |ev| public.set(event_target_checked(&ev)) />
                                    "Public (anyone can listen)"
                                </label>
                                <span class="hint">{format!("Up to {} per file.", super::human_bytes(opts.max_upload_bytes))}</span>
                            </div>
                        }
                    })
                })}
            </Suspense>
            <label
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev| {
                    ev.prevent_default();
                    dragging.set(false);
                    if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
                        start((0..list.length()).filter_map(|i| list.get(i)).collect());
                    }
                }
            >
                <input
                    node_ref=file_input
                    class="dropzone-input"
                    id="upload-files"
                    type="file"
                    multiple
                    accept="audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.oga,.m4a,.mp4,.aac,.opus"
                    on:change=move |ev| {
                        let input = event_target::<leptos::web_sys::HtmlInputElement>(&ev);
                        if let Some(list) = input.files() {
                            start((0..list.length()).filter_map(|i| list.get(i)).collect());
                        }
                        input.set_value("");
                    }
                />
                <span class="dropzone-text">"Drop audio files here, or " <u>"choose files"</u></span>
            </label>
        </section>
        <ul class="upload-list">
            <For each=move || items.get() key=|item| item.key let:item>
                <UploadRow item=item />
            </For>
        </ul>
    }
}

#[component]
fn UploadRow(item: UploadItem) -> impl IntoView {
    let state = item.state;
    let size = super::human_bytes(item.size as u64);
    view! {
        <li class="card upload-item">
            <div class="upload-head">
                <strong class="file-name">{item.name.clone()}</strong>
                <span class="muted">{size}</span>
                <span class="upload-state">
                    {move || match state.get() {
                        UploadState::Uploading { .. } => "Uploading".to_string(),
                        UploadState::Processing => "Processing…".to_string(),
                        UploadState::Done { existed: true, .. } => "Already in your library".to_string(),
                        UploadState::Done { .. } => "Done".to_string(),
                        UploadState::Failed(_) => "Failed".to_string(),
                    }}
                </span>
            </div>
            {move || match state.get() {
                UploadState::Uploading { sent, total } => view! {
                    <progress max=total.max(1.0) value=sent aria-label="Upload progress"></progress>
                }.into_any(),
                UploadState::Processing => view! { <progress aria-label="Processing"></progress> }.into_any(),
                UploadState::Failed(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                UploadState::Done { id, existed } => view! { <UploadedAudio id=id existed=existed /> }.into_any(),
            }}
        </li>
    }
}

#[component]
fn UploadedAudio(id: uuid::Uuid, existed: bool) -> impl IntoView {
    let card = Resource::new(move || id, get_audio_card);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match card.await {
                    // The same bytes again: the record there is kept as it is, settings included.
                    Ok(card) if existed => view! {
                        <p class="notice existed">
                            {format!(
                                "You uploaded this file before: it stays as it was ({}, {}), and the settings chosen here were not applied. ",
                                if card.info.is_public { "public" } else { "private" },
                                card.info.license.name(),
                            )}
                            <a href=format!("/library/{id}")>"Change them on its page."</a>
                        </p>
                        <AudioCardView card=card />
                    }.into_any(),
                    Ok(card) => view! { <AudioCardView card=card /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Waveform, facts and a player for one audio.
#[component]
pub fn AudioCardView(card: AudioCard) -> impl IntoView {
    let a = card.info;
    let title = a.title.clone().unwrap_or_else(|| a.original_filename.clone());
    let facts = format!(
        "{} · {} · {} {} · {} Hz → {} Hz · {}",
        format_duration(a.duration_seconds),
        a.original_format.to_uppercase(),
        a.original_codec,
        if a.original_channels == 1 { "mono".to_string() } else { format!("{} ch", a.original_channels) },
        a.original_rate,
        a.canonical_rate,
        a.license
    );
    let src = a.canonical_url();
    view! {
        <div class="audio-card" data-audio-id=a.id.to_string()>
            <div class="audio-title">
                <a href=format!("/library/{}", a.id)>{title.clone()}</a>
                {a.artist.clone().map(|artist| view! { <span class="muted">" — " {artist}</span> })}
                {a.is_public.then(|| view! { <span class="badge">"Public"</span> })}
            </div>
            <Waveform columns=card.waveform label=format!("Waveform of {title}") />
            <p class="facts-line muted">{facts}</p>
            <SharedInLine shared=card.shared_in public=a.is_public />
            <audio controls preload="none" src=src></audio>
        </div>
    }
}

/// Where an audio is heard as a track, and by whom: a private file in a public composition is
/// heard by everyone there, though only its owner can download it.
#[component]
fn SharedInLine(shared: Vec<crate::library::SharedIn>, public: bool) -> impl IntoView {
    use crate::domain::Visibility;
    (!shared.is_empty()).then(|| {
        let heard_by_others = !public && shared.iter().any(|s| s.visibility != Visibility::Private);
        view! {
            <p class="shared-in">
                "A track of "
                {shared.into_iter().enumerate().map(|(i, s)| {
                    let who = match s.visibility {
                        Visibility::Public => "everyone hears it",
                        Visibility::Members => "signed-in users hear it",
                        Visibility::Private => "its members hear it",
                    };
                    view! {
                        {(i > 0).then_some(", ")}
                        <a href=format!("/studio/{}", s.composition_id)>{s.title}</a>
                        <span class="muted">{format!(" ({who})")}</span>
                    }
                }).collect_view()}
                {heard_by_others.then_some(". The file itself stays private: listeners get its sound, not the file, its name or its tags.")}
            </p>
        }
    })
}

#[cfg(feature = "hydrate")]
pub(crate) mod browser {
    //! The upload itself: XMLHttpRequest, because fetch cannot report upload progress.
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

    use super::UploadState;

    /// Uploads `file` as audio of `kind` (`upload`, or `recording` for a studio take).
    pub fn upload(file: File, license: String, public: bool, kind: &str, state: RwSignal<UploadState>) {
        if let Err(e) = try_upload(file, license, public, kind, state) {
            state.set(UploadState::Failed(format!("The upload could not start: {e:?}")));
        }
    }

    fn try_upload(
        file: File,
        license: String,
        public: bool,
        kind: &str,
        state: RwSignal<UploadState>,
    ) -> Result<(), wasm_bindgen::JsValue> {
        let form = FormData::new()?;
        form.append_with_str("kind", kind)?;
        form.append_with_str("license", &license)?;
        form.append_with_str("public", if public { "true" } else { "false" })?;
        form.append_with_blob_and_filename("file", &file, &file.name())?;
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", "/api/v1/audio")?;
        xhr.set_request_header("Accept", "application/json")?;

        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if ev.length_computable() {
                state.set(UploadState::Uploading { sent: ev.loaded(), total: ev.total() });
            }
        });
        let on_sent = Closure::<dyn FnMut()>::new(move || state.set(UploadState::Processing));
        let upload = xhr.upload()?;
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        upload.set_onload(Some(on_sent.as_ref().unchecked_ref()));

        let done_xhr = xhr.clone();
        let on_done = Closure::<dyn FnMut()>::new(move || {
            let status = done_xhr.status().unwrap_or(0);
            let body = done_xhr.response_text().ok().flatten().unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let next = match status {
                200 | 201 => match json["id"].as_str().and_then(|s| s.parse().ok()) {
                    Some(id) => UploadState::Done { id, existed: status == 200 },
                    None => UploadState::Failed("The server's answer could not be read.".into()),
                },
                _ => UploadState::Failed(
                    json["message"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("The server answered {status}.")),
                ),
            };
            state.set(next);
        });
        let on_error = Closure::<dyn FnMut()>::new(move || {
            state.set(UploadState::Failed("The connection failed during the upload. Please try again.".into()))
        });
        xhr.set_onload(Some(on_done.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        xhr.send_with_opt_form_data(Some(&form))?;
        // The request owns its callbacks until it finishes; they are small and live once per file.
        on_progress.forget();
        on_sent.forget();
        on_done.forget();
        on_error.forget();
        Ok(())
    }
}
