//! Reading the ledger: the board, the figures and an item's trail, live or as of a moment. The
//! command line and the HTTP API both read through here, so they show the same thing.
//!
//! Live reads come from the projection tables, brought up to date first (so a reader always sees
//! its own writes); as-of reads fold the log in memory up to the moment asked for.

use std::collections::HashMap;

use aggregates::item::ItemEvent;
use commands::Clock;
use futures::TryStreamExt;
use infra::credentials::SecretDigest;
use infra::record::Record;
use infra::store::{EventStore, StoreError, Stores};
use infra::views::{
    BoardChoices, BoardCounts, BoardFilters, BoardPageRead, BoardPosition, BoardSelection,
    BoardSort,
};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use projections::board::{BoardItem, BoardProjection, BoardRow, BoardView, DUE_SOON_DAYS_MAX};
use projections::figures::{Figures, FiguresProjection};
use projections::runner::{catch_up, RunnerError};
use projections::trail::Trail;
use projections::{FoldError, Folded, Projection};

use crate::when::{AsOf, ReadAt};

/// Why the ledger could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A projection could not be brought up to date.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// A record could not be folded.
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// The bearer token the page was asked to confirm ([`BoardRequest::confirm_token`]) is
    /// revoked or gone: nothing was read for it.
    #[error("the credential is not valid")]
    TokenGone,
    /// A stored record or projection row is unreadable: the database was changed behind the
    /// program's back, or a bug.
    #[error("{what} is unreadable: {reason}")]
    Unreadable {
        /// Which record or row.
        what: String,
        /// Why.
        reason: String,
    },
}

fn unreadable(what: String, error: impl std::fmt::Display) -> ReadError {
    ReadError::Unreadable {
        what,
        reason: error.to_string(),
    }
}

/// Folds the log into projection `P` in memory, stopping after `as_of`. Returns the fold and
/// the `recorded_at` of the last record folded.
///
/// # Errors
/// [`ReadError`] when the log cannot be read or a record cannot be folded.
pub async fn fold_until<P: Projection>(
    store: &dyn EventStore,
    as_of: AsOf,
) -> Result<(Folded<P>, Option<Timestamp>), ReadError> {
    let mut folded = Folded::<P>::default();
    let mut last_recorded_at = None;
    let mut records = store.read_all(0);
    while let Some(stored) = records.try_next().await? {
        let what = || format!("record at position {}", stored.position);
        let record: Record = stored.record().map_err(|error| unreadable(what(), error))?;
        let recorded_at: Timestamp = record
            .recorded_at
            .parse()
            .map_err(|error| unreadable(format!("recorded_at of {}", what()), error))?;
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
///
/// # Errors
/// [`ReadError`] when the tables cannot be read or a row is unreadable.
pub async fn live_rows<P: Projection>(stores: &Stores) -> Result<(u64, Vec<P::Row>), ReadError> {
    catch_up::<P>(&*stores.events, &*stores.views).await?;
    let (checkpoint, stored) = stores.views.snapshot(P::NAME).await?;
    Ok((checkpoint, parse_rows::<P>(stored)?))
}

/// Stored rows of projection `P` (`(key, JSON text)`) as rows.
fn parse_rows<P: Projection>(stored: Vec<(String, String)>) -> Result<Vec<P::Row>, ReadError> {
    stored
        .into_iter()
        .map(|(key, body)| {
            serde_json::from_str(&body)
                .map_err(|error| unreadable(format!("{} row {key}", P::NAME), error))
        })
        .collect()
}

/// Rows of projection `P` as the ledger knew them at `at.as_of`, or live; with the number of
/// records they reflect and the moment flags are judged at (`at.now`, else the as-of moment,
/// else `clock`'s now).
///
/// # Errors
/// [`ReadError`] when the log or the tables cannot be read.
pub async fn rows_as_of<P: Projection>(
    stores: &Stores,
    at: ReadAt,
    clock: &dyn Clock,
) -> Result<(Vec<P::Row>, u64, Timestamp), ReadError> {
    match at.as_of {
        Some(as_of) => {
            let (folded, last_recorded_at) = fold_until::<P>(&*stores.events, as_of).await?;
            let as_of_moment = match as_of {
                AsOf::Time(time) => Some(time),
                AsOf::Position(_) => last_recorded_at,
            };
            let now = at.now.or(as_of_moment).unwrap_or_else(|| clock.now());
            let records = folded.records_folded();
            Ok((folded.rows().values().cloned().collect(), records, now))
        }
        None => {
            let (checkpoint, rows) = live_rows::<P>(stores).await?;
            Ok((rows, checkpoint, at.now.unwrap_or_else(|| clock.now())))
        }
    }
}

/// The moment due-soon and overdue are judged at, as a local date and its RFC 3339 text.
pub fn judged_at(now: Timestamp, time_zone: &TimeZone) -> (Date, String) {
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

/// The board at `at`, of the items whose row `keep` accepts.
///
/// # Errors
/// [`ReadError`] when the log or the tables cannot be read.
pub async fn board_view(
    stores: &Stores,
    at: ReadAt,
    time_zone: &TimeZone,
    clock: &dyn Clock,
    keep: impl Fn(&BoardRow) -> bool,
) -> Result<BoardView, ReadError> {
    let (rows, records, now) = rows_as_of::<BoardProjection>(stores, at, clock).await?;
    let (today, now) = judged_at(now, time_zone);
    Ok(BoardView::of(
        rows.iter().filter(|row| keep(row)),
        records,
        today,
        now,
    ))
}

/// A board page holds this many items unless asked for another number.
pub const BOARD_PAGE_ITEMS_DEFAULT: u32 = 100;

/// A board page holds at most this many items.
pub const BOARD_PAGE_ITEMS_MAX: u32 = 1_000;

/// Which page of the board: its filters, whose items, its order and where it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardRequest {
    /// Which items (a deputy's board: `deputy_id` set).
    pub filters: BoardFilters,
    /// The order.
    pub sort: BoardSort,
    /// Descending.
    pub descending: bool,
    /// Start after this row (from a cursor).
    pub after: Option<BoardPosition>,
    /// At most this many items (at least 1).
    pub limit: u32,
    /// A bearer token (its digest) that the caller took as valid without looking it up (a cached
    /// lookup, [`crate::auth::TokenCache`]): a live page's statement reads whether it is still
    /// stored and unrevoked, and the page fails with [`ReadError::TokenGone`] when it is not.
    /// An as-of page reads no table, so it must not be asked with one.
    pub confirm_token: Option<SecretDigest>,
}

impl BoardRequest {
    fn keeps_row(&self, row: &BoardRow) -> bool {
        let is = |wanted: &Option<String>, value: Option<&str>| {
            wanted.as_deref().is_none_or(|wanted| value == Some(wanted))
        };
        let filters = &self.filters;
        filters
            .deputy_id
            .as_ref()
            .is_none_or(|deputy| row.deputy_ids.contains(deputy))
            && is(&filters.status, Some(&row.status))
            && is(&filters.kind, Some(&row.kind))
            && is(&filters.leader, row.leader.as_deref())
            && is(&filters.lead_unit, row.lead_unit.as_deref())
    }

    fn keeps_item(&self, item: &BoardItem) -> bool {
        let filters = &self.filters;
        filters.overdue.is_none_or(|wanted| item.overdue == wanted)
            && filters
                .due_soon
                .is_none_or(|wanted| item.due_soon == wanted)
    }

    fn selection(&self, today: Date) -> BoardSelection {
        let due_soon_until = today
            .checked_add(jiff::Span::new().days(DUE_SOON_DAYS_MAX))
            .unwrap_or(today);
        BoardSelection {
            filters: self.filters.clone(),
            today: today.to_string(),
            due_soon_until: due_soon_until.to_string(),
            sort: self.sort,
            descending: self.descending,
        }
    }
}

/// The board's counts cache holds at most this many selections.
pub const BOARD_COUNTS_CACHED_MAX: usize = 1_024;

/// The counts of recently asked board selections at one checkpoint: counting every row of a
/// large board costs far more than reading a page of it, and the counts of a selection (filters,
/// whose items, today) change only when the board moves. An entry is used only for a page read at
/// exactly its checkpoint, so a cached count is the count a fresh statement would give; entries
/// of an older checkpoint are dropped as soon as a newer one is seen.
#[derive(Debug, Default)]
pub struct BoardCountsCache {
    entries: std::sync::Mutex<(u64, HashMap<BoardSelection, BoardCounts>)>,
}

impl BoardCountsCache {
    fn key(selection: &BoardSelection) -> BoardSelection {
        BoardSelection {
            sort: BoardSort::default(),
            descending: false,
            ..selection.clone()
        }
    }

    fn get(&self, selection: &BoardSelection, checkpoint: u64) -> Option<BoardCounts> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if entries.0 != checkpoint {
            return None;
        }
        entries.1.get(&Self::key(selection)).copied()
    }

    fn put(&self, selection: &BoardSelection, counts: BoardCounts) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if counts.checkpoint < entries.0 {
            return;
        }
        if counts.checkpoint > entries.0 || entries.1.len() >= BOARD_COUNTS_CACHED_MAX {
            entries.1.clear();
            entries.0 = counts.checkpoint;
        }
        entries.1.insert(Self::key(selection), counts);
    }
}

/// A board page and its counts are read again at most this many times when the board moved
/// between the two statements (so both reflect one checkpoint).
const BOARD_PAGE_READS_MAX: usize = 3;

/// One page of the board at `at` (counts taken from `counts_cache` when it holds them for the
/// page's checkpoint): at most `request.limit` items after `request.after` in its
/// order, with the summary counting every item of the selection; and where the next page starts,
/// if there is one. Live, it is one indexed range scan of `board_rows` and one aggregate over it
/// (no row outside the page is loaded); as of a moment, the log is folded in memory and cut the
/// same way.
///
/// A live page shows every record committed before it was asked, by whichever process: the
/// page's statement reads the log's head with the board's checkpoint, and only when the board is
/// behind is it caught up ([`catch_up`]) and the page read again. So a current board costs one
/// statement (plus the counts when they are not cached), whatever this process knows or missed.
///
/// # Errors
/// [`ReadError`] when the log or the tables cannot be read; [`ReadError::TokenGone`] when
/// `request.confirm_token` turned out revoked or unknown.
///
/// # Panics
/// When asked as of a moment with a `confirm_token` (there is no statement to confirm it).
pub async fn board_page(
    stores: &Stores,
    at: ReadAt,
    time_zone: &TimeZone,
    clock: &dyn Clock,
    request: &BoardRequest,
    counts_cache: Option<&BoardCountsCache>,
) -> Result<(BoardView, Option<BoardPosition>), ReadError> {
    let limit = usize::try_from(request.limit.max(1)).unwrap_or(usize::MAX);
    if at.as_of.is_some() {
        assert!(
            request.confirm_token.is_none(),
            "an as-of board page reads no table to confirm a token by"
        );
        let mut view =
            board_view(stores, at, time_zone, clock, |row| request.keeps_row(row)).await?;
        if request.filters.overdue.is_some() || request.filters.due_soon.is_some() {
            view.retain(|item| request.keeps_item(item));
        }
        let next = view.cut_page(
            request.sort,
            request.descending,
            request.after.as_ref(),
            limit,
        );
        return Ok((view, next));
    }
    let (today, now) = judged_at(at.now.unwrap_or_else(|| clock.now()), time_zone);
    let selection = request.selection(today);
    let read_page = || async {
        let read: BoardPageRead = stores
            .views
            .board_page(
                &selection,
                request.after.as_ref(),
                request.limit.saturating_add(1),
                request.confirm_token.as_ref(),
            )
            .await?;
        if read.token_live == Some(false) {
            return Err(ReadError::TokenGone);
        }
        Ok::<_, ReadError>(read)
    };
    let mut read = read_page().await?;
    if read.checkpoint < read.head {
        // Behind what was committed before this statement: fold up to at least that head, and
        // read the page again (it then reflects everything committed before it was asked).
        catch_up::<BoardProjection>(&*stores.events, &*stores.views).await?;
        read = read_page().await?;
    }
    let mut reads = 1;
    let counts = loop {
        let cached = counts_cache.and_then(|cache| cache.get(&selection, read.checkpoint));
        if let Some(counts) = cached {
            break counts;
        }
        let counts = stores.views.board_counts(&selection).await?;
        if counts.checkpoint == read.checkpoint {
            if let Some(cache) = counts_cache {
                cache.put(&selection, counts);
            }
            break counts;
        }
        if reads == BOARD_PAGE_READS_MAX {
            break counts;
        }
        // The board moved between the page and its counts: read both again.
        reads += 1;
        read = read_page().await?;
    };
    let mut stored = read.rows;
    let has_more = stored.len() > limit;
    stored.truncate(limit);
    let next = stored.last().filter(|_| has_more).map(|row| BoardPosition {
        value: row.sort_value.clone(),
        item_id: row.key.clone(),
    });
    let rows =
        parse_rows::<BoardProjection>(stored.into_iter().map(|row| (row.key, row.body)).collect())?;
    Ok((BoardView::page_of(&rows, &counts, today, now), next))
}

/// The distinct statuses, kinds, leaders and lead units on the live board (of one deputy's
/// items when given), for the board's filters. Read right after a live [`board_page`], which
/// brought the board up to what was committed before the request: the choices are read from the
/// tables as they are then, so at least as current as that page, with no catch-up of their own.
///
/// # Errors
/// [`ReadError`] when the tables cannot be read.
pub async fn board_choices(
    stores: &Stores,
    deputy_id: Option<&str>,
) -> Result<BoardChoices, ReadError> {
    Ok(stores.views.board_choices(deputy_id).await?)
}

/// One item's live board row, judged at `now`; `None` when the board has no such item.
///
/// # Errors
/// [`ReadError`] when the tables cannot be read or the row is unreadable.
pub async fn board_item(
    stores: &Stores,
    item_id: &str,
    now: Timestamp,
    time_zone: &TimeZone,
) -> Result<Option<BoardItem>, ReadError> {
    let checkpoint = catch_up::<BoardProjection>(&*stores.events, &*stores.views).await?;
    let stored = stores
        .views
        .rows(BoardProjection::NAME, &[item_id.to_owned()])
        .await?;
    let rows = parse_rows::<BoardProjection>(stored)?;
    let (today, now) = judged_at(now, time_zone);
    Ok(BoardView::of(&rows, checkpoint, today, now).items.pop())
}

/// The figures at `at`, for items filed in `year` when given.
///
/// # Errors
/// [`ReadError`] when the log or the tables cannot be read.
pub async fn figures(
    stores: &Stores,
    at: ReadAt,
    year: Option<i16>,
    time_zone: &TimeZone,
    clock: &dyn Clock,
) -> Result<Figures, ReadError> {
    let (facts, records, now) = rows_as_of::<FiguresProjection>(stores, at, clock).await?;
    let (today, now) = judged_at(now, time_zone);
    Ok(Figures::of(&facts, records, today, now, year))
}

/// An item's trail: every record of its stream, in order. Empty when there is no such item.
///
/// # Errors
/// [`ReadError`] when the log cannot be read or a record is unreadable.
pub async fn trail(store: &dyn EventStore, item_id: &str) -> Result<Trail, ReadError> {
    let stream = commands::item_stream(item_id);
    let mut trail = Trail::new(item_id);
    for stored in store.read_stream(&stream).await? {
        let record = stored.record().map_err(|error| {
            unreadable(format!("record at position {}", stored.position), error)
        })?;
        trail.push(record, stored.hash);
    }
    Ok(trail)
}

/// The ids of the deputies an item names, from its filing record (the first of its trail).
/// Empty for an empty trail.
///
/// # Errors
/// [`ReadError::Unreadable`] when the first record is not a readable filing.
pub fn deputy_ids(trail: &Trail) -> Result<Vec<String>, ReadError> {
    let Some(first) = trail.events.first() else {
        return Ok(Vec::new());
    };
    let what = || format!("record at position {}", first.position);
    match commands::item_event(&first.event_type, first.data.clone()) {
        Ok(ItemEvent::ItemFiled { deputies, .. }) => {
            Ok(deputies.into_iter().map(|deputy| deputy.id).collect())
        }
        Ok(_) => Err(unreadable(
            what(),
            "the first record of an item is not its filing",
        )),
        Err(error) => Err(unreadable(what(), error)),
    }
}
