use sea_orm::entity::prelude::*;

/// One run of the cleanup of crash debris: what it removed, per category, and how it ended.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cleanup_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub started_at: DateTimeUtc,
    /// None while running, or when the process died during the run.
    pub finished_at: Option<DateTimeUtc>,
    pub grace_seconds: i64,
    /// Staging files in the temporary directory.
    pub staging_files: i64,
    pub staging_bytes: i64,
    /// Unfinished multipart writes of a local object store (`<key>#<n>`).
    pub partial_files: i64,
    pub partial_bytes: i64,
    /// Objects whose audio row does not exist.
    pub orphan_objects: i64,
    pub orphan_bytes: i64,
    /// JSON array of the first paths and keys removed.
    pub removed: String,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
