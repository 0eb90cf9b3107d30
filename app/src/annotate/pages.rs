//! The annotator's page: keyboard-first, one clip at a time, no page reloads between clips. The
//! campaign chosen lives in the address (`/annotate?campaign=<id>`), so a choice can be bookmarked.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::chooser::CampaignChooser;
use super::task::TaskView;
use super::widgets::StatsPanel;
use super::{Assignment, CampaignChoice, next_task, open_campaigns};
use crate::auth::use_me;
use crate::components::{ErrorNotice, SignInRequired};
use crate::error::AppError;
use crate::instruments::{InstrumentHelp, get_instrument_help};

/// The next clip: from the campaign named in the address, or from any. An address naming no
/// campaign at all is answered like one naming a campaign that does not exist.
async fn fetch_next(chosen: Option<String>) -> Result<Option<Assignment>, AppError> {
    match chosen.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => next_task(None).await,
        Some(s) => match uuid::Uuid::parse_str(s) {
            Ok(id) => next_task(Some(id)).await,
            Err(_) => Err(AppError::NotFound),
        },
    }
}

#[component]
pub fn AnnotatePage() -> impl IntoView {
    let me = use_me();
    let query = use_query_map();
    let chosen = Memo::new(move |_| query.read().get("campaign").filter(|s| !s.trim().is_empty()));
    // The task is asked for here, once, outside the Suspense: a Suspend closure may run more
    // than once on the server, and each run would lease again (and disagree with the browser).
    // Bumped to load the next clip without reloading the page.
    let round = RwSignal::new(0u32);
    let task = Resource::new(move || (round.get(), chosen.get()), |(_, c)| fetch_next(c));
    let choices = Resource::new(|| (), |_| open_campaigns());
    let help = Resource::new(|| (), |_| get_instrument_help());
    view! {
        <Title text="Annotate · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! { <Annotator round task chosen choices help /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Annotator(
    round: RwSignal<u32>,
    task: Resource<Result<Option<Assignment>, AppError>>,
    chosen: Memo<Option<String>>,
    choices: Resource<Result<Vec<CampaignChoice>, AppError>>,
    help: Resource<Result<Vec<InstrumentHelp>, AppError>>,
) -> impl IntoView {
    let stats_for: RwSignal<Option<uuid::Uuid>> = RwSignal::new(None);
    let next = Callback::new(move |_: ()| round.update(|r| *r += 1));
    view! {
        <CampaignChooser choices chosen />
        <Transition fallback=|| view! { <p>"Loading the next clip…"</p> }>
            {move || Suspend::new(async move {
                let task = task.await;
                // Help is a nicety: without it, the clip is still served.
                let help = help.await.unwrap_or_default();
                match task {
                    Ok(Some(a)) => view! { <TaskView assignment=a help next=next stats_for=stats_for /> }.into_any(),
                    Ok(None) => view! {
                        <section class="card narrow">
                            <h1>"All done for now"</h1>
                            <p>{if chosen.get_untracked().is_some() {
                                "There is no clip of this campaign waiting for your answer. Thank you! Choose another campaign above, or come back later."
                            } else {
                                "There is no clip waiting for your answer. Thank you! Come back later for more."
                            }}</p>
                        </section>
                    }.into_any(),
                    Err(AppError::NotFound) if chosen.get_untracked().is_some() => {
                        crate::components::set_page_status(404);
                        view! {
                            <section class="card narrow" role="alert">
                                <h1>"No such campaign"</h1>
                                <p>"No open campaign has this address: the link may be wrong, or the campaign was closed. Choose a campaign above."</p>
                            </section>
                        }.into_any()
                    }
                    Err(AppError::Conflict(why)) if chosen.get_untracked().is_some() => view! {
                        <section class="card narrow" role="alert">
                            <h1>"This campaign is closed"</h1>
                            <p>{why}</p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
        {move || stats_for.get().map(|campaign| view! { <StatsPanel campaign=campaign close=move || stats_for.set(None) /> })}
    }
}
