//! The tracking board (督办台账): one row per item, folded from its events, and a view of it on
//! a given day with the due-soon and overdue flags and the summary (DESIGN.md §5).

use aggregates::item::{ItemEvent, ItemStatus};
use infra::record::Record;
use infra::views::{BoardColumns, BoardCounts, BoardPosition, BoardSort, BOARD_PROJECTION};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{item_event_of, FoldError, Folded, Projection};

/// An item is due soon when this many calendar days or fewer are left.
pub const DUE_SOON_DAYS_MAX: i64 = 7;

/// What the board knows of one item, independent of the day it is looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardRow {
    /// The item's id.
    pub item_id: String,
    /// Its kind (`suggestion`, …).
    pub kind: String,
    /// Its title.
    pub title: String,
    /// The names of its deputies, lead first.
    pub deputies: Vec<String>,
    /// The person ids of its deputies, in the order of `deputies`. Rows folded before this field
    /// existed read as naming nobody until `huiyin rebuild`.
    #[serde(default)]
    pub deputy_ids: Vec<String>,
    /// Its status.
    pub status: String,
    /// The current round (0 before assignment).
    pub round: u32,
    /// The lead unit, once assigned.
    pub lead_unit: Option<String>,
    /// The responsible leader's name, once assigned.
    pub leader: Option<String>,
    /// The due date in force: triage while filed, else the current round's answer.
    pub due: Option<Date>,
    /// True while the current round (or triage) awaits its answer (or decision).
    pub awaiting: bool,
    /// Class letter of the latest answer.
    pub class: Option<String>,
    /// The latest rating.
    pub rating: Option<String>,
    /// Whether the latest answer came on or before its due date.
    pub answered_on_time: Option<bool>,
    /// Whether the item has been answered at least once.
    pub answered: bool,
    /// Business time of the item's latest event.
    pub last_activity_at: String,
}

/// The tracking board as a projection: one [`BoardRow`] per item, keyed by item id.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoardProjection;

impl Projection for BoardProjection {
    const NAME: &'static str = BOARD_PROJECTION;
    type Row = BoardRow;

    fn board_columns(row: &BoardRow) -> Option<BoardColumns> {
        let date = |date: Option<Date>| date.map(|date| date.to_string()).unwrap_or_default();
        Some(BoardColumns {
            kind: row.kind.clone(),
            status: row.status.clone(),
            lead_unit: row.lead_unit.clone().unwrap_or_default(),
            leader: row.leader.clone().unwrap_or_default(),
            due: date(row.due),
            awaiting_due: date(row.due.filter(|_| row.awaiting)),
            answered_on_time: row.answered_on_time,
            is_open: is_open(&row.status),
            is_closed: row.status == "closed",
            awaits_answer: awaits_answer(&row.status),
            last_activity_at: row.last_activity_at.clone(),
            deputy_ids: row.deputy_ids.clone(),
        })
    }

    fn key(record: &Record) -> Option<String> {
        record.stream.strip_prefix("item/").map(str::to_owned)
    }

    /// The key is the record's stream, whose first record has version 1.
    fn opens_key(record: &Record) -> bool {
        record.version == 1
    }

    fn apply(row: Option<BoardRow>, record: &Record) -> Result<Option<BoardRow>, FoldError> {
        let event = item_event_of(record)?;
        if let ItemEvent::ItemFiled {
            item_id,
            kind,
            title,
            deputies,
            triage_due,
            ..
        } = &event
        {
            let mut names: Vec<(bool, String, String)> = deputies
                .iter()
                .map(|deputy| (!deputy.lead, deputy.name.clone(), deputy.id.clone()))
                .collect();
            names.sort_by_key(|(not_lead, _, _)| *not_lead);
            return Ok(Some(BoardRow {
                item_id: item_id.clone(),
                kind: label(kind),
                title: title.clone(),
                deputies: names.iter().map(|(_, name, _)| name.clone()).collect(),
                deputy_ids: names.into_iter().map(|(_, _, id)| id).collect(),
                status: label(&ItemStatus::Filed),
                round: 0,
                lead_unit: None,
                leader: None,
                due: Some(*triage_due),
                awaiting: true,
                class: None,
                rating: None,
                answered_on_time: None,
                answered: false,
                last_activity_at: record.at.clone(),
            }));
        }
        // An event of an item that was never filed cannot be decided; skip rather than invent.
        Ok(row.map(|mut row| {
            row.last_activity_at.clone_from(&record.at);
            apply_to_row(&mut row, event);
            row
        }))
    }
}

/// The board folded in memory.
pub type Board = Folded<BoardProjection>;

fn apply_to_row(row: &mut BoardRow, event: ItemEvent) {
    match event {
        ItemEvent::ItemFiled { .. } => {}
        ItemEvent::ItemAccepted { .. } => set_status(row, ItemStatus::Accepted, None),
        ItemEvent::ItemReturned { .. } => set_status(row, ItemStatus::Returned, None),
        ItemEvent::ItemRedirected { .. } => set_status(row, ItemStatus::Redirected, None),
        ItemEvent::ItemMerged { .. } => set_status(row, ItemStatus::Merged, None),
        ItemEvent::ItemAssigned {
            lead_unit,
            leader,
            answer_due,
            ..
        } => {
            row.lead_unit = Some(lead_unit);
            row.leader = Some(leader.name);
            row.round = 1;
            set_status(row, ItemStatus::Assigned, Some(answer_due));
            row.awaiting = true;
        }
        ItemEvent::ItemAnswered {
            class,
            on_time,
            due,
            ..
        } => {
            row.class = Some(label(&class));
            row.answered = true;
            row.answered_on_time = Some(on_time);
            row.rating = None;
            set_status(row, ItemStatus::Answered, Some(due));
        }
        ItemEvent::AnswerRated { rating, .. } => {
            row.rating = Some(label(&rating));
            row.status = label(&ItemStatus::Rated);
        }
        ItemEvent::RehandlingStarted {
            round, answer_due, ..
        } => {
            row.round = round;
            set_status(row, ItemStatus::Rehandling, Some(answer_due));
            row.awaiting = true;
        }
        ItemEvent::CommitmentFulfilled { .. } => {}
        ItemEvent::ItemReconciled { .. } => row.status = label(&ItemStatus::Reconciled),
        ItemEvent::ItemClosed { .. } => row.status = label(&ItemStatus::Closed),
        // Handling logs leave the status, round and due date as they are.
        ItemEvent::ItemAcknowledged { .. }
        | ItemEvent::ContactRecorded { .. }
        | ItemEvent::CoViewSubmitted { .. }
        | ItemEvent::ProgressReported { .. }
        | ItemEvent::ExtensionRequested { .. } => {}
        // An approved extension moves the due date of the round still awaiting its answer.
        ItemEvent::ExtensionDecided { due, .. } => row.due = Some(due),
        ItemEvent::AnswerReclassified { class, .. } => row.class = Some(label(&class)),
        ItemEvent::ItemWithdrawn { .. } => set_status(row, ItemStatus::Withdrawn, None),
        ItemEvent::ItemReopened {
            round, answer_due, ..
        } => {
            row.round = round;
            row.rating = None;
            set_status(row, ItemStatus::Rehandling, Some(answer_due));
            row.awaiting = true;
        }
    }
}

fn set_status(row: &mut BoardRow, status: ItemStatus, due: Option<Date>) {
    row.status = label(&status);
    row.due = due;
    row.awaiting = false;
}

/// The snake_case name serde gives an enum value.
fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// One item as the board shows it on a given day (DESIGN.md §5 JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardItem {
    /// The item's id.
    pub item_id: String,
    /// Its kind.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// Deputies' names, lead first.
    pub deputies: Vec<String>,
    /// Its status.
    pub status: String,
    /// The current round.
    pub round: u32,
    /// The lead unit.
    pub lead_unit: Option<String>,
    /// The responsible leader.
    pub leader: Option<String>,
    /// The due date in force, `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due: Option<Date>,
    /// Calendar days from today to the due date while awaiting; negative when late.
    pub days_left: Option<i64>,
    /// Awaiting, and at most [`DUE_SOON_DAYS_MAX`] days left.
    pub due_soon: bool,
    /// Awaiting, and today is after the due date.
    pub overdue: bool,
    /// Class of the latest answer.
    pub class: Option<String>,
    /// Latest rating.
    pub rating: Option<String>,
    /// Whether the latest answer came in time.
    pub answered_on_time: Option<bool>,
    /// Business time of the latest event.
    pub last_activity_at: String,
}

impl BoardItem {
    fn on(row: &BoardRow, today: Date) -> Self {
        let days_left = row
            .due
            .filter(|_| row.awaiting)
            .and_then(|due| today.until(due).ok())
            .map(|span| i64::from(span.get_days()));
        BoardItem {
            item_id: row.item_id.clone(),
            kind: row.kind.clone(),
            title: row.title.clone(),
            deputies: row.deputies.clone(),
            status: row.status.clone(),
            round: row.round,
            lead_unit: row.lead_unit.clone(),
            leader: row.leader.clone(),
            due: row.due,
            days_left,
            due_soon: days_left.is_some_and(|days| (0..=DUE_SOON_DAYS_MAX).contains(&days)),
            overdue: days_left.is_some_and(|days| days < 0),
            class: row.class.clone(),
            rating: row.rating.clone(),
            answered_on_time: row.answered_on_time,
            last_activity_at: row.last_activity_at.clone(),
        }
    }

    fn is_open(&self) -> bool {
        is_open(&self.status)
    }

    fn awaits_answer(&self) -> bool {
        awaits_answer(&self.status)
    }

    /// The value of `sort`'s column for this item, as `board_rows` holds it (`""` for none;
    /// dates `YYYY-MM-DD`): pages of a board folded in memory are cut by the same keys as pages
    /// read from the table.
    pub fn sort_value(&self, sort: BoardSort) -> String {
        let date = |date: Option<Date>| date.map(|date| date.to_string()).unwrap_or_default();
        match sort {
            BoardSort::ItemId => self.item_id.clone(),
            BoardSort::Kind => self.kind.clone(),
            BoardSort::Status => self.status.clone(),
            BoardSort::LeadUnit => self.lead_unit.clone().unwrap_or_default(),
            BoardSort::Leader => self.leader.clone().unwrap_or_default(),
            BoardSort::Due => date(self.due),
            BoardSort::DaysLeft => date(self.due.filter(|_| self.days_left.is_some())),
            BoardSort::LastActivity => self.last_activity_at.clone(),
        }
    }
}

/// Not closed and not ended without an answer. (Migration `0050_board_rows` fills `is_open`
/// of existing rows with the same list.)
fn is_open(status: &str) -> bool {
    !matches!(
        status,
        "closed" | "returned" | "redirected" | "merged" | "withdrawn"
    )
}

/// Awaiting an answer: assigned or re-handling (not triage).
fn awaits_answer(status: &str) -> bool {
    matches!(status, "assigned" | "rehandling")
}

/// The counts at the top of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Items on the board.
    pub total: u64,
    /// Not closed and not ended without an answer.
    pub open: u64,
    /// Answered at least once.
    pub answered: u64,
    /// Whose latest answer came on or before its due date.
    pub answered_on_time: u64,
    /// Awaiting an answer or triage past the due date.
    pub overdue: u64,
    /// Awaiting, due within [`DUE_SOON_DAYS_MAX`] days.
    pub due_soon: u64,
    /// Closed (销号).
    pub closed: u64,
    /// Awaiting an answer past the answer due date.
    pub unanswered_due: u64,
    /// True when no item awaits an answer past its due date.
    pub all_due_answered: bool,
}

impl Summary {
    /// The summary of counts read from the table.
    pub fn of_counts(counts: &BoardCounts) -> Self {
        Summary {
            total: counts.total,
            open: counts.open,
            answered: counts.answered,
            answered_on_time: counts.answered_on_time,
            overdue: counts.overdue,
            due_soon: counts.due_soon,
            closed: counts.closed,
            unanswered_due: counts.unanswered_due,
            all_due_answered: counts.unanswered_due == 0,
        }
    }

    fn of(items: &[BoardItem]) -> Self {
        let count = |keep: &dyn Fn(&BoardItem) -> bool| {
            items.iter().filter(|item| keep(item)).count() as u64
        };
        let unanswered_due = count(&|item| item.awaits_answer() && item.overdue);
        Summary {
            total: items.len() as u64,
            open: count(&BoardItem::is_open),
            answered: count(&|item| item.answered_on_time.is_some()),
            answered_on_time: count(&|item| item.answered_on_time == Some(true)),
            overdue: count(&|item| item.overdue),
            due_soon: count(&|item| item.due_soon),
            closed: count(&|item| item.status == "closed"),
            unanswered_due,
            all_due_answered: unanswered_due == 0,
        }
    }
}

impl BoardView {
    /// The board on `today` (a local date in the ledger's time zone) from its rows;
    /// `records_folded` is how much of the log they reflect.
    pub fn of<'a>(
        rows: impl IntoIterator<Item = &'a BoardRow>,
        records_folded: u64,
        today: Date,
        now: String,
    ) -> Self {
        let items: Vec<BoardItem> = rows
            .into_iter()
            .map(|row| BoardItem::on(row, today))
            .collect();
        let summary = Summary::of(&items);
        BoardView {
            as_of_position: records_folded.checked_sub(1),
            now,
            summary,
            items,
            page: None,
        }
    }

    /// A page of the board: `rows` (already one page, in order) judged on `today`, under the
    /// summary `counts` of the whole selection they were cut from.
    pub fn page_of<'a>(
        rows: impl IntoIterator<Item = &'a BoardRow>,
        counts: &BoardCounts,
        today: Date,
        now: String,
    ) -> Self {
        BoardView {
            as_of_position: counts.checkpoint.checked_sub(1),
            now,
            summary: Summary::of_counts(counts),
            items: rows
                .into_iter()
                .map(|row| BoardItem::on(row, today))
                .collect(),
            page: None,
        }
    }

    /// Orders the items by `sort` (then item id; both reversed when `descending`), keeps those
    /// after `after` and at most `limit` of them; the summary is left counting the whole set.
    /// Returns where the next page starts, if there is one. The same keys as the table's
    /// (`BoardItem::sort_value`), so a page folded in memory is the page the table would give.
    pub fn cut_page(
        &mut self,
        sort: BoardSort,
        descending: bool,
        after: Option<&BoardPosition>,
        limit: usize,
    ) -> Option<BoardPosition> {
        let mut keyed: Vec<(String, BoardItem)> = std::mem::take(&mut self.items)
            .into_iter()
            .map(|item| (item.sort_value(sort), item))
            .collect();
        keyed.sort_by(|(a_value, a), (b_value, b)| {
            let order = a_value.cmp(b_value).then_with(|| a.item_id.cmp(&b.item_id));
            if descending {
                order.reverse()
            } else {
                order
            }
        });
        let beyond = |value: &String, item: &BoardItem| match after {
            None => true,
            Some(after) => {
                let order = value
                    .cmp(&after.value)
                    .then_with(|| item.item_id.cmp(&after.item_id));
                if descending {
                    order.is_lt()
                } else {
                    order.is_gt()
                }
            }
        };
        let mut kept: Vec<(String, BoardItem)> = keyed
            .into_iter()
            .filter(|(value, item)| beyond(value, item))
            .collect();
        let has_more = kept.len() > limit;
        kept.truncate(limit);
        let next = kept
            .last()
            .filter(|_| has_more)
            .map(|(value, item)| BoardPosition {
                value: value.clone(),
                item_id: item.item_id.clone(),
            });
        self.items = kept.into_iter().map(|(_, item)| item).collect();
        next
    }

    /// Keeps only the items `keep` accepts; the summary then counts those items only.
    pub fn retain(&mut self, keep: impl Fn(&BoardItem) -> bool) {
        self.items.retain(|item| keep(item));
        self.summary = Summary::of(&self.items);
    }
}

/// `{"as_of_position","now","summary","items"}` (DESIGN.md §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardView {
    /// The last position folded; `None` for an empty log.
    pub as_of_position: Option<u64>,
    /// The moment the flags were judged at.
    pub now: String,
    /// The counts.
    pub summary: Summary,
    /// One entry per item, ordered by id (or as asked); one page of them over HTTP.
    pub items: Vec<BoardItem>,
    /// Which page this is and where the next starts (over HTTP; the command line prints the
    /// whole board and leaves it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<PageInfo>,
}

/// A board page's place: its size, order, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageInfo {
    /// The most items this page could hold.
    pub limit: u32,
    /// The sort column (`item_id`, `kind`, `status`, `lead_unit`, `leader`, `due`, `days_left`,
    /// `last_activity_at`).
    pub sort: String,
    /// `asc` or `desc`.
    pub dir: String,
    /// True when there are more items after this page.
    pub has_more: bool,
    /// The opaque cursor of the next page (`after=`), when there is one.
    pub next: Option<String>,
}
