//! One release in a dataset's history: its state (with live progress while it compiles), its notes,
//! its downloads and, for admins, what may still be done to it (publish, compile again, delete) —
//! a published release never changes. What changed, its parameters and its report come rendered
//! from the server (see `extras`).
use std::time::Duration;

use leptos::prelude::*;

use super::{confirm, file_href, human_bytes, short_date, state_key, state_label};
use crate::datasets::pages_api::ReleaseExtras;
use crate::datasets::{ReleaseInfo, ReleaseState, delete_release, get_release, publish_release, recompile_release};
use crate::error::AppError;

/// A release's archives as download buttons with their sizes (nothing before it is compiled).
#[component]
pub fn Downloads(slug: String, release: ReleaseInfo, #[prop(into)] label: String) -> impl IntoView {
    let v = release.version;
    let links = [("archive.tar", ".tar", release.tar_bytes), ("archive.zip", ".zip", release.zip_bytes)]
        .into_iter()
        .filter_map(|(file, ext, bytes)| bytes.map(|b| (file, ext, b)))
        .map(|(file, ext, bytes)| {
            let size = human_bytes(bytes);
            view! {
                <a class="button primary ds-download" href=file_href(&slug, v, file) download
                    data-bytes=bytes.to_string() aria-label=format!("Download {ext} ({size}) of {label}, version {v}")>
                    {format!("Download {ext}")} <span class="ds-size">{format!("({size})")}</span>
                </a>
            }
        })
        .collect_view();
    view! { <div class="ds-downloads">{links}</div> }
}

#[component]
pub fn ReleaseItem(
    slug: String,
    release: ReleaseInfo,
    /// What the server rendered of it; none for a release asked for since the page was loaded.
    extras: Option<ReleaseExtras>,
    can_edit: bool,
    name: String,
    refresh: Callback<()>,
) -> impl IntoView {
    let version = release.version;
    let r = RwSignal::new(release);
    let state = Memo::new(move |_| r.with(|x| x.state));
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    // A release still compiling is followed from the browser until it ends.
    {
        let slug = slug.clone();
        Effect::new(move |_| {
            if r.with_untracked(|x| x.state == ReleaseState::Compiling) {
                follow(r, slug.clone(), version, refresh);
            }
        });
    }
    let act = move |what: Action, slug: String| {
        let question = match what {
            Action::Publish => Some(format!(
                "Publish version {version}? Published releases never change: its files, labels and report stay \
                 exactly as they are, and everyone who may see the dataset can download it."
            )),
            Action::Delete => Some(format!("Delete version {version}? Its files are removed; this cannot be undone.")),
            Action::Recompile => None,
        };
        if question.is_some_and(|q| !confirm(&q)) {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = match what {
                Action::Publish => publish_release(slug.clone(), version).await.map(Some),
                Action::Recompile => recompile_release(slug.clone(), version).await.map(Some),
                Action::Delete => delete_release(slug.clone(), version).await.map(|_| None),
            };
            busy.set(false);
            match result {
                Ok(Some(x)) if what == Action::Recompile => {
                    error.set(None);
                    r.set(x);
                    follow(r, slug, version, refresh);
                }
                Ok(_) => refresh.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let created = short_date(&r.with_untracked(|x| x.created_at.clone()));
    let body = {
        let slug = slug.clone();
        move || {
            let s = state.get();
            let rel = r.get_untracked();
            let extras = extras.clone().unwrap_or_default();
            let compiled = matches!(s, ReleaseState::Compiled | ReleaseState::Published);
            let (slug_p, slug_r, slug_d) = (slug.clone(), slug.clone(), slug.clone());
            view! {
                {(s == ReleaseState::Failed).then(|| view! {
                    <p class="error">{format!("Compiling failed: {}", rel.error.clone().unwrap_or_default())}</p>
                })}
                <div class="ds-extra" inner_html=extras.changes_html></div>
                {compiled.then(|| view! { <Downloads slug=slug.clone() release=rel.clone() label=name.clone() /> })}
                <div class="ds-extra" inner_html=extras.report_html></div>
                <div class="ds-extra" inner_html=extras.params_html></div>
                {can_edit.then(|| view! {
                    <div class="ds-actions">
                        {(s == ReleaseState::Compiled).then(|| view! {
                            <button type="button" class="primary" disabled=move || busy.get()
                                on:click=move |_| act(Action::Publish, slug_p.clone())>{format!("Publish version {version}")}</button>
                        })}
                        {compiled.then(|| view! {
                            <a class="button" href=file_href(&slug, version, "test-labels.csv") download>"Download test labels"</a>
                        })}
                        {matches!(s, ReleaseState::Compiled | ReleaseState::Failed).then(|| view! {
                            <button type="button" disabled=move || busy.get()
                                on:click=move |_| act(Action::Recompile, slug_r.clone())>"Compile again"</button>
                        })}
                        {(s != ReleaseState::Published).then(|| view! {
                            <button type="button" class="danger" disabled=move || busy.get()
                                on:click=move |_| act(Action::Delete, slug_d.clone())>{format!("Delete version {version}")}</button>
                        })}
                    </div>
                })}
            }
        }
    };
    let published = move || r.with(|x| x.published_at.as_deref().map(short_date));
    let notes = r.with_untracked(|x| x.notes.clone());
    view! {
        <li class="ds-release" data-version=version.to_string() data-state=move || state_key(state.get())>
            <div class="ds-release-head">
                <h3>{format!("Version {version}")}</h3>
                <span class=move || format!("ds-state ds-state-{}", state_key(state.get()))>{move || state_label(state.get())}</span>
            </div>
            <p class="muted ds-dates">
                {format!("Asked for {created}")}
                {move || published().map(|p| format!(" · published {p}"))}
            </p>
            {(!notes.is_empty()).then(|| view! { <p class="ds-notes">{notes}</p> })}
            <div class="ds-progress" role="status">
                {move || (state.get() == ReleaseState::Compiling).then(|| {
                    let (phase, done, total) = r.with(|x| (x.phase.clone(), x.done, x.total));
                    let words = if total > 0 { format!("{phase}: {done} of {total}") } else { format!("{phase}…") };
                    view! {
                        <p>{words}</p>
                        {if total > 0 {
                            view! { <progress aria-label="Compile progress" max=total as f64 value=done as f64></progress> }.into_any()
                        } else {
                            view! { <progress aria-label="Compile progress"></progress> }.into_any()
                        }}
                    }
                })}
            </div>
            {body}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </li>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Publish,
    Recompile,
    Delete,
}

/// Ask for the release again every second while it compiles. Stops when the item is gone (the
/// page was refreshed or left) or the release ends, then reloads the page's data for its report;
/// a lost request is retried.
fn follow(r: RwSignal<ReleaseInfo>, slug: String, version: i32, done: Callback<()>) {
    set_timeout(
        move || {
            if r.try_get_untracked().is_none() {
                return;
            }
            leptos::task::spawn_local(async move {
                match get_release(slug.clone(), version).await {
                    Ok(x) => {
                        let compiling = x.state == ReleaseState::Compiling;
                        if r.try_set(x).is_some() {
                            return;
                        }
                        if compiling {
                            follow(r, slug, version, done);
                        } else {
                            done.run(());
                        }
                    }
                    Err(AppError::NotFound) => {}
                    Err(_) => follow(r, slug, version, done),
                }
            });
        },
        Duration::from_secs(1),
    );
}
