//! Text from outside never holds a NUL, another control character (tab and newlines aside) or an
//! invisible direction override (see `app::text`): PostgreSQL cannot store NUL, and the others
//! disguise what a name says. Checked once here for every request — the query string, and JSON,
//! form and plain-text bodies of REST calls and server functions — so no handler can forget it;
//! a refusal is a 422 that names the field. Multipart uploads are checked where they are read,
//! and a file's own tags and name are cleaned rather than refused (`audio` ingest).
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use app::error::AppError;
use app::text::{describe, first_disallowed};

/// Bodies larger than this are refused before they are read (axum's own JSON limit is the same).
pub const MAX_TEXT_BODY: usize = 2 << 20;

enum Kind {
    Json,
    Form,
    Plain,
    /// Whatever it says it is: JSON when it parses as JSON, form fields otherwise.
    Any,
}

pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // The sign-in routes parse their few parameters strictly themselves: a bad `next` sends the
    // person home rather than to an error page, and `code`, `state` and `role` only ever match
    // exactly.
    if path.starts_with("/auth/") {
        return next.run(req).await;
    }
    if let Err(e) = check_address(&req) {
        return refuse(&path, e);
    }
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let kind = match media.as_deref() {
        // Server functions read their body whatever its declared type.
        _ if path.starts_with("/api/") && !path.starts_with("/api/v1/") => Kind::Any,
        Some("application/json") => Kind::Json,
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Kind::Json,
        Some("application/x-www-form-urlencoded") => Kind::Form,
        Some("text/plain") => Kind::Plain,
        // Multipart uploads check their fields where they are read; other types are refused by
        // the handlers, which only take JSON.
        _ => return next.run(req).await,
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TEXT_BODY).await else {
        let message = format!("The request body is larger than {} MiB.", MAX_TEXT_BODY >> 20);
        return crate::refusal::refuse(
            &path,
            StatusCode::PAYLOAD_TOO_LARGE,
            &message,
            AppError::TooLarge(message.clone()),
        );
    };
    let found = match kind {
        Kind::Json => serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| in_json(&v, &mut String::new())),
        Kind::Form => in_pairs(&bytes),
        Kind::Plain => std::str::from_utf8(&bytes).ok().and_then(first_disallowed).map(|c| ("body".to_string(), c)),
        Kind::Any => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => in_json(&v, &mut String::new()),
            Err(_) => in_pairs(&bytes),
        },
    };
    if let Some((field, c)) = found {
        return refuse(&path, (field, c));
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The path and the query's fields, decoded.
fn check_address(req: &Request) -> Result<(), (String, char)> {
    let path = app::text::percent_decode(req.uri().path().as_bytes());
    if let Some(c) = first_disallowed(&String::from_utf8_lossy(&path)) {
        return Err(("address".into(), c));
    }
    match req.uri().query().and_then(|q| in_pairs(q.as_bytes())) {
        Some(found) => Err(found),
        None => Ok(()),
    }
}

fn in_pairs(bytes: &[u8]) -> Option<(String, char)> {
    url::form_urlencoded::parse(bytes)
        .find_map(|(k, v)| first_disallowed(&k).or_else(|| first_disallowed(&v)).map(|c| (clean_name(&k), c)))
}

/// The first refused character in any key or string of a JSON document, with its path
/// (`tracks[2].name`).
fn in_json(v: &Value, at: &mut String) -> Option<(String, char)> {
    match v {
        Value::String(s) => first_disallowed(s).map(|c| (if at.is_empty() { "body".into() } else { at.clone() }, c)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            let found = in_json(item, at);
            at.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let len = at.len();
            if !at.is_empty() {
                at.push('.');
            }
            at.push_str(&clean_name(k));
            let found = first_disallowed(k).map(|c| (at.clone(), c)).or_else(|| in_json(item, at));
            at.truncate(len);
            found
        }),
        _ => None,
    }
}

/// A field name as it can be shown back: without the characters that made it refused.
fn clean_name(name: &str) -> String {
    let cleaned: String = name.chars().filter(|&c| !app::text::is_disallowed(c, false)).take(100).collect();
    if cleaned.is_empty() { "(unnamed)".into() } else { cleaned }
}

fn refuse(path: &str, (field, c): (String, char)) -> Response {
    let message = format!("The field '{field}' contains {}, which text in Tutti may not hold.", describe(c));
    crate::refusal::refuse(path, StatusCode::UNPROCESSABLE_ENTITY, &message, AppError::Invalid(message.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_fields_are_named_by_their_path() {
        let v = json!({"title": "ok", "tracks": [{"name": "fine"}, {"name": "bad\u{0}"}]});
        assert_eq!(in_json(&v, &mut String::new()), Some(("tracks[1].name".into(), '\0')));
        assert_eq!(in_json(&json!({"a\u{202E}b": 1}), &mut String::new()), Some(("ab".into(), '\u{202E}')));
        assert_eq!(in_json(&json!("x\u{7}"), &mut String::new()), Some(("body".into(), '\u{7}')));
        assert_eq!(in_json(&json!({"description": "two\nlines\tand tabs"}), &mut String::new()), None);
    }

    #[test]
    fn form_fields_are_decoded_first() {
        assert_eq!(in_pairs(b"title=a%00b&x=1"), Some(("title".into(), '\0')));
        assert_eq!(in_pairs(b"name=%E2%80%AEgpj.exe"), Some(("name".into(), '\u{202E}')));
        assert_eq!(in_pairs(b"name=plain+text%0Awith+newline"), None);
    }
}
