//! Keeping projections in SQL tables: catch up from the checkpoint, rebuild from position 0, and
//! a loop that wakes on every append.
//!
//! **Invariant:** a batch's rows and its checkpoint are committed together and only from the
//! checkpoint the batch was folded from ([`ViewStore::commit`]), so no record is ever skipped or
//! applied twice — after a crash, or with several runners on one database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use infra::record::Record;
use infra::store::{EventStore, StoreError};
use infra::views::{Rebuild, RowChange, ViewStore};

use crate::{FoldError, Projection};

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
///
/// # Panics
/// For a projection that queues notices ([`Projection::QUEUES_NOTICES`]): its live runner is
/// [`crate::notices::catch_up`].
pub async fn catch_up<P: Projection>(
    events: &dyn EventStore,
    views: &dyn ViewStore,
) -> Result<u64, RunnerError> {
    assert!(
        !P::QUEUES_NOTICES,
        "{} queues notices as it folds: its live runner is notices::catch_up",
        P::NAME
    );
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

/// Up to [`BATCH_RECORDS_MAX`] records from position `from`.
pub(crate) async fn read_batch(
    events: &dyn EventStore,
    from: u64,
) -> Result<Vec<Record>, RunnerError> {
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

/// A rebuild keeps at most about this many rows of each projection in memory (plus those one
/// batch of [`BATCH_RECORDS_MAX`] records touches); the rest are written to the rebuild's
/// transaction and read back when a later record needs them. It bounds a rebuild's memory
/// whatever the number of items (a row is ~1–2 KB in memory).
pub const REBUILD_ROWS_CACHED_MAX: usize = 8_192;

/// A projection being rebuilt, whatever its row type: lets one read of the log feed several
/// projections ([`rebuild_all`]). Holds a bounded cache of rows; the runner decides when rows
/// are loaded and written, the fold itself stays [`Projection::apply`].
pub trait Rebuilding: Send {
    /// The projection's name.
    fn name(&self) -> &'static str;
    /// True when the rebuild must stop at the projection's live checkpoint
    /// ([`Projection::QUEUES_NOTICES`]).
    fn stops_at_live_checkpoint(&self) -> bool;
    /// Folds no record at or after `position` (the live checkpoint, for a projection that
    /// [`Rebuilding::stops_at_live_checkpoint`]).
    fn stop_at(&mut self, position: u64);
    /// The keys `records` touch whose rows are not in memory and may have been written out:
    /// to be read back and given to [`Rebuilding::load`]. (While nothing has been written out,
    /// a key not in memory has no row, and none is returned.)
    fn keys_to_load(&mut self, records: &[Record]) -> Vec<String>;
    /// Takes in the stored rows of `asked` (a key not among `found` has no row), as taken back
    /// from the rebuild ([`Rebuild::take_rows`]): each is written again when let go.
    ///
    /// # Errors
    /// [`RunnerError::Row`] when a stored row is not this projection's JSON.
    fn load(&mut self, asked: Vec<String>, found: Vec<(String, String)>)
        -> Result<(), RunnerError>;
    /// Folds the next record; its row must be in memory ([`Rebuilding::missing_keys`]).
    ///
    /// # Errors
    /// [`FoldError`] when the record cannot be read.
    fn apply(&mut self, record: &Record) -> Result<(), FoldError>;
    /// How many records have been folded.
    fn records_folded(&self) -> u64;
    /// When more rows than the bound are in memory, lets go of the least recently folded ones
    /// (down to three quarters of the bound) and returns those changed, to be written.
    ///
    /// # Errors
    /// [`RunnerError::Row`] when a row cannot be serialised (a bug).
    fn evict(&mut self) -> Result<Vec<RowChange>, RunnerError>;
    /// Lets go of every row and returns those changed, to be written.
    ///
    /// # Errors
    /// [`RunnerError::Row`] when a row cannot be serialised (a bug).
    fn drain(&mut self) -> Result<Vec<RowChange>, RunnerError>;
}

/// One row of a projection being rebuilt, in memory.
struct CachedRow<R> {
    /// `None`: no row (never made, or removed).
    row: Option<R>,
    /// To be written when let go: changed since last written, or taken back from the rebuild.
    dirty: bool,
    /// Position of the last record folded into it.
    last_folded: u64,
}

impl<R> CachedRow<R> {
    /// A key with no stored row, as read.
    const ABSENT: CachedRow<R> = CachedRow {
        row: None,
        dirty: false,
        last_folded: 0,
    };
}

/// `P` being rebuilt: a bounded cache of its rows ([`Rebuilding`]).
pub struct Rebuilt<P: Projection> {
    rows: HashMap<String, CachedRow<P::Row>>,
    /// No record at or after this position is folded.
    stop_at: u64,
    rows_cached_max: usize,
    records_folded: u64,
    /// Whether any row has been written out (so may be stored and not in memory).
    written_out: bool,
}

impl<P: Projection> Default for Rebuilt<P> {
    fn default() -> Self {
        Rebuilt::with_rows_cached_max(REBUILD_ROWS_CACHED_MAX)
    }
}

impl<P: Projection> Rebuilt<P> {
    /// A rebuild keeping at most about `rows_cached_max` rows in memory (at least one).
    pub fn with_rows_cached_max(rows_cached_max: usize) -> Self {
        Rebuilt {
            rows: HashMap::new(),
            stop_at: u64::MAX,
            rows_cached_max: rows_cached_max.max(1),
            records_folded: 0,
            written_out: false,
        }
    }

    fn let_go(&mut self, keys: Vec<String>) -> Result<Vec<RowChange>, RunnerError> {
        let mut changes = Vec::new();
        for key in keys {
            let Some(cached) = self.rows.remove(&key) else {
                continue;
            };
            if !cached.dirty {
                continue;
            }
            let board = cached.row.as_ref().and_then(P::board_columns);
            let body = cached
                .row
                .map(|row| serde_json::to_string(&row))
                .transpose();
            let body = body.map_err(|error| RunnerError::Row {
                projection: P::NAME,
                key: key.clone(),
                reason: error.to_string(),
            })?;
            changes.push(RowChange { key, body, board });
        }
        Ok(changes)
    }
}

impl<P: Projection> Rebuilding for Rebuilt<P>
where
    P::Row: Send,
{
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn stops_at_live_checkpoint(&self) -> bool {
        P::QUEUES_NOTICES
    }

    fn stop_at(&mut self, position: u64) {
        self.stop_at = position;
    }

    fn keys_to_load(&mut self, records: &[Record]) -> Vec<String> {
        let mut to_load = BTreeSet::new();
        for record in records {
            if record.position >= self.stop_at {
                break;
            }
            let Some(key) = P::key(record) else {
                continue;
            };
            if self.rows.contains_key(&key) || to_load.contains(&key) {
                continue;
            }
            // The first record of a key in this batch: its row is stored only if the key is
            // not new here and rows have been written out.
            if self.written_out && !P::opens_key(record) {
                to_load.insert(key);
            } else {
                self.rows.insert(key, CachedRow::ABSENT);
            }
        }
        to_load.into_iter().collect()
    }

    fn load(
        &mut self,
        asked: Vec<String>,
        found: Vec<(String, String)>,
    ) -> Result<(), RunnerError> {
        for key in asked {
            self.rows.entry(key).or_insert(CachedRow::ABSENT);
        }
        for (key, body) in found {
            let row = serde_json::from_str(&body).map_err(|error| RunnerError::Row {
                projection: P::NAME,
                key: key.clone(),
                reason: error.to_string(),
            })?;
            // Taken back from the rebuild ([`Rebuild::take_rows`]): written again when let go.
            self.rows.insert(
                key,
                CachedRow {
                    row: Some(row),
                    dirty: true,
                    last_folded: 0,
                },
            );
        }
        Ok(())
    }

    fn apply(&mut self, record: &Record) -> Result<(), FoldError> {
        if record.position >= self.stop_at {
            return Ok(());
        }
        assert_eq!(record.position, self.records_folded, "records out of order");
        if let Some(key) = P::key(record) {
            let cached = self
                .rows
                .get_mut(&key)
                .expect("a record's row is loaded before it is folded");
            cached.row = P::apply(cached.row.take(), record)?;
            cached.dirty = true;
            cached.last_folded = record.position;
        }
        self.records_folded += 1;
        Ok(())
    }

    fn records_folded(&self) -> u64 {
        self.records_folded
    }

    fn evict(&mut self) -> Result<Vec<RowChange>, RunnerError> {
        if self.rows.len() <= self.rows_cached_max {
            return Ok(Vec::new());
        }
        let keep = self.rows_cached_max * 3 / 4;
        let mut by_age: Vec<(u64, &String)> = self
            .rows
            .iter()
            .map(|(key, cached)| (cached.last_folded, key))
            .collect();
        let oldest = by_age.len() - keep;
        by_age.select_nth_unstable(oldest.saturating_sub(1));
        let keys: Vec<String> = by_age[..oldest]
            .iter()
            .map(|(_, key)| (*key).clone())
            .collect();
        let changes = self.let_go(keys)?;
        self.written_out = true;
        assert!(self.rows.len() <= self.rows_cached_max);
        Ok(changes)
    }

    fn drain(&mut self) -> Result<Vec<RowChange>, RunnerError> {
        let keys: Vec<String> = self.rows.keys().cloned().collect();
        self.let_go(keys)
    }
}

/// Folds the whole log and replaces `P`'s table with the result in one transaction.
/// `progress(records_folded, tree_size)` is called as it goes. Returns the records folded.
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record is unreadable.
pub async fn rebuild<P: Projection>(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    progress: impl FnMut(u64, u64),
) -> Result<u64, RunnerError> {
    let mut rebuilt = Rebuilt::<P>::default();
    rebuild_all(events, views, &mut [&mut rebuilt], progress).await
}

/// Folds the whole log once, each record decoded once and applied to every projection in
/// `folds` (each starting empty), and replaces their tables with the result, all in one
/// transaction ([`ViewStore::begin_rebuild`]): a reader sees the old tables until it commits.
/// Memory stays bounded whatever the size of the log: records are read and folded in batches
/// of [`BATCH_RECORDS_MAX`], each fold keeps a bounded cache of rows ([`Rebuilt`]), writing
/// rows out of it into the transaction and reading them back when a later record needs them.
/// `progress(records_read, tree_size)` is called as it goes. Returns the records read.
/// A projection that queues notices ([`Projection::QUEUES_NOTICES`]) is refolded only up to
/// its live checkpoint, which stays where it was: a rebuild queues nothing and skips nothing.
///
/// # Errors
/// [`RunnerError`] when the log or the tables fail, or a record is unreadable; then nothing
/// is changed.
pub async fn rebuild_all(
    events: &dyn EventStore,
    views: &dyn ViewStore,
    folds: &mut [&mut dyn Rebuilding],
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, RunnerError> {
    let names: Vec<&'static str> = folds.iter().map(|fold| fold.name()).collect();
    let mut rebuild = views.begin_rebuild(&names).await?;
    // Read under the rebuild's lock on the checkpoints: no live runner moves them meanwhile.
    for fold in folds.iter_mut() {
        if fold.stops_at_live_checkpoint() {
            let live = rebuild.checkpoint(fold.name()).await?;
            fold.stop_at(live);
        }
    }
    let tree_size = events.head().await?.tree_size;
    let mut read = 0_u64;
    let mut records = events.read_all(0);
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH_RECORDS_MAX);
    loop {
        let stored = records.try_next().await?;
        let more = stored
            .as_ref()
            .is_some_and(|stored| stored.position < tree_size);
        if let Some(stored) = stored.filter(|_| more) {
            assert_eq!(stored.position, read, "the log has a gap");
            let record = stored.record().map_err(|error| FoldError {
                position: stored.position,
                event_type: String::new(),
                reason: error.to_string(),
            })?;
            batch.push(record);
            read += 1;
        }
        if batch.len() == BATCH_RECORDS_MAX || (!more && !batch.is_empty()) {
            fold_rebuild_batch(&mut *rebuild, folds, &batch).await?;
            batch.clear();
            progress(read, tree_size);
        }
        if !more {
            break;
        }
    }
    drop(records);
    progress(read, tree_size);
    let mut checkpoints = Vec::with_capacity(folds.len());
    for fold in folds.iter_mut() {
        let changes = fold.drain()?;
        rebuild.write(fold.name(), changes).await?;
        checkpoints.push((fold.name(), fold.records_folded()));
    }
    rebuild.finish(&checkpoints).await?;
    Ok(read)
}

/// Takes back the rows `batch` needs that were written out, folds it into every projection, and
/// writes out the rows over each cache's bound.
async fn fold_rebuild_batch(
    rebuild: &mut dyn Rebuild,
    folds: &mut [&mut dyn Rebuilding],
    batch: &[Record],
) -> Result<(), RunnerError> {
    for fold in folds.iter_mut() {
        let missing = fold.keys_to_load(batch);
        if !missing.is_empty() {
            let found = rebuild.take_rows(fold.name(), &missing).await?;
            fold.load(missing, found)?;
        }
    }
    for record in batch {
        for fold in folds.iter_mut() {
            fold.apply(record)?;
        }
    }
    for fold in folds.iter_mut() {
        let changes = fold.evict()?;
        if !changes.is_empty() {
            rebuild.write(fold.name(), changes).await?;
        }
    }
    Ok(())
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
