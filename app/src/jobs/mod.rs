//! Background jobs: the durable queue (`queue`, server side) and what pages and scripts see of a
//! job (its state, error and result), for the user who asked for it and for admins.
mod api;
#[cfg(feature = "ssr")]
mod queue;
#[cfg(feature = "ssr")]
pub mod view;

pub use api::*;
#[cfg(feature = "ssr")]
pub use queue::*;
