//! The annotator page's smaller pieces: the stats panel, and what the page asks of the browser
//! (time zone, clock, ids, whether a key press is a shortcut).
use leptos::prelude::*;

use super::get_annotator_stats;

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
pub(super) fn StatsPanel(campaign: uuid::Uuid, close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
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
pub(super) fn shortcut_applies(ev: &leptos::ev::KeyboardEvent, key: &str) -> bool {
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

pub(super) fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

pub(super) fn client_id() -> String {
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
