//! The outbox: notifications waiting to be sent, and every attempt to send them.
//!
//! **Invariant:** a notification's id says what it is about, so queueing it again — after a
//! crash, a second run at the same moment, or a rebuild of the projections — inserts nothing
//! ([`OutboxStore::enqueue`] is `INSERT … ON CONFLICT (id) DO NOTHING`). The outbox is outside
//! the ledger: nothing here ever writes to `events`, and a failed delivery never touches it.
//!
//! **Invariant:** a sender claims a notification before delivering it
//! ([`OutboxStore::claim_next`]: one statement sets `claimed_until`, on PostgreSQL over a row
//! locked `FOR UPDATE SKIP LOCKED`, on SQLite under its single writer lock), and no other sender
//! takes a claimed notification until the claim is cleared or its lease runs out: two senders
//! never deliver one notice twice. Only a sender that stops between its channel accepting a
//! notice and recording the attempt (killed) lets it be delivered again, after the lease.
//!
//! **Invariant:** an attempt is recorded, the notification's state moved and its claim cleared
//! in one transaction, and only from the attempt count the sender read
//! ([`OutboxStore::record_attempt`] is a compare-and-set), so two senders never both record the
//! same attempt.
//!
//! The same SQL serves both backends (`$n` placeholders), stamped out by `outbox_store_impl!`.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::store::{PostgresStore, SqliteStore, StoreError};

/// Ids are looked up in statements of at most this many.
pub const IDS_PER_STATEMENT_MAX: usize = 500;

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Deterministic id (see the module's invariant).
    pub id: String,
    /// `halfway`, `due_soon`, `overdue`, `assigned`, `answered`, `rehandling`, `closed`, `digest`.
    pub kind: String,
    /// The item it is about; none for a digest.
    pub item_id: Option<String>,
    /// Who: a person id, `unit:NAME`, or the liaison office's id.
    pub recipient: String,
    /// `email`, `webhook`, or `none` when no address is known.
    pub channel: String,
    /// Where, on that channel.
    pub address: Option<String>,
    /// The message's subject line.
    pub subject: String,
    /// The message's text.
    pub body: String,
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// Delivered.
    Sent,
    /// Given up on (too many failures, or nowhere to send it).
    Dead,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(DeliveryState::Pending),
            "sent" => Ok(DeliveryState::Sent),
            "dead" => Ok(DeliveryState::Dead),
            other => Err(StoreError::Corrupt {
                position: -1,
                reason: format!("outbox state {other:?} is unknown"),
            }),
        }
    }
}

/// A queued notification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// What was queued.
    pub entry: OutboxEntry,
    /// Unix seconds of the run that queued it.
    pub queued_at: i64,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix seconds before which it is not tried again.
    pub next_attempt_at: i64,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The notification.
    pub id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Unix seconds.
    pub at: i64,
    /// The state it leaves the notification in.
    pub state: DeliveryState,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Unix seconds of the next attempt, when the state stays pending.
    pub next_attempt_at: i64,
}

/// Where notifications wait to be sent.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues `entries` in one transaction; an id already queued is left as it is. Returns the
    /// ids that were new.
    async fn enqueue(
        &self,
        entries: &[OutboxEntry],
        queued_at: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// Which of `ids` are queued already (whatever their state).
    async fn known(&self, ids: &[String]) -> Result<BTreeSet<String>, StoreError>;

    /// Every notification, oldest first (then by id).
    async fn list(&self) -> Result<Vec<OutboxRow>, StoreError>;

    /// Up to `limit` pending notifications due at `now` (Unix seconds), oldest first.
    async fn due(&self, now: i64, limit: u32) -> Result<Vec<OutboxRow>, StoreError>;

    /// Claims the pending notification due at `now` (Unix seconds) that has waited longest and
    /// that nobody holds a claim on, until `claimed_until`; returns it, or `None` when none is
    /// left. The claim ends when its attempt is recorded, or at `claimed_until`.
    async fn claim_next(
        &self,
        now: i64,
        claimed_until: i64,
    ) -> Result<Option<OutboxRow>, StoreError>;

    /// Up to `limit` dead notifications, the most recently given up on first, each with the
    /// error of its last attempt.
    async fn dead(&self, limit: u32) -> Result<Vec<(OutboxRow, Option<String>)>, StoreError>;

    /// Records `attempt` and moves its notification to `attempt.state`, atomically, if no other
    /// attempt was recorded since it was read. Returns false, changing nothing, otherwise.
    async fn record_attempt(&self, attempt: &Attempt) -> Result<bool, StoreError>;

    /// Every attempt recorded for `id`, in order.
    async fn attempts(&self, id: &str) -> Result<Vec<Attempt>, StoreError>;
}

type RowTuple = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    String,
    i64,
    i64,
);

/// A dead notification's row and its last attempt's error.
type DeadTuple = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    Option<String>,
);

fn split_dead(tuple: DeadTuple) -> (RowTuple, Option<String>) {
    let (
        id,
        kind,
        item_id,
        recipient,
        channel,
        address,
        subject,
        body,
        queued_at,
        state,
        n,
        next,
        error,
    ) = tuple;
    (
        (
            id, kind, item_id, recipient, channel, address, subject, body, queued_at, state, n,
            next,
        ),
        error,
    )
}

const ROW_COLUMNS: &str = "id, kind, item_id, recipient, channel, address, subject, body, \
                           queued_at, state, attempts, next_attempt_at";

fn row_of(tuple: RowTuple) -> Result<OutboxRow, StoreError> {
    let (id, kind, item_id, recipient, channel, address, subject, body, queued_at, state, n, next) =
        tuple;
    Ok(OutboxRow {
        entry: OutboxEntry {
            id,
            kind,
            item_id,
            recipient,
            channel,
            address,
            subject,
            body,
        },
        queued_at,
        state: DeliveryState::parse(&state)?,
        attempts: attempt_count(n)?,
        next_attempt_at: next,
    })
}

fn attempt_count(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt {
        position: -1,
        reason: format!("outbox attempt count {value} is out of range"),
    })
}

macro_rules! outbox_store_impl {
    ($store:ty, $database:ty, $skip_locked:literal) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn enqueue(
                &self,
                entries: &[OutboxEntry],
                queued_at: i64,
            ) -> Result<Vec<String>, StoreError> {
                let mut tx = self.pool().begin().await?;
                let inserted = <$store>::outbox_insert(&mut tx, entries, queued_at).await?;
                tx.commit().await?;
                Ok(inserted)
            }

            async fn known(&self, ids: &[String]) -> Result<BTreeSet<String>, StoreError> {
                let mut found = BTreeSet::new();
                for chunk in ids.chunks(IDS_PER_STATEMENT_MAX) {
                    let mut query =
                        sqlx::QueryBuilder::<$database>::new("SELECT id FROM outbox WHERE id IN (");
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(id);
                    }
                    query.push(")");
                    let rows: Vec<(String,)> =
                        query.build_query_as().fetch_all(self.pool()).await?;
                    found.extend(rows.into_iter().map(|(id,)| id));
                }
                Ok(found)
            }

            async fn list(&self) -> Result<Vec<OutboxRow>, StoreError> {
                let sql = format!("SELECT {ROW_COLUMNS} FROM outbox ORDER BY queued_at, id");
                let rows: Vec<RowTuple> = sqlx::query_as(&sql).fetch_all(self.pool()).await?;
                rows.into_iter().map(row_of).collect()
            }

            async fn due(&self, now: i64, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
                let sql = format!(
                    "SELECT {ROW_COLUMNS} FROM outbox \
                     WHERE state = 'pending' AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at, queued_at, id LIMIT $2"
                );
                let rows: Vec<RowTuple> = sqlx::query_as(&sql)
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?;
                rows.into_iter().map(row_of).collect()
            }

            async fn claim_next(
                &self,
                now: i64,
                claimed_until: i64,
            ) -> Result<Option<OutboxRow>, StoreError> {
                assert!(claimed_until > now);
                let sql = format!(
                    "UPDATE outbox SET claimed_until = $2 WHERE id = (\
                     SELECT id FROM outbox \
                     WHERE state = 'pending' AND next_attempt_at <= $1 AND claimed_until <= $1 \
                     ORDER BY next_attempt_at, queued_at, id LIMIT 1{}) \
                     AND state = 'pending' AND claimed_until <= $1 \
                     RETURNING {ROW_COLUMNS}",
                    $skip_locked
                );
                let row: Option<RowTuple> = sqlx::query_as(&sql)
                    .bind(now)
                    .bind(claimed_until)
                    .fetch_optional(self.pool())
                    .await?;
                row.map(row_of).transpose()
            }

            async fn dead(
                &self,
                limit: u32,
            ) -> Result<Vec<(OutboxRow, Option<String>)>, StoreError> {
                let columns = ROW_COLUMNS
                    .split(", ")
                    .map(|column| format!("o.{column}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT {columns}, a.error FROM outbox o \
                     LEFT JOIN outbox_attempts a ON a.id = o.id AND a.attempt = o.attempts \
                     WHERE o.state = 'dead' \
                     ORDER BY COALESCE(a.at, o.queued_at) DESC, o.id LIMIT $1"
                );
                let rows: Vec<(RowTuple, Option<String>)> = sqlx::query_as::<_, DeadTuple>(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?
                    .into_iter()
                    .map(split_dead)
                    .collect();
                rows.into_iter()
                    .map(|(tuple, error)| Ok((row_of(tuple)?, error)))
                    .collect()
            }

            async fn record_attempt(&self, attempt: &Attempt) -> Result<bool, StoreError> {
                assert!(attempt.attempt >= 1);
                let mut tx = self.pool().begin().await?;
                let moved = sqlx::query(
                    "UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, \
                     claimed_until = 0 \
                     WHERE id = $4 AND attempts = $5 AND state = 'pending'",
                )
                .bind(attempt.state.as_str())
                .bind(i64::from(attempt.attempt))
                .bind(attempt.next_attempt_at)
                .bind(&attempt.id)
                .bind(i64::from(attempt.attempt - 1))
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() != 1 {
                    return Ok(false);
                }
                let outcome = match attempt.state {
                    DeliveryState::Pending => "failed",
                    DeliveryState::Sent => "sent",
                    DeliveryState::Dead => "dead",
                };
                sqlx::query(
                    "INSERT INTO outbox_attempts (id, attempt, at, outcome, error) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&attempt.id)
                .bind(i64::from(attempt.attempt))
                .bind(attempt.at)
                .bind(outcome)
                .bind(&attempt.error)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn attempts(&self, id: &str) -> Result<Vec<Attempt>, StoreError> {
                let rows: Vec<(i64, i64, String, Option<String>)> = sqlx::query_as(
                    "SELECT attempt, at, outcome, error FROM outbox_attempts \
                     WHERE id = $1 ORDER BY attempt",
                )
                .bind(id)
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(attempt, at, outcome, error)| {
                        let state = match outcome.as_str() {
                            "sent" => DeliveryState::Sent,
                            "dead" => DeliveryState::Dead,
                            _ => DeliveryState::Pending,
                        };
                        Ok(Attempt {
                            id: id.to_owned(),
                            attempt: attempt_count(attempt)?,
                            at,
                            state,
                            error,
                            next_attempt_at: at,
                        })
                    })
                    .collect()
            }
        }

        impl $store {
            /// Queues `entries` in `tx`; an id already queued is left as it is. Returns the ids
            /// that were new. Shared by [`OutboxStore::enqueue`] and the notice projection's
            /// commit ([`crate::views::ViewStore::commit_queueing`]).
            pub(crate) async fn outbox_insert(
                tx: &mut sqlx::Transaction<'_, $database>,
                entries: &[OutboxEntry],
                queued_at: i64,
            ) -> Result<Vec<String>, StoreError> {
                let mut inserted = Vec::new();
                for entry in entries {
                    let id: Option<String> = sqlx::query_scalar(
                        "INSERT INTO outbox (id, kind, item_id, recipient, channel, address, \
                         subject, body, queued_at, next_attempt_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
                         ON CONFLICT (id) DO NOTHING RETURNING id",
                    )
                    .bind(&entry.id)
                    .bind(&entry.kind)
                    .bind(&entry.item_id)
                    .bind(&entry.recipient)
                    .bind(&entry.channel)
                    .bind(&entry.address)
                    .bind(&entry.subject)
                    .bind(&entry.body)
                    .bind(queued_at)
                    .fetch_optional(&mut **tx)
                    .await?;
                    inserted.extend(id);
                }
                Ok(inserted)
            }
        }
    };
}

// SQLite has one writer at a time, so its UPDATE claims alone; PostgreSQL skips the rows
// another sender's claim holds locked.
outbox_store_impl!(SqliteStore, sqlx::Sqlite, "");
outbox_store_impl!(PostgresStore, sqlx::Postgres, " FOR UPDATE SKIP LOCKED");
