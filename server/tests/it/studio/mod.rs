//! The studio model over HTTP: the permissions matrix on every surface, invitations, track state.
mod common;
mod invitations;
mod mixdown;
mod permissions;
mod tracks;
