//! The REST API's extractors: [`ApiJson`], [`ApiPath`] and [`ApiQuery`], whose rejections answer
//! in the one JSON shape of [`AppError`] (`{"error": code, "message": text}`) with words a client
//! can act on, never the server's type names.
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use app::error::AppError;

/// Why a request was refused before its handler ran, as JSON: an [`AppError`], or one of the
/// refusals it has no variant for (400 for a request that cannot be read, 405, 412, 416).
#[derive(Debug)]
pub(crate) enum ApiRejection {
    App(AppError),
    Other { status: StatusCode, code: &'static str, message: String },
}

impl ApiRejection {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiRejection::Other { status, code, message: message.into() }
    }

    /// 400: the request cannot be read (malformed JSON, an id that is not one, a bad query string).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<AppError> for ApiRejection {
    fn from(e: AppError) -> Self {
        ApiRejection::App(e)
    }
}

impl IntoResponse for ApiRejection {
    fn into_response(self) -> Response {
        match self {
            ApiRejection::App(e) => e.into_response(),
            ApiRejection::Other { status, code, message } => {
                (status, Json(serde_json::json!({ "error": code, "message": message }))).into_response()
            }
        }
    }
}

/// A JSON request body, like [`axum::Json`], refused as JSON: 415 without
/// `Content-Type: application/json`, 400 when it does not parse, 422 when it has the wrong shape,
/// 413 when it is larger than the route takes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiRejection {
    match rejection {
        JsonRejection::JsonDataError(e) => AppError::Invalid(format!(
            "The JSON body does not have the expected shape: {}",
            without_type_names(&cause(&e))
        ))
        .into(),
        JsonRejection::JsonSyntaxError(e) => {
            ApiRejection::bad_request(format!("Failed to parse the request body as JSON: {}", cause(&e)))
        }
        JsonRejection::MissingJsonContentType(_) => {
            AppError::Unsupported("Send the body as JSON, with the header Content-Type: application/json.".into())
                .into()
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::TooLarge("The request body is larger than this address accepts.".into()).into()
        }
        other => ApiRejection::bad_request(format!("The request body could not be read: {}", other.body_text())),
    }
}

/// The words of the error under a rejection (serde's, with the line and column), without axum's
/// preamble.
fn cause(rejection: &(dyn std::error::Error + 'static)) -> String {
    rejection.source().unwrap_or(rejection).to_string()
}

/// Parameters of the address (`/audio/{id}`), like [`axum::extract::Path`], refused as JSON: a value
/// that does not parse (an id that is not a UUID) is a 400 that quotes it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiRejection {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        // The route and the handler disagree on the parameters: the server's mistake.
        return AppError::internal("reading the parameters of the address", rejection.body_text()).into();
    };
    let message = match e.kind() {
        ErrorKind::DeserializeError { key, value, message } => {
            format!("`{value}` in the address is not a valid {key}: {message}")
        }
        ErrorKind::ParseErrorAtKey { key, value, .. } => format!("`{value}` in the address is not a valid {key}."),
        ErrorKind::ParseError { value, .. } | ErrorKind::ParseErrorAtIndex { value, .. } => {
            format!("`{value}` in the address is not valid there.")
        }
        ErrorKind::InvalidUtf8InPathParam { key } => format!("The {key} in the address is not UTF-8."),
        ErrorKind::Message(message) => format!("The address is not valid: {message}"),
        _ => return AppError::internal("reading the parameters of the address", e.body_text()).into(),
    };
    ApiRejection::bad_request(message)
}

/// A query string (`?scope=all`), like [`axum::extract::Query`], refused as a JSON 400.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiRejection {
    let detail = match &rejection {
        QueryRejection::FailedToDeserializeQueryString(e) => without_type_names(&cause(e)),
        other => other.body_text(),
    };
    ApiRejection::bad_request(format!("The query string is not valid: {detail}"))
}

/// serde names the Rust type it expected ("expected struct NewComposition with 10 elements",
/// "expected enum Answer"); a client knows it as a JSON object, or as one of the allowed values.
fn without_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, word, says)) = [("struct ", "a JSON object"), ("enum ", "one of the allowed values")]
        .into_iter()
        .filter_map(|(word, says)| rest.find(word).map(|at| (at, word, says)))
        .min_by_key(|(at, ..)| *at)
    {
        out.push_str(&rest[..at]);
        let after = &rest[at + word.len()..];
        let name_len = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        if name_len == 0 {
            // The word itself, not a type's name.
            out.push_str(word);
            rest = after;
            continue;
        }
        out.push_str(says);
        rest = &after[name_len..];
        // "… with 10 elements" counts the type's fields, which means nothing to the client.
        if let Some(tail) = rest.strip_prefix(" with ")
            && let Some(end) = tail.find(" elements")
            && tail[..end].chars().all(|c| c.is_ascii_digit())
        {
            rest = &tail[end + " elements".len()..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::without_type_names;

    #[test]
    fn serde_type_names_become_json_words() {
        assert_eq!(
            without_type_names("invalid type: integer `1`, expected struct Submission at line 1 column 1"),
            "invalid type: integer `1`, expected a JSON object at line 1 column 1"
        );
        assert_eq!(
            without_type_names("invalid length 2, expected struct NewComposition with 10 elements"),
            "invalid length 2, expected a JSON object"
        );
        assert_eq!(
            without_type_names("answers.piano: invalid type: integer `3`, expected enum Answer at line 1 column 9"),
            "answers.piano: invalid type: integer `3`, expected one of the allowed values at line 1 column 9"
        );
        assert_eq!(without_type_names("missing field `client_id`"), "missing field `client_id`");
        assert_eq!(without_type_names("a struct  here"), "a struct  here");
    }
}
