//! `huiyin serve [--addr 127.0.0.1:8080] [--demo]`: the HTTP API, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use aggregates::rules::Rules;
use anyhow::Context;
use commands::SystemClock;
use huiyin::http::{serve, AppState, HttpConfig};
use infra::store::Stores;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::output;

pub(crate) async fn run(stores: Stores, rules: Rules, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.demo {
        crate::demo::load_demo(&stores, &rules, crate::demo::SEED_DEFAULT).await?;
    }
    let listener = TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let address = listener.local_addr()?;
    let state = AppState::new(
        stores,
        rules,
        Arc::new(SystemClock),
        HttpConfig::for_address(address),
    );
    // Tests and scripts read this line to learn the port (with --addr 127.0.0.1:0).
    output::text(&format!("huiyin: listening on http://{address}"))?;
    serve(listener, state, shutdown_signal())
        .await
        .context("the server stopped")?;
    eprintln!("huiyin: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot wait for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot wait for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    eprintln!("huiyin: shutting down; finishing requests in flight");
}
