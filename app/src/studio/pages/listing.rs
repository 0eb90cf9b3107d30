//! The studio's start page and a collection's page: the compositions and collections one can open.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::new_forms::{NewCollectionForm, NewCompositionForm};
use crate::components::ErrorNotice;
use crate::studio::{CompositionInfo, get_collection, studio_home};

#[component]
pub fn StudioPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let home = Resource::new(move || version.get(), |_| studio_home());
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Studio · Tutti" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(h) => {
                        let mine: Vec<(Uuid, String)> = h.collections.iter().filter(|c| c.mine).map(|c| (c.id, c.title.clone())).collect();
                        view! {
                            <section class="card">
                                <h1>"Studio"</h1>
                                <p class="lead">"Compositions you can open. Record or upload tracks over the master track, together."</p>
                                <CompositionList list=h.compositions />
                            </section>
                            <section class="card">
                                <h2>"Collections"</h2>
                                {if h.collections.is_empty() {
                                    view! { <p class="muted">"No collections yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="collection-list">
                                            {h.collections.into_iter().map(|c| view! {
                                                <li>
                                                    <a href=format!("/studio/collections/{}", c.id)>{c.title.clone()}</a>
                                                    <span class="muted">{format!(" · {} · {} composition(s) · {}", c.owner_name, c.compositions, c.visibility.as_str())}</span>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                {h.signed_in.then(|| view! { <NewCollectionForm refresh=refresh /> })}
                            </section>
                            {h.signed_in.then(|| view! { <NewCompositionForm collections=mine preset=None /> })}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CompositionList(list: Vec<CompositionInfo>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No compositions yet."</p> }.into_any();
    }
    view! {
        <ul class="composition-list">
            {list.into_iter().map(|c| view! {
                <li>
                    <a href=format!("/studio/{}", c.id)>{c.title.clone()}</a>
                    <span class="muted">{format!(" · {} BPM · {}/{} · {} · you: {}", c.tempo_bpm, c.meter_beats, c.meter_unit, c.visibility.as_str(), c.my_role.as_str())}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn CollectionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_collection(id).await,
            None => Err(crate::error::AppError::NotFound),
        }
    });
    view! {
        <Title text="Collection · Tutti" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => {
                        let c = v.collection;
                        view! {
                            <section class="card">
                                <p><a href="/studio">"← Studio"</a></p>
                                <h1>{c.title.clone()}</h1>
                                <p class="muted">{format!("A collection by {} · {}", c.owner_name, c.visibility.as_str())}</p>
                                {(!c.description.is_empty()).then(|| view! { <p>{c.description.clone()}</p> })}
                                <CompositionList list=v.compositions />
                            </section>
                            {c.mine.then(|| view! { <NewCompositionForm collections=vec![(c.id, c.title.clone())] preset=Some(c.id) /> })}
                        }.into_any()
                    }
                    Err(crate::error::AppError::NotFound) => view! { <crate::components::NotFound /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}
