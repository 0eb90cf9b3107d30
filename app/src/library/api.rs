//! What the library and upload pages exchange with the server.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An audio record as clients see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    pub id: Uuid,
    pub kind: crate::domain::AudioKind,
    pub owner_id: Uuid,
    pub is_public: bool,
    pub sha256: String,
    pub original_filename: String,
    pub original_format: String,
    pub original_codec: String,
    pub original_bytes: i64,
    pub original_rate: i32,
    pub original_channels: i32,
    pub canonical_rate: i32,
    pub canonical_channels: i32,
    pub frames: i64,
    pub duration_seconds: f64,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub tags: Vec<(String, String)>,
    pub license: crate::domain::Licence,
    pub loudness_lufs: Option<f64>,
    pub parent_id: Option<Uuid>,
    pub parent_offset_frames: Option<i64>,
    pub created_at: String,
}

impl AudioInfo {
    pub fn canonical_url(&self) -> String {
        format!("/api/v1/audio/{}/canonical", self.id)
    }
    pub fn original_url(&self) -> String {
        format!("/api/v1/audio/{}/original", self.id)
    }
    pub fn peaks_url(&self) -> String {
        format!("/api/v1/audio/{}/peaks", self.id)
    }
}

use leptos::prelude::*;

use crate::error::AppError;

/// One row of the library: the record and a waveform overview from its stored peaks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioCard {
    pub info: AudioInfo,
    pub waveform: Vec<(f32, f32)>,
    /// The compositions it is a track of (told to its owner only).
    #[serde(default)]
    pub shared_in: Vec<SharedIn>,
}

/// A composition an audio is a track of, and who can hear it there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedIn {
    pub composition_id: Uuid,
    pub title: String,
    pub visibility: crate::domain::Visibility,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadOptions {
    pub licenses: Vec<(String, String)>,
    pub default_license: String,
    pub max_upload_bytes: u64,
}

/// Columns of a waveform thumbnail.
pub const THUMBNAIL_COLUMNS: usize = 160;

#[server(endpoint = "list_my_audio")]
pub async fn list_my_audio() -> Result<Vec<AudioCard>, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let user = crate::auth::ssr::require_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    // Clips cut for campaigns are the campaigns' business, not the owner's library.
    let rows = crate::db::audio::Entity::find()
        .filter(crate::db::audio::Column::OwnerId.eq(user.id))
        .filter(crate::db::audio::Column::Kind.ne(crate::domain::AudioKind::Clip))
        .order_by_desc(crate::db::audio::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    super::ssr::owners_cards(&ctx, rows).await
}

/// A size as people read it: "1 GiB", "2.5 MiB", "300 KiB", "12 bytes".
pub fn human_bytes(n: u64) -> String {
    let (value, unit) = match n {
        n if n >= 1 << 30 => (n as f64 / (1u64 << 30) as f64, "GiB"),
        n if n >= 1 << 20 => (n as f64 / (1u64 << 20) as f64, "MiB"),
        n if n >= 1 << 10 => (n as f64 / 1024.0, "KiB"),
        n => return format!("{n} bytes"),
    };
    let text = format!("{value:.1}");
    format!("{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
}

#[server(endpoint = "get_audio_card")]
pub async fn get_audio_card(id: uuid::Uuid) -> Result<AudioCard, AppError> {
    let user = crate::auth::ssr::current_user().await?;
    let ctx = crate::context::ServerContext::current()?;
    let a = crate::access::audio::visible_audio(&ctx, id, user.as_ref()).await?;
    super::ssr::card(&ctx, &a).await
}

#[server(endpoint = "get_upload_options")]
pub async fn get_upload_options() -> Result<UploadOptions, AppError> {
    let ctx = crate::context::ServerContext::current()?;
    Ok(UploadOptions {
        licenses: crate::domain::Licence::ALL.iter().map(|l| (l.id().to_string(), l.name().to_string())).collect(),
        default_license: ctx.settings.default_license.id().to_string(),
        max_upload_bytes: ctx.settings.max_upload_bytes,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::human_bytes(1 << 30), "1 GiB");
        assert_eq!(super::human_bytes(5 * (1 << 20) / 2), "2.5 MiB");
        assert_eq!(super::human_bytes(300 * 1024), "300 KiB");
        assert_eq!(super::human_bytes(12), "12 bytes");
    }
}
