//! Rendering a composition's mixdown on the server (a job it follows until it ends) and
//! downloading it.
use std::time::Duration;

use leptos::prelude::*;
use uuid::Uuid;

use crate::jobs::{JobInfo, JobState, cancel_job, get_job};
use crate::studio::render_mixdown_fn;

/// Follow the job until it ends; then refresh the page's data (done) or say why (failed).
fn follow(id: Uuid, job: RwSignal<Option<JobInfo>>, error: RwSignal<Option<String>>, refresh: Callback<()>) {
    set_timeout(
        move || {
            leptos::task::spawn_local(async move {
                match get_job(id).await {
                    Ok(j) => {
                        let (state, why) = (j.state, j.error.clone());
                        job.set(Some(j));
                        match state {
                            JobState::Done => refresh.run(()),
                            JobState::Failed => error.set(Some(why.unwrap_or_else(|| "The mixdown failed.".into()))),
                            JobState::Queued | JobState::Running => follow(id, job, error, refresh),
                            JobState::Cancelled => {}
                        }
                    }
                    // A lost request (network, restart) is no reason to stop following the job.
                    Err(_) => follow(id, job, error, refresh),
                }
            });
        },
        Duration::from_millis(400),
    );
}

#[component]
pub(super) fn Mixdown(
    composition: Uuid,
    mixdown: Option<Uuid>,
    /// Whether the mixdown was rendered from the tracks as they are now.
    current: bool,
    can_render: bool,
    refresh: Callback<()>,
) -> impl IntoView {
    let job: RwSignal<Option<JobInfo>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = move || job.get().is_some_and(|j| !j.state.ended());
    let render = move |_| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match render_mixdown_fn(composition).await {
                Ok(j) => {
                    let id = j.id;
                    job.set(Some(j));
                    follow(id, job, error, refresh);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let cancel = move |_| {
        if let Some(j) = job.get_untracked() {
            leptos::task::spawn_local(async move {
                match cancel_job(j.id).await {
                    Ok(j) => job.set(Some(j)),
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let label = move || match job.get().map(|j| j.state) {
        Some(JobState::Queued) => "Waiting to render…",
        Some(JobState::Running) => "Rendering…",
        _ => "Render mixdown",
    };
    view! {
        <div class="mixdown">
            {mixdown.map(|id| view! {
                <div class="mixdown-player">
                    <audio controls preload="none" src=format!("/api/v1/audio/{id}/canonical") aria-label="The mixdown"></audio>
                    <a class="button" href=format!("/api/v1/audio/{id}/canonical") download="mixdown.flac" rel="external">"Download the mixdown (FLAC)"</a>
                </div>
                {(!current).then(|| view! {
                    <p class="warning mix-stale">"The mix is out of date: the tracks changed since it was rendered."</p>
                })}
            })}
            {can_render.then(|| view! {
                <button type="button" disabled=busy on:click=render aria-live="polite">{label}</button>
                <Show when=busy>
                    <button type="button" on:click=cancel>"Cancel"</button>
                </Show>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
