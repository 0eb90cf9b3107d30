//! The form of a dataset's fields, for a new dataset (with its slug) and for changing one (whose
//! slug stays: releases are cited by it). The server checks every field; its words are shown.
use leptos::prelude::*;

use crate::datasets::{DatasetFields, DatasetInfo, DatasetVisibility, create_dataset, update_dataset};

#[component]
pub fn DatasetFieldsForm(
    /// The dataset to change, or none for a new one.
    existing: Option<DatasetInfo>,
    on_saved: Callback<DatasetInfo>,
) -> impl IntoView {
    let editing = existing.as_ref().map(|d| d.slug.clone());
    let prefix = if editing.is_some() { "ds-edit" } else { "ds-new" };
    let id = move |field: &str| format!("{prefix}-{field}");
    let slug = RwSignal::new(String::new());
    let name = RwSignal::new(existing.as_ref().map(|d| d.name.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().map(|d| d.description.clone()).unwrap_or_default());
    let citation = RwSignal::new(existing.as_ref().map(|d| d.citation.clone()).unwrap_or_default());
    let visibility = RwSignal::new(existing.as_ref().map_or(DatasetVisibility::Public, |d| d.visibility));
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = {
        let editing = editing.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if busy.get_untracked() {
                return;
            }
            let fields = DatasetFields {
                slug: editing.is_none().then(|| slug.get_untracked().trim().to_string()),
                name: Some(name.get_untracked()),
                description: Some(description.get_untracked()),
                citation: Some(citation.get_untracked()),
                visibility: Some(visibility.get_untracked()),
            };
            let editing = editing.clone();
            busy.set(true);
            saved.set(false);
            leptos::task::spawn_local(async move {
                let was_new = editing.is_none();
                let result = match editing {
                    Some(s) => update_dataset(s, fields).await,
                    None => create_dataset(fields).await,
                };
                busy.set(false);
                match result {
                    Ok(d) => {
                        error.set(None);
                        saved.set(true);
                        if was_new {
                            slug.set(String::new());
                            name.set(String::new());
                            description.set(String::new());
                            citation.set(String::new());
                        }
                        on_saved.run(d);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let is_new = editing.is_none();
    view! {
        <form class="stacked-form ds-fields-form" on:submit=submit>
            {is_new.then(|| view! {
                <label for=id("slug")>"Slug (the address: lowercase letters, digits and hyphens)"</label>
                <input id=id("slug") required minlength="2" maxlength="64" pattern="[a-z0-9]+(-[a-z0-9]+)*"
                    placeholder="e.g. open-mix" autocomplete="off" spellcheck="false" bind:value=slug />
            })}
            <label for=id("name")>"Name"</label>
            <input id=id("name") required maxlength="120" bind:value=name />
            <label for=id("description")>"Description (Markdown)"</label>
            <textarea id=id("description") rows="5" maxlength="20000" bind:value=description></textarea>
            <label for=id("citation")>"Citation"</label>
            <textarea id=id("citation") rows="2" maxlength="4000" bind:value=citation></textarea>
            <label for=id("visibility")>"Visible to"</label>
            <select id=id("visibility") class="ds-select" on:change=move |ev| {
                if let Some(v) = DatasetVisibility::parse(&event_target_value(&ev)) {
                    visibility.set(v);
                }
            }>
                {DatasetVisibility::ALL.into_iter().map(|v| view! {
                    <option value=v.as_str() selected=move || visibility.get() == v>{v.label()}</option>
                }).collect_view()}
            </select>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || saved.get().then(|| view! { <p class="muted" role="status">{if is_new { "Dataset created." } else { "Saved." }}</p> })}
            <div class="ds-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {if is_new { "Create dataset" } else { "Save dataset" }}
                </button>
            </div>
        </form>
    }
}
