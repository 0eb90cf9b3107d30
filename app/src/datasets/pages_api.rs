//! What the dataset pages ask for beyond `api.rs`: the catalogue with a one-paragraph summary of
//! each dataset and whether the viewer may add one, and a dataset's page with its description
//! already turned into safe HTML (Markdown is rendered on the server only, so the browser bundle
//! carries no Markdown parser). Both read through `ssr::store`, which filters with
//! `access::dataset`, so they show exactly what `api.rs` shows.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{DatasetInfo, DatasetPage};
use crate::error::AppError;

/// One dataset of the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub dataset: DatasetInfo,
    /// The description's first paragraph as plain text, shortened.
    pub summary: String,
}

/// The catalogue as the viewer sees it: others than admins only see datasets with a published
/// release (there is nothing to download from the rest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    /// The datasets as HTML (see `pages::catalogue::list_html`).
    pub list_html: String,
    pub empty: bool,
    pub can_create: bool,
}

/// A dataset's page with what only changes when it is loaded again rendered on the server: the
/// description, the latest release's label chart and each release's static parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetView {
    pub page: DatasetPage,
    pub description_html: String,
    /// The latest published release's facts and downloads; empty without one.
    pub latest_html: String,
    /// Empty without a published release (or its report).
    pub chart_html: String,
    /// One per release of `page`, matched by id.
    pub extras: Vec<ReleaseExtras>,
}

/// A release's parts rendered on the server (each may be empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleaseExtras {
    pub id: uuid::Uuid,
    pub changes_html: String,
    pub report_html: String,
    pub params_html: String,
}

#[server(endpoint = "dataset_catalogue")]
pub async fn dataset_catalogue() -> Result<Catalogue, AppError> {
    let viewer = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let admin = viewer.as_ref().is_some_and(|u| u.is_admin);
    let sets = super::ssr::store::catalogue(&ctx.db, viewer.as_ref()).await?;
    let entries: Vec<CatalogueEntry> = sets
        .into_iter()
        .filter(|d| admin || d.latest.is_some())
        .map(|d| CatalogueEntry { summary: summary(&d.description, 240), dataset: d })
        .collect();
    let empty = entries.is_empty();
    Ok(Catalogue { list_html: super::pages::catalogue::list_html(entries, admin), empty, can_create: admin })
}

#[server(endpoint = "get_dataset_view")]
pub async fn get_dataset_view(slug: String) -> Result<DatasetView, AppError> {
    let viewer = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let page = super::ssr::store::page(&ctx.db, viewer.as_ref(), &slug).await?;
    let description_html = crate::campaigns::instructions::markdown_html(&page.dataset.description);
    let chart_html = page
        .dataset
        .latest
        .as_ref()
        .and_then(super::pages::report_of)
        .map(|r| super::pages::chart::chart_html(r.prevalence))
        .unwrap_or_default();
    let extras = super::pages::extras::release_extras(&page);
    let latest_html = super::pages::extras::latest_html(&page.dataset);
    Ok(DatasetView { page, description_html, latest_html, chart_html, extras })
}

/// The first paragraph of Markdown `text` as plain text, cut at a word near `max` characters.
#[cfg(feature = "ssr")]
fn summary(text: &str, max: usize) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::new();
    let mut inside = false;
    for e in Parser::new(text) {
        match e {
            Event::Start(Tag::Paragraph) => inside = true,
            Event::End(TagEnd::Paragraph) if inside => break,
            Event::Text(t) | Event::Code(t) if inside => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak if inside => out.push(' '),
            _ => {}
        }
    }
    if out.chars().count() <= max {
        return out;
    }
    let cut: String = out.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).trim_end_matches([',', ';', ':', '.']);
    format!("{cut}…")
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::summary;

    #[test]
    fn a_summary_is_the_first_paragraph_in_plain_words() {
        assert_eq!(summary("Clips **labelled** by `the crowd`.\n\nMore here.", 240), "Clips labelled by the crowd.");
        assert_eq!(summary("# Title\n\nFirst words\nof it.", 240), "First words of it.");
        assert_eq!(summary("one two three four", 9), "one two…");
        assert_eq!(summary("", 10), "");
    }
}
