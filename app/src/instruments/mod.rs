//! The instrument taxonomy every track, task and label refers to, and what annotators are told
//! about each instrument (`help`).
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::ErrorNotice;
use crate::error::AppError;

pub mod help;
pub use help::{
    ExampleChoice, HelpChange, InstrumentHelp, get_instrument_help, search_example_audio, set_instrument_help,
};

/// What a track is labelled when its musician says the instrument is unknown or several are heard:
/// stated, never assumed.
pub const UNKNOWN: &str = "unknown";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    pub slug: String,
    pub name: String,
    pub family: String,
}

#[server(endpoint = "list_instruments")]
pub async fn list_instruments() -> Result<Vec<Instrument>, AppError> {
    let ctx = crate::context::ServerContext::current()?;
    ssr::all(&ctx.db).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

    use super::Instrument;
    use crate::db::instrument;
    use crate::error::AppError;

    pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Instrument>, AppError> {
        let rows = instrument::Entity::find().order_by_asc(instrument::Column::Position).all(db).await?;
        Ok(rows.into_iter().map(|r| Instrument { slug: r.slug, name: r.name, family: r.family }).collect())
    }
}

/// Instruments grouped by family, families in order of first appearance.
pub fn by_family(list: Vec<Instrument>) -> Vec<(String, Vec<Instrument>)> {
    let mut groups: Vec<(String, Vec<Instrument>)> = Vec::new();
    for i in list {
        match groups.iter_mut().find(|(f, _)| *f == i.family) {
            Some((_, members)) => members.push(i),
            None => groups.push((i.family.clone(), vec![i])),
        }
    }
    groups
}

#[component]
pub fn InstrumentsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_instruments());
    view! {
        <Title text="Instruments · Tutti" />
        <section class="card">
            <h1>"Instrument taxonomy"</h1>
            <p class="lead">"Every track, annotation task and dataset label uses these classes (OpenMIC-2018)."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! {
                            <div class="families">
                                {by_family(list).into_iter().map(|(family, members)| view! {
                                    <div class="family">
                                        <h2>{family}</h2>
                                        <ul>
                                            {members.into_iter().map(|i| view! {
                                                <li><span>{i.name}</span> <code>{i.slug}</code></li>
                                            }).collect_view()}
                                        </ul>
                                    </div>
                                }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(slug: &str, family: &str) -> Instrument {
        Instrument { slug: slug.into(), name: slug.into(), family: family.into() }
    }

    #[test]
    fn grouping_keeps_first_appearance_order() {
        let groups = by_family(vec![i("piano", "keys"), i("violin", "strings"), i("organ", "keys")]);
        let names: Vec<_> = groups.iter().map(|(f, m)| (f.as_str(), m.len())).collect();
        assert_eq!(names, vec![("keys", 2), ("strings", 1)]);
    }
}
