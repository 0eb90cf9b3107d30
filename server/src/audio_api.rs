//! `/api/v1/audio`: upload (multipart, streamed), metadata, and the bytes of every audio object with
//! HTTP Range support. Every read goes through the owner/admin/public rule; a hidden id is a 404.
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use object_store::{GetOptions, GetRange, ObjectStore};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use uuid::Uuid;

use app::access::audio::visible_audio;
use app::auth::ssr::{CurrentUser, RequireUser};
use app::db::audio;
use app::error::AppError;
use app::library::AudioInfo;
use app::library::ssr::{NewAudio, check_license, info, ingest, original_content_type, stage};

use crate::AppState;
use crate::config::Config;

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
        .route("/{id}", get(metadata).patch(update))
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
    let mut kind = "upload";
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
            Some("public") => {
                let value = short_text(field, "public", &bad_form).await?;
                public = match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "on" | "1" | "yes" => true,
                    "false" | "off" | "0" | "no" | "" => false,
                    other => {
                        return Err(AppError::Invalid(format!(
                            "public must be true or false (also on/off, 1/0, yes/no), not '{other}'"
                        )));
                    }
                }
            }
            // A take recorded in the studio; clips and mixdowns are only ever made by the server.
            Some("kind") => {
                kind = match short_text(field, "kind", &bad_form).await?.trim() {
                    "" | "upload" => "upload",
                    "recording" => "recording",
                    other => {
                        return Err(AppError::Invalid(format!(
                            "Unknown audio kind '{other}': an upload is 'upload' or 'recording'."
                        )));
                    }
                }
            }
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
    let license = check_license(license.as_deref(), &s.ctx.settings.default_license)?;
    let new = NewAudio {
        owner_id: user.id,
        kind,
        filename: ::audio::text::clean_file_name(&filename),
        license,
        is_public: public,
        parent_id: None,
        parent_offset_frames: None,
        composition_id: None,
    };
    let done = ingest(&s.ctx, staged, new).await?;
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
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<AudioInfo>>, AppError> {
    let mut query = audio::Entity::find().order_by_desc(audio::Column::CreatedAt);
    match q.scope.as_deref() {
        Some("all") if user.is_admin => {}
        Some("all") => return Err(AppError::Forbidden),
        _ => query = query.filter(audio::Column::OwnerId.eq(user.id)),
    }
    Ok(Json(query.all(&s.ctx.db).await?.iter().map(info).collect()))
}

async fn metadata(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<Uuid>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    public: Option<bool>,
    title: Option<String>,
    license: Option<String>,
}

async fn update(
    State(s): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<Uuid>,
    Json(body): Json<Update>,
) -> Result<Json<AudioInfo>, AppError> {
    use sea_orm::{ActiveModelTrait, Set};
    let a = visible_audio(&s.ctx, id, Some(&user)).await?;
    if a.owner_id != user.id && !user.is_admin {
        // Public audio can be seen by anyone but changed only by its owner.
        return Err(AppError::Forbidden);
    }
    let mut active: audio::ActiveModel = a.into();
    if let Some(p) = body.public {
        active.is_public = Set(p);
    }
    if let Some(t) = body.title {
        let t = app::error::within(&t, 200, "Keep the title under 200 characters.")?;
        active.title = Set((!t.is_empty()).then_some(t));
    }
    if let Some(l) = body.license {
        active.license = Set(check_license(Some(&l), &s.ctx.settings.default_license)?);
    }
    // The clips cut from this audio share its visibility and licence, or the clips of a source
    // made private would still give it away, piece by piece.
    let txn = app::db::begin_write(&s.ctx.db).await?;
    let a = active.update(&txn).await?;
    audio::Entity::update_many()
        .col_expr(audio::Column::IsPublic, Expr::value(a.is_public))
        .col_expr(audio::Column::License, Expr::value(a.license.clone()))
        .filter(audio::Column::ParentId.eq(a.id))
        .filter(audio::Column::Kind.eq("clip"))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Json(info(&a)))
}

async fn canonical(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = visible_audio(&s.ctx, id, viewer.as_ref()).await?;
    serve_object(&s, &a.canonical_key, "audio/flac", &headers, None).await
}

async fn original(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = visible_audio(&s.ctx, id, viewer.as_ref()).await?;
    let ct = original_content_type(&a.original_format);
    serve_object(&s, &a.original_key, ct, &headers, Some(&a.original_filename)).await
}

async fn peaks(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = visible_audio(&s.ctx, id, viewer.as_ref()).await?;
    serve_object(&s, &a.peaks_key, "application/octet-stream", &headers, None).await
}

async fn spectrogram(
    State(s): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<Uuid>,
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
            return Ok(StatusCode::PRECONDITION_FAILED.into_response());
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
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{size}"))])
                .into_response());
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
