//! `/api/v1/audio`: upload (multipart, streamed), metadata, and the bytes of every audio object with
//! HTTP Range support. Every read goes through the owner/admin/public rule; a hidden id is a 404.
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use object_store::{GetOptions, GetRange, ObjectStore};
use serde::Deserialize;
use uuid::Uuid;

use app::access::audio::{original_audio, visible_audio};
use app::auth::ssr::{CurrentUser, RequireUser};
use app::error::AppError;
use app::library::AudioInfo;
use app::library::edit::{
    AudioPatch, AudioScope, Upload, list_audio, parse_public, update_audio, upload_audio, upload_kind,
};
use app::library::ssr::{info, original_content_type, stage};

use crate::AppState;
use crate::config::Config;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ranged::{CACHE_FOREVER, Described, disposition, respond};

/// Multipart framing and the small text fields on top of the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

pub fn router(config: &Config) -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max((config.max_upload_bytes + MULTIPART_OVERHEAD) as usize)),
        )
        .route("/{id}", get(metadata).patch(update).delete(remove))
        .route("/{id}/canonical", get(canonical))
        .route("/{id}/original", get(original))
        .route("/{id}/peaks", get(peaks))
        .route("/{id}/spectrogram", get(spectrogram))
}

async fn upload(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    headers: HeaderMap,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let mut form = form.map_err(|e| {
        AppError::Unsupported(format!(
            "Send the file as multipart/form-data, in a field named 'file' ({}).",
            e.body_text()
        ))
    })?;
    let limit = s.ctx.settings.max_upload_bytes;
    // Refuse an announced oversize body before reading any of it.
    if let Some(len) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > limit + MULTIPART_OVERHEAD
    {
        return Err(AppError::TooLarge(format!(
            "The file is larger than this server accepts ({}).",
            app::library::human_bytes(limit)
        )));
    }
    let mut license = None;
    let mut public = false;
    let mut kind = app::domain::AudioKind::Upload;
    let mut staged = None;
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!(
                "The file is larger than this server accepts ({}).",
                app::library::human_bytes(limit)
            ))
        } else {
            AppError::Invalid(format!("The upload is not a valid multipart form: {}", e.body_text()))
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("file") if staged.is_none() => {
                let filename = field.file_name().map(str::to_string).unwrap_or_else(|| "upload".into());
                staged = Some((filename, stage(&s.ctx, field).await?));
            }
            Some("file") => return Err(AppError::Invalid("Send one file per request.".into())),
            Some("license") => license = Some(short_text(field, "license", &bad_form).await?),
            Some("public") => public = parse_public(&short_text(field, "public", &bad_form).await?)?,
            Some("kind") => kind = upload_kind(&short_text(field, "kind", &bad_form).await?)?,
            other => {
                let name = other.and_then(app::text::clean_line).unwrap_or_else(|| "(unnamed)".into());
                return Err(AppError::Invalid(format!(
                    "The upload form has no field '{name}': it takes file, license, public and kind."
                )));
            }
        }
    }
    let Some((filename, staged)) = staged else {
        return Err(AppError::Invalid("The form has no 'file' field.".into()));
    };
    let done = upload_audio(&s.ctx, &user, staged, Upload { filename, license, public, kind }).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(info(&done.audio))).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    /// `all`: every audio (admins only).
    scope: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<AudioInfo>>, AppError> {
    let scope = if q.scope.as_deref() == Some("all") { AudioScope::All } else { AudioScope::Mine };
    Ok(Json(list_audio(&s.ctx, &user, scope).await?.iter().map(info).collect()))
}

async fn metadata(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AudioInfo>, AppError> {
    Ok(Json(info(&visible_audio(&s.ctx, id, viewer.as_ref()).await?)))
}

/// The longest text field the upload form takes; a longer one is refused before it is held whole.
const SHORT_FIELD_BYTES: usize = 1024;

/// A text field of the upload form (licence, flags), read in chunks up to [`SHORT_FIELD_BYTES`].
async fn short_text(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
    bad_form: &impl Fn(axum::extract::multipart::MultipartError) -> AppError,
) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if bytes.len() + chunk.len() > SHORT_FIELD_BYTES {
            return Err(AppError::Invalid(format!(
                "The form field '{name}' is longer than {SHORT_FIELD_BYTES} bytes."
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::Invalid(format!("The form field '{name}' is not UTF-8 text.")))
}

async fn update(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<AudioPatch>,
) -> Result<Json<AudioInfo>, AppError> {
    Ok(Json(info(&update_audio(&s.ctx, &user, id, patch).await?)))
}

/// `204` once gone; `409` when it is a track or its clips are tasks (the rule in
/// `app::library::remove`).
async fn remove(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    app::library::remove::delete_audio(&s.ctx, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn canonical(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = visible_audio(&s.ctx, id, viewer.as_ref()).await?;
    serve_object(&s, &a.canonical_key, "audio/flac", &headers, None).await
}

async fn original(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = original_audio(&s.ctx, id, viewer.as_ref()).await?;
    let ct = original_content_type(&a.original_format);
    serve_object(&s, &a.original_key, ct, &headers, Some(&a.original_filename)).await
}

async fn peaks(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = visible_audio(&s.ctx, id, viewer.as_ref()).await?;
    serve_object(&s, &a.peaks_key, "application/octet-stream", &headers, None).await
}

async fn spectrogram(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, AppError> {
    let a = visible_audio(&s.ctx, id, viewer.as_ref()).await?;
    let png = app::library::spectrogram::spectrogram_png(&s.ctx, &a).await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=31536000, immutable")], png)
        .into_response())
}

async fn serve_object(
    s: &AppState,
    key: &str,
    content_type: &str,
    headers: &HeaderMap,
    download_name: Option<&str>,
) -> Result<Response, AppError> {
    let path = object_store::path::Path::from(key);
    let store = &s.ctx.store;
    let meta = store.head(&path).await.map_err(|e| {
        tracing::error!(error = %e, key, "stored object missing");
        AppError::NotFound
    })?;
    let mut extra = Vec::new();
    if content_type.starts_with("audio/") {
        extra.push((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::security::MEDIA_CSP)));
    }
    let size = meta.size;
    let described = Described {
        size,
        etag: meta.e_tag.as_deref().map(|t| format!("\"{}\"", t.trim_matches('"'))),
        content_type,
        cache_control: CACHE_FOREVER,
        disposition: download_name.map(|n| disposition("inline", n)),
        extra,
    };
    respond(headers, described, |range| async move {
        // The whole object is asked for without a range (an empty object has no byte to bound).
        let range = (range != (0..size)).then_some(GetRange::Bounded(range));
        let opts = GetOptions { range, ..GetOptions::default() };
        let result = store.get_opts(&path, opts).await.map_err(|e| {
            tracing::error!(error = %e, key, "cannot read stored object");
            AppError::Internal
        })?;
        Ok(Body::from_stream(result.into_stream()))
    })
    .await
}
