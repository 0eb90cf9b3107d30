//! When a key press belongs to the page's shortcuts rather than to the control it lands on.
/// Whether a key press goes to a form field, where the page's shortcuts must not act.
pub(super) fn typing_in_field(ev: &leptos::web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
}

/// Whether the key goes to a button or link reached with the keyboard (`:focus-visible`), whose
/// own Space (press M, S, Stop …) wins over the page's shortcut. After a mouse click the focus
/// ring is not shown and Space stays play/pause.
pub(super) fn on_keyboard_control(ev: &leptos::web_sys::KeyboardEvent) -> bool {
    ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok()).is_some_and(|e| {
        matches!(e.tag_name().as_str(), "BUTTON" | "A" | "SUMMARY") && e.matches(":focus-visible").unwrap_or(false)
    })
}
