//! The PostgreSQL backend (production): the ledger head row is locked `FOR UPDATE` by every
//! append, so several server processes on one database still produce one gap-free chain.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;

use crate::export::{ExportReader, ExportedCommand, RestoreError};
use crate::merkle::NodeId;
use crate::record::Hash;
use crate::store::command_key;
use crate::verify::{VerifiedLog, VerifyOptions};

use super::{
    checkpoint_key, column_hash, column_u64, keyset_pages, node_key, paged, stored_record,
    wait_until_grown, AppendOutcome, AppendRequest, Backend, CommandReceipt, EventStore, Growth,
    LedgerHead, NewCheckpoint, NewCosignature, RecordRow, StoreError, StoredCheckpoint, StoredNode,
    StoredRecord, READ_PAGE_RECORDS, RECORD_COLUMNS,
};

mod append;

/// The SQL shared with the other backend, for Postgres.
mod rows {
    super::super::rows::backend_rows!(sqlx::Postgres, sqlx::PgConnection);
}

/// True when the head counts records the Merkle tree does not hold yet. The tree's leaves are
/// `0..n` with no gap (nodes are only ever appended), so its size is the last leaf's index + 1:
/// one primary-key lookup, not a count of every leaf (1.6 s at 1,000,000 records).
const TREE_LAGS: &str =
    "SELECT tree_size > COALESCE((SELECT MAX(node_index) + 1 FROM merkle_nodes \
     WHERE level = 0), 0) FROM ledger_head WHERE id = 1";

/// The connections a PostgreSQL store holds at most, unless told otherwise.
pub(super) const CONNECTIONS_MAX: u32 = 16;
/// The NOTIFY channel on which every append announces the new tree size is this prefix and the
/// ledger's schema: channels are per database, and several ledgers may share one database.
const GROWTH_CHANNEL_PREFIX: &str = "huiyin_log_";
/// How long a statement waits for a connection (all busy, or the server away: sqlx keeps trying
/// to connect until then) before it fails as [`super::StoreError::Unavailable`]. Shorter than the
/// HTTP request timeout, so a database that is away is answered 503, not 408.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL event store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    growth: Growth,
    /// The head this process left after its own last append (ADR 0012): a guess the next
    /// append is planned against, checked by its write statement. Held by the append running.
    known: std::sync::Arc<tokio::sync::Mutex<Option<append::KnownHead>>>,
    listener: std::sync::Arc<tokio::sync::OnceCell<()>>,
    channel: String,
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names and migrates it.
    ///
    /// # Errors
    /// [`StoreError`] when the server cannot be reached or the schema cannot be migrated.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, CONNECTIONS_MAX).await
    }

    /// As [`PostgresStore::connect`], holding at most `connections_max` connections (plus one
    /// listening for growth). Many processes on one server share its `max_connections`.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    pub async fn connect_with(url: &str, connections_max: u32) -> Result<Self, StoreError> {
        assert!(connections_max >= 1, "a pool needs a connection");
        let options: PgConnectOptions =
            url.parse()
                .map_err(|error: sqlx::Error| StoreError::BadUrl {
                    url: url.to_owned(),
                    reason: error.to_string(),
                })?;
        let pool = PgPoolOptions::new()
            .max_connections(connections_max)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        // sqlx's migrator takes an advisory lock, so processes starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        // A ledger older than its Merkle tree gets its tree now, under the append lock.
        let lags: bool = sqlx::query_scalar(TREE_LAGS).fetch_one(&pool).await?;
        if lags {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT tree_size FROM ledger_head WHERE id = 1 FOR UPDATE")
                .execute(&mut *tx)
                .await?;
            rows::backfill_tree(&mut tx).await?;
            tx.commit().await?;
        }
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        let channel = format!("{GROWTH_CHANNEL_PREFIX}{schema}");
        Ok(PostgresStore {
            pool,
            growth: Growth::default(),
            known: Default::default(),
            listener: Default::default(),
            channel,
        })
    }

    /// The connection pool, for projections and tests in this workspace.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The Merkle tree's size and right border as an append reads them (its peaks, tallest
    /// first), for tests: they must be `merkle::range_nodes(0, tree_size)`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn right_border(&self) -> Result<(u64, Vec<(NodeId, Hash)>), StoreError> {
        let mut connection = self.pool.acquire().await?;
        append::read_right_border(&mut connection).await
    }

    /// Records a written batch: its head is the next append's guess; waiters learn the growth.
    fn appended(
        &self,
        known: &mut Option<append::KnownHead>,
        planned: append::Planned,
    ) -> Vec<Result<AppendOutcome, StoreError>> {
        let after = planned.known_after();
        self.growth.grew_to(after.head.tree_size);
        *known = Some(after);
        planned.plan.results
    }

    /// Starts, once, a task that turns NOTIFYs of appends from any process into growth
    /// announcements. If it cannot listen, waiters still wake when their timeout ends.
    async fn listen(&self) {
        let pool = self.pool.clone();
        let growth = self.growth.clone();
        let channel = self.channel.clone();
        self.listener
            .get_or_init(|| async move {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(error) = listener.listen(&channel).await {
                            tracing::warn!(%error, "cannot LISTEN for appends; polling instead");
                            return;
                        }
                        tokio::spawn(async move {
                            while let Ok(notification) = listener.recv().await {
                                if let Ok(tree_size) = notification.payload().parse::<u64>() {
                                    growth.grew_to(tree_size);
                                }
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot LISTEN for appends; polling instead")
                    }
                }
            })
            .await;
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn append_batch(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Result<AppendOutcome, StoreError>>, StoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        assert!(requests.len() <= super::BATCH_REQUESTS_MAX);
        // The connection first, so appends waiting for one (the database away) wait together;
        // then the process's appends queue here, each holding its connection: they would queue
        // on the head row's lock anyway, and one at a time each may plan against the head the
        // one before left (ADR 0012).
        let mut connection = self.pool.acquire().await?;
        let mut known = self.known.lock().await;
        // 1. Against the head this process left: one round trip when nobody else appended.
        if let Some(guess) = known.take() {
            let planned = append::plan(append::BatchState::assumed(guess, &requests), &requests);
            if !planned.writes_nothing()
                && append::write_batch(&mut connection, &planned, &self.channel).await?
            {
                return Ok(self.appended(&mut known, planned));
            }
        }
        // 2. Against the state read in one snapshot: two round trips, no transaction.
        let state = append::read_batch_state(&mut connection, &requests).await?;
        let planned = append::plan(state, &requests);
        if planned.writes_nothing() {
            return Ok(planned.plan.results);
        }
        if append::write_batch(&mut connection, &planned, &self.channel).await? {
            return Ok(self.appended(&mut known, planned));
        }
        // 3. Another process appended in between: under the head lock the write cannot miss.
        let mut tx = sqlx::Connection::begin(&mut *connection).await?;
        // The lock on the head row serialises appends across every process on this database.
        // It is a statement of its own: the read after it takes its snapshot once the lock is
        // held, so it sees every append committed before.
        sqlx::query("SELECT tree_size FROM ledger_head WHERE id = 1 FOR UPDATE")
            .execute(&mut *tx)
            .await?;
        let state = append::read_batch_state(&mut tx, &requests).await?;
        let planned = append::plan(state, &requests);
        if planned.writes_nothing() {
            return Ok(planned.plan.results);
        }
        if !append::write_batch(&mut tx, &planned, &self.channel).await? {
            return Err(StoreError::Database(
                "the ledger refused a batch planned under its head lock: it does not continue the head"
                    .to_owned(),
            ));
        }
        tx.commit().await?;
        Ok(self.appended(&mut known, planned))
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
            "SELECT {RECORD_COLUMNS} FROM events WHERE stream = $1 ORDER BY version"
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
                "SELECT {RECORD_COLUMNS} FROM events WHERE position >= $1 ORDER BY position LIMIT $2"
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
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT tree_size FROM ledger_head WHERE id = 1 FOR UPDATE")
            .execute(&mut *tx)
            .await?;
        let verified = rows::restore_into(&mut tx, reader, options).await?;
        tx.commit().await?;
        *self.known.lock().await = None;
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
            tree_size: column_u64(tree_size, tree_size, "tree_size")?,
            head_hash: column_hash(&head_hash, tree_size, "head_hash")?,
        })
    }

    async fn wait_for_growth(&self, tree_size: u64, timeout: Duration) -> Result<u64, StoreError> {
        self.listen().await;
        wait_until_grown(&self.growth, tree_size, timeout, || async {
            Ok(self.head().await?.tree_size)
        })
        .await
    }
}
