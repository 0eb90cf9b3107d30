//! One track's lane on the timeline: its mixer controls and its clip, moved by dragging or keys.
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::Waveform;
use crate::studio::desk::{Edit, LaneControl, UNDO_DEPTH};
use crate::studio::{TrackInfo, TrackPatch, update_track_fn};

/// A take whose capture reported a stall of the browser's audio (see `stall_step`).
fn stalled_ms(track: &TrackInfo) -> Option<f64> {
    track.capture.as_ref()?.get("stalled_ms")?.as_f64().filter(|ms| *ms > 0.0)
}

/// How far the pointer must travel before a press on a lane becomes a drag.
const DRAG_THRESHOLD_PX: f64 = 4.0;

/// Remembers a saved edit for Undo.
pub(super) fn remember(undo: RwSignal<Vec<Edit>>, edit: Edit) {
    undo.update(|edits| {
        edits.push(edit);
        let extra = edits.len().saturating_sub(UNDO_DEPTH);
        edits.drain(..extra);
    });
}

/// A gain as a mixer shows it: "−1.5 dB", "+3.0 dB", "0.0 dB".
fn gain_text(db: f64) -> String {
    if db.abs() < 0.05 { "0.0 dB".into() } else { format!("{db:+.1} dB").replace('-', "−") }
}

/// A pan position as a mixer shows it: "L 25", "C", "R 75".
fn pan_text(pan: f64) -> String {
    let percent = (pan.abs() * 100.0).round();
    match pan {
        _ if percent == 0.0 => "C".into(),
        p if p < 0.0 => format!("L {percent}"),
        _ => format!("R {percent}"),
    }
}

#[component]
pub(super) fn Lane(
    track: TrackInfo,
    columns: Vec<(f32, f32)>,
    zoom: RwSignal<f64>,
    can_edit: bool,
    refresh: Callback<()>,
    snap: RwSignal<bool>,
    seconds_per_beat: f64,
    focused: RwSignal<Option<(Uuid, LaneControl)>>,
    /// The taxonomy as (slug, name), for changing the track's instrument.
    instruments: Vec<(String, String)>,
    /// Where saved edits are remembered for Undo.
    undo: RwSignal<Vec<Edit>>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let (edit_name, edit_instrument) = (track.name.clone(), track.instrument.clone());
    let rate = track.canonical_rate.max(1) as f64;
    let block = NodeRef::<leptos::html::Div>::new();
    let gain_input = NodeRef::<leptos::html::Input>::new();
    let pan_input = NodeRef::<leptos::html::Input>::new();
    // The control used last keeps the focus when a save draws the lanes again.
    Effect::new(move |_| {
        let el: Option<leptos::web_sys::HtmlElement> = match focused.get_untracked() {
            Some((t, LaneControl::Clip)) if t == track.id => block.get().map(Into::into),
            Some((t, LaneControl::Gain)) if t == track.id => gain_input.get().map(Into::into),
            Some((t, LaneControl::Pan)) if t == track.id => pan_input.get().map(Into::into),
            _ => None,
        };
        if let Some(el) = el {
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
    // What the sliders show: the saved values, then what the musician drags them to. Set as the
    // inputs' properties after their range, so the browser never clamps them to its default
    // 0–100 range with step 1 (which showed −24 dB as 0 dB and a pan of 0.75 as 1).
    let (saved_gain, saved_pan) = (track.gain_db, track.pan);
    let gain = RwSignal::new(saved_gain);
    let pan = RwSignal::new(saved_pan);
    // A refused change (another member's track, a removed role) says so and puts the lane back.
    let before = StoredValue::new(track.clone());
    let save = move |patch: TrackPatch| {
        let edit = Edit { track: id, undo: patch.undoing(&before.get_value()), what: patch.what() };
        leptos::task::spawn_local(async move {
            match update_track_fn(id, patch).await {
                Ok(_) => {
                    remember(undo, edit);
                    refresh.run(())
                }
                Err(e) => {
                    start.set(saved_start);
                    gain.set(saved_gain);
                    pan.set(saved_pan);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };
    let (mute, solo) = (track.mute, track.solo);
    let slider = move |ev: &leptos::ev::Event| event_target_value(ev).parse::<f64>().ok().filter(|v| v.is_finite());
    view! {
        <div class="lane" class:master=track.is_master data-track=track.name.clone()>
            <div class="lane-head">
                <strong>{track.name.clone()}</strong>
                <span class="muted">{format!(" {}{}", track.instrument, if track.is_master { " · master" } else { "" })}</span>
                {can_edit.then(|| view! {
                    <button type="button" class="small link" aria-expanded=move || editing.get().to_string()
                        aria-label=format!("Edit track {}", track.name) on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                })}
                {move || error.get().map(|e| view! { <span class="error" role="alert">{format!(" · {e}")}</span> })}
                {stalled_ms(&track).map(|ms| view! {
                    <span class="warning" title="The browser's audio stalled while this take was recorded (the computer was too busy): listen for a click or a gap, and record again if you hear one.">
                        {format!(" · audio stalled {ms:.0} ms")}
                    </span>
                })}
                {move || editing.get().then(|| view! {
                    <super::track_edit::TrackEditor id=id name=edit_name.clone() instrument=edit_instrument.clone()
                        instruments=instruments.clone() refresh=refresh close=Callback::new(move |_| editing.set(false))
                        saved=Callback::new(move |patch: TrackPatch| remember(undo, Edit { track: id, undo: patch.undoing(&before.get_value()), what: patch.what() })) />
                })}
                <div class="mixer">
                    <label>"Gain" <input type="range" min="-60" max="12" step="0.5" value=saved_gain prop:value=move || gain.get().to_string()
                        node_ref=gain_input disabled=!can_edit aria-valuetext=move || gain_text(gain.get())
                        on:input=move |ev| if let Some(v) = slider(&ev) { gain.set(v) }
                        on:change=move |ev| if let Some(v) = slider(&ev) {
                            focused.set(Some((id, LaneControl::Gain)));
                            save(TrackPatch { gain_db: Some(v), ..Default::default() })
                        } />
                        <output>{move || gain_text(gain.get())}</output></label>
                    <label>"Pan" <input type="range" min="-1" max="1" step="0.05" value=saved_pan prop:value=move || pan.get().to_string()
                        node_ref=pan_input disabled=!can_edit aria-valuetext=move || pan_text(pan.get())
                        on:input=move |ev| if let Some(v) = slider(&ev) { pan.set(v) }
                        on:change=move |ev| if let Some(v) = slider(&ev) {
                            focused.set(Some((id, LaneControl::Pan)));
                            save(TrackPatch { pan: Some(v), ..Default::default() })
                        } />
                        <output>{move || pan_text(pan.get())}</output></label>
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
                        focused.set(Some((id, LaneControl::Clip)));
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

#[cfg(test)]
mod tests {
    use super::{gain_text, pan_text};

    #[test]
    fn mixer_values_read_as_a_musician_expects() {
        assert_eq!(
            (gain_text(-1.5), gain_text(0.0), gain_text(3.0), gain_text(-60.0)),
            ("−1.5 dB".into(), "0.0 dB".into(), "+3.0 dB".into(), "−60.0 dB".into())
        );
        assert_eq!(
            (pan_text(0.0), pan_text(-0.25), pan_text(0.75), pan_text(1.0)),
            ("C".into(), "L 25".into(), "R 75".into(), "R 100".into())
        );
    }
}
