//! `huiyin remind`: evaluates the notice rules as of a moment and queues what is due in the
//! outbox, once per notice ever (DESIGN.md §6, issue 9).

use std::process::ExitCode;

use aggregates::rules::Rules;
use infra::outbox::OutboxEntry;
use infra::store::Stores;
use projections::notices::{decide, Notice, NoticeProjection, NoticeRow, NoticeRules};
use projections::runner::catch_up;
use projections::Projection;
use serde_json::json;

use crate::cli::{RemindArgs, SendArgs};
use crate::config::SenderSettings;
use crate::output;
use huiyin::when::parse_moment;

/// Brings the notice projection up to date, decides the notices due at `--now`, queues the new
/// ones (unless `--dry-run`) and prints one JSON line per new notice.
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
    catch_up::<NoticeProjection>(&*stores.events, &*stores.views).await?;
    let (_, stored) = stores.views.snapshot(NoticeProjection::NAME).await?;
    let mut rows: Vec<NoticeRow> = Vec::with_capacity(stored.len());
    for (key, body) in stored {
        let row = serde_json::from_str(&body)
            .map_err(|error| anyhow::anyhow!("notice row {key} is unreadable: {error}"))?;
        rows.push(row);
    }
    let decided = decide(&rows, notice_rules, &rules.deadlines.calendar, now);
    let new: Vec<Notice> = if args.dry_run {
        let ids: Vec<String> = decided.iter().map(|notice| notice.id.clone()).collect();
        let known = stores.outbox.known(&ids).await?;
        decided
            .into_iter()
            .filter(|notice| !known.contains(&notice.id))
            .collect()
    } else {
        let entries: Vec<OutboxEntry> = decided.iter().map(entry_of).collect();
        let inserted = stores.outbox.enqueue(&entries, now.as_second()).await?;
        decided
            .into_iter()
            .filter(|notice| inserted.contains(&notice.id))
            .collect()
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

fn entry_of(notice: &Notice) -> OutboxEntry {
    OutboxEntry {
        id: notice.id.clone(),
        kind: notice.kind.as_str().to_owned(),
        item_id: notice.item_id.clone(),
        recipient: notice.to.clone(),
        channel: notice.channel.clone(),
        address: notice.address.clone(),
        subject: notice.subject.clone(),
        body: notice.body.clone(),
    }
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
