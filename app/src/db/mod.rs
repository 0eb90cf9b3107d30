//! SeaORM entities (server only). Table definitions live in the `migrations` crate.
pub mod api_token;
pub mod audio;
pub mod identity;
pub mod instrument;
pub mod session;
pub mod user;
