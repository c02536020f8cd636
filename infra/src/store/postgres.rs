//! The PostgreSQL backend (production): the ledger head row is locked `FOR UPDATE` by every
//! append, so several server processes on one database still produce one gap-free chain.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::merkle::NodeId;
use crate::record::Hash;

use super::{
    column_hash, column_u64, conflict, fresh_outcome, is_unique_violation, paged, paged_nodes,
    receipt, replay_or_duplicate, seal_append, stored_record, to_i64, wait_until_grown,
    AppendOutcome, AppendRequest, Backend, CommandReceipt, EventStore, Growth, LedgerHead,
    LockedHead, RecordRow, StoreError, StoredNode, StoredRecord, READ_PAGE_RECORDS, RECORD_COLUMNS,
};

/// The SQL shared with the other backend, for Postgres.
mod rows {
    super::super::rows::backend_rows!(sqlx::Postgres, sqlx::PgConnection);
}

const CONNECTIONS_MAX: u32 = 16;
/// The NOTIFY channel on which every append announces the new tree size is this prefix and the
/// ledger's schema: channels are per database, and several ledgers may share one database.
const GROWTH_CHANNEL_PREFIX: &str = "huiyin_log_";
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The PostgreSQL event store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    growth: Growth,
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
        let options: PgConnectOptions =
            url.parse()
                .map_err(|error: sqlx::Error| StoreError::BadUrl {
                    url: url.to_owned(),
                    reason: error.to_string(),
                })?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        // sqlx's migrator takes an advisory lock, so processes starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        let channel = format!("{GROWTH_CHANNEL_PREFIX}{schema}");
        Ok(PostgresStore {
            pool,
            growth: Growth::default(),
            listener: Default::default(),
            channel,
        })
    }

    /// The connection pool, for projections and tests in this workspace.
    pub fn pool(&self) -> &PgPool {
        &self.pool
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

    async fn receipt_in(
        connection: &mut PgConnection,
        command_id: &str,
    ) -> Result<Option<CommandReceipt>, StoreError> {
        let found: Option<(Vec<u8>, String, i64, i32)> = sqlx::query_as(
            "SELECT request_hash, stream, first_position, event_count FROM commands WHERE command_id = $1",
        )
        .bind(command_id)
        .fetch_optional(&mut *connection)
        .await?;
        let Some((request_hash, stream, first_position, event_count)) = found else {
            return Ok(None);
        };
        let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT position, version, hash FROM events WHERE position >= $1 AND position < $2 ORDER BY position",
        )
        .bind(first_position)
        .bind(first_position + i64::from(event_count))
        .fetch_all(&mut *connection)
        .await?;
        receipt(&request_hash, stream, rows).map(Some)
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The lock on the head row serialises appends across every process on this database.
        let (tree_size, head_hash, recorded_at_last): (i64, Vec<u8>, String) = sqlx::query_as(
            "SELECT tree_size, head_hash, recorded_at_last FROM ledger_head WHERE id = 1 FOR UPDATE",
        )
        .fetch_one(&mut *tx)
        .await?;
        if let Some(earlier) = Self::receipt_in(&mut tx, &request.command.command_id).await? {
            return replay_or_duplicate(&request, earlier);
        }
        let head = LockedHead {
            tree_size: column_u64(tree_size, tree_size, "tree_size")?,
            head_hash: column_hash(&head_hash, tree_size, "head_hash")?,
            recorded_at_last,
        };
        let actual: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1")
                .bind(&request.stream)
                .fetch_one(&mut *tx)
                .await?;
        let actual = column_u64(actual, -1, "version")?;
        if actual != request.expected_version {
            return Err(conflict(&request, actual));
        }
        let (sealed, recorded_at) = seal_append(&head, &request, jiff::Timestamp::now())?;
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO events (position, stream, version, event_type, command_id, recorded_at, canonical, hash, prev) ",
        );
        insert.push_values(&sealed, |mut row, sealed| {
            row.push_bind(to_i64(sealed.record.position))
                .push_bind(&sealed.record.stream)
                .push_bind(to_i64(sealed.record.version))
                .push_bind(&sealed.record.event_type)
                .push_bind(&sealed.record.command_id)
                .push_bind(&sealed.record.recorded_at)
                .push_bind(&sealed.canonical)
                .push_bind(sealed.hash.as_bytes().as_slice())
                .push_bind(sealed.record.prev.as_bytes().as_slice());
        });
        match insert.build().execute(&mut *tx).await {
            Err(error) if is_unique_violation(&error) => return Err(conflict(&request, actual)),
            other => other?,
        };
        let leaves: Vec<Hash> = sealed.iter().map(|record| record.hash).collect();
        rows::extend_tree(&mut tx, head.tree_size, &leaves).await?;
        let last = sealed.last().expect("an append has at least one record");
        sqlx::query("INSERT INTO commands (command_id, request_hash, stream, first_position, event_count) VALUES ($1, $2, $3, $4, $5)")
            .bind(&request.command.command_id)
            .bind(request.command.request_hash.as_bytes().as_slice())
            .bind(&request.stream)
            .bind(to_i64(head.tree_size))
            .bind(i32::try_from(sealed.len()).expect("EVENTS_PER_APPEND_MAX fits in i32"))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE ledger_head SET tree_size = $1, head_hash = $2, recorded_at_last = $3 WHERE id = 1")
            .bind(to_i64(last.record.position + 1))
            .bind(last.hash.as_bytes().as_slice())
            .bind(&recorded_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind((last.record.position + 1).to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.growth.grew_to(last.record.position + 1);
        Ok(fresh_outcome(&request.stream, &sealed))
    }

    async fn find_command(&self, command_id: &str) -> Result<Option<CommandReceipt>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let found = Self::receipt_in(&mut tx, command_id).await?;
        tx.commit().await?;
        Ok(found)
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
        paged(from_position, move |next| async move {
            let rows: Vec<RecordRow> = sqlx::query_as(&format!(
                "SELECT {RECORD_COLUMNS} FROM events WHERE position >= $1 ORDER BY position LIMIT $2"
            ))
            .bind(next)
            .bind(READ_PAGE_RECORDS)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows)
        })
    }

    async fn merkle_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        rows::fetch_nodes(&mut connection, ids).await
    }

    fn read_merkle_nodes(&self) -> BoxStream<'_, Result<StoredNode, StoreError>> {
        paged_nodes(move |after| async move {
            let mut connection = self.pool.acquire().await?;
            rows::nodes_page(&mut connection, after, READ_PAGE_RECORDS).await
        })
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
