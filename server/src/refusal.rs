//! A request refused before it reaches its handler is answered in the shape its caller reads:
//! REST clients get the JSON error, server functions the serialised [`AppError`] the page
//! decodes, and full-page navigations (sign-in, sign-out forms) a small status page.
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use app::error::AppError;

/// Refuse with `status` and `message`; `for_page` is the error a server function's caller sees.
pub fn refuse(path: &str, status: StatusCode, message: &str, for_page: AppError) -> Response {
    if path.starts_with("/api/v1/") || path == "/api/v1" {
        let code = match status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::BAD_REQUEST => "bad_request",
            _ => "invalid",
        };
        let body = serde_json::json!({ "error": code, "message": message });
        (status, axum::Json(body)).into_response()
    } else if path.starts_with("/api/") {
        (status, axum::Json(for_page)).into_response()
    } else {
        let title = status.canonical_reason().unwrap_or("Refused");
        (status, Html(crate::auth::status_page(status, title, message, "/", "Go to the start page"))).into_response()
    }
}
