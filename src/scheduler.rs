//! Notices on their own (issue 9): queue status notices as the log grows, the day's reminders
//! and digests at `daily_at` local time, and deliver what is due every so often — all driven by
//! a [`Timer`] that tests move forward instead of waiting (`huiyin notify`).
//!
//! [`queue_due`] is one evaluation at a moment (what `huiyin remind` does once); [`run`] repeats
//! it for as long as it is let.
//!
//! **Invariant:** nothing here reads the system clock but [`SystemTimer`]: every moment comes
//! from the [`Timer`], so a test decides what "now" is and when a wait is over.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use aggregates::deadline::WorkingCalendar;
use async_trait::async_trait;
use infra::outbox::OutboxEntry;
use infra::store::{StoreError, Stores};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use notify::{Channels, RetryPolicy, SendError, SendReport};
use projections::notices::{self, decide, sort_notices, Notice, NoticeRow, NoticeRules};
use projections::runner::RunnerError;
use projections::Projection;
use tokio::sync::watch;

/// The source of moments and waits.
#[async_trait]
pub trait Timer: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Waits until `deadline`. It may return earlier — a test timer returns as soon as it is
    /// moved away from `seen` (the moment the caller last read) — so the caller reads the time
    /// again after it.
    async fn wait_until(&self, seen: Timestamp, deadline: Timestamp);
}

/// The system clock and tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTimer;

#[async_trait]
impl Timer for SystemTimer {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    async fn wait_until(&self, _seen: Timestamp, deadline: Timestamp) {
        let left = deadline.duration_since(Timestamp::now());
        let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
        tokio::time::sleep(left.min(WAIT_LONGEST)).await;
    }
}

/// A real wait is at most this long before the time is read again (a clock set forward, a
/// machine woken from sleep).
pub const WAIT_LONGEST: Duration = Duration::from_secs(60);

/// After a failed pass (the database away), the next one waits this long.
pub const RETRY_WAIT: Duration = Duration::from_secs(10);

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The notice projection could not be brought up to date.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// The outbox could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sender failed.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// Brings the notice projection up to date (queueing the status notices of every event not
/// yet folded, whenever it happened) and queues the time-driven notices due at `now`. Returns
/// the notices that were new in the outbox, sorted by item, kind, recipient and channel.
///
/// # Errors
/// [`SchedulerError`] when the log, the tables or the outbox fail.
pub async fn queue_due(
    stores: &Stores,
    calendar: &WorkingCalendar,
    rules: &NoticeRules,
    now: Timestamp,
) -> Result<Vec<Notice>, SchedulerError> {
    let caught = notices::catch_up(&*stores.events, &*stores.views, rules, now.as_second()).await?;
    let rows = notice_rows(stores).await?;
    let decided = decide(&rows, rules, calendar, now);
    let entries: Vec<OutboxEntry> = decided.iter().map(Notice::entry).collect();
    let inserted = stores.outbox.enqueue(&entries, now.as_second()).await?;
    let mut new = caught.queued;
    new.extend(
        decided
            .into_iter()
            .filter(|notice| inserted.contains(&notice.id)),
    );
    sort_notices(&mut new);
    Ok(new)
}

/// What [`queue_due`] would queue at `now`, queueing nothing (`huiyin remind --dry-run`).
///
/// # Errors
/// [`SchedulerError`] when the log, the tables or the outbox cannot be read.
pub async fn due_dry_run(
    stores: &Stores,
    calendar: &WorkingCalendar,
    rules: &NoticeRules,
    now: Timestamp,
) -> Result<Vec<Notice>, SchedulerError> {
    let (rows, mut all) = notices::pending(&*stores.events, &*stores.views, rules).await?;
    all.extend(decide(&rows, rules, calendar, now));
    let ids: Vec<String> = all.iter().map(|notice| notice.id.clone()).collect();
    let known = stores.outbox.known(&ids).await?;
    all.retain(|notice| !known.contains(&notice.id));
    sort_notices(&mut all);
    Ok(all)
}

async fn notice_rows(stores: &Stores) -> Result<Vec<NoticeRow>, SchedulerError> {
    let name = notices::NoticeProjection::NAME;
    let (_, stored) = stores.views.snapshot(name).await?;
    let mut rows = Vec::with_capacity(stored.len());
    for (key, body) in stored {
        let row = serde_json::from_str(&body).map_err(|error| RunnerError::Row {
            projection: name,
            key,
            reason: error.to_string(),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// The first moment after `after` whose local time is `rules.daily_at`.
pub fn next_daily_at(after: Timestamp, rules: &NoticeRules) -> Timestamp {
    let local = after.to_zoned(rules.time_zone.clone());
    let at_on = |day: Date| {
        day.to_datetime(rules.daily_at)
            .to_zoned(rules.time_zone.clone())
            .map(|zoned| zoned.timestamp())
            .ok()
    };
    let today = at_on(local.date()).filter(|today| *today > after);
    let tomorrow = local.date().checked_add(1.day()).ok().and_then(at_on);
    today
        .or(tomorrow)
        .unwrap_or_else(|| after.checked_add(24.hours()).unwrap_or(after))
}

/// How [`run`] delivers.
#[derive(Clone)]
pub struct Delivery {
    /// The channels.
    pub channels: Channels,
    /// Retries and back-off.
    pub policy: RetryPolicy,
    /// How often the outbox is looked at for due notifications (also right after new ones are
    /// queued).
    pub every: Duration,
}

/// What [`run`] has done so far, published after every pass (tests wait on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Passes completed.
    pub passes: u64,
    /// The moment of the last pass.
    pub at: Timestamp,
    /// The notice projection's checkpoint after it.
    pub checkpoint: u64,
    /// Notices queued so far.
    pub queued: u64,
    /// What the sender did so far.
    pub sent: SendReport,
}

/// Runs until `stop` turns true: each pass queues the status notices of new records, the
/// time-driven notices when the day's `daily_at` has come (and at the first pass, catching up
/// a day missed), and delivers what is due when the sender's turn has come or something was
/// just queued. Between passes it waits for the log to grow, the next turn on the `timer`, or
/// `stop`. A failed pass is logged and tried again after [`RETRY_WAIT`].
pub async fn run(
    stores: Stores,
    calendar: WorkingCalendar,
    rules: NoticeRules,
    delivery: Option<Delivery>,
    timer: Arc<dyn Timer>,
    progress: watch::Sender<Progress>,
    mut stop: watch::Receiver<bool>,
) {
    let mut state = Progress {
        passes: 0,
        at: timer.now(),
        checkpoint: 0,
        queued: 0,
        sent: SendReport::default(),
    };
    // The first pass evaluates at once; then at each day's `daily_at`.
    let mut next_daily = state.at;
    let mut next_send = state.at;
    loop {
        if *stop.borrow() {
            return;
        }
        let now = timer.now();
        let wake = match pass(
            &stores,
            &calendar,
            &rules,
            delivery.as_ref(),
            now,
            &mut state,
            next_daily,
            next_send,
        )
        .await
        {
            Ok(()) => {
                if now >= next_daily {
                    next_daily = next_daily_at(now, &rules);
                }
                if let Some(delivery) = &delivery {
                    if now >= next_send {
                        next_send = later(now, delivery.every);
                    }
                }
                state.passes += 1;
                state.at = now;
                progress.send_replace(state);
                match &delivery {
                    Some(_) => next_daily.min(next_send),
                    None => next_daily,
                }
            }
            Err(error) => {
                tracing::error!(%error, "notice pass failed; trying again");
                later(now, RETRY_WAIT)
            }
        };
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = timer.wait_until(now, wake) => {}
            grown = stores.events.wait_for_growth(state.checkpoint, projections::runner::IDLE_WAIT) => {
                if let Err(error) = grown {
                    tracing::warn!(%error, "cannot wait for the log to grow");
                }
            }
        }
    }
}

fn later(now: Timestamp, by: Duration) -> Timestamp {
    let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
    now.checked_add(by).unwrap_or(Timestamp::MAX)
}

#[allow(clippy::too_many_arguments)]
async fn pass(
    stores: &Stores,
    calendar: &WorkingCalendar,
    rules: &NoticeRules,
    delivery: Option<&Delivery>,
    now: Timestamp,
    state: &mut Progress,
    next_daily: Timestamp,
    next_send: Timestamp,
) -> Result<(), SchedulerError> {
    let events = &*stores.events;
    let caught = notices::catch_up(events, &*stores.views, rules, now.as_second()).await?;
    state.checkpoint = caught.checkpoint;
    let mut queued = caught.queued.len() as u64;
    if now >= next_daily {
        let rows = notice_rows(stores).await?;
        let decided = decide(&rows, rules, calendar, now);
        let entries: Vec<OutboxEntry> = decided.iter().map(Notice::entry).collect();
        queued += stores
            .outbox
            .enqueue(&entries, now.as_second())
            .await?
            .len() as u64;
    }
    state.queued += queued;
    if let Some(delivery) = delivery {
        if now >= next_send || queued > 0 {
            let stop = AtomicBool::new(false);
            let clock = FixedClock(now);
            let report = notify::send_due(
                &*stores.outbox,
                &delivery.channels,
                &delivery.policy,
                &clock,
                &stop,
            )
            .await?;
            state.sent.sent += report.sent;
            state.sent.failed += report.failed;
            state.sent.dead += report.dead;
            state.sent.lost_races += report.lost_races;
        }
    }
    Ok(())
}

/// The pass's moment, for the sender.
struct FixedClock(Timestamp);

impl notify::Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
