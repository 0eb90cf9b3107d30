//! The studio's model: collections, compositions, members with roles, invitations and tracks, with
//! the access rule every studio surface uses.
#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    pub license: String,
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

mod pages;
#[cfg(feature = "hydrate")]
mod player;

/// Steps of the audio clock's lag behind the page clock up to this are jitter, not a stall (s).
const STALL_JITTER_S: f64 = 0.005;

/// How much of a step in the audio clock's lag behind the page clock (both in seconds, from
/// `AudioContext.getOutputTimestamp`) was a stall: the audio thread or device missed its deadline,
/// so the take may hold a click or lost samples. Slow drift between two clocks stays under the
/// jitter allowance at every step and never counts.
pub fn stall_step(previous_lag: Option<f64>, lag: f64) -> f64 {
    match previous_lag {
        Some(p) if lag - p > STALL_JITTER_S => lag - p,
        _ => 0.0,
    }
}

/// Whether a key press goes to a form field, where the page's shortcuts must not act.
#[cfg(feature = "hydrate")]
fn typing_in_field(ev: &leptos::web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
}

/// Whether the key goes to a button or link reached with the keyboard (`:focus-visible`), whose
/// own Space (press M, S, Stop …) wins over the page's shortcut. After a mouse click the focus
/// ring is not shown and Space stays play/pause.
#[cfg(feature = "hydrate")]
fn on_keyboard_control(ev: &leptos::web_sys::KeyboardEvent) -> bool {
    ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok()).is_some_and(|e| {
        matches!(e.tag_name().as_str(), "BUTTON" | "A" | "SUMMARY") && e.matches(":focus-visible").unwrap_or(false)
    })
}
mod record;
#[cfg(feature = "hydrate")]
mod recorder;
pub use pages::{CollectionPage, CompositionPage, InvitePage, StudioPage};

use leptos::prelude::*;

use crate::error::AppError;

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
}

#[server(endpoint = "list_compositions")]
pub async fn list_compositions() -> Result<Vec<CompositionInfo>, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::list_visible(&ctx.db, user.as_ref()).await
}

#[server(endpoint = "create_composition", input = server_fn::codec::Json)]
pub async fn create_composition_fn(composition: NewComposition) -> Result<CompositionInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let c = ssr::create(&ctx.db, &user, composition, &ctx.settings.default_license)
        .await
        .inspect_err(|e| e.set_response_status())?;
    Ok(ssr::info(&c, Role::Owner))
}

#[server(endpoint = "get_composition")]
pub async fn get_composition(id: Uuid) -> Result<CompositionView, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let (c, role) =
        ssr::find(&ctx.db, user.as_ref(), id, Role::Viewer).await.inspect_err(|e| e.set_response_status())?;
    let my_audio = match &user {
        Some(u) if role >= Role::Contributor => crate::db::audio::Entity::find()
            .filter(crate::db::audio::Column::OwnerId.eq(u.id))
            .filter(crate::db::audio::Column::Kind.ne("clip"))
            .order_by_desc(crate::db::audio::Column::CreatedAt)
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.title.unwrap_or(a.original_filename)))
            .collect(),
        _ => Vec::new(),
    };
    let tracks = ssr::tracks(&ctx.db, &c).await?;
    let mut waveforms = std::collections::HashMap::new();
    for t in &tracks {
        if let Some(a) = crate::db::audio::Entity::find_by_id(t.audio_id).one(&ctx.db).await? {
            waveforms.insert(t.audio_id, crate::ingest::ssr::card(&ctx, &a).await?.waveform);
        }
    }
    let editable =
        tracks.iter().filter(|t| user.as_ref().is_some_and(|u| ssr::may_change(t.author_id, role, u.id))).map(|t| t.id);
    Ok(CompositionView {
        editable: editable.collect(),
        composition: ssr::info(&c, role),
        waveforms,
        tracks,
        members: ssr::members(&ctx.db, &c).await?,
        my_audio,
        canonical_rate: ctx.settings.canonical_rate,
        instruments: crate::instruments::ssr::all(&ctx.db).await?.into_iter().map(|i| (i.slug, i.name)).collect(),
    })
}

#[server(endpoint = "add_track", input = server_fn::codec::Json)]
pub async fn add_track_fn(composition_id: Uuid, track: NewTrack) -> Result<TrackInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let result = async {
        let (c, role) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Contributor).await?;
        let t = ssr::add_track(&ctx.db, &ctx.settings, &c, role, &user, track).await?;
        ssr::track_info(&ctx.db, &t).await
    }
    .await;
    result.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "update_track", input = server_fn::codec::Json)]
pub async fn update_track_fn(track_id: Uuid, patch: TrackPatch) -> Result<TrackInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let result = async {
        let t = ssr::update_track(&ctx.db, &ctx.settings, &user, track_id, patch).await?;
        ssr::track_info(&ctx.db, &t).await
    }
    .await;
    result.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "invite_member", input = server_fn::codec::Json)]
pub async fn invite_member(composition_id: Uuid, invitation: NewInvitation) -> Result<InvitationLink, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let result = async {
        let (c, _) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Owner).await?;
        ssr::invite(&ctx.db, &c, &user, invitation).await
    }
    .await;
    result.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "preview_invitation")]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, AppError> {
    let _user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::preview(&ctx.db, &token).await.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<Uuid, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::accept(&ctx.db, &user, &token).await.map(|c| c.id).inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "render_mixdown")]
pub async fn render_mixdown_fn(composition_id: Uuid) -> Result<Uuid, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let result = async {
        let (c, _) = ssr::find(&ctx.db, Some(&user), composition_id, Role::Editor).await?;
        ssr::render_mixdown(&ctx, &c).await.map(|a| a.id)
    }
    .await;
    result.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "save_calibration", input = server_fn::codec::Json)]
pub async fn save_calibration(calibration: NewCalibration) -> Result<CalibrationInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::save_calibration(&ctx.db, &user, calibration).await.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "my_calibrations")]
pub async fn my_calibrations() -> Result<Vec<CalibrationInfo>, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::calibrations(&ctx.db, &user).await
}

#[server(endpoint = "studio_home")]
pub async fn studio_home() -> Result<StudioOverview, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    Ok(StudioOverview {
        compositions: ssr::list_visible(&ctx.db, user.as_ref()).await?,
        collections: ssr::list_collections(&ctx.db, user.as_ref()).await?,
        signed_in: user.is_some(),
    })
}

#[server(endpoint = "create_collection", input = server_fn::codec::Json)]
pub async fn create_collection_fn(collection: NewCollection) -> Result<CollectionInfo, AppError> {
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::create_collection(&ctx.db, &user, collection).await.inspect_err(|e| e.set_response_status())
}

#[server(endpoint = "get_collection")]
pub async fn get_collection(id: Uuid) -> Result<CollectionView, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    ssr::collection_view(&ctx.db, user.as_ref(), id).await.inspect_err(|e| e.set_response_status())
}

#[cfg(test)]
mod tests {
    use super::stall_step;

    #[test]
    fn only_steps_beyond_jitter_count_as_stalls() {
        // A healthy capture: the lag wobbles by a millisecond and drifts slowly.
        let mut lags = vec![0.0];
        for i in 1..2_000 {
            lags.push(-0.006 + 0.001 * f64::from(i % 2) + 1e-6 * f64::from(i));
        }
        let mut last = None;
        let mut stalled = 0.0;
        for &l in &lags {
            stalled += stall_step(last, l);
            last = Some(l);
        }
        assert_eq!(stalled, 0.0);
        // Two freezes of 140 ms and one of 12 ms, as the audio clock lost them.
        let mut total = 0.0;
        let mut last = Some(-0.003);
        for l in [-0.003, 0.137, 0.137, 0.138, 0.278, 0.290, 0.289] {
            total += stall_step(last, l);
            last = Some(l);
        }
        assert!((total - 0.292).abs() < 1e-9, "{total}");
        assert_eq!(stall_step(None, 5.0), 0.0);
    }
}
