//! Server side of the studio model. Every operation starts from the access rule
//! ([`crate::access::composition`]): a composition the user may not see does not exist for them
//! (404); one they see but may not change is a 403.
mod calibration;
mod checks;
mod collections;
mod compositions;
mod members;
mod mixdown;
mod mixdown_job;
mod tracks;

pub use calibration::{calibrations, save_calibration};
pub use collections::{collection_view, create_collection, delete_collection, list_collections};
pub use compositions::{create, delete, find, info, list_visible, update};
pub use members::{accept, invite, members, preview, set_member};
pub use mixdown::{mix_recipe, render_mixdown};
pub use mixdown_job::{MIXDOWN, MixdownHandler, start_mixdown};
pub use tracks::{add_track, delete_track, find_track, may_change, track_info, tracks, update_track};
