//! The annotation loop: serving tasks under leases (from any open campaign or a chosen one),
//! accepting or rejecting submissions against the task's state, consensus, and the annotator's page.
mod api;
#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod batches;
mod chooser;
mod help;
mod pages;
#[cfg(feature = "ssr")]
pub mod progress;
#[cfg(feature = "ssr")]
pub mod serve;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod stats;
#[cfg(feature = "ssr")]
pub mod submit;
mod task;
#[cfg(feature = "ssr")]
mod views;
mod widgets;

pub use api::*;
pub use pages::AnnotatePage;
