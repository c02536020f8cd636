//! `huiyin demo`: loads a small demonstration ledger (a county court's 2026 items: closed, re-handled,
//! overdue, urgent, awaiting triage) and prints its board. Loading twice appends nothing: every
//! demo command has a fixed `command_id`.

use std::process::ExitCode;
use std::sync::Arc;

use aggregates::rules::Rules;
use anyhow::{bail, Context};
use commands::{CommandError, Ledger, Submitted, SystemClock};
use infra::store::Stores;
use jiff::Timestamp;
use projections::board::{BoardProjection, BoardView};

use crate::cli::DemoArgs;
use crate::read::{judged_at, live_rows, print_board};

const DEMO_COMMANDS: &str = include_str!("demo.jsonl");

pub(crate) async fn run(
    stores: &Stores,
    rules: &Rules,
    args: DemoArgs,
) -> anyhow::Result<ExitCode> {
    // The demonstration is a fixed story: it is decided by DESIGN.md's defaults whatever the
    // local huiyin.toml says, and only shown in the configured time zone.
    let ledger = Ledger::new(
        Arc::clone(&stores.events),
        Rules::default(),
        Arc::new(SystemClock),
    );
    let mut appended = 0;
    for (line_number, line) in DEMO_COMMANDS.lines().enumerate() {
        let submitted = Submitted::parse(line)?;
        let command_id = submitted
            .command_id
            .clone()
            .with_context(|| format!("demo line {} has no command_id", line_number + 1))?;
        match ledger.execute(&submitted, &command_id, None).await {
            Ok(outcome) if !outcome.replayed => appended += outcome.positions.len(),
            Ok(_) => {}
            Err(CommandError::Refused { code, message, .. }) => {
                bail!("demo command {command_id} was refused ({code}): {message}; is this ledger empty?")
            }
            Err(failure) => return Err(failure.into()),
        }
    }
    eprintln!("demo ledger loaded: {appended} new records");
    let (checkpoint, rows) = live_rows::<BoardProjection>(stores).await?;
    let (today, now) = judged_at(Timestamp::now(), &rules.deadlines.time_zone);
    let view = BoardView::of(&rows, checkpoint, today, now);
    print_board(&view, args.format)?;
    Ok(ExitCode::SUCCESS)
}
