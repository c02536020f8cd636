//! `huiyin-bench`: measures the ledger against raw database baselines in the same run (issue 7).
//! Run it in release (`just bench`); every figure is the median of `--runs` runs.
//!
//! - commands/s: FileItem, TriageItem, AssignItem, AnswerItem on fresh items, with 1 and 16
//!   submitters in-process, through the group-commit writer (and, for comparison, the direct
//!   one-transaction-per-command path), on PostgreSQL and SQLite;
//! - raw baseline: single-row INSERT transactions of a record-sized row from 16 connections into a
//!   plain table with a unique index, and the same as 100-row multi-row INSERTs;
//! - rebuild (events/s) and verify (records/s) of a ledger of `--events` events, run as child
//!   processes (their peak resident memory read with `wait4`), against a raw read of the same
//!   rows (`COPY (SELECT …) TO STDOUT` on PostgreSQL, the SELECT through a rusqlite cursor on SQLite);
//! - board latency over HTTP (`bench/board.rs`): p50/p99 of board pages asked by
//!   `--board-clients` concurrent clients of `huiyin serve` on a PostgreSQL ledger of
//!   `--board-items` items, against `/healthz` over the same HTTP path and the page's own SQL
//!   through sqlx (`--board-only` measures just this).

#[path = "bench/board.rs"]
mod board;
#[path = "shared/child.rs"]
mod child;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use aggregates::rules::Rules;
use anyhow::Context;
use clap::Parser;
use commands::{Ledger, Submitted, SystemClock, Writer, WriterConfig};
use futures::TryStreamExt;
use serde_json::{json, Value};

/// Concurrent submitters and connections of the "16" measurements.
const CONCURRENCY: usize = 16;
/// Rows per statement of the multi-row raw baseline.
const RAW_ROWS_PER_INSERT: usize = 100;
/// GNU time, which reports a child's peak resident memory (`%M`, KiB).
const TIME_PROGRAM: &str = "/usr/bin/time";
/// Commands the fill of the read-side ledger keeps in flight through the writer.
const FILL_IN_FLIGHT_MAX: usize = 2_048;
/// Size of the canonical bytes of a raw baseline row (about one recorded AnswerItem).
const RAW_ROW_BYTES: usize = 600;

#[derive(Debug, Parser)]
#[command(about = "Measures Huiyin against raw database baselines in the same run")]
struct Args {
    /// PostgreSQL server (each measurement gets a fresh schema, dropped afterwards).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg: String,
    /// Items per command-throughput run (4 commands each).
    #[arg(long, default_value_t = 1_000)]
    items: usize,
    /// Rows per raw-insert run.
    #[arg(long, default_value_t = 16_000)]
    raw_rows: usize,
    /// Events in the ledger that rebuild and verify read.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Runs per figure (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
    /// Skip command throughput, raw inserts and the board: measure only rebuild, verify and raw
    /// reads.
    #[arg(long)]
    read_side_only: bool,
    /// The `huiyin` binary rebuild and verify run as.
    #[arg(long, default_value = "target/release/huiyin")]
    huiyin: PathBuf,
    /// Measure only the board's latency over HTTP.
    #[arg(long)]
    board_only: bool,
    /// Skip the board's latency over HTTP.
    #[arg(long)]
    no_board: bool,
    /// Items on the board of the latency measurement.
    #[arg(long, default_value_t = 100_000)]
    board_items: usize,
    /// Concurrent HTTP clients of the board measurement.
    #[arg(long, default_value_t = 16)]
    board_clients: usize,
    /// Seconds each board measurement (and each baseline) runs.
    #[arg(long, default_value_t = 10)]
    board_seconds: u64,
    /// Append the results, as a Markdown section, to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(
        args.events % 4 == 0,
        "--events must be a multiple of 4 (4 commands per item)"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(bench(&args))?;
    println!("{}", serde_json::to_string_pretty(&results)?);
    if let Some(path) = &args.markdown {
        let section = markdown(&args, &results);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        std::io::Write::write_all(&mut file, section.as_bytes())?;
    }
    Ok(())
}

async fn bench(args: &Args) -> anyhow::Result<Value> {
    let mut figures = serde_json::Map::new();
    if !args.no_board && !args.read_side_only {
        let board_args = board::BoardArgs {
            huiyin: &args.huiyin,
            items: args.board_items,
            clients: args.board_clients,
            seconds: args.board_seconds,
        };
        let url = board::board_ledger(&args.pg, args.board_items).await?;
        let mut runs = Vec::new();
        for run in 0..args.runs {
            let figures = board::board_run(&board_args, &url).await?;
            eprintln!("board run {}: {figures}", run + 1);
            runs.push(figures);
        }
        figures.insert("board".to_owned(), board_medians(&runs));
    }
    if args.board_only {
        return Ok(json!({
            "date": jiff::Timestamp::now().to_string(),
            "machine": machine(),
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "runs": args.runs,
            "board_items": args.board_items,
            "board_clients": args.board_clients,
            "board_seconds": args.board_seconds,
            "figures": figures,
        }));
    }
    let mut backends = vec![("postgres", true)];
    if !args.no_sqlite {
        backends.push(("sqlite", false));
    }
    for (name, postgres) in backends.iter().filter(|_| !args.read_side_only) {
        for (path, submitters) in [
            ("writer", 1),
            ("writer", CONCURRENCY),
            ("direct", CONCURRENCY),
        ] {
            let key = format!("commands_per_s_{name}_{path}_{submitters}");
            let rates = repeat(args.runs, || async {
                let ledger = Fresh::new(args, *postgres).await?;
                let rate = command_rate(&ledger.url, args.items, submitters, path).await;
                ledger.drop_it(args).await?;
                rate
            })
            .await?;
            eprintln!("{key}: {rates:?}");
            figures.insert(key, json!(median(rates)));
        }
    }
    for rows_per_insert in [1, RAW_ROWS_PER_INSERT]
        .into_iter()
        .filter(|_| !args.read_side_only)
    {
        let key = format!("raw_inserts_per_s_postgres_{rows_per_insert}_row");
        let rates = repeat(args.runs, || raw_inserts(args, rows_per_insert)).await?;
        eprintln!("{key}: {rates:?}");
        figures.insert(key, json!(median(rates)));
    }
    for (name, postgres) in &backends {
        let ledger = read_ledger(args, *postgres).await?;
        let read = read_side(args, &ledger, *postgres).await?;
        for (key, value) in read {
            figures.insert(format!("{key}_{name}"), value);
        }
    }
    Ok(json!({
        "date": jiff::Timestamp::now().to_string(),
        "machine": machine(),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "runs": args.runs,
        "items": args.items,
        "raw_rows": args.raw_rows,
        "events": args.events,
        "figures": figures,
    }))
}

/// The ledger rebuild and verify read: `--events` events (FileItem, TriageItem, AssignItem,
/// AnswerItem per item), filled once through the writer with many commands in flight and kept
/// for later runs (schema `huiyin_bench_read_<events>`, or that file in the temporary
/// directory); refilled when it does not hold exactly that many records.
async fn read_ledger(args: &Args, postgres: bool) -> anyhow::Result<String> {
    let name = format!("huiyin_bench_read_{}", args.events);
    let url = if postgres {
        let admin = sqlx::PgPool::connect(&args.pg).await?;
        let (exists,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)",
        )
        .bind(&name)
        .fetch_one(&admin)
        .await?;
        if !exists {
            sqlx::query(&format!("CREATE SCHEMA {name}"))
                .execute(&admin)
                .await?;
        }
        admin.close().await;
        let separator = if args.pg.contains('?') { '&' } else { '?' };
        format!("{}{separator}options[search_path]={name}", args.pg)
    } else {
        let path = std::env::temp_dir().join(format!("{name}.db"));
        format!("sqlite://{}", path.display())
    };
    let store = infra::store::open_store(&url).await?;
    let tree_size = store.head().await?.tree_size;
    if tree_size == args.events as u64 {
        eprintln!("reusing {url}: {tree_size} events");
        return Ok(url);
    }
    anyhow::ensure!(
        tree_size == 0,
        "{url} holds {tree_size} events, not {}: drop it (DROP SCHEMA {name} CASCADE, or delete \
         the file) and run again",
        args.events
    );
    let started = Instant::now();
    let commands = (0..args.events / 4).flat_map(|item| {
        let item_id = format!("2026-R-{item:07}");
        (0..4).map(move |step| (item_step(&item_id, step), format!("{item_id}-{step}")))
    });
    fill(store, commands).await?;
    eprintln!(
        "filled {url} with {} events in {:.1} s",
        args.events,
        started.elapsed().as_secs_f64()
    );
    Ok(url)
}

/// Runs `commands` (each with its command id) through a writer on `store`, keeping up to
/// [`FILL_IN_FLIGHT_MAX`] in flight, and fails on the first that is not recorded.
pub(crate) async fn fill(
    store: Arc<dyn infra::store::EventStore>,
    commands: impl Iterator<Item = (Value, String)>,
) -> anyhow::Result<()> {
    let ledger = Ledger::new(store, Rules::default(), Arc::new(SystemClock));
    let writer = Writer::spawn(ledger, WriterConfig::default());
    let mut in_flight = std::collections::VecDeque::new();
    for (command, command_id) in commands {
        let submitted = Submitted::parse(&command.to_string())?;
        in_flight.push_back(writer.submit(&submitted, &command_id, None).await?);
        if in_flight.len() >= FILL_IN_FLIGHT_MAX {
            if let Some(answer) = in_flight.pop_front() {
                answer.await??;
            }
        }
    }
    while let Some(answer) = in_flight.pop_front() {
        answer.await??;
    }
    Ok(())
}

/// Rebuild and verify (child processes) and the raw read, each `runs` times.
async fn read_side(args: &Args, url: &str, postgres: bool) -> anyhow::Result<Vec<(String, Value)>> {
    let events = args.events as f64;
    let mut out = Vec::new();
    let raw = repeat(args.runs, || async {
        let started = Instant::now();
        let rows = raw_read(url, postgres).await?;
        anyhow::ensure!(rows as usize == args.events, "raw read saw {rows} rows");
        Ok(events / started.elapsed().as_secs_f64())
    })
    .await?;
    eprintln!("raw read: {raw:?}");
    out.push(("raw_read_rows_per_s".to_owned(), json!(median(raw))));
    for task in ["rebuild", "verify"] {
        let mut rates = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..args.runs {
            let (seconds, peak_kib) = child(args, url, task)?;
            rates.push(events / seconds);
            peaks.push(peak_kib as f64 / 1024.0);
        }
        eprintln!("{task}: {rates:?} per s, {peaks:?} MiB");
        out.push((format!("{task}_per_s"), json!(median(rates))));
        out.push((format!("{task}_peak_rss_mib"), json!(median(peaks))));
    }
    Ok(out)
}

/// Runs `huiyin --db URL TASK` to completion under GNU time: wall seconds and peak resident KiB.
fn child(args: &Args, url: &str, task: &str) -> anyhow::Result<(f64, i64)> {
    let report = std::env::temp_dir().join(format!("huiyin_bench_{}_rss", std::process::id()));
    let mut command = std::process::Command::new(TIME_PROGRAM);
    command
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(&args.huiyin)
        .arg("--db")
        .arg(url)
        .arg(task);
    if task == "rebuild" {
        command.arg("--quiet");
    }
    command.stdout(std::process::Stdio::null());
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("running {TIME_PROGRAM} {}", args.huiyin.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "{task} failed: {status}");
    let peak_kib = std::fs::read_to_string(&report)?
        .trim()
        .parse::<i64>()
        .context("GNU time's %M")?;
    Ok((seconds, peak_kib))
}

/// Reads every record's columns as fast as the database hands them out; returns the row count.
async fn raw_read(url: &str, postgres: bool) -> anyhow::Result<u64> {
    const SELECT: &str =
        "SELECT position, stream, version, canonical, hash, prev FROM events ORDER BY position";
    if postgres {
        use sqlx::postgres::PgPoolCopyExt;
        let pool = sqlx::PgPool::connect(url).await?;
        let mut copy = pool
            .copy_out_raw(&format!("COPY ({SELECT}) TO STDOUT"))
            .await?;
        let mut lines = 0u64;
        while let Some(chunk) = copy.try_next().await? {
            lines += chunk.iter().filter(|byte| **byte == b'\n').count() as u64;
        }
        pool.close().await;
        Ok(lines)
    } else {
        // A read-only rusqlite cursor on a blocking thread, every column looked at in place (no
        // copy): the fastest read of these rows there is, and the same access verify's scan has
        // (ADR 0015), so the ratio compares like with like.
        let path = sqlite_path(url).to_owned();
        tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            let connection = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            let mut statement = connection.prepare(SELECT)?;
            let mut rows = statement.query([])?;
            let (mut count, mut bytes) = (0u64, 0usize);
            while let Some(row) = rows.next()? {
                for column in 0..6 {
                    bytes += match row.get_ref(column)? {
                        rusqlite::types::ValueRef::Blob(value)
                        | rusqlite::types::ValueRef::Text(value) => value.len(),
                        _ => 8,
                    };
                }
                count += 1;
            }
            anyhow::ensure!(bytes > 0 || count == 0, "rows without bytes");
            Ok(count)
        })
        .await?
    }
}

fn sqlite_path(url: &str) -> &str {
    url.trim_start_matches("sqlite://")
}

/// FileItem, then the commands that answer it: `step` 0..4.
fn item_step(item_id: &str, step: usize) -> Value {
    let (kind, actor, role, data) = match step {
        0 => (
            "FileItem",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "kind": "suggestion", "title": "关于加快执行案款发放进度的建议",
                   "body": "建议进一步规范执行案款收发流程，缩短发放周期。",
                   "deputies": [{"id": "d-wangfang", "name": "王芳", "lead": true}]}),
        ),
        1 => (
            "TriageItem",
            "office-01",
            "court_office",
            json!({"item_id": item_id, "decision": "accept"}),
        ),
        2 => (
            "AssignItem",
            "office-01",
            "court_office",
            json!({"item_id": item_id, "lead_unit": "执行局",
                   "leader": {"id": "l-1", "name": "陈立新", "level": "president"}}),
        ),
        _ => (
            "AnswerItem",
            "l-1",
            "leader",
            json!({"item_id": item_id, "class": "A", "text": "已制定执行案款发放细则，平均发放周期缩短至二十日。"}),
        ),
    };
    let at = format!("2026-03-0{}T09:30:00+08:00", step + 2);
    json!({"type": kind, "at": at, "actor": actor, "role": role, "data": data})
}

/// Runs `items` × 4 commands with `submitters` concurrent submitters; returns commands/s.
async fn command_rate(
    url: &str,
    items: usize,
    submitters: usize,
    path: &str,
) -> anyhow::Result<f64> {
    let store = infra::store::open_store(url).await?;
    let ledger = Ledger::new(store, Rules::default(), Arc::new(SystemClock));
    let writer = Writer::spawn(ledger.clone(), WriterConfig::default());
    let direct = path == "direct";
    let started = Instant::now();
    let mut tasks = Vec::new();
    for submitter in 0..submitters {
        let (writer, ledger) = (writer.clone(), ledger.clone());
        tasks.push(tokio::spawn(async move {
            for item in (submitter..items).step_by(submitters) {
                let item_id = format!("2026-B-{item:07}");
                for step in 0..4 {
                    let text = item_step(&item_id, step).to_string();
                    let submitted = Submitted::parse(&text)?;
                    let command_id = format!("{item_id}-{step}");
                    if direct {
                        ledger.execute(&submitted, &command_id, None).await?;
                    } else {
                        writer.execute(&submitted, &command_id, None).await?;
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((items * 4) as f64 / started.elapsed().as_secs_f64())
}

/// Inserts `raw_rows` record-sized rows from 16 connections into a plain table with a unique
/// index, `rows_per_insert` rows per statement, each statement its own transaction; rows/s.
async fn raw_inserts(args: &Args, rows_per_insert: usize) -> anyhow::Result<f64> {
    let fresh = Fresh::new(args, true).await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(CONCURRENCY as u32)
        .connect(&fresh.url)
        .await?;
    sqlx::query(
        "CREATE TABLE raw_rows (id BIGINT NOT NULL, stream TEXT NOT NULL, canonical BYTEA NOT NULL, \
         hash BYTEA NOT NULL, prev BYTEA NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE UNIQUE INDEX raw_rows_id ON raw_rows (id)")
        .execute(&pool)
        .await?;
    let statements = args.raw_rows / rows_per_insert;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..CONCURRENCY {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for statement in (connection..statements).step_by(CONCURRENCY) {
                let first = statement * rows_per_insert;
                let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                    "INSERT INTO raw_rows (id, stream, canonical, hash, prev) ",
                );
                insert.push_values(first..first + rows_per_insert, |mut row, id| {
                    row.push_bind(id as i64)
                        .push_bind(format!("item/2026-B-{id:07}"))
                        .push_bind(vec![b'x'; RAW_ROW_BYTES])
                        .push_bind(vec![7u8; 32])
                        .push_bind(vec![9u8; 32]);
                });
                insert.build().execute(&pool).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = (statements * rows_per_insert) as f64 / started.elapsed().as_secs_f64();
    pool.close().await;
    fresh.drop_it(args).await?;
    Ok(rate)
}

/// A fresh, empty ledger: a new schema on PostgreSQL, a new file on SQLite.
struct Fresh {
    url: String,
    schema: Option<String>,
}

impl Fresh {
    async fn new(args: &Args, postgres: bool) -> anyhow::Result<Fresh> {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let serial = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("huiyin_bench_{}_{serial}", std::process::id());
        if !postgres {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            return Ok(Fresh {
                url: format!("sqlite://{}", path.display()),
                schema: None,
            });
        }
        let admin = sqlx::PgPool::connect(&args.pg).await?;
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let separator = if args.pg.contains('?') { '&' } else { '?' };
        Ok(Fresh {
            url: format!("{}{separator}options[search_path]={name}", args.pg),
            schema: Some(name),
        })
    }

    async fn drop_it(self, args: &Args) -> anyhow::Result<()> {
        match self.schema {
            Some(schema) => {
                let admin = sqlx::PgPool::connect(&args.pg).await?;
                sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await?;
                admin.close().await;
            }
            None => {
                let path = sqlite_path(&self.url).to_owned();
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
        }
        Ok(())
    }
}

async fn repeat<F, Fut>(runs: usize, mut once: F) -> anyhow::Result<Vec<f64>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<f64>>,
{
    let mut values = Vec::with_capacity(runs);
    for _ in 0..runs {
        values.push(once().await?);
    }
    Ok(values)
}

/// Each number of the board runs' figures (same shape every run) as its median over the runs,
/// with the runs' values beside it (`<name>_runs`).
fn board_medians(runs: &[Value]) -> Value {
    fn merge(runs: &[&Value]) -> Value {
        match runs.first() {
            Some(Value::Object(first)) => {
                let mut out = serde_json::Map::new();
                for key in first.keys() {
                    let values: Vec<&Value> = runs.iter().map(|run| &run[key]).collect();
                    if values.iter().all(|value| value.is_number()) {
                        let numbers: Vec<f64> =
                            values.iter().filter_map(|value| value.as_f64()).collect();
                        out.insert(format!("{key}_runs"), json!(numbers));
                        out.insert(key.clone(), json!(median(numbers)));
                    } else {
                        out.insert(key.clone(), merge(&values));
                    }
                }
                Value::Object(out)
            }
            Some(other) => (*other).clone(),
            None => Value::Null,
        }
    }
    merge(&runs.iter().collect::<Vec<_>>())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines().next().map(|line| {
                line.split_whitespace()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    json!({"nproc": cores, "cpu": cpu, "memory": memory})
}

/// The results as a Markdown section for BENCHMARKS.md.
fn markdown(args: &Args, results: &Value) -> String {
    let figure = |key: &str| results["figures"][key].as_f64().unwrap_or(f64::NAN);
    let ratio = |top: &str, bottom: &str| figure(top) / figure(bottom);
    let machine = &results["machine"];
    let sizes = if args.board_only {
        format!(
            "board items {}, {} clients, {} s each",
            args.board_items, args.board_clients, args.board_seconds
        )
    } else {
        format!(
            "items {}, raw rows {}, events {}",
            args.items, args.raw_rows, args.events
        )
    };
    let mut out = format!(
        "\n## {} — {} cores, {}, {}\n\nCommand: `{}` (median of {} runs; {sizes}).\n\n\
         | Figure | Value | Ratio to baseline | Target |\n|---|---:|---:|---|\n",
        results["date"].as_str().unwrap_or(""),
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or(""),
        machine["memory"].as_str().unwrap_or(""),
        results["command"].as_str().unwrap_or(""),
        args.runs,
    );
    if let Some(board) = results["figures"].get("board") {
        board_markdown(&mut out, args, board);
    }
    if args.board_only {
        return out;
    }
    let raw_single = "raw_inserts_per_s_postgres_1_row";
    let mut row = |name: String, value: f64, unit: &str, ratio: String, target: &str| {
        out.push_str(&format!(
            "| {name} | {value:.0} {unit} | {ratio} | {target} |\n"
        ));
    };
    for backend in ["postgres", "sqlite"] {
        for (path, submitters) in [("writer", 1), ("writer", 16), ("direct", 16)] {
            let key = format!("commands_per_s_{backend}_{path}_{submitters}");
            if results["figures"].get(&key).is_none() {
                continue;
            }
            let target = if backend == "postgres" && path == "writer" && submitters == 16 {
                "≥ 1.0× raw single-row, ≥ 15,000/s"
            } else {
                ""
            };
            let versus = format!("{:.2}× raw single-row", ratio(&key, raw_single));
            row(
                format!("commands, {backend}, {path}, {submitters} submitters"),
                figure(&key),
                "commands/s",
                versus,
                target,
            );
        }
    }
    // Not measured with --read-side-only: no rows, rather than rows of NaN.
    if results["figures"].get(raw_single).is_some() {
        row(
            "raw INSERT, PostgreSQL, 16 connections, 1 row/txn".to_owned(),
            figure(raw_single),
            "rows/s",
            "1.00×".to_owned(),
            "",
        );
        let raw_multi = "raw_inserts_per_s_postgres_100_row";
        let versus = format!("{:.2}×", ratio(raw_multi, raw_single));
        row(
            "raw INSERT, PostgreSQL, 16 connections, 100 rows/txn".to_owned(),
            figure(raw_multi),
            "rows/s",
            versus,
            "",
        );
    }
    for backend in ["postgres", "sqlite"] {
        let raw = format!("raw_read_rows_per_s_{backend}");
        if results["figures"].get(&raw).is_none() {
            continue;
        }
        let how = if backend == "postgres" {
            "COPY … TO STDOUT"
        } else {
            "SELECT, rusqlite cursor"
        };
        row(
            format!("raw read, {backend} ({how})"),
            figure(&raw),
            "rows/s",
            "1.00×".to_owned(),
            "",
        );
        for (task, target) in [
            ("rebuild", "≥ 25% raw, ≥ 200,000/s"),
            ("verify", "≥ 50% raw, ≥ 500,000/s"),
        ] {
            let key = format!("{task}_per_s_{backend}");
            let versus = format!("{:.1}% of raw read", 100.0 * ratio(&key, &raw));
            row(
                format!("{task}, {backend} (child process, wall)"),
                figure(&key),
                "events/s",
                versus,
                target,
            );
            let peak = format!("{task}_peak_rss_mib_{backend}");
            row(
                format!("{task} peak RSS, {backend}"),
                figure(&peak),
                "MiB",
                String::new(),
                "< 256 MB at 1,000,000",
            );
        }
    }
    out
}

/// The board rows of the Markdown table: p50 and p99 of each kind of page, all pages, and the
/// baselines, with the p99 ratios.
fn board_markdown(out: &mut String, args: &Args, board: &Value) {
    let ms = |figure: &Value, key: &str| figure[key].as_f64().unwrap_or(f64::NAN);
    let runs = |figure: &Value, key: &str| {
        figure[format!("{key}_runs")]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(Value::as_f64)
                    .map(|value| format!("{value:.1}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .unwrap_or_default()
    };
    let all = &board["board"];
    let health = &board["healthz"];
    let sqlx = &board["sqlx_first_page"];
    let mut line = |name: String, figure: &Value, ratio: String, target: &str| {
        out.push_str(&format!(
            "| {name} | p50 {:.1} ms, p99 {:.1} ms ({} ms), {:.0}/s | {ratio} | {target} |\n",
            ms(figure, "p50_ms"),
            ms(figure, "p99_ms"),
            runs(figure, "p99_ms"),
            ms(figure, "per_s"),
        ));
    };
    let versus = |figure: &Value| {
        format!(
            "p99 {:.1}× /healthz, {:.1}× sqlx",
            ms(figure, "p99_ms") / ms(health, "p99_ms"),
            ms(figure, "p99_ms") / ms(sqlx, "p99_ms")
        )
    };
    line(
        format!(
            "board pages over HTTP, {} items, {} clients, all kinds",
            args.board_items, args.board_clients
        ),
        all,
        versus(all),
        "p99 < 20 ms",
    );
    if let Some(kinds) = board["kinds"].as_object() {
        for (kind, figure) in kinds {
            line(format!("board page: {kind}"), figure, versus(figure), "");
        }
    }
    line(
        "GET /healthz over HTTP (baseline)".to_owned(),
        health,
        "1.00×".to_owned(),
        "",
    );
    line(
        "first page's two statements through sqlx, counts not cached (baseline)".to_owned(),
        sqlx,
        String::new(),
        "",
    );
}
