use sea_orm::entity::prelude::*;

/// One clip to annotate within a campaign.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub clip_id: Uuid,
    pub source_id: Uuid,
    pub offset_frames: i64,
    pub is_gold: bool,
    pub gold_answers: Option<String>,
    pub annotations_count: i32,
    pub annotations_required: i32,
    pub is_complete: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
