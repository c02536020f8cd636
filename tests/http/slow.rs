//! Slow clients against `huiyin::http::serve` on a real socket: a body that never finishes is
//! abandoned with 408 `timeout` in the error shape; a client that sends its request line and
//! headers too slowly (or nothing at all) is disconnected within a bound, while a prompt client is
//! served.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregates::actor::Role;
use aggregates::rules::Rules;
use commands::SystemClock;
use huiyin::http::{serve, AppState, HttpConfig};
use infra::store::{open_stores, Stores};
use jiff::Timestamp;
use libtest_mimic::Trial;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::assert_error_shape;
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = on_both(
        "http",
        "request_whose_body_never_finishes_is_answered_408_timeout_on_a_socket",
        request_whose_body_never_finishes_is_answered_408_timeout_on_a_socket,
    );
    trials.extend(on_both(
        "http",
        "client_sending_its_headers_too_slowly_is_disconnected_within_a_bound",
        client_sending_its_headers_too_slowly_is_disconnected_within_a_bound,
    ));
    trials
}

/// A bound on waits that should end much sooner; reaching it fails the test instead of hanging.
const WAIT_BOUND: Duration = Duration::from_secs(20);

/// `huiyin::http::serve` on a loopback port, in this process.
struct Server {
    address: SocketAddr,
    stores: Stores,
    stop: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    async fn start(db: &Fresh, adjust: impl FnOnce(&mut HttpConfig)) -> Server {
        let stores = open_stores(&db.url).await.expect("open stores");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let mut config = HttpConfig::for_address(address);
        adjust(&mut config);
        let state = AppState::new(
            stores.clone(),
            Rules::default(),
            Arc::new(SystemClock),
            config,
        );
        let (stop, stopped) = oneshot::channel();
        let served = tokio::spawn(serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Server {
            address,
            stores,
            stop: Some(stop),
            served: Some(served),
        }
    }

    async fn token(&self, person: &str, role: Role) -> String {
        huiyin::auth::issue_token(
            &*self.stores.credentials,
            person,
            role,
            Timestamp::now(),
            Duration::from_secs(60 * 60),
        )
        .await
        .expect("issue token")
        .token
    }

    /// Stops the server and waits (bounded) for it to finish.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = self.served.take().expect("running");
        tokio::time::timeout(WAIT_BOUND, served)
            .await
            .expect("the server stops within the bound")
            .expect("the server task")
            .expect("the server ends well");
    }
}

/// A response read off the socket: status, headers (lower-cased names) and body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one response with a `Content-Length` (every response here has one).
async fn read_response(stream: &mut TcpStream) -> Response {
    let mut bytes = Vec::new();
    let mut buffer = [0_u8; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut buffer).await.expect("read the response");
        assert!(read > 0, "closed before a whole response: {bytes:?}");
        bytes.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status in {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .expect("a content-length");
    while bytes.len() < head_end + length {
        let read = stream.read(&mut buffer).await.expect("read the body");
        assert!(read > 0, "closed inside the body");
        bytes.extend_from_slice(&buffer[..read]);
    }
    Response {
        status,
        headers,
        body: bytes[head_end..head_end + length].to_vec(),
    }
}

async fn request_whose_body_never_finishes_is_answered_408_timeout_on_a_socket(db: Fresh) {
    const REQUEST_TIMEOUT: Duration = Duration::from_millis(400);
    let server = Server::start(&db, |config| config.request_timeout = REQUEST_TIMEOUT).await;
    let token = server.token("liaison-01", Role::Liaison).await;
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    // The headers promise 300 bytes of body; a third of them come, then nothing.
    let head = format!(
        "POST /api/commands HTTP/1.1\r\nHost: huiyin\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 300\r\n\r\n{{\"type\":\"FileItem\",\
         \"data\":{{\"item_id\":\"2024-S-T\",\"title\":\"关于"
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.expect("send");
    let response = tokio::time::timeout(WAIT_BOUND, read_response(&mut stream))
        .await
        .expect("answered within the bound");
    let waited = started.elapsed();
    assert_eq!(
        response.status,
        408,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(
        waited >= REQUEST_TIMEOUT,
        "answered after {waited:?}, before the timeout"
    );
    let body: Value = serde_json::from_slice(&response.body).expect("a JSON body");
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in &response.headers {
        headers.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            value.parse().expect("a header value"),
        );
    }
    assert_error_shape(&body, &headers);
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(
        server.stores.events.head().await.expect("head").tree_size,
        0,
        "nothing was recorded"
    );
    server.stop().await;
}

/// Whether the server closed the connection: a read gives end of file or a reset.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buffer = [0_u8; 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return true,
            // Whatever it says before closing (nothing, or an error status) is not a page.
            Ok(read) => assert!(
                !buffer[..read].starts_with(b"HTTP/1.1 2"),
                "served a slow client: {:?}",
                String::from_utf8_lossy(&buffer[..read])
            ),
        }
    }
}

async fn client_sending_its_headers_too_slowly_is_disconnected_within_a_bound(db: Fresh) {
    const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(500);
    /// Twice the timeout and some slack for a loaded machine.
    const CLOSED_WITHIN: Duration = Duration::from_secs(5);
    let server = Server::start(&db, |config| {
        config.header_read_timeout = HEADER_READ_TIMEOUT;
    })
    .await;

    // Half a request line, then nothing.
    let mut half = TcpStream::connect(server.address).await.expect("connect");
    let started = Instant::now();
    half.write_all(b"GET /healthz HT").await.expect("send");
    let was_closed = tokio::time::timeout(WAIT_BOUND, closed(&mut half))
        .await
        .expect("the half request's connection is closed within the bound");
    assert!(was_closed);
    let waited = started.elapsed();
    assert!(
        waited >= HEADER_READ_TIMEOUT && waited < CLOSED_WITHIN,
        "closed after {waited:?}"
    );

    // A connection on which nothing is sent at all.
    let mut silent = TcpStream::connect(server.address).await.expect("connect");
    let started = Instant::now();
    let was_closed = tokio::time::timeout(WAIT_BOUND, closed(&mut silent))
        .await
        .expect("the silent connection is closed within the bound");
    assert!(was_closed);
    let waited = started.elapsed();
    assert!(waited < CLOSED_WITHIN, "closed after {waited:?}");

    // Headers dribbled a byte every 50 ms (a request that would take 10 s to send): the
    // connection is closed long before they are done.
    let mut dribbling = TcpStream::connect(server.address).await.expect("connect");
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: huiyin\r\nX-Padding: {}\r\n\r\n",
        "x".repeat(160)
    );
    let started = Instant::now();
    let mut sent = 0;
    let mut buffer = [0_u8; 1024];
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    let disconnected = loop {
        assert!(
            started.elapsed() < WAIT_BOUND,
            "still connected after {sent} bytes"
        );
        tokio::select! {
            read = dribbling.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break true,
                Ok(read) => assert!(!buffer[..read].starts_with(b"HTTP/1.1 2"), "served a slow client"),
            },
            _ = ticks.tick() => {
                if sent == request.len() {
                    break false;
                }
                if dribbling.write_all(&request.as_bytes()[sent..=sent]).await.is_err() {
                    break true;
                }
                sent += 1;
            }
        }
    };
    let waited = started.elapsed();
    assert!(
        disconnected,
        "the whole request was sent over {waited:?} and the connection stayed open"
    );
    assert!(
        waited < CLOSED_WITHIN,
        "closed only after {waited:?} ({sent} bytes)"
    );
    assert!(sent < request.len(), "closed after the whole request");

    // A prompt client on the same server is served.
    let mut prompt = TcpStream::connect(server.address).await.expect("connect");
    prompt
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: huiyin\r\n\r\n")
        .await
        .expect("send");
    let response = tokio::time::timeout(WAIT_BOUND, read_response(&mut prompt))
        .await
        .expect("answered within the bound");
    assert_eq!(response.status, 200);
    server.stop().await;
}
