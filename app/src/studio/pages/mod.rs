//! Studio pages: the composition list, a composition's timeline with its tracks and mixer, and the
//! invitation landing page.
use leptos::prelude::*;

mod add_track;
mod composition;
mod lane;
mod listing;
mod members;
mod mixdown;
mod new_forms;
mod settings;
mod track_edit;

pub use composition::CompositionPage;
pub use listing::{CollectionPage, StudioPage};
pub use members::InvitePage;

/// The instrument taxonomy, as a resource.
type Taxonomy = Resource<Result<Vec<crate::instruments::Instrument>, crate::error::AppError>>;
