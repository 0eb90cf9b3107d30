//! Choosing what to annotate: the open campaigns (or any), chosen in a form whose answer is the
//! page's address, and the progress line of the campaign being annotated.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::{CampaignChoice, Progress};
use crate::error::AppError;

/// 1234567 → "1,234,567".
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The campaign list as a labelled select: a plain GET form (`/annotate?campaign=<id>`), which the
/// page follows without reloading once it runs in the browser.
#[component]
pub(super) fn CampaignChooser(
    choices: Resource<Result<Vec<CampaignChoice>, AppError>>,
    chosen: Memo<Option<String>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let selected = RwSignal::new(chosen.get_untracked().unwrap_or_default());
    Effect::new(move |_| selected.set(chosen.get().unwrap_or_default()));
    let go = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = selected.get_untracked();
        let to = if id.is_empty() { "/annotate".to_string() } else { format!("/annotate?campaign={id}") };
        navigate(&to, Default::default());
    };
    view! {
        <form class="campaign-chooser" method="get" action="/annotate" on:submit=go>
            <label for="campaign-choice">"Campaign"</label>
            <Transition fallback=|| view! {
                <select id="campaign-choice" name="campaign" disabled=true>
                    <option value="">"Any campaign"</option>
                </select>
            }>
                {move || Suspend::new(async move {
                    let options = choices.await.unwrap_or_default().into_iter().map(|c| {
                        let id = c.id.to_string();
                        let is = id.clone();
                        let label = format!(
                            "{} ({} of {} {} complete)",
                            c.name,
                            thousands(c.tasks_complete),
                            thousands(c.tasks_total),
                            if c.tasks_total == 1 { "clip" } else { "clips" }
                        );
                        view! { <option value=id selected=move || selected.get() == is>{label}</option> }
                    }).collect_view();
                    view! {
                        <select id="campaign-choice" name="campaign" on:change=move |ev| selected.set(event_target_value(&ev))>
                            <option value="" selected=move || selected.get().is_empty()>"Any campaign"</option>
                            {options}
                        </select>
                    }
                })}
            </Transition>
            <button type="submit">"Show its clips"</button>
        </form>
    }
}

/// "You: 12 answered here · 340 of 1,000 clips complete", kept current after each answer.
#[component]
pub(super) fn ProgressLine(progress: RwSignal<Progress>) -> impl IntoView {
    view! {
        <p class="annotate-progress" role="status">{move || {
            let p = progress.get();
            format!(
                "You: {} answered here · {} of {} {} complete",
                thousands(p.answered),
                thousands(p.tasks_complete),
                thousands(p.tasks_total),
                if p.tasks_total == 1 { "clip" } else { "clips" }
            )
        }}</p>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        use super::thousands;
        assert_eq!(
            [0, 999, 1_000, 340, 1_234_567].map(thousands),
            ["0", "999", "1,000", "340", "1,234,567"].map(String::from)
        );
    }
}
