//! What this server remembers of campaigns (`RuntimeState`): read-mostly, dropped at once when
//! this server changes one, re-read after a few seconds otherwise.
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
