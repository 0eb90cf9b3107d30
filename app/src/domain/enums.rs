//! Closed sets of the domain: roles, visibility, answers, job states and audio kinds. Those stored
//! in tables are SeaORM active enums kept as text, so a row with an unknown value fails to load
//! instead of reaching code that would have to guess.
use serde::{Deserialize, Serialize};

/// Roles in a composition, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "viewer"))]
    Viewer,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "contributor"))]
    Contributor,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "editor"))]
    Editor,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "owner"))]
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Contributor => "contributor",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "contributor" => Some(Role::Contributor),
            "editor" => Some(Role::Editor),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// Who may see a composition or collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only its members.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "private"))]
    Private,
    /// Every signed-in user.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "members"))]
    Members,
    /// Anyone, signed in or not.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "public"))]
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Members => "members",
            Visibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "private" => Some(Visibility::Private),
            "members" => Some(Visibility::Members),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerValue {
    Present,
    Absent,
    Unsure,
}

/// Where a background job stands. Stored as text; an unknown value in the table is an error when
/// the row is read, never a state the code has to guess about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker (or for its retry time).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "queued"))]
    Queued,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "running"))]
    Running,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "done"))]
    Done,
    /// Failed for good (attempts used up, or an error another attempt cannot mend).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "failed"))]
    Failed,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "cancelled"))]
    Cancelled,
}

impl JobState {
    /// Nothing more will happen to the job.
    pub fn ended(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed | JobState::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// What an audio object is. Stored as text; only `upload` and `recording` come from clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum AudioKind {
    /// A file a user uploaded.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "upload"))]
    Upload,
    /// A take recorded in the studio.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "recording"))]
    Recording,
    /// Cut from a source by the task builder.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "clip"))]
    Clip,
    /// A composition's mix, rendered on the server.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "mixdown"))]
    Mixdown,
}

impl AudioKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AudioKind::Upload => "upload",
            AudioKind::Recording => "recording",
            AudioKind::Clip => "clip",
            AudioKind::Mixdown => "mixdown",
        }
    }
}

/// Who may see a dataset and download its published releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum DatasetVisibility {
    /// Anyone, signed in or not.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "public"))]
    Public,
    /// Every signed-in user.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "signed_in"))]
    SignedIn,
    /// Admins only.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "admins"))]
    Admins,
}

impl DatasetVisibility {
    pub const ALL: [DatasetVisibility; 3] =
        [DatasetVisibility::Public, DatasetVisibility::SignedIn, DatasetVisibility::Admins];

    pub fn as_str(self) -> &'static str {
        match self {
            DatasetVisibility::Public => "public",
            DatasetVisibility::SignedIn => "signed_in",
            DatasetVisibility::Admins => "admins",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DatasetVisibility::Public => "Everyone",
            DatasetVisibility::SignedIn => "Signed-in users",
            DatasetVisibility::Admins => "Admins only",
        }
    }

    pub fn parse(s: &str) -> Option<DatasetVisibility> {
        DatasetVisibility::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a dataset release stands. Only a published release is visible beyond admins, and a
/// published release never changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum ReleaseState {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "compiling"))]
    Compiling,
    /// Compiled and downloadable by admins; may still be deleted.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "compiled"))]
    Compiled,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "failed"))]
    Failed,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "published"))]
    Published,
}
