//! Campaigns (what annotators work through) and the task builder: clips are cut from stored audio, imported as audio of kind
//! `clip` with their provenance, and each becomes an annotation task.
mod api;
#[cfg(feature = "ssr")]
pub mod builder;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod instructions;
#[cfg(feature = "ssr")]
pub mod labels;
#[cfg(feature = "ssr")]
pub mod listing;
mod model;
mod pages;
#[cfg(feature = "ssr")]
pub mod places;
#[cfg(feature = "ssr")]
pub mod review;
mod review_api;
mod review_page;
mod settings;
mod source_picker;
#[cfg(feature = "ssr")]
pub mod store;

pub use api::*;
pub use model::*;
pub use pages::CampaignsPage;
pub use review_api::*;
