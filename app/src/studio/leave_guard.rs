//! Asking before a take in progress is lost. A reload or a closed tab is asked about by the
//! browser (`beforeunload`); a link inside Tutti is followed by the router without unloading the
//! page, so it is asked about here, before the router sees the click.
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// While `busy()` holds, a click on an in-app link asks `question` first; declining keeps the page.
/// The guard is removed when the calling component is.
pub fn guard_links(busy: impl Fn() -> bool + 'static, question: &'static str) {
    let Some(window) = web_sys::window() else { return };
    let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        if !busy() || ev.default_prevented() || ev.button() != 0 {
            return;
        }
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a[href]").ok().flatten());
        let Some(link) = link else { return };
        // A download or a new tab leaves the page where it is.
        if link.has_attribute("download") || link.get_attribute("target").is_some_and(|t| t != "_self") {
            return;
        }
        let leave = web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false);
        if !leave {
            ev.prevent_default();
            ev.stop_propagation();
        }
    });
    // The capture phase on the window runs before the router's own click listener.
    let listener = on_click.as_ref().unchecked_ref::<js_sys::Function>().clone();
    let _ = window.add_event_listener_with_callback_and_bool("click", &listener, true);
    // Kept alive by the reactive owner, and dropped with it once the listener is gone.
    let on_click = StoredValue::new_local(on_click);
    let listener = StoredValue::new_local(listener);
    on_cleanup(move || {
        if let (Some(w), Some(f)) = (web_sys::window(), listener.try_get_value()) {
            let _ = w.remove_event_listener_with_callback_and_bool("click", &f, true);
        }
        listener.dispose();
        on_click.dispose();
    });
}
