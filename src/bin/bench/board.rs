//! The board-latency measurement of `huiyin-bench` (issue 7): a ledger of `--board-items` items
//! (kept between runs, schema `huiyin_bench_board_<items>`), `huiyin serve` (release) on it, and
//! `--board-clients` concurrent HTTP clients asking realistic board pages with bearer tokens for
//! `--board-seconds`; against two baselines measured in the same run: `/healthz` over the same
//! HTTP path, and the first page's two statements (page + counts) through sqlx directly.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use infra::views::{BoardSelection, BoardSort};
use serde_json::{json, Value};

use crate::child::{huiyin_json, start_server, stop};

/// Items per page the clients ask for.
const PAGE_ITEMS: u32 = 50;
/// Deputies the items are spread over (a deputy's board is about items / DEPUTIES).
const DEPUTIES: usize = 200;
/// A request not answered within this long is an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How deep (in items) the "later page" cursor starts, at most.
const DEEP_PAGE_ITEMS: usize = 50_000;

/// The sizes of one board measurement.
pub(crate) struct BoardArgs<'a> {
    pub(crate) huiyin: &'a Path,
    pub(crate) items: usize,
    pub(crate) clients: usize,
    pub(crate) seconds: u64,
}

/// The commands of item `n`: every item is filed; every 4th is also accepted and assigned (to
/// one of four leaders and units), every 8th of those also answered.
fn item_commands(n: usize) -> Vec<Value> {
    let item_id = format!("2026-B-{n:07}");
    let deputy = format!("d-{:04}", n % DEPUTIES);
    let filed_day = 1 + n % 28;
    let kind = ["suggestion", "deputy_letter", "inquiry"][n % 3];
    let mut out = vec![
        json!({"type": "FileItem", "at": format!("2026-03-{filed_day:02}T09:00:00+08:00"),
        "actor": "liaison-01", "role": "liaison",
        "data": {"item_id": item_id, "kind": kind,
                 "title": "关于加快执行案款发放进度的建议",
                 "body": "建议进一步规范执行案款收发流程，缩短发放周期。",
                 "deputies": [{"id": deputy, "name": format!("代表{deputy}"), "lead": true}]}}),
    ];
    if n % 4 == 0 {
        let (unit, leader) = [
            ("执行局", "陈立新"),
            ("立案庭", "李明"),
            ("民一庭", "王强"),
            ("审管办", "赵敏"),
        ][(n / 4) % 4];
        out.push(
            json!({"type": "TriageItem", "at": "2026-04-01T09:00:00+08:00",
            "actor": "office-01", "role": "court_office",
            "data": {"item_id": item_id, "decision": "accept"}}),
        );
        out.push(json!({"type": "AssignItem", "at": format!("2026-04-{:02}T09:00:00+08:00", 1 + n % 28),
            "actor": "office-01", "role": "court_office",
            "data": {"item_id": item_id, "lead_unit": unit,
                     "leader": {"id": format!("l-{}", (n / 4) % 4), "name": leader, "level": "vice_president"}}}));
        if n % 8 == 0 {
            out.push(
                json!({"type": "AnswerItem", "at": "2026-06-10T09:00:00+08:00",
                "actor": format!("l-{}", (n / 4) % 4), "role": "leader",
                "data": {"item_id": item_id, "class": "A", "text": "已制定执行案款发放细则。"}}),
            );
        }
    }
    out
}

/// The board ledger: filled once and kept (schema `huiyin_bench_board_<items>`); refilled when
/// its log does not hold exactly the commands of `items` items. Its board is brought up to date
/// and its tables analysed before it is returned.
pub(crate) async fn board_ledger(pg: &str, items: usize) -> anyhow::Result<String> {
    let name = format!("huiyin_bench_board_{items}");
    let admin = sqlx::PgPool::connect(pg).await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {name}"))
        .execute(&admin)
        .await?;
    admin.close().await;
    let separator = if pg.contains('?') { '&' } else { '?' };
    let url = format!("{pg}{separator}options[search_path]={name}");
    let stores = infra::store::open_stores(&url).await?;
    let expected: usize = (0..items).map(|n| item_commands(n).len()).sum();
    let tree_size = stores.events.head().await?.tree_size;
    if tree_size != expected as u64 {
        anyhow::ensure!(
            tree_size == 0,
            "{url} holds {tree_size} events, not {expected}: DROP SCHEMA {name} CASCADE and run again"
        );
        let started = Instant::now();
        let commands = (0..items).flat_map(|n| {
            item_commands(n)
                .into_iter()
                .enumerate()
                .map(move |(step, command)| (command, format!("board-{n}-{step}")))
        });
        crate::fill(Arc::clone(&stores.events), commands).await?;
        eprintln!(
            "filled {url} with {items} items ({expected} events) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!("reusing {url}: {items} items ({tree_size} events)");
    }
    let started = Instant::now();
    projections::runner::catch_up::<projections::board::BoardProjection>(
        &*stores.events,
        &*stores.views,
    )
    .await?;
    eprintln!(
        "board caught up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pool = sqlx::PgPool::connect(&url).await?;
    sqlx::query("VACUUM ANALYZE board_rows, board_deputies, projection_rows")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(url)
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// One kind of board request: a name and the path (with the token to send).
#[derive(Clone)]
struct Ask {
    kind: &'static str,
    path: String,
    token: String,
}

async fn get(http: &HttpClient, base: &str, ask: &Ask) -> Result<(u16, Bytes), &'static str> {
    let request = Request::builder()
        .uri(format!("{base}{}", ask.path))
        .header("authorization", format!("Bearer {}", ask.token))
        .body(Full::new(Bytes::new()))
        .map_err(|_| "bad request")?;
    let answered = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let response = http.request(request).await.map_err(|_| "transport")?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| "body cut")?
            .to_bytes();
        Ok((status, body))
    })
    .await;
    answered.unwrap_or(Err("timeout"))
}

/// `clients` closed-loop clients, each going round `asks` (starting at its own offset) until
/// `seconds` have passed: latencies per kind, and the wall time.
async fn drive(
    http: &HttpClient,
    base: &str,
    asks: &[Ask],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(BTreeMap<&'static str, Vec<Duration>>, Duration)> {
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let http = http.clone();
            let base = base.to_owned();
            let asks = asks.to_vec();
            tokio::spawn(async move {
                let mut samples: Vec<(&'static str, Duration)> = Vec::new();
                let mut turn = client;
                while Instant::now() < until {
                    let ask = &asks[turn % asks.len()];
                    turn += 1;
                    let sent = Instant::now();
                    let (status, _) = get(&http, &base, ask)
                        .await
                        .map_err(|error| anyhow::anyhow!("{} {}: {error}", ask.kind, ask.path))?;
                    anyhow::ensure!(status == 200, "{} {}: status {status}", ask.kind, ask.path);
                    samples.push((ask.kind, sent.elapsed()));
                }
                anyhow::Ok(samples)
            })
        })
        .collect();
    let mut by_kind: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for task in tasks {
        for (kind, latency) in task.await?? {
            by_kind.entry(kind).or_default().push(latency);
        }
    }
    Ok((by_kind, started.elapsed()))
}

fn percentile_ms(sorted: &[Duration], per_mille: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() * per_mille).div_ceil(1000)).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

/// p50, p99 (ms) and requests/s of a set of latencies over `wall`.
fn summary(mut latencies: Vec<Duration>, wall: Duration) -> Value {
    latencies.sort();
    json!({
        "p50_ms": percentile_ms(&latencies, 500),
        "p99_ms": percentile_ms(&latencies, 990),
        "requests": latencies.len(),
        "per_s": latencies.len() as f64 / wall.as_secs_f64(),
    })
}

/// The board asks of a run: first page, filtered, sorted, overdue by days left, a deputy's
/// board, and a later page (by cursor, `DEEP_PAGE_ITEMS` in).
async fn asks(
    http: &HttpClient,
    base: &str,
    office: &str,
    deputy: &str,
    items: usize,
) -> anyhow::Result<Vec<Ask>> {
    let ask = |kind, path: String, token: &str| Ask {
        kind,
        path,
        token: token.to_owned(),
    };
    // Walk 1,000 items at a time to a cursor deep in the board.
    let mut cursor: Option<String> = None;
    for _ in 0..(DEEP_PAGE_ITEMS.min(items / 2) / 1_000) {
        let path = match &cursor {
            Some(after) => format!("/api/board?limit=1000&after={after}"),
            None => "/api/board?limit=1000".to_owned(),
        };
        let (status, body) = get(http, base, &ask("walk", path, office))
            .await
            .map_err(|error| anyhow::anyhow!("walking the board: {error}"))?;
        anyhow::ensure!(status == 200, "walking the board: {status}");
        let page: Value = serde_json::from_slice(&body)?;
        cursor = page["page"]["next"].as_str().map(str::to_owned);
    }
    let later = match cursor {
        Some(after) => format!("/api/board?limit={PAGE_ITEMS}&after={after}"),
        None => format!("/api/board?limit={PAGE_ITEMS}"),
    };
    Ok(vec![
        ask("first_page", format!("/api/board?limit={PAGE_ITEMS}"), office),
        ask(
            "filtered",
            // 立案庭's items (n % 16 == 4) are assigned and never answered: 6,250 match.
            format!("/api/board?limit={PAGE_ITEMS}&status=assigned&lead_unit=%E7%AB%8B%E6%A1%88%E5%BA%AD"),
            office,
        ),
        ask("sorted", format!("/api/board?limit={PAGE_ITEMS}&sort=due&dir=desc"), office),
        ask(
            "overdue_by_days_left",
            format!("/api/board?limit={PAGE_ITEMS}&overdue=true&sort=days_left"),
            office,
        ),
        ask("deputy", format!("/api/board?limit={PAGE_ITEMS}"), deputy),
        ask("later_page", later, office),
    ])
}

/// The first page's two statements (page + counts) through the store's sqlx code directly,
/// `clients` at a time for `seconds`: the database's share of a board request.
async fn sqlx_baseline(url: &str, clients: usize, seconds: u64) -> anyhow::Result<Value> {
    let stores = infra::store::open_stores(url).await?;
    let today = jiff::Zoned::now().date();
    let selection = BoardSelection {
        today: today.to_string(),
        due_soon_until: today.checked_add(jiff::Span::new().days(7))?.to_string(),
        sort: BoardSort::ItemId,
        ..BoardSelection::default()
    };
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let views = Arc::clone(&stores.views);
            let selection = selection.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let sent = Instant::now();
                    views
                        .board_page(&selection, None, PAGE_ITEMS + 1, None)
                        .await?;
                    views.board_counts(&selection).await?;
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(summary(latencies, started.elapsed()))
}

/// One run: the server started on the ledger, the asks driven, the baselines; figures as JSON.
pub(crate) async fn board_run(args: &BoardArgs<'_>, url: &str) -> anyhow::Result<Value> {
    let office = huiyin_json(
        args.huiyin,
        url,
        &[
            "token",
            "issue",
            "--person",
            "office-01",
            "--role",
            "court_office",
        ],
    )?["token"]
        .as_str()
        .context("no token")?
        .to_owned();
    let deputy = huiyin_json(
        args.huiyin,
        url,
        &["token", "issue", "--person", "d-0007", "--role", "deputy"],
    )?["token"]
        .as_str()
        .context("no token")?
        .to_owned();
    let (server, address) = start_server(args.huiyin, url, false)?;
    let outcome = async {
        let base = format!("http://{address}");
        let http: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let asks = asks(&http, &base, &office, &deputy, args.items).await?;
        // Warm up (connections, caches) before measuring.
        drive(&http, &base, &asks, args.clients, 2).await?;
        let (by_kind, wall) = drive(&http, &base, &asks, args.clients, args.seconds).await?;
        let health = vec![Ask {
            kind: "healthz",
            path: "/healthz".to_owned(),
            token: office.clone(),
        }];
        let (health, health_wall) =
            drive(&http, &base, &health, args.clients, args.seconds).await?;
        let mut kinds = serde_json::Map::new();
        let mut all = Vec::new();
        for (kind, latencies) in by_kind {
            all.extend(latencies.iter().copied());
            kinds.insert(kind.to_owned(), summary(latencies, wall));
        }
        anyhow::Ok(json!({
            "board": summary(all, wall),
            "kinds": kinds,
            "healthz": summary(health.into_values().flatten().collect(), health_wall),
        }))
    }
    .await;
    stop(server);
    let mut figures = outcome?;
    figures["sqlx_first_page"] = sqlx_baseline(url, args.clients, args.seconds).await?;
    Ok(figures)
}
