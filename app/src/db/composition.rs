use sea_orm::entity::prelude::*;

/// A shared multitrack piece, recorded over its master track.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "compositions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
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
    pub visibility: crate::domain::Visibility,
    pub open_to_contribution: bool,
    pub mixdown_id: Option<Uuid>,
    /// The digest of the tracks the mixdown was rendered from ([`crate::studio::ssr::mix_recipe`]).
    pub mixdown_recipe: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
