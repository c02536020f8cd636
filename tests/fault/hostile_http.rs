//! Hostile HTTP over a real socket against the real `huiyin serve` (issue 8, point 3): bytes no
//! HTTP library would send — broken request lines, header blocks too large or too many, bodies
//! whose framing lies (a Content-Length longer or shorter than the body, two lengths, chunks
//! over the limit, both Content-Length and Transfer-Encoding: the request smuggling shape),
//! invalid UTF-8 in the path and query. Each is answered with a clean 4xx (or, where HTTP says
//! so, a closed connection), a request smuggled behind another is never run, the server keeps
//! serving other clients throughout, its log holds no panic, and the ledger's log is unchanged.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use libtest_mimic::Trial;
use serde_json::{json, Value};

use super::client;
use super::serve::{log_tail, ServeProcess};
use super::workload::Tokens;
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    on_both(
        "fault",
        "hostile_http_over_a_socket_gets_a_clean_4xx_or_a_close_and_the_server_keeps_serving",
        hostile_http_over_a_socket_gets_a_clean_4xx_or_a_close_and_the_server_keeps_serving,
    )
}

/// A bound on one raw exchange: the server answers every case at once, so reaching it means the
/// server is waiting for bytes it should not wait for.
const RAW_BOUND: Duration = Duration::from_secs(20);

/// What the client saw on one connection: the status line of each answer, in order, the answers'
/// bytes, and whether the connection ended in a reset rather than a close.
#[derive(Debug)]
struct Seen {
    statuses: Vec<u16>,
    text: String,
    reset: bool,
}

impl Seen {
    /// The stable code of the first answer's JSON body, if it has one.
    fn code(&self) -> Option<String> {
        let body = self.text.split_once("\r\n\r\n")?.1;
        let end = body.find("HTTP/1.").unwrap_or(body.len());
        let json: Value = serde_json::from_str(body[..end].trim()).ok()?;
        json["error"]["code"].as_str().map(str::to_owned)
    }
}

/// Sends `bytes` on a fresh connection, shuts the writing half when `then_close`, and reads
/// until the server closes (or resets) the connection. Writing may fail once the server has
/// answered and closed (a header block it will not read to the end); what it answered is still
/// read.
fn raw(address: &str, bytes: &[u8], then_close: bool) -> Seen {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(RAW_BOUND))
        .and_then(|()| stream.set_write_timeout(Some(RAW_BOUND)))
        .expect("socket timeouts");
    match stream.write_all(bytes) {
        Ok(()) => {}
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ) => {}
        Err(error) => panic!("send: {error}"),
    }
    if then_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut answer = Vec::new();
    let mut reset = false;
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {
                reset = true;
                break;
            }
            Err(error) => panic!(
                "the server neither answered nor closed within {RAW_BOUND:?} ({error}); got {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let statuses = text
        .match_indices("HTTP/1.1 ")
        .filter(|(at, _)| *at == 0 || text[..*at].ends_with('\n'))
        .filter_map(|(at, _)| text.get(at + 9..at + 12)?.parse().ok())
        .collect();
    Seen {
        statuses,
        text,
        reset,
    }
}

/// What a case must get.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Exactly one answer with this status (the server's own, bodiless answer to a request it
    /// cannot parse), then the connection closed.
    Bare(u16),
    /// Exactly one answer with this status and this stable code in the JSON error body, then the
    /// connection closed.
    Coded(u16, &'static str),
    /// Exactly one answer: an HTML error page with this status and `data-code`.
    Page(u16, &'static str),
    /// The client hung up in the middle of its body: an answer with this status and code, or none
    /// (the server may close the connection at once, as HTTP lets it).
    OrClosed(u16, &'static str),
}

struct Case {
    what: &'static str,
    bytes: Vec<u8>,
    then_close: bool,
    want: Want,
}

fn case(what: &'static str, bytes: impl Into<Vec<u8>>, want: Want) -> Case {
    Case {
        what,
        bytes: bytes.into(),
        then_close: false,
        want,
    }
}

/// A filing a liaison officer may make: if any case ran it, the log would grow.
fn filing(item: &str) -> String {
    json!({"command_id": format!("smuggled-{item}"), "type": "FileItem",
           "at": "2024-03-01T09:00:00+08:00",
           "data": {"item_id": item, "kind": "suggestion", "title": "走私的请求", "body": "",
                    "deputies": [{"id": "d-1", "name": "王芳", "lead": true}]}})
    .to_string()
}

/// A whole `POST /api/commands` of `body` with `Content-Length`, on a connection kept open.
fn post(token: &str, body: &str) -> String {
    format!(
        "POST /api/commands HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// `body` as chunks of `size` bytes and the last chunk.
fn chunked(body: &str, size: usize) -> String {
    let mut text = String::new();
    for chunk in body.as_bytes().chunks(size) {
        text.push_str(&format!("{:x}\r\n", chunk.len()));
        text.push_str(std::str::from_utf8(chunk).expect("ASCII"));
        text.push_str("\r\n");
    }
    text.push_str("0\r\n\r\n");
    text
}

fn cases(liaison: &str, auditor: &str) -> Vec<Case> {
    let get = |target: &[u8], token: &str| {
        let mut bytes = b"GET ".to_vec();
        bytes.extend_from_slice(target);
        bytes.extend_from_slice(
            format!(" HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        bytes
    };
    let head = |extra: &str| {
        format!(
            "POST /api/commands HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {liaison}\r\n\
             Content-Type: application/json\r\n{extra}\r\n"
        )
    };
    let filed = filing("2024-R-1");
    let many_headers: String = (0..101).map(|n| format!("X-Header-{n}: {n}\r\n")).collect();
    let huge_header = format!("X-Padding: {}\r\n", "a".repeat(512 * 1024));
    let over_limit = json!({"type": "FileItem", "data": {"item_id": "2024-R-2",
                            "body": "x".repeat(70_000)}})
    .to_string();
    let smuggled = post(liaison, &filing("2024-R-3"));
    let mut tls_hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
    ];
    tls_hello.extend_from_slice(&[0x5a; 64]);
    let mut cases = vec![
        // The request line and the header block.
        case(
            "a request line of garbage",
            "GARBAGE\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "a request line without a version",
            "GET /healthz\r\n\r\n",
            Want::Bare(400),
        ),
        case("HTTP/9.9", "GET /healthz HTTP/9.9\r\n\r\n", Want::Bare(400)),
        case(
            "a request line with a word too many",
            "GET /healthz HTTP/1.1 x\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "a NUL in the method",
            "G\0T /healthz HTTP/1.1\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "a TLS ClientHello on the plain port",
            tls_hello,
            Want::Bare(400),
        ),
        case(
            "a header line without a colon",
            "GET /healthz HTTP/1.1\r\nHost h\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "a space before a header's colon",
            "GET /healthz HTTP/1.1\r\nHost : h\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "a folded header line",
            "GET /healthz HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "a NUL in a header value",
            "GET /healthz HTTP/1.1\r\nHost: h\0\r\n\r\n",
            Want::Bare(400),
        ),
        case(
            "101 headers",
            format!("GET /healthz HTTP/1.1\r\nHost: h\r\n{many_headers}\r\n"),
            Want::Bare(431),
        ),
        case(
            "a 512 KiB header block",
            format!("GET /healthz HTTP/1.1\r\nHost: h\r\n{huge_header}\r\n"),
            Want::Bare(431),
        ),
        case(
            "a 100 KiB request target",
            format!(
                "GET /healthz?{} HTTP/1.1\r\nHost: h\r\n\r\n",
                "q".repeat(100 * 1024)
            ),
            Want::Bare(414),
        ),
        // Bodies whose framing lies.
        case(
            "two different Content-Lengths",
            format!(
                "{}{filed}",
                head(&format!(
                    "Content-Length: {}\r\nContent-Length: 5\r\n",
                    filed.len()
                ))
            ),
            Want::Bare(400),
        ),
        case(
            "a Content-Length that is no number",
            format!("{}{filed}", head("Content-Length: 1e3\r\n")),
            Want::Bare(400),
        ),
        case(
            "a negative Content-Length",
            format!("{}{filed}", head("Content-Length: -1\r\n")),
            Want::Bare(400),
        ),
        case(
            "a Content-Length shorter than the body",
            format!(
                "{}{filed}",
                head("Connection: close\r\nContent-Length: 10\r\n")
            ),
            Want::Coded(400, "invalid"),
        ),
        Case {
            then_close: true,
            ..case(
                "a Content-Length longer than the body, then the client hangs up",
                format!("{}{}", head("Content-Length: 1000\r\n"), &filed[..40]),
                Want::OrClosed(400, "invalid"),
            )
        },
        case(
            "a chunked body over 64 KiB",
            format!(
                "{}{}",
                head("Connection: close\r\nTransfer-Encoding: chunked\r\n"),
                chunked(&over_limit, 8 * 1024)
            ),
            Want::Coded(413, "too_large"),
        ),
        Case {
            then_close: true,
            ..case(
                "a chunk size that is no number",
                format!(
                    "{}zz\r\n{filed}\r\n0\r\n\r\n",
                    head("Transfer-Encoding: chunked\r\n")
                ),
                Want::OrClosed(400, "invalid"),
            )
        },
        case(
            "Transfer-Encoding gzip",
            format!("{}{filed}", head("Transfer-Encoding: gzip\r\n")),
            Want::Bare(400),
        ),
        case(
            "Transfer-Encoding chunked, then identity",
            format!(
                "{}{filed}",
                head("Transfer-Encoding: chunked, identity\r\n")
            ),
            Want::Bare(400),
        ),
        case(
            "Transfer-Encoding on HTTP/1.0",
            format!(
                "{}{}",
                head("Transfer-Encoding: chunked\r\n").replacen("HTTP/1.1", "HTTP/1.0", 1),
                chunked(&filed, 64)
            ),
            Want::Bare(400),
        ),
        // Request smuggling: the framing two parsers could disagree on, a second command behind.
        case(
            "Content-Length and Transfer-Encoding, a command smuggled behind",
            format!(
                "{}0\r\n\r\n{smuggled}",
                head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")
            ),
            Want::Coded(400, "invalid"),
        ),
        case(
            "Transfer-Encoding and Content-Length, a command smuggled behind",
            format!(
                "{}0\r\n\r\n{smuggled}",
                head(&format!(
                    "Transfer-Encoding: chunked\r\nContent-Length: {}\r\n",
                    5 + smuggled.len()
                ))
            ),
            Want::Coded(400, "invalid"),
        ),
        case(
            "Transfer-Encoding with a space before its colon, a command smuggled behind",
            format!(
                "{}0\r\n\r\n{smuggled}",
                head("Content-Length: 5\r\nTransfer-Encoding : chunked\r\n")
            ),
            Want::Bare(400),
        ),
    ];
    // Invalid UTF-8 in the path and the query: raw bytes the URI grammar refuses, and
    // percent-encoded bytes that decode to no UTF-8.
    for (what, target, want) in [
        (
            "raw invalid UTF-8 in the path",
            &b"/api/items/\xff\xfe/trail"[..],
            Want::Bare(400),
        ),
        (
            "raw invalid UTF-8 in the query",
            b"/api/board?status=\xc0\xaf",
            Want::Bare(400),
        ),
        (
            "percent-encoded invalid UTF-8 in the path",
            b"/api/items/%FF%FE/trail",
            Want::Coded(400, "invalid"),
        ),
        (
            "percent-encoded invalid UTF-8 in the query",
            b"/api/board?status=%C0%AF",
            Want::Coded(400, "invalid"),
        ),
        (
            "a percent-encoded surrogate in the query",
            b"/api/board?leader=%ED%A0%80",
            Want::Coded(400, "invalid"),
        ),
    ] {
        cases.push(case(what, get(target, auditor), want));
    }
    // The pages refuse them the same way, as a page (before asking who is logged in).
    for target in [
        &b"/?leader=%FF"[..],
        b"/figures?year=%C0%AF",
        b"/login?next=%ED%A0%80",
    ] {
        cases.push(case(
            "percent-encoded invalid UTF-8 in a page's query",
            get(target, auditor),
            Want::Page(400, "invalid"),
        ));
    }
    cases
}

async fn hostile_http_over_a_socket_gets_a_clean_4xx_or_a_close_and_the_server_keeps_serving(
    db: Fresh,
) {
    let tokens = Tokens::issue(&db);
    let logs = tempfile::tempdir().expect("log folder");
    let log = logs.path().join("serve.log");
    let server = ServeProcess::start(&db.url, &[], &log);
    let address = server.address.clone();
    let before = crate::hostile::log_state(&*db.store).await;
    // A client that sent half a request and went quiet holds its connection the whole time.
    let mut quiet = TcpStream::connect(&address).expect("connect");
    quiet
        .write_all(b"POST /api/commands HTTP/1.1\r\nHost: h\r\nContent-Le")
        .expect("half a request");
    let cases = cases(tokens.of("liaison"), tokens.of("auditor"));
    let mut wrong = Vec::new();
    for case in &cases {
        let seen = raw(&address, &case.bytes, case.then_close);
        let right = match case.want {
            Want::Bare(status) => seen.statuses == [status],
            Want::Coded(status, code) => {
                seen.statuses == [status] && seen.code().as_deref() == Some(code)
            }
            Want::Page(status, code) => {
                seen.statuses == [status]
                    && seen.text.contains("content-type: text/html")
                    && seen.text.contains(&format!(r#"data-code="{code}""#))
            }
            Want::OrClosed(status, code) => {
                seen.statuses.is_empty()
                    || (seen.statuses == [status] && seen.code().as_deref() == Some(code))
            }
        };
        if !right {
            let shown: String = seen.text.chars().take(400).collect();
            wrong.push(format!(
                "{}: want {:?}, got {:?} (reset: {}) {shown:?}",
                case.what, case.want, seen.statuses, seen.reset
            ));
        }
        // Every other client is still served, the quiet one's connection open beside them.
        let health = client::exchange(&address, "GET", "/healthz", None, "");
        assert!(
            matches!(health, Ok((200, _))),
            "after {}: /healthz answered {health:?}\n{}",
            case.what,
            log_tail(&log)
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The quiet client is still connected and nothing it sent was run; the ledger is as it was.
    drop(quiet);
    let (status, board) = client::exchange(
        &address,
        "GET",
        "/api/board",
        Some(tokens.of("auditor")),
        "",
    )
    .expect("the board");
    assert_eq!(status, 200, "{board}");
    assert_eq!(board["items"], json!([]), "no smuggled filing: {board}");
    assert_eq!(crate::hostile::log_state(&*db.store).await, before);
    assert!(server.terminate(), "huiyin serve exits cleanly on SIGTERM");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "{text}");
    eprintln!(
        "hostile::{}::raw_http: {} inputs tried",
        format!("{:?}", db.store.backend()).to_lowercase(),
        cases.len()
    );
}
