//! The spectrogram image of a clip, drawn once from its canonical audio and kept beside it.
use crate::context::ServerContext;
use crate::db::audio;
use crate::error::AppError;

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
        .map_err(|e| AppError::internal("drawing a spectrogram", e))?
        .bytes()
        .await
        .map_err(|e| AppError::internal("drawing a spectrogram", e))?;
    let frames = a.frames.max(0) as u64;
    let permit =
        ctx.audio_jobs.clone().acquire_owned().await.map_err(|e| AppError::internal("drawing a spectrogram", e))?;
    let png = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, AppError> {
        let _permit = permit;
        let window = ::audio::windows::cut_windows(flac, &[0], frames)
            .map_err(|e| AppError::internal("drawing a spectrogram", e))?
            .into_iter()
            .next()
            .and_then(|w| w.wav)
            .ok_or(AppError::Internal)?;
        let (samples, channels, rate) = ::audio::wav::decode_i16(&window).ok_or(AppError::Internal)?;
        Ok(::audio::spectrogram::render_png(&samples, channels, rate, &Default::default()))
    })
    .await
    .map_err(|e| AppError::internal("drawing a spectrogram", e))??;
    if let Err(e) = crate::storage::put_bytes(&ctx.store, key.as_ref(), png.clone()).await {
        tracing::warn!(error = %e, "could not keep the spectrogram");
    }
    Ok(png)
}
