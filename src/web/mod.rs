//! The web pages (DESIGN.md §6, issue 6): server-rendered HTML with maud, which escapes every
//! value it writes unless told otherwise (nothing here tells it otherwise). Every core flow is a
//! plain form posted and redirected (POST → 303 → GET); no page needs JavaScript.
//!
//! - [`page_routes`]: the pages' own route table, served by the same router and layers as the
//!   API (`crate::http::app`) but kept out of the API's table and its OpenAPI document.
//! - [`PageContext`]: who is asking (the session cookie only), in which language, and the CSRF
//!   token their forms carry.
//! - [`i18n`]: every word of the UI, in Chinese and English.
//! - Pages: `pages` (login, board, downloads), `item` (an item and its forms, the form handler),
//!   `figures` (with `svg` charts), `audit`.
//!
//! Pages authenticate with the session cookie only: a bearer token is for programs, and a page
//! asked for without a session redirects to `/login?next=…`.

pub mod i18n;

mod audit;
mod csrf;
mod figures;
mod forms;
mod item;
mod layout;
mod pages;
mod svg;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use self::i18n::{Lang, LANG_COOKIE};
use crate::auth::{self, AuthError, Principal};
use crate::http::extract::{query_piece_not_utf8, session_cookie_value};
use crate::http::AppState;

pub use self::csrf::csrf_token;

/// Every page: method, path, handler. Kept apart from the API's table
/// (`crate::http::served_routes`), which the OpenAPI document must equal.
pub fn page_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/", get(pages::board)),
        (Method::GET, "/login", get(pages::login)),
        (Method::GET, "/board.csv", get(pages::board_csv)),
        (Method::GET, "/board.xlsx", get(pages::board_xlsx)),
        (Method::GET, "/items/new", get(item::new_item)),
        (Method::GET, "/items/{id}", get(item::item_page)),
        (Method::POST, "/forms", post(item::post_form)),
        (Method::GET, "/figures", get(figures::figures_page)),
        (Method::GET, "/figures.csv", get(figures::figures_csv)),
        (Method::GET, "/figures.xlsx", get(figures::figures_xlsx)),
        (Method::GET, "/audit", get(audit::audit_page)),
    ]
}

/// The method and path of every page.
pub fn served_pages() -> Vec<(Method, &'static str)> {
    page_routes()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

/// Who is asking a page, in which language, from where.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// The language the page is shown in.
    pub lang: Lang,
    /// True when `?lang=` chose it on this request: the answer then sets the cookie.
    pub lang_chosen: bool,
    /// The session's person and role, when logged in.
    pub principal: Option<Principal>,
    /// The CSRF token of the session, when logged in.
    pub csrf: Option<String>,
    /// The path and query asked for (where to come back to after logging in).
    pub path_and_query: String,
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// What a path segment may hold as it is: RFC 3986's unreserved characters. Everything else,
/// `/` included, is percent-encoded, so an item id such as `../../etc/passwd` stays one segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The path of an item's page. Ids may hold `/` and `.`, so the id is percent-encoded as one
/// segment (the domain refuses the ids `.` and `..`, which no encoding keeps from being read as
/// dot-segments).
pub(crate) fn item_path(item_id: &str) -> String {
    format!("/items/{}", utf8_percent_encode(item_id, PATH_SEGMENT))
}

/// The query string's pairs; an unreadable query is read as empty.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .and_then(|query| serde_urlencoded::from_str(query).ok())
        .unwrap_or_default()
}

/// The language a request asks its page in: `?lang=`, else the language cookie, else Chinese.
fn asked_lang(uri: &Uri, headers: &HeaderMap) -> (Lang, bool) {
    let asked = query_pairs(uri.query())
        .iter()
        .find(|(key, _)| key == "lang")
        .and_then(|(_, value)| Lang::parse(value));
    let lang = asked
        .or_else(|| cookie_value(headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default();
    (lang, asked.is_some())
}

/// Answers the bare errors met under the pages' routes (the body limit's 413 for a form too
/// large, a form the extractor cannot read, a method the page does not take) as an error page in
/// the request's language, as every other page error is, instead of the API's JSON. Errors
/// already answered as a page, and redirects, pass as they are.
pub(crate) async fn bare_errors_as_pages(request: Request, next: Next) -> Response {
    let (lang, _) = asked_lang(request.uri(), request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if !status.is_client_error() || is_html {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        _ => "invalid",
    };
    let (parts, _) = response.into_parts();
    let mut page = (status, layout::error_page(lang, status, code, None)).into_response();
    // Keep what the answer said besides its body (`Allow` on a 405).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !page.headers().contains_key(name)
        {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    page
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let (lang, lang_chosen) = asked_lang(&parts.uri, &parts.headers);
        // As the API's queries: bytes that are no UTF-8 would filter by U+FFFD, not by what was
        // asked.
        if let Some(piece) = query_piece_not_utf8(parts.uri.query().unwrap_or_default()) {
            return Err(PageError::invalid(
                lang,
                format!("the query's {piece:?} is not UTF-8 once percent-decoded"),
            ));
        }
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |value| value.as_str().to_owned());
        let mut context = PageContext {
            lang,
            lang_chosen,
            principal: None,
            csrf: None,
            path_and_query,
        };
        let Some(cookie) = session_cookie_value(&parts.headers) else {
            return Ok(context);
        };
        let credentials = &*state.stores.credentials;
        match auth::session_principal(credentials, cookie, state.clock.now()).await {
            Ok(principal) => {
                context.csrf = Some(csrf_token(cookie));
                context.principal = Some(principal);
                Ok(context)
            }
            Err(
                AuthError::Missing
                | AuthError::Unknown
                | AuthError::Expired(_)
                | AuthError::Revoked(_)
                | AuthError::WrongPassword
                | AuthError::RoleNotGranted { .. }
                | AuthError::Throttled(_)
                | AuthError::Invalid(_),
            ) => Ok(context),
            Err(error @ (AuthError::Corrupt(_) | AuthError::Store(_) | AuthError::Hashing(_))) => {
                Err(PageError::failed(lang, error))
            }
        }
    }
}

impl PageContext {
    /// The logged-in principal, or a redirect to the login page that comes back here.
    ///
    /// # Errors
    /// [`PageError::LoginNeeded`] when no session is open.
    pub fn require(&self) -> Result<&Principal, PageError> {
        self.principal
            .as_ref()
            .ok_or_else(|| PageError::LoginNeeded {
                next: self.path_and_query.clone(),
            })
    }

    /// The `Set-Cookie` that remembers a language chosen on this request.
    fn lang_cookie(&self) -> Option<HeaderValue> {
        if !self.lang_chosen {
            return None;
        }
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            self.lang.code()
        );
        HeaderValue::from_str(&cookie).ok()
    }

    /// A page answer with `status`, setting the language cookie when asked.
    pub fn respond(&self, status: StatusCode, markup: maud::Markup) -> Response {
        let mut response = (status, markup).into_response();
        if let Some(cookie) = self.lang_cookie() {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// Why a page cannot be shown. Every variant is answered in HTML (not the API's JSON), in the
/// request's language.
#[derive(Debug)]
pub enum PageError {
    /// No session: 303 to `/login?next=…`.
    LoginNeeded {
        /// Where to come back to.
        next: String,
    },
    /// A page or item that is not there, or one the person may not see, or a bad request.
    /// `status` is 400, 403 or 404; `code` the stable code (`invalid`, `forbidden`,
    /// `not_found`, `csrf`).
    Refused {
        /// The language to answer in.
        lang: Lang,
        /// The status.
        status: StatusCode,
        /// The stable code.
        code: &'static str,
        /// The detail (shown, escaped).
        detail: String,
    },
    /// The ledger's database cannot be reached: 503 `unavailable` (try again; nothing was half
    /// done), detail logged, not shown.
    Unavailable {
        /// The language to answer in.
        lang: Lang,
        /// What failed (for the log).
        detail: String,
    },
    /// A failure of the server: 500, detail logged, not shown.
    Internal {
        /// The language to answer in.
        lang: Lang,
        /// What failed (for the log).
        detail: String,
    },
}

impl PageError {
    /// A server failure; `error` is logged, not shown.
    pub fn internal(lang: Lang, error: impl std::fmt::Display) -> Self {
        PageError::Internal {
            lang,
            detail: error.to_string(),
        }
    }

    /// A failure met reading or writing the ledger: 503 when its database cannot be reached,
    /// otherwise 500 (the API's one sorting of store failures, `ApiError: From<StoreError>`).
    pub fn failed(lang: Lang, error: impl Into<crate::http::ApiError>) -> Self {
        PageError::of_api(lang, error.into())
    }

    /// 404 `not_found`.
    pub fn not_found(lang: Lang, detail: impl Into<String>) -> Self {
        PageError::Refused {
            lang,
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            detail: detail.into(),
        }
    }

    /// 403 `forbidden`.
    pub fn forbidden(lang: Lang, detail: impl Into<String>) -> Self {
        PageError::Refused {
            lang,
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            detail: detail.into(),
        }
    }

    /// 400 `invalid`.
    pub fn invalid(lang: Lang, detail: impl Into<String>) -> Self {
        PageError::Refused {
            lang,
            status: StatusCode::BAD_REQUEST,
            code: "invalid",
            detail: detail.into(),
        }
    }

    /// Maps an API error met while building a page (a read, a visibility check).
    pub fn of_api(lang: Lang, error: crate::http::ApiError) -> Self {
        let (status, code) = error.status_and_code();
        if let crate::http::ApiError::Unavailable(detail) = error {
            return PageError::Unavailable { lang, detail };
        }
        if status.is_server_error() {
            return PageError::internal(lang, error);
        }
        let code = match code {
            "forbidden" => "forbidden",
            "not_found" => "not_found",
            _ => "invalid",
        };
        PageError::Refused {
            lang,
            status,
            code,
            detail: error.to_string(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::LoginNeeded { next } => {
                let query =
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                let location = HeaderValue::from_str(&format!("/login?{query}"))
                    .unwrap_or_else(|_| HeaderValue::from_static("/login"));
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
            }
            PageError::Refused {
                lang,
                status,
                code,
                detail,
            } => (
                status,
                layout::error_page(lang, status, code, Some(&detail)),
            )
                .into_response(),
            PageError::Unavailable { lang, detail } => {
                tracing::warn!(%detail, "page unavailable: the database cannot be reached");
                let status = StatusCode::SERVICE_UNAVAILABLE;
                (
                    status,
                    layout::error_page(lang, status, "unavailable", None),
                )
                    .into_response()
            }
            PageError::Internal { lang, detail } => {
                tracing::error!(%detail, "page failed");
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                (status, layout::error_page(lang, status, "internal", None)).into_response()
            }
        }
    }
}
