//! Shared widgets: the page frame, navigation, and status pages.
use leptos::prelude::*;
use leptos_router::components::A;

mod waveform;
pub use waveform::{Waveform, overview};

use crate::auth::{Me, use_me};

/// Set the HTTP status of the page being rendered on the server (no-op in the browser).
pub fn set_page_status(_status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::from_u16(_status).unwrap_or(axum::http::StatusCode::OK));
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let me = use_me();
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <img class="brand-mark" src="/favicon.svg" alt="" width="32" height="32" />
                "Tutti"
            </a>
            <nav class="main-nav" aria-label="Main">
                // Capabilities that are not built yet are named, not linked: no page pretends to work.
                <A href="/studio" attr:class="nav-item">"Studio"</A>
                <A href="/annotate" attr:class="nav-item">"Annotate"</A>
                <A href="/datasets" attr:class="nav-item">"Datasets"</A>
                <Suspense fallback=|| ()>{move || Suspend::new(async move { matches!(me.await, Ok(Some(m)) if m.is_admin).then(|| view! { <A href="/dashboard" attr:class="nav-item">"Dashboard"</A> }) })}</Suspense>
                <A href="/library" attr:class="nav-item">"My audio"</A>
                <A href="/upload" attr:class="nav-item">"Upload"</A>
                <A href="/instruments" attr:class="nav-item">"Instruments"</A>
            </nav>
            <div class="account">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(me)) => view! { <ProfileMenu me=me /> }.into_any(),
                            _ => view! { <a class="button small" href="/signin">"Sign in"</a> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </header>
    }
}

/// The profile menu: a `<details>` so it opens before (and without) hydration.
#[component]
fn ProfileMenu(me: Me) -> impl IntoView {
    let initial = me.display_name.chars().next().unwrap_or('?').to_uppercase().to_string();
    let menu = NodeRef::<leptos::html::Details>::new();
    // Following a link in the menu closes it: the page changes under it, the menu should not stay.
    let close = move |_| {
        if let Some(d) = menu.get_untracked() {
            d.set_open(false);
        }
    };
    view! {
        <details class="profile-menu" node_ref=menu>
            <summary>
                <span class="avatar" aria-hidden="true">{initial}</span>
                <span class="user-name">{me.display_name.clone()}</span>
            </summary>
            <div class="menu" on:click=close>
                <p class="menu-email">{me.email.clone()}</p>
                {me.is_admin.then(|| view! { <p class="badge">"Admin"</p> })}
                <a href="/profile">"Profile & API tokens"</a>
                {me.is_admin.then(|| view! { <a href="/admin/users">"Users"</a> <a href="/admin/campaigns">"Campaigns"</a> })}
                <form method="post" action="/auth/logout">
                    <button type="submit" class="link">"Sign out"</button>
                </form>
            </div>
        </details>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_page_status(404);
    view! {
        <section class="status-page">
            <p class="status-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing here, or it is not visible to you."</p>
            <a class="button" href="/">"Back to the start page"</a>
        </section>
    }
}

/// Shown with status 401 where a page needs a signed-in user.
#[component]
pub fn SignInRequired() -> impl IntoView {
    set_page_status(401);
    // Signing in comes back here (an invitation link, say).
    let location = leptos_router::hooks::use_location();
    let href = move || {
        let search = location.search.get();
        let here = match search.trim_start_matches('?') {
            "" => location.pathname.get(),
            q => format!("{}?{q}", location.pathname.get()),
        };
        format!("/signin?next={}", crate::text::urlencode(&here))
    };
    view! {
        <section class="status-page">
            <p class="status-code">"401"</p>
            <h1>"Please sign in"</h1>
            <p>"This page is only available to signed-in users."</p>
            <a class="button" href=href>"Sign in"</a>
        </section>
    }
}

/// Shown with status 403 where a page needs an admin.
#[component]
pub fn Forbidden() -> impl IntoView {
    set_page_status(403);
    view! {
        <section class="status-page">
            <p class="status-code">"403"</p>
            <h1>"Admins only"</h1>
            <p>"Your account does not have permission to open this page."</p>
        </section>
    }
}

/// An error from a server call, in words, with its status on the server render.
#[component]
pub fn ErrorNotice(error: crate::error::AppError) -> impl IntoView {
    set_page_status(error.status());
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}
