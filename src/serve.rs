//! `huiyin serve [--addr 127.0.0.1:8080] [--demo]`: the HTTP API, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aggregates::rules::Rules;
use anyhow::Context;
use commands::SystemClock;
use huiyin::http::{serve, AppState, HttpConfig};
use infra::note::SignerKey;
use infra::signing::sign_checkpoint;
use infra::store::{EventStore, Stores};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::output;

pub(crate) async fn run(
    stores: Stores,
    rules: Rules,
    args: ServeArgs,
    origin: &str,
) -> anyhow::Result<ExitCode> {
    let demo_logins = if args.demo {
        crate::demo::load_demo(&stores, &rules, crate::demo::SEED_DEFAULT).await?;
        crate::demo::demo_logins(&stores, &rules).await?
    } else {
        Vec::new()
    };
    // The demo signs its checkpoints with a published key unless given one, so that the audit
    // page has a checkpoint to show and `verify --key` something to check.
    let signer = match &args.checkpoint_key {
        Some(path) => Some(crate::keys::read_signer(path)?),
        None if args.demo => Some(crate::demo::demo_signer(origin)?),
        None => None,
    };
    let (stop_signing, signing_stopped) = tokio::sync::watch::channel(false);
    let signing = match &signer {
        Some(signer) => {
            let signer = signer.clone();
            let every = Duration::from_secs(args.checkpoint_every_s);
            let events = Arc::clone(&stores.events);
            let origin = origin.to_owned();
            Some(tokio::spawn(sign_checkpoints(
                events,
                signer,
                origin,
                every,
                signing_stopped,
            )))
        }
        None => None,
    };
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
    if !demo_logins.is_empty() {
        let mut lines = format!(
            "huiyin: open http://{address}/ and log in as any of these (demo only: the passwords \
             are printed on purpose; never use them for a real ledger)\n  {:<14}{:<14}{}",
            "role", "person_id", "password"
        );
        for login in &demo_logins {
            lines.push_str(&format!(
                "\n  {:<14}{:<14}{}",
                login.role.as_str(),
                login.person_id,
                login.password
            ));
        }
        if args.checkpoint_key.is_none() {
            if let Some(signer) = &signer {
                lines.push_str(&format!(
                    "\nhuiyin: checkpoints are signed with the demo's published key (demo only); \
                     check them with: huiyin verify --key {}",
                    signer.verifier()
                ));
            }
        }
        output::text(&lines)?;
    }
    serve(listener, state, shutdown_signal())
        .await
        .context("the server stopped")?;
    let _ = stop_signing.send(true);
    if let Some(signing) = signing {
        let _ = signing.await;
    }
    eprintln!("huiyin: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Signs a checkpoint now and then every `every`, whenever the log has grown, until `stopped`
/// turns true. A failure is logged and retried at the next tick: it must not stop the server,
/// and `sign_checkpoint` refuses, rather than signs, a log inconsistent with the last checkpoint.
async fn sign_checkpoints(
    events: Arc<dyn EventStore>,
    signer: SignerKey,
    origin: String,
    every: Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.wait_for(|stopped| *stopped) => return,
        }
        match sign_checkpoint(&*events, &signer, &origin).await {
            Ok(signed) if signed.fresh => tracing::info!(
                checkpoint_id = signed.stored.checkpoint_id,
                "signed a checkpoint"
            ),
            Ok(_) => tracing::debug!("the log has not grown since the last checkpoint"),
            Err(error) => tracing::error!(%error, "cannot sign a checkpoint"),
        }
    }
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    stop_signal().await;
    eprintln!("huiyin: shutting down; finishing requests in flight");
}

/// Completes on Ctrl-C or, on Unix, SIGTERM, silently.
pub(crate) async fn stop_signal() {
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
}
