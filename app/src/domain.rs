//! The domain's shared vocabulary, the same in the browser and on the server: roles, visibility,
//! answers, audio kinds, job states, and parsed values (titles, tempo, meter, count-in). Each value is parsed once at the edge; code past it cannot hold an invalid one.
use serde::{Deserialize, Serialize};

/// Roles in a composition, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Contributor,
    Editor,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only its members.
    Private,
    /// Every signed-in user.
    Members,
    /// Anyone, signed in or not.
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

/// A value that does not fit its type, with the words a person acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

/// A title or name: trimmed, 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let t = text.trim();
        if t.is_empty() || t.chars().count() > 200 {
            return Err(Invalid("Give it a title of 1 to 200 characters.".into()));
        }
        Ok(Title(t.to_string()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A tempo in beats per minute, 20 to 400.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tempo(f64);

impl Tempo {
    pub fn parse(bpm: f64) -> Result<Self, Invalid> {
        if (20.0..=400.0).contains(&bpm) {
            Ok(Tempo(bpm))
        } else {
            Err(Invalid("The tempo must be 20 to 400 BPM.".into()))
        }
    }

    pub fn bpm(self) -> f64 {
        self.0
    }
}

/// A meter: 1 to 32 beats of a whole, half, quarter, … 32nd note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meter {
    beats: i32,
    unit: i32,
}

impl Meter {
    pub fn parse(beats: i32, unit: i32) -> Result<Self, Invalid> {
        if !(1..=32).contains(&beats) || ![1, 2, 4, 8, 16, 32].contains(&unit) {
            return Err(Invalid("The meter must be 1–32 beats of a 1, 2, 4, 8, 16 or 32 note.".into()));
        }
        Ok(Meter { beats, unit })
    }

    pub fn beats(self) -> i32 {
        self.beats
    }

    pub fn unit(self) -> i32 {
        self.unit
    }
}

/// Bars of count-in before a take: 0 to 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountIn(i32);

impl CountIn {
    pub fn parse(bars: i32) -> Result<Self, Invalid> {
        if (0..=8).contains(&bars) {
            Ok(CountIn(bars))
        } else {
            Err(Invalid("The count-in must be 0 to 8 bars.".into()))
        }
    }

    pub fn bars(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::{CountIn, Meter, Tempo, Title};

    #[test]
    fn parsed_values_hold_only_what_fits() {
        assert_eq!(Title::parse("  Song  ").unwrap().into_string(), "Song");
        assert!(Title::parse("   ").is_err() && Title::parse(&"x".repeat(201)).is_err());
        assert_eq!(Title::parse(&"é".repeat(200)).unwrap().into_string().chars().count(), 200);
        assert_eq!(Tempo::parse(20.0).unwrap().bpm(), 20.0);
        assert!(Tempo::parse(19.9).is_err() && Tempo::parse(400.1).is_err() && Tempo::parse(f64::NAN).is_err());
        assert_eq!((Meter::parse(7, 8).unwrap().beats(), Meter::parse(7, 8).unwrap().unit()), (7, 8));
        assert!(Meter::parse(0, 4).is_err() && Meter::parse(4, 3).is_err() && Meter::parse(33, 4).is_err());
        assert_eq!(CountIn::parse(0).unwrap().bars(), 0);
        assert!(CountIn::parse(-1).is_err() && CountIn::parse(9).is_err());
    }
}
