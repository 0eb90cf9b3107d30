//! The domain's shared vocabulary, the same in the browser and on the server.
mod enums;
mod licence;
mod values;

pub use enums::{AnswerValue, AudioKind, DatasetVisibility, JobState, ReleaseState, Role, Visibility};
pub use licence::Licence;
pub use values::{
    CampaignName, CountIn, Description, GoldRate, Instructions, InstrumentDescription, Invalid, ListenShare, Meter,
    Mixer, StatsEvery, Tempo, Title,
};
