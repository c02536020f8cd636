//! The web pages through the real router (no sockets), on both backends: each page for each
//! role that may see it, redirects when logged out, the forms a role is shown, form posts
//! (accepted, refused, forged), the language switch, escaping, the SVG charts and the downloads.
//!
//! - `pages`: login, board, figures, audit; who sees what; language; escaping; downloads.
//! - `forms`: the item page's forms per role and state; posting them; refusals; CSRF.

mod forms;
mod pages;

use aggregates::actor::Role;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use libtest_mimic::Trial;
use tower::ServiceExt;

use crate::http::Api;

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(pages::trials());
    trials.extend(forms::trials());
    trials
}

/// The password every test person gets.
pub const PASSWORD: &str = "correct horse battery";

/// A page as the browser gets it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Page {
    pub fn html(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "{}", self.html());
        self
    }

    /// Asserts an HTML page (not the API's JSON).
    #[track_caller]
    pub fn expect_html(&self, status: StatusCode) -> String {
        self.expect(status);
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        self.html()
    }
}

/// A person logged in through `POST /login`: their session cookie.
#[derive(Debug, Clone)]
pub struct Session {
    /// `huiyin_session=…`.
    pub cookie: String,
    /// The CSRF token the session's forms carry.
    pub csrf: String,
}

/// Gives `person` a password for `role` and logs in with it.
pub async fn log_in(api: &Api, person: &str, role: Role) -> Session {
    api.password(person, &[role], PASSWORD).await;
    let body = serde_urlencoded::to_string([
        ("person_id", person),
        ("password", PASSWORD),
        ("role", role.as_str()),
        ("next", "/"),
    ])
    .expect("form");
    let answer = send(api, form_request("/login", None, &body)).await;
    answer.expect(StatusCode::SEE_OTHER);
    let set = answer
        .headers
        .get(header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .expect("a session cookie");
    let cookie = set.split(';').next().expect("a pair").trim().to_owned();
    let value = cookie.trim_start_matches("huiyin_session=");
    Session {
        csrf: huiyin::web::csrf_token(value),
        cookie,
    }
}

/// Sends a request through the router.
pub async fn send(api: &Api, request: Request<Body>) -> Page {
    let response = api
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("the router never fails");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Page {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `GET path` with the session (if any) and extra cookies.
pub async fn get(api: &Api, path: &str, session: Option<&Session>) -> Page {
    let mut builder = Request::builder().method(Method::GET).uri(path);
    if let Some(session) = session {
        builder = builder.header(header::COOKIE, &session.cookie);
    }
    send(api, builder.body(Body::empty()).expect("request")).await
}

/// A form POST with the session's cookie (if any).
pub fn form_request(path: &str, session: Option<&Session>, body: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(session) = session {
        builder = builder.header(header::COOKIE, &session.cookie);
    }
    builder.body(Body::from(body.to_owned())).expect("request")
}
/// Posts the form of `command` with `fields` (and the session's CSRF token).
pub async fn post_form(
    api: &Api,
    session: &Session,
    command: &str,
    fields: &[(&str, &str)],
) -> Page {
    let mut pairs = vec![("command", command), ("csrf", session.csrf.as_str())];
    pairs.extend_from_slice(fields);
    let body = serde_urlencoded::to_string(&pairs).expect("form");
    send(api, form_request("/forms", Some(session), &body)).await
}

/// The number of records in the log.
pub async fn log_size(api: &Api) -> u64 {
    api.stores.events.head().await.expect("head").tree_size
}
