//! Running the `huiyin` binary as a child process, for the tools that measure it from outside
//! (`huiyin-bench`'s board measurement, `huiyin-load`): one CLI call read as JSON, and
//! `huiyin serve` on a free port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;

/// A started `huiyin serve` must print its address within this (it may migrate a large
/// ledger first).
pub(crate) const SERVER_START_BOUND: Duration = Duration::from_secs(600);

/// `huiyin --db URL ARGS…`, its standard output as JSON.
pub(crate) fn huiyin_json(huiyin: &Path, db: &str, args: &[&str]) -> anyhow::Result<Value> {
    let output = Command::new(huiyin)
        .arg("--db")
        .arg(db)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", huiyin.display()))?;
    if !output.status.success() {
        bail!("huiyin {args:?} failed");
    }
    serde_json::from_slice(&output.stdout).context("huiyin printed no JSON")
}

/// Starts `huiyin serve` (with `--demo` when asked) on a free port: the child and its address,
/// read from the line it prints.
pub(crate) fn start_server(huiyin: &Path, db: &str, demo: bool) -> anyhow::Result<(Child, String)> {
    let mut command = Command::new(huiyin);
    command
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if demo {
        command.arg("--demo");
    }
    let mut child = command.spawn().context("cannot start huiyin serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(address) = line.strip_prefix("huiyin: listening on http://") {
                let _ = sender.send(address.to_owned());
            }
        }
    });
    match receiver.recv_timeout(SERVER_START_BOUND) {
        Ok(address) => Ok((child, address)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("huiyin serve printed no address within {SERVER_START_BOUND:?}")
        }
    }
}

/// Stops a `huiyin serve` the way an operator would (SIGTERM: it finishes requests in flight)
/// and waits for it.
pub(crate) fn stop(mut server: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
