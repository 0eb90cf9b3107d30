//! The record of past cleanup runs, as admins read it: what each run removed.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use app::db::cleanup_run;
use app::error::AppError;

/// Runs listed, newest first.
const RUNS: u64 = 20;

/// One run as the API shows it.
#[derive(Serialize)]
pub struct CleanupRun {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    /// Null while the run goes on, or when its process stopped during it.
    pub finished_at: Option<DateTime<Utc>>,
    pub grace_seconds: i64,
    pub staging_files: i64,
    pub staging_bytes: i64,
    pub partial_files: i64,
    pub partial_bytes: i64,
    pub orphan_objects: i64,
    pub orphan_bytes: i64,
    /// The first removed paths and keys: `{kind, path, bytes}` with kind staging, partial or object.
    pub removed: serde_json::Value,
    /// True when more was removed than `removed` lists.
    pub removed_truncated: bool,
    pub error: Option<String>,
}

impl From<cleanup_run::Model> for CleanupRun {
    fn from(m: cleanup_run::Model) -> Self {
        let removed = serde_json::from_str::<serde_json::Value>(&m.removed)
            .ok()
            .filter(|v| v.is_array())
            .unwrap_or_else(|| serde_json::Value::Array(Vec::new()));
        let listed = removed.as_array().map_or(0, Vec::len) as i64;
        CleanupRun {
            id: m.id,
            started_at: m.started_at,
            finished_at: m.finished_at,
            grace_seconds: m.grace_seconds,
            staging_files: m.staging_files,
            staging_bytes: m.staging_bytes,
            partial_files: m.partial_files,
            partial_bytes: m.partial_bytes,
            orphan_objects: m.orphan_objects,
            orphan_bytes: m.orphan_bytes,
            removed_truncated: m.staging_files + m.partial_files + m.orphan_objects > listed,
            removed,
            error: m.error,
        }
    }
}

/// The latest runs, newest first.
pub async fn latest(db: &impl ConnectionTrait) -> Result<Vec<CleanupRun>, AppError> {
    let rows = cleanup_run::Entity::find()
        .order_by_desc(cleanup_run::Column::StartedAt)
        .order_by_desc(cleanup_run::Column::Id)
        .limit(RUNS)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(CleanupRun::from).collect())
}
