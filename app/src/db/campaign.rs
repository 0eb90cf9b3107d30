use sea_orm::entity::prelude::*;

/// An annotation campaign: which clips, how many answers each, which instruments.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub instructions: String,
    pub clip_seconds: f64,
    pub annotations_per_task: i32,
    /// JSON array of instrument slugs.
    pub instruments: String,
    pub gold_rate: f64,
    pub stats_every: i32,
    pub is_open: bool,
    /// Share of each clip an annotator must hear before answering (0 = no minimum, up to 1).
    pub min_listen_share: f64,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The instrument slugs the campaign asks about (stored as a JSON list).
    pub fn instrument_slugs(&self) -> Vec<String> {
        serde_json::from_str(&self.instruments).unwrap_or_default()
    }
}
