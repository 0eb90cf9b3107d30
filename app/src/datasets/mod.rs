//! Datasets and their releases: what an admin compiles from finished campaigns into a versioned,
//! reproducible archive, and the catalogue everyone (as each dataset's visibility says) downloads
//! from. The compiling itself is the pure `dataset` crate; this folder gathers its input from the
//! database, runs it as a job, keeps the release's files and serves its archive.
mod api;
mod model;
mod pages;
mod pages_api;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use model::*;
pub use pages::{DatasetPageView, DatasetsPage};
pub use pages_api::*;
