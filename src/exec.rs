//! `huiyin exec`: runs JSON commands and prints one result line per command.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use aggregates::actor::{Actor, Role};
use aggregates::rules::Rules;
use anyhow::Context;
use commands::{CommandError, CommandOutcome, Ledger, Submitted, SystemClock};
use infra::store::EventStore;
use serde_json::{json, Value};

use crate::cli::ExecArgs;
use crate::output;

/// Splits input into commands: one JSON value (which may span lines), or JSON Lines.
pub(crate) fn split_commands(text: &str) -> Vec<&str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if serde_json::from_str::<Value>(trimmed).is_ok() {
        return vec![trimmed];
    }
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

/// The actor the flags name, when they name one. A role without an actor (or the reverse) is
/// completed by each line.
fn default_actor(args: &ExecArgs) -> anyhow::Result<Option<Actor>> {
    match (&args.actor, &args.role) {
        (Some(id), Some(role)) => {
            let role: Role = role.parse().with_context(|| format!("--role {role}"))?;
            Ok(Some(Actor {
                id: id.clone(),
                role,
            }))
        }
        _ => Ok(None),
    }
}

pub(crate) async fn run(
    store: Arc<dyn EventStore>,
    rules: Rules,
    args: ExecArgs,
) -> anyhow::Result<ExitCode> {
    let text = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading commands from standard input")?;
        text
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading commands from {}", args.file.display()))?
    };
    let defaults = default_actor(&args)?;
    let ledger = Ledger::new(store, rules, Arc::new(SystemClock));
    let mut all_ok = true;
    for line in split_commands(&text) {
        let result = run_one(&ledger, line, &args, defaults.as_ref()).await;
        match result {
            Ok(outcome) => output::json_line(&accepted(&outcome))?,
            Err((
                command_id,
                CommandError::Refused {
                    code,
                    message,
                    message_zh,
                },
            )) => {
                all_ok = false;
                output::json_line(&json!({
                    "ok": false,
                    "command_id": command_id,
                    "error": {"code": code.as_str(), "message": message, "message_zh": message_zh},
                }))?;
            }
            Err((_, failure)) => return Err(failure.into()),
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn run_one(
    ledger: &Ledger,
    line: &str,
    args: &ExecArgs,
    defaults: Option<&Actor>,
) -> Result<CommandOutcome, (Option<String>, CommandError)> {
    let mut submitted = Submitted::parse(line).map_err(|error| (None, error))?;
    // Flags fill in what a line leaves out; the line wins where it speaks.
    if submitted.actor.is_none() {
        submitted.actor.clone_from(&args.actor);
    }
    if submitted.role.is_none() {
        submitted.role.clone_from(&args.role);
    }
    let command_id = submitted
        .command_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    ledger
        .execute(&submitted, &command_id, defaults)
        .await
        .map_err(|error| (Some(command_id), error))
}

fn accepted(outcome: &CommandOutcome) -> Value {
    json!({
        "ok": true,
        "command_id": outcome.command_id,
        "stream": outcome.stream,
        "positions": outcome.positions,
        "hashes": outcome.hashes.iter().map(|hash| hash.to_hex()).collect::<Vec<_>>(),
        "replayed": outcome.replayed,
    })
}
