//! A page per audio item (`/library/:id`): its waveform with a playhead to seek by, its facts, where
//! it is used, and, for its owner, renaming, visibility, licence and deletion.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AudioCard, AudioInfo};
use crate::components::{ErrorNotice, NotFound, Waveform};
use crate::domain::Licence;
use crate::error::AppError;

/// What the audio page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioPageData {
    pub card: AudioCard,
    /// The asker owns it (or is an admin): they may change and delete it.
    pub editable: bool,
    /// Clips the task builder cut from it.
    pub clips: u64,
}

#[server(endpoint = "get_audio_page")]
pub async fn get_audio_page(id: Uuid) -> Result<AudioPageData, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let a = crate::access::audio::visible_audio(&ctx, id, user.as_ref()).await?;
    let editable = user.as_ref().is_some_and(|u| u.is_admin || u.id == a.owner_id);
    let mut card = super::ssr::card(&ctx, &a).await?;
    let mut clips = 0;
    // Where it is used is its owner's to know.
    if editable {
        card.shared_in = super::ssr::shared_in(&ctx.db, vec![a.id]).await?.remove(&a.id).unwrap_or_default();
        clips =
            crate::db::audio::Entity::find().filter(crate::db::audio::Column::ParentId.eq(a.id)).count(&ctx.db).await?;
    }
    Ok(AudioPageData { card, editable, clips })
}

/// Change an audio's title (empty clears it), visibility or licence; its owner or an admin.
#[server(endpoint = "update_audio")]
pub async fn update_audio_fn(
    id: Uuid,
    title: Option<String>,
    public: Option<bool>,
    license: Option<String>,
) -> Result<AudioInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let patch = super::edit::AudioPatch { title, public, license };
    let a = super::edit::update_audio(&ctx, &user, id, patch).await?;
    Ok(super::ssr::info(&a))
}

/// Delete an audio by the rule in [`super::remove`].
#[server(endpoint = "delete_audio")]
pub async fn delete_audio_fn(id: Uuid) -> Result<(), AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    super::remove::delete_audio(&ctx, &user, id).await
}

#[component]
pub fn AudioPage() -> impl IntoView {
    let params = use_params_map();
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_audio_page(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Audio · Tutti" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <AudioItem d refresh /> }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AudioItem(d: AudioPageData, refresh: Callback<()>) -> impl IntoView {
    let a = d.card.info.clone();
    let id = a.id;
    let name = a.title.clone().unwrap_or_else(|| a.original_filename.clone());
    // The playhead: where the player is, as a share of the whole.
    let at = RwSignal::new(0.0f64);
    let player = NodeRef::<leptos::html::Audio>::new();
    let duration = a.duration_seconds.max(f64::EPSILON);
    let seek = move |ev: leptos::ev::MouseEvent| {
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let Some(wave) = target.closest(".seekable").ok().flatten() else { return };
        let r = wave.get_bounding_client_rect();
        let share = ((f64::from(ev.client_x()) - r.left()) / r.width().max(1.0)).clamp(0.0, 1.0);
        if let Some(p) = player.get_untracked() {
            p.set_current_time(share * duration);
        }
        at.set(share);
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let step = match ev.key().as_str() {
            "ArrowLeft" => -5.0,
            "ArrowRight" => 5.0,
            _ => return,
        };
        ev.prevent_default();
        if let Some(p) = player.get_untracked() {
            p.set_current_time((p.current_time() + step).clamp(0.0, duration));
            at.set(p.current_time() / duration);
        }
    };
    let facts = [
        ("Duration", format!("{:.1} s", a.duration_seconds)),
        ("Kind", a.kind.as_str().to_string()),
        ("File", format!("{} ({}, {})", a.original_filename, a.original_format.to_uppercase(), a.original_codec)),
        (
            "Sound",
            format!("{} Hz, {} channel(s); kept as {} Hz FLAC", a.original_rate, a.original_channels, a.canonical_rate),
        ),
        ("Loudness", a.loudness_lufs.map_or("—".to_string(), |l| format!("{l:.1} LUFS"))),
        ("Licence", a.license.name().to_string()),
        ("Uploaded", a.created_at.get(..10).unwrap_or_default().to_string()),
    ];
    view! {
        <section class="card audio-page" data-audio-id=id.to_string()>
            <div class="card-head">
                <h1>{name.clone()}</h1>
                {a.is_public.then(|| view! { <span class="badge">"Public"</span> })}
            </div>
            <div class="seekable" tabindex="0" role="slider" aria-label=format!("Position in {name}")
                aria-valuemin="0" aria-valuemax=format!("{:.1}", a.duration_seconds)
                aria-valuenow=move || format!("{:.1}", at.get() * duration)
                on:click=seek on:keydown=keys>
                <Waveform columns=d.card.waveform.clone() label=format!("Waveform of {name}") />
                <div class="playhead" style=move || format!("left: {:.2}%", at.get() * 100.0)></div>
            </div>
            <audio controls preload="metadata" node_ref=player src=a.canonical_url()
                on:timeupdate=move |_| if let Some(p) = player.get_untracked() { at.set(p.current_time() / duration) }></audio>
            <dl class="audio-facts">
                {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            {d.editable.then(|| view! { <Usage shared=d.card.shared_in.clone() clips=d.clips /> })}
        </section>
        {d.editable.then(|| view! { <AudioSettings a=a.clone() refresh /> })}
    }
}

/// Where an audio is used: the compositions it is a track of and the clips cut from it.
#[component]
fn Usage(shared: Vec<super::SharedIn>, clips: u64) -> impl IntoView {
    view! {
        <h2>"Where it is used"</h2>
        {if shared.is_empty() && clips == 0 {
            view! { <p class="muted">"Nowhere yet."</p> }.into_any()
        } else {
            view! {
                <ul>
                    {shared.into_iter().map(|s| view! {
                        <li>"A track of " <a href=format!("/studio/{}", s.composition_id)>{s.title}</a>
                            <span class="muted">{format!(" ({})", s.visibility.as_str())}</span></li>
                    }).collect_view()}
                    {(clips > 0).then(|| view! { <li>{format!("{clips} clip(s) cut from it for annotation")}</li> })}
                </ul>
            }.into_any()
        }}
    }
}

/// The owner's controls: title, visibility, licence, and deletion.
#[component]
fn AudioSettings(a: AudioInfo, refresh: Callback<()>) -> impl IntoView {
    let id = a.id;
    let title = RwSignal::new(a.title.clone().unwrap_or_default());
    let public = RwSignal::new(a.is_public);
    let licence = RwSignal::new(a.license.id().to_string());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        leptos::task::spawn_local(async move {
            let sent = update_audio_fn(
                id,
                Some(title.get_untracked()),
                Some(public.get_untracked()),
                Some(licence.get_untracked()),
            );
            match sent.await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                    refresh.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let navigate = use_navigate();
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let question = "Delete this audio, its stored files and the clips cut from it? This cannot be undone.";
            if !web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false) {
                return;
            }
        }
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match delete_audio_fn(id).await {
                Ok(()) => navigate("/library", Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Settings"</h2>
            <form class="stacked-form" on:submit=save>
                <label>"Title" <input id="audio-title" maxlength="200" placeholder=a.original_filename.clone() bind:value=title /></label>
                <label class="checkbox"><input id="audio-public" type="checkbox" bind:checked=public />"Public: anyone may hear and download it"</label>
                <label>"Licence"
                    <select id="audio-licence" on:change=move |ev| licence.set(event_target_value(&ev))>
                        {Licence::ALL.map(|l| view! { <option value=l.id() selected=l == a.license>{l.name()}</option> }).collect_view()}
                    </select>
                </label>
                <div class="row">
                    <button type="submit" class="primary">"Save"</button>
                    {move || saved.get().then(|| view! { <span class="muted" role="status">"Saved."</span> })}
                </div>
            </form>
            <p><button type="button" class="danger" on:click=remove>"Delete audio"</button></p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}
