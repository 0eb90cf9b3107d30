//! Compiling crowd annotations into a dataset release, without a database: the server gathers
//! the samples (clips with their answers, sources and files) and this crate decides the labels,
//! splits the samples into train and test, writes the release's files and lays out its archive.
//!
//! Everything here is a pure function of its input, so the same samples, parameters and seed give
//! the same bytes: that is what makes a release reproducible.
//!
//! * [`labels`]: each (sample, instrument) decided as a relevance with a mask, as OpenMIC-2018's
//!   `Y_true` / `Y_mask`;
//! * [`split`]: a seeded train/test split where a group never straddles the two and every
//!   instrument's positive rate stays within a tolerance of the whole;
//! * [`files`]: the tables, `labels.npz`, the audiofolder layout, Croissant metadata, the dataset
//!   card, the attribution file and the manifest;
//! * [`archive`]: the byte layout of the `.tar` and `.zip` archives, so any byte range of an
//!   archive can be produced without producing what comes before it.
pub mod archive;
pub mod files;
pub mod labels;
pub mod model;
pub mod split;

pub use model::*;
