//! The uploader: audio comes in (browser upload, bulk import, studio takes), is normalised to one
//! canonical lossless format with waveform peaks and loudness, and is served back with access checks.
mod api;
#[cfg(feature = "ssr")]
pub mod edit;
mod pages;
#[cfg(feature = "ssr")]
pub mod spectrogram;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
#[cfg(feature = "hydrate")]
pub(crate) use pages::browser;
pub use pages::{LibraryPage, UploadPage, UploadState};
