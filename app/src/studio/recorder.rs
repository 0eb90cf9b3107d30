//! Browser capture for the studio: the microphone goes through an AudioWorklet on the playback
//! AudioContext (`public/capture-processor.js` posts raw blocks tagged with their context frame),
//! so a take is cut sample-exactly on the same clock that schedules the other tracks, the
//! metronome and the count-in. Latency is measured by playing a maximum-length sequence and
//! finding it in the capture (`audio::calibration`).
use std::cell::RefCell;

use js_sys::{Float32Array, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioBufferSourceNode, AudioWorkletNode, AudioWorkletNodeOptions, ChannelCountMode, MediaStream,
    MediaStreamAudioSourceNode, MediaStreamTrack, MessageEvent,
};

use super::TrackInfo;
use super::player;

/// The armed microphone.
struct Input {
    stream: MediaStream,
    source: MediaStreamAudioSourceNode,
    node: AudioWorkletNode,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    armed: Armed,
}

/// Samples being kept: context frames `start..end` (`end` unknown until the take stops).
struct Capture {
    start: u64,
    end: Option<u64>,
    /// The next frame expected; a block starting later leaves a gap, filled with silence and counted.
    next: u64,
    samples: Vec<f32>,
    gaps: u64,
    /// Seconds the audio clock fell behind the page clock while capturing (see `stall_step`).
    stalled: f64,
    last_lag: Option<f64>,
    /// (min, max) of each stretch kept, for the live waveform.
    columns: Vec<(f32, f32)>,
}

#[derive(Default)]
struct Shared {
    /// Recent input peak, decaying, for the level meter.
    level: f32,
    /// One past the last context frame received from the worklet.
    received_to: u64,
    capture: Option<Capture>,
}

/// Metronome clicks still to schedule while a take runs.
struct Metronome {
    /// Context time at which composition time `from` sounds.
    punch: f64,
    from: f64,
    beat: f64,
    beats_per_bar: u32,
    next_beat: i64,
}

thread_local! {
    static INPUT: RefCell<Option<Input>> = const { RefCell::new(None) };
    static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
    static METRONOME: RefCell<Option<Metronome>> = const { RefCell::new(None) };
    static CLICKS: RefCell<Vec<AudioBufferSourceNode>> = const { RefCell::new(Vec::new()) };
}

/// What the armed input is.
#[derive(Clone, Debug, PartialEq)]
pub struct Armed {
    pub label: String,
    /// Stable per browser profile and origin: the key latency measurements are stored under.
    pub device_key: String,
    pub rate: f32,
}

fn js_err(message: impl AsRef<str>) -> JsValue {
    JsValue::from_str(message.as_ref())
}

fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The audio inputs the browser offers, as (device id, label). Labels are empty until the user
/// has allowed the microphone once.
pub async fn inputs() -> Result<Vec<(String, String)>, JsValue> {
    let devices = web_sys::window().ok_or("no window")?.navigator().media_devices()?;
    let list: js_sys::Array = JsFuture::from(devices.enumerate_devices()?).await?.dyn_into()?;
    Ok(list
        .iter()
        .filter_map(|d| d.dyn_into::<web_sys::MediaDeviceInfo>().ok())
        .filter(|d| d.kind() == web_sys::MediaDeviceKind::Audioinput)
        .map(|d| (d.device_id(), d.label()))
        .collect())
}

/// Opens the microphone (`device`: a device id, or the default) with every voice processing off,
/// moves the context to the microphone's own rate and starts the capture worklet.
pub async fn arm(device: Option<String>) -> Result<Armed, JsValue> {
    disarm();
    let audio = Object::new();
    for key in ["echoCancellation", "noiseSuppression", "autoGainControl"] {
        set(&audio, key, false);
    }
    let mono = Object::new();
    set(&mono, "ideal", 1);
    set(&audio, "channelCount", mono);
    if let Some(id) = device.filter(|d| !d.is_empty()) {
        let exact = Object::new();
        set(&exact, "exact", id);
        set(&audio, "deviceId", exact);
    }
    let constraints = Object::new();
    set(&constraints, "audio", audio);
    let devices = web_sys::window().ok_or("no window")?.navigator().media_devices()?;
    let stream: MediaStream =
        JsFuture::from(devices.get_user_media_with_constraints(constraints.unchecked_ref())?).await?.dyn_into()?;
    let track: MediaStreamTrack =
        stream.get_audio_tracks().get(0).dyn_into().map_err(|_| js_err("The microphone gave no audio track."))?;
    let settings = track.get_settings();
    let device_rate = Reflect::get(&settings, &"sampleRate".into())?.as_f64();
    let device_id = Reflect::get(&settings, &"deviceId".into())?.as_string().unwrap_or_default();
    let label = track.label();

    if let Some(rate) = device_rate.filter(|r| (8_000.0..=384_000.0).contains(r)) {
        player::use_rate(rate as f32)?;
    }
    let ctx = player::context()?;
    let _ = ctx.resume();
    if !player::with(|p| p.worklet_ready)? {
        JsFuture::from(ctx.audio_worklet()?.add_module("/capture-processor.js")?).await?;
        player::with(|p| p.worklet_ready = true)?;
    }
    let source = ctx.create_media_stream_source(&stream)?;
    let options = AudioWorkletNodeOptions::new();
    options.set_number_of_inputs(1);
    options.set_number_of_outputs(1);
    // A stereo interface is summed to one channel: takes are mono.
    options.set_channel_count(1);
    options.set_channel_count_mode(ChannelCountMode::Explicit);
    let node = AudioWorkletNode::new_with_options(&ctx, "capture-processor", &options)?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| receive(ev.data()));
    node.port()?.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.connect_with_audio_node(&node)?;
    // The node writes nothing to its output; connecting it keeps the graph pulling it.
    node.connect_with_audio_node(&ctx.destination())?;
    let rate = ctx.sample_rate();
    let device_key = if device_id.is_empty() { label.clone() } else { device_id };
    let armed = Armed { label, device_key, rate };
    INPUT.with(|i| {
        *i.borrow_mut() = Some(Input { stream, source, node, _on_message: on_message, armed: armed.clone() })
    });
    Ok(armed)
}

/// The open input, if any (it outlives the recording panel, which is rebuilt after each take).
pub fn armed() -> Option<Armed> {
    INPUT.with(|i| i.borrow().as_ref().map(|i| i.armed.clone()))
}

/// Releases the microphone.
pub fn disarm() {
    if let Some(input) = INPUT.with(|i| i.borrow_mut().take()) {
        let _ = input.source.disconnect();
        let _ = input.node.disconnect();
        if let Ok(port) = input.node.port() {
            port.set_onmessage(None);
        }
        for t in input.stream.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                t.stop();
            }
        }
    }
    SHARED.with(|s| *s.borrow_mut() = Shared::default());
}

/// One block from the worklet: `{frame, samples}`.
fn receive(data: JsValue) {
    let Some(frame) = Reflect::get(&data, &"frame".into()).ok().and_then(|f| f.as_f64()) else { return };
    let Ok(samples) = Reflect::get(&data, &"samples".into()).and_then(|s| s.dyn_into::<Float32Array>()) else {
        return;
    };
    let samples = samples.to_vec();
    let frame = frame as u64;
    let lag = player::context().ok().and_then(|c| clock_lag(&c));
    let end = frame + samples.len() as u64;
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        let peak = samples.iter().fold(0f32, |m, x| m.max(x.abs()));
        s.level = peak.max(s.level * 0.7);
        s.received_to = s.received_to.max(end);
        if let Some(c) = s.capture.as_mut() {
            if let Some(lag) = lag {
                c.stalled += super::stall_step(c.last_lag, lag);
                c.last_lag = Some(lag);
            }
            let lo = c.start.max(frame).max(c.next);
            let hi = c.end.map_or(end, |e| e.min(end));
            if hi > lo {
                if lo > c.next {
                    c.gaps += lo - c.next;
                    c.samples.resize(c.samples.len() + (lo - c.next) as usize, 0.0);
                }
                let kept = &samples[(lo - frame) as usize..(hi - frame) as usize];
                c.samples.extend_from_slice(kept);
                c.columns.push(kept.iter().fold((0f32, 0f32), |(a, b), &x| (a.min(x), b.max(x))));
                c.next = hi;
            }
        }
    });
}

/// How far the context's audio clock is behind the page's clock (s), from the context's own
/// `getOutputTimestamp` pair (web-sys has no binding for it).
fn clock_lag(ctx: &web_sys::AudioContext) -> Option<f64> {
    let f: js_sys::Function = Reflect::get(ctx, &"getOutputTimestamp".into()).ok()?.dyn_into().ok()?;
    let t = f.call0(ctx).ok()?;
    let context = Reflect::get(&t, &"contextTime".into()).ok()?.as_f64()?;
    let page = Reflect::get(&t, &"performanceTime".into()).ok()?.as_f64()?;
    (page > 0.0).then(|| page / 1000.0 - context)
}

/// The input level (peak, 0..1) for the meter.
pub fn level() -> f32 {
    SHARED.with(|s| s.borrow().level)
}

fn begin_capture(start: u64, end: Option<u64>) {
    SHARED.with(|s| {
        s.borrow_mut().capture = Some(Capture {
            start,
            end,
            next: start,
            samples: Vec::new(),
            gaps: 0,
            stalled: 0.0,
            last_lag: None,
            columns: Vec::new(),
        });
    });
}

/// Waits until the capture's last frame arrived, then hands the samples over.
async fn end_capture(timeout_ms: i32) -> Result<Capture, JsValue> {
    let mut waited = 0;
    loop {
        let done = SHARED.with(|s| {
            let s = s.borrow();
            s.capture.as_ref().is_some_and(|c| c.end.is_some_and(|e| s.received_to >= e))
        });
        if done {
            break;
        }
        if waited > timeout_ms {
            SHARED.with(|s| s.borrow_mut().capture = None);
            return Err(js_err("The microphone stopped delivering audio."));
        }
        sleep(20).await;
        waited += 20;
    }
    Ok(SHARED.with(|s| s.borrow_mut().capture.take()).ok_or("no capture")?)
}

fn schedule_click(at: f64, accent: bool) -> Result<(), JsValue> {
    let ctx = player::context()?;
    let rate = ctx.sample_rate();
    let click = audio::wav::click(rate as u32, accent);
    let buffer = ctx.create_buffer(1, click.len() as u32, rate)?;
    buffer.copy_to_channel(&click, 0)?;
    let source = ctx.create_buffer_source()?;
    source.set_buffer(Some(&buffer));
    source.connect_with_audio_node(&ctx.destination())?;
    source.start_with_when(at.max(ctx.current_time()))?;
    CLICKS.with(|c| {
        let mut c = c.borrow_mut();
        // Clicks long past have played; keep the list short.
        if c.len() > 64 {
            c.drain(..32);
        }
        c.push(source);
    });
    Ok(())
}

/// How a take is started.
#[derive(Clone, Debug)]
pub struct TakePlan {
    /// Composition time (s) where the take starts: the cursor.
    pub from: f64,
    pub count_in_beats: u32,
    pub beat_seconds: f64,
    pub beats_per_bar: u32,
    /// Keep clicking while recording (the count-in always clicks).
    pub metronome: bool,
    /// Stop by itself after this many seconds.
    pub limit_seconds: Option<f64>,
}

/// Starts a take: count-in clicks, then the other tracks from `plan.from` and the capture, all at
/// one context time. Returns that time.
pub fn start_take(tracks: &[TrackInfo], plan: &TakePlan) -> Result<f64, JsValue> {
    if armed().is_none() {
        return Err(js_err("Enable the microphone first."));
    }
    let ctx = player::context()?;
    let _ = ctx.resume();
    let rate = f64::from(ctx.sample_rate());
    let punch = ctx.current_time() + 0.2 + f64::from(plan.count_in_beats) * plan.beat_seconds;
    let start = (punch * rate).round() as u64;
    let end = plan.limit_seconds.filter(|l| *l > 0.0).map(|l| start + (l * rate).round() as u64);
    begin_capture(start, end);
    player::play_at(tracks, plan.from, punch)?;
    for j in 0..plan.count_in_beats {
        let at = punch - f64::from(plan.count_in_beats - j) * plan.beat_seconds;
        schedule_click(at, j % plan.beats_per_bar.max(1) == 0)?;
    }
    if plan.metronome && plan.beat_seconds > 0.0 {
        METRONOME.with(|m| {
            *m.borrow_mut() = Some(Metronome {
                punch,
                from: plan.from,
                beat: plan.beat_seconds,
                beats_per_bar: plan.beats_per_bar.max(1),
                next_beat: (plan.from / plan.beat_seconds - 1e-9).ceil() as i64,
            })
        });
        tick()?;
    }
    Ok(punch)
}

/// Schedules the metronome's next half second; the page calls it several times a second.
pub fn tick() -> Result<(), JsValue> {
    let horizon = player::context()?.current_time() + 0.5;
    let due = METRONOME.with(|m| {
        let mut due = Vec::new();
        if let Some(m) = m.borrow_mut().as_mut() {
            loop {
                let at = m.punch + m.next_beat as f64 * m.beat - m.from;
                if at > horizon {
                    break;
                }
                due.push((at, m.next_beat.rem_euclid(i64::from(m.beats_per_bar)) == 0));
                m.next_beat += 1;
            }
        }
        due
    });
    for (at, accent) in due {
        schedule_click(at, accent)?;
    }
    Ok(())
}

/// Progress of the running take: seconds captured, and whether it reached its set length.
pub fn take_progress() -> Option<(f64, bool)> {
    let rate = player::context().map(|c| f64::from(c.sample_rate())).unwrap_or(48_000.0);
    SHARED.with(|s| {
        let s = s.borrow();
        s.capture.as_ref().map(|c| {
            let captured = c.samples.len() as f64 / rate;
            (captured, c.end.is_some_and(|e| s.received_to >= e))
        })
    })
}

/// The running take's waveform so far, in at most `width` (min, max) columns.
pub fn live_waveform(width: usize) -> Vec<(f32, f32)> {
    SHARED.with(|s| {
        let s = s.borrow();
        let Some(c) = s.capture.as_ref() else { return Vec::new() };
        let per = c.columns.len().div_ceil(width.max(1)).max(1);
        c.columns.chunks(per).map(|g| g.iter().fold((0f32, 0f32), |(a, b), &(lo, hi)| (a.min(lo), b.max(hi)))).collect()
    })
}

/// A finished take.
pub struct Take {
    pub samples: Vec<f32>,
    pub rate: f32,
    /// Frames of silence inserted where the worklet skipped (0 on a healthy machine).
    pub gaps: u64,
    /// Seconds the browser's audio stalled during the take (0 on a machine that kept up).
    pub stalled: f64,
}

/// Stops a take now (or at its set length, if reached) and returns it once every frame arrived.
pub async fn finish_take() -> Result<Take, JsValue> {
    let ctx = player::context()?;
    let rate = ctx.sample_rate();
    let now = (ctx.current_time() * f64::from(rate)).round() as u64;
    SHARED.with(|s| {
        if let Some(c) = s.borrow_mut().capture.as_mut() {
            c.end = Some(c.end.unwrap_or(now).min(now.max(c.start)));
        }
    });
    stop_clicks();
    let _ = player::pause();
    let c = end_capture(5_000).await?;
    Ok(Take { samples: c.samples, rate, gaps: c.gaps, stalled: c.stalled })
}

/// Abandons a take (or a measurement) without keeping anything.
pub fn cancel() {
    stop_clicks();
    let _ = player::pause();
    SHARED.with(|s| s.borrow_mut().capture = None);
}

fn stop_clicks() {
    METRONOME.with(|m| *m.borrow_mut() = None);
    CLICKS.with(|c| {
        for s in c.borrow_mut().drain(..) {
            #[allow(deprecated)]
            let _ = s.stop();
        }
    });
}

/// The outcome of a latency measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Median round trip of the accepted runs.
    pub latency_ms: f64,
    /// Largest minus smallest accepted round trip.
    pub spread_ms: f64,
    /// Median peak-to-noise of the accepted runs.
    pub quality_db: f64,
    pub accepted: u32,
    pub runs: u32,
    pub rate: f32,
}

/// Plays a maximum-length-sequence burst `runs` times, finds each in the capture by
/// cross-correlation and keeps the median of the runs that pass the peak-to-noise gate.
pub async fn measure_latency(runs: u32) -> Result<Measurement, String> {
    use audio::calibration::{DEFAULT_GATE_DB, combine, estimate_delay, mls};
    if armed().is_none() {
        return Err("Enable the microphone first.".into());
    }
    let fail = |e: JsValue| format!("The measurement failed: {e:?}");
    let ctx = player::context().map_err(fail)?;
    let _ = ctx.resume();
    let _ = player::pause();
    let rate = ctx.sample_rate();
    // About 85 ms of sequence at 48 kHz; the search window allows up to 500 ms of round trip.
    let burst: Vec<f32> = mls(if rate > 60_000.0 { 13 } else { 12 }).into_iter().map(|s| s * 0.5).collect();
    let max_lag = (f64::from(rate) * 0.5) as usize;
    let buffer = ctx.create_buffer(1, burst.len() as u32, rate).map_err(fail)?;
    buffer.copy_to_channel(&burst, 0).map_err(fail)?;
    let mut estimates = Vec::new();
    for _ in 0..runs {
        let at = ctx.current_time() + 0.15;
        let start = (at * f64::from(rate)).round() as u64;
        begin_capture(start, Some(start + (burst.len() + max_lag) as u64));
        let source = ctx.create_buffer_source().map_err(fail)?;
        source.set_buffer(Some(&buffer));
        source.connect_with_audio_node(&ctx.destination()).map_err(fail)?;
        source.start_with_when(at).map_err(fail)?;
        let recorded = end_capture(4_000).await.map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))?.samples;
        estimates.push(estimate_delay(&burst, &recorded, max_lag, DEFAULT_GATE_DB));
        sleep(120).await;
    }
    let accepted: Vec<_> = estimates.iter().filter(|e| e.accepted).collect();
    let best = estimates.iter().map(|e| e.peak_to_noise_db).filter(|d| d.is_finite()).fold(f64::NAN, f64::max);
    let Some((median, spread)) = combine(&estimates, runs.div_ceil(2) as usize) else {
        return Err(format!(
            "The test signal was not heard clearly: {} of {runs} runs passed the quality gate (best peak-to-noise {}, \
             the gate is {DEFAULT_GATE_DB:.0} dB). Turn the speakers up or hold the microphone near them (or use a \
             loopback cable), keep the room quiet, and measure again.",
            accepted.len(),
            if best.is_finite() { format!("{best:.1} dB") } else { "none: only silence came in".into() },
        ));
    };
    let mut quality: Vec<f64> = accepted.iter().map(|e| e.peak_to_noise_db).collect();
    quality.sort_by(f64::total_cmp);
    let ms = |samples: f64| samples / f64::from(rate) * 1000.0;
    Ok(Measurement {
        latency_ms: ms(median),
        spread_ms: ms(spread),
        quality_db: quality[quality.len() / 2],
        accepted: accepted.len() as u32,
        runs,
        rate,
    })
}

/// Encodes a take as a float WAV file, ready for the uploader.
pub fn take_file(take: &Take, name: &str) -> Result<web_sys::File, JsValue> {
    let bytes = audio::wav::encode_f32(&take.samples, take.rate as u32, 1);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::FilePropertyBag::new();
    options.set_type("audio/wav");
    web_sys::File::new_with_u8_array_sequence_and_options(&parts, name, &options)
}

/// What the browser says it is, for a take's provenance.
pub fn user_agent() -> String {
    web_sys::window().and_then(|w| w.navigator().user_agent().ok()).unwrap_or_default()
}

/// The context's own latency figures (s): base and output, where the browser reports them.
pub fn context_latencies() -> (f64, f64) {
    player::context()
        .map(|c| {
            let get = |k: &str| Reflect::get(&c, &k.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
            (get("baseLatency"), get("outputLatency"))
        })
        .unwrap_or((0.0, 0.0))
}
