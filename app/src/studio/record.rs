//! The studio's recording panel: microphone choice and level, latency measurement, and takes
//! recorded over the other tracks with count-in and metronome, uploaded through the uploader and
//! placed as a track at the cursor, compensated by the measured round trip.
use leptos::prelude::*;
use uuid::Uuid;

use super::{CalibrationInfo, NewTrack, TrackInfo, add_track_fn};
#[cfg(feature = "hydrate")]
use super::{NewCalibration, my_calibrations, save_calibration};
use crate::library::UploadState;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Idle,
    Arming,
    Measuring,
    Recording,
    Saving,
}

/// The armed input: label, the key measurements are stored under, and the capture rate.
#[derive(Clone, Debug, PartialEq)]
struct Input {
    label: String,
    key: String,
    rate: f32,
}

/// Where a take goes once uploaded: name, instrument, offset and provenance.
#[derive(Clone, Debug)]
struct Pending {
    name: String,
    instrument: String,
    offset_frames: i64,
    capture: serde_json::Value,
}

#[component]
#[allow(clippy::too_many_arguments)]
pub fn Recorder(
    composition: Uuid,
    tracks: Vec<TrackInfo>,
    instruments: Vec<(String, String)>,
    position: RwSignal<f64>,
    playing: RwSignal<bool>,
    beat_seconds: f64,
    beats_per_bar: u32,
    count_in_bars: u32,
    canonical_rate: u32,
    refresh: Callback<()>,
    desk: super::desk::Desk,
) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = (playing, beat_seconds, beats_per_bar);
    let phase = RwSignal::new(Phase::Idle);
    let input: RwSignal<Option<Input>> = RwSignal::new(None);
    let devices: RwSignal<Vec<(String, String)>> = RwSignal::new(Vec::new());
    let level = RwSignal::new(0.0f32);
    let calibration: RwSignal<Option<CalibrationInfo>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let notice: RwSignal<Option<String>> = RwSignal::new(None);
    let recorded = RwSignal::new(0.0f64);
    let live: RwSignal<Vec<(f32, f32)>> = RwSignal::new(Vec::new());
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let drawn = StoredValue::new(0.0f64);
    let counting_in = RwSignal::new(false);
    // Takes are numbered among the takes already recorded here, skipping names in use.
    let take_number = {
        let mut n = tracks.iter().filter(|t| t.capture.is_some()).count() + 1;
        while tracks.iter().any(|t| t.name == format!("Take {n}")) {
            n += 1;
        }
        n
    };
    let take_name = RwSignal::new(format!("Take {take_number}"));
    let (instrument, metronome, limit) = (desk.instrument, desk.metronome, desk.limit);
    let upload_state = RwSignal::new(UploadState::Processing);
    let pending: StoredValue<Option<Pending>> = StoredValue::new(None);
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let tracks = StoredValue::new(tracks);

    // The measurement stored for the armed input, if any; a new input has none and is asked for one.
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let load_calibration = move |key: String| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let found = my_calibrations().await.ok().and_then(|list| list.into_iter().find(|c| c.device_key == key));
            calibration.set(found);
        });
    };

    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let arm = move |device: Option<String>| {
        phase.set(Phase::Arming);
        error.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match super::recorder::arm(device).await {
                Ok(a) => {
                    load_calibration(a.device_key.clone());
                    input.set(Some(Input { label: a.label, key: a.device_key, rate: a.rate }));
                    if let Ok(list) = super::recorder::inputs().await {
                        devices.set(list);
                    }
                }
                Err(e) => error.set(Some(format!("The microphone could not be opened: {}", js_message(&e)))),
            }
            phase.set(Phase::Idle);
        });
    };

    let measure = move |_| {
        phase.set(Phase::Measuring);
        error.set(None);
        notice.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let result = super::recorder::measure_latency(5).await;
            match (result, input.get_untracked()) {
                (Ok(m), Some(i)) => {
                    let new = NewCalibration {
                        device_key: i.key,
                        device_label: i.label,
                        latency_ms: m.latency_ms,
                        spread_ms: m.spread_ms,
                        quality_db: m.quality_db,
                        sample_rate: m.rate as i32,
                        runs: m.runs as i32,
                        accepted: m.accepted as i32,
                        user_agent: super::recorder::user_agent(),
                    };
                    match save_calibration(new).await {
                        Ok(saved) => calibration.set(Some(saved)),
                        Err(e) => error.set(Some(e.to_string())),
                    }
                }
                (Err(m), _) => error.set(Some(m)),
                (Ok(_), None) => error.set(Some("Enable the microphone first.".into())),
            }
            phase.set(Phase::Idle);
        });
    };

    // Stop: collect the take, encode it, upload it; the Effect below places it once stored.
    let stop = move || {
        if phase.get_untracked() != Phase::Recording {
            return;
        }
        phase.set(Phase::Saving);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let take = super::recorder::finish_take().await;
            playing.set(false);
            let take = match take {
                Ok(t) if t.samples.is_empty() => {
                    error.set(Some("The take is empty: it was stopped during the count-in.".into()));
                    phase.set(Phase::Idle);
                    return;
                }
                Ok(t) => t,
                Err(e) => {
                    error.set(Some(format!("The take was lost: {}", js_message(&e))));
                    phase.set(Phase::Idle);
                    return;
                }
            };
            if let Some(p) = pending.get_value() {
                let mut p = p;
                p.capture["frames"] = take.samples.len().into();
                p.capture["duration_seconds"] = (take.samples.len() as f64 / f64::from(take.rate)).into();
                p.capture["dropped_frames"] = take.gaps.into();
                p.capture["stalled_ms"] = (take.stalled * 1000.0).round().into();
                pending.set_value(Some(p));
            }
            // A take is never lost for want of a name: an emptied field gives it the default one.
            if take_name.get_untracked().trim().is_empty() {
                take_name.set(format!("Take {take_number}"));
            }
            match super::recorder::take_file(&take, &format!("{}.wav", take_name.get_untracked())) {
                Ok(file) => {
                    upload_state.set(UploadState::Uploading { sent: 0.0, total: file.size() });
                    crate::library::browser::upload(file, String::new(), false, "recording", upload_state);
                }
                Err(e) => {
                    error.set(Some(format!("The take could not be encoded: {}", js_message(&e))));
                    phase.set(Phase::Idle);
                }
            }
        });
    };

    let record = move || {
        if phase.get_untracked() != Phase::Idle {
            return;
        }
        let Some(i) = input.get_untracked() else {
            error.set(Some("Enable the microphone first.".into()));
            return;
        };
        // A take's instrument is stated, never assumed: it labels research data.
        if instrument.get_untracked().is_empty() {
            error.set(Some("Choose the take's instrument first (or “Unknown / several”).".into()));
            return;
        }
        let limit_seconds = limit.get_untracked().trim().parse::<f64>().ok().filter(|l| *l > 0.0);
        let from = position.get_untracked();
        let compensation_ms = calibration.get_untracked().map(|c| c.latency_ms).unwrap_or(0.0);
        let offset_frames = ((from - compensation_ms / 1000.0) * f64::from(canonical_rate)).round() as i64;
        let cal = calibration.get_untracked();
        #[cfg(feature = "hydrate")]
        let (base_latency, output_latency) = super::recorder::context_latencies();
        #[cfg(not(feature = "hydrate"))]
        let (base_latency, output_latency) = (0.0, 0.0);
        #[cfg(feature = "hydrate")]
        let agent = super::recorder::user_agent();
        #[cfg(not(feature = "hydrate"))]
        let agent = String::new();
        let capture = serde_json::json!({
            "source": "browser",
            "browser": agent,
            "input_device": i.label,
            "capture_sample_rate": i.rate,
            "channels": 1,
            "punch_in_seconds": from,
            "count_in_bars": count_in_bars,
            "metronome": metronome.get_untracked(),
            "latency": cal.as_ref().map(|c| serde_json::json!({
                "round_trip_ms": c.latency_ms,
                "spread_ms": c.spread_ms,
                "quality_db": c.quality_db,
                "measured_at": c.measured_at,
            })),
            "compensation_ms": compensation_ms,
            "compensation_frames": ((compensation_ms / 1000.0) * f64::from(canonical_rate)).round() as i64,
            "context_base_latency_s": base_latency,
            "context_output_latency_s": output_latency,
        });
        pending.set_value(Some(Pending {
            name: take_name.get_untracked(),
            instrument: instrument.get_untracked(),
            offset_frames,
            capture,
        }));
        error.set(None);
        notice.set(None);
        recorded.set(0.0);
        live.set(Vec::new());
        drawn.set_value(0.0);
        counting_in.set(count_in_bars > 0);
        phase.set(Phase::Recording);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let _ = super::player::pause();
            let plan = super::recorder::TakePlan {
                from,
                count_in_beats: count_in_bars * beats_per_bar,
                beat_seconds,
                beats_per_bar,
                metronome: metronome.get_untracked(),
                limit_seconds,
            };
            let list = tracks.get_value();
            let started = match super::player::load(&list).await {
                Ok(()) => super::recorder::start_take(&list, &plan),
                Err(e) => Err(e),
            };
            match started {
                Ok(_) => playing.set(true),
                Err(e) => {
                    super::recorder::cancel();
                    error.set(Some(format!("Recording could not start: {}", js_message(&e))));
                    phase.set(Phase::Idle);
                }
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (from, limit_seconds);
    };

    // A stored take becomes a track.
    Effect::new(move |_| match upload_state.get() {
        UploadState::Done { id, .. } if phase.get_untracked() == Phase::Saving => {
            let Some(p) = pending.get_value() else { return };
            pending.set_value(None);
            let track = NewTrack {
                audio_id: id,
                name: p.name,
                instrument: p.instrument,
                offset_frames: p.offset_frames,
                is_master: false,
                capture: Some(p.capture),
            };
            leptos::task::spawn_local(async move {
                match add_track_fn(composition, track).await {
                    Ok(t) => {
                        notice.set(Some(format!("Saved “{}”.", t.name)));
                        phase.set(Phase::Idle);
                        refresh.run(());
                    }
                    Err(e) => {
                        error.set(Some(e.to_string()));
                        phase.set(Phase::Idle);
                    }
                }
            });
        }
        UploadState::Failed(m) if phase.get_untracked() == Phase::Saving => {
            error.set(Some(format!("The take could not be stored: {m}")));
            phase.set(Phase::Idle);
        }
        _ => {}
    });

    #[cfg(feature = "hydrate")]
    {
        if let Some(a) = super::recorder::armed() {
            // The panel was rebuilt (after a take): the microphone is still open.
            load_calibration(a.device_key.clone());
            input.set(Some(Input { label: a.label, key: a.device_key, rate: a.rate }));
            leptos::task::spawn_local(async move {
                if let Ok(list) = super::recorder::inputs().await {
                    devices.set(list);
                }
            });
        }
        if let Ok(h) = set_interval_with_handle(
            move || {
                level.set(super::recorder::level());
                if phase.get_untracked() == Phase::Recording {
                    let _ = super::recorder::tick();
                    if let Some((seconds, complete)) = super::recorder::take_progress() {
                        // Redraw the take's waveform five times a second.
                        if seconds >= drawn.get_value() + 0.2 || complete {
                            drawn.set_value(seconds);
                            live.set(super::recorder::live_waveform(400));
                        }
                        recorded.set(seconds);
                        counting_in.set(seconds == 0.0 && count_in_bars > 0);
                        if complete {
                            stop();
                        }
                    }
                }
            },
            std::time::Duration::from_millis(50),
        ) {
            on_cleanup(move || h.clear());
        }
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = super::shortcuts::typing_in_field(&ev);
            if !typing && (ev.key() == "r" || ev.key() == "R") && !ev.ctrl_key() && !ev.meta_key() {
                ev.prevent_default();
                if phase.get_untracked() == Phase::Recording { stop() } else { record() }
            }
        });
        on_cleanup(move || keys.remove());
        // Leaving while a take is recorded or saved would lose it: the browser asks first.
        let guard = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if matches!(phase.get_untracked(), Phase::Recording | Phase::Saving) {
                ev.prevent_default();
            }
        });
        on_cleanup(move || guard.remove());
        super::leave_guard::guard_links(
            move || matches!(phase.get_untracked(), Phase::Recording | Phase::Saving),
            "A take is being recorded or saved. Leave this page and lose it?",
        );
    }

    let busy = move || matches!(phase.get(), Phase::Arming | Phase::Measuring | Phase::Saving);
    view! {
        <section class="card recorder" data-phase=move || format!("{:?}", phase.get()).to_lowercase()>
            <h2>"Record a take"</h2>
            <div class="row">
                {move || match input.get() {
                    None => view! {
                        <button type="button" id="record-arm" disabled=busy on:click=move |_| arm(None)>"Enable microphone"</button>
                    }.into_any(),
                    Some(i) => view! {
                        <label>"Input"
                            <select id="record-device" on:change=move |ev| arm(Some(event_target_value(&ev)))>
                                {devices.get().into_iter().map(|(id, label)| {
                                    let selected = label == i.label;
                                    view! { <option value=id selected=selected>{if label.is_empty() { "Microphone".to_string() } else { label }}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <span class="muted">{format!("{} Hz", i.rate)}</span>
                    }.into_any(),
                }}
                <meter class="input-level" min="0" max="1" low="0.5" high="0.9" optimum="0.3" title="Input level" prop:value=move || { let l = f64::from(level.get()); if l.is_finite() { l.clamp(0.0, 1.0) } else { 0.0 } }></meter>
            </div>
            <p class="latency-status">
                {move || match (input.get(), calibration.get()) {
                    (None, _) => "Enable the microphone to record over the other tracks.".to_string(),
                    (Some(_), Some(c)) => format!("Round trip {:.1} ms on this input (peak-to-noise {:.0} dB, {} of {} runs agree within {:.1} ms); takes are shifted by it.", c.latency_ms, c.quality_db, c.accepted, c.runs, c.spread_ms),
                    (Some(_), None) => "This input has no latency measurement yet: measure it so takes line up with the music.".to_string(),
                }}
                " "
                <button type="button" id="record-calibrate" class="small" disabled=move || busy() || input.get().is_none() on:click=measure>
                    {move || if phase.get() == Phase::Measuring { "Measuring…" } else { "Measure latency" }}
                </button>
            </p>
            <p class="hint">"Measuring plays short noise bursts: turn the speakers up and hold the microphone near them (or use a loopback cable)."</p>
            <div class="row">
                <label>"Name" <input id="take-name" maxlength="200" bind:value=take_name /></label>
                <label>"Instrument"
                    <select id="take-instrument" required on:change=move |ev| instrument.set(event_target_value(&ev))>
                        <option value="" disabled selected=instrument.get_untracked().is_empty()>"Choose…"</option>
                        {std::iter::once((crate::instruments::UNKNOWN.to_string(), "Unknown / several".to_string())).chain(instruments).map(|(slug, name)| {
                            let selected = slug == instrument.get_untracked();
                            view! { <option value=slug selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="checkbox"><input id="record-metronome" type="checkbox" bind:checked=metronome />"Metronome"</label>
                <label>"Stop after (s)" <input id="record-limit" type="number" min="0" step="0.1" placeholder="—" bind:value=limit /></label>
            </div>
            <div class="record-transport">
                {move || if phase.get() == Phase::Recording {
                    view! { <button type="button" id="record-stop" class="danger" on:click=move |_| stop()>"Stop recording" <kbd>"R"</kbd></button> }.into_any()
                } else {
                    view! { <button type="button" id="record-start" class="primary" disabled=move || busy() || input.get().is_none() on:click=move |_| record()>"Record" <kbd>"R"</kbd></button> }.into_any()
                }}
                <span class="record-status" role="status">
                    {move || match phase.get() {
                        Phase::Recording if counting_in.get() => format!("Count-in: {count_in_bars} bar(s)…"),
                        Phase::Recording => format!("Recording {:.1} s", recorded.get()),
                        Phase::Saving => match upload_state.get() {
                            UploadState::Uploading { sent, total } => format!("Uploading the take… {:.0} %", 100.0 * sent / total.max(1.0)),
                            _ => "Storing the take…".to_string(),
                        },
                        Phase::Measuring => "Measuring the round trip…".to_string(),
                        Phase::Arming => "Opening the microphone…".to_string(),
                        Phase::Idle => notice.get().unwrap_or_default(),
                    }}
                </span>
                {move || match (phase.get(), upload_state.get()) {
                    (Phase::Saving, UploadState::Uploading { sent, total }) => view! { <progress max=total.max(1.0) value=sent></progress> }.into_any(),
                    _ => ().into_any(),
                }}
            </div>
            {move || (phase.get() == Phase::Recording && !live.get().is_empty()).then(|| view! {
                <div class="live-take"><crate::components::Waveform columns=live.get() label="The take so far" /></div>
            })}
            <p class="hint">"The take starts at the playhead after the count-in; the other tracks play while you record."</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn js_message(e: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    e.as_string()
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{e:?}"))
}
