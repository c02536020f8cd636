//! A client's view of the ledger: one HTTP/1.1 exchange at a time over a fresh connection, and
//! what it was told, sorted the way a history needs it: acknowledged (200 with positions),
//! refused (a 4xx with a code), or unknown (a 5xx, a broken connection or a timeout: the
//! command may or may not have been recorded).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// How long a client waits for an answer before it counts the command as unknown. Longer than
/// the server's own request timeout (30 s), so a server that answers at all is heard.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(40);

/// How long a client waits for a connection to be accepted.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What one attempt at a command was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Told {
    /// 200: recorded (or a replay of a recorded command) at these positions.
    Acknowledged { positions: Vec<u64>, replayed: bool },
    /// A 4xx with the ledger's stable code: nothing was recorded by this attempt.
    Refused { status: u16, code: String },
    /// A 5xx: the server says it could not do it; it may still have been recorded (a commit
    /// whose answer was lost), so it is unknown.
    ServerError { status: u16, code: String },
    /// No answer: connection refused or broken, or a timeout.
    NoAnswer(String),
}

impl Told {
    /// True when the attempt settles the command (acknowledged or refused).
    pub fn is_definite(&self) -> bool {
        matches!(self, Told::Acknowledged { .. } | Told::Refused { .. })
    }
}

/// One exchange: the status and the body as JSON (`Value::String` when it is not JSON), or why
/// there was no answer.
pub fn exchange(
    address: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> Result<(u16, Value), String> {
    let authorization = bearer.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|value| ("Authorization", value))
        .into_iter()
        .collect();
    exchange_with(address, method, path, &headers, body)
}

/// As [`exchange`], with any extra request headers (e.g. a `Cookie`).
pub fn exchange_with(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, Value), String> {
    let socket: SocketAddr = address.parse().map_err(|error| format!("{error}"))?;
    let mut stream = TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT)
        .map_err(|error| format!("connect: {error}"))?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(ANSWER_TIMEOUT)))
        .map_err(|error| format!("socket: {error}"))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|error| format!("send: {error}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|error| format!("read: {error}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("a truncated answer: {answer:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    Ok((status, body))
}

/// Posts one command and sorts the answer.
pub fn post_command(address: &str, token: &str, command: &Value) -> Told {
    let body = command.to_string();
    match exchange(address, "POST", "/api/commands", Some(token), &body) {
        Err(reason) => Told::NoAnswer(reason),
        Ok((200, body)) => {
            let positions = body["positions"]
                .as_array()
                .map(|positions| positions.iter().filter_map(Value::as_u64).collect());
            match positions {
                Some(positions) => Told::Acknowledged {
                    positions,
                    replayed: body["replayed"] == Value::Bool(true),
                },
                None => Told::ServerError {
                    status: 200,
                    code: format!("a 200 without positions: {body}"),
                },
            }
        }
        Ok((status, body)) => {
            let code = body["error"]["code"]
                .as_str()
                .map_or_else(|| body.to_string(), str::to_owned);
            // 408: the server abandoned the request, perhaps after its commit: unknown.
            if (400..500).contains(&status) && status != 408 {
                Told::Refused { status, code }
            } else {
                Told::ServerError { status, code }
            }
        }
    }
}
