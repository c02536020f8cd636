//! The HTTP API against real databases: the router called directly (`tower::ServiceExt::oneshot`,
//! no sockets) on both backends, and `huiyin serve` as a real process.
//!
//! - `commands`: commands run as the credential's person and role; each refusal's status; the
//!   403s driven from the domain's own command table; deputies and auditors.
//! - `access`: 401 for missing, forged, expired and revoked credentials; login, cookies, logout;
//!   slowed-down logins.
//! - `read`: the board (filters, as-of, the same JSON as the CLI), items, trails, stats.
//! - `ops`: health, metrics, the OpenAPI document against the router, the error shape of
//!   unknown routes, bad methods, bad bodies and oversized ones.
//! - `process`: `huiyin serve` started as a process, with `token issue`/`revoke` and
//!   `password set` on the command line.
//! - `slow`: slow clients on a real socket: a body that never ends (408), headers sent too
//!   slowly (disconnected).

mod access;
pub mod commands;
mod ops;
mod pages;
mod process;
mod proofs;
mod read;
mod slow;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::commands::Clock;
use aggregates::actor::Role;
use aggregates::rules::Rules;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use huiyin::auth::password::PasswordCost;
use huiyin::http::{app, AppState, HttpConfig};
use infra::store::{open_stores, Stores};
use jiff::Timestamp;
use libtest_mimic::Trial;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::support::Fresh;

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(commands::trials());
    trials.extend(access::trials());
    trials.extend(read::trials());
    trials.extend(pages::trials());
    trials.extend(ops::trials());
    trials.extend(proofs::trials());
    trials.extend(process::trials());
    trials.extend(slow::trials());
    trials
}

/// The moment the test clock starts at.
pub const START: &str = "2024-03-01T01:00:00Z";

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(Mutex<Timestamp>);

impl TestClock {
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock");
        *now = now.checked_add(by).expect("time in range");
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock")
    }
}

/// An answer: status, headers and the body as JSON (`Value::String` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub route_not_found: bool,
}

impl Answer {
    /// Asserts the status, and for errors the one JSON error shape with `code`.
    #[track_caller]
    pub fn expect(&self, status: StatusCode, code: Option<&str>) {
        assert_eq!(self.status, status, "{:#}", self.body);
        if let Some(code) = code {
            assert_error_shape(&self.body, &self.headers);
            assert_eq!(self.body["error"]["code"], code, "{:#}", self.body);
        }
    }
}

/// `{"error":{"code","message"}}` and nothing else, served as JSON.
#[track_caller]
pub fn assert_error_shape(body: &Value, headers: &HeaderMap) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}: {body}"
    );
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "{body}");
    let error = body["error"].as_object().expect("an error object");
    assert_eq!(error.len(), 2, "{body}");
    assert!(error["code"].is_string(), "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// A router over a fresh ledger, with a clock the test controls.
pub struct Api {
    pub router: Router,
    pub stores: Stores,
    pub clock: Arc<TestClock>,
    pub url: String,
}

impl Api {
    pub async fn new(db: &Fresh) -> Api {
        Api::with_config(db, HttpConfig::for_address(([127, 0, 0, 1], 8080).into())).await
    }

    pub async fn with_config(db: &Fresh, config: HttpConfig) -> Api {
        let stores = open_stores(&db.url).await.expect("open stores");
        let start: Timestamp = START.parse().expect("start");
        let clock = Arc::new(TestClock(Mutex::new(start)));
        let state = AppState::new(stores.clone(), Rules::default(), clock.clone(), config);
        Api {
            router: app(state),
            stores,
            clock,
            url: db.url.clone(),
        }
    }

    /// Sends a request as built.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router never fails");
        let route_not_found = response
            .extensions()
            .get::<huiyin::http::error::RouteNotFound>()
            .is_some();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            route_not_found,
        }
    }

    /// `GET path` with a bearer token, if given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(request(Method::GET, path, token, None)).await
    }

    /// `POST path` with a JSON body and a bearer token, if given.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.send(request(Method::POST, path, token, Some(body)))
            .await
    }

    /// `POST /api/commands`.
    pub async fn command(&self, token: &str, command: &Value) -> Answer {
        self.post("/api/commands", Some(token), command).await
    }

    /// A token for `person` in `role`, valid for a day from the test clock's now.
    pub async fn token(&self, person: &str, role: Role) -> String {
        huiyin::auth::issue_token(
            &*self.stores.credentials,
            person,
            role,
            self.clock.now(),
            Duration::from_secs(24 * 60 * 60),
        )
        .await
        .expect("issue token")
        .token
    }

    /// Sets a password (cheaply hashed: tests only).
    pub async fn password(&self, person: &str, roles: &[Role], password: &str) {
        huiyin::auth::set_password(
            &*self.stores.credentials,
            person,
            roles,
            password,
            PasswordCost::TESTING_ONLY,
            self.clock.now(),
        )
        .await
        .expect("set password");
    }
}

/// A request with a JSON body (if any) and a bearer token (if any).
pub fn request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).expect("request")
}

/// A request with a body of any content type, and a bearer token if given.
pub fn raw(
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Request<Body> {
    let mut request = request(method, path, token, None);
    *request.body_mut() = Body::from(body.to_owned());
    with_header(request, header::CONTENT_TYPE, content_type)
}

/// The same request as coming from `address`.
pub fn from_address(mut request: Request<Body>, address: &str) -> Request<Body> {
    let address: SocketAddr = address.parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(address));
    request
}

/// Adds a header.
pub fn with_header(
    mut request: Request<Body>,
    name: header::HeaderName,
    value: &str,
) -> Request<Body> {
    request
        .headers_mut()
        .insert(name, HeaderValue::from_str(value).expect("header value"));
    request
}

/// A command of DESIGN.md §4, without actor and role.
pub fn command(id: &str, kind: &str, at: &str, data: Value) -> Value {
    json!({"command_id": id, "type": kind, "at": at, "data": data})
}

/// Filing `item` for deputy `deputy`, on 2024-03-01.
pub fn file(item: &str, deputy: &str) -> Value {
    command(
        &format!("{item}-file"),
        "FileItem",
        "2024-03-01T09:00:00+08:00",
        json!({"item_id": item, "kind": "suggestion", "title": format!("关于{item}的建议"),
               "body": "正文", "deputies": [{"id": deputy, "name": format!("代表{deputy}"), "lead": true}]}),
    )
}

/// The people the tests act as, each with a token.
pub struct Cast {
    pub liaison: String,
    pub office: String,
    pub handler: String,
    pub leader: String,
    pub deputy: String,
    pub other_deputy: String,
    pub auditor: String,
    pub admin: String,
}

impl Cast {
    pub async fn of(api: &Api) -> Cast {
        Cast {
            liaison: api.token("liaison-01", Role::Liaison).await,
            office: api.token("office-01", Role::CourtOffice).await,
            handler: api.token("h-1", Role::Handler).await,
            leader: api.token("l-1", Role::Leader).await,
            deputy: api.token("d-1", Role::Deputy).await,
            other_deputy: api.token("d-2", Role::Deputy).await,
            auditor: api.token("audit-01", Role::Auditor).await,
            admin: api.token("admin-01", Role::Admin).await,
        }
    }
}

/// Files, triages and assigns `item` (to leader `l-1`) for `deputy` through the API, all
/// answered 200.
pub async fn assigned_item(api: &Api, cast: &Cast, item: &str, deputy: &str) {
    let steps = [
        (&cast.liaison, file(item, deputy)),
        (
            &cast.office,
            command(
                &format!("{item}-triage"),
                "TriageItem",
                "2024-03-04T09:00:00+08:00",
                json!({"item_id": item, "decision": "accept"}),
            ),
        ),
        (
            &cast.office,
            command(
                &format!("{item}-assign"),
                "AssignItem",
                "2024-03-05T09:00:00+08:00",
                json!({"item_id": item, "lead_unit": "执行局",
                       "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
            ),
        ),
    ];
    for (token, step) in steps {
        api.command(token, &step).await.expect(StatusCode::OK, None);
    }
}

/// Files, triages, assigns and answers `item` for `deputy` through the API, all answered 200.
pub async fn answered_item(api: &Api, cast: &Cast, item: &str, deputy: &str) {
    assigned_item(api, cast, item, deputy).await;
    let answer = command(
        &format!("{item}-answer"),
        "AnswerItem",
        "2024-05-20T09:00:00+08:00",
        json!({"item_id": item, "class": "A", "text": "已建立限时发放机制。"}),
    );
    api.command(&cast.leader, &answer)
        .await
        .expect(StatusCode::OK, None);
}
