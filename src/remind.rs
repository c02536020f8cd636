//! `huiyin remind`: evaluates the notice rules as of a moment and queues what is due in the
//! outbox, once per notice ever (DESIGN.md §6, issue 9).

use std::process::ExitCode;

use aggregates::rules::Rules;
use huiyin::scheduler::{due_dry_run, queue_due};
use infra::store::Stores;
use projections::notices::NoticeRules;
use serde_json::json;

use crate::cli::{NotifyArgs, RemindArgs, SendArgs};
use crate::config::SenderSettings;
use crate::output;
use huiyin::when::parse_moment;

/// Brings the notice projection up to date (queueing the status notices of the events it
/// folds), decides the time-driven notices due at `--now`, queues the new ones and prints one
/// JSON line per new notice; with `--dry-run`, prints the same and queues nothing.
///
/// # Errors
/// When `--now` is not a moment, or the ledger or the outbox cannot be read or written.
pub(crate) async fn run(
    stores: &Stores,
    rules: &Rules,
    notice_rules: &NoticeRules,
    args: RemindArgs,
) -> anyhow::Result<ExitCode> {
    let now = parse_moment(&args.now, &rules.deadlines.time_zone)?;
    let calendar = &rules.deadlines.calendar;
    if args.skip_history {
        skip_history(stores, notice_rules).await?;
    }
    let new = if args.dry_run {
        due_dry_run(stores, calendar, notice_rules, now).await?
    } else {
        queue_due(stores, calendar, notice_rules, now).await?
    };
    for notice in &new {
        output::json_line(&json!({
            "id": notice.id,
            "kind": notice.kind,
            "item_id": notice.item_id,
            "to": notice.to,
            "channel": notice.channel,
        }))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A clock stopped at one moment (`huiyin send --now`).
struct FixedClock(jiff::Timestamp);

impl notify::Clock for FixedClock {
    fn now(&self) -> jiff::Timestamp {
        self.0
    }
}

/// One pass of the sender over the due notifications; prints what it did as one JSON line.
///
/// # Errors
/// When `--now` is not a moment or the outbox cannot be read or written.
pub(crate) async fn send(
    stores: &Stores,
    rules: &Rules,
    sender: SenderSettings,
    args: SendArgs,
) -> anyhow::Result<ExitCode> {
    let clock: Box<dyn notify::Clock> = match &args.now {
        Some(now) => Box::new(FixedClock(parse_moment(now, &rules.deadlines.time_zone)?)),
        None => Box::new(notify::SystemClock),
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let report = notify::send_due(
        &*stores.outbox,
        &sender.channels,
        &sender.policy,
        &*clock,
        &stop,
    )
    .await?;
    output::json_line(&json!({
        "sent": report.sent,
        "failed": report.failed,
        "dead": report.dead,
        "lost_races": report.lost_races,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Folds what the notices have not seen yet without telling anyone of it, and says so on
/// standard error (`--skip-history`).
async fn skip_history(stores: &Stores, notice_rules: &NoticeRules) -> anyhow::Result<()> {
    let passed =
        projections::notices::pass_over(&*stores.events, &*stores.views, notice_rules).await?;
    eprintln!(
        "huiyin: notices passed over records {}..{} ({} status notices not queued); \
         from here on every event is told",
        passed.from, passed.checkpoint, passed.untold
    );
    Ok(())
}

/// `huiyin notify`: the scheduler ([`huiyin::scheduler::run`]) on the system clock until
/// Ctrl-C or SIGTERM.
///
/// # Errors
/// When the first line cannot be printed.
pub(crate) async fn notify(
    stores: Stores,
    rules: &Rules,
    notice_rules: NoticeRules,
    sender: SenderSettings,
    args: NotifyArgs,
) -> anyhow::Result<ExitCode> {
    let delivery = huiyin::scheduler::Delivery {
        channels: sender.channels,
        policy: sender.policy,
        every: std::time::Duration::from_secs(args.send_every_s),
    };
    if args.skip_history {
        skip_history(&stores, &notice_rules).await?;
    }
    let daily_at = notice_rules.daily_at;
    let (progress, _) = tokio::sync::watch::channel(huiyin::scheduler::Progress::default());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(huiyin::scheduler::run(
        stores,
        rules.deadlines.calendar.clone(),
        notice_rules,
        Some(delivery),
        std::sync::Arc::new(huiyin::scheduler::SystemTimer),
        progress,
        stopping,
    ));
    output::text(&format!(
        "huiyin: notifying (reminders daily at {}, outbox every {} s); Ctrl-C stops",
        daily_at, args.send_every_s
    ))?;
    crate::serve::stop_signal().await;
    eprintln!("huiyin: stopping after the pass in progress");
    let _ = stop.send(true);
    let _ = scheduler.await;
    eprintln!("huiyin: stopped");
    Ok(ExitCode::SUCCESS)
}
