//! `huiyin-load` (`just load`): a bounded load test over HTTP (issue 8, point 6).
//!
//! It issues tokens with `huiyin token issue`, starts `huiyin serve` (optionally with `--demo`)
//! on a free port, and runs `--clients` concurrent clients for `--duration-s` seconds. Each
//! client repeats a realistic mix: mostly reads (the board, an item, its trail, the figures),
//! some commands taking its own items through their whole lives, and some racing the other
//! clients on the same shared items (where every loser is told 409). At the end it prints
//! throughput, p50/p99 latency per kind, and answers by status, and exits 1 if anything but
//! 200 and the expected 409s came back (including transport errors and timeouts). Not part of
//! CI, except a two-second smoke run in the test suite.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

#[path = "shared/child.rs"]
mod child;
use child::{huiyin_json, start_server, stop};

/// A request not answered within this long counts as a timeout error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The steps of an item's life: type and role (DESIGN.md §4).
const LIFE: [(&str, &str); 7] = [
    ("FileItem", "liaison"),
    ("TriageItem", "court_office"),
    ("AssignItem", "court_office"),
    ("AnswerItem", "leader"),
    ("RateAnswer", "deputy"),
    ("ReconcileItem", "liaison"),
    ("CloseItem", "leader"),
];

/// The people the load acts as: role, person.
const PEOPLE: [(&str, &str); 5] = [
    ("liaison", "load-liaison"),
    ("court_office", "load-office"),
    ("leader", "load-leader"),
    ("deputy", "load-deputy"),
    ("auditor", "load-auditor"),
];

#[derive(Debug, Parser)]
#[command(
    name = "huiyin-load",
    about = "A bounded HTTP load test of huiyin serve"
)]
struct Args {
    /// How long the clients run.
    #[arg(long, default_value_t = 60)]
    duration_s: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// The ledger's database; default a fresh SQLite file in the temporary folder.
    #[arg(long)]
    db: Option<String>,
    /// Load the demonstration ledger first (a realistic board of five years of items).
    #[arg(long)]
    demo: bool,
    /// The `huiyin` binary to serve with; default the one beside this program.
    #[arg(long)]
    huiyin: Option<PathBuf>,
}

/// What a request was for; latencies and statuses are reported per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Board,
    Item,
    Trail,
    Stats,
    Command,
    Race,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Board => "GET /api/board",
            Kind::Item => "GET /api/items/{id}",
            Kind::Trail => "GET /api/items/{id}/trail",
            Kind::Stats => "GET /api/stats",
            Kind::Command => "POST /api/commands (own item)",
            Kind::Race => "POST /api/commands (racing)",
        }
    }
}

/// One answered (or failed) request.
struct Sample {
    kind: Kind,
    /// The status, or what went wrong on the wire.
    outcome: Result<u16, &'static str>,
    latency: Duration,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Where to send, as whom.
struct Target {
    base: String,
    tokens: BTreeMap<&'static str, String>,
    http: HttpClient,
    /// Distinguishes this run's item ids from earlier runs on the same database.
    run: String,
}

impl Target {
    async fn send(&self, kind: Kind, role: &str, path: &str, body: Option<&Value>) -> Sample {
        let started = Instant::now();
        let outcome = self.exchange(role, path, body).await;
        Sample {
            kind,
            outcome,
            latency: started.elapsed(),
        }
    }

    async fn exchange(
        &self,
        role: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<u16, &'static str> {
        let builder = Request::builder()
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.tokens[role]));
        let request = match body {
            Some(body) => builder
                .method("POST")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.to_string()))),
            None => builder.method("GET").body(Full::new(Bytes::new())),
        }
        .map_err(|_| "bad request")?;
        let answered = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self.http.request(request).await.map_err(|_| "transport")?;
            let status = response.status().as_u16();
            // Read the whole body: its transfer is part of the latency.
            response
                .into_body()
                .collect()
                .await
                .map_err(|_| "body cut")?;
            Ok(status)
        })
        .await;
        answered.unwrap_or(Err("timeout"))
    }
}

/// The command of step `step` of `item`'s life.
fn life_step(step: usize, item: &str, command_id: &str) -> Value {
    let (kind, _) = LIFE[step];
    let (at, data) = match step {
        0 => (
            "2024-03-01T09:00:00+08:00",
            json!({"item_id": item, "kind": "suggestion", "title": format!("关于{item}的建议"),
                   "body": "执行款发放时限",
                   "deputies": [{"id": "load-deputy", "name": "王芳", "lead": true}]}),
        ),
        1 => (
            "2024-03-04T09:00:00+08:00",
            json!({"item_id": item, "decision": "accept", "reason": "属于执行工作"}),
        ),
        2 => (
            "2024-03-05T09:00:00+08:00",
            json!({"item_id": item, "lead_unit": "执行局", "co_units": [],
                   "leader": {"id": "load-leader", "name": "陈立新", "level": "vice_president"}}),
        ),
        3 => (
            "2024-05-20T09:00:00+08:00",
            json!({"item_id": item, "class": "A", "text": "已建立限时发放机制。"}),
        ),
        4 => (
            "2024-05-27T09:00:00+08:00",
            json!({"item_id": item, "rating": "satisfied", "comment": "满意"}),
        ),
        5 => (
            "2024-06-03T09:00:00+08:00",
            json!({"item_id": item, "note": "已对账"}),
        ),
        _ => (
            "2024-06-05T09:00:00+08:00",
            json!({"item_id": item, "note": "销号"}),
        ),
    };
    json!({"command_id": command_id, "type": kind, "at": at, "data": data})
}

/// One client's loop until `until`: ten operations a round — five reads, three steps of its
/// own item, one step racing everyone on the shared items, one more read.
async fn client(
    target: Arc<Target>,
    number: usize,
    race: Arc<AtomicUsize>,
    until: Instant,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let (mut own_item, mut own_step) = (0usize, 0usize);
    let mut last_item: Option<String> = None;
    let mut round = 0usize;
    while Instant::now() < until {
        let operation = round % 10;
        round += 1;
        let sample = match (operation, &last_item) {
            (0 | 3, _) | (1 | 2 | 4 | 9, None) => {
                target
                    .send(Kind::Board, "auditor", "/api/board", None)
                    .await
            }
            (1 | 4 | 9, Some(item)) => {
                let path = format!("/api/items/{item}");
                target.send(Kind::Item, "auditor", &path, None).await
            }
            (2, Some(item)) => {
                let path = format!("/api/items/{item}/trail");
                target.send(Kind::Trail, "auditor", &path, None).await
            }
            (5..=7, _) => {
                let item = format!("L-{}-c{number}-{own_item}", target.run);
                let id = format!("{item}-{own_step}");
                let (_, role) = LIFE[own_step];
                let sample = target
                    .send(
                        Kind::Command,
                        role,
                        "/api/commands",
                        Some(&life_step(own_step, &item, &id)),
                    )
                    .await;
                if sample.outcome == Ok(200) {
                    last_item = Some(item);
                    own_step += 1;
                    if own_step == LIFE.len() {
                        (own_item, own_step) = (own_item + 1, 0);
                    }
                }
                sample
            }
            (8, _) if number % 8 == 0 => {
                target
                    .send(Kind::Stats, "auditor", "/api/stats", None)
                    .await
            }
            _ => {
                // Everyone works on the same racing step; whoever is answered (200 or 409) moves
                // the shared cursor on, so the next racer meets the next step.
                let cursor = race.load(Ordering::SeqCst);
                let (item, step) = (cursor / LIFE.len(), cursor % LIFE.len());
                let item = format!("R-{}-{item}", target.run);
                let id = format!("{item}-{step}-c{number}-{round}");
                let (_, role) = LIFE[step];
                let sample = target
                    .send(
                        Kind::Race,
                        role,
                        "/api/commands",
                        Some(&life_step(step, &item, &id)),
                    )
                    .await;
                if sample.outcome == Ok(200) {
                    let _ = race.compare_exchange(
                        cursor,
                        cursor + 1,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                }
                sample
            }
        };
        samples.push(sample);
    }
    samples
}

fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = (sorted.len() * per_mille).div_ceil(1000).max(1) - 1;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// Prints the report; returns how many answers were neither 200 nor an expected 409.
fn report(samples: &[Sample], elapsed: Duration, clients: usize) -> usize {
    let mut kinds: BTreeMap<Kind, Vec<&Sample>> = BTreeMap::new();
    for sample in samples {
        kinds.entry(sample.kind).or_default().push(sample);
    }
    let seconds = elapsed.as_secs_f64();
    println!(
        "huiyin-load: {clients} clients, {:.1} s, {} requests, {:.0} requests/s",
        seconds,
        samples.len(),
        samples.len() as f64 / seconds
    );
    println!("| kind | requests | per s | p50 ms | p99 ms | max ms | answers |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut unexpected = 0;
    for (kind, of_kind) in &kinds {
        let mut latencies: Vec<Duration> = of_kind.iter().map(|sample| sample.latency).collect();
        latencies.sort();
        let mut answers: BTreeMap<String, usize> = BTreeMap::new();
        for sample in of_kind {
            let label = match sample.outcome {
                Ok(status) => status.to_string(),
                Err(what) => what.to_owned(),
            };
            *answers.entry(label).or_default() += 1;
            let expected = match sample.outcome {
                Ok(200) => true,
                Ok(409) => *kind == Kind::Race,
                _ => false,
            };
            if !expected {
                unexpected += 1;
            }
        }
        println!(
            "| {} | {} | {:.1} | {} | {} | {} | {} |",
            kind.name(),
            of_kind.len(),
            of_kind.len() as f64 / seconds,
            ms(percentile(&latencies, 500)),
            ms(percentile(&latencies, 990)),
            ms(latencies.last().copied().unwrap_or_default()),
            answers
                .iter()
                .map(|(label, count)| format!("{label}: {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("huiyin-load: unexpected answers (not 200, not a racing 409): {unexpected}");
    unexpected
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let huiyin = match &args.huiyin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no folder")?
            .join("huiyin"),
    };
    let scratch = std::env::temp_dir().join(format!("huiyin-load-{}.db", std::process::id()));
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", scratch.display()));
    let mut tokens = BTreeMap::new();
    for (role, person) in PEOPLE {
        let issued = huiyin_json(
            &huiyin,
            &db,
            &["token", "issue", "--person", person, "--role", role],
        )?;
        let token = issued["token"].as_str().context("no token")?.to_owned();
        tokens.insert(role, token);
    }
    let (server, address) = start_server(&huiyin, &db, args.demo)?;
    let run = format!("{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new()?;
    let (samples, elapsed) = runtime.block_on(async {
        let http = Client::builder(TokioExecutor::new()).build_http();
        let target = Arc::new(Target {
            base: format!("http://{address}"),
            tokens,
            http,
            run,
        });
        let race = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let until = started + Duration::from_secs(args.duration_s);
        let tasks: Vec<_> = (0..args.clients)
            .map(|number| {
                tokio::spawn(client(
                    Arc::clone(&target),
                    number,
                    Arc::clone(&race),
                    until,
                ))
            })
            .collect();
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await?);
        }
        anyhow::Ok((samples, started.elapsed()))
    })?;
    stop(server);
    if args.db.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
        }
    }
    let unexpected = report(&samples, elapsed, args.clients);
    Ok(if unexpected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
