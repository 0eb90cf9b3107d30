//! The data the studio's pages, server functions and REST API exchange: roles, visibility,
//! compositions, tracks, members, invitations, collections and latency measurements.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::domain::{Role, Visibility};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComposition {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub collection_id: Option<Uuid>,
    pub tempo_bpm: Option<f64>,
    pub meter_beats: Option<i32>,
    pub meter_unit: Option<i32>,
    pub count_in_bars: Option<i32>,
    pub license: Option<String>,
    pub visibility: Option<Visibility>,
    pub open_to_contribution: Option<bool>,
}

/// Changes to a composition; absent fields stay as they are. A field that cannot be changed here
/// (a collection, a mixdown) is refused by name rather than ignored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositionPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tempo_bpm: Option<f64>,
    pub meter_beats: Option<i32>,
    pub meter_unit: Option<i32>,
    pub count_in_bars: Option<i32>,
    pub license: Option<String>,
    pub visibility: Option<Visibility>,
    pub open_to_contribution: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompositionInfo {
    pub id: Uuid,
    pub collection_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub title: String,
    pub description: String,
    pub tempo_bpm: f64,
    pub meter_beats: i32,
    pub meter_unit: i32,
    pub count_in_bars: i32,
    pub license: crate::domain::Licence,
    pub visibility: Visibility,
    pub open_to_contribution: bool,
    pub created_at: String,
    /// The latest server mixdown, if one was rendered.
    pub mixdown_id: Option<Uuid>,
    /// What the asking user may do here.
    pub my_role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackInfo {
    pub id: Uuid,
    pub composition_id: Uuid,
    pub audio_id: Uuid,
    pub author_id: Uuid,
    pub name: String,
    pub instrument: String,
    pub offset_frames: i64,
    pub gain_db: f64,
    pub pan: f64,
    pub mute: bool,
    pub solo: bool,
    pub is_master: bool,
    pub capture: Option<serde_json::Value>,
    pub duration_seconds: f64,
    pub canonical_rate: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTrack {
    pub audio_id: Uuid,
    pub name: String,
    pub instrument: String,
    #[serde(default)]
    pub offset_frames: i64,
    #[serde(default)]
    pub is_master: bool,
    /// Capture provenance of a recorded take (browser, device, rates, latency, compensation).
    pub capture: Option<serde_json::Value>,
}

/// Changes to a track; absent fields stay as they are, unknown ones are refused by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackPatch {
    pub name: Option<String>,
    pub instrument: Option<String>,
    pub offset_frames: Option<i64>,
    pub gain_db: Option<f64>,
    pub pan: Option<f64>,
    pub mute: Option<bool>,
    pub solo: Option<bool>,
    pub is_master: Option<bool>,
}

impl TrackPatch {
    /// The patch that puts back what this one changes on `t` (as `t` was before it).
    pub fn undoing(&self, t: &TrackInfo) -> TrackPatch {
        TrackPatch {
            name: self.name.as_ref().map(|_| t.name.clone()),
            instrument: self.instrument.as_ref().map(|_| t.instrument.clone()),
            offset_frames: self.offset_frames.map(|_| t.offset_frames),
            gain_db: self.gain_db.map(|_| t.gain_db),
            pan: self.pan.map(|_| t.pan),
            mute: self.mute.map(|_| t.mute),
            solo: self.solo.map(|_| t.solo),
            is_master: self.is_master.map(|_| t.is_master),
        }
    }

    /// What the patch changes, as an undo button names it.
    pub fn what(&self) -> &'static str {
        match self {
            p if p.offset_frames.is_some() => "move",
            p if p.gain_db.is_some() => "gain",
            p if p.pan.is_some() => "pan",
            p if p.mute.is_some() => "mute",
            p if p.solo.is_some() => "solo",
            p if p.name.is_some() || p.instrument.is_some() => "track edit",
            _ => "edit",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub role: Role,
    /// Hours until the link stops working (default a week).
    pub expires_in_hours: Option<i64>,
}

/// A fresh invitation: the token is shown once, only its hash is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationLink {
    pub id: Uuid,
    pub token: String,
    pub path: String,
    pub role: Role,
    pub expires_at: String,
}

/// What an invitation link offers, shown before it is accepted (the link's holder may know it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub composition_title: String,
    pub owner_name: String,
    pub role: Role,
    pub expires_at: String,
    /// Why it can no longer be accepted, if so.
    pub unusable: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub visibility: Option<Visibility>,
}

/// A set of compositions. Its visibility governs the listing; each composition in it keeps its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionInfo {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub title: String,
    pub description: String,
    pub visibility: Visibility,
    pub created_at: String,
    /// How many of its compositions the asking user can open.
    pub compositions: usize,
    pub mine: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionView {
    pub collection: CollectionInfo,
    /// Its compositions the asking user can open.
    pub compositions: Vec<CompositionInfo>,
}

/// What the studio's start page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudioOverview {
    pub compositions: Vec<CompositionInfo>,
    pub collections: Vec<CollectionInfo>,
    pub signed_in: bool,
}

/// A latency measurement made in the browser, to store for the signed-in user and one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCalibration {
    pub device_key: String,
    #[serde(default)]
    pub device_label: String,
    pub latency_ms: f64,
    #[serde(default)]
    pub spread_ms: f64,
    pub quality_db: f64,
    pub sample_rate: i32,
    pub runs: i32,
    pub accepted: i32,
    #[serde(default)]
    pub user_agent: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationInfo {
    pub device_key: String,
    pub device_label: String,
    pub latency_ms: f64,
    pub spread_ms: f64,
    pub quality_db: f64,
    pub sample_rate: i32,
    pub runs: i32,
    pub accepted: i32,
    pub measured_at: String,
}

/// Everything the composition page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompositionView {
    pub composition: CompositionInfo,
    pub tracks: Vec<TrackInfo>,
    pub members: Vec<MemberInfo>,
    /// The asker's own uploads, to place as tracks.
    pub my_audio: Vec<(Uuid, String)>,
    /// Waveform overview of each track's audio, by audio id.
    pub waveforms: std::collections::HashMap<Uuid, Vec<(f32, f32)>>,
    /// The rate track offsets count samples at.
    pub canonical_rate: u32,
    /// The taxonomy, as (slug, name), for naming a recorded take's instrument.
    pub instruments: Vec<(String, String)>,
    /// The tracks the asker may change (contributors change only their own).
    pub editable: std::collections::HashSet<Uuid>,
    /// Whether the latest mixdown was rendered from the tracks as they are now.
    pub mixdown_current: bool,
}
