//! The one access rule: who may see or change what. Every surface (pages, server functions, REST,
//! audio bytes, peaks, spectrograms) asks here, and what a viewer may not see is indistinguishable
//! from what does not exist (404). It depends on the entities only, never on a feature.
pub mod audio;
pub mod campaign;
pub mod composition;
pub mod dataset;
pub mod job;
