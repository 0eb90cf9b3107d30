//! Serving, submission and consensus on the server.
//!
//! Concurrency: every lease grant and every submission locks the task row first (`FOR UPDATE` on
//! PostgreSQL, with `SKIP LOCKED` when picking; one writer at a time on SQLite), and re-counts the
//! task's live leases after taking the lock, so a task is never promised to more annotators than it
//! still needs.
use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use consensus::{Accuracy, Answer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, SqlErr, Statement,
};
use uuid::Uuid;

use super::{AnnotatorStats, AnswerValue, Assignment, InstrumentProgress, Receipt, Submission};
use crate::context::ServerContext;
use crate::db::{annotation, annotator_accuracy, audio, campaign, instrument, lease, task, task_label, user};
use crate::error::AppError;
use crate::instruments::Instrument;
use crate::tasks::ssr::instruments_of;

/// The loudness every clip is played at (EBU R128 broadcast target).
pub const TARGET_LUFS: f64 = -23.0;

fn answer(v: AnswerValue) -> Answer {
    match v {
        AnswerValue::Present => Answer::Present,
        AnswerValue::Absent => Answer::Absent,
        AnswerValue::Unsure => Answer::Unsure,
    }
}

fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}

/// SQLite has no row locks: serialise the read-check-write sections in this process instead.
async fn serial(ctx: &ServerContext) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    if is_postgres(&ctx.db) { None } else { Some(ctx.write_lock.lock().await) }
}

async fn lock_task(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<task::Model>, AppError> {
    if is_postgres(txn) {
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT id FROM tasks WHERE id = $1 FOR UPDATE",
                [id.into()],
            ))
            .await?;
        if row.is_none() {
            return Ok(None);
        }
    }
    Ok(task::Entity::find_by_id(id).one(txn).await?)
}

async fn live_leases(txn: &DatabaseTransaction, task_id: Uuid, except_user: Uuid) -> Result<u64, AppError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::TaskId.eq(task_id))
        .filter(lease::Column::UserId.ne(except_user))
        .filter(lease::Column::ExpiresAt.gt(Utc::now()))
        .count(txn)
        .await?)
}

/// Candidates for a normal (non-gold) task, closest to completion first, skipping rows another
/// transaction is leasing right now.
async fn candidates(txn: &DatabaseTransaction, user_id: Uuid, exclude: &[Uuid]) -> Result<Vec<Uuid>, AppError> {
    let now = Utc::now();
    let pg = is_postgres(txn);
    let (sql, backend) = if pg {
        (
            "SELECT t.id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id \
             WHERE c.is_open AND NOT t.is_complete AND NOT t.is_gold AND NOT (t.id = ANY($3)) \
               AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.user_id = $1) \
               AND t.annotations_count + (SELECT count(*) FROM leases l \
                    WHERE l.task_id = t.id AND l.expires_at > $2 AND l.user_id <> $1) < t.annotations_required \
             ORDER BY t.annotations_count DESC, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED",
            DatabaseBackend::Postgres,
        )
    } else {
        (
            "SELECT t.id FROM tasks t JOIN campaigns c ON c.id = t.campaign_id \
             WHERE c.is_open AND NOT t.is_complete AND NOT t.is_gold \
               AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.user_id = ?) \
               AND t.annotations_count + (SELECT count(*) FROM leases l \
                    WHERE l.task_id = t.id AND l.expires_at > ? AND l.user_id <> ?) < t.annotations_required \
             ORDER BY t.annotations_count DESC, t.id LIMIT 8",
            DatabaseBackend::Sqlite,
        )
    };
    let values: Vec<sea_orm::Value> = if pg {
        vec![user_id.into(), now.into(), exclude.to_vec().into()]
    } else {
        vec![user_id.into(), now.into(), user_id.into()]
    };
    let rows = txn.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut ids = Vec::with_capacity(rows.len());
    for r in rows {
        let id: Uuid = r.try_get("", "id")?;
        if !exclude.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

async fn grant(
    txn: &DatabaseTransaction,
    task_id: Uuid,
    user_id: Uuid,
    seconds: i64,
) -> Result<lease::Model, AppError> {
    lease::Entity::delete_many()
        .filter(lease::Column::TaskId.eq(task_id))
        .filter(lease::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let now = Utc::now();
    Ok(lease::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_id: Set(task_id),
        user_id: Set(user_id),
        expires_at: Set(now + Duration::seconds(seconds)),
        created_at: Set(now),
    }
    .insert(txn)
    .await?)
}

pub async fn next_task(ctx: &ServerContext, user: &user::Model) -> Result<Option<Assignment>, AppError> {
    let _serial = serial(ctx).await;
    let txn = crate::db::begin_write(&ctx.db).await?;
    // A live lease on a task still wanting this user's answer is handed back unchanged (reloads).
    let held = lease::Entity::find()
        .filter(lease::Column::UserId.eq(user.id))
        .filter(lease::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(lease::Column::CreatedAt)
        .all(&txn)
        .await?;
    for l in held {
        if let Some(t) = task::Entity::find_by_id(l.task_id).one(&txn).await?
            && !t.is_complete
            && let Some(c) = campaign::Entity::find_by_id(t.campaign_id).one(&txn).await?
            && c.is_open
        {
            txn.commit().await?;
            return assignment(ctx, t, c, l).await.map(Some);
        }
    }
    let mut tried = Vec::new();
    let chosen = loop {
        let ids = candidates(&txn, user.id, &tried).await?;
        if ids.is_empty() {
            break None;
        }
        let mut found = None;
        for id in ids {
            tried.push(id);
            let Some(t) = lock_task(&txn, id).await? else { continue };
            // Re-count under the lock: what the candidate query saw may be stale.
            let reserved = i64::from(t.annotations_count) + live_leases(&txn, t.id, user.id).await? as i64;
            if reserved < i64::from(t.annotations_required) {
                found = Some(t);
                break;
            }
        }
        if found.is_some() {
            break found;
        }
    };
    let Some(mut t) = chosen else {
        txn.commit().await?;
        return Ok(None);
    };
    let c = campaign::Entity::find_by_id(t.campaign_id).one(&txn).await?.ok_or(AppError::Internal)?;
    // Now and then, a gold task of the same campaign instead.
    if c.gold_rate > 0.0
        && rand::random::<f64>() < c.gold_rate
        && let Some(g) = gold_candidate(&txn, c.id, user.id).await?
    {
        t = g;
    }
    let l = grant(&txn, t.id, user.id, ctx.settings.lease_seconds).await?;
    txn.commit().await?;
    assignment(ctx, t, c, l).await.map(Some)
}

async fn gold_candidate(
    txn: &DatabaseTransaction,
    campaign_id: Uuid,
    user_id: Uuid,
) -> Result<Option<task::Model>, AppError> {
    let done: Vec<Uuid> = annotation::Entity::find()
        .filter(annotation::Column::UserId.eq(user_id))
        .filter(annotation::Column::CampaignId.eq(campaign_id))
        .filter(annotation::Column::IsGold.eq(true))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| a.task_id)
        .collect();
    let golds = task::Entity::find()
        .filter(task::Column::CampaignId.eq(campaign_id))
        .filter(task::Column::IsGold.eq(true))
        .all(txn)
        .await?;
    let open: Vec<_> = golds.into_iter().filter(|g| !done.contains(&g.id)).collect();
    if open.is_empty() {
        return Ok(None);
    }
    Ok(Some(open[rand::random::<u64>() as usize % open.len()].clone()))
}

async fn assignment(
    ctx: &ServerContext,
    t: task::Model,
    c: campaign::Model,
    l: lease::Model,
) -> Result<Assignment, AppError> {
    let clip = audio::Entity::find_by_id(t.clip_id).one(&ctx.db).await?.ok_or(AppError::Internal)?;
    let slugs = instruments_of(&c);
    let all = instrument::Entity::find().order_by_asc(instrument::Column::Position).all(&ctx.db).await?;
    let instruments = all
        .into_iter()
        .filter(|i| slugs.contains(&i.slug))
        .map(|i| Instrument { slug: i.slug, name: i.name, family: i.family })
        .collect();
    Ok(Assignment {
        task_id: t.id,
        campaign_id: c.id,
        campaign_name: c.name,
        instructions_html: markdown_html(&c.instructions),
        clip_id: clip.id,
        duration_seconds: clip.duration_seconds,
        gain_db: clip.loudness_lufs.map(|l| (TARGET_LUFS - l).clamp(-30.0, 12.0)).unwrap_or(0.0),
        instruments,
        lease_expires_at: l.expires_at.to_rfc3339(),
        stats_every: c.stats_every,
        waveform: crate::ingest::ssr::card(ctx, &clip).await?.waveform,
    })
}

/// Markdown to HTML for instructions written by admins. Raw HTML is escaped rather than passed
/// through, so instructions cannot inject markup or scripts into the annotator's page.
pub fn markdown_html(text: &str) -> String {
    use pulldown_cmark::{Event, Parser, html};
    let events = Parser::new(text).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// Give a lease back (skip).
pub async fn release(ctx: &ServerContext, user: &user::Model, task_id: Uuid) -> Result<(), AppError> {
    lease::Entity::delete_many()
        .filter(lease::Column::TaskId.eq(task_id))
        .filter(lease::Column::UserId.eq(user.id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

async fn receipt_for(ctx: &ServerContext, a: &annotation::Model) -> Result<Receipt, AppError> {
    let c = campaign::Entity::find_by_id(a.campaign_id).one(&ctx.db).await?.ok_or(AppError::Internal)?;
    // Count submissions up to and including this one, so a retry gets the same answer.
    let submissions = annotation::Entity::find()
        .filter(annotation::Column::UserId.eq(a.user_id))
        .filter(annotation::Column::CampaignId.eq(a.campaign_id))
        .filter(annotation::Column::CreatedAt.lte(a.created_at))
        .count(&ctx.db)
        .await?;
    Ok(Receipt {
        annotation_id: a.id,
        task_id: a.task_id,
        submissions,
        show_stats: c.stats_every > 0 && submissions % c.stats_every as u64 == 0,
    })
}

async fn by_client_id(
    ctx: &ServerContext,
    user_id: Uuid,
    client_id: &str,
) -> Result<Option<annotation::Model>, AppError> {
    Ok(annotation::Entity::find()
        .filter(annotation::Column::UserId.eq(user_id))
        .filter(annotation::Column::ClientId.eq(client_id))
        .one(&ctx.db)
        .await?)
}

pub async fn submit(
    ctx: &ServerContext,
    user: &user::Model,
    task_id: Uuid,
    s: Submission,
) -> Result<Receipt, AppError> {
    let client_id = s.client_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 100 {
        return Err(AppError::Invalid("A submission needs a client id of 1 to 100 characters.".into()));
    }
    // A retry of an accepted submission gets the same answer and stores nothing new.
    if let Some(a) = by_client_id(ctx, user.id, &client_id).await? {
        return if a.task_id == task_id {
            receipt_for(ctx, &a).await
        } else {
            Err(AppError::Conflict("This client id was already used for another task.".into()))
        };
    }
    let stored = {
        let _serial = serial(ctx).await;
        let txn = crate::db::begin_write(&ctx.db).await?;
        let result = submit_locked(&txn, user, task_id, &client_id, &s).await;
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
            if let Some(a) = by_client_id(ctx, user.id, &client_id).await?
                && a.task_id == task_id =>
        {
            receipt_for(ctx, &a).await
        }
        Err(e) => Err(e),
    }
}

async fn submit_locked(
    txn: &DatabaseTransaction,
    user: &user::Model,
    task_id: Uuid,
    client_id: &str,
    s: &Submission,
) -> Result<annotation::Model, AppError> {
    let t = lock_task(txn, task_id).await?.ok_or(AppError::NotFound)?;
    let c = campaign::Entity::find_by_id(t.campaign_id).one(txn).await?.ok_or(AppError::NotFound)?;
    let already = annotation::Entity::find()
        .filter(annotation::Column::TaskId.eq(t.id))
        .filter(annotation::Column::UserId.eq(user.id))
        .count(txn)
        .await?;
    if already > 0 {
        return Err(AppError::Conflict("You have already annotated this clip.".into()));
    }
    if t.is_complete {
        return Err(AppError::Conflict(
            "This clip already has all the annotations it needs. Load the next one.".into(),
        ));
    }
    let mine = lease::Entity::find()
        .filter(lease::Column::TaskId.eq(t.id))
        .filter(lease::Column::UserId.eq(user.id))
        .one(txn)
        .await?;
    match mine {
        None => {
            let others = live_leases(txn, t.id, user.id).await?;
            return Err(AppError::Conflict(if others > 0 {
                "This clip is reserved for another annotator. Load the next one.".into()
            } else {
                "You do not hold this clip (no lease). Load the next one.".into()
            }));
        }
        Some(l) if l.expires_at <= Utc::now() => {
            return Err(AppError::Conflict(
                "Your time on this clip ran out (the lease expired), so it may have gone to someone else. Load the next one."
                    .into(),
            ));
        }
        Some(_) => {}
    }
    let wanted = instruments_of(&c);
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
    let stored = annotation::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_id: Set(t.id),
        user_id: Set(user.id),
        campaign_id: Set(c.id),
        client_id: Set(client_id.to_string()),
        answers: Set(serde_json::to_string(&s.answers).unwrap_or_default()),
        play_count: Set(s.play_count.min(i32::MAX as u32) as i32),
        listening_ms: Set(s.listening_ms.min(i64::MAX as u64) as i64),
        time_to_submit_ms: Set(s.time_to_submit_ms.min(i64::MAX as u64) as i64),
        is_gold: Set(t.is_gold),
        gold_correct: Set(gold_correct),
        gold_total: Set(gold_total),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict("This submission was already stored.".into()),
        _ => e.into(),
    })?;
    lease::Entity::delete_many()
        .filter(lease::Column::TaskId.eq(t.id))
        .filter(lease::Column::UserId.eq(user.id))
        .exec(txn)
        .await?;
    // Gold answers measure the annotator; they never move the consensus or the task's count.
    if !t.is_gold {
        let count = t.annotations_count + 1;
        let complete = count >= t.annotations_required;
        let mut a: task::ActiveModel = t.clone().into();
        a.annotations_count = Set(count);
        a.is_complete = Set(complete);
        a.update(txn).await?;
        if complete {
            lease::Entity::delete_many().filter(lease::Column::TaskId.eq(t.id)).exec(txn).await?;
        }
        update_labels(txn, t.id, &wanted).await?;
    }
    Ok(stored)
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

/// How much an annotator's answers are trusted: their gold accuracy under a Beta(3.5, 1.5) prior,
/// i.e. a newcomer counts as right 70% of the time until gold answers say otherwise. (A uniform
/// prior would give newcomers no weight at all, and campaigns without gold no estimate.)
pub fn trust(record: &Accuracy) -> f64 {
    record.estimate_with_prior(3.5, 1.5)
}

/// Recompute the task's consensus per instrument: majority counts and share, and the
/// trust-weighted probability using each annotator's gold accuracy.
pub async fn update_labels(txn: &impl ConnectionTrait, task_id: Uuid, instruments: &[String]) -> Result<(), AppError> {
    let anns = annotation::Entity::find().filter(annotation::Column::TaskId.eq(task_id)).all(txn).await?;
    let records: BTreeMap<Uuid, Accuracy> = annotator_accuracy::Entity::find()
        .filter(annotator_accuracy::Column::UserId.is_in(anns.iter().map(|a| a.user_id).collect::<Vec<_>>()))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.user_id, Accuracy { correct: r.gold_correct as u32, total: r.gold_total as u32 }))
        .collect();
    let accuracy: BTreeMap<Uuid, f64> =
        anns.iter().map(|a| (a.user_id, trust(&records.get(&a.user_id).copied().unwrap_or_default()))).collect();
    let parsed: Vec<(Uuid, BTreeMap<String, AnswerValue>)> =
        anns.iter().map(|a| (a.user_id, serde_json::from_str(&a.answers).unwrap_or_default())).collect();
    task_label::Entity::delete_many().filter(task_label::Column::TaskId.eq(task_id)).exec(txn).await?;
    let mut rows = Vec::with_capacity(instruments.len());
    for slug in instruments {
        let answers: Vec<(Answer, f64)> =
            parsed.iter().filter_map(|(u, map)| map.get(slug).map(|v| (answer(*v), accuracy[u]))).collect();
        let plain: Vec<Answer> = answers.iter().map(|(a, _)| *a).collect();
        let m = consensus::majority(&plain);
        rows.push(task_label::ActiveModel {
            task_id: Set(task_id),
            instrument: Set(slug.clone()),
            present: Set(m.present as i32),
            absent: Set(m.absent as i32),
            unsure: Set(m.unsure as i32),
            relevance: Set(m.relevance),
            confidence: Set(m.confidence),
            trust_present: Set(consensus::trust_weighted(&answers, 0.5)),
        });
    }
    if !rows.is_empty() {
        task_label::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

pub async fn stats(ctx: &ServerContext, user: &user::Model, campaign_id: Uuid) -> Result<AnnotatorStats, AppError> {
    let c = campaign::Entity::find_by_id(campaign_id).one(&ctx.db).await?.ok_or(AppError::NotFound)?;
    let mine = annotation::Entity::find().filter(annotation::Column::UserId.eq(user.id)).all(&ctx.db).await?;
    let midnight = Utc::now().date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_else(Utc::now);
    let done_today = mine.iter().filter(|a| a.created_at >= midnight).count() as u64;
    // Agreement: your decided answers on complete tasks against their majority label.
    let (mut agree, mut decided) = (0u64, 0u64);
    for a in mine.iter().filter(|a| !a.is_gold) {
        let Some(t) = task::Entity::find_by_id(a.task_id).one(&ctx.db).await? else { continue };
        if !t.is_complete {
            continue;
        }
        let labels = task_label::Entity::find().filter(task_label::Column::TaskId.eq(t.id)).all(&ctx.db).await?;
        let answers: BTreeMap<String, AnswerValue> = serde_json::from_str(&a.answers).unwrap_or_default();
        for l in labels {
            let majority = match (l.present, l.absent) {
                (p, n) if p > n => Some(true),
                (p, n) if n > p => Some(false),
                _ => None,
            };
            if let (Some(m), Some(v)) = (majority, answers.get(&l.instrument).and_then(|v| answer(*v).decided())) {
                decided += 1;
                agree += u64::from(m == v);
            }
        }
    }
    let acc = annotator_accuracy::Entity::find_by_id(user.id).one(&ctx.db).await?;
    let info = crate::tasks::ssr::campaign_info(&ctx.db, &c).await?;
    let names: BTreeMap<String, String> =
        instrument::Entity::find().all(&ctx.db).await?.into_iter().map(|i| (i.slug, i.name)).collect();
    let mut instruments = Vec::new();
    for slug in instruments_of(&c) {
        let present = task_label::Entity::find()
            .filter(task_label::Column::Instrument.eq(slug.as_str()))
            .filter(task_label::Column::Relevance.gt(0.5))
            .filter(
                task_label::Column::TaskId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(task::Column::Id)
                        .from(task::Entity)
                        .and_where(task::Column::CampaignId.eq(c.id))
                        .and_where(task::Column::IsComplete.eq(true))
                        .to_owned(),
                ),
            )
            .count(&ctx.db)
            .await?;
        instruments.push(InstrumentProgress {
            name: names.get(&slug).cloned().unwrap_or_else(|| slug.clone()),
            slug,
            present,
        });
    }
    Ok(AnnotatorStats {
        done_today,
        done_total: mine.len() as u64,
        agreement: (decided > 0).then(|| agree as f64 / decided as f64),
        gold_accuracy: acc.as_ref().filter(|a| a.gold_total > 0).map(|a| a.gold_correct as f64 / a.gold_total as f64),
        gold_answers: acc.map(|a| a.gold_total as u32).unwrap_or(0),
        campaign_name: c.name,
        tasks_complete: info.tasks_complete,
        tasks_total: info.tasks_total,
        instruments,
    })
}

/// Krippendorff's alpha per instrument over a campaign's non-gold annotations ("not sure" is
/// treated as no answer).
pub async fn agreement(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<Vec<(String, Option<f64>)>, AppError> {
    let anns = annotation::Entity::find()
        .filter(annotation::Column::CampaignId.eq(c.id))
        .filter(annotation::Column::IsGold.eq(false))
        .all(db)
        .await?;
    let mut by_task: BTreeMap<Uuid, Vec<BTreeMap<String, AnswerValue>>> = BTreeMap::new();
    for a in anns {
        by_task.entry(a.task_id).or_default().push(serde_json::from_str(&a.answers).unwrap_or_default());
    }
    Ok(instruments_of(c)
        .into_iter()
        .map(|slug| {
            let units: Vec<Vec<u32>> = by_task
                .values()
                .map(|answers| {
                    answers
                        .iter()
                        .filter_map(|m| m.get(&slug).and_then(|v| answer(*v).decided()))
                        .map(u32::from)
                        .collect()
                })
                .collect();
            let alpha = consensus::krippendorff_alpha_nominal(&units);
            (slug, alpha)
        })
        .collect())
}

/// Audio longer than this gets no spectrogram image (they are for clips).
pub const SPECTROGRAM_MAX_SECONDS: f64 = 600.0;

/// The spectrogram PNG of a (short) audio, rendered once from its canonical FLAC and kept beside it.
pub async fn spectrogram_png(ctx: &ServerContext, a: &audio::Model) -> Result<Vec<u8>, AppError> {
    use object_store::path::Path;
    if a.duration_seconds > SPECTROGRAM_MAX_SECONDS {
        return Err(AppError::Invalid(format!(
            "Spectrograms are drawn for audio up to {} minutes long.",
            SPECTROGRAM_MAX_SECONDS / 60.0
        )));
    }
    let key = Path::from(format!("audio/{}/spectrogram.png", a.id));
    if let Ok(found) = ctx.store.get(&key).await
        && let Ok(bytes) = found.bytes().await
    {
        return Ok(bytes.to_vec());
    }
    let flac = ctx
        .store
        .get(&Path::from(a.canonical_key.as_str()))
        .await
        .map_err(|e| internal(&e))?
        .bytes()
        .await
        .map_err(|e| internal(&e))?;
    let frames = a.frames.max(0) as u64;
    let permit = ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| internal(&e))?;
    let png = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        let _permit = permit;
        let window = crate::tasks::ssr::cut_windows_blocking(flac, &[0], frames)?
            .into_iter()
            .next()
            .and_then(|w| w.wav)
            .ok_or(AppError::Internal)?;
        let (samples, channels, rate) = read_wav_16(&window).ok_or(AppError::Internal)?;
        Ok(super::spectrogram::render_png(&samples, channels, rate, &Default::default()))
    })
    .await
    .map_err(|e| internal(&e))??;
    if let Err(e) = crate::storage::put_bytes(&ctx.store, key.as_ref(), png.clone()).await {
        tracing::warn!(error = %e, "could not keep the spectrogram");
    }
    Ok(png)
}

fn internal(e: &dyn std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "annotation error");
    AppError::Internal
}

/// Read back a WAV written by [`crate::tasks::ssr::wav_16`].
pub fn read_wav_16(b: &[u8]) -> Option<(Vec<f32>, usize, u32)> {
    if b.len() < 44 || &b[0..4] != b"RIFF" {
        return None;
    }
    let channels = u16::from_le_bytes([b[22], b[23]]) as usize;
    let rate = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
    let samples = b[44..].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32767.0).collect();
    Some((samples, channels.max(1), rate))
}

#[cfg(test)]
mod tests {
    use super::markdown_html;

    #[test]
    fn instructions_render_markdown_but_not_raw_html() {
        let html = markdown_html("Listen **twice**.\n\n- tick what you hear\n\n<script>alert(1)</script>");
        assert!(html.contains("<strong>twice</strong>"), "{html}");
        assert!(html.contains("<li>tick what you hear</li>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
