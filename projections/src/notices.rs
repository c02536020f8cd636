//! Who is told what, and when (issue 9): a projection keeps what the notice rules need of each
//! item ([`NoticeRow`]), and [`decide`] turns those rows and a moment into notices.
//!
//! **Invariant:** [`decide`] is pure: the moment is an argument, never the clock, so tests move
//! time by passing a later moment.
//!
//! **Invariant:** a notice's id is a hash of its kind, item, round, recipient, channel and the
//! day it concerns ([`notice_id`]): deciding again at the same moment, or after a rebuild of the
//! projection, gives the same ids, and the outbox inserts an id only once ever.

use std::collections::BTreeMap;

use aggregates::deadline::WorkingCalendar;
use aggregates::item::ItemEvent;
use infra::record::Record;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{item_event_of, FoldError, Projection};

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

/// Something that happened to an item that people are told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Happening {
    /// `assigned`, `answered`, `rehandling` or `closed`.
    pub kind: NoticeKind,
    /// The round it belongs to.
    pub round: u32,
    /// Its business time (RFC 3339).
    pub at: String,
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
    /// What happened that people are told about, in order.
    pub happenings: Vec<Happening>,
}

/// The notice rules as a projection: one [`NoticeRow`] per item.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoticeProjection;

impl Projection for NoticeProjection {
    const NAME: &'static str = "notices";
    type Row = NoticeRow;

    fn key(record: &Record) -> Option<String> {
        record.stream.strip_prefix("item/").map(str::to_owned)
    }

    /// The key is the record's stream, whose first record has version 1.
    fn opens_key(record: &Record) -> bool {
        record.version == 1
    }

    fn apply(row: Option<NoticeRow>, record: &Record) -> Result<Option<NoticeRow>, FoldError> {
        let event = item_event_of(record)?;
        if let ItemEvent::ItemFiled {
            item_id,
            title,
            deputies,
            ..
        } = &event
        {
            return Ok(Some(NoticeRow {
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
                happenings: Vec::new(),
            }));
        }
        Ok(row.map(|mut row| {
            apply_to_row(&mut row, event, &record.at);
            row
        }))
    }
}

fn apply_to_row(row: &mut NoticeRow, event: ItemEvent, at: &str) {
    let happened = |row: &mut NoticeRow, kind: NoticeKind| {
        let round = row.round;
        row.happenings.push(Happening {
            kind,
            round,
            at: at.to_owned(),
        });
    };
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
            happened(row, NoticeKind::Assigned);
        }
        ItemEvent::ItemAnswered { .. } => {
            row.answer_due = None;
            happened(row, NoticeKind::Answered);
        }
        ItemEvent::RehandlingStarted {
            round, answer_due, ..
        }
        | ItemEvent::ItemReopened {
            round, answer_due, ..
        } => {
            start_round(row, round, answer_due, at);
            happened(row, NoticeKind::Rehandling);
        }
        ItemEvent::ItemClosed { .. } => happened(row, NoticeKind::Closed),
        // An approved extension moves the due date of the round still awaiting its answer.
        ItemEvent::ExtensionDecided { due, .. } if row.answer_due.is_some() => {
            row.answer_due = Some(due);
        }
        ItemEvent::ItemReturned { .. }
        | ItemEvent::ItemRedirected { .. }
        | ItemEvent::ItemMerged { .. }
        | ItemEvent::ItemWithdrawn { .. } => row.answer_due = None,
        _ => {}
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
    /// A status notice is sent only within this many days of its event (a first run on an old
    /// ledger does not tell people about years-old events).
    pub event_window_days: i64,
    /// Digests only on working days.
    pub digest_working_days_only: bool,
    /// The liaison office's recipient id.
    pub liaison_office: String,
    /// Who receives each kind of notice; a kind with nobody is off.
    pub audiences: BTreeMap<NoticeKind, Vec<Audience>>,
    /// Each recipient's channels and addresses, kept outside the ledger.
    pub addresses: BTreeMap<String, Vec<Address>>,
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
            event_window_days: 7,
            digest_working_days_only: true,
            liaison_office: "liaison_office".to_owned(),
            audiences: audiences.into_iter().collect(),
            addresses: BTreeMap::new(),
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

/// The notices due at `now` for `rows`, sorted by item, kind, recipient and channel.
/// Reminders and digests of a day are due from `daily_at` local time; status notices at once.
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
        for draft in status_drafts(row, rules, now, today) {
            fan_out(&draft, rules, &mut notices);
        }
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
            fan_out(&digest_draft(items, reminder_day), rules, &mut notices);
        }
    }
    notices.sort_by(|a, b| {
        (&a.item_id, a.kind, &a.to, &a.channel).cmp(&(&b.item_id, b.kind, &b.to, &b.channel))
    });
    notices.dedup_by(|a, b| a.id == b.id);
    notices
}

fn local_date(at: &str, time_zone: &TimeZone) -> Option<(Timestamp, Date)> {
    let timestamp: Timestamp = at.parse().ok()?;
    Some((timestamp, timestamp.to_zoned(time_zone.clone()).date()))
}

fn status_drafts<'a>(
    row: &'a NoticeRow,
    rules: &NoticeRules,
    now: Timestamp,
    today: Date,
) -> Vec<Draft<'a>> {
    let oldest = today
        .checked_sub(rules.event_window_days.days())
        .unwrap_or(today);
    row.happenings
        .iter()
        .filter_map(|happening| {
            let (at, day) = local_date(&happening.at, &rules.time_zone)?;
            if !(at <= now && day >= oldest) {
                return None;
            }
            let (subject, body) = status_text(row, happening.kind, happening.round);
            Some(Draft {
                kind: happening.kind,
                item: Some(row),
                round: happening.round,
                concerns: day,
                subject,
                body,
            })
        })
        .collect()
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
    let (subject, body) = reminder_text(row, kind, due, days_left);
    Some(Draft {
        kind,
        item: Some(row),
        round: row.round,
        concerns,
        subject,
        body,
    })
}

fn digest_draft<'a>(items: &[&'a NoticeRow], day: Date) -> Draft<'a> {
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let due = item
            .answer_due
            .map_or_else(String::new, |due| due.to_string());
        let left = item
            .answer_due
            .map_or(0, |due| (due - day).get_days() as i64);
        let state = if left < 0 {
            format!("已超期{}天", -left)
        } else {
            format!("剩余{left}天")
        };
        lines.push(format!(
            "· {}《{}》 答复期限{due}，{state}",
            item.item_id, item.title
        ));
    }
    Draft {
        kind: NoticeKind::Digest,
        item: items.first().copied(),
        round: 0,
        concerns: day,
        subject: format!("【回音】{day} 待办代表建议汇总（{}件）", items.len()),
        body: format!(
            "您负责办理、尚未答复的事项共{}件：\n{}",
            items.len(),
            lines.join("\n")
        ),
    }
}

fn status_text(row: &NoticeRow, kind: NoticeKind, round: u32) -> (String, String) {
    let title = &row.title;
    let id = &row.item_id;
    let leader = row
        .leader
        .as_ref()
        .map_or("", |leader| leader.name.as_str());
    let unit = row.lead_unit.as_deref().unwrap_or("");
    let body = match kind {
        NoticeKind::Assigned => {
            format!("您提出的《{title}》（{id}）已交由{unit}办理，包案领导：{leader}。")
        }
        NoticeKind::Answered => format!("您提出的《{title}》（{id}）已答复，请查看答复并评价。"),
        NoticeKind::Rehandling => {
            format!("您提出的《{title}》（{id}）已进入第{round}轮重新办理，承办部门：{unit}。")
        }
        NoticeKind::Closed => format!("您提出的《{title}》（{id}）已办结销号。感谢您的监督。"),
        _ => String::new(),
    };
    (format!("【回音】《{title}》办理进展"), body)
}

fn reminder_text(row: &NoticeRow, kind: NoticeKind, due: Date, days_left: i64) -> (String, String) {
    let title = &row.title;
    let id = &row.item_id;
    match kind {
        NoticeKind::Halfway => (
            format!("【回音】《{title}》办理时限已过半"),
            format!("《{title}》（{id}）办理时限已过半，答复期限为{due}，尚余{days_left}天。"),
        ),
        NoticeKind::DueSoon => (
            format!("【回音】《{title}》即将到期"),
            format!("《{title}》（{id}）将于{due}到期（剩余{days_left}天），请按期答复。"),
        ),
        _ => (
            format!("【回音】《{title}》已超期"),
            format!(
                "《{title}》（{id}）答复期限为{due}，已超期{}天，请尽快答复。",
                -days_left
            ),
        ),
    }
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
