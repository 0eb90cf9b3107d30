//! Campaigns: create, change, gold tasks, the task list.
use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::{CampaignChanges, CampaignInfo, NewCampaign};
use crate::context::ServerContext;
use crate::db::{audio, campaign, instrument, task, user};
use crate::domain::{CampaignName, GoldRate, Instructions, ListenShare, StatsEvery};
use crate::error::AppError;

pub async fn campaign_info(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<CampaignInfo, AppError> {
    let total = task::Entity::find()
        .filter(task::Column::CampaignId.eq(c.id))
        .filter(task::Column::IsGold.eq(false))
        .count(db)
        .await?;
    let complete = task::Entity::find()
        .filter(task::Column::CampaignId.eq(c.id))
        .filter(task::Column::IsGold.eq(false))
        .filter(task::Column::IsComplete.eq(true))
        .count(db)
        .await?;
    Ok(CampaignInfo {
        id: c.id,
        name: c.name.clone(),
        instructions: c.instructions.clone(),
        clip_seconds: c.clip_seconds,
        annotations_per_task: c.annotations_per_task,
        instruments: c.instrument_slugs(),
        gold_rate: c.gold_rate,
        stats_every: c.stats_every,
        is_open: c.is_open,
        min_listen_share: c.min_listen_share,
        created_at: c.created_at.to_rfc3339(),
        tasks_total: total,
        tasks_complete: complete,
    })
}

/// Change what may change once tasks exist: name, instructions, gold rate, stats interval, the
/// minimum listening share and whether the campaign is open. (Clip length, k and instruments are fixed by its tasks.)
#[tracing::instrument(skip_all, fields(campaign = %id))]
pub async fn update_campaign(
    ctx: &ServerContext,
    id: Uuid,
    changes: CampaignChanges,
) -> Result<campaign::Model, AppError> {
    let db = &ctx.db;
    let mut a: campaign::ActiveModel =
        campaign::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?.into();
    if let Some(name) = changes.name {
        a.name = Set(CampaignName::parse(&name)?.into_string());
    }
    if let Some(text) = changes.instructions {
        a.instructions = Set(Instructions::parse(&text)?.into_string());
    }
    if let Some(rate) = changes.gold_rate {
        a.gold_rate = Set(GoldRate::parse(rate)?.get());
    }
    if let Some(n) = changes.stats_every {
        a.stats_every = Set(StatsEvery::parse(n)?.get());
    }
    if let Some(open) = changes.is_open {
        a.is_open = Set(open);
    }
    if let Some(share) = changes.min_listen_share {
        a.min_listen_share = Set(ListenShare::parse(share)?.get());
    }
    let c = a.update(db).await?;
    crate::campaigns::cache::forget_campaign(ctx, c.id);
    Ok(c)
}

/// Make a task a gold (check) task with these known answers, or a normal one again (`None`).
#[tracing::instrument(skip_all, fields(task = %task_id))]
pub async fn set_gold(
    ctx: &ServerContext,
    task_id: Uuid,
    answers: Option<BTreeMap<String, bool>>,
) -> Result<(), AppError> {
    let t = task::Entity::find_by_id(task_id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    let c = campaign::Entity::find_by_id(t.campaign_id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    if let Some(answers) = &answers {
        if answers.is_empty() {
            return Err(AppError::Invalid("A gold task needs at least one known answer.".into()));
        }
        let wanted = c.instrument_slugs();
        let unknown: Vec<_> = answers.keys().filter(|k| !wanted.contains(k)).cloned().collect();
        if !unknown.is_empty() {
            return Err(AppError::Invalid(format!("Not instruments of this campaign: {}.", unknown.join(", "))));
        }
    }
    let mut a: task::ActiveModel = t.into();
    a.is_gold = Set(answers.is_some());
    a.gold_answers = Set(answers.map(|g| serde_json::to_string(&g).unwrap_or_default()));
    let t = a.update(&ctx.db).await?;
    // Leases on gold tasks hold no place; recount the task's places for its new kind.
    crate::campaigns::places::recount_task(ctx, t.id).await
}

/// One page of a campaign's tasks, in source and time order, for the admin's task list.
pub async fn task_page(
    db: &impl ConnectionTrait,
    campaign_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<super::TaskPage, AppError> {
    let c = campaign::Entity::find_by_id(campaign_id).one(db).await?.ok_or(AppError::NotFound)?;
    let all = task::Entity::find().filter(task::Column::CampaignId.eq(c.id));
    let total = all.clone().count(db).await?;
    let rows = all
        .order_by_asc(task::Column::SourceId)
        .order_by_asc(task::Column::OffsetFrames)
        .order_by_asc(task::Column::Id)
        .offset(crate::error::page_offset(offset)?)
        .limit(limit.clamp(1, 200))
        .all(db)
        .await?;
    let tasks = summaries(db, rows).await?;
    Ok(super::TaskPage { total, offset, tasks })
}

/// Tasks as the admin's lists show them, with their source's name and time.
pub(super) async fn summaries(
    db: &impl ConnectionTrait,
    rows: Vec<task::Model>,
) -> Result<Vec<super::TaskSummary>, AppError> {
    let sources: std::collections::HashMap<Uuid, audio::Model> = audio::Entity::find()
        .filter(audio::Column::Id.is_in(rows.iter().map(|t| t.source_id).collect::<std::collections::HashSet<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(rows
        .into_iter()
        .map(|t| {
            let source = sources.get(&t.source_id);
            super::TaskSummary {
                id: t.id,
                clip_id: t.clip_id,
                source: source.map(|a| a.title.clone().unwrap_or(a.original_filename.clone())).unwrap_or_default(),
                offset_seconds: source.map(|a| t.offset_frames as f64 / a.canonical_rate.max(1) as f64).unwrap_or(0.0),
                annotations: t.annotations_count,
                required: t.annotations_required,
                complete: t.is_complete,
                gold_answers: t
                    .gold_answers
                    .as_deref()
                    .and_then(|g| serde_json::from_str(g).ok())
                    .filter(|_| t.is_gold),
            }
        })
        .collect())
}

#[tracing::instrument(skip_all, fields(user = %creator.id))]
pub async fn create_campaign(
    db: &impl ConnectionTrait,
    creator: &user::Model,
    new: NewCampaign,
) -> Result<campaign::Model, AppError> {
    let name = CampaignName::parse(&new.name)?.into_string();
    let clip_seconds = new.clip_seconds.unwrap_or(10.0);
    if !(1.0..=60.0).contains(&clip_seconds) {
        return Err(AppError::Invalid("The clip length must be between 1 and 60 seconds.".into()));
    }
    let k = new.annotations_per_task.unwrap_or(3);
    if !(1..=50).contains(&k) {
        return Err(AppError::Invalid("Annotations per task must be between 1 and 50.".into()));
    }
    let gold_rate = GoldRate::parse(new.gold_rate.unwrap_or(0.0))?.get();
    let stats_every = StatsEvery::parse(new.stats_every.unwrap_or(10))?.get();
    let taxonomy: Vec<String> = instrument::Entity::find()
        .order_by_asc(instrument::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.slug)
        .collect();
    let instruments = match new.instruments {
        None => taxonomy,
        Some(list) if list.is_empty() => return Err(AppError::Invalid("Ask about at least one instrument.".into())),
        Some(list) => {
            let unknown: Vec<_> = list.iter().filter(|s| !taxonomy.contains(s)).cloned().collect();
            if !unknown.is_empty() {
                return Err(AppError::Invalid(format!("Unknown instruments: {}.", unknown.join(", "))));
            }
            // Keep the taxonomy's order, without duplicates.
            taxonomy.into_iter().filter(|s| list.contains(s)).collect()
        }
    };
    Ok(campaign::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name),
        instructions: Set(Instructions::parse(&new.instructions)?.into_string()),
        clip_seconds: Set(clip_seconds),
        annotations_per_task: Set(k),
        instruments: Set(serde_json::to_string(&instruments).unwrap_or_else(|_| "[]".into())),
        gold_rate: Set(gold_rate),
        stats_every: Set(stats_every),
        is_open: Set(true),
        min_listen_share: Set(0.0),
        created_by: Set(creator.id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}
