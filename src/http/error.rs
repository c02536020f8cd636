//! One error type for the whole API, one JSON shape for every error response, and one `match`
//! from errors to statuses.
//!
//! Every error leaves as `{"error":{"code","message"}}`: the ledger's refusals, axum's own
//! rejections (through the extractors in [`super::extract`]), unknown routes, and the bare
//! responses of the tower layers (413 from the body limit, 408 from the timeout, 405 from
//! routing), which [`json_errors`] rewrites.

use std::sync::Arc;
use std::time::Duration;

use aggregates::error::ErrorCode;
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use commands::CommandError;
use infra::store::StoreError;
use projections::runner::RunnerError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::reading::ReadError;

/// `{"error":{"code","message"}}`: the body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: the ledger's (`invalid`, `unknown_command`, `not_found`, `wrong_state`,
    /// `forbidden`, `conflict`, `duplicate`) or the API's (`unauthenticated`,
    /// `method_not_allowed`, `too_large`, `throttled`, `timeout`, `unavailable`, `internal`,
    /// and a board page's `invalid_cursor` and `invalid_limit`).
    pub code: String,
    /// What went wrong, in words; for 5xx only a pointer to the server's log.
    pub message: String,
}

/// Marks the response of the fallback: no route matched the request's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteNotFound;

/// The hidden detail of a 5xx, carried to [`json_errors`] to be logged inside the request's span.
#[derive(Debug, Clone)]
struct HiddenDetail(Arc<str>);

/// A refusal's Chinese message, carried to [`json_errors`], which sends it instead of the English
/// one when the request prefers Chinese (`Accept-Language: zh…`).
#[derive(Debug, Clone)]
struct ChineseMessage {
    code: &'static str,
    message: String,
}

/// Everything a request can fail with. Each variant's status and code is decided once, in
/// `IntoResponse` below.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The ledger refused the command; nothing was appended. Status by its code: `invalid` and
    /// `unknown_command` 422, `forbidden` 403, `not_found` 404, `wrong_state`, `conflict` and
    /// `duplicate` 409.
    #[error("{message}")]
    Refused {
        /// The ledger's stable code.
        code: ErrorCode,
        /// The ledger's message, in English.
        message: String,
        /// The same, in Chinese; sent instead when the request prefers Chinese.
        message_zh: String,
    },
    /// The request cannot be read at all: malformed JSON or form, an unreadable query string or
    /// moment. 400 `invalid`.
    #[error("{0}")]
    Malformed(String),
    /// A board page's `after` cursor is garbled, edited or of another board. 400
    /// `invalid_cursor`.
    #[error("{0}")]
    InvalidCursor(String),
    /// A board page's `limit` is not a number from 1 to the maximum. 400 `invalid_limit`.
    #[error("{0}")]
    InvalidLimit(String),
    /// The request reads but does not fit: a missing, unknown or mistyped field. 422 `invalid`.
    #[error("{0}")]
    Invalid(String),
    /// The body is not of a content type the route reads. 415 `invalid`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No credential, or one that is forged, expired or revoked; or a failed login.
    /// 401 `unauthenticated`, with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthenticated(String),
    /// The credential's role or person may not do or see this. 403 `forbidden`.
    #[error("{0}")]
    Forbidden(String),
    /// No such item. 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// No route has this path. 404 `not_found`.
    #[error("no route {method} {path}; GET /api/openapi.json lists them")]
    RouteNotFound {
        /// The method asked for.
        method: Method,
        /// The path asked for.
        path: String,
    },
    /// The route exists but not with this method. 405 `method_not_allowed`.
    #[error("this route does not take that method; GET /api/openapi.json lists them")]
    MethodNotAllowed,
    /// The body is larger than [`super::REQUEST_BODY_BYTES_MAX`]. 413 `too_large`.
    #[error(
        "the request body is larger than {} bytes",
        super::REQUEST_BODY_BYTES_MAX
    )]
    TooLarge,
    /// Too many failed logins. 429 `throttled`, with `Retry-After`.
    #[error("too many failed logins; try again in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    /// The request took longer than the server allows. 408 `timeout`.
    #[error("the request took too long and was abandoned")]
    Timeout,
    /// The ledger's database cannot be reached. 503 `unavailable`; details logged, not sent.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A failure that is not the client's. 500 `internal`; details logged, not sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// The status and the stable code. No `_` arm: a new variant or code must be decided here.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Refused { code, .. } => match code {
                ErrorCode::Invalid | ErrorCode::UnknownCommand => {
                    (StatusCode::UNPROCESSABLE_ENTITY, code.as_str())
                }
                ErrorCode::Forbidden => (StatusCode::FORBIDDEN, code.as_str()),
                ErrorCode::NotFound => (StatusCode::NOT_FOUND, code.as_str()),
                ErrorCode::WrongState | ErrorCode::Conflict | ErrorCode::Duplicate => {
                    (StatusCode::CONFLICT, code.as_str())
                }
            },
            ApiError::Malformed(_) => (StatusCode::BAD_REQUEST, "invalid"),
            ApiError::InvalidCursor(_) => (StatusCode::BAD_REQUEST, "invalid_cursor"),
            ApiError::InvalidLimit(_) => (StatusCode::BAD_REQUEST, "invalid_limit"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) | ApiError::RouteNotFound { .. } => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The error a layer meant by answering a bare `status`, for [`json_errors`].
    fn of_bare_status(status: StatusCode) -> ApiError {
        let reason = status.canonical_reason().unwrap_or("error").to_owned();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else if status == StatusCode::REQUEST_TIMEOUT {
            ApiError::Timeout
        } else if status == StatusCode::METHOD_NOT_ALLOWED {
            ApiError::MethodNotAllowed
        } else if status == StatusCode::NOT_FOUND {
            ApiError::NotFound(reason)
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            ApiError::UnsupportedMediaType(reason)
        } else if status.is_client_error() {
            ApiError::Malformed(reason)
        } else {
            ApiError::Internal(format!("a layer answered {status} without a body"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            "the server failed; the x-request-id header names this request in its log".to_owned()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Unauthenticated(_) = &self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"huiyin\""),
            );
        }
        if let ApiError::Throttled(wait) = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        if let ApiError::RouteNotFound { .. } = &self {
            response.extensions_mut().insert(RouteNotFound);
        }
        if let ApiError::Refused { message_zh, .. } = &self {
            response.extensions_mut().insert(ChineseMessage {
                code,
                message: message_zh.clone(),
            });
        }
        if status.is_server_error() {
            response
                .extensions_mut()
                .insert(HiddenDetail(self.to_string().into()));
        }
        response
    }
}

/// True when the request's `Accept-Language` ranks a Chinese tag (`zh`, `zh-CN`, …) first.
fn prefers_chinese(request: &Request) -> bool {
    let Some(header) = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut best: Option<(f32, bool)> = None;
    for range in header.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .find_map(|part| part.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let chinese = tag == "zh" || tag.starts_with("zh-");
        if best.is_none_or(|(best_weight, _)| weight > best_weight) {
            best = Some((weight, chinese));
        }
    }
    best.is_some_and(|(weight, chinese)| chinese && weight > 0.0)
}

/// A refusal's response again, with its Chinese message.
fn in_chinese(response: Response, chinese: ChineseMessage) -> Response {
    let (mut parts, _) = response.into_parts();
    let body = ErrorBody {
        error: ErrorDetail {
            code: chinese.code.to_owned(),
            message: chinese.message,
        },
    };
    let rewritten = Json(body).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("zh"));
    Response::from_parts(parts, rewritten.into_body())
}

/// Makes every error response the JSON shape, and logs the hidden detail of every 5xx. Runs
/// inside the trace span, so the log line carries the request id. A refusal is sent in Chinese
/// when the request prefers it.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let chinese = prefers_chinese(&request);
    let mut response = next.run(request).await;
    if let Some(HiddenDetail(detail)) = response.extensions().get::<HiddenDetail>() {
        tracing::error!(status = %response.status(), %detail, "request failed");
    }
    if let Some(message) = response.extensions_mut().remove::<ChineseMessage>() {
        return if chinese {
            in_chinese(response, message)
        } else {
            response
        };
    }
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    // The web pages answer their errors as HTML pages of their own; those stay as they are.
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if !is_error || is_json || is_html {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut rewritten = ApiError::of_bare_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !rewritten.headers().contains_key(name)
        {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    if let Some(HiddenDetail(detail)) = rewritten.extensions().get::<HiddenDetail>() {
        tracing::error!(%status, %detail, "request failed");
    }
    rewritten
}

/// The fallback: no route matched.
pub(crate) async fn route_not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::RouteNotFound {
        method,
        path: uri.path().to_owned(),
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Refused {
                code,
                message,
                message_zh,
            } => ApiError::Refused {
                code,
                message,
                message_zh,
            },
            CommandError::Store(error) => ApiError::from(error),
            unreadable @ CommandError::Unreadable { .. } => {
                ApiError::Internal(unreadable.to_string())
            }
        }
    }
}

/// A database that cannot be reached is 503 `unavailable` (try again: nothing is half done);
/// any other store failure is 500 `internal`.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            ApiError::Unavailable(error.to_string())
        } else {
            ApiError::Internal(error.to_string())
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Store(error) | ReadError::Runner(RunnerError::Store(error)) => {
                ApiError::from(error)
            }
            ReadError::TokenGone => ApiError::Unauthenticated(error.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Missing
            | AuthError::Unknown
            | AuthError::Expired(_)
            | AuthError::Revoked(_)
            | AuthError::WrongPassword => ApiError::Unauthenticated(error.to_string()),
            AuthError::RoleNotGranted { .. } => ApiError::Forbidden(error.to_string()),
            AuthError::Throttled(wait) => ApiError::Throttled(wait),
            AuthError::Invalid(message) => ApiError::Invalid(message),
            AuthError::Store(error) => ApiError::from(error),
            AuthError::Corrupt(_) | AuthError::Hashing(_) => ApiError::Internal(error.to_string()),
        }
    }
}

/// An axum rejection, by the status axum gives it: 413 too large, 415 wrong content type,
/// 422 a JSON body of the wrong shape, anything else a malformed request.
fn of_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        ApiError::UnsupportedMediaType(text)
    } else if status == StatusCode::UNPROCESSABLE_ENTITY {
        ApiError::Invalid(text)
    } else {
        ApiError::Malformed(text)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        of_rejection(rejection.status(), rejection.body_text())
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        // axum answers a form of the wrong shape with 422 like JSON, but a form body that cannot be
        // deserialised at all with 400; both keep axum's status here.
        of_rejection(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::Malformed(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::Malformed(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ledger_code_has_its_documented_status() {
        let expected = [
            (ErrorCode::Invalid, StatusCode::UNPROCESSABLE_ENTITY),
            (ErrorCode::UnknownCommand, StatusCode::UNPROCESSABLE_ENTITY),
            (ErrorCode::Forbidden, StatusCode::FORBIDDEN),
            (ErrorCode::NotFound, StatusCode::NOT_FOUND),
            (ErrorCode::WrongState, StatusCode::CONFLICT),
            (ErrorCode::Conflict, StatusCode::CONFLICT),
            (ErrorCode::Duplicate, StatusCode::CONFLICT),
        ];
        for (code, status) in expected {
            let error = ApiError::Refused {
                code,
                message: "refused".to_owned(),
                message_zh: "拒绝".to_owned(),
            };
            assert_eq!(error.status_and_code(), (status, code.as_str()));
        }
    }

    #[test]
    fn chinese_is_preferred_only_when_ranked_first() {
        let asks = |value: &str| {
            let request = Request::builder()
                .header(header::ACCEPT_LANGUAGE, value)
                .body(axum::body::Body::empty())
                .expect("request");
            prefers_chinese(&request)
        };
        assert!(asks("zh-CN,zh;q=0.9,en;q=0.8"));
        assert!(asks("zh"));
        assert!(asks("en;q=0.5, zh-Hans"));
        assert!(!asks("en-US,en;q=0.9,zh;q=0.8"));
        assert!(!asks("zh;q=0"));
        assert!(!asks("zhx"));
        let none = Request::builder()
            .body(axum::body::Body::empty())
            .expect("request");
        assert!(!prefers_chinese(&none));
    }

    #[test]
    fn server_errors_hide_their_detail() {
        let response =
            ApiError::Internal("password=hunter2 in the database URL".to_owned()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let detail = response
            .extensions()
            .get::<HiddenDetail>()
            .expect("kept for the log");
        assert!(detail.0.contains("hunter2"));
    }

    #[test]
    fn bare_layer_statuses_become_api_errors() {
        let cases = [
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ),
            (
                StatusCode::REQUEST_TIMEOUT,
                (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ),
            (
                StatusCode::METHOD_NOT_ALLOWED,
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ),
            (StatusCode::NOT_FOUND, (StatusCode::NOT_FOUND, "not_found")),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid"),
            ),
            (
                StatusCode::IM_A_TEAPOT,
                (StatusCode::BAD_REQUEST, "invalid"),
            ),
            (
                StatusCode::BAD_GATEWAY,
                (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ),
        ];
        for (bare, expected) in cases {
            assert_eq!(ApiError::of_bare_status(bare).status_and_code(), expected);
        }
    }
}
