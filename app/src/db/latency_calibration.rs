use sea_orm::entity::prelude::*;

/// A user's measured round-trip latency for one audio input device.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "latency_calibrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub device_key: String,
    pub device_label: String,
    pub latency_ms: f64,
    pub spread_ms: f64,
    pub quality_db: f64,
    pub sample_rate: i32,
    pub runs: i32,
    pub accepted: i32,
    pub user_agent: String,
    pub measured_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
