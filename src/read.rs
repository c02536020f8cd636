//! `board`, `trail` and `verify`: reading the log.

use std::process::ExitCode;
use std::sync::Arc;

use aggregates::rules::Rules;
use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use infra::export::ExportReader;
use infra::record::Record;
use infra::store::{EventStore, Stores};
use infra::verify::{verify_store, VerifiedLog, VerifyError, VerifyOptions};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use projections::board::{BoardProjection, BoardView};
use projections::figures::FiguresProjection;
use projections::runner::catch_up;
use projections::trail::Trail;
use projections::{Folded, Projection};
use serde_json::json;

use crate::cli::{BoardArgs, Format, RebuildArgs, TrailArgs, VerifyArgs};
use crate::keys::read_verifier;
use crate::output;
use crate::when::{parse_as_of, parse_moment, AsOf};

/// Folds the log into projection `P` in memory, stopping after `as_of`. Returns the fold and
/// the `recorded_at` of the last record folded.
pub(crate) async fn fold_until<P: Projection>(
    store: &dyn EventStore,
    as_of: AsOf,
) -> anyhow::Result<(Folded<P>, Option<Timestamp>)> {
    let mut folded = Folded::<P>::default();
    let mut last_recorded_at = None;
    let mut records = store.read_all(0);
    while let Some(stored) = records.try_next().await? {
        let record: Record = stored
            .record()
            .with_context(|| format!("record at position {} is unreadable", stored.position))?;
        let recorded_at: Timestamp = record.recorded_at.parse().with_context(|| {
            format!(
                "record at position {} has a bad recorded_at",
                record.position
            )
        })?;
        let beyond = match as_of {
            AsOf::Position(position) => record.position > position,
            AsOf::Time(time) => recorded_at > time,
        };
        if beyond {
            break;
        }
        folded.apply(&record)?;
        last_recorded_at = Some(recorded_at);
    }
    Ok((folded, last_recorded_at))
}

/// Brings projection `P`'s table up to date and reads it back with its checkpoint.
pub(crate) async fn live_rows<P: Projection>(
    stores: &Stores,
) -> anyhow::Result<(u64, Vec<P::Row>)> {
    catch_up::<P>(&*stores.events, &*stores.views).await?;
    let (checkpoint, stored) = stores.views.snapshot(P::NAME).await?;
    let rows = stored
        .into_iter()
        .map(|(key, body)| {
            serde_json::from_str(&body)
                .with_context(|| format!("{} row {key} is unreadable", P::NAME))
        })
        .collect::<anyhow::Result<Vec<P::Row>>>()?;
    Ok((checkpoint, rows))
}

/// Rows of projection `P` as the ledger knew them at `as_of`, or live; with the number of
/// records they reflect and the moment flags are judged at (`--now`, else the as-of moment,
/// else the clock).
pub(crate) async fn rows_as_of<P: Projection>(
    stores: &Stores,
    as_of: Option<AsOf>,
    explicit_now: Option<Timestamp>,
) -> anyhow::Result<(Vec<P::Row>, u64, Timestamp)> {
    match as_of {
        Some(as_of) => {
            let (folded, last_recorded_at) = fold_until::<P>(&*stores.events, as_of).await?;
            let as_of_moment = match as_of {
                AsOf::Time(time) => Some(time),
                AsOf::Position(_) => last_recorded_at,
            };
            let now = explicit_now.or(as_of_moment).unwrap_or_else(Timestamp::now);
            let records = folded.records_folded();
            Ok((folded.rows().values().cloned().collect(), records, now))
        }
        None => {
            let (checkpoint, rows) = live_rows::<P>(stores).await?;
            Ok((
                rows,
                checkpoint,
                explicit_now.unwrap_or_else(Timestamp::now),
            ))
        }
    }
}

/// The moment due-soon and overdue are judged at, as a local date and its RFC 3339 text.
pub(crate) fn judged_at(now: Timestamp, time_zone: &TimeZone) -> (Date, String) {
    let local = now
        .round(jiff::Unit::Second)
        .unwrap_or(now)
        .to_zoned(time_zone.clone());
    let text = local
        .timestamp()
        .display_with_offset(local.offset())
        .to_string();
    (local.date(), text)
}

pub(crate) async fn board(
    stores: &Stores,
    rules: &Rules,
    args: BoardArgs,
) -> anyhow::Result<ExitCode> {
    let rules = &rules.deadlines;
    let as_of = args
        .as_of
        .as_deref()
        .map(|text| parse_as_of(text, &rules.time_zone))
        .transpose()?;
    let explicit_now = args
        .now
        .as_deref()
        .map(|text| parse_moment(text, &rules.time_zone))
        .transpose()?;
    let (rows, records, now) = rows_as_of::<BoardProjection>(stores, as_of, explicit_now).await?;
    let (today, now) = judged_at(now, &rules.time_zone);
    let view = BoardView::of(&rows, records, today, now);
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
    let mut records = 0;
    records += rebuild_one::<BoardProjection>(stores, &args).await?;
    records += rebuild_one::<FiguresProjection>(stores, &args).await?;
    let seconds = started.elapsed().as_secs_f64();
    output::json_line(&json!({
        "rebuilt": [BoardProjection::NAME, FiguresProjection::NAME],
        "records": records,
        "seconds": seconds,
        "records_per_second": if seconds > 0.0 { (records as f64 / seconds).round() } else { 0.0 },
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds one projection with its own progress bar; returns the records folded.
async fn rebuild_one<P: Projection>(stores: &Stores, args: &RebuildArgs) -> anyhow::Result<u64> {
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
    bar.set_message(P::NAME);
    let folded =
        projections::runner::rebuild::<P>(&*stores.events, &*stores.views, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish();
    Ok(folded)
}

pub(crate) fn print_board(view: &BoardView, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => output::json_pretty(view),
        Format::Csv => output::text(&board_csv(view)?),
        Format::Table | Format::Xlsx => output::text(&board_table(view)),
    }
}

pub(crate) const BOARD_HEADER: [&str; 13] = [
    "item_id",
    "kind",
    "status",
    "round",
    "leader",
    "lead_unit",
    "due",
    "days_left",
    "flag",
    "class",
    "rating",
    "deputies",
    "title",
];

pub(crate) fn board_cells(item: &projections::board::BoardItem) -> [String; 13] {
    let flag = if item.overdue {
        "OVERDUE 逾期"
    } else if item.due_soon {
        "due soon 临期"
    } else {
        ""
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    [
        item.item_id.clone(),
        item.kind.clone(),
        item.status.clone(),
        item.round.to_string(),
        text(&item.leader),
        text(&item.lead_unit),
        item.due.map(|due| due.to_string()).unwrap_or_default(),
        item.days_left
            .map(|days| days.to_string())
            .unwrap_or_default(),
        flag.to_owned(),
        text(&item.class),
        text(&item.rating),
        item.deputies.join("、"),
        item.title.clone(),
    ]
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

fn board_csv(view: &BoardView) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(BOARD_HEADER)?;
    for item in &view.items {
        writer.write_record(board_cells(item))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

pub(crate) async fn trail(store: Arc<dyn EventStore>, args: TrailArgs) -> anyhow::Result<ExitCode> {
    let stream = commands::item_stream(&args.item_id);
    let mut trail = Trail::new(&args.item_id);
    for stored in store.read_stream(&stream).await? {
        let record = stored
            .record()
            .with_context(|| format!("record at position {} is unreadable", stored.position))?;
        trail.push(record, stored.hash);
    }
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
