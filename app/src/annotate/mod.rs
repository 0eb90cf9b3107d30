//! The annotation loop: serving tasks under leases, accepting or rejecting submissions against the
//! task's state, consensus, and the annotator's page.
mod api;
#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod batches;
mod pages;
#[cfg(feature = "ssr")]
pub mod serve;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod stats;
#[cfg(feature = "ssr")]
pub mod submit;
#[cfg(feature = "ssr")]
mod views;

pub use api::*;
pub use pages::AnnotatePage;
