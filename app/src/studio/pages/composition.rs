//! A composition's page: the transport, the ruler and the timeline of its tracks, with the panels
//! for recording, adding tracks, the mixdown and members.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::Taxonomy;
use super::add_track::AddTrack;
use super::lane::Lane;
use super::members::Members;
use super::mixdown::Mixdown;
use crate::components::ErrorNotice;
use crate::studio::desk::Desk;
use crate::studio::record::Recorder;
use crate::studio::{CompositionView, Role, get_composition};
#[cfg(feature = "hydrate")]
use crate::studio::{player, recorder, shortcuts};

/// The most bar marks the ruler of a composition draws.
const MAX_RULER_MARKS: usize = 400;

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
        let _ = player::pause();
        recorder::disarm();
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
    if player::is_playing() {
        let tracks = data.tracks.clone();
        leptos::task::spawn_local(async move {
            let at = player::position().unwrap_or_else(|_| position.get_untracked());
            if player::load(&tracks).await.is_ok() {
                let _ = player::seek(&tracks, at);
            }
        });
    }
    let toggle = move || {
        #[cfg(feature = "hydrate")]
        {
            if player::is_playing() {
                if let Ok(at) = player::pause() {
                    position.set(at);
                }
                playing.set(false);
            } else {
                let tracks = tracks_for_player.get_value();
                // Play after the end (where playback stopped) starts again from the top.
                let from = Some(position.get_untracked()).filter(|p| *p < end_seconds).unwrap_or(0.0);
                leptos::task::spawn_local(async move {
                    let started = match player::load(&tracks).await {
                        Ok(()) => player::play(&tracks, from),
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
        let _ = player::seek(&tracks_for_player.get_value(), to);
    };
    let stop = move || {
        #[cfg(feature = "hydrate")]
        {
            let _ = player::pause();
            playing.set(false);
        }
        seek_to(0.0);
    };
    // Undo takes back the latest saved track edit on this page by saving what it replaced.
    let undo = desk.undo;
    let undo_error: RwSignal<Option<String>> = RwSignal::new(None);
    let undo_last = move || {
        let Some(edit) = undo.try_update(|edits| edits.pop()).flatten() else { return };
        leptos::task::spawn_local(async move {
            match crate::studio::update_track_fn(edit.track, edit.undo).await {
                Ok(_) => {
                    undo_error.set(None);
                    refresh.run(());
                }
                Err(e) => undo_error.set(Some(format!("Could not undo the {}: {e}", edit.what))),
            }
        });
    };
    // Play before the player's code has loaded would do nothing: the transport waits for it.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let timeline = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        // The transport follows the player, which outlives this view: after a refresh rebuilds
        // the page while audio plays (a track saved, a take stored), Play/Pause and the clock
        // still say what is sounding.
        if let Ok(h) = set_interval_with_handle(
            move || {
                let now = player::is_playing();
                if playing.get_untracked() != now {
                    playing.set(now);
                }
                if now && let Ok(p) = player::position() {
                    // Playback stops where the last track ends, unless a take is being recorded
                    // (which runs as long as the musician plays).
                    if p >= end_seconds && recorder::take_progress().is_none() {
                        let _ = player::pause();
                        playing.set(false);
                        position.set(end_seconds);
                    } else {
                        position.set(p);
                        follow(timeline, p * zoom.get_untracked());
                    }
                }
            },
            std::time::Duration::from_millis(100),
        ) {
            on_cleanup(move || h.clear());
        }
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = shortcuts::typing_in_field(&ev);
            if ev.key() == " " && !typing && !shortcuts::on_keyboard_control(&ev) {
                ev.prevent_default();
                toggle();
            }
            if (ev.key() == "z" || ev.key() == "Z") && (ev.ctrl_key() || ev.meta_key()) && !ev.shift_key() && !typing {
                ev.prevent_default();
                undo_last();
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
                <button type="button" class="primary" on:click=move |_| toggle() disabled=move || !ready.get()
                    title=move || if ready.get() { "" } else { "The player is loading…" }>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                    <kbd>"Space"</kbd>
                </button>
                <button type="button" on:click=move |_| stop() disabled=move || !ready.get()>"Stop"</button>
                <span class="position">{move || format!("{:.1} s · bar {}", position.get(), (position.get() / seconds_per_bar).floor() as i64 + 1)}</span>
                {move || player_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
            </div>
            <div class="timeline-tools">
                <label class="zoom">"Zoom" <input type="range" min="10" max="200" prop:value=move || zoom.get() on:input=move |ev| zoom.set(event_target_value(&ev).parse().unwrap_or(40.0)) /></label>
                <label class="checkbox"><input type="checkbox" bind:checked=snap />"Snap to beat"</label>
                <button type="button" class="small" disabled=move || undo.with(Vec::is_empty) on:click=move |_| undo_last()
                    title="Undo (Ctrl+Z)">
                    {move || undo.with(|e| e.last().map_or("Undo".to_string(), |e| format!("Undo {}", e.what)))}
                </button>
                <span class="hint">"Drag a track to move it in time."</span>
                {move || undo_error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
            </div>
            <div class="timeline" node_ref=timeline>
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
                {data.tracks.clone().into_iter().map(|t| view! { <Lane columns=data.waveforms.get(&t.audio_id).cloned().unwrap_or_default() can_edit=data.editable.contains(&t.id) track=t zoom=zoom refresh=refresh focused=desk.focused_track snap=snap seconds_per_beat=seconds_per_beat instruments=data.instruments.clone() undo=desk.undo /> }).collect_view()}
            </div>
            {data.tracks.is_empty().then(|| view! { <p class="muted">"No tracks yet. Add the master track first."</p> })}
            <Mixdown composition=c.id mixdown=c.mixdown_id current=data.mixdown_current can_render=can_master refresh=refresh />
        </section>
        {can_master.then(|| view! { <super::settings::CompositionSettings c=c.clone() refresh=refresh /> })}
        {can_edit.then(|| view! {
            <Recorder
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
        {can_edit.then(|| view! { <AddTrack composition=c.id my_audio=data.my_audio.clone() can_master=can_master refresh=refresh instruments=taxonomy visibility=c.visibility /> })}
        {(c.my_role == Role::Owner).then(|| view! { <Members composition=c.id members=data.members.clone() refresh=refresh /> })}
    }
}

/// Keeps the playhead (at `x` pixels from the timeline's start) in view while playing: when it
/// leaves the visible part, the timeline turns a page, leaving a little of what was played.
#[cfg(feature = "hydrate")]
fn follow(timeline: NodeRef<leptos::html::Div>, x: f64) {
    let Some(el) = timeline.get_untracked() else { return };
    let (left, width) = (f64::from(el.scroll_left()), f64::from(el.client_width()));
    if width > 0.0 && (x < left || x > left + width * 0.9) {
        el.set_scroll_left((x - width * 0.1).max(0.0) as i32);
    }
}
