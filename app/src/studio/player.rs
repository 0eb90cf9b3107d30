//! Browser playback of a composition: every audible track is scheduled on one AudioContext clock,
//! through the same gain and pan law as the server mixdown (`audio::mixdown`).
use std::cell::RefCell;
use std::collections::HashMap;

use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioBuffer, AudioBufferSourceNode, AudioContext, AudioContextOptions, Response};

use super::TrackInfo;

pub(super) struct Player {
    ctx: AudioContext,
    buffers: HashMap<Uuid, AudioBuffer>,
    sources: Vec<AudioBufferSourceNode>,
    /// Context time at which position 0 of this playback run sounds, if playing.
    started_at: Option<f64>,
    /// Composition position (s) where the current or next run starts.
    from: f64,
    /// Whether the capture processor module was added to this context.
    pub worklet_ready: bool,
}

fn new_player(rate: Option<f32>) -> Result<Player, JsValue> {
    let ctx = match rate {
        Some(rate) => {
            let options = AudioContextOptions::new();
            options.set_sample_rate(rate);
            AudioContext::new_with_context_options(&options)?
        }
        None => AudioContext::new()?,
    };
    Ok(Player { ctx, buffers: HashMap::new(), sources: Vec::new(), started_at: None, from: 0.0, worklet_ready: false })
}

thread_local! {
    static PLAYER: RefCell<Option<Player>> = const { RefCell::new(None) };
}

pub(super) fn with<R>(f: impl FnOnce(&mut Player) -> R) -> Result<R, JsValue> {
    PLAYER.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            *p = Some(new_player(None)?);
        }
        Ok(f(p.as_mut().expect("just set")))
    })
}

/// The context everything is scheduled on.
pub fn context() -> Result<AudioContext, JsValue> {
    with(|p| p.ctx.clone())
}

/// Runs the context at `rate` (the microphone's own rate, so a take is captured without
/// resampling). Replacing the context drops decoded tracks; they are decoded again on demand.
pub fn use_rate(rate: f32) -> Result<(), JsValue> {
    if with(|p| p.ctx.sample_rate() == rate)? {
        return Ok(());
    }
    stop_sources()?;
    let fresh = new_player(Some(rate))?;
    let old = PLAYER.with(|p| p.borrow_mut().replace(fresh).map(|old| old.ctx));
    if let Some(ctx) = old {
        let _ = ctx.close();
    }
    Ok(())
}

/// Fetch and decode the canonical audio of tracks not loaded yet.
pub async fn load(tracks: &[TrackInfo]) -> Result<(), JsValue> {
    for t in tracks {
        if with(|p| p.buffers.contains_key(&t.audio_id))? {
            continue;
        }
        let window = web_sys::window().ok_or("no window")?;
        let res: Response = JsFuture::from(window.fetch_with_str(&format!("/api/v1/audio/{}/canonical", t.audio_id)))
            .await?
            .dyn_into()?;
        if !res.ok() {
            return Err(JsValue::from_str(&format!("track audio answered {}", res.status())));
        }
        let bytes: js_sys::ArrayBuffer = JsFuture::from(res.array_buffer()?).await?.dyn_into()?;
        let decode = with(|p| p.ctx.decode_audio_data(&bytes))??;
        let buffer: AudioBuffer = JsFuture::from(decode).await?.dyn_into()?;
        with(|p| p.buffers.insert(t.audio_id, buffer))?;
    }
    Ok(())
}

/// Start playing from `from` seconds (composition time).
pub fn play(tracks: &[TrackInfo], from: f64) -> Result<(), JsValue> {
    let when = with(|p| p.ctx.current_time() + 0.05)?;
    play_at(tracks, from, when)
}

/// Play from `from` seconds (composition time), sounding at context time `when`.
pub fn play_at(tracks: &[TrackInfo], from: f64, when: f64) -> Result<(), JsValue> {
    stop_sources()?;
    with(|p| -> Result<(), JsValue> {
        let _ = p.ctx.resume();
        let any_solo = tracks.iter().any(|t| t.solo);
        for t in tracks {
            // The mixdown's rule: with any solo, only soloed tracks sound; mute always silences.
            if t.mute || (any_solo && !t.solo) {
                continue;
            }
            let Some(buffer) = p.buffers.get(&t.audio_id) else { continue };
            let start = t.offset_frames as f64 / t.canonical_rate.max(1) as f64;
            let into = from - start;
            if into >= buffer.duration() {
                continue;
            }
            let source = p.ctx.create_buffer_source()?;
            source.set_buffer(Some(buffer));
            let channels = buffer.number_of_channels() as usize;
            let splitter = p.ctx.create_channel_splitter_with_number_of_outputs(channels.max(1) as u32)?;
            let merger = p.ctx.create_channel_merger_with_number_of_inputs(2)?;
            source.connect_with_audio_node(&splitter)?;
            let law = audio::mixdown::pan_gains(t.pan, channels);
            let level = audio::mixdown::db_to_gain(t.gain_db);
            for (input, row) in law.iter().enumerate().take(channels.clamp(1, 2)) {
                for (side, g) in row.iter().enumerate() {
                    let gain = p.ctx.create_gain()?;
                    gain.gain().set_value(g * level);
                    splitter.connect_with_audio_node_and_output(&gain, input as u32)?;
                    gain.connect_with_audio_node_and_output_and_input(&merger, 0, side as u32)?;
                }
            }
            merger.connect_with_audio_node(&p.ctx.destination())?;
            if into >= 0.0 {
                source.start_with_when_and_grain_offset(when, into)?;
            } else {
                source.start_with_when(when - into)?;
            }
            p.sources.push(source);
        }
        p.started_at = Some(when);
        p.from = from;
        Ok(())
    })?
}

fn stop_sources() -> Result<(), JsValue> {
    with(|p| {
        for s in p.sources.drain(..) {
            #[allow(deprecated)]
            let _ = s.stop();
        }
    })
}

/// Pause: stop sounding and remember where.
pub fn pause() -> Result<f64, JsValue> {
    let at = position()?;
    stop_sources()?;
    with(|p| {
        p.started_at = None;
        p.from = at;
        at
    })
}

/// The composition position now (s).
pub fn position() -> Result<f64, JsValue> {
    with(|p| match p.started_at {
        Some(t0) => p.from + (p.ctx.current_time() - t0).max(0.0),
        None => p.from,
    })
}

pub fn is_playing() -> bool {
    with(|p| p.started_at.is_some()).unwrap_or(false)
}

/// Move the playback position; keeps playing if it was.
pub fn seek(tracks: &[TrackInfo], to: f64) -> Result<(), JsValue> {
    if is_playing() { play(tracks, to.max(0.0)) } else { with(|p| p.from = to.max(0.0)) }
}
