use sea_orm::entity::prelude::*;

/// One annotator's answers for one task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "annotations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Uuid,
    pub user_id: Uuid,
    pub campaign_id: Uuid,
    pub client_id: String,
    pub answers: String,
    pub play_count: i32,
    pub listening_ms: i64,
    pub time_to_submit_ms: i64,
    pub is_gold: bool,
    pub gold_correct: Option<i32>,
    pub gold_total: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
