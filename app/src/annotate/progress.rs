//! What the annotator's page shows around the clip: the open campaigns to choose from, whether a
//! chosen campaign may be served, and the progress line (the annotator's answers in a campaign,
//! the campaign's complete and total clips from the few-second count cache).
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{CampaignChoice, Progress};
use crate::campaigns::cache::campaign_counts;
use crate::context::ServerContext;
use crate::db::sql::stmt;
use crate::db::{campaign, user};
use crate::error::AppError;

/// The open campaigns (seen by everyone signed in, `access::campaign`), newest first.
pub async fn open_campaigns(ctx: &ServerContext) -> Result<Vec<CampaignChoice>, AppError> {
    let open = campaign::Entity::find()
        .filter(campaign::Column::IsOpen.eq(true))
        .order_by_desc(campaign::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    let mut out = Vec::with_capacity(open.len());
    for c in open {
        let n = campaign_counts(ctx, c.id).await?;
        out.push(CampaignChoice { id: c.id, name: c.name, tasks_complete: n.complete, tasks_total: n.total });
    }
    Ok(out)
}

/// A campaign chosen to be served from: one the annotator may see (`access::campaign`; 404
/// otherwise) that is open. A closed one is said to be closed (409) to admins and to whoever
/// worked in it, who know it exists; to anyone else it does not exist.
pub async fn check_choice(ctx: &ServerContext, user: &user::Model, id: Uuid) -> Result<(), AppError> {
    let closed = || AppError::Conflict("This campaign is closed; it takes no more answers. Choose another one.".into());
    match crate::access::campaign::visible_campaign(&ctx.db, user, id).await {
        Ok(c) if c.is_open => Ok(()),
        Ok(_) => Err(closed()),
        Err(AppError::NotFound) if worked_in(&ctx.db, user.id, id).await? => Err(closed()),
        Err(e) => Err(e),
    }
}

/// The annotator answered or held a task of the campaign.
async fn worked_in(db: &impl ConnectionTrait, user_id: Uuid, campaign_id: Uuid) -> Result<bool, AppError> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT 1 AS x WHERE EXISTS (SELECT 1 FROM annotations WHERE user_id = $1 AND campaign_id = $2) \
             OR EXISTS (SELECT 1 FROM leases l JOIN tasks t ON t.id = l.task_id WHERE l.user_id = $1 AND t.campaign_id = $2)",
            vec![user_id.into(), campaign_id.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// The progress line for `user_id` in the campaign; `answered` when already known (a receipt).
pub async fn progress(
    ctx: &ServerContext,
    user_id: Uuid,
    campaign_id: Uuid,
    answered: Option<u64>,
) -> Result<Progress, AppError> {
    let answered = match answered {
        Some(n) => n,
        None => {
            let db = &ctx.db;
            db.query_one_raw(stmt(
                db,
                "SELECT submissions FROM annotator_campaigns WHERE user_id = $1 AND campaign_id = $2",
                vec![user_id.into(), campaign_id.into()],
            ))
            .await?
            .map(|r| r.try_get::<i32>("", "submissions"))
            .transpose()?
            .unwrap_or(0)
            .max(0) as u64
        }
    };
    let n = campaign_counts(ctx, campaign_id).await?;
    Ok(Progress { answered, tasks_complete: n.complete, tasks_total: n.total })
}
