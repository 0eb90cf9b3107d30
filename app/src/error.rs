//! The one error type of server functions and REST handlers: each variant maps to an HTTP status and
//! a message a person can act on.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("You need to sign in to do this.")]
    Unauthorized,
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("Something went wrong on the server. Please try again.")]
    Internal,
    #[error("Request failed: {0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::TooLarge(_) => 413,
            AppError::Unsupported(_) => 415,
            AppError::Internal => 500,
            AppError::ServerFn(ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_)) => 400,
            AppError::ServerFn(_) => 500,
        }
    }

    /// A stable machine-readable code for REST clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "too_large",
            AppError::Unsupported(_) => "unsupported_media_type",
            AppError::Internal => "internal",
            AppError::ServerFn(_) => "bad_request",
        }
    }
}

impl From<crate::domain::Invalid> for AppError {
    fn from(e: crate::domain::Invalid) -> Self {
        AppError::Invalid(e.0)
    }
}

/// How far any listing pages. Beyond it no person pages, and a database's offset (a signed 64-bit
/// integer) may not even hold the number.
pub const MAX_OFFSET: u64 = 100_000;

/// `offset` when a listing may start there, or `Invalid` saying how far it may.
pub fn page_offset(offset: u64) -> Result<u64, AppError> {
    if offset > MAX_OFFSET {
        return Err(AppError::Invalid(format!("The offset must be at most {MAX_OFFSET}; narrow the listing instead.")));
    }
    Ok(offset)
}

/// `text` trimmed, or `Invalid(message)` when it is longer than `max_chars` characters.
pub fn within(text: &str, max_chars: usize, message: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.chars().count() > max_chars {
        return Err(AppError::Invalid(message.into()));
    }
    Ok(text.to_string())
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    impl From<sea_orm::DbErr> for AppError {
        fn from(e: sea_orm::DbErr) -> Self {
            AppError::internal("a database call", e)
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(e: tower_sessions::session::Error) -> Self {
            AppError::internal("a session store call", e)
        }
    }

    impl AppError {
        pub fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        /// An unexpected failure while `doing` something: logged here, once, with its whole cause
        /// chain (inside the caller's span), and answered as `Internal` — the client learns
        /// nothing of the server's insides.
        pub fn internal(doing: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AppError {
            let e = e.into();
            tracing::error!(error = %chain(e.as_ref()), "{doing} failed");
            AppError::Internal
        }
    }

    /// An error and its sources, outermost first: "a: b: c".
    pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }

    /// REST responses: `{"error": code, "message": text}` with the variant's status.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
            (self.status_code(), axum::Json(body)).into_response()
        }
    }
}
