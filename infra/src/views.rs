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

use crate::store::{PostgresStore, SqliteStore, StoreError};

/// One row to write: `Some(body)` upserts it, `None` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    /// The entity's key (e.g. the item id).
    pub key: String,
    /// The row as JSON text, or `None` to delete it.
    pub body: Option<String>,
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

    /// Replaces every row of `projection` and sets its checkpoint to `to`, atomically (a rebuild).
    async fn replace(
        &self,
        projection: &str,
        to: u64,
        rows: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let mut rebuild = self.begin_rebuild(&[projection]).await?;
        let changes = rows
            .into_iter()
            .map(|(key, body)| RowChange {
                key,
                body: Some(body),
            })
            .collect();
        rebuild.write(projection, changes).await?;
        rebuild.finish(&[(projection, to)]).await
    }

    /// Starts a rebuild of `projections`: one transaction in which their rows are all deleted,
    /// then written as they are folded ([`Rebuild::write`]) and read back when needed again
    /// ([`Rebuild::rows`]). Nothing is visible to anyone else until [`Rebuild::finish`]
    /// commits, and dropping it unfinished rolls everything back. On PostgreSQL the checkpoints
    /// of `projections` are locked first, so a live runner's commit waits for the rebuild (and
    /// is then refused, or finds the rows it folded from unchanged); on SQLite the transaction
    /// holds the write lock throughout (`BEGIN IMMEDIATE`), so appends wait for the rebuild.
    async fn begin_rebuild(&self, projections: &[&str]) -> Result<Box<dyn Rebuild>, StoreError>;
}

/// A rebuild in progress: its own transaction ([`ViewStore::begin_rebuild`]).
#[async_trait]
pub trait Rebuild: Send {
    /// The rows among `keys` written so far in this rebuild, as `(key, body)`.
    async fn rows(
        &mut self,
        projection: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Writes `changes` (each key at most once): upserts, or deletes for `None`.
    async fn write(&mut self, projection: &str, changes: Vec<RowChange>) -> Result<(), StoreError>;

    /// Sets each projection's checkpoint and commits the whole rebuild.
    async fn finish(self: Box<Self>, checkpoints: &[(&str, u64)]) -> Result<(), StoreError>;
}

/// [`Rebuild`] over one database transaction.
struct RebuildTransaction<Db: sqlx::Database> {
    tx: sqlx::Transaction<'static, Db>,
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
    ($store:ty, $database:ty, $begin:literal, $lock:literal) => {
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
                    return Ok(false);
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
                tx.commit().await?;
                Ok(true)
            }

            async fn begin_rebuild(
                &self,
                projections: &[&str],
            ) -> Result<Box<dyn Rebuild>, StoreError> {
                let mut tx = self.pool().begin_with($begin).await?;
                for projection in projections {
                    sqlx::query(
                        "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0) \
                         ON CONFLICT (projection) DO NOTHING",
                    )
                    .bind(projection)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(concat!(
                        "SELECT position FROM projection_checkpoints WHERE projection = $1",
                        $lock
                    ))
                    .bind(projection)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM projection_rows WHERE projection = $1")
                        .bind(projection)
                        .execute(&mut *tx)
                        .await?;
                }
                Ok(Box::new(RebuildTransaction { tx }))
            }
        }

        #[async_trait]
        impl Rebuild for RebuildTransaction<$database> {
            async fn rows(
                &mut self,
                projection: &str,
                keys: &[String],
            ) -> Result<Vec<(String, String)>, StoreError> {
                let mut found = Vec::new();
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
                        query.build_query_as().fetch_all(&mut *self.tx).await?;
                    found.extend(rows);
                }
                Ok(found)
            }

            async fn write(
                &mut self,
                projection: &str,
                changes: Vec<RowChange>,
            ) -> Result<(), StoreError> {
                let (upserts, deletes): (Vec<RowChange>, Vec<RowChange>) =
                    changes.into_iter().partition(|change| change.body.is_some());
                for chunk in upserts.chunks(ROWS_PER_STATEMENT_MAX) {
                    let mut insert = sqlx::QueryBuilder::<$database>::new(
                        "INSERT INTO projection_rows (projection, row_key, body) ",
                    );
                    insert.push_values(chunk, |mut row, change| {
                        row.push_bind(projection)
                            .push_bind(&change.key)
                            .push_bind(&change.body);
                    });
                    insert.push(
                        " ON CONFLICT (projection, row_key) DO UPDATE SET body = excluded.body",
                    );
                    insert.build().execute(&mut *self.tx).await?;
                }
                for chunk in deletes.chunks(ROWS_PER_STATEMENT_MAX) {
                    let mut delete = sqlx::QueryBuilder::<$database>::new(
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

            async fn finish(
                self: Box<Self>,
                checkpoints: &[(&str, u64)],
            ) -> Result<(), StoreError> {
                let mut tx = self.tx;
                for (projection, to) in checkpoints {
                    sqlx::query(
                        "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2) \
                         ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
                    )
                    .bind(projection)
                    .bind(to_i64(*to))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

view_store_impl!(SqliteStore, sqlx::Sqlite, "BEGIN IMMEDIATE", "");
view_store_impl!(PostgresStore, sqlx::Postgres, "BEGIN", " FOR UPDATE");
