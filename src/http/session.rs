//! Logging in with a password (a session cookie) and out.

use aggregates::actor::Role;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{
    cleared_session_cookie, session_cookie, session_cookie_value, ClientAddress, JsonOrForm,
};
use super::AppState;
use crate::auth::{self, LoginAttempt};

/// A login, as JSON or as an HTML form.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The person's id.
    pub person_id: String,
    /// The password.
    pub password: String,
    /// The role to act in; may be left out (or empty) when the password allows exactly one.
    pub role: Option<String>,
    /// Where to go next: a path on this server. When given, the answer is 303 See Other to it
    /// (for HTML forms); otherwise 200 with JSON.
    pub next: Option<String>,
}

/// Who is now logged in, and until when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoginResult {
    /// The person.
    pub person_id: String,
    /// The role the session carries.
    pub role: String,
    /// When the session ends (RFC 3339).
    pub expires_at: String,
}

/// A `next` that stays on this server: a path, not `//host` or a URL.
fn local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

fn role_asked(role: Option<&str>) -> Result<Option<Role>, ApiError> {
    match role.map(str::trim).filter(|role| !role.is_empty()) {
        None => Ok(None),
        Some(role) => role
            .parse()
            .map(Some)
            .map_err(|error: aggregates::actor::ParseRoleError| {
                ApiError::Invalid(format!("role: {error}"))
            }),
    }
}

fn login_outcome(error: &ApiError) -> &'static str {
    error.status_and_code().1
}

/// Logs in with a password and sets the session cookie (HttpOnly, SameSite=Strict, Secure unless
/// on loopback; its value is 256 random bits, of which only the SHA-256 is stored). Failed
/// logins are counted per account and per client address; past a few, the next attempt must
/// wait, twice as long each time, up to 15 minutes (429 with Retry-After).
#[utoipa::path(post, path = "/login", tag = "session",
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = LoginResult,
            headers(("set-cookie" = String, description = "huiyin_session=…; HttpOnly; SameSite=Strict"))),
        (status = 303, description = "A form with `next`: logged in (the session cookie is set) and sent to `next`; or refused and sent back to `/login?error=CODE&next=…`"),
        (status = 400, description = "`invalid`: the body cannot be read", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: wrong person id or password", body = ErrorBody),
        (status = 403, description = "`forbidden`: the password does not allow that role", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 415, description = "`invalid`: neither JSON nor a form", body = ErrorBody),
        (status = 422, description = "`invalid`: a missing or unknown field, or no role where several are allowed", body = ErrorBody),
        (status = 429, description = "`throttled`: too many failed logins; see Retry-After", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    JsonOrForm(request): JsonOrForm<LoginRequest>,
) -> Result<Response, ApiError> {
    // A browser's form (with `next`) that fails is sent back to the login page, which says why;
    // a program's request gets the JSON error.
    let form_next = request
        .next
        .clone()
        .filter(|next| is_form(&headers) && local_path(next));
    let person_id = request.person_id.clone();
    let answer = login_and_open(&state, address, request).await;
    state.metrics.login(match &answer {
        Ok(_) => "ok",
        Err(error) => login_outcome(error),
    });
    match (answer, form_next) {
        (Err(error), Some(next)) if error.status_and_code().0.is_client_error() => {
            Ok(back_to_login_page(login_outcome(&error), &next, &person_id))
        }
        (answer, _) => answer,
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|value| {
        value
            .as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    })
}

/// 303 to the login page, which shows why the login failed (`error` is the stable code).
fn back_to_login_page(code: &str, next: &str, person_id: &str) -> Response {
    let query =
        serde_urlencoded::to_string([("error", code), ("next", next), ("person_id", person_id)])
            .unwrap_or_default();
    let location = HeaderValue::from_str(&format!("/login?{query}"))
        .unwrap_or_else(|_| HeaderValue::from_static("/login"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

async fn login_and_open(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    request: LoginRequest,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let credentials = &*state.stores.credentials;
    let attempt = LoginAttempt {
        role: role_asked(request.role.as_deref())?,
        person_id: request.person_id,
        password: request.password,
        address,
    };
    let principal = auth::login(credentials, &state.throttle, attempt, now).await?;
    let ttl = state.config.session_ttl;
    let opened = auth::open_session(credentials, &principal, now, ttl).await?;
    let cookie = session_cookie(
        &opened.cookie_value,
        ttl.as_secs(),
        state.config.cookie_secure,
    );
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(next) = request.next.filter(|next| local_path(next)) {
        let location = HeaderValue::from_str(&next)
            .map_err(|_| ApiError::Invalid("next: not a usable path".to_owned()))?;
        let headers = [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, location),
            no_store,
        ];
        return Ok((StatusCode::SEE_OTHER, headers).into_response());
    }
    let body = LoginResult {
        person_id: principal.person_id,
        role: principal.role.as_str().to_owned(),
        expires_at: opened.expires_at.to_string(),
    };
    Ok(([(header::SET_COOKIE, cookie), no_store], Json(body)).into_response())
}

/// That the session has ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogoutResult {
    /// Always true: after this call the request's session (if any) no longer works.
    pub ok: bool,
}

/// Ends the session the cookie names, and clears the cookie. Without a session it does nothing
/// and still answers 200; a browser's form is sent on to the login page (303).
#[utoipa::path(post, path = "/logout", tag = "session",
    responses(
        (status = 200, description = "Logged out; the cookie is cleared", body = LogoutResult),
        (status = 303, description = "Logged out from an HTML form; sent to `/login`"),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(value) = session_cookie_value(&headers) {
        auth::close_session(&*state.stores.credentials, value).await?;
    }
    let cookie = cleared_session_cookie(state.config.cookie_secure);
    if is_form(&headers) {
        let headers = [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, HeaderValue::from_static("/login")),
        ];
        return Ok((StatusCode::SEE_OTHER, headers).into_response());
    }
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LogoutResult { ok: true }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_server() {
        assert!(local_path("/board"));
        assert!(local_path("/items/2026-S-001?lang=en"));
        assert!(!local_path("//evil.example/"));
        assert!(!local_path("https://evil.example/"));
        assert!(!local_path("/\\evil.example"));
        assert!(!local_path("board"));
    }
}
