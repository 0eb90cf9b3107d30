use sea_orm::entity::prelude::*;

/// One lane of a composition: audio placed at an offset, with its mixer settings.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tracks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
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
    pub capture: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
