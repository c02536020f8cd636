//! Storage for read models (projections): rows of JSON text keyed by entity, and a checkpoint
//! per projection counting the records folded so far.
//!
//! **Invariant:** a batch of row changes and the checkpoint move together in one transaction, and
//! the checkpoint moves only from the value the batch was folded from (compare-and-set). So a
//! crash never leaves rows ahead of or behind their checkpoint, and two runners on one database
//! never apply a record twice: the slower one's commit is refused and it folds again.
//!
//! The same SQL serves both backends: it is written with `$n` placeholders, which SQLite also
//! accepts, and stamped out for each store by `view_store_impl!`.

use async_trait::async_trait;

use crate::credentials::SecretDigest;
use crate::outbox::OutboxEntry;
use crate::store::{PostgresStore, SqliteStore, StoreError};

/// One row to write: `Some(body)` upserts it, `None` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    /// The entity's key (e.g. the item id).
    pub key: String,
    /// The row as JSON text, or `None` to delete it.
    pub body: Option<String>,
    /// The board's indexed columns of the row (`board_rows`, `board_deputies`), written with
    /// it; `None` for the other projections.
    pub board: Option<BoardColumns>,
}

/// One row of a rebuilt projection: its key, its JSON text and, for the board, its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// The entity's key.
    pub key: String,
    /// The row as JSON text.
    pub body: String,
    /// The board's indexed columns; `None` for the other projections.
    pub board: Option<BoardColumns>,
}

/// The projection whose rows also have real columns (`board_rows`, migration `0050`).
pub const BOARD_PROJECTION: &str = "board";

/// A board row's columns in `board_rows` and `board_deputies`: what the board filters, sorts,
/// pages and counts by. A value the item does not have yet is `""` (it sorts first, as `None`
/// does); dates are `YYYY-MM-DD`, so their text order is their date order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardColumns {
    /// Its kind.
    pub kind: String,
    /// Its status.
    pub status: String,
    /// The lead unit, or `""`.
    pub lead_unit: String,
    /// The responsible leader's name, or `""`.
    pub leader: String,
    /// The due date in force, or `""`.
    pub due: String,
    /// `due` while the round (or triage) awaits its answer (or decision), else `""`: overdue and
    /// due-soon are this compared with today, at query time.
    pub awaiting_due: String,
    /// `None` never answered, else whether the latest answer came in time.
    pub answered_on_time: Option<bool>,
    /// Not closed and not ended without an answer.
    pub is_open: bool,
    /// Closed (销号).
    pub is_closed: bool,
    /// Assigned or re-handling: awaiting an answer (not triage).
    pub awaits_answer: bool,
    /// Business time of the latest event.
    pub last_activity_at: String,
    /// The person ids of the deputies the item names.
    pub deputy_ids: Vec<String>,
}

/// The columns the board sorts (and pages) by; every one is followed by `item_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BoardSort {
    /// The item id (the default order).
    #[default]
    ItemId,
    /// Kind.
    Kind,
    /// Status.
    Status,
    /// Lead unit (`""` first).
    LeadUnit,
    /// Leader (`""` first).
    Leader,
    /// Due date (`""` first).
    Due,
    /// Days left: the due date while awaiting (`""`, i.e. not awaiting, first).
    DaysLeft,
    /// Latest activity.
    LastActivity,
}

impl BoardSort {
    /// Every sort column.
    pub const ALL: [BoardSort; 8] = [
        BoardSort::ItemId,
        BoardSort::Kind,
        BoardSort::Status,
        BoardSort::LeadUnit,
        BoardSort::Leader,
        BoardSort::Due,
        BoardSort::DaysLeft,
        BoardSort::LastActivity,
    ];

    /// Its name in query strings (`sort=due`).
    pub fn name(self) -> &'static str {
        match self {
            BoardSort::ItemId => "item_id",
            BoardSort::Kind => "kind",
            BoardSort::Status => "status",
            BoardSort::LeadUnit => "lead_unit",
            BoardSort::Leader => "leader",
            BoardSort::Due => "due",
            BoardSort::DaysLeft => "days_left",
            BoardSort::LastActivity => "last_activity_at",
        }
    }

    /// The sort column named `text`.
    pub fn parse(text: &str) -> Option<BoardSort> {
        BoardSort::ALL.into_iter().find(|sort| sort.name() == text)
    }

    /// Its column in `board_rows` (a closed set: safe to write into SQL).
    fn column(self) -> &'static str {
        match self {
            BoardSort::ItemId => "item_id",
            BoardSort::Kind => "kind",
            BoardSort::Status => "status",
            BoardSort::LeadUnit => "lead_unit",
            BoardSort::Leader => "leader",
            BoardSort::Due => "due",
            BoardSort::DaysLeft => "awaiting_due",
            BoardSort::LastActivity => "last_activity_at",
        }
    }
}

/// Which items a board shows: the filters of a board request, shared by the request
/// (`huiyin::reading::BoardRequest`) and the selection the store reads ([`BoardSelection`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BoardFilters {
    /// Only items naming this deputy (a deputy's own board).
    pub deputy_id: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this leader (by name).
    pub leader: Option<String>,
    /// Only this lead unit.
    pub lead_unit: Option<String>,
    /// Only overdue items (`true`), or only items that are not.
    pub overdue: Option<bool>,
    /// Only items due soon (`true`), or only items that are not.
    pub due_soon: Option<bool>,
}

/// Which board rows: the filters of a board request, the day they are judged on, and the order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BoardSelection {
    /// Which items.
    pub filters: BoardFilters,
    /// Today, `YYYY-MM-DD`: an awaited due date before it is overdue.
    pub today: String,
    /// The last day that is "due soon", `YYYY-MM-DD`.
    pub due_soon_until: String,
    /// The order.
    pub sort: BoardSort,
    /// Descending (both the column and the `item_id` after it).
    pub descending: bool,
}

/// Where a page starts: after the row with this sort value and item id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardPosition {
    /// The sort column's value of the last row seen.
    pub value: String,
    /// Its item id.
    pub item_id: String,
}

/// One row of a board page: its key, JSON text, and sort value (for the next page's cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardPageRow {
    /// The item id.
    pub key: String,
    /// The board row as JSON text.
    pub body: String,
    /// The sort column's value.
    pub sort_value: String,
}

/// A board page and what the same statement read beside it, all from one snapshot of the
/// database: the board's checkpoint and the log's head (the page reflects every record committed
/// before the statement began exactly when `checkpoint == head`), and whether a bearer token is
/// still usable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardPageRead {
    /// Records folded into the board's rows (0 when it has never run).
    pub checkpoint: u64,
    /// Records in the log (`ledger_head.tree_size`).
    pub head: u64,
    /// For the token digest asked about: whether it is stored and not revoked (expiry is the
    /// caller's to judge, with its clock). `None` when no token was asked about.
    pub token_live: Option<bool>,
    /// The page's rows, in order.
    pub rows: Vec<BoardPageRow>,
}

/// The counts at the top of the board, over every row of a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoardCounts {
    /// Records folded into the rows counted.
    pub checkpoint: u64,
    /// Rows.
    pub total: u64,
    /// Not closed and not ended without an answer.
    pub open: u64,
    /// Answered at least once.
    pub answered: u64,
    /// Whose latest answer came in time.
    pub answered_on_time: u64,
    /// Awaiting, past the due date.
    pub overdue: u64,
    /// Awaiting, due from today to `due_soon_until`.
    pub due_soon: u64,
    /// Closed.
    pub closed: u64,
    /// Awaiting an answer (not triage) past its due date.
    pub unanswered_due: u64,
}

/// The distinct values the board's filters offer, for a deputy's items or all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardChoices {
    /// Statuses.
    pub statuses: Vec<String>,
    /// Kinds.
    pub kinds: Vec<String>,
    /// Leaders (names).
    pub leaders: Vec<String>,
    /// Lead units.
    pub lead_units: Vec<String>,
}

/// Rows are written in statements of at most this many.
pub const ROWS_PER_STATEMENT_MAX: usize = 500;

/// Where projections keep their rows and checkpoints.
#[async_trait]
pub trait ViewStore: Send + Sync {
    /// Records folded so far by `projection` (0 when it has never run).
    async fn checkpoint(&self, projection: &str) -> Result<u64, StoreError>;

    /// The stored rows among `keys`, as `(key, body)`.
    async fn rows(
        &self,
        projection: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// The checkpoint of `projection` and every one of its rows, ordered by key, read together
    /// in one statement so the rows are exactly those of the checkpoint.
    async fn snapshot(&self, projection: &str) -> Result<(u64, Vec<(String, String)>), StoreError>;

    /// Writes `changes` and moves the checkpoint from `from` to `to`, atomically, if it is still
    /// at `from`. Returns false, changing nothing, when another runner moved it first.
    async fn commit(
        &self,
        projection: &str,
        from: u64,
        to: u64,
        changes: Vec<RowChange>,
    ) -> Result<bool, StoreError>;

    /// As [`ViewStore::commit`], and queues `entries` in the outbox in the same transaction
    /// (each id at most once ever, `queued_at` Unix seconds). Returns the ids that were new, or
    /// `None`, changing nothing, when another runner moved the checkpoint first.
    async fn commit_queueing(
        &self,
        projection: &str,
        from: u64,
        to: u64,
        changes: Vec<RowChange>,
        entries: &[OutboxEntry],
        queued_at: i64,
    ) -> Result<Option<Vec<String>>, StoreError>;

    /// Replaces every row of `projection` and sets its checkpoint to `to`, atomically (a rebuild).
    async fn replace(
        &self,
        projection: &str,
        to: u64,
        rows: Vec<StoredRow>,
    ) -> Result<(), StoreError> {
        let mut rebuild = self.begin_rebuild(&[projection]).await?;
        let changes = rows
            .into_iter()
            .map(|stored| RowChange {
                key: stored.key,
                body: Some(stored.body),
                board: stored.board,
            })
            .collect();
        rebuild.write(projection, changes).await?;
        rebuild.finish(&[(projection, to)]).await
    }

    /// Starts a rebuild of `projections`: one transaction in which their rows are all replaced
    /// by those written as they are folded ([`Rebuild::write`]) and taken back when needed again
    /// ([`Rebuild::take_rows`]). Nothing is visible to anyone else until [`Rebuild::finish`]
    /// commits, and dropping it unfinished rolls everything back. On PostgreSQL the checkpoints
    /// of `projections` are locked first, so a live runner's commit waits for the rebuild (and
    /// is then refused, or finds the rows it folded from unchanged); on SQLite the transaction
    /// holds the write lock throughout (`BEGIN IMMEDIATE`), so appends wait for the rebuild.
    async fn begin_rebuild(&self, projections: &[&str]) -> Result<Box<dyn Rebuild>, StoreError>;
    /// At most `limit` board rows of `selection` in its order, starting after `after`; with the
    /// board's checkpoint, the log's head and, when `token` is given, whether that bearer token
    /// is still stored and unrevoked, all read by the same statement (one round trip: a reader
    /// that finds `checkpoint == head` needs no catch-up, and one holding a token it found valid
    /// before needs no separate lookup to learn it was revoked since).
    async fn board_page(
        &self,
        selection: &BoardSelection,
        after: Option<&BoardPosition>,
        limit: u32,
        token: Option<&SecretDigest>,
    ) -> Result<BoardPageRead, StoreError>;

    /// The counts over every board row of `selection`, with the checkpoint they reflect, in one
    /// statement (an aggregate over `board_rows`; no row is loaded).
    async fn board_counts(&self, selection: &BoardSelection) -> Result<BoardCounts, StoreError>;

    /// The distinct statuses, kinds, leaders and lead units on the board (of one deputy's items
    /// when given), for the filters.
    async fn board_choices(&self, deputy_id: Option<&str>) -> Result<BoardChoices, StoreError>;
}

/// A rebuild in progress: its own transaction ([`ViewStore::begin_rebuild`]).
#[async_trait]
pub trait Rebuild: Send {
    /// The checkpoint of `projection` as it was when the rebuild began (locked since).
    async fn checkpoint(&mut self, projection: &str) -> Result<u64, StoreError>;

    /// Takes back the rows among `keys` written so far in this rebuild, as `(key, body)`: the
    /// caller now holds them and writes each again ([`Rebuild::write`]) for it to be kept, so
    /// a row written, taken back and written again ends up once. (PostgreSQL removes them from
    /// the rebuild's rows; SQLite leaves them, and the second write replaces them.)
    async fn take_rows(
        &mut self,
        projection: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Writes `changes`: rows for `Some`, none for `None`. A key written is one not written
    /// before in this rebuild, or taken back since ([`Rebuild::take_rows`]).
    async fn write(&mut self, projection: &str, changes: Vec<RowChange>) -> Result<(), StoreError>;

    /// Sets each projection's checkpoint and commits the whole rebuild.
    async fn finish(self: Box<Self>, checkpoints: &[(&str, u64)]) -> Result<(), StoreError>;
}

/// [`Rebuild`] over one database transaction.
struct RebuildTransaction<Db: sqlx::Database> {
    tx: sqlx::Transaction<'static, Db>,
}

/// Pushes ` WHERE …` for a `BoardSelection`'s filters (not its order) onto a `QueryBuilder`
/// over `board_rows b`. A macro, as the builder's bounds differ per database.
macro_rules! push_board_filters {
    ($query:expr, $selection:expr) => {{
        let query = $query;
        let selection: &BoardSelection = $selection;
        query.push(" WHERE 1 = 1");
        if let Some(deputy_id) = &selection.filters.deputy_id {
            query
                .push(" AND b.item_id IN (SELECT item_id FROM board_deputies WHERE deputy_id = ")
                .push_bind(deputy_id.clone())
                .push(")");
        }
        for (column, wanted) in [
            ("status", &selection.filters.status),
            ("kind", &selection.filters.kind),
            ("leader", &selection.filters.leader),
            ("lead_unit", &selection.filters.lead_unit),
        ] {
            if let Some(wanted) = wanted {
                query
                    .push(" AND b.")
                    .push(column)
                    .push(" = ")
                    .push_bind(wanted.clone());
            }
        }
        // Overdue: awaiting and the due date before today ('' — not awaiting — never is).
        match selection.filters.overdue {
            Some(true) => {
                query
                    .push(" AND b.awaiting_due <> '' AND b.awaiting_due < ")
                    .push_bind(selection.today.clone());
            }
            Some(false) => {
                query
                    .push(" AND (b.awaiting_due = '' OR b.awaiting_due >= ")
                    .push_bind(selection.today.clone())
                    .push(")");
            }
            None => {}
        }
        match selection.filters.due_soon {
            Some(true) => {
                query
                    .push(" AND b.awaiting_due >= ")
                    .push_bind(selection.today.clone())
                    .push(" AND b.awaiting_due <= ")
                    .push_bind(selection.due_soon_until.clone());
            }
            Some(false) => {
                query
                    .push(" AND (b.awaiting_due < ")
                    .push_bind(selection.today.clone())
                    .push(" OR b.awaiting_due > ")
                    .push_bind(selection.due_soon_until.clone())
                    .push(")");
            }
            None => {}
        }
    }};
}

/// The columns of `board_rows` after `item_id`, in the order the writers bind them.
const BOARD_COLUMNS: &str = "item_id, kind, status, lead_unit, leader, due, awaiting_due, \
    answered_on_time, is_open, is_closed, awaits_answer, last_activity_at";

/// A board row's columns are written in statements of at most this many rows (12 values each).
pub const BOARD_ROWS_PER_STATEMENT_MAX: usize = 500;

fn count(value: Option<i64>) -> u64 {
    value
        .and_then(|value| u64::try_from(value).ok())
        .unwrap_or(0)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).expect("positions fit in i64")
}

fn from_i64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        position: value,
        reason: "projection checkpoint is negative".to_owned(),
    })
}

macro_rules! view_store_impl {
    ($store:ty, $database:ty, $item_id_as_row_key:literal) => {
        #[async_trait]
        impl ViewStore for $store {
            async fn checkpoint(&self, projection: &str) -> Result<u64, StoreError> {
                let position: Option<i64> = sqlx::query_scalar(
                    "SELECT position FROM projection_checkpoints WHERE projection = $1",
                )
                .bind(projection)
                .fetch_optional(self.pool())
                .await?;
                from_i64(position.unwrap_or(0))
            }

            async fn rows(
                &self,
                projection: &str,
                keys: &[String],
            ) -> Result<Vec<(String, String)>, StoreError> {
                let mut found = Vec::with_capacity(keys.len());
                for chunk in keys.chunks(ROWS_PER_STATEMENT_MAX) {
                    let mut query = sqlx::QueryBuilder::<$database>::new(
                        "SELECT row_key, body FROM projection_rows WHERE projection = ",
                    );
                    query.push_bind(projection).push(" AND row_key IN (");
                    let mut separated = query.separated(", ");
                    for key in chunk {
                        separated.push_bind(key);
                    }
                    query.push(")");
                    let rows: Vec<(String, String)> =
                        query.build_query_as().fetch_all(self.pool()).await?;
                    found.extend(rows);
                }
                Ok(found)
            }

            async fn snapshot(
                &self,
                projection: &str,
            ) -> Result<(u64, Vec<(String, String)>), StoreError> {
                let joined: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT c.position, r.row_key, r.body FROM projection_checkpoints c \
                     LEFT JOIN projection_rows r ON r.projection = c.projection \
                     WHERE c.projection = $1 ORDER BY r.row_key",
                )
                .bind(projection)
                .fetch_all(self.pool())
                .await?;
                let checkpoint = match joined.first() {
                    Some((position, _, _)) => from_i64(*position)?,
                    None => 0,
                };
                let rows = joined
                    .into_iter()
                    .filter_map(|(_, key, body)| key.zip(body))
                    .collect();
                Ok((checkpoint, rows))
            }

            async fn commit(
                &self,
                projection: &str,
                from: u64,
                to: u64,
                changes: Vec<RowChange>,
            ) -> Result<bool, StoreError> {
                let committed = self
                    .commit_queueing(projection, from, to, changes, &[], 0)
                    .await?;
                Ok(committed.is_some())
            }

            async fn commit_queueing(
                &self,
                projection: &str,
                from: u64,
                to: u64,
                changes: Vec<RowChange>,
                entries: &[OutboxEntry],
                queued_at: i64,
            ) -> Result<Option<Vec<String>>, StoreError> {
                assert!(from <= to);
                let mut tx = self.pool().begin().await?;
                sqlx::query(
                    "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0) \
                     ON CONFLICT (projection) DO NOTHING",
                )
                .bind(projection)
                .execute(&mut *tx)
                .await?;
                let moved = sqlx::query(
                    "UPDATE projection_checkpoints SET position = $1 \
                     WHERE projection = $2 AND position = $3",
                )
                .bind(to_i64(to))
                .bind(projection)
                .bind(to_i64(from))
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() != 1 {
                    return Ok(None);
                }
                if projection == BOARD_PROJECTION {
                    <$store>::write_board_columns(&mut tx, &changes).await?;
                }
                for change in changes {
                    match change.body {
                        Some(body) => {
                            sqlx::query(
                                "INSERT INTO projection_rows (projection, row_key, body) \
                                 VALUES ($1, $2, $3) \
                                 ON CONFLICT (projection, row_key) DO UPDATE SET body = excluded.body",
                            )
                            .bind(projection)
                            .bind(&change.key)
                            .bind(body)
                            .execute(&mut *tx)
                            .await?;
                        }
                        None => {
                            sqlx::query(
                                "DELETE FROM projection_rows WHERE projection = $1 AND row_key = $2",
                            )
                            .bind(projection)
                            .bind(&change.key)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                let inserted = <$store>::outbox_insert(&mut tx, entries, queued_at).await?;
                tx.commit().await?;
                Ok(Some(inserted))
            }

            async fn begin_rebuild(
                &self,
                projections: &[&str],
            ) -> Result<Box<dyn Rebuild>, StoreError> {
                self.begin_rebuild_here(projections).await
            }
            async fn board_page(
                &self,
                selection: &BoardSelection,
                after: Option<&BoardPosition>,
                limit: u32,
                token: Option<&SecretDigest>,
            ) -> Result<BoardPageRead, StoreError> {
                let column = selection.sort.column();
                let (beyond, order) = if selection.descending {
                    ("<", "DESC")
                } else {
                    (">", "ASC")
                };
                // One row of the head (always there) left-joined to the page (maybe empty): the
                // head, the checkpoint and the token are read even when no board row matches.
                let mut query = sqlx::QueryBuilder::<$database>::new(
                    "SELECT h.tree_size, \
                     (SELECT position FROM projection_checkpoints WHERE projection = 'board'), ",
                );
                match token {
                    Some(digest) => {
                        query
                            .push("(SELECT t.revoked_at IS NULL FROM api_tokens t WHERE t.secret_hash = ")
                            .push_bind(digest.to_vec())
                            .push(")");
                    }
                    None => {
                        query.push("CAST(NULL AS BOOLEAN)");
                    }
                }
                query
                    .push(" AS token_live, page.item_id, page.body, page.sort_value \
                           FROM ledger_head h LEFT JOIN (SELECT b.item_id, p.body, b.")
                    .push(column)
                    .push(concat!(
                        " AS sort_value FROM board_rows b JOIN projection_rows p \
                         ON p.projection = 'board' AND p.row_key = ",
                        $item_id_as_row_key
                    ));
                push_board_filters!(&mut query, selection);
                if let Some(after) = after {
                    // Keyset: strictly after the last row seen, in (column, item_id) order.
                    query
                        .push(" AND (b.")
                        .push(column)
                        .push(format!(" {beyond} "))
                        .push_bind(after.value.clone())
                        .push(" OR (b.")
                        .push(column)
                        .push(" = ")
                        .push_bind(after.value.clone())
                        .push(format!(" AND b.item_id {beyond} "))
                        .push_bind(after.item_id.clone())
                        .push("))");
                }
                query
                    .push(format!(" ORDER BY b.{column} {order}, b.item_id {order} LIMIT "))
                    .push_bind(i64::from(limit))
                    // The page's order again outside the join (a join promises none); at most
                    // `limit` rows, already in order.
                    .push(format!(
                        ") page ON 1 = 1 WHERE h.id = 1 \
                         ORDER BY page.sort_value {order}, page.item_id {order}"
                    ));
                #[allow(clippy::type_complexity)]
                let joined: Vec<(
                    i64,
                    Option<i64>,
                    Option<bool>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                )> = query.build_query_as().fetch_all(self.pool()).await?;
                let Some((head, checkpoint, token_live, _, _, _)) = joined.first() else {
                    return Err(StoreError::Corrupt {
                        position: 0,
                        reason: "the ledger's head row is missing".to_owned(),
                    });
                };
                let mut read = BoardPageRead {
                    checkpoint: from_i64(checkpoint.unwrap_or(0))?,
                    head: from_i64(*head)?,
                    token_live: token.map(|_| token_live.unwrap_or(false)),
                    rows: Vec::with_capacity(joined.len()),
                };
                read.rows = joined
                    .into_iter()
                    .filter_map(|(_, _, _, key, body, sort_value)| {
                        Some(BoardPageRow {
                            key: key?,
                            body: body?,
                            sort_value: sort_value?,
                        })
                    })
                    .collect();
                Ok(read)
            }

            async fn board_counts(
                &self,
                selection: &BoardSelection,
            ) -> Result<BoardCounts, StoreError> {
                let mut query = sqlx::QueryBuilder::<$database>::new(
                    "SELECT (SELECT position FROM projection_checkpoints WHERE projection = 'board'), \
                     COUNT(*), SUM(b.is_open), \
                     SUM(CASE WHEN b.answered_on_time IS NOT NULL THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN b.answered_on_time = 1 THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN b.awaiting_due <> '' AND b.awaiting_due < ",
                );
                query
                    .push_bind(selection.today.clone())
                    .push(" THEN 1 ELSE 0 END), SUM(CASE WHEN b.awaiting_due >= ")
                    .push_bind(selection.today.clone())
                    .push(" AND b.awaiting_due <= ")
                    .push_bind(selection.due_soon_until.clone())
                    .push(
                        " THEN 1 ELSE 0 END), SUM(b.is_closed), \
                         SUM(CASE WHEN b.awaits_answer = 1 AND b.awaiting_due <> '' \
                         AND b.awaiting_due < ",
                    )
                    .push_bind(selection.today.clone())
                    .push(" THEN 1 ELSE 0 END) FROM board_rows b");
                push_board_filters!(&mut query, selection);
                #[allow(clippy::type_complexity)]
                let row: (
                    Option<i64>,
                    i64,
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                ) = query.build_query_as().fetch_one(self.pool()).await?;
                Ok(BoardCounts {
                    checkpoint: from_i64(row.0.unwrap_or(0))?,
                    total: count(Some(row.1)),
                    open: count(row.2),
                    answered: count(row.3),
                    answered_on_time: count(row.4),
                    overdue: count(row.5),
                    due_soon: count(row.6),
                    closed: count(row.7),
                    unanswered_due: count(row.8),
                })
            }

            async fn board_choices(
                &self,
                deputy_id: Option<&str>,
            ) -> Result<BoardChoices, StoreError> {
                let mut choices = BoardChoices::default();
                for (column, into) in [
                    ("status", &mut choices.statuses),
                    ("kind", &mut choices.kinds),
                    ("leader", &mut choices.leaders),
                    ("lead_unit", &mut choices.lead_units),
                ] {
                    let mut query = sqlx::QueryBuilder::<$database>::new("SELECT DISTINCT b.");
                    query
                        .push(column)
                        .push(" FROM board_rows b WHERE b.")
                        .push(column)
                        .push(" <> ''");
                    if let Some(deputy_id) = deputy_id {
                        query
                            .push(
                                " AND b.item_id IN \
                                 (SELECT item_id FROM board_deputies WHERE deputy_id = ",
                            )
                            .push_bind(deputy_id.to_owned())
                            .push(")");
                    }
                    query.push(" ORDER BY 1");
                    *into = query.build_query_scalar().fetch_all(self.pool()).await?;
                }
                Ok(choices)
            }
        }

        impl $store {
            /// Writes the board columns of `changes` (rows and deputies), in the transaction
            /// that writes their JSON rows and moves the checkpoint.
            async fn write_board_columns(
                tx: &mut sqlx::Transaction<'_, $database>,
                changes: &[RowChange],
            ) -> Result<(), StoreError> {
                for chunk in changes.chunks(BOARD_ROWS_PER_STATEMENT_MAX) {
                    let mut delete = sqlx::QueryBuilder::<$database>::new(
                        "DELETE FROM board_deputies WHERE item_id IN (",
                    );
                    let mut keys = delete.separated(", ");
                    for change in chunk {
                        keys.push_bind(&change.key);
                    }
                    delete.push(")");
                    delete.build().execute(&mut **tx).await?;
                    let gone: Vec<&RowChange> =
                        chunk.iter().filter(|change| change.body.is_none()).collect();
                    if !gone.is_empty() {
                        let mut delete = sqlx::QueryBuilder::<$database>::new(
                            "DELETE FROM board_rows WHERE item_id IN (",
                        );
                        let mut keys = delete.separated(", ");
                        for change in gone {
                            keys.push_bind(&change.key);
                        }
                        delete.push(")");
                        delete.build().execute(&mut **tx).await?;
                    }
                }
                <$store>::insert_board_columns(tx, changes).await
            }

            /// Upserts the board columns of the rows in `changes` that have a body, and inserts
            /// their deputies (whose old rows the caller removed).
            async fn insert_board_columns(
                tx: &mut sqlx::Transaction<'_, $database>,
                changes: &[RowChange],
            ) -> Result<(), StoreError> {
                let kept: Vec<(&String, &BoardColumns)> = changes
                    .iter()
                    .filter(|change| change.body.is_some())
                    .filter_map(|change| change.board.as_ref().map(|board| (&change.key, board)))
                    .collect();
                for chunk in kept.chunks(BOARD_ROWS_PER_STATEMENT_MAX) {
                    let mut insert = sqlx::QueryBuilder::<$database>::new("INSERT INTO board_rows (");
                    insert.push(BOARD_COLUMNS).push(") ");
                    insert.push_values(chunk, |mut row, (key, board)| {
                        row.push_bind(*key)
                            .push_bind(&board.kind)
                            .push_bind(&board.status)
                            .push_bind(&board.lead_unit)
                            .push_bind(&board.leader)
                            .push_bind(&board.due)
                            .push_bind(&board.awaiting_due)
                            .push_bind(board.answered_on_time.map(i32::from))
                            .push_bind(i32::from(board.is_open))
                            .push_bind(i32::from(board.is_closed))
                            .push_bind(i32::from(board.awaits_answer))
                            .push_bind(&board.last_activity_at);
                    });
                    insert.push(
                        " ON CONFLICT (item_id) DO UPDATE SET kind = excluded.kind, \
                         status = excluded.status, lead_unit = excluded.lead_unit, \
                         leader = excluded.leader, due = excluded.due, \
                         awaiting_due = excluded.awaiting_due, \
                         answered_on_time = excluded.answered_on_time, \
                         is_open = excluded.is_open, is_closed = excluded.is_closed, \
                         awaits_answer = excluded.awaits_answer, \
                         last_activity_at = excluded.last_activity_at",
                    );
                    insert.build().execute(&mut **tx).await?;
                }
                let deputies: Vec<(&String, &String)> = kept
                    .iter()
                    .flat_map(|(key, board)| board.deputy_ids.iter().map(move |id| (id, *key)))
                    .collect();
                for chunk in deputies.chunks(ROWS_PER_STATEMENT_MAX) {
                    let mut insert = sqlx::QueryBuilder::<$database>::new(
                        "INSERT INTO board_deputies (deputy_id, item_id) ",
                    );
                    insert.push_values(chunk, |mut row, (deputy_id, key)| {
                        row.push_bind(*deputy_id).push_bind(*key);
                    });
                    insert.push(" ON CONFLICT (deputy_id, item_id) DO NOTHING");
                    insert.build().execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    };
}

view_store_impl!(SqliteStore, sqlx::Sqlite, "b.item_id");
// `board_rows.item_id` is COLLATE "C" and `projection_rows.row_key` is not: the join names the
// row key's collation, or PostgreSQL cannot use the row key's index and hashes the whole table.
view_store_impl!(
    PostgresStore,
    sqlx::Postgres,
    "(b.item_id COLLATE \"default\")"
);

/// Ensures each projection has a checkpoint row and reads it, `lock` appended (`FOR UPDATE` on
/// PostgreSQL, so a live runner's commit waits for the rebuild).
macro_rules! lock_checkpoints {
    ($tx:expr, $projections:expr, $lock:literal) => {{
        for projection in $projections {
            sqlx::query(
                "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0) \
                 ON CONFLICT (projection) DO NOTHING",
            )
            .bind(projection)
            .execute(&mut *$tx)
            .await?;
            sqlx::query(concat!(
                "SELECT position FROM projection_checkpoints WHERE projection = $1",
                $lock
            ))
            .bind(projection)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Sets each rebuilt projection's checkpoint, in the rebuild's transaction.
macro_rules! set_checkpoints {
    ($tx:expr, $checkpoints:expr) => {{
        for (projection, to) in $checkpoints {
            sqlx::query(
                "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2) \
                 ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
            )
            .bind(projection)
            .bind(to_i64(*to))
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl SqliteStore {
    /// SQLite's rebuild: under `BEGIN IMMEDIATE`, the old rows are deleted and the rebuilt ones
    /// upserted into the tables themselves.
    async fn begin_rebuild_here(
        &self,
        projections: &[&str],
    ) -> Result<Box<dyn Rebuild>, StoreError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        lock_checkpoints!(tx, projections, "");
        for projection in projections {
            sqlx::query("DELETE FROM projection_rows WHERE projection = $1")
                .bind(projection)
                .execute(&mut *tx)
                .await?;
            if *projection == BOARD_PROJECTION {
                sqlx::query("DELETE FROM board_deputies")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM board_rows")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(Box::new(RebuildTransaction { tx }))
    }
}

#[async_trait]
impl Rebuild for RebuildTransaction<sqlx::Sqlite> {
    async fn checkpoint(&mut self, projection: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE projection = $1")
                .bind(projection)
                .fetch_optional(&mut *self.tx)
                .await?;
        from_i64(position.unwrap_or(0))
    }

    async fn take_rows(
        &mut self,
        projection: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT_MAX) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT row_key, body FROM projection_rows WHERE projection = ",
            );
            query.push_bind(projection).push(" AND row_key IN (");
            let mut separated = query.separated(", ");
            for key in chunk {
                separated.push_bind(key);
            }
            query.push(")");
            let rows: Vec<(String, String)> =
                query.build_query_as().fetch_all(&mut *self.tx).await?;
            found.extend(rows);
        }
        Ok(found)
    }

    async fn write(&mut self, projection: &str, changes: Vec<RowChange>) -> Result<(), StoreError> {
        if projection == BOARD_PROJECTION {
            SqliteStore::write_board_columns(&mut self.tx, &changes).await?;
        }
        let (upserts, deletes): (Vec<RowChange>, Vec<RowChange>) = changes
            .into_iter()
            .partition(|change| change.body.is_some());
        for chunk in upserts.chunks(ROWS_PER_STATEMENT_MAX) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO projection_rows (projection, row_key, body) ",
            );
            insert.push_values(chunk, |mut row, change| {
                row.push_bind(projection)
                    .push_bind(&change.key)
                    .push_bind(&change.body);
            });
            insert.push(" ON CONFLICT (projection, row_key) DO UPDATE SET body = excluded.body");
            insert.build().execute(&mut *self.tx).await?;
        }
        for chunk in deletes.chunks(ROWS_PER_STATEMENT_MAX) {
            let mut delete = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "DELETE FROM projection_rows WHERE projection = ",
            );
            delete.push_bind(projection).push(" AND row_key IN (");
            let mut separated = delete.separated(", ");
            for change in chunk {
                separated.push_bind(&change.key);
            }
            delete.push(")");
            delete.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>, checkpoints: &[(&str, u64)]) -> Result<(), StoreError> {
        let mut tx = self.tx;
        set_checkpoints!(tx, checkpoints);
        tx.commit().await?;
        Ok(())
    }
}

/// PostgreSQL's rebuild ([`PostgresStore::begin_rebuild_here`]): rows are copied (`COPY`) into
/// temporary tables of the transaction as they are written out, taken back from them by
/// `DELETE … RETURNING`, and merged into the real tables once, when it finishes.
struct PgRebuild {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// The projections being rebuilt.
    projections: Vec<String>,
    /// `COPY` text reused between writes.
    copy: Vec<u8>,
}

/// The rebuild's temporary tables: rows as `projection_rows`, board columns as `board_rows` and
/// `board_deputies`, with only the indexes taking rows back needs. Not logged, private to the
/// transaction, dropped at its end.
const PG_REBUILD_TABLES: [&str; 4] = [
    "CREATE TEMPORARY TABLE rebuild_rows (LIKE projection_rows, PRIMARY KEY (projection, row_key)) \
     ON COMMIT DROP",
    "CREATE TEMPORARY TABLE rebuild_board (LIKE board_rows, PRIMARY KEY (item_id)) ON COMMIT DROP",
    "CREATE TEMPORARY TABLE rebuild_deputies (LIKE board_deputies) ON COMMIT DROP",
    "CREATE INDEX ON rebuild_deputies (item_id)",
];

impl PostgresStore {
    /// PostgreSQL's rebuild: the checkpoints locked, the rows written into temporary tables
    /// ([`PgRebuild`]).
    async fn begin_rebuild_here(
        &self,
        projections: &[&str],
    ) -> Result<Box<dyn Rebuild>, StoreError> {
        let mut tx = self.pool().begin().await?;
        lock_checkpoints!(tx, projections, " FOR UPDATE");
        for statement in PG_REBUILD_TABLES {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        Ok(Box::new(PgRebuild {
            tx,
            projections: projections.iter().map(|name| (*name).to_owned()).collect(),
            copy: Vec::new(),
        }))
    }
}

/// Appends `text` as a field of `COPY … FROM STDIN` text format.
fn copy_field(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (at, byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(escaped);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends a row of `COPY` text format: fields separated by tabs, `None` as `\N`.
fn copy_row<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = Option<&'a str>>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            out.push(b'\t');
        }
        match field {
            Some(text) => copy_field(out, text),
            None => out.extend_from_slice(b"\\N"),
        }
    }
    out.push(b'\n');
}

fn flag(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

impl PgRebuild {
    /// Sends `self.copy` by `COPY statement FROM STDIN`, when it holds any row.
    async fn send_copy(&mut self, statement: &str) -> Result<(), StoreError> {
        if self.copy.is_empty() {
            return Ok(());
        }
        let mut copy_in = self.tx.copy_in_raw(statement).await?;
        copy_in.send(self.copy.as_slice()).await?;
        copy_in.finish().await?;
        self.copy.clear();
        Ok(())
    }

    /// Removes the board columns of `keys` from the rebuild.
    async fn remove_board_columns(&mut self, keys: &[String]) -> Result<(), StoreError> {
        for statement in [
            "DELETE FROM rebuild_board WHERE item_id = ANY($1)",
            "DELETE FROM rebuild_deputies WHERE item_id = ANY($1)",
        ] {
            sqlx::query(statement)
                .bind(keys)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Rebuild for PgRebuild {
    async fn checkpoint(&mut self, projection: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE projection = $1")
                .bind(projection)
                .fetch_optional(&mut *self.tx)
                .await?;
        from_i64(position.unwrap_or(0))
    }

    async fn take_rows(
        &mut self,
        projection: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "DELETE FROM rebuild_rows WHERE projection = $1 AND row_key = ANY($2) \
             RETURNING row_key, body",
        )
        .bind(projection)
        .bind(keys)
        .fetch_all(&mut *self.tx)
        .await?;
        if projection == BOARD_PROJECTION {
            self.remove_board_columns(keys).await?;
        }
        Ok(rows)
    }

    async fn write(&mut self, projection: &str, changes: Vec<RowChange>) -> Result<(), StoreError> {
        // A key is written only when the rebuild holds no row of it: a `None` has nothing to
        // remove, and a row is copied in, not upserted.
        for change in &changes {
            if let Some(body) = &change.body {
                copy_row(
                    &mut self.copy,
                    [Some(projection), Some(&change.key), Some(body)],
                );
            }
        }
        self.send_copy("COPY rebuild_rows (projection, row_key, body) FROM STDIN")
            .await?;
        if projection != BOARD_PROJECTION {
            return Ok(());
        }
        for change in &changes {
            if let (Some(_), Some(board)) = (&change.body, &change.board) {
                copy_row(
                    &mut self.copy,
                    [
                        Some(change.key.as_str()),
                        Some(&board.kind),
                        Some(&board.status),
                        Some(&board.lead_unit),
                        Some(&board.leader),
                        Some(&board.due),
                        Some(&board.awaiting_due),
                        board.answered_on_time.map(flag),
                        Some(flag(board.is_open)),
                        Some(flag(board.is_closed)),
                        Some(flag(board.awaits_answer)),
                        Some(&board.last_activity_at),
                    ],
                );
            }
        }
        self.send_copy(&format!("COPY rebuild_board ({BOARD_COLUMNS}) FROM STDIN"))
            .await?;
        for change in &changes {
            if let (Some(_), Some(board)) = (&change.body, &change.board) {
                for deputy_id in &board.deputy_ids {
                    copy_row(
                        &mut self.copy,
                        [Some(deputy_id.as_str()), Some(&change.key)],
                    );
                }
            }
        }
        self.send_copy("COPY rebuild_deputies (deputy_id, item_id) FROM STDIN")
            .await
    }

    async fn finish(self: Box<Self>, checkpoints: &[(&str, u64)]) -> Result<(), StoreError> {
        let PgRebuild {
            mut tx,
            projections,
            ..
        } = *self;
        pg_replace_rows(&mut tx, &projections).await?;
        set_checkpoints!(tx, checkpoints);
        tx.commit().await?;
        Ok(())
    }
}

/// Makes the rows of `projections` (and the board's columns, when the board is one) those of
/// the rebuild's temporary tables, in its transaction, writing only what differs: a row the
/// rebuild reproduced byte for byte is left as it is (a rebuild usually reproduces most rows),
/// any other old row is deleted and any other rebuilt row inserted. The joins are on the
/// tables' primary keys.
async fn pg_replace_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    projections: &[String],
) -> Result<(), StoreError> {
    let board = projections.iter().any(|name| name == BOARD_PROJECTION);
    // The temporary tables have no statistics until analysed: without them the planner guesses
    // a few rows and joins by nested loops.
    sqlx::query("SET LOCAL work_mem = '64MB'")
        .execute(&mut **tx)
        .await?;
    sqlx::query("ANALYZE rebuild_rows")
        .execute(&mut **tx)
        .await?;
    if board {
        sqlx::query("ANALYZE rebuild_board, rebuild_deputies")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "DELETE FROM projection_rows p WHERE p.projection = ANY($1) AND NOT EXISTS \
         (SELECT 1 FROM rebuild_rows r \
          WHERE r.projection = p.projection AND r.row_key = p.row_key AND r.body = p.body)",
    )
    .bind(projections)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO projection_rows (projection, row_key, body) \
         SELECT r.projection, r.row_key, r.body FROM rebuild_rows r WHERE NOT EXISTS \
         (SELECT 1 FROM projection_rows p \
          WHERE p.projection = r.projection AND p.row_key = r.row_key)",
    )
    .execute(&mut **tx)
    .await?;
    if !board {
        return Ok(());
    }
    for statement in [
        "DELETE FROM board_rows b WHERE NOT EXISTS (SELECT 1 FROM rebuild_board r \
         WHERE r.item_id = b.item_id AND r.kind = b.kind AND r.status = b.status \
         AND r.lead_unit = b.lead_unit AND r.leader = b.leader AND r.due = b.due \
         AND r.awaiting_due = b.awaiting_due \
         AND r.answered_on_time IS NOT DISTINCT FROM b.answered_on_time \
         AND r.is_open = b.is_open AND r.is_closed = b.is_closed \
         AND r.awaits_answer = b.awaits_answer AND r.last_activity_at = b.last_activity_at)",
        "INSERT INTO board_rows SELECT r.* FROM rebuild_board r \
         WHERE NOT EXISTS (SELECT 1 FROM board_rows b WHERE b.item_id = r.item_id)",
        "DELETE FROM board_deputies b WHERE NOT EXISTS (SELECT 1 FROM rebuild_deputies r \
         WHERE r.deputy_id = b.deputy_id AND r.item_id = b.item_id)",
        "INSERT INTO board_deputies (deputy_id, item_id) \
         SELECT DISTINCT r.deputy_id, r.item_id FROM rebuild_deputies r WHERE NOT EXISTS \
         (SELECT 1 FROM board_deputies b WHERE b.deputy_id = r.deputy_id AND b.item_id = r.item_id)",
    ] {
        sqlx::query(statement).execute(&mut **tx).await?;
    }
    Ok(())
}
