//! The server side of datasets: storing datasets and releases, gathering a release's samples,
//! the compile job, and streaming an archive.
pub mod compile;
pub mod gather;
pub mod store;
pub mod stream;

pub use compile::{COMPILE, CompileHandler};
