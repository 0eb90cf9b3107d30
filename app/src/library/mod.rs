//! The uploader: audio comes in (browser upload, bulk import, studio takes), is normalised to one
//! canonical lossless format with waveform peaks and loudness, and is served back with access checks.
mod api;
#[cfg(feature = "ssr")]
pub mod edit;
mod item;
mod listing;
mod pages;
#[cfg(feature = "ssr")]
pub mod remove;
mod search;
#[cfg(feature = "ssr")]
pub mod spectrogram;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
// A glob, so the argument types `#[server]` generates next to each function stay reachable too.
pub use item::*;
pub use listing::LibraryPage;
#[cfg(feature = "hydrate")]
pub(crate) use pages::browser;
pub use pages::{UploadPage, UploadState};
pub use search::*;
