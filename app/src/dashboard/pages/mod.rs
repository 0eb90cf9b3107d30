//! The dashboard page: the access check first (through `dashboard_init`, which asks the same rule
//! as every other surface), then the filters (kept in the URL so a view can be shared) and one
//! panel per figure group. Its figures are fetched again every 15 seconds while the page is open
//! and whenever a filter changes; panels keep showing the last figures while new ones load.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

mod chart;
mod filters;
mod panels;
mod studio;

use super::{Figures, Filters, Range, dashboard_figures, dashboard_init};
use crate::components::{ErrorNotice, Forbidden, SignInRequired};
use crate::error::AppError;

/// How often the figures are fetched again while the page is open.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(15);

/// The CSV address of a chart under the range its figures were computed for.
fn csv_href(id: &str, range: &Range) -> String {
    let f = Filters { from: Some(range.from.clone()), to: Some(range.to.clone()), campaign: range.campaign };
    format!("/api/v1/stats/charts/{id}.csv?{}", f.query())
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.get();
        let text = |k: &str| q.get(k).filter(|v| !v.is_empty());
        Filters {
            from: text("from"),
            to: text("to"),
            campaign: text("campaign").and_then(|c| Uuid::parse_str(&c).ok()),
        }
    });
    // Bumped every REFRESH by the browser (never on the server), and after a goal is saved.
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH) {
            on_cleanup(move || h.clear());
        }
    });
    let init = Resource::new(|| (), |_| dashboard_init());
    let figures = Resource::new(move || (filters.get(), tick.get()), |(f, _)| dashboard_figures(f));
    view! {
        <Title text="Dashboard · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match init.await {
                    Ok(init) => view! {
                        <Board init filters tick figures />
                    }.into_any(),
                    Err(AppError::Unauthorized) => view! { <SignInRequired /> }.into_any(),
                    Err(AppError::Forbidden) => view! { <Forbidden /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Board(
    init: super::DashboardSetup,
    filters: Memo<Filters>,
    tick: RwSignal<u32>,
    figures: Resource<Result<Figures, AppError>>,
) -> impl IntoView {
    view! {
        <div class="dash">
            <div class="dash-head">
                <h1>"Dashboard"</h1>
                <p class="muted">"Figures update every 15 seconds while this page is open. Days are UTC."</p>
            </div>
            <filters::FilterBar init filters />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match figures.await {
                        Ok(f) => view! {
                            <panels::AnnotationPanel stats=f.annotation />
                            <panels::QualityPanel stats=f.quality />
                            <studio::CoveragePanel stats=f.coverage tick />
                            <studio::StudioPanel stats=f.studio />
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
