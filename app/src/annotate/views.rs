//! What an assignment needs of a clip and a task, kept in this server's memory: both never change.
use std::sync::Arc;

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::state::{AnnotateState, ClipView};
use crate::context::ServerContext;
use crate::db::audio;
use crate::db::sql::stmt;
use crate::error::AppError;
use crate::runtime::{lock, remember};

/// The loudness every clip is played at (EBU R128 broadcast target).
pub const TARGET_LUFS: f64 = -23.0;

pub(super) async fn clip_view(ctx: &ServerContext, id: Uuid) -> Result<Arc<ClipView>, AppError> {
    let state = ctx.runtime.get::<AnnotateState>();
    let cache = &state.clips;
    if let Some(v) = lock(cache).get(&id) {
        return Ok(v.clone());
    }
    let clip = audio::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AppError::Internal)?;
    let v = Arc::new(ClipView {
        duration_seconds: clip.duration_seconds,
        gain_db: clip.loudness_lufs.map(|l| (TARGET_LUFS - l).clamp(-30.0, 12.0)).unwrap_or(0.0),
        waveform: crate::library::ssr::card(ctx, &clip).await?.waveform,
    });
    remember(cache, id, v.clone());
    Ok(v)
}

pub(super) async fn campaign_of_task(ctx: &ServerContext, task_id: Uuid) -> Result<Option<Uuid>, AppError> {
    let state = ctx.runtime.get::<AnnotateState>();
    let cache = &state.task_campaign;
    if let Some(c) = lock(cache).get(&task_id) {
        return Ok(Some(*c));
    }
    let db = &ctx.db;
    let row = db.query_one_raw(stmt(db, "SELECT campaign_id FROM tasks WHERE id = $1", vec![task_id.into()])).await?;
    let Some(row) = row else { return Ok(None) };
    let c: Uuid = row.try_get("", "campaign_id")?;
    remember(cache, task_id, c);
    Ok(Some(c))
}
