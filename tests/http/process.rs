//! `huiyin serve` as a real process on a real socket, with credentials made on the command line.
//! Every wait is on a condition (a line printed, a process exiting) with a bound; nothing sleeps
//! and hopes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::support::{huiyin, on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = on_both(
        "http",
        "serve_answers_on_a_socket_with_cli_credentials_and_stops_on_sigterm",
        serve_answers_on_a_socket_with_cli_credentials_and_stops_on_sigterm,
    );
    trials.extend(on_both(
        "http",
        "serve_signs_a_checkpoint_at_start_and_again_after_the_log_grows",
        serve_signs_a_checkpoint_at_start_and_again_after_the_log_grows,
    ));
    trials.extend(on_both(
        "http",
        "serve_demo_prints_a_login_per_role_each_logs_in_and_checkpoints_verify_with_the_printed_key",
        serve_demo_prints_a_login_per_role_each_logs_in_and_checkpoints_verify_with_the_printed_key,
    ));
    trials
}

/// A bound on waits that should end at once; reaching it fails the test instead of hanging.
const WAIT_BOUND: Duration = Duration::from_secs(60);

/// A running server; killed if the test fails before it stops it.
struct Server {
    child: Option<Child>,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// Sends SIGTERM and waits (bounded) for the process to exit; returns how it exited.
    fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(child.wait());
        });
        match receiver.recv_timeout(WAIT_BOUND) {
            Ok(status) => status.expect("wait"),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                panic!("huiyin serve did not stop on SIGTERM within {WAIT_BOUND:?}");
            }
        }
    }
}

/// Starts `huiyin serve` on a free port and waits (bounded) for the line naming its address.
fn start(db: &Fresh, extra: &[&str]) -> Server {
    start_reading(db, extra).0
}

/// As [`start`], with the lines the server prints after its address.
fn start_reading(db: &Fresh, extra: &[&str]) -> (Server, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .arg("--db")
        .arg(&db.url)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start huiyin serve");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // Keep reading to the end even when no one listens any more: a closed pipe would
            // fail the server's next print.
            let _ = sender.send(line);
        }
    });
    let address = loop {
        let line = receiver
            .recv_timeout(WAIT_BOUND)
            .expect("huiyin serve prints its address");
        if let Some(address) = line.strip_prefix("huiyin: listening on http://") {
            break address.to_owned();
        }
    };
    let server = Server {
        child: Some(child),
        address,
    };
    (server, receiver)
}

/// One HTTP/1.1 exchange over a fresh connection: status and body.
fn exchange(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(WAIT_BOUND)).expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(body.as_bytes()).expect("send body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    (status, body)
}

fn json_line(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

async fn serve_answers_on_a_socket_with_cli_credentials_and_stops_on_sigterm(db: Fresh) {
    let server = start(&db, &["--demo"]);
    let address = server.address.clone();
    let (status, health) = exchange(&address, "GET", "/healthz", &[], "");
    assert_eq!(status, 200, "{health}");
    assert!(
        health["tree_size"].as_u64().is_some_and(|size| size > 0),
        "the demo was loaded: {health}"
    );
    // Before anyone reads, the server's own runners bring the tables up to the log.
    let tree_size = health["tree_size"].as_i64().expect("tree size");
    for projection in ["board", "figures"] {
        wait_for_checkpoint(&db, projection, tree_size).await;
    }
    let (status, refused) = exchange(&address, "GET", "/api/board", &[], "");
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (401, json!("unauthenticated"))
    );
    cli_credentials_work_over_the_socket(&db, &address);
    // SIGTERM stops it cleanly, within the bound.
    let status = server.terminate();
    assert!(status.success(), "{status}");
}

/// Waits (bounded) until `projection`'s checkpoint in the database reaches `tree_size`. Only the
/// server's background runner moves it here: no request has read the board yet.
async fn wait_for_checkpoint(db: &Fresh, projection: &str, tree_size: i64) {
    let query =
        format!("SELECT position FROM projection_checkpoints WHERE projection = '{projection}'");
    let started = std::time::Instant::now();
    loop {
        let reached = crate::raw::integer(&db.url, &query).await.expect("query");
        if reached == Some(tree_size) {
            return;
        }
        assert!(
            started.elapsed() < WAIT_BOUND,
            "{projection} stayed at {reached:?}, the log has {tree_size}"
        );
        // Looking again, not hoping: the loop ends on the condition or fails at the bound.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `token issue`, `token revoke` and `password set`, run as processes, take effect on the
/// running server.
fn cli_credentials_work_over_the_socket(db: &Fresh, address: &str) {
    // A token issued on the command line works over the socket until it is revoked.
    let issued = json_line(&huiyin(
        db,
        &[
            "token", "issue", "--person", "audit-01", "--role", "auditor",
        ],
        "",
    ));
    let token = issued["token"].as_str().expect("token").to_owned();
    let bearer = format!("Bearer {token}");
    let (status, board) = exchange(
        address,
        "GET",
        "/api/board",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200);
    let total = board["summary"]["total"].as_u64().unwrap_or(0);
    assert!(total > 0, "the demo's items are on the board: {board}");
    let token_id = issued["token_id"].as_str().expect("token_id");
    let revoked = json_line(&huiyin(db, &["token", "revoke", token_id], ""));
    assert_eq!(revoked["revoked"], true);
    let (status, _) = exchange(
        address,
        "GET",
        "/api/board",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 401);
    assert_eq!(
        huiyin(db, &["token", "revoke", token_id], "").status.code(),
        Some(1)
    );
    // A password set on the command line logs in over the socket.
    let set = json_line(&huiyin(
        db,
        &[
            "password",
            "set",
            "--person",
            "liaison-01",
            "--role",
            "liaison",
        ],
        "a liaison's password\n",
    ));
    assert_eq!(set["ok"], true);
    let login = json!({"person_id": "liaison-01", "password": "a liaison's password"}).to_string();
    let (status, who) = exchange(
        address,
        "POST",
        "/login",
        &[("Content-Type", "application/json")],
        &login,
    );
    assert_eq!(
        (status, who["role"].clone()),
        (200, json!("liaison")),
        "{who}"
    );
}

fn filing(item_id: &str) -> String {
    json!({"command_id": format!("file-{item_id}"), "type": "FileItem", "at": "2024-03-01T09:00:00+08:00",
        "actor": "liaison-01", "role": "liaison", "data": {"item_id": item_id, "kind": "suggestion",
        "title": "定时签名", "body": "", "deputies": [{"id": "d-1", "name": "王芳"}]}})
    .to_string()
}

/// Polls `GET /api/checkpoint` (bounded) until the signed tree size reaches `tree_size`.
fn wait_for_signed_checkpoint(address: &str, token: &str, tree_size: u64) -> Value {
    let bearer = format!("Bearer {token}");
    let deadline = std::time::Instant::now() + WAIT_BOUND;
    loop {
        let (status, body) = exchange(
            address,
            "GET",
            "/api/checkpoint",
            &[("Authorization", &bearer)],
            "",
        );
        if status == 200 && body["tree_size"].as_u64() >= Some(tree_size) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint of size {tree_size} within {WAIT_BOUND:?}: {status} {body}"
        );
        // The polling interval of a bounded wait, not a guess at how long signing takes.
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn serve_signs_a_checkpoint_at_start_and_again_after_the_log_grows(db: Fresh) {
    let folder = tempfile::tempdir().expect("folder");
    let prefix = folder.path().join("ledger");
    let keygen = huiyin(
        &db,
        &["keygen", "--out", prefix.to_str().expect("path")],
        "",
    );
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let key = format!("{}.key", prefix.display());
    let filed = huiyin(&db, &["exec", "-"], &format!("{}\n", filing("T-1")));
    assert!(filed.status.success());
    let issued = json_line(&huiyin(
        &db,
        &[
            "token", "issue", "--person", "audit-01", "--role", "auditor",
        ],
        "",
    ));
    let token = issued["token"].as_str().expect("token").to_owned();
    let server = start(
        &db,
        &["--checkpoint-key", &key, "--checkpoint-every-s", "1"],
    );
    // Signed at start, covering the one record.
    let first = wait_for_signed_checkpoint(&server.address, &token, 1);
    assert_eq!(first["tree_size"], 1);
    // Another process appends; the next tick signs the grown log.
    let filed = huiyin(&db, &["exec", "-"], &format!("{}\n", filing("T-2")));
    assert!(filed.status.success());
    let second = wait_for_signed_checkpoint(&server.address, &token, 2);
    assert_eq!(second["tree_size"], 2);
    assert!(server.terminate().success());
    // Both checkpoints are stored and consistent: verify checks every stored checkpoint.
    let public = format!("{}.pub", prefix.display());
    let verified = huiyin(&db, &["verify", "--key", &public], "");
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

/// The README's run command: `serve --demo` prints one login per role, each of which logs in
/// over the socket in its role, and the key its checkpoints are signed with.
async fn serve_demo_prints_a_login_per_role_each_logs_in_and_checkpoints_verify_with_the_printed_key(
    db: Fresh,
) {
    let (server, lines) = start_reading(&db, &["--demo"]);
    let mut logins = Vec::new();
    let verifier = loop {
        let line = lines
            .recv_timeout(WAIT_BOUND)
            .expect("serve --demo prints its logins and its key");
        if let Some((_, key)) = line.split_once("huiyin verify --key ") {
            break key.trim().to_owned();
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with("  ") && words.len() == 3 && words[0] != "role" {
            logins.push((
                words[0].to_owned(),
                words[1].to_owned(),
                words[2].to_owned(),
            ));
        }
    };
    let roles: Vec<&str> = logins.iter().map(|(role, _, _)| role.as_str()).collect();
    assert_eq!(
        roles,
        [
            "liaison",
            "court_office",
            "handler",
            "leader",
            "deputy",
            "auditor",
            "admin"
        ]
    );
    for (role, person, password) in &logins {
        let login = json!({"person_id": person, "password": password, "role": role}).to_string();
        let (status, who) = exchange(
            &server.address,
            "POST",
            "/login",
            &[("Content-Type", "application/json")],
            &login,
        );
        assert_eq!((status, &who["role"]), (200, &json!(role)), "{role}: {who}");
    }
    // The demo's log is signed at start; `verify` checks the signature with the printed key.
    let (_, health) = exchange(&server.address, "GET", "/healthz", &[], "");
    let tree_size = health["tree_size"].as_u64().expect("tree size");
    let issued = json_line(&huiyin(
        &db,
        &[
            "token",
            "issue",
            "--person",
            "auditor-01",
            "--role",
            "auditor",
        ],
        "",
    ));
    let token = issued["token"].as_str().expect("token");
    wait_for_signed_checkpoint(&server.address, token, tree_size);
    let verified = json_line(&huiyin(&db, &["verify", "--key", &verifier], ""));
    assert_eq!(verified["signatures"], "verified", "{verified}");
    assert!(verified["checkpoints"].as_u64() >= Some(1), "{verified}");
    assert!(server.terminate().success());
}
