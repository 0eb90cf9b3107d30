//! One clip on the annotator's page: playing it, the instrument rows with their help, the
//! progress line, and submitting (held back until the campaign's share of the clip was heard).
use std::collections::BTreeMap;

use leptos::prelude::*;

use super::chooser::ProgressLine;
use super::help::{HelpButton, HelpPanel};
use super::widgets::{client_id, now_ms};
use super::{AnswerValue, Assignment, Progress, Receipt, Submission, listen_needed_ms, skip_task, submit_annotation};
use crate::components::Waveform;
use crate::instruments::{Instrument, InstrumentHelp, by_family};

/// Keys for instrument rows: 1–9 and 0 for the first ten, then q–p for the next ten.
const ROW_KEYS: [&str; 20] =
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "q", "w", "e", "r", "t", "y", "u", "i", "o", "p"];

#[component]
pub(super) fn TaskView(
    assignment: Assignment,
    help: Vec<InstrumentHelp>,
    next: Callback<()>,
    stats_for: RwSignal<Option<uuid::Uuid>>,
) -> impl IntoView {
    let a = assignment;
    let progress: RwSignal<Progress> = RwSignal::new(a.progress);
    let task_id = a.task_id;
    let campaign_id = a.campaign_id;
    // Rows are shown by family; keys and ↑/↓ follow the rows as shown.
    let groups = by_family(a.instruments.clone());
    let instruments: Vec<Instrument> = groups.iter().flat_map(|(_, m)| m.iter().cloned()).collect();
    let answers: RwSignal<BTreeMap<String, AnswerValue>> = RwSignal::new(BTreeMap::new());
    let selected = RwSignal::new(0usize);
    let playing = RwSignal::new(false);
    let position = RwSignal::new(0.0f64);
    let plays = RwSignal::new(0u32);
    let listened_ms = RwSignal::new(0.0f64);
    let last_tick = StoredValue::new(None::<f64>);
    // What went wrong, and whether loading another clip is the way out (a refusal from the
    // server) or not (something to fix here, such as playing the clip first).
    let error: RwSignal<Option<(String, bool)>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let started = StoredValue::new(now_ms());
    // One id per loaded clip, so a retried submission is recognised by the server.
    let client_id = StoredValue::new(client_id());
    let audio_ref = NodeRef::<leptos::html::Audio>::new();
    let slugs: Vec<String> = instruments.iter().map(|i| i.slug.clone()).collect();
    let gain = 10f64.powf(a.gain_db / 20.0).min(1.0);
    let duration = a.duration_seconds.max(0.001);
    // The campaign's share of the clip to hear before Submit is offered (0: none).
    let needed_ms = listen_needed_ms(a.min_listen_share, a.duration_seconds) as f64;
    let still_to_hear = move || (needed_ms - listened_ms.get()).max(0.0) / 1000.0;
    let listen_share = a.min_listen_share;
    let listen_note_id = format!("listen-note-{task_id}");

    let toggle_play = move || {
        if let Some(el) = audio_ref.get_untracked() {
            if el.paused() {
                el.set_volume(gain);
                let _ = el.play();
            } else {
                let _ = el.pause();
            }
        }
    };
    let replay = move || {
        if let Some(el) = audio_ref.get_untracked() {
            el.set_current_time(0.0);
            el.set_volume(gain);
            let _ = el.play();
        }
    };
    let seek = move |fraction: f64| {
        if let Some(el) = audio_ref.get_untracked() {
            el.set_current_time(fraction.clamp(0.0, 1.0) * duration);
        }
    };
    let set_answer = move |slug: String, v: AnswerValue| {
        answers.update(|m| {
            m.insert(slug, v);
        })
    };
    let rest_absent = {
        let slugs = slugs.clone();
        move || {
            answers.update(|m| {
                for s in &slugs {
                    m.entry(s.clone()).or_insert(AnswerValue::Absent);
                }
            })
        }
    };
    let submit = {
        let slugs = slugs.clone();
        move || {
            if busy.get_untracked() {
                return;
            }
            let chosen = answers.get_untracked();
            let missing: Vec<_> = slugs.iter().filter(|s| !chosen.contains_key(*s)).cloned().collect();
            if listened_ms.get_untracked() < needed_ms {
                error.set(Some((
                    format!(
                        "Listen to {:.1} s more before answering ({:.0}% of the clip is asked for).",
                        (needed_ms - listened_ms.get_untracked()) / 1000.0,
                        listen_share * 100.0
                    ),
                    false,
                )));
                return;
            }
            if plays.get_untracked() == 0 {
                error.set(Some(("Play the clip before answering.".into(), false)));
                return;
            }
            if !missing.is_empty() {
                error.set(Some((
                    format!("Answer every instrument ({} left). Press X to mark the rest absent.", missing.len()),
                    false,
                )));
                return;
            }
            busy.set(true);
            let submission = Submission {
                client_id: client_id.get_value(),
                answers: chosen,
                play_count: plays.get_untracked(),
                listening_ms: listened_ms.get_untracked() as u64,
                time_to_submit_ms: (now_ms() - started.get_value()).max(0.0) as u64,
            };
            leptos::task::spawn_local(async move {
                let result: Result<Receipt, _> = submit_annotation(task_id, submission).await;
                busy.set(false);
                match result {
                    Ok(receipt) => {
                        progress.set(receipt.progress);
                        if receipt.show_stats {
                            stats_for.set(Some(campaign_id));
                        }
                        next.run(());
                    }
                    Err(e) => error.set(Some((e.to_string(), true))),
                }
            });
        }
    };
    let skip = move || {
        leptos::task::spawn_local(async move {
            let _ = skip_task(task_id).await;
            next.run(());
        });
    };

    // The keyboard drives everything; shortcuts are listed on the page.
    #[cfg(feature = "hydrate")]
    {
        use super::widgets::shortcut_applies;
        let (submit, rest_absent, slugs) = (submit.clone(), rest_absent.clone(), slugs.clone());
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if stats_for.get_untracked().is_some() || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let key = ev.key();
            if !shortcut_applies(&ev, &key) {
                return;
            }
            let row_count = slugs.len();
            let answer_selected = |v: AnswerValue| {
                if let Some(s) = slugs.get(selected.get_untracked()) {
                    set_answer(s.clone(), v);
                    if selected.get_untracked() + 1 < row_count {
                        selected.update(|i| *i += 1);
                    }
                }
            };
            match key.as_str() {
                " " => toggle_play(),
                "Enter" => submit(),
                "ArrowDown" => selected.update(|i| *i = (*i + 1).min(row_count.saturating_sub(1))),
                "ArrowUp" => selected.update(|i| *i = i.saturating_sub(1)),
                "ArrowRight" => seek((position.get_untracked() + 2.0) / duration),
                "ArrowLeft" => seek((position.get_untracked() - 2.0) / duration),
                "Backspace" => replay(),
                "a" | "A" => answer_selected(AnswerValue::Present),
                "s" | "S" => answer_selected(AnswerValue::Absent),
                "d" | "D" => answer_selected(AnswerValue::Unsure),
                "x" | "X" => rest_absent(),
                "Escape" => skip(),
                k => match ROW_KEYS.iter().position(|r| *r == k.to_lowercase()) {
                    Some(i) if i < row_count => {
                        selected.set(i);
                        // A row key pressed on the selected row cycles present → absent → not sure.
                        let slug = slugs[i].clone();
                        let current = answers.get_untracked().get(&slug).copied();
                        let nextv = match current {
                            None | Some(AnswerValue::Unsure) => AnswerValue::Present,
                            Some(AnswerValue::Present) => AnswerValue::Absent,
                            Some(AnswerValue::Absent) => AnswerValue::Unsure,
                        };
                        set_answer(slug, nextv);
                    }
                    _ => return,
                },
            }
            ev.prevent_default();
        });
        on_cleanup(move || handle.remove());
    }

    // Only instruments with something to say get a help button.
    let help_of = move |slug: &str| help.iter().find(|h| h.slug == slug && !h.is_empty()).cloned();
    let pause_clip = Callback::new(move |_: ()| {
        if let Some(el) = audio_ref.get_untracked() {
            let _ = el.pause();
        }
    });
    // Time heard: each step of the playhead while playing, up to the pause or the end.
    let heard_until = move |t: f64| {
        if let Some(prev) = last_tick.get_value()
            && t > prev
            && t - prev < 1.0
        {
            listened_ms.update(|ms| *ms += (t - prev) * 1000.0);
        }
    };
    let index_of = {
        let slugs = slugs.clone();
        move |slug: &str| slugs.iter().position(|s| s == slug).unwrap_or(0)
    };
    // The lease's end in the annotator's own time zone (known only in the browser).
    let lease_until = RwSignal::new(format!("{} UTC", a.lease_expires_at.get(11..16).unwrap_or_default()));
    // Said as soon as the lease runs out, not only when the answer is refused.
    let lease_over = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let iso = a.lease_expires_at.clone();
        Effect::new(move |_| {
            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&iso));
            if !d.get_time().is_nan() {
                lease_until.set(format!("{:02}:{:02}", d.get_hours(), d.get_minutes()));
            }
        });
        let ends = js_sys::Date::parse(&a.lease_expires_at);
        let tick = move || {
            if js_sys::Date::now() >= ends {
                lease_over.set(true);
            }
        };
        if let Ok(h) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || h.clear());
        }
    }
    let src = format!("/api/v1/audio/{}/canonical", a.clip_id);
    let spectrogram = format!("/api/v1/audio/{}/spectrogram", a.clip_id);
    let submit_click = submit.clone();
    let rest_click = rest_absent.clone();
    view! {
        <section class="card annotator" data-task-id=task_id.to_string()>
            <div class="card-head">
                <div class="annotate-title">
                    <h1>{a.campaign_name.clone()}</h1>
                    <ProgressLine progress />
                </div>
                <span class="muted lease" class:over=move || lease_over.get()>{move || if lease_over.get() {
                    "Your time on this clip ran out: load the next one".to_string()
                } else {
                    format!("Reserved for you until {}", lease_until.get())
                }}</span>
            </div>
            {(!a.instructions_html.is_empty()).then(|| view! { <div class="instructions" inner_html=a.instructions_html.clone()></div> })}
            <audio
                node_ref=audio_ref
                src=src
                preload="auto"
                on:play=move |_| {
                    playing.set(true);
                    plays.update(|p| *p += 1);
                    last_tick.set_value(audio_ref.get_untracked().map(|el| el.current_time()));
                }
                on:pause=move |_| {
                    playing.set(false);
                    if let Some(el) = audio_ref.get_untracked() {
                        heard_until(el.current_time());
                    }
                    last_tick.set_value(None);
                }
                on:ended=move |_| {
                    playing.set(false);
                    heard_until(duration);
                    last_tick.set_value(None);
                }
                on:seeking=move |_| last_tick.set_value(None)
                on:timeupdate=move |_| {
                    if let Some(el) = audio_ref.get_untracked() {
                        let t = el.current_time();
                        if !el.paused() {
                            heard_until(t);
                            last_tick.set_value(Some(t));
                        }
                        position.set(t);
                    }
                }
            ></audio>
            <div
                class="clip-view"
                title="Click to seek"
                on:click=move |ev| {
                    let target = event_target::<leptos::web_sys::Element>(&ev);
                    let rect = target.closest(".clip-view").ok().flatten().map(|e| e.get_bounding_client_rect());
                    if let Some(r) = rect {
                        seek((ev.client_x() as f64 - r.left()) / r.width().max(1.0));
                    }
                }
            >
                <Waveform columns=a.waveform.clone() label="Waveform of the clip" />
                <img class="spectrogram" src=spectrogram alt="Spectrogram of the clip" />
                <div class="playhead" style=move || format!("left: {:.3}%", 100.0 * position.get() / duration)></div>
            </div>
            <div class="transport">
                <button type="button" class="primary" on:click=move |_| toggle_play()>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                    <kbd class="key-hint">"Space"</kbd>
                </button>
                <button type="button" on:click=move |_| replay()>"Replay" <kbd class="key-hint">"⌫"</kbd></button>
                <span class="muted">{move || format!("{:.1} / {:.1} s · played {} ×", position.get(), duration, plays.get())}</span>
            </div>
            <div class="instrument-grid">
                {groups.into_iter().map(|(family, members)| view! {
                    <fieldset class="family-group">
                        <legend>{family}</legend>
                        {members.into_iter().map(|i| {
                            let idx = index_of(&i.slug);
                            let slug = i.slug.clone();
                            let row_key = ROW_KEYS.get(idx).copied().unwrap_or("");
                            let choice = move |v: AnswerValue| {
                                let slug = slug.clone();
                                move |_| {
                                    selected.set(idx);
                                    set_answer(slug.clone(), v);
                                }
                            };
                            let current = {
                                let slug = i.slug.clone();
                                move || answers.get().get(&slug).copied()
                            };
                            let c1 = current.clone();
                            let c2 = current.clone();
                            let c3 = current.clone();
                            // Each answer is named with its instrument ("Piano: Present"), so a
                            // screen reader that lists the buttons says which row each belongs to.
                            let (n1, n2, n3) = (i.name.clone(), i.name.clone(), i.name.clone());
                            let help = help_of(&i.slug);
                            let help_open = RwSignal::new(false);
                            let panel_id = format!("help-{task_id}-{}", i.slug);
                            let button = help.is_some().then(|| {
                                view! { <HelpButton name=i.name.clone() open=help_open panel_id=panel_id.clone() /> }
                            });
                            let panel = help.map(|h| view! { <HelpPanel help=h open=help_open panel_id pause_clip /> });
                            view! {
                                <div class="instrument-row" class:selected=move || selected.get() == idx data-instrument=i.slug.clone()>
                                    <kbd class="key-hint">{row_key}</kbd>
                                    <span class="instrument-label">
                                        <span class="instrument-name">{i.name.clone()}</span>
                                        {button}
                                    </span>
                                    <span class="answers">
                                        <button type="button" class="answer present" aria-pressed=move || (c1() == Some(AnswerValue::Present)).to_string() on:click=choice(AnswerValue::Present)>
                                            <span class="visually-hidden">{n1}": "</span>"Present"
                                        </button>
                                        <button type="button" class="answer absent" aria-pressed=move || (c2() == Some(AnswerValue::Absent)).to_string() on:click=choice(AnswerValue::Absent)>
                                            <span class="visually-hidden">{n2}": "</span>"Absent"
                                        </button>
                                        <button type="button" class="answer unsure" aria-pressed=move || (c3() == Some(AnswerValue::Unsure)).to_string() on:click=choice(AnswerValue::Unsure)>
                                            <span class="visually-hidden">{n3}": "</span>"Not sure"
                                        </button>
                                    </span>
                                </div>
                                {panel}
                            }
                        }).collect_view()}
                    </fieldset>
                }).collect_view()}
            </div>
            // Kept in view at the bottom of the screen, with what stops a submission right above
            // Submit: pressing Enter high up the page must visibly do something.
            <div class="submit-bar">
                {move || error.get().map(|(e, offer_next)| view! {
                    <div class="error" role="alert">
                        <p>{e}</p>
                        {offer_next.then(|| view! {
                            <button type="button" on:click=move |_| next.run(())>"Load the next clip"</button>
                        })}
                    </div>
                })}
                {(needed_ms > 0.0).then(|| {
                    let id = listen_note_id.clone();
                    view! {
                        <p id=id class="listen-needed muted" class:met={move || still_to_hear() <= 0.0}>{move || {
                            let left = still_to_hear();
                            if left > 0.0 {
                                format!("Submit opens once you have heard {:.0}% of the clip: {:.1} s still to hear.", listen_share * 100.0, left)
                            } else {
                                format!("You have heard {:.0}% of the clip: you can submit.", listen_share * 100.0)
                            }
                        }}</p>
                    }
                })}
                <div class="actions">
                    <button
                        type="button"
                        class="primary"
                        disabled={move || busy.get() || listened_ms.get() < needed_ms}
                        aria-describedby=(needed_ms > 0.0).then(|| listen_note_id.clone())
                        on:click=move |_| submit_click()
                    >"Submit" <kbd class="key-hint">"Enter"</kbd></button>
                    <button type="button" on:click=move |_| rest_click()>"Mark the rest absent" <kbd class="key-hint">"X"</kbd></button>
                    <button type="button" on:click=move |_| skip()>"Skip" <kbd class="key-hint">"Esc"</kbd></button>
                </div>
            </div>
            <details class="shortcuts" open>
                <summary>"Keyboard"</summary>
                <p>
                    <kbd>"Space"</kbd>" play/pause · "<kbd>"⌫"</kbd>" replay · "<kbd>"←"</kbd><kbd>"→"</kbd>" seek 2 s · "
                    <kbd>"1"</kbd>"–"<kbd>"0"</kbd>", "<kbd>"Q"</kbd>"–"<kbd>"P"</kbd>" pick an instrument (press again to cycle) · "
                    <kbd>"↑"</kbd><kbd>"↓"</kbd>" move · "<kbd>"A"</kbd>" present · "<kbd>"S"</kbd>" absent · "<kbd>"D"</kbd>" not sure · "
                    <kbd>"X"</kbd>" rest absent · "<kbd>"Enter"</kbd>" submit · "<kbd>"Esc"</kbd>" skip"
                </p>
            </details>
        </section>
    }
}
