use sea_orm::entity::prelude::*;

/// The aggregated answer for one (task, instrument).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "task_labels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub instrument: String,
    pub present: i32,
    pub absent: i32,
    pub unsure: i32,
    pub relevance: Option<f64>,
    pub confidence: f64,
    pub trust_present: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
