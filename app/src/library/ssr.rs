//! Server side of the uploader: staging, ingest (decode → resample → FLAC + peaks + loudness),
//! atomic storage, and the access rule every audio surface uses.
use super::human_bytes;
use std::io::Write;
use std::path::Path;

use ::audio::ingest::{IngestError, IngestOptions, IngestReport};
use chrono::Utc;
use futures::{Stream, StreamExt};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, SqlErr};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use uuid::Uuid;

use super::AudioInfo;
use crate::context::ServerContext;
use crate::db::audio;
use crate::domain::AudioKind;
use crate::error::AppError;
use crate::storage::{delete_quietly, put_bytes, put_file};

pub fn info(a: &audio::Model) -> AudioInfo {
    AudioInfo {
        id: a.id,
        kind: a.kind,
        owner_id: a.owner_id,
        is_public: a.is_public,
        sha256: a.sha256.clone(),
        original_filename: a.original_filename.clone(),
        original_format: a.original_format.clone(),
        original_codec: a.original_codec.clone(),
        original_bytes: a.original_bytes,
        original_rate: a.original_rate,
        original_channels: a.original_channels,
        canonical_rate: a.canonical_rate,
        canonical_channels: a.canonical_channels,
        frames: a.frames,
        duration_seconds: a.duration_seconds,
        title: a.title.clone(),
        artist: a.artist.clone(),
        album: a.album.clone(),
        tags: serde_json::from_str(&a.tags).unwrap_or_default(),
        license: a.license,
        loudness_lufs: a.loudness_lufs,
        parent_id: a.parent_id,
        parent_offset_frames: a.parent_offset_frames,
        created_at: a.created_at.to_rfc3339(),
    }
}

/// Bytes received and staged in a temporary file (deleted when dropped), with their hash.
pub struct Staged {
    pub file: NamedTempFile,
    pub sha256: String,
    pub bytes: u64,
}

fn too_large(limit: u64) -> AppError {
    AppError::TooLarge(format!(
        "The file is larger than this server accepts ({}). Split it or compress it losslessly (FLAC).",
        human_bytes(limit)
    ))
}

/// Stream a body into a staged file while hashing it; refuses as soon as `limit` is passed.
pub async fn stage<S, E>(ctx: &ServerContext, mut body: S) -> Result<Staged, AppError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let limit = ctx.settings.max_upload_bytes;
    std::fs::create_dir_all(&ctx.settings.tmp_dir).map_err(|e| AppError::internal("storing audio", e))?;
    let mut file = NamedTempFile::new_in(&ctx.settings.tmp_dir).map_err(|e| AppError::internal("storing audio", e))?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| AppError::Invalid(format!("The upload was interrupted: {e}")))?;
        bytes += chunk.len() as u64;
        if bytes > limit {
            return Err(too_large(limit));
        }
        hasher.update(&chunk);
        // Small synchronous writes to a local temp file; not worth a blocking-pool hop per chunk.
        file.write_all(&chunk).map_err(|e| AppError::internal("storing audio", e))?;
    }
    file.flush().map_err(|e| AppError::internal("storing audio", e))?;
    Ok(Staged { file, sha256: hex::encode(hasher.finalize()), bytes })
}

impl Staged {
    /// Stage bytes made on the server (clips, mixdowns).
    pub fn from_bytes(ctx: &ServerContext, bytes: &[u8]) -> Result<Staged, AppError> {
        Self::write_in(&ctx.settings.tmp_dir, |w| w.write(bytes))
    }

    /// Stage bytes made on the server piece by piece (a long mixdown), never all in memory:
    /// `write` hands them to [`StagedWriter::write`], which hashes and counts them on the way.
    pub fn write_in(
        tmp_dir: &Path,
        write: impl FnOnce(&mut StagedWriter) -> Result<(), AppError>,
    ) -> Result<Staged, AppError> {
        std::fs::create_dir_all(tmp_dir).map_err(|e| AppError::internal("storing audio", e))?;
        let file = NamedTempFile::new_in(tmp_dir).map_err(|e| AppError::internal("storing audio", e))?;
        let mut w = StagedWriter { out: std::io::BufWriter::new(file), hasher: Sha256::new(), bytes: 0 };
        write(&mut w)?;
        let file = w.out.into_inner().map_err(|e| AppError::internal("storing audio", e.into_error()))?;
        Ok(Staged { file, sha256: hex::encode(w.hasher.finalize()), bytes: w.bytes })
    }
}

/// Where [`Staged::write_in`] takes its bytes.
pub struct StagedWriter {
    out: std::io::BufWriter<NamedTempFile>,
    hasher: Sha256,
    bytes: u64,
}

impl StagedWriter {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes).map_err(|e| AppError::internal("storing audio", e))
    }
}

/// Stage a file from disk (bulk import): same hashing and limit as an upload.
pub fn stage_path(ctx: &ServerContext, path: &Path) -> Result<Staged, AppError> {
    let len = std::fs::metadata(path).map_err(|e| AppError::internal("storing audio", e))?.len();
    if len > ctx.settings.max_upload_bytes {
        return Err(too_large(ctx.settings.max_upload_bytes));
    }
    std::fs::create_dir_all(&ctx.settings.tmp_dir).map_err(|e| AppError::internal("storing audio", e))?;
    let mut file = NamedTempFile::new_in(&ctx.settings.tmp_dir).map_err(|e| AppError::internal("storing audio", e))?;
    let mut src = std::fs::File::open(path).map_err(|e| AppError::internal("storing audio", e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = std::io::Read::read(&mut src, &mut buf).map_err(|e| AppError::internal("storing audio", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(|e| AppError::internal("storing audio", e))?;
        bytes += n as u64;
    }
    Ok(Staged { file, sha256: hex::encode(hasher.finalize()), bytes })
}

pub struct NewAudio {
    pub owner_id: Uuid,
    pub kind: AudioKind,
    pub filename: String,
    pub license: crate::domain::Licence,
    pub is_public: bool,
    pub parent_id: Option<Uuid>,
    pub parent_offset_frames: Option<i64>,
    /// A mixdown's composition: a mixdown is identified by (composition, bytes), so two
    /// compositions that mix to the same bytes never share a record (nor its name).
    pub composition_id: Option<Uuid>,
}

/// The result of an ingest: the record, and whether it was made now (false: the same bytes were
/// already there for this owner).
pub struct Ingested {
    pub audio: audio::Model,
    pub created: bool,
}

fn ingest_error(e: IngestError, filename: &str) -> AppError {
    match e {
        IngestError::Unsupported { what } => AppError::Unsupported(format!("{filename}: {what}")),
        IngestError::Corrupt(why) => AppError::Invalid(format!("{filename} could not be decoded: {why}")),
        IngestError::Empty => AppError::Invalid(format!("{filename} contains no audio.")),
        IngestError::TooLong { seconds, max } => AppError::Invalid(format!(
            "{filename} is {} long; the longest accepted is {}.",
            human_duration(seconds),
            human_duration(max)
        )),
        IngestError::Io(e) => AppError::internal("storing audio", e),
        IngestError::InvalidOptions(why) => AppError::internal("storing audio", why),
    }
}

pub fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn extension(filename: &str) -> Option<String> {
    Path::new(filename).extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase())
}

/// Ingest staged bytes: decode, resample, encode the canonical FLAC with peaks and loudness (on the
/// blocking pool, at most `audio_jobs` at once), store the three objects, then write the row.
/// Any failure leaves no object, no row and no temporary file.
#[tracing::instrument(skip_all, fields(owner_id = %new.owner_id, kind = new.kind.as_str(), bytes = staged.bytes))]
pub async fn ingest(ctx: &ServerContext, staged: Staged, new: NewAudio) -> Result<Ingested, AppError> {
    if staged.bytes == 0 {
        return Err(AppError::Invalid(format!("{} is empty.", new.filename)));
    }
    if let Some(existing) = find_same(ctx, &new, &staged.sha256).await? {
        return Ok(Ingested { audio: existing, created: false });
    }
    let permit = ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| AppError::internal("storing audio", e))?;
    let opts = IngestOptions {
        target_rate: ctx.settings.canonical_rate,
        max_seconds: ctx.settings.max_audio_seconds as f64,
        ..IngestOptions::default()
    };
    let tmp_dir = ctx.settings.tmp_dir.clone();
    let hint = extension(&new.filename);
    let input = staged.file.reopen().map_err(|e| AppError::internal("storing audio", e))?;
    let (canonical, report) =
        tokio::task::spawn_blocking(move || -> Result<(NamedTempFile, IngestReport), IngestError> {
            let _permit = permit;
            let mut out = NamedTempFile::new_in(tmp_dir).map_err(IngestError::Io)?;
            let report = ::audio::ingest::ingest(input, hint.as_deref(), out.as_file_mut(), &opts)?;
            Ok((out, report))
        })
        .await
        .map_err(|e| {
            // A decoder that panics on a crafted header (symphonia's arithmetic on absurd channel
            // counts, say) has met a file it cannot read: that is the file's fault, not the server's.
            if e.is_panic() {
                tracing::warn!(file = %new.filename, "the decoder panicked on an upload");
                AppError::Invalid(format!("{} could not be decoded: its header or data is malformed.", new.filename))
            } else {
                AppError::internal("storing audio", e)
            }
        })?
        .map_err(|e| ingest_error(e, &new.filename))?;

    let id = Uuid::new_v4();
    let keys = ObjectKeys::for_audio(id);
    let stored = async {
        put_file(&ctx.store, &keys.original, staged.file.reopen().map_err(|e| AppError::internal("storing audio", e))?)
            .await
            .map_err(|e| AppError::internal("storing audio", e))?;
        put_file(&ctx.store, &keys.canonical, canonical.reopen().map_err(|e| AppError::internal("storing audio", e))?)
            .await
            .map_err(|e| AppError::internal("storing audio", e))?;
        put_bytes(&ctx.store, &keys.peaks, report.peaks.to_dat_bytes())
            .await
            .map_err(|e| AppError::internal("storing audio", e))?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = stored {
        keys.delete(ctx).await;
        return Err(e);
    }
    let row = audio::ActiveModel {
        id: Set(id),
        kind: Set(new.kind),
        parent_id: Set(new.parent_id),
        parent_offset_frames: Set(new.parent_offset_frames),
        composition_id: Set(new.composition_id),
        owner_id: Set(new.owner_id),
        is_public: Set(new.is_public),
        sha256: Set(staged.sha256.clone()),
        original_filename: Set(new.filename.clone()),
        original_format: Set(report.container.clone()),
        original_codec: Set(report.codec.clone()),
        original_bytes: Set(staged.bytes as i64),
        original_rate: Set(report.original_rate as i32),
        original_channels: Set(report.original_channels as i32),
        canonical_rate: Set(report.canonical_rate as i32),
        canonical_channels: Set(report.canonical_channels as i32),
        frames: Set(report.frames as i64),
        duration_seconds: Set(report.duration_seconds),
        title: Set(report.title.clone()),
        artist: Set(report.artist.clone()),
        album: Set(report.album.clone()),
        tags: Set(serde_json::to_string(&report.tags).unwrap_or_else(|_| "[]".into())),
        license: Set(new.license),
        loudness_lufs: Set(report.integrated_lufs),
        original_key: Set(keys.original.clone()),
        canonical_key: Set(keys.canonical.clone()),
        peaks_key: Set(keys.peaks.clone()),
        created_at: Set(Utc::now()),
    };
    match row.insert(&ctx.db).await {
        Ok(audio) => Ok(Ingested { audio, created: true }),
        Err(e) => {
            keys.delete(ctx).await;
            // The same bytes arrived concurrently for this owner: the other upload won.
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
                && let Some(existing) = find_same(ctx, &new, &staged.sha256).await?
            {
                return Ok(Ingested { audio: existing, created: false });
            }
            Err(e.into())
        }
    }
}

/// The audio these bytes already are: for a clip, the same bytes cut at the same place of the same
/// source; otherwise the owner's audio of the same kind with the same bytes (uploading a file
/// twice is idempotent, and never reveals someone else's audio).
async fn find_same(ctx: &ServerContext, new: &NewAudio, sha256: &str) -> Result<Option<audio::Model>, AppError> {
    let same = audio::Entity::find().filter(audio::Column::Sha256.eq(sha256));
    let same = match (new.parent_id, new.composition_id) {
        (_, Some(composition)) => {
            same.filter(audio::Column::CompositionId.eq(composition)).filter(audio::Column::Kind.eq(new.kind))
        }
        (Some(parent), None) => same
            .filter(audio::Column::ParentId.eq(parent))
            .filter(audio::Column::ParentOffsetFrames.eq(new.parent_offset_frames)),
        (None, None) => same
            .filter(audio::Column::CompositionId.is_null())
            .filter(audio::Column::ParentId.is_null())
            .filter(audio::Column::OwnerId.eq(new.owner_id))
            .filter(audio::Column::Kind.eq(new.kind)),
    };
    Ok(same.one(&ctx.db).await?)
}

pub struct ObjectKeys {
    pub original: String,
    pub canonical: String,
    pub peaks: String,
}

impl ObjectKeys {
    pub fn for_audio(id: Uuid) -> Self {
        ObjectKeys {
            original: format!("audio/{id}/original"),
            canonical: format!("audio/{id}/canonical.flac"),
            peaks: format!("audio/{id}/peaks.dat"),
        }
    }

    async fn delete(&self, ctx: &ServerContext) {
        for key in [&self.original, &self.canonical, &self.peaks] {
            delete_quietly(&ctx.store, key).await;
        }
    }
}

/// The MIME type of an original by its container.
pub fn original_content_type(format: &str) -> &'static str {
    match format {
        "wav" => "audio/wav",
        "aiff" => "audio/aiff",
        "flac" => "audio/flac",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" | "m4a" | "isomp4" => "audio/mp4",
        "mkv" | "webm" => "audio/webm",
        _ => "application/octet-stream",
    }
}

/// A library card: the record plus a waveform overview read from the stored peaks.
pub async fn card(ctx: &ServerContext, a: &audio::Model) -> Result<super::AudioCard, AppError> {
    let bytes = ctx
        .store
        .get(&object_store::path::Path::from(a.peaks_key.as_str()))
        .await
        .map_err(|e| AppError::internal("storing audio", e))?
        .bytes()
        .await
        .map_err(|e| AppError::internal("storing audio", e))?;
    let peaks = ::audio::peaks::Peaks::from_dat_bytes(&bytes).map_err(|e| AppError::internal("storing audio", e))?;
    Ok(super::AudioCard {
        info: info(a),
        waveform: crate::components::overview(&peaks, super::THUMBNAIL_COLUMNS),
        shared_in: Vec::new(),
    })
}

/// Cards for audio shown to its owner: each with its waveform (peaks read from the object store
/// several at a time, in order) and where it is a track.
pub async fn owners_cards(ctx: &ServerContext, rows: Vec<audio::Model>) -> Result<Vec<super::AudioCard>, AppError> {
    use futures::TryStreamExt;
    let cards = rows.into_iter().map(|a| {
        let ctx = ctx.clone();
        async move { card(&ctx, &a).await }
    });
    let mut cards: Vec<super::AudioCard> = futures::stream::iter(cards).buffered(8).try_collect().await?;
    let mut shared = shared_in(&ctx.db, cards.iter().map(|c| c.info.id).collect()).await?;
    for c in &mut cards {
        c.shared_in = shared.remove(&c.info.id).unwrap_or_default();
    }
    Ok(cards)
}

/// For each of `ids`, the compositions it is a track of, by title.
pub async fn shared_in(
    db: &impl sea_orm::ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<std::collections::HashMap<Uuid, Vec<super::SharedIn>>, AppError> {
    use crate::db::{composition, track};
    let mut out: std::collections::HashMap<Uuid, Vec<super::SharedIn>> = std::collections::HashMap::new();
    // In chunks: SQLite caps the parameters of one statement.
    for chunk in ids.chunks(500) {
        let tracks = track::Entity::find().filter(track::Column::AudioId.is_in(chunk.to_vec())).all(db).await?;
        let ids: Vec<Uuid> = tracks.iter().map(|t| t.composition_id).collect();
        let compositions: std::collections::HashMap<Uuid, composition::Model> = composition::Entity::find()
            .filter(composition::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        for t in tracks {
            let Some(c) = compositions.get(&t.composition_id).cloned() else { continue };
            let list = out.entry(t.audio_id).or_default();
            if !list.iter().any(|s| s.composition_id == c.id) {
                list.push(super::SharedIn { composition_id: c.id, title: c.title, visibility: c.visibility });
            }
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.title.cmp(&b.title));
    }
    Ok(out)
}
