//! What this server remembers of campaigns (`RuntimeState`): read-mostly, dropped at once when
//! this server changes one, re-read after a few seconds otherwise; and each campaign's task counts,
//! counted again every few seconds.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use uuid::Uuid;

use super::instructions::markdown_html;
use crate::context::ServerContext;
use crate::db::{campaign, instrument};
use crate::error::AppError;
use crate::instruments::Instrument;
use crate::runtime::{lock, remember};

/// What serving and checking need of a campaign, prepared once.
pub struct CampaignView {
    pub model: campaign::Model,
    pub slugs: Vec<String>,
    pub instructions_html: String,
    pub instruments: Vec<Instrument>,
}

/// Campaigns read recently (one per server).
#[derive(Default)]
pub struct CampaignCache(Mutex<HashMap<Uuid, (Instant, Arc<CampaignView>)>>);

/// How long a campaign read from the database is used before it is read again. Campaigns change
/// rarely (instructions; `is_open` is always checked in SQL), and this server forgets one as
/// soon as it changes it; other replicas see the change within this time.
const CAMPAIGN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Forget what this server remembers of a campaign (call after changing it).
pub fn forget_campaign(ctx: &ServerContext, id: Uuid) {
    lock(&ctx.runtime.get::<CampaignCache>().0).remove(&id);
}

/// The campaign, from this server's memory when read recently; `db` may be a transaction.
pub async fn campaign_view(
    ctx: &ServerContext,
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<Arc<CampaignView>>, AppError> {
    let state = ctx.runtime.get::<CampaignCache>();
    let cache = &state.0;
    if let Some((at, v)) = lock(cache).get(&id)
        && at.elapsed() < CAMPAIGN_TTL
    {
        return Ok(Some(v.clone()));
    }
    let Some(c) = campaign::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
    let slugs = c.instrument_slugs();
    let instruments = instrument::Entity::find()
        .order_by_asc(instrument::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .filter(|i| slugs.contains(&i.slug))
        .map(|i| Instrument { slug: i.slug, name: i.name, family: i.family })
        .collect();
    let v = Arc::new(CampaignView { instructions_html: markdown_html(&c.instructions), slugs, instruments, model: c });
    remember(cache, id, (Instant::now(), v.clone()));
    Ok(Some(v))
}

/// A campaign's normal tasks: how many there are and how many have all their answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CampaignCounts {
    pub complete: u64,
    pub total: u64,
}

/// Campaigns' task counts read recently (one per server), for the annotator's progress line.
#[derive(Default)]
pub struct CountCache(Mutex<HashMap<Uuid, (Instant, CampaignCounts)>>);

/// How long counted tasks are shown before they are counted again; a task this server completes
/// is added at once.
const COUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The campaign's task counts: one indexed count (`ix_tasks_campaign`) every few seconds.
pub async fn campaign_counts(ctx: &ServerContext, id: Uuid) -> Result<CampaignCounts, AppError> {
    let cache = &ctx.runtime.get::<CountCache>().0;
    if let Some((at, n)) = lock(cache).get(&id)
        && at.elapsed() < COUNTS_TTL
    {
        return Ok(*n);
    }
    let db = &ctx.db;
    let row = db
        .query_one_raw(crate::db::sql::stmt(
            db,
            "SELECT count(*) AS total, COALESCE(SUM(CASE WHEN is_complete THEN 1 ELSE 0 END), 0) AS complete \
             FROM tasks WHERE campaign_id = $1 AND NOT is_gold",
            vec![id.into()],
        ))
        .await?
        .ok_or(AppError::Internal)?;
    let n = CampaignCounts {
        complete: row.try_get::<i64>("", "complete")?.max(0) as u64,
        total: row.try_get::<i64>("", "total")?.max(0) as u64,
    };
    remember(cache, id, (Instant::now(), n));
    Ok(n)
}

/// A task of the campaign was just completed here: count it without asking the database.
pub fn count_completed(ctx: &ServerContext, id: Uuid) {
    if let Some((_, n)) = lock(&ctx.runtime.get::<CountCache>().0).get_mut(&id) {
        n.complete = (n.complete + 1).min(n.total);
    }
}
