//! A release's input, read from the database: the tasks of the chosen campaigns that count, their
//! answers up to the release's instant, the annotators' trust at that instant, and each clip's
//! source with its licence. What is left out is counted by reason. Nothing that names a person
//! leaves here: annotators and uploaders become pseudonyms salted per dataset.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::datasets::Exclusions;
use crate::db::{annotation, audio, dataset as dataset_row, task, track};
use crate::domain::AnswerValue;
use crate::error::AppError;

/// `IN (…)` lists are cut to this many values (SQLite allows 32,766 parameters per statement).
const CHUNK: usize = 5_000;

/// A sample waiting for its audio to be hashed.
pub struct Pending {
    pub sample: dataset::Sample,
    pub clip_id: Uuid,
    /// Where the clip's canonical FLAC is stored.
    pub canonical_key: String,
}

pub struct Gathered {
    pub pending: Vec<Pending>,
    pub excluded: Exclusions,
    pub tasks_considered: u64,
    pub annotations: u64,
    pub annotators: u64,
}

/// A stable pseudonym of `id` within one dataset: unlinkable to the id without the dataset's
/// secret salt, and different in every dataset.
pub fn pseudonym(salt: &str, what: &str, id: Uuid) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(what.as_bytes());
    h.update(b":");
    h.update(id.as_bytes());
    format!("{}-{}", &what[..1], &hex::encode(h.finalize())[..16])
}

pub fn as_of(p: &dataset::Params) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(&p.as_of)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| AppError::internal("a release's instant", e))
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn audio_rows(db: &impl ConnectionTrait, ids: &BTreeSet<Uuid>) -> Result<HashMap<Uuid, audio::Model>, AppError> {
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for part in ids.chunks(CHUNK) {
        for a in audio::Entity::find().filter(audio::Column::Id.is_in(part.to_vec())).all(db).await? {
            out.insert(a.id, a);
        }
    }
    Ok(out)
}

/// The composition each source belongs to: a mixdown's own, else the first composition (by id)
/// that has it as a track.
async fn compositions(
    db: &impl ConnectionTrait,
    sources: &HashMap<Uuid, audio::Model>,
) -> Result<HashMap<Uuid, Uuid>, AppError> {
    let mut out: HashMap<Uuid, Uuid> = sources.values().filter_map(|a| a.composition_id.map(|c| (a.id, c))).collect();
    let ids: Vec<Uuid> = sources.keys().copied().collect();
    for part in ids.chunks(CHUNK) {
        for t in track::Entity::find().filter(track::Column::AudioId.is_in(part.to_vec())).all(db).await? {
            let e = out.entry(t.audio_id).or_insert(t.composition_id);
            if t.composition_id < *e {
                *e = t.composition_id;
            }
        }
    }
    Ok(out)
}

/// Each annotator's trust at `as_of`: their gold record up to then, under the campaigns' prior.
async fn trust(db: &impl ConnectionTrait, as_of: DateTime<Utc>) -> Result<HashMap<Uuid, f64>, AppError> {
    use sea_orm::QuerySelect;
    // Only the three columns the record needs, not whole rows.
    let gold: Vec<(Uuid, Option<i32>, Option<i32>)> = annotation::Entity::find()
        .select_only()
        .column(annotation::Column::UserId)
        .column(annotation::Column::GoldCorrect)
        .column(annotation::Column::GoldTotal)
        .filter(annotation::Column::IsGold.eq(true))
        .filter(annotation::Column::CreatedAt.lte(as_of))
        .into_tuple()
        .all(db)
        .await?;
    let mut records: HashMap<Uuid, consensus::Accuracy> = HashMap::new();
    for (user, correct, total) in gold {
        let r = records.entry(user).or_default();
        r.correct += correct.unwrap_or(0).max(0) as u32;
        r.total += total.unwrap_or(0).max(0) as u32;
    }
    Ok(records.into_iter().map(|(u, r)| (u, crate::campaigns::labels::trust(&r))).collect())
}

fn answer(v: AnswerValue) -> dataset::Answer {
    match v {
        AnswerValue::Present => dataset::Answer::Present,
        AnswerValue::Absent => dataset::Answer::Absent,
        AnswerValue::Unsure => dataset::Answer::Unsure,
    }
}

pub async fn gather(
    db: &impl ConnectionTrait,
    d: &dataset_row::Model,
    campaigns: &[Uuid],
    p: &dataset::Params,
    base_url: &str,
) -> Result<Gathered, AppError> {
    let as_of = as_of(p)?;
    let tasks = task::Entity::find()
        .filter(task::Column::CampaignId.is_in(campaigns.to_vec()))
        .filter(task::Column::CreatedAt.lte(as_of))
        .order_by_asc(task::Column::Id)
        .all(db)
        .await?;
    let anns = annotation::Entity::find()
        .filter(annotation::Column::CampaignId.is_in(campaigns.to_vec()))
        .filter(annotation::Column::CreatedAt.lte(as_of))
        .all(db)
        .await?;
    let mut by_task: HashMap<Uuid, Vec<&annotation::Model>> = HashMap::new();
    for a in &anns {
        by_task.entry(a.task_id).or_default().push(a);
    }
    let mut excluded = Exclusions::default();
    // The tasks that count, by clip (a clip in two campaigns is one sample with both's answers).
    let mut clips: BTreeMap<Uuid, Vec<&task::Model>> = BTreeMap::new();
    for t in &tasks {
        if t.is_gold && !p.include_gold {
            excluded.gold += 1;
            continue;
        }
        let answered = by_task.get(&t.id).map_or(0, Vec::len) as u32;
        let needed = p.min_annotations.unwrap_or(t.annotations_required.max(1) as u32);
        if answered < needed {
            excluded.too_few_answers += 1;
            continue;
        }
        clips.entry(t.clip_id).or_default().push(t);
    }
    let clip_rows = audio_rows(db, &clips.keys().copied().collect()).await?;
    let source_ids: BTreeSet<Uuid> = clips.values().flat_map(|ts| ts.iter().map(|t| t.source_id)).collect();
    let sources = audio_rows(db, &source_ids).await?;
    let in_composition =
        if p.group_by == dataset::GroupKey::Composition { compositions(db, &sources).await? } else { HashMap::new() };
    let trust = trust(db, as_of).await?;
    let wanted: BTreeSet<&str> = p.instruments.iter().map(String::as_str).collect();

    let mut pending = Vec::new();
    let mut annotators = BTreeSet::new();
    let mut annotations = 0u64;
    for (clip_id, ts) in &clips {
        let (Some(clip), Some(src)) = (clip_rows.get(clip_id), sources.get(&ts[0].source_id)) else {
            continue; // deleted meanwhile
        };
        if !src.is_public {
            excluded.private_source += ts.len() as u64;
            continue;
        }
        if !src.license.redistributable() {
            excluded.licence_not_redistributable += ts.len() as u64;
            continue;
        }
        let mut responses = Vec::new();
        for t in ts {
            for a in by_task.get(&t.id).into_iter().flatten() {
                let map: BTreeMap<String, AnswerValue> = serde_json::from_str(&a.answers).unwrap_or_default();
                let answers: Vec<(String, dataset::Answer)> =
                    map.into_iter().filter(|(k, _)| wanted.contains(k.as_str())).map(|(k, v)| (k, answer(v))).collect();
                annotators.insert(a.user_id);
                annotations += 1;
                responses.push(dataset::Response {
                    annotator: pseudonym(&d.salt, "annotator", a.user_id),
                    answers,
                    trust: trust
                        .get(&a.user_id)
                        .copied()
                        .unwrap_or_else(|| crate::campaigns::labels::trust(&Default::default())),
                    time: time_text(a.created_at),
                });
            }
        }
        responses.sort_by(|a, b| (&a.time, &a.annotator).cmp(&(&b.time, &b.annotator)));
        let artist = src.artist.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let group = match p.group_by {
            dataset::GroupKey::Source => format!("source:{}", src.id),
            dataset::GroupKey::Uploader => pseudonym(&d.salt, "uploader", src.owner_id),
            dataset::GroupKey::Composition => match in_composition.get(&src.id) {
                Some(c) => format!("composition:{c}"),
                None => format!("source:{}", src.id),
            },
            dataset::GroupKey::Artist => match artist {
                Some(a) => format!("artist:{}", a.to_lowercase()),
                None => format!("source:{}", src.id),
            },
        };
        let rate = f64::from(clip.canonical_rate.max(1));
        pending.push(Pending {
            sample: dataset::Sample {
                key: clip.id.simple().to_string(),
                uri: format!("{base_url}/api/v1/audio/{}", clip.id),
                offset_seconds: clip.parent_offset_frames.unwrap_or(ts[0].offset_frames) as f64 / rate,
                duration_seconds: clip.duration_seconds,
                group,
                is_gold: ts.iter().any(|t| t.is_gold),
                source: dataset::Source {
                    uri: format!("{base_url}/api/v1/audio/{}", src.id),
                    title: src.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "Untitled".into()),
                    artist: artist.unwrap_or("Unknown artist").to_string(),
                    licence: src.license.id().to_string(),
                },
                audio: dataset::Blob { size: 0, sha256: String::new(), crc32: 0 },
                responses,
            },
            clip_id: *clip_id,
            canonical_key: clip.canonical_key.clone(),
        });
    }
    Ok(Gathered {
        pending,
        excluded,
        tasks_considered: tasks.len() as u64,
        annotations,
        annotators: annotators.len() as u64,
    })
}
