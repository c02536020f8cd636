//! `huiyin`: the program. It wires the command line to the ledger and the HTTP API (the `huiyin`
//! library, `src/lib.rs`); every rule lives in the library crates (see ARCHITECTURE.md).
//!
//! Exit codes: 0 success; 1 a command was refused or the program could not do its job;
//! 2 `verify` found the log broken.

mod access;
mod cli;
mod config;
mod demo;
mod exec;
mod keys;
mod output;
mod proof;
mod read;
mod remind;
mod serve;
mod stats;
mod xlsx;

use std::process::ExitCode;

use aggregates::rules::Rules;
use clap::Parser;
use infra::store::{open_stores_with, Stores};

use crate::cli::{Cli, Command};

/// The default ledger: an embedded SQLite file in the working directory.
pub(crate) const DEFAULT_DB: &str = "huiyin.db";

/// The default ledger name; checkpoints then have the origin `huiyin/default`.
pub(crate) const DEFAULT_LEDGER: &str = "default";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HUIYIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("huiyin: cannot start: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("huiyin: {error:#}");
            ExitCode::from(1)
        }
    }
}

async fn open(db: &str, pg_connections_max: u32) -> anyhow::Result<Stores> {
    open_stores_with(db, pg_connections_max)
        .await
        .map_err(|error| anyhow::anyhow!("cannot open the ledger at {db}: {error}"))
}

/// Runs a command. `tlog`, `keygen` and `verify --export` never open a database.
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let origin = infra::checkpoint::origin_for(&cli.ledger);
    match cli.command {
        Command::Tlog(command) => proof::tlog(command),
        Command::Keygen(args) => keys::keygen(args, &origin),
        Command::Verify(args) if args.export.is_some() => read::verify_export(args),
        command => {
            let rules = config::load(cli.config.as_deref())?;
            let stores = open(&cli.db, cli.db_connections).await?;
            run_on_store(&stores, &rules, command, &origin, cli.config.as_deref()).await
        }
    }
}

async fn run_on_store(
    stores: &Stores,
    rules: &Rules,
    command: Command,
    origin: &str,
    config_path: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let store = stores.events.clone();
    match command {
        Command::Exec(args) => exec::run(store, rules.clone(), args).await,
        Command::Board(args) => read::board(stores, rules, args).await,
        Command::Stats(args) => stats::run(stores, rules, args).await,
        Command::Trail(args) => read::trail(store, args).await,
        Command::Verify(args) => read::verify(store, args).await,
        Command::Demo(args) => demo::run(stores, rules, args).await,
        Command::Rebuild(args) => read::rebuild(stores, args).await,
        Command::Remind(args) => {
            let notice_rules = config::load_notice_rules(config_path)?;
            remind::run(stores, rules, &notice_rules, args).await
        }
        Command::Send(args) => {
            let sender = config::load_sender(config_path)?;
            remind::send(stores, rules, sender, args).await
        }
        Command::Notify(args) => {
            let notice_rules = config::load_notice_rules(config_path)?;
            let sender = config::load_sender(config_path)?;
            remind::notify(stores.clone(), rules, notice_rules, sender, args).await
        }
        Command::Checkpoint(args) => proof::checkpoint(store, args, origin).await,
        Command::Cosign(args) => proof::cosign(store, args).await,
        Command::Prove(args) => proof::prove(store, args).await,
        Command::Export(args) => proof::export(store, args, origin).await,
        Command::Import(args) => proof::import(store, args).await,
        Command::Serve(args) => serve::run(stores.clone(), rules.clone(), args, origin).await,
        Command::Token(args) => access::token(stores, args).await,
        Command::Password(args) => access::password(stores, args).await,
        Command::Tlog(_) | Command::Keygen(_) => unreachable!("handled without a database"),
    }
}
