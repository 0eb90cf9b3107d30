//! Studio pages: the composition list, a composition's timeline with its tracks and mixer, and the
//! invitation landing page.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use uuid::Uuid;

use super::{
    CompositionView, NewCollection, NewComposition, NewInvitation, NewTrack, Role, TrackInfo, TrackPatch, Visibility,
    accept_invitation, add_track_fn, create_collection_fn, create_composition_fn, get_collection, get_composition,
    invite_member, preview_invitation, render_mixdown_fn, studio_home, update_track_fn,
};
use crate::auth::use_me;
use crate::components::{ErrorNotice, SignInRequired, Waveform};

/// The most bar marks the ruler of a composition draws.
const MAX_RULER_MARKS: usize = 400;

#[component]
pub fn StudioPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let home = Resource::new(move || version.get(), |_| studio_home());
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Studio · Tutti" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(h) => {
                        let mine: Vec<(Uuid, String)> = h.collections.iter().filter(|c| c.mine).map(|c| (c.id, c.title.clone())).collect();
                        view! {
                            <section class="card">
                                <h1>"Studio"</h1>
                                <p class="lead">"Compositions you can open. Record or upload tracks over the master track, together."</p>
                                <CompositionList list=h.compositions />
                            </section>
                            <section class="card">
                                <h2>"Collections"</h2>
                                {if h.collections.is_empty() {
                                    view! { <p class="muted">"No collections yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="collection-list">
                                            {h.collections.into_iter().map(|c| view! {
                                                <li>
                                                    <a href=format!("/studio/collections/{}", c.id)>{c.title.clone()}</a>
                                                    <span class="muted">{format!(" · {} · {} composition(s) · {}", c.owner_name, c.compositions, c.visibility.as_str())}</span>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                {h.signed_in.then(|| view! { <NewCollectionForm refresh=refresh /> })}
                            </section>
                            {h.signed_in.then(|| view! { <NewCompositionForm collections=mine preset=None /> })}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CompositionList(list: Vec<super::CompositionInfo>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No compositions yet."</p> }.into_any();
    }
    view! {
        <ul class="composition-list">
            {list.into_iter().map(|c| view! {
                <li>
                    <a href=format!("/studio/{}", c.id)>{c.title.clone()}</a>
                    <span class="muted">{format!(" · {} BPM · {}/{} · {} · you: {}", c.tempo_bpm, c.meter_beats, c.meter_unit, c.visibility.as_str(), c.my_role.as_str())}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn NewCollectionForm(refresh: Callback<()>) -> impl IntoView {
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
pub fn CollectionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_collection(id).await,
            None => Err(crate::error::AppError::NotFound),
        }
    });
    view! {
        <Title text="Collection · Tutti" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => {
                        let c = v.collection;
                        view! {
                            <section class="card">
                                <p><a href="/studio">"← Studio"</a></p>
                                <h1>{c.title.clone()}</h1>
                                <p class="muted">{format!("A collection by {} · {}", c.owner_name, c.visibility.as_str())}</p>
                                {(!c.description.is_empty()).then(|| view! { <p>{c.description.clone()}</p> })}
                                <CompositionList list=v.compositions />
                            </section>
                            {c.mine.then(|| view! { <NewCompositionForm collections=vec![(c.id, c.title.clone())] preset=Some(c.id) /> })}
                        }.into_any()
                    }
                    Err(crate::error::AppError::NotFound) => view! { <crate::components::NotFound /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NewCompositionForm(collections: Vec<(Uuid, String)>, preset: Option<Uuid>) -> impl IntoView {
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

#[component]
pub fn CompositionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let version = RwSignal::new(0u32);
    let view_data = Resource::new(
        move || (id(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_composition(id).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    // Made here, once, outside the Transition: a Suspend closure may run more than once on the
    // server, and resources made inside it would not match the browser's.
    let taxonomy = Resource::new(|| (), |_| crate::instruments::list_instruments());
    // The musician's view survives every save: a save refetches the composition and draws it
    // again, with these same signals.
    let desk = Desk::new();
    // Leaving the page stops what it started: playback, and the microphone (a take in progress
    // is dropped rather than left recording behind another page).
    #[cfg(feature = "hydrate")]
    on_cleanup(|| {
        let _ = super::player::pause();
        super::recorder::disarm();
    });
    view! {
        <Title text="Composition · Tutti" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(v) => view! { <Composition data=v refresh=refresh taxonomy desk /> }.into_any(),
                    Err(crate::error::AppError::NotFound) => view! { <crate::components::NotFound /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The instrument taxonomy, as a resource.
type Taxonomy = Resource<Result<Vec<crate::instruments::Instrument>, crate::error::AppError>>;

/// What a musician set on the composition page that is not saved on the server: zoom, snap, the
/// playhead and the recorder's choices.
#[derive(Clone, Copy)]
pub struct Desk {
    /// Pixels per second.
    pub zoom: RwSignal<f64>,
    pub snap: RwSignal<bool>,
    pub position: RwSignal<f64>,
    pub playing: RwSignal<bool>,
    /// The lane moved from the keyboard last: it keeps the focus when the lanes are drawn again.
    pub focused_track: RwSignal<Option<Uuid>>,
    pub instrument: RwSignal<String>,
    pub metronome: RwSignal<bool>,
    /// "Stop after (s)", as typed.
    pub limit: RwSignal<String>,
}

impl Desk {
    fn new() -> Self {
        Desk {
            zoom: RwSignal::new(40.0),
            snap: RwSignal::new(true),
            position: RwSignal::new(0.0),
            playing: RwSignal::new(false),
            focused_track: RwSignal::new(None),
            instrument: RwSignal::new("voice".to_string()),
            metronome: RwSignal::new(true),
            limit: RwSignal::new(String::new()),
        }
    }
}

#[component]
fn Composition(data: CompositionView, refresh: Callback<()>, taxonomy: Taxonomy, desk: Desk) -> impl IntoView {
    let c = data.composition.clone();
    let zoom = desk.zoom;
    let longest = data
        .tracks
        .iter()
        .map(|t| t.offset_frames as f64 / t.canonical_rate.max(1) as f64 + t.duration_seconds)
        .fold(10.0, f64::max);
    let seconds_per_bar = 60.0 / c.tempo_bpm * c.meter_beats as f64 * (4.0 / c.meter_unit as f64);
    // A mark per bar, but never more than MAX_RULER_MARKS: a long or fast composition marks every
    // k-th bar, so the page costs the same whatever the tracks' offsets.
    let bars = (longest / seconds_per_bar).ceil().clamp(0.0, 1e12) as usize + 1;
    let bar_step = bars.div_ceil(MAX_RULER_MARKS).max(1);
    let can_edit = c.my_role >= Role::Contributor;
    let can_master = c.my_role >= Role::Editor;
    let snap = desk.snap;
    let seconds_per_beat = 60.0 / c.tempo_bpm * (4.0 / c.meter_unit as f64);
    let playing = desk.playing;
    let position = desk.position;
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let end_seconds = data
        .tracks
        .iter()
        .map(|t| t.offset_frames as f64 / t.canonical_rate.max(1) as f64 + t.duration_seconds)
        .fold(0.0, f64::max);
    let player_error: RwSignal<Option<String>> = RwSignal::new(None);
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let tracks_for_player = StoredValue::new(data.tracks.clone());
    // A save while playing (gain, pan, mute, solo, a moved track) is heard at once: the tracks as
    // saved are scheduled again from where the playhead is.
    #[cfg(feature = "hydrate")]
    if super::player::is_playing() {
        let tracks = data.tracks.clone();
        leptos::task::spawn_local(async move {
            let at = super::player::position().unwrap_or_else(|_| position.get_untracked());
            if super::player::load(&tracks).await.is_ok() {
                let _ = super::player::seek(&tracks, at);
            }
        });
    }
    let toggle = move || {
        #[cfg(feature = "hydrate")]
        {
            if super::player::is_playing() {
                if let Ok(at) = super::player::pause() {
                    position.set(at);
                }
                playing.set(false);
            } else {
                let tracks = tracks_for_player.get_value();
                // Play after the end (where playback stopped) starts again from the top.
                let from = Some(position.get_untracked()).filter(|p| *p < end_seconds).unwrap_or(0.0);
                leptos::task::spawn_local(async move {
                    let started = match super::player::load(&tracks).await {
                        Ok(()) => super::player::play(&tracks, from),
                        Err(e) => Err(e),
                    };
                    match started {
                        Ok(()) => playing.set(true),
                        Err(e) => player_error.set(Some(format!("Playback failed: {e:?}"))),
                    }
                });
            }
        }
    };
    let seek_to = move |to: f64| {
        position.set(to.max(0.0));
        #[cfg(feature = "hydrate")]
        let _ = super::player::seek(&tracks_for_player.get_value(), to);
    };
    let stop = move || {
        #[cfg(feature = "hydrate")]
        {
            let _ = super::player::pause();
            playing.set(false);
        }
        seek_to(0.0);
    };
    #[cfg(feature = "hydrate")]
    {
        // The transport follows the player, which outlives this view: after a refresh rebuilds
        // the page while audio plays (a track saved, a take stored), Play/Pause and the clock
        // still say what is sounding.
        if let Ok(h) = set_interval_with_handle(
            move || {
                let now = super::player::is_playing();
                if playing.get_untracked() != now {
                    playing.set(now);
                }
                if now && let Ok(p) = super::player::position() {
                    // Playback stops where the last track ends, unless a take is being recorded
                    // (which runs as long as the musician plays).
                    if p >= end_seconds && super::recorder::take_progress().is_none() {
                        let _ = super::player::pause();
                        playing.set(false);
                        position.set(end_seconds);
                    } else {
                        position.set(p);
                    }
                }
            },
            std::time::Duration::from_millis(100),
        ) {
            on_cleanup(move || h.clear());
        }
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = super::typing_in_field(&ev);
            if ev.key() == " " && !typing && !super::on_keyboard_control(&ev) {
                ev.prevent_default();
                toggle();
            }
        });
        on_cleanup(move || keys.remove());
    }
    view! {
        <section class="card composition-page" data-role=c.my_role.as_str()>
            <div class="card-head">
                <h1>{c.title.clone()}</h1>
                <span class="muted">{format!("{} BPM · {}/{} · count-in {} bar(s) · {} · you are {}", c.tempo_bpm, c.meter_beats, c.meter_unit, c.count_in_bars, c.visibility.as_str(), c.my_role.as_str())}</span>
            </div>
            <div class="transport" data-playing=move || playing.get().to_string()>
                <button type="button" class="primary" on:click=move |_| toggle()>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                    <kbd>"Space"</kbd>
                </button>
                <button type="button" on:click=move |_| stop()>"Stop"</button>
                <span class="position">{move || format!("{:.1} s · bar {}", position.get(), (position.get() / seconds_per_bar).floor() as i64 + 1)}</span>
                {move || player_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
            </div>
            <div class="timeline-tools">
                <label class="zoom">"Zoom" <input type="range" min="10" max="200" prop:value=move || zoom.get() on:input=move |ev| zoom.set(event_target_value(&ev).parse().unwrap_or(40.0)) /></label>
                <label class="checkbox"><input type="checkbox" bind:checked=snap />"Snap to beat"</label>
                <span class="hint">"Drag a track to move it in time."</span>
            </div>
            <div class="timeline">
                <div
                    class="ruler"
                    title="Click to move the playhead"
                    style=move || format!("width: {:.0}px", longest * zoom.get())
                    on:click=move |ev| {
                        let target = event_target::<leptos::web_sys::Element>(&ev);
                        let rect = target.closest(".ruler").ok().flatten().map(|e| e.get_bounding_client_rect());
                        if let Some(r) = rect {
                            seek_to((ev.client_x() as f64 - r.left()) / zoom.get_untracked());
                        }
                    }
                >
                    <div class="playhead" style=move || format!("left: {:.1}px", position.get() * zoom.get())></div>
                    {(0..bars).step_by(bar_step).map(|b| view! {
                        <span class="bar" style=move || format!("left: {:.1}px", b as f64 * seconds_per_bar * zoom.get())>{b + 1}</span>
                    }).collect_view()}
                </div>
                {data.tracks.clone().into_iter().map(|t| view! { <Lane columns=data.waveforms.get(&t.audio_id).cloned().unwrap_or_default() can_edit=data.editable.contains(&t.id) track=t zoom=zoom refresh=refresh focused=desk.focused_track snap=snap seconds_per_beat=seconds_per_beat /> }).collect_view()}
            </div>
            {data.tracks.is_empty().then(|| view! { <p class="muted">"No tracks yet. Add the master track first."</p> })}
            <Mixdown composition=c.id mixdown=c.mixdown_id can_render=can_master refresh=refresh />
        </section>
        {can_edit.then(|| view! {
            <super::record::Recorder
                composition=c.id
                tracks=data.tracks.clone()
                instruments=data.instruments.clone()
                position=position
                playing=playing
                beat_seconds=seconds_per_beat
                beats_per_bar=c.meter_beats.max(1) as u32
                count_in_bars=c.count_in_bars.max(0) as u32
                canonical_rate=data.canonical_rate
                refresh=refresh
                desk=desk
            />
        })}
        {can_edit.then(|| view! { <AddTrack composition=c.id my_audio=data.my_audio.clone() can_master=can_master refresh=refresh instruments=taxonomy /> })}
        {(c.my_role == Role::Owner).then(|| view! { <Members composition=c.id members=data.members.clone() /> })}
    }
}

/// A take whose capture reported a stall of the browser's audio (see `stall_step`).
fn stalled_ms(track: &TrackInfo) -> Option<f64> {
    track.capture.as_ref()?.get("stalled_ms")?.as_f64().filter(|ms| *ms > 0.0)
}

/// How far the pointer must travel before a press on a lane becomes a drag.
const DRAG_THRESHOLD_PX: f64 = 4.0;

#[component]
fn Lane(
    track: TrackInfo,
    columns: Vec<(f32, f32)>,
    zoom: RwSignal<f64>,
    can_edit: bool,
    refresh: Callback<()>,
    snap: RwSignal<bool>,
    seconds_per_beat: f64,
    focused: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    let rate = track.canonical_rate.max(1) as f64;
    let block = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = block.get()
            && focused.get_untracked() == Some(track.id)
        {
            let _ = el.focus();
        }
    });
    let saved_start = track.offset_frames as f64 / rate;
    let start = RwSignal::new(saved_start);
    // While dragging: where the pointer went down, the start at that moment, and whether it moved.
    let drag: RwSignal<Option<(f64, f64, bool)>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let duration = track.duration_seconds;
    let id = track.id;
    // A refused change (another member's track, a removed role) says so and puts the lane back.
    let save = move |patch: TrackPatch| {
        leptos::task::spawn_local(async move {
            match update_track_fn(id, patch).await {
                Ok(_) => refresh.run(()),
                Err(e) => {
                    start.set(saved_start);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };
    let (gain, pan, mute, solo) = (track.gain_db, track.pan, track.mute, track.solo);
    view! {
        <div class="lane" class:master=track.is_master data-track=track.name.clone()>
            <div class="lane-head">
                <strong>{track.name.clone()}</strong>
                <span class="muted">{format!(" {}{}", track.instrument, if track.is_master { " · master" } else { "" })}</span>
                {move || error.get().map(|e| view! { <span class="error" role="alert">{format!(" · {e}")}</span> })}
                {stalled_ms(&track).map(|ms| view! {
                    <span class="warning" title="The browser's audio stalled while this take was recorded (the computer was too busy): listen for a click or a gap, and record again if you hear one.">
                        {format!(" · audio stalled {ms:.0} ms")}
                    </span>
                })}
                <div class="mixer">
                    <label>"Gain" <input type="range" min="-60" max="12" step="0.5" value=gain disabled=!can_edit
                        on:change=move |ev| save(TrackPatch { gain_db: event_target_value(&ev).parse().ok(), ..Default::default() }) /></label>
                    <label>"Pan" <input type="range" min="-1" max="1" step="0.05" value=pan disabled=!can_edit
                        on:change=move |ev| save(TrackPatch { pan: event_target_value(&ev).parse().ok(), ..Default::default() }) /></label>
                    <button type="button" class="small" aria-pressed=mute.to_string() disabled=!can_edit on:click=move |_| save(TrackPatch { mute: Some(!mute), ..Default::default() })>"M"</button>
                    <button type="button" class="small" aria-pressed=solo.to_string() disabled=!can_edit on:click=move |_| save(TrackPatch { solo: Some(!solo), ..Default::default() })>"S"</button>
                    <a class="small" href=format!("/api/v1/audio/{}/canonical", track.audio_id) download=format!("{}.flac", track.name) rel="external" title="Download this stem">"Stem"</a>
                </div>
            </div>
            <div class="lane-body">
                <div
                    class="clip-block"
                    node_ref=block
                    class:draggable=can_edit
                    style=move || format!("margin-left: {:.1}px; width: {:.1}px", start.get() * zoom.get(), duration * zoom.get())
                    // Movable from the keyboard too: ←/→ by a beat (10 ms without snap), Shift for four.
                    tabindex=if can_edit { "0" } else { "-1" }
                    role="slider"
                    aria-label=format!("Start of {}", track.name)
                    aria-valuenow=move || format!("{:.3}", start.get())
                    aria-valuetext=move || format!("{:.2} s", start.get())
                    aria-disabled=(!can_edit).to_string()
                    on:keydown=move |ev| {
                        let direction = match ev.key().as_str() {
                            "ArrowLeft" => -1.0,
                            "ArrowRight" => 1.0,
                            _ => return,
                        };
                        if !can_edit {
                            return;
                        }
                        ev.prevent_default();
                        let step = if snap.get_untracked() && seconds_per_beat > 0.0 { seconds_per_beat } else { 0.01 };
                        let step = if ev.shift_key() { 4.0 * step } else { step };
                        let s = (start.get_untracked() + direction * step).max(-duration);
                        start.set(s);
                        focused.set(Some(id));
                        error.set(None);
                        save(TrackPatch { offset_frames: Some((s * rate).round() as i64), ..Default::default() });
                    }
                    on:pointerdown=move |ev| {
                        if can_edit {
                            drag.set(Some((ev.client_x() as f64, start.get_untracked(), false)));
                            let target = event_target::<leptos::web_sys::Element>(&ev);
                            let _ = target.set_pointer_capture(ev.pointer_id());
                        }
                    }
                    on:pointermove=move |ev| {
                        if let Some((x0, s0, moved)) = drag.get_untracked() {
                            let dx = ev.client_x() as f64 - x0;
                            // A click is not a move: the pointer must travel a few pixels first.
                            if moved || dx.abs() >= DRAG_THRESHOLD_PX {
                                drag.set(Some((x0, s0, true)));
                                // A track may start before the composition's zero (a take shifted
                                // earlier by its latency), but some of it stays on the timeline.
                                start.set((s0 + dx / zoom.get_untracked()).max(-duration));
                            }
                        }
                    }
                    on:pointerup=move |_| {
                        if let Some((_, s0, moved)) = drag.get_untracked() {
                            drag.set(None);
                            if !moved {
                                return;
                            }
                            let mut s = start.get_untracked();
                            // Snapping moves by whole beats, so what is below a beat (a take's
                            // latency compensation, a hand-placed offset) is kept.
                            if snap.get_untracked() && seconds_per_beat > 0.0 {
                                s = s0 + ((s - s0) / seconds_per_beat).round() * seconds_per_beat;
                                start.set(s);
                            }
                            if (s - s0).abs() * rate >= 0.5 {
                                error.set(None);
                                save(TrackPatch { offset_frames: Some((s * rate).round() as i64), ..Default::default() });
                            }
                        }
                    }
                >
                    <Waveform columns=columns label="Track waveform" />
                </div>
            </div>
        </div>
    }
}

#[component]
fn Mixdown(composition: Uuid, mixdown: Option<Uuid>, can_render: bool, refresh: Callback<()>) -> impl IntoView {
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

#[component]
fn AddTrack(
    composition: Uuid,
    my_audio: Vec<(Uuid, String)>,
    can_master: bool,
    refresh: Callback<()>,
    instruments: Taxonomy,
) -> impl IntoView {
    let audio = RwSignal::new(my_audio.first().map(|(id, _)| id.to_string()).unwrap_or_default());
    let name = RwSignal::new(String::new());
    let instrument = RwSignal::new("piano".to_string());
    let master = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    // A file chosen here is uploaded through the uploader, then placed as a track.
    let upload_state = RwSignal::new(crate::ingest::UploadState::Processing);
    let uploading = RwSignal::new(false);
    // Places `audio_id` as a new track at the start, named as typed (or `fallback_name`).
    let place = move |audio_id: Uuid, fallback_name: String| {
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
        if let crate::ingest::UploadState::Done { id, .. } = upload_state.get()
            && uploading.get_untracked()
        {
            uploading.set(false);
            place(id, file_name.get_value());
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        let input = event_target::<leptos::web_sys::HtmlInputElement>(&ev);
        let Some(file) = input.files().and_then(|l| l.get(0)) else { return };
        let stem = file.name().rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or(file.name());
        file_name.set_value(stem);
        upload_state.set(crate::ingest::UploadState::Uploading { sent: 0.0, total: file.size() });
        uploading.set(true);
        #[cfg(feature = "hydrate")]
        crate::ingest::browser::upload(file, String::new(), false, "upload", upload_state);
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
                        <select id="track-instrument" on:change=move |ev| instrument.set(event_target_value(&ev))>
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    instruments.await.unwrap_or_default().into_iter().map(|i| {
                                        let selected = i.slug == "piano";
                                        view! { <option value=i.slug.clone() selected=selected>{i.name}</option> }
                                    }).collect_view()
                                })}
                            </Suspense>
                        </select>
                    </label>
                </div>
                {can_master.then(|| view! { <label class="checkbox"><input type="checkbox" bind:checked=master />"Master (sync) track"</label> })}
                <label>"…or upload a file as a new track "
                    <input id="track-file" type="file" accept="audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.m4a" on:change=on_file />
                </label>
                {move || match upload_state.get() {
                    crate::ingest::UploadState::Uploading { sent, total } if uploading.get() => view! { <progress max=total.max(1.0) value=sent></progress> }.into_any(),
                    crate::ingest::UploadState::Processing if uploading.get() => view! { <progress></progress> }.into_any(),
                    crate::ingest::UploadState::Failed(m) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                    _ => ().into_any(),
                }}
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Add track"</button>
            </form>
        </section>
    }
}

#[component]
fn Members(composition: Uuid, members: Vec<super::MemberInfo>) -> impl IntoView {
    let role = RwSignal::new("contributor".to_string());
    let link: RwSignal<Option<String>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Viewer);
        leptos::task::spawn_local(async move {
            match invite_member(composition, NewInvitation { role, expires_in_hours: None }).await {
                Ok(inv) => link.set(Some(inv.path)),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Members"</h2>
            <ul>
                {members.into_iter().map(|m| view! { <li>{m.display_name}" — "{m.role.as_str()}</li> }).collect_view()}
            </ul>
            <form class="inline-form" on:submit=invite>
                <label for="invite-role">"Invite as"</label>
                <select id="invite-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="editor">"Editor"</option>
                    <option value="contributor" selected>"Contributor"</option>
                    <option value="viewer">"Viewer"</option>
                </select>
                <button type="submit">"Create invitation link"</button>
            </form>
            {move || link.get().map(|p| view! {
                <div class="notice" role="status">
                    <p>"Send this single-use link (valid for a week):"</p>
                    <code class="secret invite-link">{p}</code>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let me = use_me();
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let navigate = use_navigate();
    let accept = move |_| {
        let token = params.read_untracked().get("token").unwrap_or_default();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match accept_invitation(token).await {
                Ok(id) => navigate(&format!("/studio/{id}"), Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    // Made here, outside the Suspense (see ARCHITECTURE): what the link offers.
    let preview = Resource::new(
        move || params.read().get("token").unwrap_or_default(),
        |token| async move {
            if token.is_empty() { Err(crate::error::AppError::NotFound) } else { preview_invitation(token).await }
        },
    );
    view! {
        <Title text="Invitation · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let accept = accept.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(_)) => match preview.await {
                            Ok(p) => view! {
                                <section class="card narrow">
                                    <h1>"You are invited"</h1>
                                    <p>{format!("{} invites you to “{}” as {}.", p.owner_name, p.composition_title, p.role.as_str())}</p>
                                    {match p.unusable {
                                        Some(why) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
                                        None => view! {
                                            <button type="button" class="primary" on:click=accept>"Accept invitation"</button>
                                        }.into_any(),
                                    }}
                                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                                </section>
                            }.into_any(),
                            Err(crate::error::AppError::NotFound) => view! {
                                <section class="card narrow">
                                    <h1>"This invitation link does not work"</h1>
                                    <p>"No invitation has this address: check that the whole link was copied, or ask for a new one."</p>
                                </section>
                            }.into_any(),
                            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        },
                        _ => view! { <SignInRequired /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
