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
use crate::extract::{ApiJson, ApiPath, ApiQuery, ApiRejection};

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

/// What a `Range` header asks for, given the object's size.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    Full,
    Part { start: u64, end: u64 }, // inclusive
    Unsatisfiable,
}

/// Single byte ranges only; anything else (several ranges, other units, bad syntax) is answered
/// with the whole object, as RFC 9110 allows.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeRequest::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    // Positions are plain digits (RFC 9110); Rust's parser would also take a leading '+'.
    let digits = |t: &str| if t.bytes().all(|c| c.is_ascii_digit()) { t.parse::<u64>().ok() } else { None };
    let (start, end) = match (digits(a), digits(b)) {
        (Some(s), Some(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
        (Some(_), Some(_)) => return RangeRequest::Full,
        (Some(s), None) if b.is_empty() => (s, size.saturating_sub(1)),
        (None, Some(n)) if a.is_empty() => {
            if n == 0 {
                return RangeRequest::Unsatisfiable;
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return RangeRequest::Full,
    };
    if size == 0 || start >= size { RangeRequest::Unsatisfiable } else { RangeRequest::Part { start, end } }
}

/// Objects never change under an id.
const CACHE_FOREVER: &str = "private, max-age=31536000, immutable";

/// What the conditional headers of a GET say to do (RFC 9110 §13), given the object's entity tag.
#[derive(Debug, PartialEq)]
enum Condition {
    /// Serve it; `honour_range` is false when an `If-Range` names another version.
    Serve {
        honour_range: bool,
    },
    NotModified,
    PreconditionFailed,
}

fn condition(headers: &HeaderMap, etag: Option<&str>) -> Condition {
    let header = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    // A list of tags matches when it is "*" (any version exists) or names this one; `weak` compares
    // the opaque part only (W/"x" matches "x"), as If-None-Match does.
    let matches = |list: &str, weak: bool| {
        list.split(',').map(str::trim).any(|t| {
            t == "*"
                || etag.is_some_and(|e| {
                    let t = if weak { t.trim_start_matches("W/") } else { t };
                    t == e
                })
        })
    };
    if let Some(list) = header(header::IF_MATCH)
        && !matches(list, false)
    {
        return Condition::PreconditionFailed;
    }
    if let Some(list) = header(header::IF_NONE_MATCH)
        && matches(list, true)
    {
        return Condition::NotModified;
    }
    let honour_range = match header(header::IF_RANGE) {
        // Only a strong tag can validate a range; a date (we send no Last-Modified) never does.
        Some(tag) => etag.is_some_and(|e| tag.trim() == e && !tag.starts_with("W/")),
        None => true,
    };
    Condition::Serve { honour_range }
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
    let size = meta.size;
    let etag = meta.e_tag.as_deref().map(|t| format!("\"{}\"", t.trim_matches('"')));
    let honour_range = match condition(headers, etag.as_deref()) {
        Condition::Serve { honour_range } => honour_range,
        Condition::PreconditionFailed => {
            return Ok(ApiRejection::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "The file is not the version If-Match names (see its ETag).",
            )
            .into_response());
        }
        Condition::NotModified => {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_FOREVER));
            if let Some(tag) = etag.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
                res.headers_mut().insert(header::ETAG, tag);
            }
            return Ok(res);
        }
    };
    let range = match honour_range {
        true => parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), size),
        false => RangeRequest::Full,
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, CACHE_FOREVER);
    if content_type.starts_with("audio/") {
        builder = builder.header(header::CONTENT_SECURITY_POLICY, crate::security::MEDIA_CSP);
    }
    if let Some(tag) = etag.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        builder = builder.header(header::ETAG, tag);
    }
    if let Some(name) = download_name {
        let ascii: String =
            name.chars().map(|c| if c.is_ascii_graphic() && c != '"' || c == ' ' { c } else { '_' }).collect();
        builder = builder.header(header::CONTENT_DISPOSITION, format!("inline; filename=\"{ascii}\""));
    }
    let (status, get_range, len) = match range {
        RangeRequest::Unsatisfiable => {
            let refusal = ApiRejection::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                "The byte range asked for lies outside the file (see Content-Range).",
            );
            return Ok(([(header::CONTENT_RANGE, format!("bytes */{size}"))], refusal).into_response());
        }
        RangeRequest::Full => (StatusCode::OK, None, size),
        RangeRequest::Part { start, end } => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (StatusCode::PARTIAL_CONTENT, Some(GetRange::Bounded(start..end + 1)), end + 1 - start)
        }
    };
    let result =
        store.get_opts(&path, GetOptions { range: get_range, ..GetOptions::default() }).await.map_err(|e| {
            tracing::error!(error = %e, key, "cannot read stored object");
            AppError::Internal
        })?;
    builder
        .status(status)
        .header(header::CONTENT_LENGTH, len)
        .body(Body::from_stream(result.into_stream()))
        .map_err(|_| AppError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_requests_follow_rfc_9110() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            condition(&h, Some("\"v1\""))
        };
        let serve = Condition::Serve { honour_range: true };
        assert_eq!(with(&[]), serve);
        assert_eq!(with(&[("if-none-match", "\"v1\"")]), Condition::NotModified);
        assert_eq!(with(&[("if-none-match", "\"v0\", W/\"v1\"")]), Condition::NotModified);
        assert_eq!(with(&[("if-none-match", "*")]), Condition::NotModified);
        assert_eq!(with(&[("if-none-match", "\"v0\"")]), serve);
        assert_eq!(with(&[("if-match", "\"v0\"")]), Condition::PreconditionFailed);
        assert_eq!(with(&[("if-match", "W/\"v1\"")]), Condition::PreconditionFailed);
        assert_eq!(with(&[("if-match", "\"v1\"")]), serve);
        assert_eq!(with(&[("if-range", "\"v1\"")]), serve);
        assert_eq!(with(&[("if-range", "\"zz\"")]), Condition::Serve { honour_range: false });
        assert_eq!(with(&[("if-range", "Sat, 01 Jan 2000 00:00:00 GMT")]), Condition::Serve { honour_range: false });
    }

    #[test]
    fn ranges_are_parsed_like_rfc_9110() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Part { start: 0, end: 9 });
        assert_eq!(parse_range(Some("bytes=90-"), 100), Part { start: 90, end: 99 });
        assert_eq!(parse_range(Some("bytes=-10"), 100), Part { start: 90, end: 99 });
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Part { start: 0, end: 99 });
        assert_eq!(parse_range(Some("bytes=50-5000"), 100), Part { start: 50, end: 99 });
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 100), Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=9-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=+0-9"), 100), Full);
        assert_eq!(parse_range(Some("bytes=-+5"), 100), Full);
        assert_eq!(parse_range(Some("bytes=abc"), 100), Full);
    }
}
