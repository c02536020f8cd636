//! What every test area shares: fresh databases on both backends, and the trial list.
//!
//! SQLite always runs. PostgreSQL runs against `HUIYIN_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets a schema of its own. When the
//! server is unreachable the PostgreSQL tests are skipped with a loud banner, unless
//! `HUIYIN_REQUIRE_PG=1` (which `.ci/run` sets): then they fail.

use std::future::Future;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use infra::store::{open_store, EventStore};
use libtest_mimic::{Failed, Trial};

/// The database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    pub const ALL: [Db; 2] = [Db::Sqlite, Db::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    }
}

/// A fresh, empty, migrated ledger of its own.
pub struct Fresh {
    /// What `--db` / `HUIYIN_DB` would be for this ledger.
    pub url: String,
    pub store: Arc<dyn EventStore>,
    /// Keeps the SQLite file's folder alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

static SCHEMA_COUNTER: AtomicU32 = AtomicU32::new(0);

fn pg_base_url() -> String {
    std::env::var("HUIYIN_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn pg_required() -> bool {
    std::env::var("HUIYIN_REQUIRE_PG").is_ok_and(|value| value == "1")
}

/// Whether PostgreSQL answers; asked once per test run.
pub fn pg_available() -> Result<(), String> {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    AVAILABLE
        .get_or_init(|| {
            block_on(async {
                let url = pg_base_url();
                let connect = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(&url);
                match connect.await {
                    Ok(pool) => {
                        pool.close().await;
                        Ok(())
                    }
                    Err(error) => Err(format!("{}: {error}", pg_base_url())),
                }
            })
        })
        .clone()
}

/// Creates a fresh ledger on `db`.
pub async fn fresh(db: Db) -> Fresh {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let path = dir.path().join("huiyin.db");
            let url = format!("sqlite://{}", path.display());
            let store = open_store(&url).await.expect("open SQLite ledger");
            Fresh {
                url,
                store,
                _dir: Some(dir),
            }
        }
        Db::Postgres => {
            let schema = format!(
                "huiyin_test_{}_{}",
                std::process::id(),
                SCHEMA_COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let admin = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&pg_base_url())
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&admin)
                .await
                .expect("drop old schema");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .expect("create schema");
            admin.close().await;
            let separator = if pg_base_url().contains('?') {
                '&'
            } else {
                '?'
            };
            let url = format!("{}{separator}options[search_path]={schema}", pg_base_url());
            let store = open_store(&url).await.expect("open PostgreSQL ledger");
            Fresh {
                url,
                store,
                _dir: None,
            }
        }
    }
}

/// A ledger at a database the test made itself (e.g. a private PostgreSQL cluster), migrated.
pub async fn fresh_at(url: &str) -> Fresh {
    let store = open_store(url).await.expect("open the ledger");
    Fresh {
        url: url.to_owned(),
        store,
        _dir: None,
    }
}

/// Runs a future to completion on a runtime of its own.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// One trial per backend for a test that takes a fresh ledger.
pub fn on_both<F, Fut>(area: &str, name: &str, test: F) -> Vec<Trial>
where
    F: Fn(Fresh) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()>,
{
    Db::ALL
        .into_iter()
        .map(|db| {
            let test = test.clone();
            let trial = Trial::test(format!("{area}::{}::{name}", db.name()), move || {
                if db == Db::Postgres {
                    if let Err(reason) = pg_available() {
                        return Err(Failed::from(format!(
                            "PostgreSQL is required but unreachable: {reason}"
                        )));
                    }
                }
                block_on(async move { test(fresh(db).await).await });
                Ok(())
            });
            let skip = db == Db::Postgres && !pg_required() && pg_available().is_err();
            trial.with_ignored_flag(skip)
        })
        .collect()
}

/// One trial on PostgreSQL only, for a test whose fault exists only there (connections cut by
/// the server). Skipped loudly, or failed under `HUIYIN_REQUIRE_PG=1`, like [`on_both`]'s.
pub fn on_postgres<F, Fut>(area: &str, name: &str, test: F) -> Trial
where
    F: Fn(Fresh) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    let trial = Trial::test(format!("{area}::postgres::{name}"), move || {
        if let Err(reason) = pg_available() {
            return Err(Failed::from(format!(
                "PostgreSQL is required but unreachable: {reason}"
            )));
        }
        block_on(async move { test(fresh(Db::Postgres).await).await });
        Ok(())
    });
    let skip = !pg_required() && pg_available().is_err();
    trial.with_ignored_flag(skip)
}

/// Prints the banner that says PostgreSQL tests were skipped, if they were.
pub fn announce_skips() {
    if let Err(reason) = pg_available() {
        if !pg_required() {
            eprintln!();
            eprintln!("##########################################################################");
            eprintln!("# WARNING: PostgreSQL tests SKIPPED (shown as 'ignored' below).");
            eprintln!("# PostgreSQL is unreachable: {reason}");
            eprintln!("# Set HUIYIN_TEST_PG to a reachable database to run them; .ci/run does.");
            eprintln!("##########################################################################");
            eprintln!();
        }
    }
}

/// Runs the built `huiyin --db URL ARGS…` on `db` with `stdin` as standard input.
pub fn huiyin(db: &Fresh, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .arg("--db")
        .arg(&db.url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start huiyin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("huiyin runs")
}
