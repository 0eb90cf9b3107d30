use sea_orm::entity::prelude::*;

use crate::domain::JobState;

/// A row of the durable job queue (`app::jobs`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    /// JSON text read by the handler of `kind`.
    pub payload: String,
    pub state: JobState,
    /// Claims so far, this one included.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not claimed before this time (Unix milliseconds).
    pub run_after: i64,
    /// Last sign of life of the worker running it (Unix milliseconds).
    pub heartbeat_at: Option<i64>,
    pub worker: Option<String>,
    pub error: Option<String>,
    /// The user who asked for it (shown to them and to admins); none for system jobs.
    pub requested_by: Option<Uuid>,
    /// What a finished job produced, as JSON text (a mixdown: `{"audio_id": …}`).
    pub result: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
