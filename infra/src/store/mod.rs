//! The event store: one trait, two backends (SQLite and PostgreSQL), chosen by URL at run time.
//!
//! **Invariants** (checked by the shared conformance suite in `tests/store.rs`):
//! - positions are 0-based and gap-free across the whole log; appends take the ledger head
//!   under a lock (`BEGIN IMMEDIATE` on SQLite, `SELECT … FOR UPDATE` on PostgreSQL);
//! - a stream's versions count from 1 with no gaps, enforced by `UNIQUE (stream, version)`;
//! - `command_id` is unique in the `commands` table: a retry returns the first result;
//! - the stored bytes are the hashed bytes, and the log table refuses UPDATE and DELETE.

mod postgres;
mod proofs;
mod rows;
mod sqlite;
mod sqlite_scan;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde_json::Value;
use std::future::Future;

use crate::canonical::CanonicalError;
use crate::export::{ExportReader, ExportedCommand, RestoreError};
use crate::merkle::{ConsistencyProof, InclusionProof, NodeId, ProofError, LEVEL_MAX};
use crate::outbox::OutboxStore;
use crate::record::{format_recorded_at, seal, Hash, Record, SealedRecord};
use crate::verify::{VerifiedLog, VerifyOptions};

pub use postgres::{PostgresStore, ACQUIRE_TIMEOUT as POSTGRES_ACQUIRE_TIMEOUT};

use crate::credentials::CredentialStore;
use crate::views::ViewStore;
pub use sqlite::SqliteStore;

/// At most this many events are appended by one command.
pub const EVENTS_PER_APPEND_MAX: usize = 64;

/// `read_all` fetches the log in pages of this many records, so memory stays bounded.
pub const READ_PAGE_RECORDS: i64 = 1_000;

/// One query reads at most this many Merkle nodes: a root and a proof together need fewer.
pub const NODES_PER_QUERY_MAX: usize = 4 * u64::BITS as usize;

/// Multi-row inserts carry at most this many rows per statement (SQLite allows 32,766 bound
/// parameters; a record row binds 9).
pub const ROWS_PER_INSERT_MAX: usize = 500;

const _: () = assert!(ROWS_PER_INSERT_MAX * 9 < 32_766);
const _: () = assert!(NODES_PER_QUERY_MAX * 2 < 32_766);
const _: () = assert!(EVENTS_PER_APPEND_MAX <= ROWS_PER_INSERT_MAX);

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// What the command that produced some events says about itself; copied onto every record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMeta {
    /// The idempotency key.
    pub command_id: String,
    /// Digest of what the client sent; a retry with the same id must carry the same digest.
    pub request_hash: Hash,
    /// Business time, RFC 3339 with offset.
    pub at: String,
    /// Who issued it.
    pub actor: String,
    /// In which role.
    pub role: String,
}

/// One event to append: its type, data shape version and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// e.g. `ItemFiled`.
    pub event_type: String,
    /// Version of the data shape.
    pub schema: u32,
    /// The payload; integers below 2^53 and strings only (no floats).
    pub data: Value,
}

/// The events one command decided, for one stream, at the version it was decided against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// `<kind>/<id>`.
    pub stream: String,
    /// The stream's version the command saw (0 for a new stream).
    pub expected_version: u64,
    /// The command's metadata.
    pub command: CommandMeta,
    /// At least one, at most [`EVENTS_PER_APPEND_MAX`].
    pub events: Vec<NewEvent>,
}

/// Where one appended record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Global position.
    pub position: u64,
    /// Version within the stream.
    pub version: u64,
    /// Leaf hash of the record.
    pub hash: Hash,
}

/// The result of an append, or of an idempotent retry of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The stream written to.
    pub stream: String,
    /// One entry per event, in order.
    pub records: Vec<Appended>,
    /// True when this was a retry and nothing new was appended.
    pub replayed: bool,
}

/// What the store remembers of a command it has appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReceipt {
    /// The digest the command was first sent with.
    pub request_hash: Hash,
    /// What it appended.
    pub outcome: AppendOutcome,
}

/// A record as stored: its columns and its exact canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Position column.
    pub position: u64,
    /// Stream column.
    pub stream: String,
    /// Version column.
    pub version: u64,
    /// The stored canonical bytes, exactly as hashed.
    pub canonical: Vec<u8>,
    /// The stored leaf hash.
    pub hash: Hash,
    /// The stored link to the previous record.
    pub prev: Hash,
}

impl StoredRecord {
    /// Parses the stored bytes (never re-serialises them).
    ///
    /// # Errors
    /// A [`serde_json::Error`] when the stored bytes are not a record.
    pub fn record(&self) -> Result<Record, serde_json::Error> {
        serde_json::from_slice(&self.canonical)
    }
}

/// A run of the log as `verify` reads it ([`EventStore::scan_log`]): records in position
/// order, and the next stored Merkle nodes in append order, as many as those records complete
/// (`1 +` the trailing ones of each leaf index; fewer when the stored tree ends, and a read
/// error as the last). The scan's last chunk holds no record and the stored node after all the
/// records' own, if there is one.
#[derive(Debug)]
pub struct LogChunk {
    /// The records.
    pub records: Vec<StoredRecord>,
    /// The stored nodes they complete.
    pub nodes: Vec<Result<StoredNode, StoreError>>,
}

/// Where [`EventStore::scan_log`] hands its chunks (a read error as the last item).
pub type LogChunkSender = tokio::sync::mpsc::Sender<Result<LogChunk, StoreError>>;

/// The tip of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerHead {
    /// Number of records (last position + 1).
    pub tree_size: u64,
    /// Hash of the last record, [`Hash::ZERO`] for an empty log.
    pub head_hash: Hash,
}

/// A stored Merkle node: a complete perfect subtree and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredNode {
    /// Which subtree.
    pub id: NodeId,
    /// Its stored hash.
    pub hash: Hash,
}

/// An inclusion proof as the store answers it, with the leaf and the root it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionEvidence {
    /// The proof.
    pub proof: InclusionProof,
    /// The leaf hash of the record at `proof.leaf_index`.
    pub leaf_hash: Hash,
    /// The root of the tree of `proof.tree_size` records.
    pub root: Hash,
}

/// A consistency proof as the store answers it, with both roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyEvidence {
    /// The proof.
    pub proof: ConsistencyProof,
    /// The root of the tree of `proof.size1` records.
    pub root1: Hash,
    /// The root of the tree of `proof.size2` records.
    pub root2: Hash,
}

/// A checkpoint as stored: the signed note, the columns that repeat it, and the witnesses'
/// cosignature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// 1, 2, 3… in signing order.
    pub checkpoint_id: u64,
    /// The tree size column.
    pub tree_size: u64,
    /// The root column.
    pub root: Hash,
    /// The signed note as the ledger signed it.
    pub note: String,
    /// When it was stored (server clock).
    pub recorded_at: String,
    /// Cosignature lines, each ending in a newline.
    pub cosignatures: Vec<String>,
}

impl StoredCheckpoint {
    /// The note with every cosignature line appended: what a witness-aware verifier reads.
    pub fn cosigned_note(&self) -> String {
        let mut note = self.note.clone();
        for line in &self.cosignatures {
            note.push_str(line);
        }
        note
    }
}

/// A checkpoint to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckpoint {
    /// One more than the id of the checkpoint it was checked against (1 for the first).
    pub checkpoint_id: u64,
    /// The tree size it signs.
    pub tree_size: u64,
    /// The root it signs.
    pub root: Hash,
    /// The signed note text.
    pub note: String,
}

/// A witness's cosignature to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCosignature {
    /// The checkpoint cosigned.
    pub checkpoint_id: u64,
    /// The witness key's name.
    pub witness: String,
    /// The witness key's ID.
    pub key_id: u32,
    /// The cosignature's timestamp, POSIX seconds.
    pub cosigned_at: u64,
    /// The signature line, with its newline.
    pub line: String,
}

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream moved since the command was decided; reload and decide again.
    #[error("stream {stream} is at version {actual}, not {expected}: it moved; retry")]
    Conflict {
        /// The stream.
        stream: String,
        /// The version the command was decided against.
        expected: u64,
        /// The version found.
        actual: u64,
    },
    /// The command id was already used by a different command.
    #[error("command id {command_id} was already used by a different command")]
    Duplicate {
        /// The reused id.
        command_id: String,
    },
    /// An event payload has no canonical form (e.g. a float).
    #[error("event data cannot be recorded: {0}")]
    NotCanonical(#[from] CanonicalError),
    /// The database URL cannot be understood.
    #[error("database URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// The database cannot be reached or dropped the connection (refused, reset, terminated by
    /// an administrator, shutting down, no free connection in time, SQLite busy or unable to
    /// open its file). Whatever was in flight was rolled back, or — when the connection broke
    /// during `COMMIT` — may have been committed; either way nothing is half there, and a retry
    /// with the same command id is safe. Over HTTP this is 503 `unavailable`.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A root or proof was asked for that cannot exist (a size beyond the log, a leaf index
    /// beyond the size, a consistency proof from size 0).
    #[error("{0}")]
    Proof(#[from] ProofError),
    /// Another checkpoint was stored while this one was being signed; sign again.
    #[error("another checkpoint was signed at the same time; run checkpoint again")]
    CheckpointRace,
    /// Schema migration failed.
    #[error("schema migration: {0}")]
    Migration(String),
    /// A stored row is unreadable (wrong hash length, negative position…): the database was
    /// changed behind the program's back. `verify` names the position.
    #[error("stored row at position {position} is malformed: {reason}")]
    Corrupt {
        /// Position of the row.
        position: i64,
        /// What is wrong.
        reason: String,
    },
}

impl StoreError {
    /// True when the database could not be reached or dropped the connection: the operation may
    /// succeed if tried again later, and a client should be told "unavailable", not "failed".
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// SQLSTATE classes and codes of PostgreSQL that mean the server, not the statement, failed:
/// class 08 (connection exception), 57P01 (terminated by an administrator, e.g.
/// `pg_terminate_backend`), 57P02 (crash shutdown), 57P03 (cannot connect now: starting or
/// stopping), 53300 (too many connections).
fn postgres_state_is_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03" | "53300")
}

/// SQLite primary result codes that mean the file, not the statement, failed: BUSY (5) and
/// LOCKED (6) after the busy timeout, IOERR (10), FULL (13), CANTOPEN (14). The extended code
/// carries the primary one in its low byte.
fn sqlite_code_is_unavailable(extended_code: i64) -> bool {
    matches!(extended_code & 0xff, 5 | 6 | 10 | 13 | 14)
}

/// Whether a sqlx error means the database is unreachable rather than that a statement failed.
fn sqlx_error_is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => {
            if let Some(postgres) = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                postgres_state_is_unavailable(postgres.code())
            } else if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                database
                    .code()
                    .and_then(|code| code.parse::<i64>().ok())
                    .is_some_and(sqlite_code_is_unavailable)
            } else {
                false
            }
        }
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if sqlx_error_is_unavailable(&error) {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::Database(error.to_string())
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(error.to_string())
    }
}

/// The ledger's event store. Everything above `infra` holds it as `Arc<dyn EventStore>`.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Appends a command's events at the end of the log, atomically.
    ///
    /// Returns each record's position and hash. The same `command_id` with the same
    /// `request_hash` returns the first outcome (with `replayed`) and appends nothing.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the stream is not at `expected_version`;
    /// [`StoreError::Duplicate`] when the id was used by a different command.
    ///
    /// # Panics
    /// When `events` is empty or longer than [`EVENTS_PER_APPEND_MAX`] (a caller bug).
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        let mut results = self.append_batch(vec![request]).await?;
        assert_eq!(results.len(), 1);
        results.pop().expect("one result per request")
    }

    /// Appends several commands' events in ONE transaction (group commit), in order: one result
    /// per request. Each request is checked as [`EventStore::append`] checks it, against the
    /// store and against the requests accepted before it in the batch (so two requests on one
    /// stream must carry successive versions, and the same command id twice returns the first
    /// outcome); a refused request is answered with its error and does not affect the others.
    ///
    /// # Errors
    /// The outer error when the database fails: then nothing of the batch was appended.
    ///
    /// # Panics
    /// When more than [`BATCH_REQUESTS_MAX`] requests are given, or a request breaks the append
    /// contract (a caller bug).
    async fn append_batch(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Result<AppendOutcome, StoreError>>, StoreError>;

    /// What the store remembers of a command id, if it has seen it.
    async fn find_command(&self, command_id: &str) -> Result<Option<CommandReceipt>, StoreError>;

    /// What the store remembers of each of `command_ids` it has seen (absent: never seen), in
    /// one round trip.
    async fn find_commands(
        &self,
        command_ids: &[&str],
    ) -> Result<HashMap<String, CommandReceipt>, StoreError>;

    /// Every record of one stream, in version order.
    async fn read_stream(&self, stream: &str) -> Result<Vec<StoredRecord>, StoreError>;

    /// Every record from `from_position` on, in position order, fetched page by page.
    fn read_all(&self, from_position: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>>;

    /// The tip of the log.
    async fn head(&self) -> Result<LedgerHead, StoreError>;

    /// Reads the whole log for `verify`: the head, then every record and every Merkle node in
    /// [`LogChunk`]s sent to `to_check` (a read error as the last item); returns the head. Stops,
    /// without error, when `to_check` is closed. By default through [`EventStore::head`],
    /// [`EventStore::read_all`] and [`EventStore::read_merkle_nodes`]; SQLite reads on a
    /// blocking thread of its own, from one read snapshot.
    ///
    /// # Errors
    /// When the head cannot be read (then no chunk was sent).
    async fn scan_log(&self, to_check: LogChunkSender) -> Result<LedgerHead, StoreError> {
        crate::verify::scan_log_streamed(self, to_check).await
    }

    /// Waits until the log holds more than `tree_size` records, or `timeout` passes; returns the
    /// tree size then. Appends in this process wake it at once (and on PostgreSQL, appends in any
    /// process, through LISTEN/NOTIFY); otherwise it looks again when the timeout ends.
    async fn wait_for_growth(&self, tree_size: u64, timeout: Duration) -> Result<u64, StoreError>;

    /// The stored hashes of complete perfect subtrees, in the order of `ids` (at most
    /// [`NODES_PER_QUERY_MAX`]).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a node the tree must hold is missing or malformed.
    async fn merkle_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError>;

    /// Every stored Merkle node in the order appends create them (by `leaf_end`, then level),
    /// fetched page by page.
    fn read_merkle_nodes(&self) -> BoxStream<'_, Result<StoredNode, StoreError>>;

    /// The last checkpoint signed, with its cosignatures.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Stores a signed checkpoint; returns it as stored.
    ///
    /// # Errors
    /// [`StoreError::CheckpointRace`] when `checkpoint_id` was taken meanwhile.
    async fn add_checkpoint(
        &self,
        checkpoint: NewCheckpoint,
    ) -> Result<StoredCheckpoint, StoreError>;

    /// Every checkpoint with its cosignatures, by tree size, page by page.
    fn read_checkpoints(&self) -> BoxStream<'_, Result<StoredCheckpoint, StoreError>>;

    /// Stores a witness's cosignature; false when that witness had already cosigned it.
    async fn add_cosignature(&self, cosignature: NewCosignature) -> Result<bool, StoreError>;

    /// The largest checkpoint the witness (key name and key ID) has cosigned.
    async fn latest_cosigned_by(
        &self,
        witness: &str,
        key_id: u32,
    ) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Every command in the idempotency table, by first position, page by page.
    fn read_commands(&self) -> BoxStream<'_, Result<ExportedCommand, StoreError>>;

    /// Restores a verified export into this empty ledger in one transaction: everything, or
    /// (when any line does not verify, or the ledger is not empty) nothing.
    ///
    /// # Errors
    /// [`RestoreError`].
    async fn restore(
        &self,
        reader: ExportReader,
        options: &VerifyOptions,
    ) -> Result<VerifiedLog, RestoreError>;

    /// The RFC 6962 root of the first `tree_size` records, from at most `log2(tree_size) + 1`
    /// stored nodes.
    ///
    /// # Errors
    /// [`StoreError::Proof`] when `tree_size` is beyond the log.
    async fn root(&self, tree_size: u64) -> Result<Hash, StoreError> {
        proofs::root(self, tree_size).await
    }

    /// The inclusion proof of the record at `leaf_index` in the tree of `tree_size` records.
    ///
    /// # Errors
    /// [`StoreError::Proof`] when the index or size is out of range.
    async fn prove_inclusion(
        &self,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<InclusionEvidence, StoreError> {
        proofs::prove_inclusion(self, leaf_index, tree_size).await
    }

    /// The consistency proof from the tree of `size1` records to the tree of `size2`.
    ///
    /// # Errors
    /// [`StoreError::Proof`] when `size1` is 0, above `size2`, or `size2` is beyond the log.
    async fn prove_consistency(
        &self,
        size1: u64,
        size2: u64,
    ) -> Result<ConsistencyEvidence, StoreError> {
        proofs::prove_consistency(self, size1, size2).await
    }
}

/// The ledger's stores, sharing one connection pool.
#[derive(Clone)]
pub struct Stores {
    /// The log.
    pub events: Arc<dyn EventStore>,
    /// The read models.
    pub views: Arc<dyn ViewStore>,
    /// Password hashes, tokens and sessions (outside the ledger).
    pub credentials: Arc<dyn CredentialStore>,
    /// The notifications waiting to be sent.
    pub outbox: Arc<dyn OutboxStore>,
}

/// The PostgreSQL connections one process holds at most, unless told otherwise.
pub const PG_CONNECTIONS_MAX: u32 = postgres::CONNECTIONS_MAX;

/// Opens (and migrates) the ledger a URL names; see [`open_store`] for the URL forms.
///
/// # Errors
/// [`StoreError`] when the database cannot be opened or migrated.
pub async fn open_stores(url: &str) -> Result<Stores, StoreError> {
    open_stores_with(url, PG_CONNECTIONS_MAX).await
}

/// As [`open_stores`], holding at most `pg_connections_max` PostgreSQL connections (SQLite
/// ignores it).
///
/// # Errors
/// As [`open_stores`].
pub async fn open_stores_with(url: &str, pg_connections_max: u32) -> Result<Stores, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = Arc::new(PostgresStore::connect_with(url, pg_connections_max).await?);
        Ok(Stores {
            events: store.clone(),
            views: store.clone(),
            credentials: store.clone(),
            outbox: store,
        })
    } else {
        let store = Arc::new(SqliteStore::open(sqlite_path(url)?).await?);
        Ok(Stores {
            events: store.clone(),
            views: store.clone(),
            credentials: store.clone(),
            outbox: store,
        })
    }
}

fn sqlite_path(url: &str) -> Result<&str, StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() {
        return Err(StoreError::BadUrl {
            url: url.to_owned(),
            reason: "names no file".to_owned(),
        });
    }
    Ok(path)
}

/// Opens (and migrates) the store a URL names: `postgres://…` or `postgresql://…` for
/// PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a plain path for SQLite.
///
/// # Errors
/// [`StoreError`] when the database cannot be opened or migrated.
pub async fn open_store(url: &str) -> Result<Arc<dyn EventStore>, StoreError> {
    Ok(open_stores(url).await?.events)
}

/// The head as read under the append lock, plus the last `recorded_at`.
#[derive(Debug, Clone)]
pub(crate) struct LockedHead {
    pub(crate) tree_size: u64,
    pub(crate) head_hash: Hash,
    pub(crate) recorded_at_last: String,
}

/// Seals the records of one append against the locked head. Shared by both backends, so both
/// produce byte-identical chains.
///
/// # Panics
/// When the request breaks the append contract (no events, too many) or a sealed record does not
/// link to its predecessor: both are bugs, and panicking drops the open transaction.
pub(crate) fn seal_append(
    head: &LockedHead,
    request: &AppendRequest,
    now: jiff::Timestamp,
) -> Result<(Vec<SealedRecord>, String), StoreError> {
    assert!(!request.events.is_empty());
    assert!(request.events.len() <= EVENTS_PER_APPEND_MAX);
    // recorded_at never goes backwards along the log, so "as of a time" is always a prefix.
    let mut recorded_at = format_recorded_at(now);
    if recorded_at < head.recorded_at_last {
        recorded_at.clone_from(&head.recorded_at_last);
    }
    let mut sealed = Vec::with_capacity(request.events.len());
    let mut prev = head.head_hash;
    for (offset, event) in request.events.iter().enumerate() {
        let offset = offset as u64;
        let record = Record {
            position: head.tree_size + offset,
            stream: request.stream.clone(),
            version: request.expected_version + 1 + offset,
            event_type: event.event_type.clone(),
            schema: event.schema,
            at: request.command.at.clone(),
            recorded_at: recorded_at.clone(),
            actor: request.command.actor.clone(),
            role: request.command.role.clone(),
            command_id: request.command.command_id.clone(),
            data: event.data.clone(),
            prev,
        };
        let next = seal(record)?;
        assert_eq!(next.record.prev, prev);
        assert_eq!(next.record.position, head.tree_size + offset);
        prev = next.hash;
        sealed.push(next);
    }
    Ok((sealed, recorded_at))
}

/// Converts a stored integer column to a position or version.
pub(crate) fn column_u64(value: i64, position: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        position,
        reason: format!("{column} is negative"),
    })
}

/// Converts a stored hash column.
pub(crate) fn column_hash(bytes: &[u8], position: i64, column: &str) -> Result<Hash, StoreError> {
    Hash::from_slice(bytes).map_err(|_| StoreError::Corrupt {
        position,
        reason: format!("{column} is {} bytes, not 32", bytes.len()),
    })
}

/// Converts a position or version for a bind parameter. Positions stay far below 2^63.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).expect("positions and versions fit in i64")
}

/// A stored record's columns as both backends read them.
pub(crate) type RecordRow = (i64, String, i64, Vec<u8>, Vec<u8>, Vec<u8>);

/// The column list matching [`RecordRow`].
pub(crate) const RECORD_COLUMNS: &str = "position, stream, version, canonical, hash, prev";

/// Turns a row into a [`StoredRecord`], refusing rows that cannot be a record.
pub(crate) fn stored_record(row: RecordRow) -> Result<StoredRecord, StoreError> {
    let (position, stream, version, canonical, hash, prev) = row;
    Ok(StoredRecord {
        position: column_u64(position, position, "position")?,
        stream,
        version: column_u64(version, position, "version")?,
        hash: column_hash(&hash, position, "hash")?,
        prev: column_hash(&prev, position, "prev")?,
        canonical,
    })
}

/// A Merkle node's columns as both backends read them: level, node_index, leaf_end, hash.
pub(crate) type NodeRow = (i64, i64, i64, Vec<u8>);

/// Turns a row into a [`StoredNode`], refusing rows that cannot be a node.
pub(crate) fn stored_node(row: NodeRow) -> Result<StoredNode, StoreError> {
    let (level, node_index, leaf_end, hash) = row;
    let corrupt = |reason: String| StoreError::Corrupt {
        position: leaf_end.saturating_sub(1),
        reason,
    };
    let level = u32::try_from(level)
        .ok()
        .filter(|level| *level <= LEVEL_MAX)
        .ok_or_else(|| corrupt(format!("Merkle node level {level} is out of range")))?;
    let index = u64::try_from(node_index)
        .ok()
        .filter(|index| *index < u64::MAX >> level)
        .ok_or_else(|| corrupt(format!("Merkle node index {node_index} is out of range")))?;
    let id = NodeId::new(level, index);
    if u64::try_from(leaf_end) != Ok(id.leaf_end()) {
        return Err(corrupt(format!(
            "Merkle node ({level}, {index}) says it ends at leaf {leaf_end}"
        )));
    }
    let hash = Hash::from_slice(&hash).map_err(|_| {
        corrupt(format!(
            "Merkle node ({level}, {index}) hash is {} bytes, not 32",
            hash.len()
        ))
    })?;
    Ok(StoredNode { id, hash })
}

/// Puts fetched node rows in the order of `ids`; a missing node means the tree was damaged.
pub(crate) fn node_hashes(ids: &[NodeId], rows: Vec<NodeRow>) -> Result<Vec<Hash>, StoreError> {
    let found = rows
        .into_iter()
        .map(|row| stored_node(row).map(|node| (node.id, node.hash)))
        .collect::<Result<std::collections::HashMap<NodeId, Hash>, StoreError>>()?;
    ids.iter()
        .map(|id| {
            found.get(id).copied().ok_or_else(|| StoreError::Corrupt {
                position: to_i64(id.leaf_end() - 1),
                reason: format!("Merkle node ({}, {}) is missing", id.level(), id.index()),
            })
        })
        .collect()
}

/// One `events` row to insert, borrowed from a sealed or an imported record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventRow<'a> {
    pub(crate) position: u64,
    pub(crate) stream: &'a str,
    pub(crate) version: u64,
    pub(crate) event_type: &'a str,
    pub(crate) command_id: &'a str,
    pub(crate) recorded_at: &'a str,
    pub(crate) canonical: &'a [u8],
    pub(crate) hash: Hash,
    pub(crate) prev: Hash,
}

impl<'a> EventRow<'a> {
    /// The row of a record just sealed.
    pub(crate) fn sealed(sealed: &'a SealedRecord) -> Self {
        EventRow::of_parts(&sealed.record, &sealed.canonical, sealed.hash)
    }

    /// The row of a verified imported record.
    pub(crate) fn of(stored: &'a StoredRecord, record: &'a Record) -> Self {
        EventRow::of_parts(record, &stored.canonical, stored.hash)
    }

    fn of_parts(record: &'a Record, canonical: &'a [u8], hash: Hash) -> Self {
        EventRow {
            position: record.position,
            stream: &record.stream,
            version: record.version,
            event_type: &record.event_type,
            command_id: &record.command_id,
            recorded_at: &record.recorded_at,
            canonical,
            hash,
            prev: record.prev,
        }
    }
}

/// Turns a `commands` row into an [`ExportedCommand`].
pub(crate) fn exported_command(
    row: (String, Vec<u8>, String, i64, i64),
) -> Result<ExportedCommand, StoreError> {
    let (command_id, request_hash, stream, first_position, event_count) = row;
    Ok(ExportedCommand {
        command_id,
        request_hash: column_hash(&request_hash, first_position, "request_hash")?,
        stream,
        first_position: column_u64(first_position, first_position, "first_position")?,
        event_count: column_u64(event_count, first_position, "event_count")?,
    })
}

/// The keyset of commands: by first position.
pub(crate) fn command_key(command: &ExportedCommand) -> (i64, i64) {
    (to_i64(command.first_position), 0)
}

/// A checkpoint's columns: checkpoint_id, tree_size, root, note, recorded_at.
pub(crate) type CheckpointRow = (i64, i64, Vec<u8>, String, String);

/// The column list matching [`CheckpointRow`].
pub(crate) const CHECKPOINT_COLUMNS: &str = "checkpoint_id, tree_size, root, note, recorded_at";

/// Turns a row into a [`StoredCheckpoint`] (without its cosignatures yet).
pub(crate) fn stored_checkpoint(row: CheckpointRow) -> Result<StoredCheckpoint, StoreError> {
    let (checkpoint_id, tree_size, root, note, recorded_at) = row;
    Ok(StoredCheckpoint {
        checkpoint_id: column_u64(checkpoint_id, tree_size, "checkpoint_id")?,
        tree_size: column_u64(tree_size, tree_size, "checkpoint tree_size")?,
        root: column_hash(&root, tree_size, "checkpoint root")?,
        note,
        recorded_at,
        cosignatures: Vec::new(),
    })
}

/// Streams rows page by page by a key: `fetch_page(after)` returns up to
/// [`READ_PAGE_RECORDS`] items with keys after `after`, in key order.
pub(crate) fn keyset_pages<'a, T, F, Fut>(
    first: (i64, i64),
    key_of: fn(&T) -> (i64, i64),
    fetch_page: F,
) -> BoxStream<'a, Result<T, StoreError>>
where
    T: Send + 'a,
    F: Fn((i64, i64)) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Vec<T>, StoreError>> + Send + 'a,
{
    let pages = stream::try_unfold(
        (Some(first), fetch_page),
        move |(after, fetch_page)| async move {
            let Some(after) = after else {
                return Ok::<_, StoreError>(None);
            };
            let items = fetch_page(after).await?;
            let full = items.len() as i64 == READ_PAGE_RECORDS;
            let following = items.last().filter(|_| full).map(key_of);
            let page: Vec<Result<T, StoreError>> = items.into_iter().map(Ok).collect();
            Ok(Some((stream::iter(page), (following, fetch_page))))
        },
    );
    pages.try_flatten().boxed()
}

/// The keyset of Merkle nodes: creation order.
pub(crate) fn node_key(node: &StoredNode) -> (i64, i64) {
    (to_i64(node.id.leaf_end()), i64::from(node.id.level()))
}

/// The keyset of checkpoints: by tree size.
pub(crate) fn checkpoint_key(checkpoint: &StoredCheckpoint) -> (i64, i64) {
    (
        to_i64(checkpoint.tree_size),
        to_i64(checkpoint.checkpoint_id),
    )
}

/// Rebuilds the outcome of an earlier append from the rows it wrote.
pub(crate) fn receipt(
    request_hash: &[u8],
    stream: String,
    rows: Vec<(i64, i64, Vec<u8>)>,
) -> Result<CommandReceipt, StoreError> {
    let request_hash = column_hash(request_hash, -1, "request_hash")?;
    let records = rows
        .into_iter()
        .map(|(position, version, hash)| {
            Ok(Appended {
                position: column_u64(position, position, "position")?,
                version: column_u64(version, position, "version")?,
                hash: column_hash(&hash, position, "hash")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(CommandReceipt {
        request_hash,
        outcome: AppendOutcome {
            stream,
            records,
            replayed: true,
        },
    })
}

/// The outcome of a fresh append.
pub(crate) fn fresh_outcome(stream: &str, sealed: &[SealedRecord]) -> AppendOutcome {
    AppendOutcome {
        stream: stream.to_owned(),
        records: sealed
            .iter()
            .map(|record| Appended {
                position: record.record.position,
                version: record.record.version,
                hash: record.hash,
            })
            .collect(),
        replayed: false,
    }
}

/// Decides what an append does when its command id has been seen before.
pub(crate) fn replay_or_duplicate(
    request: &AppendRequest,
    earlier: CommandReceipt,
) -> Result<AppendOutcome, StoreError> {
    if earlier.request_hash == request.command.request_hash {
        Ok(earlier.outcome)
    } else {
        Err(StoreError::Duplicate {
            command_id: request.command.command_id.clone(),
        })
    }
}

/// True when a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

/// The conflict error for a request that found its stream at `actual`.
pub(crate) fn conflict(request: &AppendRequest, actual: u64) -> StoreError {
    StoreError::Conflict {
        stream: request.stream.clone(),
        expected: request.expected_version,
        actual,
    }
}

/// Streams the log from `from_position` page by page: `fetch_page(next)` returns up to
/// [`READ_PAGE_RECORDS`] rows at positions ≥ `next`, so at most two pages are held in memory.
///
/// From the second page on (a long scan: `verify`, `rebuild`), the page after the one being
/// consumed is fetched and decoded in a task of its own meanwhile, so reading overlaps the
/// consumer's work; a reader that takes only the first page (`catch_up`) never causes a
/// fetch it does not use. A prefetch still running when the stream is dropped is aborted.
pub(crate) fn paged<'a, F, Fut>(
    from_position: u64,
    fetch_page: F,
) -> BoxStream<'a, Result<StoredRecord, StoreError>>
where
    F: Fn(i64) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Vec<RecordRow>, StoreError>> + Send + 'static,
{
    let pages = stream::try_unfold(
        (
            Some(to_i64(from_position)),
            None::<Prefetch>,
            0_u64,
            fetch_page,
        ),
        |(next, prefetched, fetched, fetch_page)| async move {
            let Some(next) = next else {
                return Ok::<_, StoreError>(None);
            };
            let page = match prefetched {
                Some(prefetch) if prefetch.start == next => prefetch.finish().await?,
                _ => fetch_page(next).await?,
            };
            let full = page.len() as i64 == READ_PAGE_RECORDS;
            let following = page.last().filter(|_| full).map(|row| row.0 + 1);
            let prefetch = following
                .filter(|_| fetched >= 1)
                .map(|start| Prefetch::spawn(start, fetch_page(start)));
            let page: Vec<Result<StoredRecord, StoreError>> =
                page.into_iter().map(stored_record).collect();
            Ok(Some((
                stream::iter(page),
                (following, prefetch, fetched + 1, fetch_page),
            )))
        },
    );
    pages.try_flatten().boxed()
}

/// A page being fetched in its own task; aborted when dropped unused.
struct Prefetch {
    start: i64,
    task: Option<tokio::task::JoinHandle<Result<Vec<RecordRow>, StoreError>>>,
}

impl Prefetch {
    fn spawn(
        start: i64,
        fetch: impl Future<Output = Result<Vec<RecordRow>, StoreError>> + Send + 'static,
    ) -> Self {
        Prefetch {
            start,
            task: Some(tokio::spawn(fetch)),
        }
    }

    async fn finish(mut self) -> Result<Vec<RecordRow>, StoreError> {
        let task = self.task.take().expect("a prefetch is finished once");
        task.await
            .map_err(|error| StoreError::Database(format!("reading a page failed: {error}")))?
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Tells waiters in this process how large the log has grown.
#[derive(Debug, Clone)]
pub(crate) struct Growth {
    sender: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for Growth {
    fn default() -> Self {
        Growth {
            sender: Arc::new(tokio::sync::watch::channel(0).0),
        }
    }
}

impl Growth {
    /// Announces that the log now holds `tree_size` records.
    pub(crate) fn grew_to(&self, tree_size: u64) {
        self.sender.send_if_modified(|known| {
            let grew = tree_size > *known;
            if grew {
                *known = tree_size;
            }
            grew
        });
    }

    /// Waits until an announced size exceeds `tree_size`, or `timeout` passes.
    pub(crate) async fn wait(&self, tree_size: u64, timeout: Duration) {
        let mut receiver = self.sender.subscribe();
        let grown = receiver.wait_for(|known| *known > tree_size);
        let _ = tokio::time::timeout(timeout, grown).await;
    }
}

/// Waits until `current_tree_size()` exceeds `tree_size` or `timeout` passes, sleeping on
/// `growth` between looks; returns the last size seen. A wake-up is only a hint to look again.
pub(crate) async fn wait_until_grown<F, Fut>(
    growth: &Growth,
    tree_size: u64,
    timeout: Duration,
    current_tree_size: F,
) -> Result<u64, StoreError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let known = current_tree_size().await?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if known > tree_size || left.is_zero() {
            return Ok(known);
        }
        growth.wait(tree_size, left).await;
    }
}

/// At most this many commands are appended by one [`EventStore::append_batch`] (one transaction).
pub const BATCH_REQUESTS_MAX: usize = 1_024;

const _: () = assert!(BATCH_REQUESTS_MAX <= ROWS_PER_INSERT_MAX * 4);

/// What a batch appends, decided under the head lock before any row is written.
pub(crate) struct BatchPlan {
    /// One result per request, in order.
    pub(crate) results: Vec<Result<AppendOutcome, StoreError>>,
    /// Every record to insert, in position order, contiguous from the locked head.
    pub(crate) sealed: Vec<SealedRecord>,
    /// The idempotency rows: command id, request hash, stream, first position, event count.
    pub(crate) commands: Vec<ExportedCommand>,
    /// The head after the batch.
    pub(crate) head: LockedHead,
}

/// Plans a batch against the locked head: each request is checked in order against what the
/// store holds (`receipts` of its command ids, `versions` of its streams) and against the requests
/// accepted before it in the same batch, then sealed after them. A refused request (conflict,
/// duplicate, data with no canonical form) gets its error and leaves the others untouched; the same
/// command id twice returns the first outcome (`replayed`) exactly as it would across batches.
///
/// # Panics
/// When the sealed records are not contiguous from the locked head or do not link (a bug).
pub(crate) fn plan_batch(
    locked: &LockedHead,
    requests: &[AppendRequest],
    receipts: &std::collections::HashMap<String, CommandReceipt>,
    mut versions: std::collections::HashMap<String, u64>,
    now: jiff::Timestamp,
) -> BatchPlan {
    assert!(requests.len() <= BATCH_REQUESTS_MAX);
    let mut head = locked.clone();
    let mut accepted: std::collections::HashMap<&str, CommandReceipt> =
        std::collections::HashMap::new();
    let mut plan = BatchPlan {
        results: Vec::with_capacity(requests.len()),
        sealed: Vec::new(),
        commands: Vec::new(),
        head: locked.clone(),
    };
    for request in requests {
        let command_id = request.command.command_id.as_str();
        let earlier = accepted
            .get(command_id)
            .or_else(|| receipts.get(command_id));
        if let Some(earlier) = earlier {
            plan.results
                .push(replay_or_duplicate(request, earlier.clone()));
            continue;
        }
        let actual = versions.get(&request.stream).copied().unwrap_or(0);
        if actual != request.expected_version {
            plan.results.push(Err(conflict(request, actual)));
            continue;
        }
        let (sealed, recorded_at) = match seal_append(&head, request, now) {
            Ok(done) => done,
            Err(error) => {
                plan.results.push(Err(error));
                continue;
            }
        };
        let outcome = fresh_outcome(&request.stream, &sealed);
        let last = sealed.last().expect("an append has at least one record");
        plan.commands.push(ExportedCommand {
            command_id: command_id.to_owned(),
            request_hash: request.command.request_hash,
            stream: request.stream.clone(),
            first_position: head.tree_size,
            event_count: sealed.len() as u64,
        });
        versions.insert(request.stream.clone(), last.record.version);
        head = LockedHead {
            tree_size: last.record.position + 1,
            head_hash: last.hash,
            recorded_at_last: recorded_at,
        };
        let replayed = AppendOutcome {
            replayed: true,
            ..outcome.clone()
        };
        accepted.insert(
            command_id,
            CommandReceipt {
                request_hash: request.command.request_hash,
                outcome: replayed,
            },
        );
        plan.sealed.extend(sealed);
        plan.results.push(Ok(outcome));
    }
    assert_contiguous(locked, &plan.sealed);
    plan.head = head;
    plan
}

/// Asserts that `sealed` continues the chain at the locked head: positions contiguous from
/// `tree_size`, each `prev` the hash before it.
fn assert_contiguous(locked: &LockedHead, sealed: &[SealedRecord]) {
    let mut prev = locked.head_hash;
    for (offset, record) in sealed.iter().enumerate() {
        assert_eq!(record.record.position, locked.tree_size + offset as u64);
        assert_eq!(record.record.prev, prev);
        prev = record.hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_connection_failures_are_unavailable_and_statement_failures_are_not() {
        for unavailable in [
            "08006", "08003", "08001", "57P01", "57P02", "57P03", "53300",
        ] {
            assert!(postgres_state_is_unavailable(unavailable), "{unavailable}");
        }
        // Unique violation, serialization failure, syntax error, raise_exception (the triggers).
        for failed in ["23505", "40001", "42601", "P0001"] {
            assert!(!postgres_state_is_unavailable(failed), "{failed}");
        }
    }

    #[test]
    fn sqlite_busy_and_io_failures_are_unavailable_and_constraint_failures_are_not() {
        // BUSY, BUSY_SNAPSHOT (517), LOCKED, IOERR_WRITE (778), FULL, CANTOPEN.
        for unavailable in [5, 517, 6, 778, 13, 14] {
            assert!(sqlite_code_is_unavailable(unavailable), "{unavailable}");
        }
        // CONSTRAINT_UNIQUE (2067), CONSTRAINT_TRIGGER (1811), ERROR, CORRUPT.
        for failed in [2067, 1811, 1, 11] {
            assert!(!sqlite_code_is_unavailable(failed), "{failed}");
        }
    }

    #[test]
    fn a_pool_that_timed_out_or_a_broken_socket_is_unavailable() {
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(StoreError::from(sqlx::Error::Io(reset)).is_unavailable());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unavailable());
    }
}
