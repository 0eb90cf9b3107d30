//! The studio's model: collections, compositions, members with roles, invitations and tracks, with
//! the access rule every studio surface uses.
mod api;
mod desk;
#[cfg(feature = "hydrate")]
mod leave_guard;
mod model;
mod pages;
#[cfg(feature = "hydrate")]
mod player;
mod record;
#[cfg(feature = "hydrate")]
mod recorder;
#[cfg(feature = "hydrate")]
mod shortcuts;
#[cfg(feature = "ssr")]
pub mod ssr;
mod stall;

// A glob, so the argument types `#[server]` generates next to each function stay reachable too.
pub use api::*;
pub use model::{
    CalibrationInfo, CollectionInfo, CollectionView, CompositionInfo, CompositionPatch, CompositionView,
    InvitationLink, InvitationPreview, MemberInfo, NewCalibration, NewCollection, NewComposition, NewInvitation,
    NewTrack, Role, StudioOverview, TrackInfo, TrackPatch, Visibility,
};
pub use pages::{CollectionPage, CompositionPage, InvitePage, StudioPage};
pub use stall::stall_step;
