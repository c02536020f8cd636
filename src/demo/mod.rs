//! `huiyin demo`: loads the demonstration ledger (see `story`) and prints its board. Loading it
//! again appends nothing: the story's commands have fixed ids, and a ledger that already holds the
//! story is only shown.

mod story;

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
    let today = Timestamp::now()
        .to_zoned(rules.deadlines.time_zone.clone())
        .date();
    let appended = load(&ledger, args.seed, today).await?;
    eprintln!("demo ledger loaded: {appended} new records");
    let (checkpoint, rows) = live_rows::<BoardProjection>(stores).await?;
    let (today, now) = judged_at(Timestamp::now(), &rules.deadlines.time_zone);
    let view = BoardView::of(&rows, checkpoint, today, now);
    print_board(&view, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Tells the story into the ledger; returns the records appended (0 when it was already there).
async fn load(ledger: &Ledger, seed: u64, today: jiff::civil::Date) -> anyhow::Result<usize> {
    let mut appended = 0;
    for (index, command) in story::commands(seed, today).into_iter().enumerate() {
        let submitted: Submitted = serde_json::from_value(command)?;
        let command_id = submitted
            .command_id
            .clone()
            .context("demo commands carry ids")?;
        match ledger.execute(&submitted, &command_id, None).await {
            // The story's first command is already recorded: this ledger holds the demo.
            Ok(outcome) if outcome.replayed && index == 0 => return Ok(0),
            Ok(outcome) => appended += outcome.positions.len(),
            Err(CommandError::Refused { code, message, .. }) => {
                bail!("demo command {command_id} was refused ({code}): {message}; the demo needs an empty ledger")
            }
            Err(failure) => return Err(failure.into()),
        }
    }
    Ok(appended)
}
