//! `/datasets/:slug`: a dataset's card (description, how to cite it, its latest published release
//! and that release's labels as a chart) and its release history. Admins also change the dataset
//! and compile new releases here. A dataset the viewer may not see is answered as one that does
//! not exist.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::compile_form::CompileForm;
use super::fields_form::DatasetFieldsForm;
use super::release::ReleaseItem;
use crate::components::{ErrorNotice, NotFound};
use crate::datasets::pages_api::{DatasetView, ReleaseExtras, get_dataset_view};
use crate::datasets::{DatasetVisibility, ReleaseInfo};
use crate::error::AppError;

#[component]
pub fn DatasetPageView() -> impl IntoView {
    let params = use_params_map();
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (params.with(|p| p.get("slug").unwrap_or_default()), version.get()),
        |(slug, _)| get_dataset_view(slug),
    );
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <DatasetBody v refresh /> }.into_any(),
                    Err(AppError::NotFound) => view! { <Title text="Not found · Tutti" /> <NotFound /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DatasetBody(v: DatasetView, refresh: Callback<()>) -> impl IntoView {
    let DatasetView { page, description_html, latest_html, chart_html, extras } = v;
    let d = page.dataset.clone();
    let can_edit = page.can_edit;
    let slug = d.slug.clone();
    let editing = RwSignal::new(false);
    let latest = d.latest.clone();
    let chart = latest.as_ref().filter(|_| !chart_html.is_empty()).map(|r| {
        view! {
            <section class="card ds-labels" aria-labelledby="ds-labels-title">
                <h2 id="ds-labels-title">{format!("Labels in version {}", r.version)}</h2>
                <p class="muted">"Clips with each instrument present (positive), absent (negative) or not agreed on (unknown, masked in training), per split."</p>
                <div inner_html=chart_html></div>
            </section>
        }
    });
    // The history is kept here so that a release just asked for shows at once, compiling (a small
    // release may be done before a reload would show it), and is followed without reloading.
    let releases = RwSignal::new(page.releases.clone());
    let on_compiled = Callback::new(move |r: ReleaseInfo| releases.update(|list| list.insert(0, r)));
    let history = {
        let (slug, name) = (slug.clone(), d.name.clone());
        move || {
            let list = releases.get();
            let items: Vec<(ReleaseInfo, Option<ReleaseExtras>)> =
                list.iter().map(|r| (r.clone(), extras.iter().find(|x| x.id == r.id).cloned())).collect();
            let empty = items.is_empty();
            view! {
                {empty.then(|| view! { <p class="muted">"No releases yet."</p> })}
                <ol class="ds-releases">
                    {items.into_iter().map(|(release, extras)| view! {
                        <ReleaseItem slug=slug.clone() release extras can_edit name=name.clone() refresh />
                    }).collect_view()}
                </ol>
            }
        }
    };
    let citation = d.citation.clone();
    let copied: RwSignal<Option<bool>> = RwSignal::new(None);
    let copy = {
        let citation = citation.clone();
        move |_| {
            let citation = citation.clone();
            leptos::task::spawn_local(async move { copied.set(Some(copy_to_clipboard(&citation).await)) });
        }
    };
    let edit_form = d.clone();
    view! {
        <Title text=format!("{} · Datasets · Tutti", d.name) />
        <nav class="ds-crumbs" aria-label="Breadcrumb"><a href="/datasets">"Datasets"</a></nav>
        <article class="ds-page" data-dataset=d.slug.clone()>
            <section class="card ds-card">
                <div class="card-head">
                    <h1>{d.name.clone()}</h1>
                    {(can_edit && d.visibility != DatasetVisibility::Public)
                        .then(|| view! { <span class="badge">{d.visibility.label()}</span> })}
                </div>
                <h2 class="visually-hidden">"About this dataset"</h2>
                <div class="ds-description" inner_html=description_html></div>
                {(!citation.is_empty()).then(|| view! {
                    <h2>"How to cite"</h2>
                    <pre class="ds-citation" tabindex="0" aria-label="Citation"><code>{citation.clone()}</code></pre>
                    <div class="ds-actions">
                        <button type="button" on:click=copy.clone()>"Copy citation"</button>
                        <span role="status" class="muted">{move || copied.get().map(|ok| if ok {
                            "Copied."
                        } else {
                            "Copying is not available here; select the text instead."
                        })}</span>
                    </div>
                })}
                <div inner_html=latest_html></div>
                {(latest.is_none()).then(|| view! { <p class="muted">"No release has been published yet."</p> })}
                {can_edit.then(|| view! {
                    <div class="ds-actions ds-edit-toggle">
                        <button type="button" aria-expanded=move || editing.get().to_string()
                            on:click=move |_| editing.update(|e| *e = !*e)>"Edit dataset"</button>
                    </div>
                    {move || editing.get().then(|| view! {
                        <DatasetFieldsForm existing=Some(edit_form.clone()) on_saved=Callback::new(move |_| refresh.run(())) />
                    })}
                })}
            </section>
            {chart}
            {can_edit.then(|| view! {
                <section class="card ds-compile" aria-labelledby="ds-compile-title">
                    <h2 id="ds-compile-title">"Compile a new release"</h2>
                    <CompileForm slug=slug.clone() on_compiled />
                </section>
            })}
            <section class="card ds-history" id="ds-releases" aria-labelledby="ds-history-title">
                <h2 id="ds-history-title">"Releases"</h2>
                {history}
            </section>
        </article>
    }
}

/// Whether the browser put `text` on the clipboard (it may refuse, or lack the API off HTTPS).
async fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let navigator = leptos::prelude::window().navigator();
        let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else { return false };
        let Some(clipboard) = clipboard.dyn_ref::<web_sys::Clipboard>() else { return false };
        wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text)).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}
