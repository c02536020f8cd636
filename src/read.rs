//! `board`, `trail` and `verify`: reading the log.

use std::process::ExitCode;
use std::sync::Arc;

use aggregates::rules::Rules;
use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use commands::SystemClock;
use huiyin::reading;
use huiyin::when::ReadAt;
use indicatif::{ProgressBar, ProgressStyle};
use infra::export::ExportReader;
use infra::store::{EventStore, Stores};
use infra::verify::{verify_store, VerifiedLog, VerifyError, VerifyOptions};
use projections::board::{BoardProjection, BoardView};
use projections::figures::FiguresProjection;
use projections::notices::NoticeProjection;
use projections::runner::Rebuilt;
use projections::Projection;
use serde_json::json;

use huiyin::tables::{board_cells, board_csv, BOARD_HEADER};

use crate::cli::{BoardArgs, Format, RebuildArgs, TrailArgs, VerifyArgs};
use crate::keys::read_verifier;
use crate::output;

pub(crate) async fn board(
    stores: &Stores,
    rules: &Rules,
    args: BoardArgs,
) -> anyhow::Result<ExitCode> {
    let time_zone = &rules.deadlines.time_zone;
    let at = ReadAt::parse(args.as_of.as_deref(), args.now.as_deref(), time_zone)?;
    let view = reading::board_view(stores, at, time_zone, &SystemClock, |_| true).await?;
    match args.format {
        Format::Xlsx => {
            let out = args
                .out
                .as_deref()
                .context("--format xlsx needs --out FILE")?;
            crate::xlsx::write_board(&view, out)?;
        }
        format => print_board(&view, format)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn rebuild(stores: &Stores, args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>8} [{bar:40}] {pos}/{len} records · {per_sec} · {elapsed_precise}",
        )?
        .progress_chars("=> "),
    );
    bar.set_message("all");
    // One read of the log feeds every projection.
    let mut board = Rebuilt::<BoardProjection>::default();
    let mut figures = Rebuilt::<FiguresProjection>::default();
    let mut notices = Rebuilt::<NoticeProjection>::default();
    let read = projections::runner::rebuild_all(
        &*stores.events,
        &*stores.views,
        &mut [&mut board, &mut figures, &mut notices],
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await?;
    bar.finish();
    let records = read * 3;
    let seconds = started.elapsed().as_secs_f64();
    output::json_line(&json!({
        "rebuilt": [BoardProjection::NAME, FiguresProjection::NAME, NoticeProjection::NAME],
        "records": records,
        "seconds": seconds,
        "records_per_second": if seconds > 0.0 { (records as f64 / seconds).round() } else { 0.0 },
    }))?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn print_board(view: &BoardView, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => output::json_pretty(view),
        Format::Csv => output::text(&board_csv(view)?),
        Format::Table | Format::Xlsx => output::text(&board_table(view)),
    }
}

fn board_table(view: &BoardView) -> String {
    let summary = &view.summary;
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(BOARD_HEADER);
    for item in &view.items {
        table.add_row(board_cells(item));
    }
    let verdict = if summary.all_due_answered {
        "every item that is due has been answered 件件有回音"
    } else {
        "SOME ITEMS ARE DUE AND UNANSWERED 有逾期未答复事项"
    };
    format!(
        "督办台账 board as of position {} at {}\n\
         total {} · open {} · answered {} (on time {}) · overdue {} · due soon {} · closed {}\n\
         {verdict}\n{table}",
        view.as_of_position
            .map(|p| p.to_string())
            .unwrap_or_else(|| "(empty log)".to_owned()),
        view.now,
        summary.total,
        summary.open,
        summary.answered,
        summary.answered_on_time,
        summary.overdue,
        summary.due_soon,
        summary.closed,
    )
}

pub(crate) async fn trail(store: Arc<dyn EventStore>, args: TrailArgs) -> anyhow::Result<ExitCode> {
    let trail = reading::trail(&*store, &args.item_id).await?;
    if trail.events.is_empty() {
        bail!("no item {} in this ledger", args.item_id);
    }
    match args.format {
        Format::Json => output::json_pretty(&trail)?,
        Format::Table | Format::Csv | Format::Xlsx => {
            let header = [
                "position",
                "version",
                "type",
                "at",
                "recorded_at",
                "actor",
                "role",
                "hash",
            ];
            let rows = trail.events.iter().map(|entry| {
                [
                    entry.position.to_string(),
                    entry.version.to_string(),
                    entry.event_type.clone(),
                    entry.at.clone(),
                    entry.recorded_at.clone(),
                    entry.actor.clone(),
                    entry.role.clone(),
                    entry.hash.to_hex(),
                ]
            });
            if args.format == Format::Csv {
                let mut writer = csv::Writer::from_writer(Vec::new());
                writer.write_record(header)?;
                for row in rows {
                    writer.write_record(row)?;
                }
                output::text(&String::from_utf8(writer.into_inner()?)?)?;
            } else {
                let mut table = Table::new();
                table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
                for row in rows {
                    table.add_row(row);
                }
                output::text(&format!("履历 trail of {}\n{table}", trail.item_id))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The verify options from the flags: keys given as strings or files, held checkpoints read.
fn verify_options(args: &VerifyArgs) -> anyhow::Result<VerifyOptions> {
    let held_checkpoints = match &args.checkpoint {
        Some(path) => vec![std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?],
        None => Vec::new(),
    };
    Ok(VerifyOptions {
        key: args.key.as_deref().map(read_verifier).transpose()?,
        witness_key: args.witness_key.as_deref().map(read_verifier).transpose()?,
        held_checkpoints,
    })
}

/// Prints the verdict: exit 0 intact, 2 broken (naming the position), 1 could not check.
pub(crate) fn report(result: Result<VerifiedLog, VerifyError>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(verified) => {
            output::json_line(&json!({
                "ok": true,
                "tree_size": verified.tree_size,
                "head": verified.head_hash.to_hex(),
                "root": verified.root.to_hex(),
                "checkpoints": verified.checkpoints_checked,
                "checkpoint_size": verified.checkpoint_size,
                "signatures": if verified.signatures_checked { "verified" } else { "unchecked" },
                "witnessed_size": verified.witnessed_size,
            }))?;
            if !verified.signatures_checked && verified.checkpoints_checked > 0 {
                eprintln!("huiyin verify: checkpoint signatures were not checked; give --key");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(VerifyError::Broken { position, reason }) => {
            output::json_line(&json!({"ok": false, "position": position, "reason": reason}))?;
            eprintln!("huiyin verify: the log is broken at position {position}: {reason}");
            Ok(ExitCode::from(2))
        }
        Err(VerifyError::BadCheckpoint { tree_size, reason }) => {
            output::json_line(
                &json!({"ok": false, "checkpoint_size": tree_size, "reason": reason}),
            )?;
            eprintln!(
                "huiyin verify: the checkpoint of {tree_size} records is not genuine: {reason}"
            );
            Ok(ExitCode::from(2))
        }
        Err(VerifyError::Store(error)) => Err(anyhow::anyhow!("cannot read the log: {error}")),
    }
}

pub(crate) async fn verify(
    store: Arc<dyn EventStore>,
    args: VerifyArgs,
) -> anyhow::Result<ExitCode> {
    let options = verify_options(&args)?;
    report(verify_store(&*store, &options).await)
}

/// Opens an export file for reading.
pub(crate) fn export_reader(path: &std::path::Path) -> anyhow::Result<ExportReader> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(ExportReader::new(Box::new(std::io::BufReader::new(file))))
}

/// `verify --export FILE`: everything re-verified from the file alone; no database is opened.
pub(crate) fn verify_export(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let options = verify_options(&args)?;
    let path = args.export.as_deref().context("--export")?;
    report(infra::export::verify_export(export_reader(path)?, &options))
}
