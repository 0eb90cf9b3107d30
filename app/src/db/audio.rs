use sea_orm::entity::prelude::*;

use crate::domain::AudioKind;

/// One piece of audio: the original bytes, its canonical lossless rendition and its peaks.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audio")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// upload | recording | clip | mixdown
    pub kind: AudioKind,
    pub parent_id: Option<Uuid>,
    pub parent_offset_frames: Option<i64>,
    /// The composition a mixdown renders (mixdowns only).
    pub composition_id: Option<Uuid>,
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
    /// Other metadata tags as a JSON array of [key, value] pairs.
    pub tags: String,
    pub license: crate::domain::Licence,
    pub loudness_lufs: Option<f64>,
    pub original_key: String,
    pub canonical_key: String,
    pub peaks_key: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
