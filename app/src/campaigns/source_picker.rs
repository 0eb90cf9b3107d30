//! "Cut clips from": the audio an admin ticks, found by name, owner and kind, each with a small
//! preview player.
use leptos::prelude::*;
use uuid::Uuid;

use super::SourceChoice;
use crate::domain::AudioKind;

fn kind_key(k: AudioKind) -> &'static str {
    match k {
        AudioKind::Upload => "upload",
        AudioKind::Recording => "recording",
        AudioKind::Clip => "clip",
        AudioKind::Mixdown => "mixdown",
    }
}

#[component]
pub fn SourcePicker(sources: Vec<SourceChoice>, chosen: RwSignal<Vec<Uuid>>) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let owner: RwSignal<Option<Uuid>> = RwSignal::new(None);
    let kind = RwSignal::new(String::new());
    let mut owners: Vec<(Uuid, String)> = Vec::new();
    let mut kinds: Vec<&'static str> = Vec::new();
    for s in &sources {
        if !owners.iter().any(|(id, _)| *id == s.owner_id) {
            owners.push((s.owner_id, s.owner.clone()));
        }
        if !kinds.contains(&kind_key(s.kind)) {
            kinds.push(kind_key(s.kind));
        }
    }
    let sources = StoredValue::new(sources);
    // Case-insensitive name match, owner and kind: what the list shows and "select all" takes.
    let shown = Memo::new(move |_| {
        let (text, who, what) = (search.get().trim().to_lowercase(), owner.get(), kind.get());
        sources.with_value(|all| {
            all.iter()
                .filter(|s| text.is_empty() || s.name.to_lowercase().contains(&text))
                .filter(|s| who.is_none_or(|w| s.owner_id == w))
                .filter(|s| what.is_empty() || kind_key(s.kind) == what)
                .map(|s| s.id)
                .collect::<Vec<_>>()
        })
    });
    view! {
        <div class="source-picker">
            <div class="row">
                <input type="search" class="source-search" aria-label="Search sources by name" placeholder="Search by name"
                    bind:value=search />
                <select aria-label="Owner" on:change=move |ev| owner.set(event_target_value(&ev).parse().ok())>
                    <option value="">"Any owner"</option>
                    {owners.into_iter().map(|(uid, name)| view! { <option value=uid.to_string()>{name}</option> }).collect_view()}
                </select>
                <select aria-label="Kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="">"Any kind"</option>
                    {kinds.into_iter().map(|k| view! { <option value=k>{k}</option> }).collect_view()}
                </select>
                <button type="button" on:click=move |_| {
                    let add = shown.get_untracked();
                    chosen.update(|v| v.extend(add.into_iter().filter(|id| !v.contains(id)).collect::<Vec<_>>()));
                }>"Select all (shown)"</button>
                <button type="button" on:click=move |_| chosen.set(Vec::new())>"Clear"</button>
                <span class="muted small" role="status">{move || {
                    let (n, of) = (chosen.get().len(), shown.get().len());
                    format!("{n} ticked · {of} shown")
                }}</span>
            </div>
            <ul class="sources">
                {sources.get_value().into_iter().map(|s| {
                    let sid = s.id;
                    view! {
                        <li class="source-item" data-source=sid.to_string() hidden=move || !shown.get().contains(&sid)>
                            <label class="checkbox">
                                <input type="checkbox" value=sid.to_string()
                                    prop:checked=move || chosen.get().contains(&sid)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|v| if on { if !v.contains(&sid) { v.push(sid) } } else { v.retain(|x| *x != sid) });
                                    } />
                                {format!("{} — {} ({:.0} s)", s.name, s.owner, s.duration_seconds)}
                            </label>
                            <audio controls preload="none" title=format!("Preview of {}", s.name)
                                src=format!("/api/v1/audio/{sid}/canonical")></audio>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
