//! Who is told what, and when (issue 9): a projection keeps what the notice rules need of each
//! item ([`NoticeRow`]), and [`decide`] turns those rows and a moment into notices.
//!
//! Two kinds of notice, queued two ways:
//! - **status notices** (assigned, answered, re-handling, closed) are queued by the projection's
//!   live runner, [`catch_up`], as it folds the event that causes them, in the same transaction as
//!   the rows and the checkpoint ([`infra::views::ViewStore::commit_queueing`]): a crash leaves
//!   both or neither, so each is queued exactly once however long nobody ran it. A rebuild
//!   ([`crate::runner::rebuild_all`]) never queues: it refolds only the records the live runner
//!   has already folded (it keeps this projection's checkpoint, [`Projection::QUEUES_NOTICES`]),
//!   and has no outbox to write to.
//! - **time-driven notices** (halfway, due soon, overdue, digest) are decided by [`decide`] from
//!   the rows and a moment, and queued by whoever runs it (`huiyin remind`, the scheduler).
//!
//! **Invariant:** [`decide`] and [`NoticeProjection::fold`] are pure: the moment is an argument,
//! never the clock, so tests move time by passing a later moment.
//!
//! **Invariant:** a notice's id is a hash of its kind, item, round, recipient, channel and the
//! day it concerns ([`notice_id`]): deciding again at the same moment gives the same ids, and the
//! outbox inserts an id only once ever.

use std::collections::{BTreeMap, BTreeSet};

use aggregates::deadline::WorkingCalendar;
use aggregates::item::ItemEvent;
use infra::record::Record;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::runner::{read_batch, RunnerError};
use crate::templates::Templates;
use crate::{item_event_of, FoldError, Projection};
use infra::outbox::OutboxEntry;
use infra::store::EventStore;
use infra::views::{RowChange, ViewStore};

/// What a notice is about; the names are those of DESIGN.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Half the time to the answer due date has passed.
    Halfway,
    /// The answer is due soon.
    DueSoon,
    /// The answer is overdue (first day, then every `overdue_repeat_days`).
    Overdue,
    /// The item was assigned to a leader and unit.
    Assigned,
    /// The item was answered.
    Answered,
    /// A new round of handling started (重新办理).
    Rehandling,
    /// The item was closed (销号).
    Closed,
    /// A leader's daily digest of their open items.
    Digest,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 8] = [
        NoticeKind::Halfway,
        NoticeKind::DueSoon,
        NoticeKind::Overdue,
        NoticeKind::Assigned,
        NoticeKind::Answered,
        NoticeKind::Rehandling,
        NoticeKind::Closed,
        NoticeKind::Digest,
    ];

    /// The kind's name, as printed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Halfway => "halfway",
            NoticeKind::DueSoon => "due_soon",
            NoticeKind::Overdue => "overdue",
            NoticeKind::Assigned => "assigned",
            NoticeKind::Answered => "answered",
            NoticeKind::Rehandling => "rehandling",
            NoticeKind::Closed => "closed",
            NoticeKind::Digest => "digest",
        }
    }
}

/// Who, relative to an item, receives a kind of notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The responsible leader (包案领导).
    Leader,
    /// The lead unit (主办部门), as the recipient `unit:NAME`.
    LeadUnit,
    /// The liaison office (联络机构), as the recipient [`NoticeRules::liaison_office`].
    LiaisonOffice,
    /// Every deputy named on the item.
    Deputies,
}

/// A person named on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// Person id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// What the notice rules need of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRow {
    /// The item's id.
    pub item_id: String,
    /// Its title.
    pub title: String,
    /// Its deputies.
    pub deputies: Vec<Named>,
    /// The responsible leader, once assigned.
    pub leader: Option<Named>,
    /// The lead unit, once assigned.
    pub lead_unit: Option<String>,
    /// The current round (0 before assignment).
    pub round: u32,
    /// The answer due date of the current round, while it awaits its answer.
    pub answer_due: Option<Date>,
    /// Business time the current round started (assignment, re-handling, reopening).
    pub round_started_at: Option<String>,
}

/// The notice rules as a projection: one [`NoticeRow`] per item.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoticeProjection;

impl Projection for NoticeProjection {
    const NAME: &'static str = "notices";
    type Row = NoticeRow;
    const QUEUES_NOTICES: bool = true;

    fn key(record: &Record) -> Option<String> {
        record.stream.strip_prefix("item/").map(str::to_owned)
    }

    /// The key is the record's stream, whose first record has version 1.
    fn opens_key(record: &Record) -> bool {
        record.version == 1
    }

    fn apply(row: Option<NoticeRow>, record: &Record) -> Result<Option<NoticeRow>, FoldError> {
        Ok(NoticeProjection::fold(row, record)?.0)
    }
}

impl NoticeProjection {
    /// Folds `record` into its row, as [`Projection::apply`] does, and says which status
    /// notice the record causes, if any (the live runner queues it; a rebuild drops it).
    ///
    /// # Errors
    /// [`FoldError`] when the record cannot be read as the event its type names.
    pub fn fold(
        row: Option<NoticeRow>,
        record: &Record,
    ) -> Result<(Option<NoticeRow>, Option<NoticeKind>), FoldError> {
        let event = item_event_of(record)?;
        if let ItemEvent::ItemFiled {
            item_id,
            title,
            deputies,
            ..
        } = &event
        {
            let row = NoticeRow {
                item_id: item_id.clone(),
                title: title.clone(),
                deputies: deputies
                    .iter()
                    .map(|deputy| Named {
                        id: deputy.id.clone(),
                        name: deputy.name.clone(),
                    })
                    .collect(),
                leader: None,
                lead_unit: None,
                round: 0,
                answer_due: None,
                round_started_at: None,
            };
            return Ok((Some(row), None));
        }
        let Some(mut row) = row else {
            return Ok((None, None));
        };
        let happened = apply_to_row(&mut row, event, &record.at);
        Ok((Some(row), happened))
    }
}

/// Folds `event` into `row`; returns the status notice it causes.
fn apply_to_row(row: &mut NoticeRow, event: ItemEvent, at: &str) -> Option<NoticeKind> {
    match event {
        ItemEvent::ItemAssigned {
            lead_unit,
            leader,
            answer_due,
            ..
        } => {
            row.leader = Some(Named {
                id: leader.id,
                name: leader.name,
            });
            row.lead_unit = Some(lead_unit);
            start_round(row, 1, answer_due, at);
            Some(NoticeKind::Assigned)
        }
        ItemEvent::ItemAnswered { .. } => {
            row.answer_due = None;
            Some(NoticeKind::Answered)
        }
        ItemEvent::RehandlingStarted {
            round, answer_due, ..
        }
        | ItemEvent::ItemReopened {
            round, answer_due, ..
        } => {
            start_round(row, round, answer_due, at);
            Some(NoticeKind::Rehandling)
        }
        ItemEvent::ItemClosed { .. } => Some(NoticeKind::Closed),
        // An approved extension moves the due date of the round still awaiting its answer.
        ItemEvent::ExtensionDecided { due, .. } if row.answer_due.is_some() => {
            row.answer_due = Some(due);
            None
        }
        ItemEvent::ItemReturned { .. }
        | ItemEvent::ItemRedirected { .. }
        | ItemEvent::ItemMerged { .. }
        | ItemEvent::ItemWithdrawn { .. } => {
            row.answer_due = None;
            None
        }
        _ => None,
    }
}

fn start_round(row: &mut NoticeRow, round: u32, answer_due: Date, at: &str) {
    row.round = round;
    row.answer_due = Some(answer_due);
    row.round_started_at = Some(at.to_owned());
}

/// A channel and the address a recipient has on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// `email` or `webhook`.
    pub channel: String,
    /// The mailbox, or the gateway's recipient handle (a phone number, a WeChat id…).
    pub address: String,
}

/// The notice rules and recipients (`[reminders]` in `huiyin.toml`).
#[derive(Debug, Clone)]
pub struct NoticeRules {
    /// The ledger's time zone: days are its local days.
    pub time_zone: TimeZone,
    /// The local time from which a day's reminders and digests are due.
    pub daily_at: Time,
    /// Due soon: this many calendar days or fewer left.
    pub due_soon_days: i64,
    /// After the first day overdue, the overdue notice repeats every this many days.
    pub overdue_repeat_days: i64,
    /// Digests only on working days.
    pub digest_working_days_only: bool,
    /// The liaison office's recipient id.
    pub liaison_office: String,
    /// Who receives each kind of notice; a kind with nobody is off.
    pub audiences: BTreeMap<NoticeKind, Vec<Audience>>,
    /// Each recipient's channels and addresses, kept outside the ledger.
    pub addresses: BTreeMap<String, Vec<Address>>,
    /// The message texts.
    pub templates: Templates,
}

impl Default for NoticeRules {
    fn default() -> Self {
        use Audience::{Deputies, LeadUnit, Leader, LiaisonOffice};
        let audiences = [
            (NoticeKind::Halfway, vec![Leader, LeadUnit]),
            (NoticeKind::DueSoon, vec![Leader, LeadUnit]),
            (NoticeKind::Overdue, vec![Leader, LiaisonOffice]),
            (NoticeKind::Assigned, vec![Deputies]),
            (NoticeKind::Answered, vec![Deputies]),
            (NoticeKind::Rehandling, vec![Deputies]),
            (NoticeKind::Closed, vec![Deputies]),
            (NoticeKind::Digest, vec![Leader]),
        ];
        NoticeRules {
            time_zone: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
            daily_at: Time::constant(8, 30, 0, 0),
            due_soon_days: 7,
            overdue_repeat_days: 7,
            digest_working_days_only: true,
            liaison_office: "liaison_office".to_owned(),
            audiences: audiences.into_iter().collect(),
            addresses: BTreeMap::new(),
            templates: Templates::default(),
        }
    }
}

/// One notice to one recipient on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Deterministic id ([`notice_id`]).
    pub id: String,
    /// What it is about.
    pub kind: NoticeKind,
    /// The item; none for a digest.
    pub item_id: Option<String>,
    /// The recipient.
    pub to: String,
    /// `email`, `webhook`, or `none` when the recipient has no address.
    pub channel: String,
    /// The address on that channel.
    pub address: Option<String>,
    /// The round (0 for a digest).
    pub round: u32,
    /// The day it concerns: the round's first day (halfway), the due date (due soon), the day
    /// overdue, the event's day, the digest's day.
    pub concerns: Date,
    /// Subject line (Chinese).
    pub subject: String,
    /// Text (Chinese).
    pub body: String,
}

/// The deterministic id of a notice: hex SHA-256 (first 128 bits) of its identifying parts.
pub fn notice_id(
    kind: NoticeKind,
    item_id: &str,
    round: u32,
    to: &str,
    channel: &str,
    concerns: Date,
) -> String {
    let text = format!(
        "{}\n{item_id}\n{round}\n{to}\n{channel}\n{concerns}",
        kind.as_str()
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// A notice before it is fanned out over the recipient's channels.
struct Draft<'a> {
    kind: NoticeKind,
    item: Option<&'a NoticeRow>,
    round: u32,
    concerns: Date,
    subject: String,
    body: String,
}

/// The time-driven notices (halfway, due soon, overdue, digest) due at `now` for `rows`, sorted
/// by item, kind, recipient and channel. A day's are due from `daily_at` local time. (Status
/// notices are queued as their events are folded: [`catch_up`].)
pub fn decide<'a>(
    rows: impl IntoIterator<Item = &'a NoticeRow>,
    rules: &NoticeRules,
    calendar: &WorkingCalendar,
    now: Timestamp,
) -> Vec<Notice> {
    let local = now.to_zoned(rules.time_zone.clone());
    let today = local.date();
    // Before `daily_at`, the day's reminders are not due yet: judge as of yesterday.
    let reminder_day = if local.time() < rules.daily_at {
        today.yesterday().unwrap_or(today)
    } else {
        today
    };
    let mut notices = Vec::new();
    let mut open_by_leader: BTreeMap<&str, Vec<&NoticeRow>> = BTreeMap::new();
    for row in rows {
        if let (Some(leader), Some(due)) = (&row.leader, row.answer_due) {
            if let Some(draft) = reminder_draft(row, rules, due, reminder_day) {
                fan_out(&draft, rules, &mut notices);
            }
            open_by_leader.entry(&leader.id).or_default().push(row);
        }
    }
    let digest_today = !rules.digest_working_days_only || calendar.is_working_day(reminder_day);
    if digest_today && local.time() >= rules.daily_at {
        for items in open_by_leader.values() {
            fan_out(
                &digest_draft(items, reminder_day, &rules.templates),
                rules,
                &mut notices,
            );
        }
    }
    sort_notices(&mut notices);
    notices
}

/// Sorts notices by item, kind, recipient and channel, and drops repeated ids.
pub fn sort_notices(notices: &mut Vec<Notice>) {
    notices.sort_by(|a, b| {
        (&a.item_id, a.kind, &a.to, &a.channel).cmp(&(&b.item_id, b.kind, &b.to, &b.channel))
    });
    notices.dedup_by(|a, b| a.id == b.id);
}

/// The status notices of `kind` that the record at business time `at` causes, for `row` as
/// the record left it (its round is the happening's round); the day they concern is the
/// record's local day. Empty when the rules tell nobody of `kind`.
pub fn status_notices(
    row: &NoticeRow,
    kind: NoticeKind,
    at: &str,
    rules: &NoticeRules,
) -> Vec<Notice> {
    let Some((_, day)) = local_date(at, &rules.time_zone) else {
        return Vec::new();
    };
    let (subject, body) = message(&rules.templates, kind, row, &|_| String::new());
    let draft = Draft {
        kind,
        item: Some(row),
        round: row.round,
        concerns: day,
        subject,
        body,
    };
    let mut notices = Vec::new();
    fan_out(&draft, rules, &mut notices);
    notices
}

fn local_date(at: &str, time_zone: &TimeZone) -> Option<(Timestamp, Date)> {
    let timestamp: Timestamp = at.parse().ok()?;
    Some((timestamp, timestamp.to_zoned(time_zone.clone()).date()))
}

fn reminder_draft<'a>(
    row: &'a NoticeRow,
    rules: &NoticeRules,
    due: Date,
    day: Date,
) -> Option<Draft<'a>> {
    let started = row
        .round_started_at
        .as_deref()
        .and_then(|at| local_date(at, &rules.time_zone))
        .map_or(day, |(_, date)| date);
    if day < started {
        return None;
    }
    let days_left = (due - day).get_days() as i64;
    let (kind, concerns) = if days_left < 0 {
        let overdue_days = -days_left;
        let repeat = rules.overdue_repeat_days.max(1);
        let occurrence = 1 + ((overdue_days - 1) / repeat) * repeat;
        (
            NoticeKind::Overdue,
            due.checked_add(occurrence.days()).ok()?,
        )
    } else if days_left <= rules.due_soon_days {
        (NoticeKind::DueSoon, due)
    } else {
        let total_days = (due - started).get_days() as i64;
        let halfway = started.checked_add((total_days / 2).days()).ok()?;
        if day < halfway {
            return None;
        }
        // Once per round: an extension gives a new due-soon reminder, not a second halfway one.
        (NoticeKind::Halfway, started)
    };
    let extra = |name: &str| match name {
        "due" => due.to_string(),
        "days_left" => days_left.to_string(),
        "days_overdue" => (-days_left).to_string(),
        _ => String::new(),
    };
    let (subject, body) = message(&rules.templates, kind, row, &extra);
    Some(Draft {
        kind,
        item: Some(row),
        round: row.round,
        concerns,
        subject,
        body,
    })
}

fn digest_draft<'a>(items: &[&'a NoticeRow], day: Date, templates: &Templates) -> Draft<'a> {
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let due = item
            .answer_due
            .map_or_else(String::new, |due| due.to_string());
        let left = item
            .answer_due
            .map_or(0, |due| (due - day).get_days() as i64);
        let part = if left < 0 { "overdue" } else { "due" };
        lines.push(
            templates
                .get("digest_item", part)
                .render(|name| match name {
                    "item_id" => item.item_id.clone(),
                    "title" => item.title.clone(),
                    "due" => due.clone(),
                    "days_left" => left.to_string(),
                    "days_overdue" => (-left).to_string(),
                    _ => String::new(),
                }),
        );
    }
    let items_text = lines.join("\n");
    let value = |name: &str| match name {
        "day" => day.to_string(),
        "count" => items.len().to_string(),
        "items" => items_text.clone(),
        _ => String::new(),
    };
    Draft {
        kind: NoticeKind::Digest,
        item: items.first().copied(),
        round: 0,
        concerns: day,
        subject: templates.get("digest", "subject").render(value),
        body: templates.get("digest", "body").render(value),
    }
}

/// The subject and body of an item's notice of `kind` from its templates: the item's own
/// placeholders, then `extra`'s (due dates and days).
fn message(
    templates: &Templates,
    kind: NoticeKind,
    row: &NoticeRow,
    extra: &dyn Fn(&str) -> String,
) -> (String, String) {
    let value = |name: &str| match name {
        "title" => row.title.clone(),
        "item_id" => row.item_id.clone(),
        "leader" => row
            .leader
            .as_ref()
            .map_or_else(String::new, |leader| leader.name.clone()),
        "lead_unit" => row.lead_unit.clone().unwrap_or_default(),
        "round" => row.round.to_string(),
        other => extra(other),
    };
    (
        templates.get(kind.as_str(), "subject").render(value),
        templates.get(kind.as_str(), "body").render(value),
    )
}

fn recipients(draft: &Draft<'_>, audience: Audience, rules: &NoticeRules) -> Vec<String> {
    let Some(item) = draft.item else {
        return Vec::new();
    };
    match audience {
        Audience::Leader => item.leader.iter().map(|leader| leader.id.clone()).collect(),
        Audience::LeadUnit => item
            .lead_unit
            .iter()
            .map(|unit| format!("unit:{unit}"))
            .collect(),
        Audience::LiaisonOffice => vec![rules.liaison_office.clone()],
        Audience::Deputies => item
            .deputies
            .iter()
            .map(|deputy| deputy.id.clone())
            .collect(),
    }
}

fn fan_out(draft: &Draft<'_>, rules: &NoticeRules, notices: &mut Vec<Notice>) {
    let Some(audiences) = rules.audiences.get(&draft.kind) else {
        return;
    };
    let item_id = match draft.kind {
        NoticeKind::Digest => None,
        _ => draft.item.map(|item| item.item_id.clone()),
    };
    for audience in audiences {
        for to in recipients(draft, *audience, rules) {
            let none = [Address {
                channel: "none".to_owned(),
                address: String::new(),
            }];
            let addresses = match rules.addresses.get(&to) {
                Some(known) if !known.is_empty() => known.as_slice(),
                _ => &none,
            };
            for address in addresses {
                let key = item_id.as_deref().unwrap_or("");
                notices.push(Notice {
                    id: notice_id(
                        draft.kind,
                        key,
                        draft.round,
                        &to,
                        &address.channel,
                        draft.concerns,
                    ),
                    kind: draft.kind,
                    item_id: item_id.clone(),
                    to: to.clone(),
                    channel: address.channel.clone(),
                    address: Some(address.address.clone()).filter(|text| !text.is_empty()),
                    round: draft.round,
                    concerns: draft.concerns,
                    subject: draft.subject.clone(),
                    body: draft.body.clone(),
                });
            }
        }
    }
}

impl Notice {
    /// The notice as an outbox row to queue.
    pub fn entry(&self) -> OutboxEntry {
        OutboxEntry {
            id: self.id.clone(),
            kind: self.kind.as_str().to_owned(),
            item_id: self.item_id.clone(),
            recipient: self.to.clone(),
            channel: self.channel.clone(),
            address: self.address.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
        }
    }
}

/// What [`catch_up`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaughtUp {
    /// The checkpoint reached (records folded).
    pub checkpoint: u64,
    /// The status notices it queued that were not queued before, in the order folded.
    pub queued: Vec<Notice>,
}

/// Folds every record not yet in the notice projection's table into it, batch by batch, and
/// queues the status notices they cause in the same transaction as the rows and the checkpoint
/// ([`ViewStore::commit_queueing`]), `queued_at` (Unix seconds) being the moment of the run.
/// The live runner of [`NoticeProjection`]: [`crate::runner::catch_up`] refuses it.
///
/// # Errors
/// [`RunnerError`] when the log, the tables or the outbox fail, or a record or row is unreadable.
pub async fn catch_up(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    rules: &NoticeRules,
    queued_at: i64,
) -> Result<CaughtUp, RunnerError> {
    fold_up_to_head(events, views, rules, queued_at, Telling::Queue).await
}

/// Folds every record not yet in the notice projection's table into it, as [`catch_up`] does,
/// but queues none of the status notices they cause: for setting notices up on a ledger with a
/// history (`huiyin remind --skip-history`), so that deputies are told of what happens from then
/// on rather than of every act of the years before. The time-driven notices are unaffected (they
/// are decided from the rows at a moment). Returns the checkpoint reached and how many status
/// notices were passed over untold.
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record or row is unreadable.
pub async fn pass_over(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    rules: &NoticeRules,
) -> Result<PassedOver, RunnerError> {
    let from = views.checkpoint(NoticeProjection::NAME).await?;
    let caught = fold_up_to_head(events, views, rules, 0, Telling::PassOver).await?;
    Ok(PassedOver {
        from,
        checkpoint: caught.checkpoint,
        untold: caught.queued.len() as u64,
    })
}

/// What [`pass_over`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PassedOver {
    /// The checkpoint it started from.
    pub from: u64,
    /// The checkpoint reached (records folded).
    pub checkpoint: u64,
    /// The status notices the folded records would have caused, queued by nobody.
    pub untold: u64,
}

/// Whether [`fold_up_to_head`] queues the status notices it folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Telling {
    Queue,
    PassOver,
}

/// The fold behind [`catch_up`] and [`pass_over`]. With [`Telling::PassOver`] it queues nothing
/// and returns the notices it did not queue in [`CaughtUp::queued`].
async fn fold_up_to_head(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    rules: &NoticeRules,
    queued_at: i64,
    telling: Telling,
) -> Result<CaughtUp, RunnerError> {
    let mut queued = Vec::new();
    loop {
        let from = views.checkpoint(NoticeProjection::NAME).await?;
        let batch = read_batch(events, from).await?;
        if batch.is_empty() {
            return Ok(CaughtUp {
                checkpoint: from,
                queued,
            });
        }
        let to = from + batch.len() as u64;
        let mut rows = stored_rows(views, &batch).await?;
        let notices = fold_notices(&mut rows, &batch, rules)?;
        let changes = row_changes(rows)?;
        let entries: Vec<OutboxEntry> = match telling {
            Telling::Queue => notices.iter().map(Notice::entry).collect(),
            Telling::PassOver => Vec::new(),
        };
        // A refused commit means another runner moved the checkpoint first (and queued these
        // notices itself): fold again from it.
        match views
            .commit_queueing(
                NoticeProjection::NAME,
                from,
                to,
                changes,
                &entries,
                queued_at,
            )
            .await?
        {
            Some(inserted) => queued.extend(notices.into_iter().filter(|notice| match telling {
                Telling::Queue => inserted.contains(&notice.id),
                Telling::PassOver => true,
            })),
            None => tracing::debug!(from, "another notice runner got there first"),
        }
    }
}

/// The rows of the notice projection as [`catch_up`] would leave them, and the status notices
/// it would queue (before the outbox drops those it holds), folded in memory; writes nothing
/// (`huiyin remind --dry-run`).
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record or row is unreadable.
pub async fn pending(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    rules: &NoticeRules,
) -> Result<(Vec<NoticeRow>, Vec<Notice>), RunnerError> {
    let (mut from, stored) = views.snapshot(NoticeProjection::NAME).await?;
    let mut rows: BTreeMap<String, Option<NoticeRow>> = BTreeMap::new();
    for (key, body) in stored {
        let row = parse_row(&key, &body)?;
        rows.insert(key, Some(row));
    }
    let mut notices = Vec::new();
    loop {
        let batch = read_batch(events, from).await?;
        if batch.is_empty() {
            break;
        }
        from += batch.len() as u64;
        notices.extend(fold_notices(&mut rows, &batch, rules)?);
    }
    Ok((rows.into_values().flatten().collect(), notices))
}

fn parse_row(key: &str, body: &str) -> Result<NoticeRow, RunnerError> {
    serde_json::from_str(body).map_err(|error| RunnerError::Row {
        projection: NoticeProjection::NAME,
        key: key.to_owned(),
        reason: error.to_string(),
    })
}

/// The stored rows `batch` touches (`None`: no row yet).
async fn stored_rows(
    views: &dyn ViewStore,
    batch: &[Record],
) -> Result<BTreeMap<String, Option<NoticeRow>>, RunnerError> {
    let keys: BTreeSet<String> = batch.iter().filter_map(NoticeProjection::key).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut rows: BTreeMap<String, Option<NoticeRow>> =
        keys.iter().map(|key| (key.clone(), None)).collect();
    for (key, body) in views.rows(NoticeProjection::NAME, &keys).await? {
        let row = parse_row(&key, &body)?;
        rows.insert(key, Some(row));
    }
    Ok(rows)
}

/// Folds `batch` into `rows` (which hold every row it touches); returns the status notices the
/// records cause, in the order folded.
fn fold_notices(
    rows: &mut BTreeMap<String, Option<NoticeRow>>,
    batch: &[Record],
    rules: &NoticeRules,
) -> Result<Vec<Notice>, FoldError> {
    let mut notices = Vec::new();
    for record in batch {
        let Some(key) = NoticeProjection::key(record) else {
            continue;
        };
        let row = rows.get_mut(&key).and_then(Option::take);
        let (folded, happened) = NoticeProjection::fold(row, record)?;
        if let (Some(row), Some(kind)) = (&folded, happened) {
            notices.extend(status_notices(row, kind, &record.at, rules));
        }
        rows.insert(key, folded);
    }
    Ok(notices)
}

fn row_changes(rows: BTreeMap<String, Option<NoticeRow>>) -> Result<Vec<RowChange>, RunnerError> {
    rows.into_iter()
        .map(|(key, row)| {
            let body = row.map(|row| serde_json::to_string(&row)).transpose();
            let body = body.map_err(|error| RunnerError::Row {
                projection: NoticeProjection::NAME,
                key: key.clone(),
                reason: error.to_string(),
            })?;
            Ok(RowChange {
                key,
                body,
                board: None,
            })
        })
        .collect()
}
