//! The embedded SQLite backend (the default): WAL, `synchronous=FULL`, and `BEGIN IMMEDIATE`
//! as the lock on the ledger head, which also holds across processes sharing the file.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::export::{ExportReader, ExportedCommand, RestoreError};
use crate::merkle::NodeId;
use crate::record::Hash;
use crate::store::command_key;
use crate::verify::{VerifiedLog, VerifyOptions};

use super::{
    checkpoint_key, keyset_pages, node_key, paged, stored_record, wait_until_grown, AppendOutcome,
    AppendRequest, Backend, CommandReceipt, EventStore, Growth, LedgerHead, LockedHead,
    LogChunkSender, NewCheckpoint, NewCosignature, RecordRow, StoreError, StoredCheckpoint,
    StoredNode, StoredRecord, READ_PAGE_RECORDS, RECORD_COLUMNS,
};

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The SQL shared with the other backend, for Sqlite.
mod rows {
    super::super::rows::backend_rows!(sqlx::Sqlite, sqlx::SqliteConnection);
    super::super::rows::sequential_append_rows!(sqlx::Sqlite, sqlx::SqliteConnection);
}

/// True when the head counts records the Merkle tree does not hold yet. The tree's leaves are
/// `0..n` with no gap (nodes are only ever appended), so its size is the last leaf's index + 1:
/// one primary-key lookup, not a count of every leaf (1.6 s at 1,000,000 records).
const TREE_LAGS: &str =
    "SELECT tree_size > COALESCE((SELECT MAX(node_index) + 1 FROM merkle_nodes \
     WHERE level = 0), 0) FROM ledger_head WHERE id = 1";

const CONNECTIONS_MAX: u32 = 8;

/// The SQLite event store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    growth: Growth,
    pool: SqlitePool,
    /// The database file, which `verify` opens again for its scan (`None` in memory).
    file: Option<String>,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database file at `path`.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(CONNECTIONS_MAX)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        // A ledger older than its Merkle tree gets its tree now, under the append lock.
        let lags: bool = sqlx::query_scalar(TREE_LAGS).fetch_one(&pool).await?;
        if lags {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            rows::backfill_tree(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(SqliteStore {
            pool,
            growth: Growth::default(),
            file: (path != ":memory:").then(|| path.to_owned()),
        })
    }

    /// The connection pool, for projections and tests in this workspace.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn append_batch(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Result<AppendOutcome, StoreError>>, StoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        // BEGIN IMMEDIATE takes the write lock: it is the lock on the head, across processes.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (tree_size, head_hash, recorded_at_last): (i64, Vec<u8>, String) = sqlx::query_as(
            "SELECT tree_size, head_hash, recorded_at_last FROM ledger_head WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let head = LockedHead {
            tree_size: super::column_u64(tree_size, tree_size, "tree_size")?,
            head_hash: super::column_hash(&head_hash, tree_size, "head_hash")?,
            recorded_at_last,
        };
        let plan = rows::append_batch_in(&mut tx, &head, &requests).await?;
        tx.commit().await?;
        self.growth.grew_to(plan.head.tree_size);
        Ok(plan.results)
    }

    async fn find_command(&self, command_id: &str) -> Result<Option<CommandReceipt>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::receipt_in(&mut connection, command_id).await
    }

    async fn find_commands(
        &self,
        command_ids: &[&str],
    ) -> Result<HashMap<String, CommandReceipt>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::receipts_in(&mut connection, command_ids).await
    }

    async fn read_stream(&self, stream: &str) -> Result<Vec<StoredRecord>, StoreError> {
        let rows: Vec<RecordRow> = sqlx::query_as(&format!(
            "SELECT {RECORD_COLUMNS} FROM events WHERE stream = ? ORDER BY version"
        ))
        .bind(stream)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(stored_record).collect()
    }

    fn read_all(&self, from_position: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        let pool = self.pool.clone();
        paged(from_position, move |next| {
            let pool = pool.clone();
            async move {
                let rows: Vec<RecordRow> = sqlx::query_as(&format!(
                "SELECT {RECORD_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?"
            ))
                .bind(next)
                .bind(READ_PAGE_RECORDS)
                .fetch_all(&pool)
                .await?;
                Ok(rows)
            }
        })
    }

    async fn merkle_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::fetch_nodes(&mut connection, ids).await
    }

    fn read_merkle_nodes(&self) -> BoxStream<'_, Result<StoredNode, StoreError>> {
        keyset_pages((0, -1), node_key, move |after| async move {
            let mut connection = self.pool.acquire().await?;
            rows::nodes_page(&mut connection, after, READ_PAGE_RECORDS).await
        })
    }

    fn read_commands(&self) -> BoxStream<'_, Result<ExportedCommand, StoreError>> {
        keyset_pages((-1, 0), command_key, move |after| async move {
            let mut connection = self.pool.acquire().await?;
            rows::commands_page(&mut connection, after, READ_PAGE_RECORDS).await
        })
    }

    async fn restore(
        &self,
        reader: ExportReader,
        options: &VerifyOptions,
    ) -> Result<VerifiedLog, RestoreError> {
        // The same lock appends take: nobody appends while the ledger is being restored.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let verified = rows::restore_into(&mut tx, reader, options).await?;
        tx.commit().await?;
        Ok(verified)
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::latest_checkpoint(&mut connection).await
    }

    async fn add_checkpoint(
        &self,
        checkpoint: NewCheckpoint,
    ) -> Result<StoredCheckpoint, StoreError> {
        let recorded_at = crate::record::format_recorded_at(jiff::Timestamp::now());
        let mut connection = self.pool.acquire().await?;
        rows::insert_checkpoint(&mut connection, &checkpoint, &recorded_at).await?;
        Ok(StoredCheckpoint {
            checkpoint_id: checkpoint.checkpoint_id,
            tree_size: checkpoint.tree_size,
            root: checkpoint.root,
            note: checkpoint.note,
            recorded_at,
            cosignatures: Vec::new(),
        })
    }

    fn read_checkpoints(&self) -> BoxStream<'_, Result<StoredCheckpoint, StoreError>> {
        keyset_pages((-1, -1), checkpoint_key, move |after| async move {
            let mut connection = self.pool.acquire().await?;
            rows::checkpoints_page(&mut connection, after, READ_PAGE_RECORDS).await
        })
    }

    async fn add_cosignature(&self, cosignature: NewCosignature) -> Result<bool, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::insert_cosignature(&mut connection, &cosignature).await
    }

    async fn latest_cosigned_by(
        &self,
        witness: &str,
        key_id: u32,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::latest_cosigned_by(&mut connection, witness, key_id).await
    }

    async fn head(&self) -> Result<LedgerHead, StoreError> {
        let (tree_size, head_hash): (i64, Vec<u8>) =
            sqlx::query_as("SELECT tree_size, head_hash FROM ledger_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(LedgerHead {
            tree_size: super::column_u64(tree_size, tree_size, "tree_size")?,
            head_hash: super::column_hash(&head_hash, tree_size, "head_hash")?,
        })
    }

    async fn scan_log(&self, to_check: LogChunkSender) -> Result<LedgerHead, StoreError> {
        let Some(file) = self.file.clone() else {
            return crate::verify::scan_log_streamed(self, to_check).await;
        };
        tokio::task::spawn_blocking(move || {
            super::sqlite_scan::scan_log(&file, BUSY_TIMEOUT, &to_check)
        })
        .await
        .expect("the scan does not panic")
    }

    async fn wait_for_growth(&self, tree_size: u64, timeout: Duration) -> Result<u64, StoreError> {
        // Appends by other processes on the same file do not wake us: the timeout bounds the wait.
        wait_until_grown(&self.growth, tree_size, timeout, || async {
            Ok(self.head().await?.tree_size)
        })
        .await
    }
}
