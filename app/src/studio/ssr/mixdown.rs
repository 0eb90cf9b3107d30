//! The server's mixdown of a composition, stored as audio.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::checks::{longest_frames, mixdown_filename};
use crate::db::{audio, composition, track};
use crate::error::AppError;

/// Why a mix of these tracks would be empty.
fn nothing_to_mix(sounding: bool) -> String {
    if sounding {
        "Every track that sounds ends before the composition's start: there is nothing to mix.".into()
    } else {
        "Every track is muted: there is nothing to mix.".into()
    }
}

/// Frames of the mix rendered and written at a time.
const MIX_BLOCK_FRAMES: usize = 1 << 16;

/// What a mix of `c` would take, or why it cannot be rendered: it has tracks, ends within what
/// Tutti renders, and every track is stored at the canonical rate. Checked when a mixdown is asked
/// for (the caller hears why at once) and again when it renders (the tracks may have changed).
pub async fn plan(
    ctx: &crate::context::ServerContext,
    c: &composition::Model,
) -> Result<Vec<(track::Model, audio::Model)>, AppError> {
    let rows = track::Entity::find().filter(track::Column::CompositionId.eq(c.id)).all(&ctx.db).await?;
    if rows.is_empty() {
        return Err(AppError::Invalid("The composition has no tracks to mix.".into()));
    }
    let mut sources = Vec::with_capacity(rows.len());
    for t in &rows {
        sources.push(audio::Entity::find_by_id(t.audio_id).one(&ctx.db).await?.ok_or(AppError::Internal)?);
    }
    // The mix is allocated whole: refuse one longer than Tutti renders before decoding anything
    // (tracks stored before offsets were checked could place audio arbitrarily far out).
    let any_solo = rows.iter().any(|t| t.solo);
    let end = rows
        .iter()
        .zip(&sources)
        .filter(|(t, _)| !t.mute && (t.solo || !any_solo))
        .map(|(t, a)| i128::from(t.offset_frames) + i128::from(a.frames.max(0)))
        .max()
        .unwrap_or(0);
    if end <= 0 {
        let sounding = rows.iter().any(|t| !t.mute && (t.solo || !any_solo));
        return Err(AppError::Invalid(nothing_to_mix(sounding)));
    }
    if end > i128::from(longest_frames(&ctx.settings)) {
        return Err(AppError::Invalid(format!(
            "The mixdown would end after {}, later than Tutti renders; move the tracks closer to the start.",
            crate::library::ssr::human_duration(ctx.settings.max_audio_seconds as f64)
        )));
    }
    for (t, a) in rows.iter().zip(&sources) {
        if a.canonical_rate as u32 != ctx.settings.canonical_rate {
            return Err(AppError::Conflict(format!(
                "Track '{}' is stored at {} Hz; re-ingest it at the canonical rate.",
                t.name, a.canonical_rate
            )));
        }
    }
    Ok(rows.into_iter().zip(sources).collect())
}

/// A digest of what a mix is made of: each track's audio, place and mixer settings. Two equal
/// digests make the same mix; any edit that changes the sound changes it.
pub fn mix_recipe<'a>(tracks: impl IntoIterator<Item = (Uuid, Uuid, i64, f64, f64, bool, bool)> + 'a) -> String {
    use sha2::{Digest, Sha256};
    let mut rows: Vec<_> = tracks.into_iter().collect();
    rows.sort_by_key(|r| r.0);
    let mut h = Sha256::new();
    for (id, audio, offset, gain, pan, mute, solo) in rows {
        h.update(id.as_bytes());
        h.update(audio.as_bytes());
        h.update(offset.to_le_bytes());
        h.update(gain.to_bits().to_le_bytes());
        h.update(pan.to_bits().to_le_bytes());
        h.update([u8::from(mute), u8::from(solo)]);
    }
    hex::encode(h.finalize())
}

/// Render the composition on the server with the same gain and pan law as the browser, store it
/// as audio of kind `mixdown` (owned by the composition's owner, with its licence) and remember it
/// on the composition. Each track's canonical audio is decoded in full, so memory grows with the
/// tracks' own length; the mix itself is written a block at a time. Runs as a job
/// ([`super::mixdown_job`]).
#[tracing::instrument(skip_all, fields(composition = %c.id))]
pub async fn render_mixdown(
    ctx: &crate::context::ServerContext,
    c: &composition::Model,
) -> Result<audio::Model, AppError> {
    use ::audio::mixdown::{TrackMix, mix_frames, mix_range};
    let planned = plan(ctx, c).await?;
    let recipe =
        mix_recipe(planned.iter().map(|(t, _)| (t.id, t.audio_id, t.offset_frames, t.gain_db, t.pan, t.mute, t.solo)));
    let mut decoded = Vec::with_capacity(planned.len());
    for (t, a) in &planned {
        let flac = ctx
            .store
            .get(&object_store::path::Path::from(a.canonical_key.as_str()))
            .await
            .map_err(|e| AppError::internal("rendering a mixdown", e))?
            .bytes()
            .await
            .map_err(|e| AppError::internal("rendering a mixdown", e))?;
        decoded.push((t.clone(), flac, a.frames.max(0) as u64));
    }
    let rate = ctx.settings.canonical_rate;
    let tmp_dir = ctx.settings.tmp_dir.clone();
    let permit =
        ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| AppError::internal("rendering a mixdown", e))?;
    let staged = tokio::task::spawn_blocking(move || -> Result<crate::library::ssr::Staged, AppError> {
        let _permit = permit;
        let mut sources = Vec::with_capacity(decoded.len());
        for (t, flac, frames) in decoded {
            let (samples, channels) = ::audio::windows::decode_whole(flac, frames)
                .map_err(|e| AppError::internal("rendering a mixdown", e))?;
            sources.push((t, samples, channels));
        }
        let tracks: Vec<TrackMix> = sources
            .iter()
            .map(|(t, samples, channels)| TrackMix {
                samples,
                channels: *channels,
                offset_frames: t.offset_frames,
                gain_db: t.gain_db,
                pan: t.pan,
                mute: t.mute,
                solo: t.solo,
            })
            .collect();
        let frames = mix_frames(&tracks);
        if frames == 0 {
            let any_solo = tracks.iter().any(|t| t.solo);
            let sounding = tracks.iter().any(|t| !t.mute && (t.solo || !any_solo));
            return Err(AppError::Invalid(nothing_to_mix(sounding)));
        }
        // 32-bit float: the sum keeps the tracks' full precision and any peak above full scale
        // (the canonical FLAC made from it is clipped there, like every canonical).
        let header = ::audio::wav::f32_header(frames.saturating_mul(2), rate, 2).ok_or_else(|| {
            AppError::Invalid(
                "The mixdown would be larger than a WAV file holds (4 GiB); move the tracks closer to the start."
                    .into(),
            )
        })?;
        // Rendered and written a block at a time: memory stays at the tracks' own audio however
        // far apart they lie.
        crate::library::ssr::Staged::write_in(&tmp_dir, |w| {
            w.write(&header)?;
            let mut bytes = Vec::new();
            for start in (0..frames).step_by(MIX_BLOCK_FRAMES) {
                let len = (frames - start).min(MIX_BLOCK_FRAMES as u64) as usize;
                bytes.clear();
                ::audio::wav::put_f32(&mut bytes, &mix_range(&tracks, start, len));
                w.write(&bytes)?;
            }
            Ok(())
        })
    })
    .await
    .map_err(|e| AppError::internal("rendering a mixdown", e))??;
    let new = crate::library::ssr::NewAudio {
        owner_id: c.owner_id,
        kind: crate::domain::AudioKind::Mixdown,
        filename: mixdown_filename(&c.title),
        license: c.license,
        // Never public by itself: whoever sees the composition hears its mixdown
        // (`sees_mixdown`), so the mix follows the composition's visibility as it changes.
        is_public: false,
        parent_id: None,
        parent_offset_frames: None,
        composition_id: Some(c.id),
    };
    let a = crate::library::ssr::ingest(ctx, staged, new).await?.audio;
    // The composition may have been deleted while its mix rendered: the mix then stays its
    // owner's audio only, and the request is told the composition is gone.
    let set = composition::Entity::update_many()
        .col_expr(composition::Column::MixdownId, sea_orm::sea_query::Expr::value(Some(a.id)))
        .col_expr(composition::Column::MixdownRecipe, sea_orm::sea_query::Expr::value(Some(recipe)))
        .filter(composition::Column::Id.eq(c.id))
        .exec(&ctx.db)
        .await?;
    if set.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    Ok(a)
}
