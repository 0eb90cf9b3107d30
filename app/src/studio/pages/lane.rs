//! One track's lane on the timeline: its mixer controls and its clip, moved by dragging or keys.
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::Waveform;
use crate::studio::{TrackInfo, TrackPatch, update_track_fn};

/// A take whose capture reported a stall of the browser's audio (see `stall_step`).
fn stalled_ms(track: &TrackInfo) -> Option<f64> {
    track.capture.as_ref()?.get("stalled_ms")?.as_f64().filter(|ms| *ms > 0.0)
}

/// How far the pointer must travel before a press on a lane becomes a drag.
const DRAG_THRESHOLD_PX: f64 = 4.0;

#[component]
pub(super) fn Lane(
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
