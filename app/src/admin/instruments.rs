//! The instruments' help for annotators (admins only): a short description of each instrument
//! and an example picked among public audio, by id or by searching.
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::auth::use_me;
use crate::components::{ErrorNotice, Forbidden, SignInRequired};
use crate::error::AppError;
use crate::instruments::{
    ExampleChoice, HelpChange, InstrumentHelp, get_instrument_help, search_example_audio, set_instrument_help,
};

/// Longest description, as `domain::InstrumentDescription` takes it.
const MAX_DESCRIPTION: usize = 280;

#[component]
pub fn InstrumentsAdminPage() -> impl IntoView {
    let me = use_me();
    // Made here, outside the Suspense (see the users page).
    let list = Resource::new(|| (), |_| get_instrument_help());
    view! {
        <Title text="Instrument help · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) if me.is_admin => view! { <HelpEditor list /> }.into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HelpEditor(list: Resource<Result<Vec<InstrumentHelp>, AppError>>) -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Instrument help"</h1>
            <p class="lead">
                "What annotators read when they open an instrument's help, and an example they can play. "
                "Examples must be public audio, so every annotator can hear them."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! {
                            <div class="instrument-help-list">
                                {list.into_iter().map(|h| view! { <HelpForm help=h /> }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn HelpForm(help: InstrumentHelp) -> impl IntoView {
    let slug = help.slug.clone();
    let description = RwSignal::new(help.description.clone());
    let example = RwSignal::new(help.example_audio_id.map(|id| id.to_string()).unwrap_or_default());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let found: RwSignal<Option<Vec<ExampleChoice>>> = RwSignal::new(None);
    let save = {
        let slug = slug.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            saved.set(false);
            let text = example.get_untracked();
            let example_audio_id = match text.trim() {
                "" => None,
                t => match Uuid::parse_str(t) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        error.set(Some("The example must be an audio id (as in /library/<id>), or empty.".into()));
                        return;
                    }
                },
            };
            let change = HelpChange { description: description.get_untracked(), example_audio_id };
            let slug = slug.clone();
            leptos::task::spawn_local(async move {
                match set_instrument_help(slug, change).await {
                    Ok(_) => {
                        error.set(None);
                        saved.set(true);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let search = move |_| {
        let q = query.get_untracked();
        leptos::task::spawn_local(async move {
            match search_example_audio(q).await {
                Ok(list) => found.set(Some(list)),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let field = move |suffix: &str| format!("help-{}-{suffix}", help.slug);
    let count = move || description.with(|d| d.trim().chars().count());
    view! {
        <form class="instrument-help-form" data-instrument=slug.clone() novalidate on:submit=save>
            <h2>{help.name.clone()} <span class="muted">{format!(" · {}", help.family)}</span></h2>
            <label for=field("description")>{format!("What annotators read about {}", help.name)}</label>
            <textarea id=field("description") rows="2" maxlength=MAX_DESCRIPTION.to_string() bind:value=description></textarea>
            <p class="muted" class:error={move || count() > MAX_DESCRIPTION}>{move || format!("{} of {MAX_DESCRIPTION} characters", count())}</p>
            <label for=field("example")>"Example audio id (public audio; empty for none)"</label>
            <input id=field("example") class="instrument-help-example" bind:value=example spellcheck="false" autocomplete="off" />
            <details class="instrument-help-search">
                <summary>"Find public audio"</summary>
                <div class="row">
                    <label class="visually-hidden" for=field("query")>{format!("Search public audio for {}", help.name)}</label>
                    <input id=field("query") type="search" placeholder="Name, title or artist" bind:value=query />
                    <button type="button" on:click=search>"Search"</button>
                </div>
                {move || found.get().map(|list| if list.is_empty() {
                    view! { <p class="muted">"No public audio matches."</p> }.into_any()
                } else {
                    view! {
                        <ul class="instrument-help-results">
                            {list.into_iter().map(|c| {
                                let id = c.id.to_string();
                                view! {
                                    <li>
                                        <span>{c.name.clone()} <span class="muted">{format!(" · {:.0} s", c.duration_seconds)}</span></span>
                                        <button type="button" class="small" on:click=move |_| example.set(id.clone())>
                                            "Use" <span class="visually-hidden">{format!(" {}", c.name)}</span>
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </details>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || saved.get().then(|| view! { <p class="muted" role="status">"Saved."</p> })}
            <button type="submit" class="primary">{format!("Save {}", help.name)}</button>
        </form>
    }
}
