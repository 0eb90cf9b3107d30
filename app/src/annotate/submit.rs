//! Accepting or rejecting an annotator's answers against the task's state (see `serve` for the
//! concurrency rule both follow), and the campaign's minimum listening share: an answer that says
//! less of the clip was heard is refused (422), whatever the page did.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use consensus::Accuracy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use super::batches::{Answered, batches, submit_batch};
use super::progress::progress;
use super::views::campaign_of_task;
use super::{Receipt, Submission, listen_needed_ms};
use crate::campaigns::cache::{campaign_view, count_completed};
use crate::campaigns::labels::{answer, update_labels};
use crate::campaigns::places::lock_task;
use crate::context::ServerContext;
use crate::db::sql::{is_postgres, stmt};
use crate::db::{annotation, annotator_accuracy, lease, user};
use crate::error::AppError;

/// An accepted answer: enough to write its receipt.
struct Stored {
    id: Uuid,
    task_id: Uuid,
    campaign_id: Uuid,
    /// The annotator's submission number in the campaign (`None` for rows older than the counter).
    seq: Option<i32>,
    created_at: DateTime<Utc>,
    user_id: Uuid,
    /// This answer completed its task.
    completed: bool,
}

async fn receipt_for(ctx: &ServerContext, a: &Stored) -> Result<Receipt, AppError> {
    if a.completed {
        count_completed(ctx, a.campaign_id);
    }
    let c = campaign_view(ctx, &ctx.db, a.campaign_id).await?.ok_or(AppError::Internal)?;
    let submissions = match a.seq {
        Some(n) => n.max(0) as u64,
        // Count submissions up to and including this one, so a retry gets the same answer.
        None => {
            annotation::Entity::find()
                .filter(annotation::Column::UserId.eq(a.user_id))
                .filter(annotation::Column::CampaignId.eq(a.campaign_id))
                .filter(annotation::Column::CreatedAt.lte(a.created_at))
                .count(&ctx.db)
                .await?
        }
    };
    let every = c.model.stats_every;
    Ok(Receipt {
        annotation_id: a.id,
        task_id: a.task_id,
        submissions,
        show_stats: every > 0 && submissions.is_multiple_of(every as u64),
        progress: progress(ctx, a.user_id, a.campaign_id, Some(submissions)).await?,
    })
}

async fn by_client_id(db: &DatabaseConnection, user_id: Uuid, client_id: &str) -> Result<Option<Stored>, AppError> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id, task_id, campaign_id, seq, created_at FROM annotations WHERE user_id = $1 AND client_id = $2",
            vec![user_id.into(), client_id.into()],
        ))
        .await?;
    row.map(|r| {
        Ok(Stored {
            id: r.try_get("", "id")?,
            task_id: r.try_get("", "task_id")?,
            campaign_id: r.try_get("", "campaign_id")?,
            seq: r.try_get("", "seq")?,
            created_at: r.try_get("", "created_at")?,
            user_id,
            completed: false,
        })
    })
    .transpose()
}

/// Why the answers do not fit the campaign, if they do not.
fn check_answers(wanted: &[String], s: &Submission) -> Result<(), AppError> {
    let unknown: Vec<_> = s.answers.keys().filter(|k| !wanted.contains(k)).cloned().collect();
    if !unknown.is_empty() {
        return Err(AppError::Invalid(format!(
            "These instruments are not part of this campaign: {}.",
            unknown.join(", ")
        )));
    }
    let missing: Vec<_> = wanted.iter().filter(|k| !s.answers.contains_key(*k)).cloned().collect();
    if !missing.is_empty() {
        return Err(AppError::Invalid(format!("Answer every instrument; missing: {}.", missing.join(", "))));
    }
    if s.play_count == 0 {
        return Err(AppError::Invalid("Play the clip before answering.".into()));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(user = %user.id, task = %task_id))]
pub async fn submit(
    ctx: &ServerContext,
    user: &user::Model,
    task_id: Uuid,
    s: Submission,
) -> Result<Receipt, AppError> {
    let client_id = s.client_id.trim().to_string();
    if client_id.is_empty() || client_id.chars().count() > 100 {
        return Err(AppError::Invalid("A submission needs a client id of 1 to 100 characters.".into()));
    }
    if is_postgres(&ctx.db)
        && let Some(r) = submit_direct(ctx, user, task_id, &client_id, &s).await?
    {
        return Ok(r);
    }
    // A retry of an accepted submission gets the same answer and stores nothing new.
    if let Some(a) = by_client_id(&ctx.db, user.id, &client_id).await? {
        return if a.task_id == task_id {
            receipt_for(ctx, &a).await
        } else {
            Err(AppError::Conflict("This client id was already used for another task.".into()))
        };
    }
    let stored = {
        let _serial = ctx.serial().await;
        let txn = crate::db::begin_write(&ctx.db).await?;
        let result = submit_locked(ctx, &txn, user, task_id, &client_id, &s).await;
        match result {
            Ok(a) => {
                txn.commit().await?;
                Ok(a)
            }
            Err(e) => {
                txn.rollback().await?;
                Err(e)
            }
        }
    };
    match stored {
        Ok(a) => receipt_for(ctx, &a).await,
        // Two copies of one submission raced: the first one stored wins, both get its receipt.
        Err(AppError::Conflict(_)) | Err(AppError::Internal)
            if let Some(a) = by_client_id(&ctx.db, user.id, &client_id).await?
                && a.task_id == task_id =>
        {
            receipt_for(ctx, &a).await
        }
        Err(e) => Err(e),
    }
}

/// PostgreSQL, the usual case in one statement (batched with others that arrive together): a live
/// lease that holds a place on a normal, unfinished task is turned into the answer. Anything else —
/// no such lease, a gold task, a retry, answers that do not fit — returns `None` and takes the
/// careful path, which says exactly what is wrong.
async fn submit_direct(
    ctx: &ServerContext,
    user: &user::Model,
    task_id: Uuid,
    client_id: &str,
    s: &Submission,
) -> Result<Option<Receipt>, AppError> {
    let Some(campaign_id) = campaign_of_task(ctx, task_id).await? else { return Ok(None) };
    let Some(c) = campaign_view(ctx, &ctx.db, campaign_id).await? else { return Ok(None) };
    // A minimum listening share needs the task's clip: the careful path reads it.
    if !c.model.is_open || c.model.min_listen_share > 0.0 || check_answers(&c.slugs, s).is_err() {
        return Ok(None);
    }
    let id = Uuid::new_v4();
    let item = Answered {
        task_id,
        user_id: user.id,
        id,
        client_id: client_id.to_string(),
        answers: serde_json::to_string(&s.answers).unwrap_or_default(),
        play_count: s.play_count.min(i32::MAX as u32) as i32,
        listening_ms: s.listening_ms.min(i64::MAX as u64) as i64,
        time_to_submit_ms: s.time_to_submit_ms.min(i64::MAX as u64) as i64,
    };
    let done = match batches(ctx).submit.call(item.clone()).await {
        Some(done) => done,
        // The batch failed as a whole: this answer alone.
        None => match submit_batch(&ctx.db, &[item]).await {
            Ok(mut v) => v.pop().flatten(),
            // Already answered, or the client id was used before: the careful path explains.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let Some((seq, complete)) = done else { return Ok(None) };
    if complete {
        let txn = crate::db::begin_write(&ctx.db).await?;
        update_labels(&txn, task_id, &c.slugs).await?;
        txn.commit().await?;
        count_completed(ctx, campaign_id);
    }
    let every = c.model.stats_every;
    let submissions = seq.max(0) as u64;
    Ok(Some(Receipt {
        annotation_id: id,
        task_id,
        submissions,
        show_stats: every > 0 && submissions.is_multiple_of(every as u64),
        progress: progress(ctx, user.id, campaign_id, Some(submissions)).await?,
    }))
}

async fn submit_locked(
    ctx: &ServerContext,
    txn: &DatabaseTransaction,
    user: &user::Model,
    task_id: Uuid,
    client_id: &str,
    s: &Submission,
) -> Result<Stored, AppError> {
    let t = lock_task(txn, task_id).await?.ok_or(AppError::NotFound)?;
    let c = campaign_view(ctx, txn, t.campaign_id).await?.ok_or(AppError::NotFound)?;
    let already = annotation::Entity::find()
        .filter(annotation::Column::TaskId.eq(t.id))
        .filter(annotation::Column::UserId.eq(user.id))
        .count(txn)
        .await?;
    if already > 0 {
        return Err(AppError::Conflict("You have already annotated this clip.".into()));
    }
    if !c.model.is_open {
        // A closed campaign is seen by admins only: to anyone who never held this task it does not
        // exist. Whoever held it learns why it takes no answer.
        if !user.is_admin && !held(txn, t.id, user.id).await? {
            return Err(AppError::NotFound);
        }
        return Err(AppError::Conflict("This campaign has been closed; it takes no more answers.".into()));
    }
    if t.is_complete {
        return Err(AppError::Conflict(
            "This clip already has all the annotations it needs. Load the next one.".into(),
        ));
    }
    let now = Utc::now();
    let mine = txn
        .query_one_raw(stmt(
            txn,
            "SELECT expires_at, counted, skipped FROM leases WHERE task_id = $1 AND user_id = $2",
            vec![t.id.into(), user.id.into()],
        ))
        .await?;
    let counted = match mine {
        None => {
            let others = txn
                .query_one_raw(stmt(
                    txn,
                    "SELECT count(*) AS n FROM leases WHERE task_id = $1 AND user_id <> $2 AND expires_at > $3",
                    vec![t.id.into(), user.id.into(), now.into()],
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
            return Err(AppError::Conflict(if others > 0 {
                "This clip is reserved for another annotator. Load the next one.".into()
            } else {
                "You do not hold this clip (no lease). Load the next one.".into()
            }));
        }
        Some(l) if l.try_get::<bool>("", "skipped")? => {
            return Err(AppError::Conflict("You skipped this clip. Load the next one.".into()));
        }
        Some(l) if l.try_get::<DateTime<Utc>>("", "expires_at")? <= now => {
            return Err(AppError::Conflict(
                "Your time on this clip ran out (the lease expired), so it may have gone to someone else. Load the next one."
                    .into(),
            ));
        }
        Some(l) => l.try_get::<bool>("", "counted")?,
    };
    check_answers(&c.slugs, s)?;
    check_listening(txn, c.model.min_listen_share, t.id, s).await?;
    // A live lease that holds no place (taken while the task was gold) needs a free one now.
    if !t.is_gold && !counted && t.reserved >= t.annotations_required {
        return Err(AppError::Conflict("This clip is reserved for other annotators. Load the next one.".into()));
    }
    let (mut gold_correct, mut gold_total) = (None, None);
    if t.is_gold {
        let truth: BTreeMap<String, bool> =
            t.gold_answers.as_deref().and_then(|g| serde_json::from_str(g).ok()).unwrap_or_default();
        let mut acc = Accuracy::default();
        for (slug, v) in &s.answers {
            if let Some(&truth) = truth.get(slug) {
                acc.record(answer(*v), truth);
            }
        }
        gold_correct = Some(acc.correct as i32);
        gold_total = Some(acc.total as i32);
        record_accuracy(txn, user.id, acc).await?;
    }
    let seq: i32 = txn
        .query_one_raw(stmt(
            txn,
            "INSERT INTO annotator_campaigns (user_id, campaign_id, submissions) VALUES ($1, $2, 1) \
             ON CONFLICT (user_id, campaign_id) DO UPDATE SET submissions = annotator_campaigns.submissions + 1 \
             RETURNING submissions",
            vec![user.id.into(), t.campaign_id.into()],
        ))
        .await?
        .ok_or(AppError::Internal)?
        .try_get("", "submissions")?;
    let id = Uuid::new_v4();
    let mut completed = false;
    txn.execute_raw(stmt(
        txn,
        "INSERT INTO annotations (id, task_id, user_id, campaign_id, client_id, answers, play_count, listening_ms, \
           time_to_submit_ms, is_gold, gold_correct, gold_total, created_at, seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vec![
            id.into(),
            t.id.into(),
            user.id.into(),
            t.campaign_id.into(),
            client_id.into(),
            serde_json::to_string(&s.answers).unwrap_or_default().into(),
            (s.play_count.min(i32::MAX as u32) as i32).into(),
            (s.listening_ms.min(i64::MAX as u64) as i64).into(),
            (s.time_to_submit_ms.min(i64::MAX as u64) as i64).into(),
            t.is_gold.into(),
            gold_correct.into(),
            gold_total.into(),
            now.into(),
            seq.into(),
        ],
    ))
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict("This submission was already stored.".into()),
        _ => e.into(),
    })?;
    txn.execute_raw(stmt(
        txn,
        "DELETE FROM leases WHERE task_id = $1 AND user_id = $2",
        vec![t.id.into(), user.id.into()],
    ))
    .await?;
    // Gold answers measure the annotator; they never move the consensus or the task's count.
    if !t.is_gold {
        let count = t.annotations_count + 1;
        let complete = count >= t.annotations_required;
        // The answer keeps the place its lease held, or takes a free one.
        let reserved = t.reserved + i32::from(!counted);
        txn.execute_raw(stmt(
            txn,
            "UPDATE tasks SET annotations_count = $1, is_complete = $2, reserved = $3 WHERE id = $4",
            vec![count.into(), complete.into(), reserved.into(), t.id.into()],
        ))
        .await?;
        completed = complete;
        if complete {
            txn.execute_raw(stmt(txn, "DELETE FROM leases WHERE task_id = $1", vec![t.id.into()])).await?;
            update_labels(txn, t.id, &c.slugs).await?;
        }
    }
    Ok(Stored {
        id,
        task_id: t.id,
        campaign_id: t.campaign_id,
        seq: Some(seq),
        created_at: now,
        user_id: user.id,
        completed,
    })
}

/// Refuses an answer that heard less of the clip than the campaign asks (none asked: no check).
async fn check_listening(txn: &DatabaseTransaction, share: f64, task_id: Uuid, s: &Submission) -> Result<(), AppError> {
    if share <= 0.0 {
        return Ok(());
    }
    let clip = txn
        .query_one_raw(stmt(
            txn,
            "SELECT a.duration_seconds FROM tasks t JOIN audio a ON a.id = t.clip_id WHERE t.id = $1",
            vec![task_id.into()],
        ))
        .await?
        .ok_or(AppError::Internal)?;
    let needed = listen_needed_ms(share, clip.try_get("", "duration_seconds")?);
    if s.listening_ms < needed {
        return Err(AppError::Invalid(format!(
            "Listen to at least {:.0}% of the clip ({:.1} s) before answering; {:.1} s heard so far.",
            share * 100.0,
            needed as f64 / 1000.0,
            s.listening_ms as f64 / 1000.0,
        )));
    }
    Ok(())
}

async fn record_accuracy(txn: &DatabaseTransaction, user_id: Uuid, acc: Accuracy) -> Result<(), AppError> {
    match annotator_accuracy::Entity::find_by_id(user_id).one(txn).await? {
        Some(row) => {
            let (c, t) = (row.gold_correct, row.gold_total);
            let mut a: annotator_accuracy::ActiveModel = row.into();
            a.gold_correct = Set(c + acc.correct as i32);
            a.gold_total = Set(t + acc.total as i32);
            a.update(txn).await?;
        }
        None => {
            annotator_accuracy::ActiveModel {
                user_id: Set(user_id),
                gold_correct: Set(acc.correct as i32),
                gold_total: Set(acc.total as i32),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// The user holds or held a lease on the task (live, expired or skipped).
async fn held(txn: &DatabaseTransaction, task_id: Uuid, user_id: Uuid) -> Result<bool, AppError> {
    let leases = lease::Entity::find()
        .filter(lease::Column::TaskId.eq(task_id))
        .filter(lease::Column::UserId.eq(user_id))
        .count(txn)
        .await?;
    Ok(leases > 0)
}
