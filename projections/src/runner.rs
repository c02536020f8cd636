//! Keeping projections in SQL tables: catch up from the checkpoint, rebuild from position 0, and
//! a loop that wakes on every append.
//!
//! **Invariant:** a batch's rows and its checkpoint are committed together and only from the
//! checkpoint the batch was folded from ([`ViewStore::commit`]), so no record is ever skipped or
//! applied twice — after a crash, or with several runners on one database.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use infra::record::Record;
use infra::store::{EventStore, StoreError};
use infra::views::{RowChange, StoredRow, ViewStore};

use crate::{FoldError, Folded, Projection};

/// At most this many records are folded per transaction.
pub const BATCH_RECORDS_MAX: usize = 1_000;

/// How long the live loop waits for an append before looking again on its own.
pub const IDLE_WAIT: Duration = Duration::from_secs(5);

/// Why a projection could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The log or the tables could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record could not be folded.
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// A stored row is not the JSON of its projection's row type.
    #[error("stored row {key} of projection {projection} is unreadable: {reason}")]
    Row {
        /// Projection name.
        projection: &'static str,
        /// Row key.
        key: String,
        /// Why.
        reason: String,
    },
}

/// Folds every record not yet in `P`'s table into it, batch by batch; returns the checkpoint
/// reached (the number of records folded).
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record or row is unreadable.
pub async fn catch_up<P: Projection>(
    events: &dyn EventStore,
    views: &dyn ViewStore,
) -> Result<u64, RunnerError> {
    loop {
        let from = views.checkpoint(P::NAME).await?;
        let batch: Vec<Record> = read_batch(events, from).await?;
        if batch.is_empty() {
            return Ok(from);
        }
        let to = from + batch.len() as u64;
        let changes = fold_batch::<P>(views, &batch).await?;
        // A refused commit means another runner moved the checkpoint first: fold again from it.
        if !views.commit(P::NAME, from, to, changes).await? {
            tracing::debug!(projection = P::NAME, from, "another runner got there first");
        }
    }
}

async fn read_batch(events: &dyn EventStore, from: u64) -> Result<Vec<Record>, RunnerError> {
    let stored: Vec<_> = events
        .read_all(from)
        .take(BATCH_RECORDS_MAX)
        .try_collect()
        .await?;
    let mut records = Vec::with_capacity(stored.len());
    for (offset, stored) in stored.into_iter().enumerate() {
        assert_eq!(stored.position, from + offset as u64, "the log has a gap");
        let record = stored.record().map_err(|error| FoldError {
            position: stored.position,
            event_type: String::new(),
            reason: error.to_string(),
        })?;
        records.push(record);
    }
    Ok(records)
}

/// Folds a batch into the rows it touches and returns the changes to write.
async fn fold_batch<P: Projection>(
    views: &dyn ViewStore,
    batch: &[Record],
) -> Result<Vec<RowChange>, RunnerError> {
    let keys: BTreeSet<String> = batch.iter().filter_map(P::key).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut rows: BTreeMap<String, Option<P::Row>> =
        keys.iter().map(|key| (key.clone(), None)).collect();
    for (key, body) in views.rows(P::NAME, &keys).await? {
        let row = serde_json::from_str(&body).map_err(|error| RunnerError::Row {
            projection: P::NAME,
            key: key.clone(),
            reason: error.to_string(),
        })?;
        rows.insert(key, Some(row));
    }
    for record in batch {
        if let Some(key) = P::key(record) {
            let row = rows.get_mut(&key).and_then(Option::take);
            let folded = P::apply(row, record)?;
            rows.insert(key, folded);
        }
    }
    rows.into_iter()
        .map(|(key, row)| {
            let board = row.as_ref().and_then(P::board_columns);
            let body = row.map(|row| serde_json::to_string(&row)).transpose();
            let body = body.map_err(|error| RunnerError::Row {
                projection: P::NAME,
                key: key.clone(),
                reason: error.to_string(),
            })?;
            Ok(RowChange { key, body, board })
        })
        .collect()
}

/// A projection folded in memory for a rebuild, whatever its row type: lets one read of the log
/// feed several projections ([`rebuild_all`]).
pub trait Rebuilding: Send {
    /// The projection's name.
    fn name(&self) -> &'static str;
    /// Folds the next record.
    ///
    /// # Errors
    /// [`FoldError`] when the record cannot be read.
    fn apply(&mut self, record: &Record) -> Result<(), FoldError>;
    /// How many records have been folded.
    fn records_folded(&self) -> u64;
    /// The rows as stored: key, JSON text and (for the board) columns, ordered by key.
    ///
    /// # Errors
    /// When a row cannot be serialised (a bug).
    fn rows_to_store(&self) -> Result<Vec<StoredRow>, serde_json::Error>;
}

impl<P: Projection> Rebuilding for Folded<P> {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn apply(&mut self, record: &Record) -> Result<(), FoldError> {
        Folded::apply(self, record)
    }

    fn records_folded(&self) -> u64 {
        Folded::records_folded(self)
    }

    fn rows_to_store(&self) -> Result<Vec<StoredRow>, serde_json::Error> {
        Folded::rows_to_store(self)
    }
}

/// Folds the whole log in memory and replaces `P`'s table with the result in one transaction.
/// `progress(records_folded, tree_size)` is called as it goes. Returns the records folded.
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record is unreadable.
pub async fn rebuild<P: Projection>(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    progress: impl FnMut(u64, u64),
) -> Result<u64, RunnerError> {
    let mut folded = Folded::<P>::default();
    rebuild_all(events, views, &mut [&mut folded], progress).await
}

/// Folds the whole log once, each record decoded once and applied to every projection in
/// `folds` (each starting empty), then replaces each projection's table with its result, one
/// transaction per projection. `progress(records_read, tree_size)` is called as it goes.
/// Returns the records read.
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record is unreadable.
pub async fn rebuild_all(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    folds: &mut [&mut dyn Rebuilding],
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, RunnerError> {
    let tree_size = events.head().await?.tree_size;
    let mut read = 0_u64;
    let mut records = events.read_all(0);
    while let Some(stored) = records.try_next().await? {
        if stored.position >= tree_size {
            break;
        }
        let record = stored.record().map_err(|error| FoldError {
            position: stored.position,
            event_type: String::new(),
            reason: error.to_string(),
        })?;
        for fold in folds.iter_mut() {
            fold.apply(&record)?;
        }
        read += 1;
        if read % BATCH_RECORDS_MAX as u64 == 0 {
            progress(read, tree_size);
        }
    }
    progress(read, tree_size);
    for fold in folds.iter() {
        let rows = fold.rows_to_store().map_err(|error| RunnerError::Row {
            projection: fold.name(),
            key: String::new(),
            reason: error.to_string(),
        })?;
        views
            .replace(fold.name(), fold.records_folded(), rows)
            .await?;
    }
    Ok(read)
}

/// Keeps `P`'s table current until `shutdown` completes: catches up, then waits for the log to
/// grow (woken by appends) and catches up again.
///
/// # Errors
/// [`RunnerError`] when catching up fails; the caller decides whether to restart.
pub async fn run<P: Projection>(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunnerError> {
    tokio::pin!(shutdown);
    loop {
        let reached = catch_up::<P>(events, views).await?;
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            grown = events.wait_for_growth(reached, IDLE_WAIT) => { grown?; }
        }
    }
}
