//! Tutti's isomorphic Leptos app: pages, components and server functions. Server-only modules
//! (database entities, the server context) sit behind the `ssr` feature; browser-only code behind
//! `hydrate`.
#[cfg(feature = "ssr")]
pub mod access;
pub mod admin;
pub mod annotate;
pub mod auth;
pub mod campaigns;
pub mod components;
#[cfg(feature = "ssr")]
pub mod context;
pub mod dashboard;
pub mod datasets;
#[cfg(feature = "ssr")]
pub mod db;
pub mod domain;
pub mod error;
pub mod instruments;
pub mod jobs;
pub mod library;
#[cfg(feature = "ssr")]
pub mod runtime;
#[cfg(feature = "ssr")]
pub mod storage;
pub mod studio;
pub mod text;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::auth::{MeResource, ProfilePage, SignInPage, get_me, use_me};
use crate::components::{Header, NotFound};

/// Every kind of job the server runs (the job queue itself knows no feature).
#[cfg(feature = "ssr")]
pub fn job_handlers() -> jobs::Handlers {
    let mut h = jobs::Handlers::new();
    h.insert(campaigns::builder::TASK_BUILD, std::sync::Arc::new(campaigns::builder::BuildHandler));
    h.insert(studio::ssr::MIXDOWN, std::sync::Arc::new(studio::ssr::MixdownHandler));
    h.insert(datasets::ssr::COMPILE, std::sync::Arc::new(datasets::ssr::CompileHandler));
    h
}

/// The Content-Security-Policy of HTML pages: scripts only from this origin or carrying this
/// response's nonce (Leptos' hydration bootstrap), WebAssembly allowed, no framing.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; \
         connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
        && let Ok(value) = axum::http::HeaderValue::from_str(&page_csp(&nonce))
    {
        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let me: MeResource = Resource::new(|| (), |_| get_me());
    provide_context(me);
    view! {
        <Stylesheet id="leptos" href="/pkg/tutti.css" />
        <Title text="Tutti" />
        <Router>
            <Header />
            <main class="page">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/signin") view=SignInPage />
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/instruments") view=instruments::InstrumentsPage />
                    <Route path=path!("/upload") view=library::UploadPage ssr=SsrMode::Async />
                    <Route path=path!("/annotate") view=annotate::AnnotatePage ssr=SsrMode::Async />
                    <Route path=path!("/studio") view=studio::StudioPage ssr=SsrMode::Async />
                    <Route path=path!("/studio/collections/:id") view=studio::CollectionPage ssr=SsrMode::Async />
                    <Route path=path!("/studio/:id") view=studio::CompositionPage ssr=SsrMode::Async />
                    <Route path=path!("/invite/:token") view=studio::InvitePage ssr=SsrMode::Async />
                    <Route path=path!("/library") view=library::LibraryPage ssr=SsrMode::Async />
                    <Route path=path!("/library/:id") view=library::AudioPage ssr=SsrMode::Async />
                    <Route path=path!("/datasets") view=datasets::DatasetsPage ssr=SsrMode::Async />
                    <Route path=path!("/datasets/:slug") view=datasets::DatasetPageView ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=admin::UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/campaigns") view=campaigns::CampaignsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/instruments") view=admin::InstrumentsAdminPage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=dashboard::DashboardPage ssr=SsrMode::Async />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Tutti — open, research-grade music data from a crowd of musicians and listeners."</p>
            </footer>
        </Router>
    }
}

#[component]
fn HomePage() -> impl IntoView {
    let me = use_me();
    view! {
        <section class="hero">
            <h1>"Make music data together"</h1>
            <p class="lead">
                "Tutti collects research-grade music data from a crowd: musicians record stems into shared \
                 compositions, annotators label the instruments they hear, and researchers compile the \
                 results into open datasets and challenges."
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! {
                            <p class="welcome">"Welcome back, " <strong>{me.display_name}</strong> "."</p>
                        }.into_any(),
                        _ => view! { <a class="button primary" href="/signin">"Sign in to take part"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="features">
            <article>
                <h2>"Studio"</h2>
                <p>"Record tracks in the browser over a master track, with metronome, count-in and latency compensation."</p>
            </article>
            <article>
                <h2>"Annotate"</h2>
                <p>"Listen to short clips and tick the instruments you hear; every answer feeds a consensus."</p>
            </article>
            <article>
                <h2>"Datasets"</h2>
                <p>"Labelled train and unlabelled test sets with immutable manifests, and challenges with leaderboards."</p>
            </article>
            <article>
                <h2><a href="/instruments">"Instruments"</a></h2>
                <p>"The shared taxonomy of 20 instrument classes that every label uses."</p>
            </article>
        </section>
    }
}
