use sea_orm::entity::prelude::*;

use crate::domain::ReleaseState;

/// One numbered version of a dataset.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dataset_releases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub dataset_id: Uuid,
    pub version: i32,
    pub state: ReleaseState,
    /// JSON of `dataset::Params`.
    pub params: String,
    /// JSON array of campaign ids.
    pub campaigns: String,
    pub notes: String,
    pub job_id: Option<Uuid>,
    /// What the compiler is doing (shown with `done` of `total`).
    pub phase: String,
    pub done: i64,
    pub total: i64,
    /// JSON of the compile report.
    pub report: Option<String>,
    pub error: Option<String>,
    pub tar_bytes: Option<i64>,
    pub zip_bytes: Option<i64>,
    pub test_labels_key: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
