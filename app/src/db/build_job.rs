use sea_orm::entity::prelude::*;

/// A background job cutting clips into tasks, with its progress.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "build_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub requested_by: Uuid,
    pub params: String,
    /// queued | running | done | failed
    pub status: String,
    pub sources_total: i32,
    pub sources_done: i32,
    pub clips_made: i32,
    pub clips_existing: i32,
    pub clips_skipped: i32,
    pub skipped_reasons: String,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
