//! The API's own extractors: each rejects with [`ApiError`], so a bad request gets the one JSON
//! error shape rather than axum's plain text.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::{Form, Json};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::AppState;
use crate::auth::{self, AuthError, Principal};
use infra::credentials::SecretDigest;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "huiyin_session";

/// A JSON body; rejections become [`ApiError`] (400 syntax, 415 content type, 422 shape, 413).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string; rejections become 400 `invalid`. A name or value whose percent-encoded bytes
/// are not UTF-8 is refused too, where form decoding would put U+FFFD in their place and answer
/// about something else than was asked (a board filtered by a leader no one is).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some(piece) = query_piece_not_utf8(query) {
            return Err(ApiError::Malformed(format!(
                "the query's {piece:?} is not UTF-8 once percent-decoded"
            )));
        }
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// The first name or value of `query` whose percent-decoded bytes are not UTF-8.
pub(crate) fn query_piece_not_utf8(query: &str) -> Option<&str> {
    query
        .split('&')
        .flat_map(|pair| pair.split('='))
        .find(|piece| {
            percent_encoding::percent_decode_str(piece)
                .decode_utf8()
                .is_err()
        })
}

/// Path parameters; rejections become 400 `invalid`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A body sent either as JSON or as an HTML form (`application/x-www-form-urlencoded`).
#[derive(Debug)]
pub struct JsonOrForm<T>(pub T);

impl<S, T> FromRequest<S> for JsonOrForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.as_bytes().to_ascii_lowercase())
            .unwrap_or_default();
        if content_type.starts_with(b"application/x-www-form-urlencoded") {
            let Form(value) = Form::<T>::from_request(request, state).await?;
            return Ok(JsonOrForm(value));
        }
        if content_type.starts_with(b"application/json") {
            let Json(value) = Json::<T>::from_request(request, state).await?;
            return Ok(JsonOrForm(value));
        }
        Err(ApiError::UnsupportedMediaType(
            "send Content-Type: application/json or application/x-www-form-urlencoded".to_owned(),
        ))
    }
}

/// The client's address, when the server knows it (it does when it was started by
/// [`super::serve`]; a test calling the router directly may insert a `ConnectInfo`).
///
/// The address is the TCP peer's: behind a reverse proxy that is the proxy, so per-address
/// throttling then counts the proxy as one client. `X-Forwarded-For` is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddress(address))
    }
}

/// The value of the session cookie, if the request carries one.
pub fn session_cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, for the whole site, ending with
/// the session; `Secure` unless the server listens on loopback only.
pub fn session_cookie(value: &str, max_age_seconds: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Strict{secure}"
    );
    // The value is hex and the rest is ASCII, so this cannot fail; an empty cookie is the
    // harmless fallback.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn cleared_session_cookie(secure: bool) -> HeaderValue {
    session_cookie("", 0, secure)
}

fn bearer_token(value: &HeaderValue) -> Result<&str, AuthError> {
    let text = value.to_str().map_err(|_| AuthError::Unknown)?;
    let (scheme, token) = text.split_once(' ').ok_or(AuthError::Unknown)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Unknown);
    }
    Ok(token.trim())
}

/// Who is asking: from `Authorization: Bearer <token>` if present, else the session cookie.
/// A request with neither, or with a credential that is forged, expired or revoked, is refused
/// with 401 before its body is read.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let now = state.clock.now();
        let credentials = &*state.stores.credentials;
        let principal = if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            auth::token_principal(credentials, bearer_token(value)?, now).await?
        } else if let Some(value) = session_cookie_value(&parts.headers) {
            auth::session_principal(credentials, value, now).await?
        } else {
            return Err(AuthError::Missing.into());
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// Who is asking, for a read whose own statement re-checks a bearer token (a live board page):
/// a token a lookup found valid before is taken from [`AppState::tokens`] without a lookup, with
/// its digest in `confirm_token` for the read to confirm it is still stored and unrevoked. Any
/// other credential is resolved as [`Principal`] is (and a token so looked up is cached).
#[derive(Debug, Clone)]
pub struct PageCaller {
    /// Whom the credential stands for.
    pub principal: Principal,
    /// The digest of a cached token the read must confirm; `None` when it was looked up now.
    pub confirm_token: Option<SecretDigest>,
}

impl PageCaller {
    /// The principal, confirmed now by a lookup if it came from the cache: for a read that has
    /// no statement of its own to confirm it by.
    ///
    /// # Errors
    /// 401 when the token was revoked or is gone.
    pub async fn confirmed(self, state: &AppState) -> Result<Principal, ApiError> {
        match self.confirm_token {
            None => Ok(self.principal),
            Some(digest) => token_looked_up_again(state, &digest).await,
        }
    }
}

/// Looks a cached token up again after a read found it revoked or gone (or before a read that
/// cannot confirm it): forgets it, and answers what a lookup says (the 401 that names why).
///
/// # Errors
/// 401 when the token was revoked or is gone; 503/500 when the table cannot be read.
pub async fn token_looked_up_again(
    state: &AppState,
    digest: &SecretDigest,
) -> Result<Principal, ApiError> {
    state.tokens.forget(digest);
    let (principal, expires_at) =
        auth::token_digest_lookup(&*state.stores.credentials, digest, state.clock.now()).await?;
    state.tokens.put(*digest, principal.clone(), expires_at);
    Ok(principal)
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = bearer_token(value)?;
            let digest = auth::token_digest(token)?;
            let now = state.clock.now();
            if let Some(principal) = state.tokens.get(&digest, now) {
                return Ok(PageCaller {
                    principal,
                    confirm_token: Some(digest),
                });
            }
            let (principal, expires_at) =
                auth::token_digest_lookup(&*state.stores.credentials, &digest, now).await?;
            state.tokens.put(digest, principal.clone(), expires_at);
            return Ok(PageCaller {
                principal,
                confirm_token: None,
            });
        }
        Ok(PageCaller {
            principal: Principal::from_request_parts(parts, state).await?,
            confirm_token: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_piece_is_refused_when_it_decodes_to_no_utf8() {
        assert_eq!(query_piece_not_utf8(""), None);
        assert_eq!(query_piece_not_utf8("leader=%E9%99%88&limit=5"), None);
        assert_eq!(query_piece_not_utf8("leader=陈立新&x"), None);
        assert_eq!(query_piece_not_utf8("status=%C0%AF"), Some("%C0%AF"));
        assert_eq!(query_piece_not_utf8("a=1&%FF=2"), Some("%FF"));
        assert_eq!(query_piece_not_utf8("leader=%ED%A0%80"), Some("%ED%A0%80"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("lang=zh; theme=dark"),
        );
        assert_eq!(session_cookie_value(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; huiyin_session=abc123 ; b=2"),
        );
        assert_eq!(session_cookie_value(&headers), Some("abc123"));
    }

    #[test]
    fn session_cookies_are_http_only_and_strict() {
        let cookie = session_cookie("ff00", 60, true);
        let text = cookie.to_str().expect("ascii");
        assert_eq!(
            text,
            "huiyin_session=ff00; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        let local = session_cookie("ff00", 60, false);
        assert!(!local.to_str().expect("ascii").contains("Secure"));
    }

    #[test]
    fn only_bearer_authorization_is_read() {
        let token = HeaderValue::from_static("Bearer hy_abc");
        assert_eq!(bearer_token(&token).ok(), Some("hy_abc"));
        assert!(bearer_token(&HeaderValue::from_static("Basic abc")).is_err());
        assert!(bearer_token(&HeaderValue::from_static("hy_abc")).is_err());
    }
}
