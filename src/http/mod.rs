//! The HTTP API (DESIGN.md §6): [`app`] builds the router from an [`AppState`]; [`serve`] runs it
//! on a listener with the projection runners beside it until told to stop.
//!
//! - Every route is in one table ([`served_routes`]); the OpenAPI document
//!   ([`openapi::ApiDoc`]) must list exactly those, which a test checks.
//! - Every error is an [`ApiError`] and leaves as `{"error":{"code","message"}}`.
//! - Who is asking is a [`crate::auth::Principal`], extracted from a bearer token or the session
//!   cookie; commands run as its person, in its role, never as what the body says.

pub mod api;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod proofs;
pub mod session;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aggregates::rules::Rules;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use commands::{Clock, Ledger, Writer, WriterConfig};
use infra::store::Stores;
use jiff::tz::TimeZone;
use projections::board::BoardProjection;
use projections::figures::FiguresProjection;
use projections::Projection;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use self::error::ApiError;
use self::metrics::Metrics;
use crate::auth::throttle::LoginThrottle;

/// An API request body larger than this is refused with 413 before a handler reads it.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;

/// A form posted from a web page may be this large: a browser percent-encodes each byte of
/// Chinese text as three, so one text field at its limit (20,000 characters) takes ~180 KiB.
pub const FORM_BODY_BYTES_MAX: usize = 256 * 1024;

/// A request still unanswered after this long is abandoned with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client must send a request's line and headers within this long (on a kept-alive connection,
/// the wait for the next request counts too), or its connection is closed. The request timeout
/// starts only once the headers are in, so without this bound a client sending half a request
/// line would hold a connection (and its task) forever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);

// A request that waits for a database that is away must fail as 503 `unavailable` (the pool gave
// up) before the request timeout abandons it as 408.
const _: () = assert!(infra::store::POSTGRES_ACQUIRE_TIMEOUT.as_secs() < REQUEST_TIMEOUT.as_secs());

/// At most this many requests are worked on at once, across all routes; more wait their turn
/// (within their timeout).
pub const CONCURRENT_REQUESTS_MAX: usize = 64;

/// A session lasts this long from its login (a working day and a half), then it must log in
/// again.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// A projection runner that failed is started again after this long.
const RUNNER_RESTART_WAIT: Duration = Duration::from_secs(5);

/// Expired sessions are swept from the table this often.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// How the server behaves towards browsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Whether the session cookie is marked `Secure` (sent over HTTPS only).
    pub cookie_secure: bool,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// How long a request may take, once its headers are in.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's line and headers.
    pub header_read_timeout: Duration,
}

impl HttpConfig {
    /// The settings for a server listening on `address`: the cookie is `Secure` unless the
    /// address is loopback (where there is no TLS and no one else to read the cookie).
    pub fn for_address(address: SocketAddr) -> Self {
        HttpConfig {
            cookie_secure: !address.ip().is_loopback(),
            session_ttl: SESSION_TTL,
            request_timeout: REQUEST_TIMEOUT,
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// Everything a request handler needs. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct AppState {
    /// The log, the projection tables and the credentials.
    pub stores: Stores,
    /// The write side.
    pub ledger: Ledger,
    /// The process's group-commit writer over `ledger`: `POST /api/commands` and the forms run
    /// through it, so concurrent clients share transactions.
    pub writer: Writer,
    /// "Now", for sessions, tokens, throttling and default judging moments; tests fix it.
    pub clock: Arc<dyn Clock>,
    /// The ledger's time zone: local dates, due-soon and overdue are judged in it.
    pub time_zone: TimeZone,
    /// Failed logins.
    pub throttle: Arc<LoginThrottle>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Browser-facing settings.
    pub config: Arc<HttpConfig>,
    /// The board's counts of recent selections at the current checkpoint.
    pub board_counts: Arc<crate::reading::BoardCountsCache>,
    /// Bearer tokens found valid before, for reads that confirm them in their own statement.
    pub tokens: Arc<crate::auth::TokenCache>,
}

impl AppState {
    /// A state over `stores`, deciding commands by `rules` (from `huiyin.toml`), reading "now"
    /// from `clock`. Spawns the writer task, so it must run inside a tokio runtime.
    pub fn new(stores: Stores, rules: Rules, clock: Arc<dyn Clock>, config: HttpConfig) -> Self {
        let time_zone = rules.deadlines.time_zone.clone();
        let ledger = Ledger::new(Arc::clone(&stores.events), rules, Arc::clone(&clock));
        AppState {
            writer: Writer::spawn(ledger.clone(), WriterConfig::default()),
            ledger,
            stores,
            clock,
            time_zone,
            throttle: Arc::new(LoginThrottle::default()),
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            board_counts: Arc::default(),
            tokens: Arc::default(),
        }
    }
}

/// Every route: method, path, handler. The router is built from this table and nothing else, so
/// [`served_routes`] is what the router serves.
fn route_table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::POST, "/api/commands", post(api::post_command)),
        (Method::GET, "/api/board", get(api::board)),
        (Method::GET, "/api/items/{id}", get(api::item)),
        (Method::GET, "/api/items/{id}/trail", get(api::trail)),
        (Method::GET, "/api/stats", get(api::stats)),
        (Method::GET, "/api/checkpoint", get(proofs::checkpoint)),
        (Method::GET, "/api/proofs/inclusion", get(proofs::inclusion)),
        (
            Method::GET,
            "/api/proofs/consistency",
            get(proofs::consistency),
        ),
        (Method::GET, "/api/export", get(proofs::export)),
        (Method::POST, "/login", post(session::login)),
        (Method::POST, "/logout", post(session::logout)),
        (Method::GET, "/healthz", get(ops::healthz)),
        (Method::GET, "/metrics", get(ops::metrics)),
        (Method::GET, "/api/openapi.json", get(ops::openapi)),
    ]
}

/// The method and path pattern of every route [`app`] serves.
pub fn served_routes() -> Vec<(Method, &'static str)> {
    route_table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

/// The span of one request: its id, method and matched route (the pattern, not the raw path).
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(metrics::UNMATCHED_ROUTE, MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", request_id, method = %request.method(), route)
}

/// The API's router over `state`.
pub fn app(state: AppState) -> Router {
    // The API's routes and the web pages' are two tables (the OpenAPI document lists the
    // first), served by one router under the same layers, each with its own body limit
    // (innermost: refused by Content-Length at once, else while reading). The pages answer the
    // bare errors below them (a form too large) as error pages, not the API's JSON.
    let mut api = Router::new();
    for (_, path, handler) in route_table() {
        api = api.route(path, handler);
    }
    let mut pages = Router::new();
    for (_, path, handler) in crate::web::page_routes() {
        pages = pages.route(path, handler);
    }
    let router = api
        .layer(RequestBodyLimitLayer::new(REQUEST_BODY_BYTES_MAX))
        .merge(
            pages
                .layer(RequestBodyLimitLayer::new(FORM_BODY_BYTES_MAX))
                .layer(from_fn(crate::web::bare_errors_as_pages)),
        );
    // Each layer wraps the ones after it: a request passes them top to bottom, its response
    // bottom to top. `Router::layer` applies them per route (and to the fallback), which lets the
    // trace and the metrics see the matched route. The stack is applied in three calls because each
    // call turns what is under it back into plain axum responses, which `from_fn` and the
    // timeout need. The last call is the outermost.
    let outer = ServiceBuilder::new()
        // 1. Give every request an id (keeping one the client sent), first, so that everything
        //    after, the trace span included, sees it.
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // 2. One span per request carrying that id and the route; logs status and latency.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // 3. Echo the id on the response, errors included.
        .layer(PropagateRequestIdLayer::x_request_id())
        // 4. Count the request with its final status (after the rewrite below) and latency.
        .layer(from_fn_with_state(state.clone(), metrics::record))
        // 5. Turn every bare error response from the layers below (413, 408, 405) into the JSON
        //    error shape, and log the hidden detail of any 5xx inside the span.
        .layer(from_fn(error::json_errors));
    let inner = ServiceBuilder::new()
        // 6. Bound the whole request, including its wait for a concurrency permit.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        // 7. At most CONCURRENT_REQUESTS_MAX at once, one semaphore shared by every route.
        .layer(GlobalConcurrencyLimitLayer::new(CONCURRENT_REQUESTS_MAX));
    router
        .fallback(error::route_not_found)
        .layer(inner)
        .layer(outer)
        .with_state(state)
}

/// Keeps projection `P`'s table current until `stop` turns true, restarting the runner after a
/// failure.
async fn keep_current<P: Projection>(stores: Stores, mut stop: watch::Receiver<bool>) {
    loop {
        let mut stopped = stop.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        match projections::runner::run::<P>(&*stores.events, &*stores.views, shutdown).await {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(projection = P::NAME, %error, "projection runner failed; restarting")
            }
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(RUNNER_RESTART_WAIT) => {}
        }
    }
}

/// Forgets expired sessions every [`SESSION_SWEEP_EVERY`] until `stop` turns true.
async fn sweep_sessions(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let now = state.clock.now();
        if let Err(error) = state.stores.credentials.delete_sessions_expired(now).await {
            tracing::warn!(%error, "cannot sweep expired sessions");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(SESSION_SWEEP_EVERY) => {}
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, keeping the board and figures
/// tables current in the background (they wake on appends). On shutdown it stops taking
/// connections, lets requests in flight finish, then stops the runners.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let tasks = [
        tokio::spawn(keep_current::<BoardProjection>(
            state.stores.clone(),
            stopping.clone(),
        )),
        tokio::spawn(keep_current::<FiguresProjection>(
            state.stores.clone(),
            stopping.clone(),
        )),
        tokio::spawn(sweep_sessions(state.clone(), stopping)),
    ];
    let header_read_timeout = state.config.header_read_timeout;
    let served = serve_connections(listener, app(state), header_read_timeout, shutdown).await;
    let _ = stop.send(true);
    for task in tasks {
        if let Err(error) = task.await {
            tracing::error!(%error, "a background task ended badly");
        }
    }
    served
}

/// Wait after an accept error that is not one connection's (out of file descriptors, say)
/// before accepting again, rather than spinning on it.
const ACCEPT_ERROR_WAIT: Duration = Duration::from_secs(1);

/// The accept loop (what `axum::serve` does, plus hyper's header-read timeout, which needs a
/// timer that `axum::serve` does not give it): one task per connection, each request carrying
/// the peer's address as `ConnectInfo`. On `shutdown` it stops accepting, asks every connection to
/// finish its request in flight and close, and waits for them.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing, close) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, peer)) => {
                connections.spawn(serve_connection(
                    stream,
                    peer,
                    router.clone(),
                    header_read_timeout,
                    close.clone(),
                ));
            }
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                tracing::error!(%error, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_ERROR_WAIT).await;
            }
        }
    }
    drop(listener);
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// An accept error that concerns only the connection being accepted.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serves one HTTP/1 connection until the client closes it, it breaks, the client is too slow
/// sending a request's headers (`header_read_timeout`), or `close` turns true (then the request
/// in flight is finished first).
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    mut close: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        tower::ServiceExt::oneshot(router.clone(), request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let closing = async move {
        let _ = close.wait_for(|close| *close).await;
    };
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = closing => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = ended {
        tracing::debug!(%peer, %error, "connection ended badly");
    }
}
