//! `/datasets`: every dataset the viewer may see with its latest published release — what it
//! holds, under which licences, and its archives to download. Admins also see datasets not yet
//! published and a form for a new one.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::fields_form::DatasetFieldsForm;
use crate::components::ErrorNotice;
use crate::datasets::DatasetInfo;
use crate::datasets::pages_api::{Catalogue, dataset_catalogue};

#[component]
pub fn DatasetsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| dataset_catalogue());
    view! {
        <Title text="Datasets · Tutti" />
        <section class="ds-intro">
            <h1>"Datasets"</h1>
            <p class="lead">
                "Instrument labels from the crowd, compiled into versioned releases with a train and a test \
                 split. A published release never changes, so results on it can be compared and reproduced."
            </p>
        </section>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(c) => view! { <CatalogueList c /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CatalogueList(c: Catalogue) -> impl IntoView {
    let Catalogue { list_html, empty, can_create } = c;
    let navigate = use_navigate();
    // A new dataset has nothing to show yet: its own page is where its first release is compiled.
    let on_created =
        Callback::new(move |d: DatasetInfo| navigate(&format!("/datasets/{}", d.slug), Default::default()));
    view! {
        {empty.then(|| view! { <p class="muted ds-empty">"No dataset has been published yet."</p> })}
        <div inner_html=list_html></div>
        {can_create.then(|| view! {
            <section class="card ds-new" aria-labelledby="ds-new-title">
                <h2 id="ds-new-title">"New dataset"</h2>
                <p class="muted">"A dataset holds releases compiled from finished campaigns; it is listed to others once a release is published."</p>
                <DatasetFieldsForm existing=None on_saved=on_created />
            </section>
        })}
    }
}

/// The list of datasets, rendered on the server: it only changes when the page is loaded again,
/// so the browser's bundle does not carry it.
#[cfg(feature = "ssr")]
pub fn list_html(entries: Vec<crate::datasets::pages_api::CatalogueEntry>, show_visibility: bool) -> String {
    view! {
        <ul class="ds-list">
            {entries.into_iter().map(|e| view! { <li><Entry e show_visibility /></li> }).collect_view()}
        </ul>
    }
    .to_html()
}

#[cfg(feature = "ssr")]
#[component]
fn Entry(e: crate::datasets::pages_api::CatalogueEntry, show_visibility: bool) -> impl IntoView {
    use super::release::Downloads;
    use super::{clips, report_of, short_date};
    use crate::datasets::DatasetVisibility;
    let d = e.dataset;
    let href = format!("/datasets/{}", d.slug);
    let latest = d.latest.clone().map(|r| {
        let report = report_of(&r);
        let (train, test) = report.as_ref().map_or((0, 0), |r| (r.prevalence.train_samples, r.prevalence.test_samples));
        let licences = report.map(|r| r.report.licences.join(", ")).filter(|l| !l.is_empty());
        let date = r.published_at.as_deref().map(short_date).unwrap_or_default();
        view! {
            <dl class="ds-facts">
                <dt>"Latest release"</dt>
                <dd>{format!("Version {}", r.version)} <span class="muted">{format!(" · {date}")}</span></dd>
                <dt>"Clips"</dt>
                <dd>{format!("{} train · {} test", clips(train), clips(test))}</dd>
                <dt>"Licences"</dt>
                <dd>{licences.unwrap_or_else(|| "—".into())}</dd>
            </dl>
            <Downloads slug=d.slug.clone() release=r label=d.name.clone() />
        }
    });
    let unpublished = latest.is_none();
    view! {
        <article class="card ds-entry" data-dataset=d.slug.clone()>
            <div class="card-head">
                <h2><a href=href>{d.name.clone()}</a></h2>
                {(show_visibility && d.visibility != DatasetVisibility::Public)
                    .then(|| view! { <span class="badge">{d.visibility.label()}</span> })}
            </div>
            {(!e.summary.is_empty()).then(|| view! { <p>{e.summary}</p> })}
            {latest}
            {unpublished.then(|| view! { <p class="muted">"No published release yet."</p> })}
        </article>
    }
}
