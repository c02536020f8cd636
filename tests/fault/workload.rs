//! The clients: racers that all try every step of the same items' lives (the domain must let
//! exactly one win each step and refuse the others), and solo clients that take items of their
//! own through their whole lives. Each sends over HTTP, keeps its history, and retries a
//! command whose answer was unknown with the same id until it is answered definitely.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::client::{exchange, post_command};
use super::history::{History, Sent, Verdict};
use crate::support::{huiyin, Fresh};

/// A command whose answers stay unknown is retried (same id, same body) for at most this long.
pub const RETRY_BOUND: Duration = Duration::from_secs(120);

/// The steps of an item's life, in order: type, the role that may do it.
pub const LIFE: [(&str, &str); 7] = [
    ("FileItem", "liaison"),
    ("TriageItem", "court_office"),
    ("AssignItem", "court_office"),
    ("AnswerItem", "leader"),
    ("RateAnswer", "deputy"),
    ("ReconcileItem", "liaison"),
    ("CloseItem", "leader"),
];

/// The deputy every item names (the deputy token acts for them).
const DEPUTY: &str = "d-1";

/// A bearer token per role, issued with `huiyin token issue` on the ledger's database.
#[derive(Debug, Clone)]
pub struct Tokens(HashMap<&'static str, String>);

impl Tokens {
    /// Issues one token per role of [`LIFE`], and one for an auditor.
    pub fn issue(db: &Fresh) -> Tokens {
        let people = [
            ("liaison", "liaison-01"),
            ("court_office", "office-01"),
            ("leader", "l-1"),
            ("deputy", DEPUTY),
            ("auditor", "audit-01"),
        ];
        let mut tokens = HashMap::new();
        for (role, person) in people {
            let output = huiyin(
                db,
                &["token", "issue", "--person", person, "--role", role],
                "",
            );
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let issued: Value = serde_json::from_slice(&output.stdout).expect("token JSON");
            let token = issued["token"].as_str().expect("token").to_owned();
            tokens.insert(role, token);
        }
        Tokens(tokens)
    }

    /// The token of `role`.
    pub fn of(&self, role: &str) -> &str {
        &self.0[role]
    }
}

/// The addresses of the running servers; a restarted server's new address replaces its old one.
#[derive(Debug, Default)]
pub struct Servers(RwLock<Vec<String>>);

impl Servers {
    /// Servers at these addresses.
    pub fn new(addresses: Vec<String>) -> Arc<Servers> {
        Arc::new(Servers(RwLock::new(addresses)))
    }

    /// The address of slot `slot` (clients are spread over the slots).
    pub fn address(&self, slot: usize) -> String {
        let addresses = self.0.read().expect("servers");
        addresses[slot % addresses.len()].clone()
    }

    /// How many server slots there are.
    pub fn slots(&self) -> usize {
        self.0.read().expect("servers").len()
    }

    /// Records that the server of `slot` now listens at `address`.
    pub fn replace(&self, slot: usize, address: String) {
        self.0.write().expect("servers")[slot] = address;
    }
}

/// The command of step `step` of `item`'s life, under `command_id`.
pub fn life_step(step: usize, item: &str, command_id: &str) -> Value {
    let (kind, _) = LIFE[step];
    let (at, data) = match kind {
        "FileItem" => (
            "2024-03-01T09:00:00+08:00",
            json!({"item_id": item, "kind": "suggestion", "title": format!("关于{item}的建议"),
                   "body": "执行款发放时限", "deputies": [{"id": DEPUTY, "name": "王芳", "lead": true}]}),
        ),
        "TriageItem" => (
            "2024-03-04T09:00:00+08:00",
            json!({"item_id": item, "decision": "accept", "reason": "属于执行工作"}),
        ),
        "AssignItem" => (
            "2024-03-05T09:00:00+08:00",
            json!({"item_id": item, "lead_unit": "执行局", "co_units": [],
                   "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
        ),
        "AnswerItem" => (
            "2024-05-20T09:00:00+08:00",
            json!({"item_id": item, "class": "A", "text": "已建立限时发放机制。"}),
        ),
        "RateAnswer" => (
            "2024-05-27T09:00:00+08:00",
            json!({"item_id": item, "rating": "satisfied", "comment": "满意"}),
        ),
        "ReconcileItem" => (
            "2024-06-03T09:00:00+08:00",
            json!({"item_id": item, "note": "已对账"}),
        ),
        "CloseItem" => (
            "2024-06-05T09:00:00+08:00",
            json!({"item_id": item, "note": "销号"}),
        ),
        other => unreachable!("no step {other}"),
    };
    json!({"command_id": command_id, "type": kind, "at": at, "data": data})
}

/// One client: its number, the servers, the tokens and where its history goes.
#[derive(Clone)]
pub struct Client {
    /// Its number; also picks its server slot.
    pub number: usize,
    /// Where the servers are.
    pub servers: Arc<Servers>,
    /// Everyone's tokens.
    pub tokens: Tokens,
    /// Everyone's history.
    pub history: Arc<History>,
}

impl Client {
    /// Sends `command` as `role` until it is answered definitely or [`RETRY_BOUND`] passes;
    /// records every attempt. A retry goes to the client's server slot as it is then (a killed
    /// server is restarted on a new port) and carries the same id and body.
    pub fn settle(&self, role: &str, item: &str, command: &Value) -> Verdict {
        let started = Instant::now();
        let mut attempts = Vec::new();
        let mut pause = Duration::from_millis(20);
        loop {
            let address = self.servers.address(self.number);
            let told = post_command(&address, self.tokens.of(role), command);
            let definite = told.is_definite();
            attempts.push(told);
            if definite || started.elapsed() > RETRY_BOUND {
                break;
            }
            // Back off before the retry: the server is restarting or its database is away.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
        let sent = Sent {
            client: self.number,
            command_id: command["command_id"].as_str().expect("an id").to_owned(),
            command_type: command["type"].as_str().expect("a type").to_owned(),
            item_id: item.to_owned(),
            attempts,
        };
        let verdict = sent.verdict();
        self.history.add(sent);
        verdict
    }

    /// Reads the board and the item as the auditor; a read must be answered 200 unless the
    /// server is away (then it is not retried: reads have no effect to lose).
    pub fn read(&self, item: &str) -> Vec<Result<u16, String>> {
        let address = self.servers.address(self.number);
        let token = self.tokens.of("auditor");
        ["/api/board".to_owned(), format!("/api/items/{item}")]
            .iter()
            .map(|path| exchange(&address, "GET", path, Some(token), "").map(|(status, _)| status))
            .collect()
    }

    /// Tries every step of each shared item in order, each with an id of its own. A step it
    /// loses (409) was won by another racer, so it goes on to the next.
    pub fn race(&self, items: &[String]) {
        for item in items {
            for (step, (_, role)) in LIFE.iter().enumerate() {
                let id = format!("{item}-{step}-c{}", self.number);
                self.settle(role, item, &life_step(step, item, &id));
            }
        }
    }

    /// Takes items of its own through their whole lives until `stop` is set or `items_max`
    /// items are done; returns the reads' statuses.
    pub fn solo(&self, items_max: usize, stop: &AtomicBool) -> Vec<Result<u16, String>> {
        let mut reads = Vec::new();
        for n in 0..items_max {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let item = format!("S-c{}-{n}", self.number);
            for (step, (_, role)) in LIFE.iter().enumerate() {
                let id = format!("{item}-{step}");
                self.settle(role, &item, &life_step(step, &item, &id));
            }
            reads.extend(self.read(&item));
        }
        reads
    }
}

/// The racing items' ids.
pub fn racing_items(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("R-{n}")).collect()
}
