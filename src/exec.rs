//! `huiyin exec`: runs JSON commands and prints one result line per command.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use aggregates::actor::{Actor, Role};
use aggregates::rules::Rules;
use anyhow::Context;
use commands::{
    CommandError, CommandOutcome, Ledger, Submitted, SystemClock, Writer, WriterConfig,
};
use futures::future::BoxFuture;
use futures::FutureExt;
use infra::store::EventStore;
use serde_json::{json, Value};

use crate::cli::ExecArgs;
use crate::output;

/// Splits input into commands: one JSON value (which may span lines), or JSON Lines. A line
/// that is not UTF-8 is kept, as an error, so that it is refused on its own line of output
/// rather than stopping the whole run.
pub(crate) fn split_commands(input: &[u8]) -> Vec<Result<&str, std::str::Utf8Error>> {
    if let Ok(text) = std::str::from_utf8(input) {
        return split_text(text).into_iter().map(Ok).collect();
    }
    input
        .split(|byte| *byte == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
        .map(std::str::from_utf8)
        .collect()
}

fn split_text(text: &str) -> Vec<&str> {
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
    let input = if args.file.as_os_str() == "-" {
        let mut input = Vec::new();
        std::io::stdin()
            .read_to_end(&mut input)
            .context("reading commands from standard input")?;
        input
    } else {
        std::fs::read(&args.file)
            .with_context(|| format!("reading commands from {}", args.file.display()))?
    };
    let defaults = default_actor(&args)?;
    let ledger = Ledger::new(store, rules, Arc::new(SystemClock));
    // Lines go to the group-commit writer in input order and are decided in that order; up to
    // EXEC_IN_FLIGHT_MAX wait for their answers at once, printed in input order.
    let writer = Writer::spawn(ledger, WriterConfig::default());
    let mut in_flight: std::collections::VecDeque<Answer> = std::collections::VecDeque::new();
    let mut all_ok = true;
    for line in split_commands(&input) {
        if in_flight.len() >= EXEC_IN_FLIGHT_MAX {
            if let Some(answer) = in_flight.pop_front() {
                all_ok &= print_result(answer.await)?;
            }
        }
        let answer = match line {
            Ok(line) => submit_one(&writer, line, &args, defaults.as_ref()).await,
            Err(error) => not_utf8(error),
        };
        in_flight.push_back(answer);
    }
    while let Some(answer) = in_flight.pop_front() {
        all_ok &= print_result(answer.await)?;
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// At most this many commands of one `exec` wait for their answers at once.
const EXEC_IN_FLIGHT_MAX: usize = 1_024;

/// A command's answer, or where it will arrive.
type Answer = BoxFuture<'static, Result<CommandOutcome, (Option<String>, CommandError)>>;

/// Prints one command's result line; false when it was refused.
fn print_result(
    result: Result<CommandOutcome, (Option<String>, CommandError)>,
) -> anyhow::Result<bool> {
    match result {
        Ok(outcome) => {
            output::json_line(&accepted(&outcome))?;
            Ok(true)
        }
        Err((
            command_id,
            CommandError::Refused {
                code,
                message,
                message_zh,
            },
        )) => {
            output::json_line(&json!({
                "ok": false,
                "command_id": command_id,
                "error": {"code": code.as_str(), "message": message, "message_zh": message_zh},
            }))?;
            Ok(false)
        }
        Err((_, failure)) => Err(failure.into()),
    }
}

/// Queues one line with the writer; returns where its answer will arrive.
async fn submit_one(
    writer: &Writer,
    line: &str,
    args: &ExecArgs,
    defaults: Option<&Actor>,
) -> Answer {
    let mut submitted = match Submitted::parse(line) {
        Ok(submitted) => submitted,
        Err(error) => return futures::future::ready(Err((None, error))).boxed(),
    };
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
    match writer.submit(&submitted, &command_id, defaults).await {
        Ok(answer) => async move {
            let answered = answer.await.unwrap_or_else(|_| {
                Err(CommandError::Store(infra::store::StoreError::Database(
                    "the writer task has stopped".to_owned(),
                )))
            });
            answered.map_err(|error| (Some(command_id), error))
        }
        .boxed(),
        Err(error) => futures::future::ready(Err((Some(command_id), error))).boxed(),
    }
}

/// The refusal of a line that is not UTF-8.
fn not_utf8(error: std::str::Utf8Error) -> Answer {
    let refusal = CommandError::invalid(
        format!("the line is not UTF-8: {error}"),
        format!("该行不是 UTF-8 文本：{error}"),
    );
    futures::future::ready(Err((None, refusal))).boxed()
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
