//! Concurrency and crash tests against real `huiyin serve` processes (issue 8, points 1 and 2).
//!
//! - `serve`: start, SIGKILL and restart `huiyin serve` on one database (reusable).
//! - `client`: one HTTP exchange, sorted into acknowledged / refused / unknown.
//! - `history`: what every client sent and was told, and the check of the log against it.
//! - `workload`: racing clients (all try each step of the same items) and solo clients.
//! - `retry_race`: a retry racing its own first attempt inside one ledger (a regression test).
//! - `hostile_http`: bytes no HTTP library would send, over a socket to a real server.
//!
//! Each scenario prints one summary line (`fault: …`) that RELIABILITY.md quotes.

mod client;
mod history;
mod hostile_http;
pub(crate) mod private_pg;
mod retry_race;
mod serve;
mod workload;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::Trial;
use serde_json::Value;

use self::history::{check_log_against, History, Sent, Tally, Verdict};
use self::serve::{log_tail, ServeProcess};
use self::workload::{racing_items, Client, Servers, Tokens, LIFE};
use crate::support::{fresh_at, huiyin, on_both, on_postgres, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = on_both(
        "fault",
        "concurrent_clients_racing_and_apart_leave_a_log_matching_every_answer",
        concurrent_clients_racing_and_apart_leave_a_log_matching_every_answer,
    );
    trials.extend(on_both(
        "fault",
        "serve_killed_with_sigkill_under_load_loses_nothing_acknowledged_and_retries_add_nothing",
        serve_killed_with_sigkill_under_load_loses_nothing_acknowledged_and_retries_add_nothing,
    ));
    trials.push(on_postgres(
        "fault",
        "database_connections_cut_under_load_answer_503_and_recover_by_themselves",
        database_connections_cut_under_load_answer_503_and_recover_by_themselves,
    ));
    trials.push(on_postgres(
        "fault",
        "postgres_crashed_and_restarted_under_load_answers_503_then_recovers_losing_nothing",
        postgres_crashed_and_restarted_under_load_answers_503_then_recovers_losing_nothing,
    ));
    trials.extend(retry_race::trials());
    trials.extend(hostile_http::trials());
    trials.extend(on_both(
        "fault",
        "the_load_test_runs_two_seconds_with_nothing_but_200_and_racing_409",
        the_load_test_runs_two_seconds_with_nothing_but_200_and_racing_409,
    ));
    trials
}

/// When the board's due-soon and overdue flags are judged in every comparison.
const JUDGED_AT: &str = "2024-12-31";

/// A bound on waiting for the log to grow under load (the load is running; it grows at once).
const GROWTH_BOUND: Duration = Duration::from_secs(60);

/// A ledger with its servers, the servers' log folder and the clients' shared state.
struct Rig {
    db: Fresh,
    db_url_for_servers: String,
    processes: Vec<ServeProcess>,
    servers: Arc<Servers>,
    tokens: Tokens,
    history: Arc<History>,
    logs: tempfile::TempDir,
}

impl Rig {
    /// Starts `count` servers on `db` (each with its own log file).
    fn start(db: Fresh, count: usize, db_url_for_servers: String) -> Rig {
        let tokens = Tokens::issue(&db);
        let logs = tempfile::tempdir().expect("log folder");
        let processes: Vec<ServeProcess> = (0..count)
            .map(|slot| ServeProcess::start(&db_url_for_servers, &[], &log_path(logs.path(), slot)))
            .collect();
        let servers = Servers::new(processes.iter().map(|p| p.address.clone()).collect());
        Rig {
            db,
            db_url_for_servers,
            processes,
            servers,
            tokens,
            history: Arc::new(History::default()),
            logs,
        }
    }

    fn client(&self, number: usize) -> Client {
        Client {
            number,
            servers: Arc::clone(&self.servers),
            tokens: self.tokens.clone(),
            history: Arc::clone(&self.history),
        }
    }

    /// Kills server `slot` with SIGKILL, starts it again on the same database, and points the
    /// clients of that slot at its new address.
    fn kill_and_restart(&mut self, slot: usize) {
        let killed = std::mem::replace(
            &mut self.processes[slot],
            ServeProcess::start(
                &self.db_url_for_servers,
                &[],
                &log_path(self.logs.path(), slot),
            ),
        );
        // The new process is started first only so the slot is never empty; the old one dies now.
        killed.kill_9();
        self.servers
            .replace(slot, self.processes[slot].address.clone());
    }

    /// Stops every server with SIGTERM; each must exit cleanly.
    fn stop_servers(&mut self) {
        for process in self.processes.drain(..) {
            assert!(process.terminate(), "huiyin serve exits cleanly on SIGTERM");
        }
    }

    fn server_logs(&self) -> String {
        (0..self.servers.slots())
            .map(|slot| log_tail(&log_path(self.logs.path(), slot)))
            .collect::<Vec<_>>()
            .join("\n---\n")
    }
}

fn log_path(folder: &Path, slot: usize) -> std::path::PathBuf {
    folder.join(format!("serve-{slot}.log"))
}

/// Waits (bounded) until the log holds more than `tree_size` + `growth` records.
async fn wait_for_log_growth(db: &Fresh, tree_size: u64, growth: u64) -> u64 {
    let started = Instant::now();
    loop {
        let now = db.store.head().await.expect("head").tree_size;
        if now >= tree_size + growth {
            return now;
        }
        assert!(
            started.elapsed() < GROWTH_BOUND,
            "the log stayed at {now} under load"
        );
        // The polling interval of a bounded wait on the log's head.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Clients at work on threads: `racers` racing over `racing` shared items and `solos` solo
/// clients doing at most `solo_items` items each (fewer once told to stop).
struct Load {
    stop: Arc<AtomicBool>,
    handles: Vec<std::thread::JoinHandle<Vec<Result<u16, String>>>>,
}

impl Load {
    fn start(rig: &Rig, racers: usize, racing: usize, solos: usize, solo_items: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let items = racing_items(racing);
        let mut handles = Vec::new();
        for number in 0..racers {
            let client = rig.client(number);
            let items = items.clone();
            handles.push(std::thread::spawn(move || {
                client.race(&items);
                Vec::new()
            }));
        }
        for number in racers..racers + solos {
            let client = rig.client(number);
            let stop = Arc::clone(&stop);
            handles.push(std::thread::spawn(move || client.solo(solo_items, &stop)));
        }
        Load { stop, handles }
    }

    /// Tells the solo clients to stop after their current item, then [`Load::finish`]es.
    fn stop(self) -> Vec<Result<u16, String>> {
        self.stop.store(true, Ordering::Relaxed);
        self.finish()
    }

    /// Waits for every client to finish its work; returns the reads' statuses. Bounded: every
    /// command is settled within `RETRY_BOUND`, and a solo client's items are bounded too.
    fn finish(self) -> Vec<Result<u16, String>> {
        let mut reads = Vec::new();
        for handle in self.handles {
            reads.extend(handle.join().expect("a client thread panicked"));
        }
        reads
    }
}

/// The domain's promise for racing items: each step of each item was won by exactly one
/// racer, and every racer that did not win it was refused with 409.
fn each_racing_step_has_one_winner(history: &[Sent], racing: usize, racers: usize) {
    for item in racing_items(racing) {
        for (kind, _) in LIFE {
            let tries: Vec<&Sent> = history
                .iter()
                .filter(|sent| sent.item_id == item && sent.command_type == kind)
                .collect();
            assert_eq!(tries.len(), racers, "{item} {kind}: every racer tried");
            let winners = tries
                .iter()
                .filter(|sent| matches!(sent.verdict(), Verdict::Acknowledged(_)))
                .count();
            assert_eq!(winners, 1, "{item} {kind}: exactly one winner: {tries:#?}");
            for sent in &tries {
                if let Verdict::Refused(code) = sent.verdict() {
                    assert!(
                        code == "wrong_state" || code == "conflict",
                        "{item} {kind}: a loser is told 409 wrong_state or conflict: {sent:?}"
                    );
                }
            }
        }
    }
}

/// Every solo client's command was acknowledged: nothing of theirs was refused or left unknown.
fn every_solo_command_was_acknowledged(history: &[Sent]) {
    for sent in history.iter().filter(|sent| sent.item_id.starts_with("S-")) {
        assert!(
            matches!(sent.verdict(), Verdict::Acknowledged(_)),
            "a solo command must succeed: {sent:?}"
        );
    }
}

/// `huiyin verify` passes; the board the running server shows equals the log folded from
/// scratch in memory (`board --as-of`) and the tables after `huiyin rebuild`.
async fn verify_and_board_equals_rebuild(rig: &mut Rig, tree_size: u64) {
    let verified = huiyin(&rig.db, &["verify"], "");
    assert_eq!(
        verified.status.code(),
        Some(0),
        "verify: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // One page of the most items a page holds: the whole board of these runs.
    let path = format!("/api/board?limit=1000&now={JUDGED_AT}");
    let (status, mut live) = client::exchange(
        &rig.servers.address(0),
        "GET",
        &path,
        Some(rig.tokens.of("auditor")),
        "",
    )
    .expect("the board");
    assert_eq!(status, 200, "{live}");
    // The command line prints the whole board, without the API's `page`.
    let page = live
        .as_object_mut()
        .and_then(|board| board.remove("page"))
        .expect("a page");
    assert_eq!(page["has_more"], false, "{page}");
    // The servers are done; the rebuild below must not race their runners.
    rig.stop_servers();
    let last = (tree_size - 1).to_string();
    let replayed = board_json(rig, &["--as-of", &last]);
    assert_eq!(
        live["items"], replayed["items"],
        "live board = the log folded from scratch"
    );
    assert_eq!(live["summary"], replayed["summary"]);
    let rebuilt = huiyin(&rig.db, &["rebuild"], "");
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    let after_rebuild = board_json(rig, &[]);
    assert_eq!(
        live, after_rebuild,
        "live board = the board after huiyin rebuild"
    );
}

fn board_json(rig: &Rig, extra: &[&str]) -> Value {
    let mut args = vec!["board", "--format", "json", "--now", JUDGED_AT];
    args.extend_from_slice(extra);
    let output = huiyin(&rig.db, &args, "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("board JSON")
}

/// The whole check after a run: the log against the history, the racing and solo promises, no
/// 500 anywhere, verify and the board. Returns the tally.
async fn check_run(
    rig: &mut Rig,
    racing: usize,
    racers: usize,
    reads: &[Result<u16, String>],
) -> Tally {
    let history = rig.history.all();
    let tally = check_log_against(&*rig.db.store, &history).await;
    each_racing_step_has_one_winner(&history, racing, racers);
    every_solo_command_was_acknowledged(&history);
    assert!(
        !tally.server_errors.contains_key(&500),
        "a 500 was answered: {tally}\n{}",
        rig.server_logs()
    );
    for read in reads {
        assert!(
            matches!(read, Ok(200 | 503) | Err(_)),
            "a read was answered {read:?}\n{}",
            rig.server_logs()
        );
    }
    verify_and_board_equals_rebuild(rig, tally.records).await;
    tally
}

async fn concurrent_clients_racing_and_apart_leave_a_log_matching_every_answer(db: Fresh) {
    // PostgreSQL: two server processes on one schema; SQLite: one process.
    let processes = if db.url.starts_with("postgres") { 2 } else { 1 };
    let url = db.url.clone();
    let mut rig = Rig::start(db, processes, url);
    let (racers, racing, solos, solo_items) = (12, 6, 12, 6);
    let reads = Load::start(&rig, racers, racing, solos, solo_items).finish();
    let tally = check_run(&mut rig, racing, racers, &reads).await;
    assert!(
        tally.server_errors.is_empty() && tally.no_answer == 0,
        "no faults here: {tally}"
    );
    assert_eq!(
        tally.acknowledged,
        racing * LIFE.len() + solos * solo_items * LIFE.len()
    );
    eprintln!(
        "fault: concurrency {} processes={processes} clients={} reads={} {tally}",
        format!("{:?}", rig.db.store.backend()).to_lowercase(),
        racers + solos,
        reads.len()
    );
}

async fn serve_killed_with_sigkill_under_load_loses_nothing_acknowledged_and_retries_add_nothing(
    db: Fresh,
) {
    let processes = if db.url.starts_with("postgres") { 2 } else { 1 };
    let url = db.url.clone();
    let mut rig = Rig::start(db, processes, url);
    let (racers, racing, solos) = (4, 3, 8);
    let kills = 5;
    let load = Load::start(&rig, racers, racing, solos, usize::MAX);
    let mut tree_size = 0;
    for kill in 0..kills {
        // Kill only once the load is demonstrably in flight against the current processes.
        tree_size = wait_for_log_growth(&rig.db, tree_size, 60).await;
        rig.kill_and_restart(kill % processes);
    }
    wait_for_log_growth(&rig.db, tree_size, 30).await;
    let reads = load.stop();
    let tally = check_run(&mut rig, racing, racers, &reads).await;
    assert!(tally.no_answer > 0, "the kills cut some requests: {tally}");
    eprintln!(
        "fault: sigkill {} processes={processes} kills={kills} clients={} reads={} {tally}",
        format!("{:?}", rig.db.store.backend()).to_lowercase(),
        racers + solos,
        reads.len()
    );
}

/// How long the database connections of the servers are cut, over and over.
const CUT_FOR: Duration = Duration::from_secs(3);

async fn database_connections_cut_under_load_answer_503_and_recover_by_themselves(db: Fresh) {
    // The servers name themselves to PostgreSQL so that only their connections are cut: other
    // tests share this server.
    let application = format!("huiyin_fault_{}", std::process::id());
    let url = format!("{}&application_name={application}", db.url);
    let mut rig = Rig::start(db, 2, url);
    let (racers, racing, solos) = (4, 3, 8);
    let load = Load::start(&rig, racers, racing, solos, usize::MAX);
    let tree_size = wait_for_log_growth(&rig.db, 0, 30).await;
    let terminated = cut_connections(&rig.db, &application, CUT_FOR).await;
    // Recovered by themselves: the log grows again with no one restarting anything.
    wait_for_log_growth(&rig.db, tree_size, 60).await;
    let reads = load.stop();
    let tally = check_run(&mut rig, racing, racers, &reads).await;
    assert!(terminated > 0, "connections were cut");
    assert!(
        tally.server_errors.keys().all(|status| *status == 503),
        "only 503 while the database is away: {tally}\n{}",
        rig.server_logs()
    );
    eprintln!(
        "fault: db-away postgres processes=2 cut_for_s={} backends_terminated={terminated} \
         clients={} reads={} {tally}",
        CUT_FOR.as_secs(),
        racers + solos,
        reads.len()
    );
}

/// A bound on waiting for the servers to notice that their database is away (the pool gives up
/// connecting after `POSTGRES_ACQUIRE_TIMEOUT`) and for them to recover.
const AWAY_BOUND: Duration = Duration::from_secs(60);

/// Stops a PostgreSQL cluster of the test's own (`pg_ctl stop -m immediate`, a crash) under
/// load, until every server answers `/healthz` with 503; starts it again; the servers recover by
/// themselves. The shared server other tests use is never touched.
async fn postgres_crashed_and_restarted_under_load_answers_503_then_recovers_losing_nothing(
    _shared: Fresh,
) {
    let cluster = private_pg::PrivateCluster::start();
    let db = fresh_at(&cluster.url()).await;
    let url = db.url.clone();
    let mut rig = Rig::start(db, 2, url);
    let (racers, racing, solos) = (4, 3, 8);
    let load = Load::start(&rig, racers, racing, solos, usize::MAX);
    let tree_size = wait_for_log_growth(&rig.db, 0, 60).await;
    cluster.pg_ctl_stop_immediate();
    let stopped = Instant::now();
    for slot in 0..rig.servers.slots() {
        wait_for_health(&rig.servers.address(slot), 503).await;
    }
    // A page asked for with a session cookie must look the session up: while the database is
    // away that is 503 `unavailable`, as for the API, never 500.
    let page = client::exchange_with(
        &rig.servers.address(0),
        "GET",
        "/",
        &[("Cookie", "huiyin_session=any-session")],
        "",
    );
    assert!(
        matches!(&page, Ok((503, Value::String(html))) if html.contains(r#"data-code="unavailable""#)),
        "a page while the database is away: {page:?}"
    );
    let away_for = stopped.elapsed();
    cluster.pg_ctl_start();
    for slot in 0..rig.servers.slots() {
        wait_for_health(&rig.servers.address(slot), 200).await;
    }
    wait_for_log_growth(&rig.db, tree_size, 60).await;
    let reads = load.stop();
    let tally = check_run(&mut rig, racing, racers, &reads).await;
    assert!(
        tally.server_errors.keys().all(|status| *status == 503),
        "only 503 while the database is away: {tally}\n{}",
        rig.server_logs()
    );
    eprintln!(
        "fault: pg-stopped postgres processes=2 away_s={:.1} clients={} reads={} {tally}",
        away_for.as_secs_f64(),
        racers + solos,
        reads.len()
    );
    drop(cluster);
}

/// Waits (bounded) until `GET /healthz` on `address` answers `status`.
async fn wait_for_health(address: &str, status: u16) {
    let started = Instant::now();
    loop {
        let answer = client::exchange(address, "GET", "/healthz", None, "");
        if answer.as_ref().is_ok_and(|(got, _)| *got == status) {
            return;
        }
        assert!(
            started.elapsed() < AWAY_BOUND,
            "{address} /healthz never answered {status}: {answer:?}"
        );
        // The polling interval of a bounded wait on the server's health.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Terminates every backend of `application` (`pg_terminate_backend`) every 50 ms for `span`;
/// returns how many were terminated.
async fn cut_connections(db: &Fresh, application: &str, span: Duration) -> u64 {
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .expect("connect to PostgreSQL");
    let started = Instant::now();
    let mut terminated = 0;
    while started.elapsed() < span {
        let killed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()) AS cut",
        )
        .bind(application)
        .fetch_one(&admin)
        .await
        .expect("terminate backends");
        terminated += killed as u64;
        // The fault's own rhythm: cut again every 50 ms while the span lasts.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    admin.close().await;
    terminated
}

/// The smoke run of `huiyin-load` (`just load` runs it for 60 s with 32 clients): it exits 0
/// only when every answer was 200 or, for racing commands, 409.
async fn the_load_test_runs_two_seconds_with_nothing_but_200_and_racing_409(db: Fresh) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_huiyin-load"))
        .args(["--duration-s", "2", "--clients", "4", "--db", &db.url])
        .arg("--huiyin")
        .arg(env!("CARGO_BIN_EXE_huiyin"))
        .output()
        .expect("run huiyin-load");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.contains("unexpected answers (not 200, not a racing 409): 0"),
        "{report}"
    );
    assert!(
        report.contains("| POST /api/commands (own item) |"),
        "{report}"
    );
}
