//! Answering a GET for bytes of a known size: the conditional headers (RFC 9110 §13) and a single
//! byte range (HTTP Range, so an interrupted download resumes). Audio objects and release archives
//! both answer through here; where the bytes come from is the caller's.
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use app::error::AppError;

use crate::extract::ApiRejection;

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
pub const CACHE_FOREVER: &str = "private, max-age=31536000, immutable";

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

/// How the bytes are described to the client.
pub struct Described<'a> {
    pub size: u64,
    /// A strong entity tag, quoted.
    pub etag: Option<String>,
    pub content_type: &'a str,
    pub cache_control: &'a str,
    /// `Content-Disposition`, when the response names a file.
    pub disposition: Option<String>,
    /// Extra headers (e.g. a Content-Security-Policy for media).
    pub extra: Vec<(header::HeaderName, HeaderValue)>,
}

/// Answer `headers` for bytes described by `d`; `body` makes the bytes of a (half-open) range.
pub async fn respond<F, Fut>(headers: &HeaderMap, d: Described<'_>, body: F) -> Result<Response, AppError>
where
    F: FnOnce(std::ops::Range<u64>) -> Fut,
    Fut: std::future::Future<Output = Result<Body, AppError>>,
{
    let size = d.size;
    let etag = d.etag;
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
            if let Ok(v) = HeaderValue::from_str(d.cache_control) {
                res.headers_mut().insert(header::CACHE_CONTROL, v);
            }
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
        .header(header::CONTENT_TYPE, d.content_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, d.cache_control);
    for (name, value) in d.extra {
        builder = builder.header(name, value);
    }
    if let Some(tag) = etag.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        builder = builder.header(header::ETAG, tag);
    }
    if let Some(disposition) = d.disposition.and_then(|v| HeaderValue::from_str(&v).ok()) {
        builder = builder.header(header::CONTENT_DISPOSITION, disposition);
    }
    let (status, bytes) = match range {
        RangeRequest::Unsatisfiable => {
            let refusal = ApiRejection::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                "The byte range asked for lies outside the file (see Content-Range).",
            );
            return Ok(([(header::CONTENT_RANGE, format!("bytes */{size}"))], refusal).into_response());
        }
        RangeRequest::Full => (StatusCode::OK, 0..size),
        RangeRequest::Part { start, end } => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (StatusCode::PARTIAL_CONTENT, start..end + 1)
        }
    };
    let len = bytes.end - bytes.start;
    let body = body(bytes).await?;
    builder.status(status).header(header::CONTENT_LENGTH, len).body(body).map_err(|_| AppError::Internal)
}

/// A file name for `Content-Disposition`, in printable ASCII.
pub fn disposition(kind: &str, name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' || c == ' ' { c } else { '_' }).collect();
    format!("{kind}; filename=\"{ascii}\"")
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
