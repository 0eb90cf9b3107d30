//! "My audio": one's library, searched by name, sorted and paged, each item linking to its page.
use leptos::prelude::*;
use leptos_meta::Title;

use super::pages::AudioCardView;
use super::{AudioSort, LIBRARY_PAGE, search_my_audio};
use crate::auth::use_me;
use crate::components::{ErrorNotice, SignInRequired};

#[component]
pub fn LibraryPage() -> impl IntoView {
    let me = use_me();
    let query = RwSignal::new(String::new());
    let sort = RwSignal::new(AudioSort::Newest);
    let offset = RwSignal::new(0u64);
    // Made here, once, outside the Suspense: a Suspend closure may run more than once on the
    // server, and resources made inside it would not match the browser's.
    let results = Resource::new(move || (query.get(), sort.get(), offset.get()), |(q, s, o)| search_my_audio(q, s, o));
    view! {
        <Title text="My audio · Tutti" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! { <Library query sort offset results /> }.into_any(),
                    Ok(None) => view! { <SignInRequired /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Library(
    query: RwSignal<String>,
    sort: RwSignal<AudioSort>,
    offset: RwSignal<u64>,
    results: Resource<Result<super::AudioResults, crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <section class="card">
            <div class="card-head">
                <h1>"My audio"</h1>
                <a class="button primary" href="/upload">"Upload"</a>
            </div>
            <form class="row library-tools" role="search" on:submit=|ev| ev.prevent_default()>
                <label>"Search"
                    <input id="library-search" type="search" maxlength="200" placeholder="Name, title or artist"
                        prop:value=move || query.get()
                        on:input=move |ev| { offset.set(0); query.set(event_target_value(&ev)) } />
                </label>
                <label>"Sort"
                    <select id="library-sort" on:change=move |ev| {
                        if let Some(s) = AudioSort::parse(&event_target_value(&ev)) { offset.set(0); sort.set(s) }
                    }>
                        {AudioSort::ALL.map(|(s, label)| view! { <option value=s.as_str() selected=move || sort.get() == s>{label}</option> }).collect_view()}
                    </select>
                </label>
            </form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(r) if r.total == 0 && query.get_untracked().trim().is_empty() => view! {
                            <p class="muted">"Nothing here yet. " <a href="/upload">"Upload your first file."</a></p>
                        }.into_any(),
                        Ok(r) if r.total == 0 => view! { <p class="muted" role="status">"Nothing matches."</p> }.into_any(),
                        Ok(r) => {
                            let (from, to, total) = (r.offset + 1, r.offset + r.cards.len() as u64, r.total);
                            view! {
                                <p class="muted" role="status">{format!("{from}–{to} of {total}")}</p>
                                <ul class="library">
                                    {r.cards.into_iter().map(|card| view! { <li><AudioCardView card=card /></li> }).collect_view()}
                                </ul>
                                <nav class="pager" aria-label="Pages">
                                    <button type="button" disabled=r.offset == 0
                                        on:click=move |_| offset.update(|o| *o = o.saturating_sub(LIBRARY_PAGE))>"Previous"</button>
                                    <button type="button" disabled=to >= total
                                        on:click=move |_| offset.update(|o| *o += LIBRARY_PAGE)>"Next"</button>
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
