//! The annotator's page: keyboard-first, one clip at a time, no page reloads between clips.
use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    AnswerValue, Assignment, Receipt, Submission, get_annotator_stats, next_task, skip_task, submit_annotation,
};
use crate::auth::use_me;
use crate::components::{ErrorNotice, SignInRequired, Waveform};
use crate::error::AppError;
use crate::instruments::{Instrument, by_family};

#[component]
pub fn AnnotatePage() -> impl IntoView {
    let me = use_me();
    // The task is asked for here, once, outside the Suspense: a Suspend closure may run more
    // than once on the server, and each run would lease again (and disagree with the browser).
    // Bumped to load the next clip without reloading the page.
    let round = RwSignal::new(0u32);
    let task = Resource::new(move || round.get(), |_| next_task());
    view! {
        <Title text="Annotate · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! { <Annotator round task /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Annotator(round: RwSignal<u32>, task: Resource<Result<Option<Assignment>, AppError>>) -> impl IntoView {
    let stats_for: RwSignal<Option<uuid::Uuid>> = RwSignal::new(None);
    let next = Callback::new(move |_: ()| round.update(|r| *r += 1));
    view! {
        <Transition fallback=|| view! { <p>"Loading the next clip…"</p> }>
            {move || Suspend::new(async move {
                match task.await {
                    Ok(Some(a)) => view! { <TaskView assignment=a next=next stats_for=stats_for /> }.into_any(),
                    Ok(None) => view! {
                        <section class="card narrow">
                            <h1>"All done for now"</h1>
                            <p>"There is no clip waiting for your answer. Thank you! Come back later for more."</p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
        {move || stats_for.get().map(|campaign| view! { <StatsPanel campaign=campaign close=move || stats_for.set(None) /> })}
    }
}

/// Keys for instrument rows: 1–9 and 0 for the first ten, then q–p for the next ten.
const ROW_KEYS: [&str; 20] =
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "q", "w", "e", "r", "t", "y", "u", "i", "o", "p"];

#[component]
fn TaskView(assignment: Assignment, next: Callback<()>, stats_for: RwSignal<Option<uuid::Uuid>>) -> impl IntoView {
    let a = assignment;
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
                <h1>{a.campaign_name.clone()}</h1>
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
                    last_tick.set_value(None);
                }
                on:pause=move |_| playing.set(false)
                on:ended=move |_| playing.set(false)
                on:timeupdate=move |_| {
                    if let Some(el) = audio_ref.get_untracked() {
                        let t = el.current_time();
                        if let Some(prev) = last_tick.get_value()
                            && !el.paused()
                            && t > prev
                            && t - prev < 1.0
                        {
                            listened_ms.update(|ms| *ms += (t - prev) * 1000.0);
                        }
                        last_tick.set_value(Some(t));
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
                            view! {
                                <div class="instrument-row" class:selected=move || selected.get() == idx data-instrument=i.slug.clone()>
                                    <kbd class="key-hint">{row_key}</kbd>
                                    <span class="instrument-name">{i.name.clone()}</span>
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
                <div class="actions">
                    <button type="button" class="primary" disabled=move || busy.get() on:click=move |_| submit_click()>"Submit" <kbd class="key-hint">"Enter"</kbd></button>
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

/// The browser's time zone as minutes east of UTC (0 while rendering on the server).
fn local_utc_offset_minutes() -> i32 {
    #[cfg(feature = "hydrate")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

#[component]
fn StatsPanel(campaign: uuid::Uuid, close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    // "Clips today" counts from the annotator's own midnight.
    let stats = Resource::new(move || campaign, |c| get_annotator_stats(c, local_utc_offset_minutes()));
    // A modal: focus goes to Continue, and Enter or Escape closes it.
    let continue_ref = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = continue_ref.get() {
            let _ = b.focus();
        }
    });
    let close_on_escape = {
        let close = close.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" {
                ev.prevent_default();
                close();
            }
        }
    };
    let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "—".into());
    view! {
        <div class="stats-panel" role="dialog" aria-modal="true" aria-label="Your progress" on:keydown=close_on_escape>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let close = close.clone();
                    Suspend::new(async move {
                        match stats.await {
                            Ok(s) => view! {
                                <h2>"Your progress"</h2>
                                <dl class="facts">
                                    <dt>"Clips today"</dt><dd>{s.done_today}</dd>
                                    <dt>"Clips in total"</dt><dd>{s.done_total}</dd>
                                    <dt>"Agreement with the other annotators"</dt><dd>{pct(s.agreement)}</dd>
                                    <dt>"Accuracy on check clips"</dt><dd>{
                                        if s.gold_answers == 0 { "—".to_string() } else {
                                            format!("{} of {} instrument answers right", pct(s.gold_accuracy), s.gold_answers)
                                        }
                                    }</dd>
                                </dl>
                                <h3>{format!("{}: {} of {} clips complete", s.campaign_name, s.tasks_complete, s.tasks_total)}</h3>
                                <progress max=s.tasks_total.max(1) as f64 value=s.tasks_complete as f64></progress>
                                <ul class="instrument-progress">
                                    {s.instruments.into_iter().map(|i| view! { <li>{i.name}": "{i.present}</li> }).collect_view()}
                                </ul>
                                <button type="button" class="primary" node_ref=continue_ref on:click=move |_| close()>"Continue" <kbd>"Enter"</kbd></button>
                            }.into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}

/// Whether a page-wide shortcut should act on this key press. Typing in a field is never a
/// shortcut; on a control reached with the keyboard (`:focus-visible`), Enter and Space do what
/// they do there (Replay replays) — after a mouse click they stay shortcuts, so clicking Play and
/// then pressing Enter still submits; Escape skips only from the annotator card, not from a menu.
#[cfg(feature = "hydrate")]
fn shortcut_applies(ev: &leptos::ev::KeyboardEvent, key: &str) -> bool {
    use wasm_bindgen::JsCast;
    let Some(el) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok()) else { return true };
    let tag = el.tag_name().to_ascii_lowercase();
    if matches!(tag.as_str(), "input" | "textarea" | "select")
        || el.closest("[contenteditable]").ok().flatten().is_some()
    {
        return false;
    }
    let control = matches!(tag.as_str(), "button" | "a" | "summary");
    if control && matches!(key, "Enter" | " ") && el.matches(":focus-visible").unwrap_or(false) {
        return false;
    }
    if key == "Escape" && tag != "body" && el.closest(".annotator").ok().flatten().is_none() {
        return false;
    }
    true
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

fn client_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        let a = (js_sys::Math::random() * 9.0e15) as u64;
        let b = (js_sys::Math::random() * 9.0e15) as u64;
        format!("{a:x}{b:x}")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}
