//! `verify`'s scan of a SQLite ledger ([`EventStore::scan_log`](super::EventStore::scan_log)):
//! a read-only connection of its own on the same file, through rusqlite (on the same
//! libsqlite3 as sqlx), stepped on the blocking thread that calls it (ADR 0015).
//!
//! sqlx runs each SQLite connection on a worker thread and hands every row to the async caller
//! through a channel; over the millions of rows of a full scan those wake-ups cost more than
//! SQLite's own work. Here the rows are read where they are decoded and leave this thread
//! 1,024 records at a time. The head, the records and the Merkle nodes are read in ONE read
//! transaction: in WAL mode it sees the snapshot its first read saw until it ends, so appends
//! made meanwhile (by this process or another) neither show up half-way nor block it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Row, Rows};

use super::{
    column_hash, column_u64, stored_node, stored_record, LedgerHead, LogChunk, LogChunkSender,
    NodeRow, RecordRow, StoreError, StoredNode, RECORD_COLUMNS,
};
use crate::merkle::LEVEL_MAX;
use crate::verify::{tree_nodes, VERIFY_CHUNK_RECORDS};

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        let unavailable = matches!(
            error.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen)
        );
        if unavailable {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::Database(error.to_string())
        }
    }
}

/// Reads the ledger at `path` as [`EventStore::scan_log`](super::EventStore::scan_log) says:
/// the head, then every record and every Merkle node in chunks sent to `to_check`; returns the
/// head. Blocks: run it on a blocking thread.
///
/// # Errors
/// When the file cannot be opened or the head read (then no chunk was sent).
pub(super) fn scan_log(
    path: &str,
    busy_timeout: Duration,
    to_check: &LogChunkSender,
) -> Result<LedgerHead, StoreError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(busy_timeout)?;
    // Deferred: the snapshot is taken by the first read, the head's.
    connection.execute_batch("BEGIN")?;
    let (tree_size, head_hash) = connection.query_row(
        "SELECT tree_size, head_hash FROM ledger_head WHERE id = 1",
        [],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)),
    )?;
    let head = LedgerHead {
        tree_size: column_u64(tree_size, tree_size, "tree_size")?,
        head_hash: column_hash(&head_hash, tree_size, "head_hash")?,
    };
    let mut records = connection.prepare(&format!(
        "SELECT {RECORD_COLUMNS} FROM events ORDER BY position"
    ))?;
    let mut records = records.query([])?;
    // The nodes in append order, `(leaf_end, level)`, merged from one primary-key range scan
    // per level: the index on `(leaf_end, level)` would cost a table lookup per node.
    let mut levels = (0..=LEVEL_MAX)
        .map(|_| {
            connection.prepare(
                "SELECT level, node_index, leaf_end, hash FROM merkle_nodes WHERE level = ?1 \
                 ORDER BY node_index",
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let levels = levels
        .iter_mut()
        .zip(0_i64..)
        .map(|(statement, level)| statement.query([level]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut nodes = Nodes::new(levels);
    let mut leaves = 0_u64;
    loop {
        let (chunk, error) = next_records(&mut records);
        let full = chunk.len() == VERIFY_CHUNK_RECORDS;
        if !chunk.is_empty() {
            let end = leaves + chunk.len() as u64;
            let nodes = nodes.take(tree_nodes(end) - tree_nodes(leaves));
            leaves = end;
            let chunk = LogChunk {
                records: chunk,
                nodes,
            };
            if to_check.blocking_send(Ok(chunk)).is_err() {
                return Ok(head);
            }
        }
        if let Some(error) = error {
            // The records before the error were sent first.
            let _stopped = to_check.blocking_send(Err(error));
            return Ok(head);
        }
        if !full {
            break;
        }
    }
    let last = LogChunk {
        records: Vec::new(),
        nodes: nodes.take(1),
    };
    let _stopped = to_check.blocking_send(Ok(last));
    Ok(head)
}

/// Up to [`VERIFY_CHUNK_RECORDS`] next records, and the error that stopped the read early.
fn next_records(rows: &mut Rows<'_>) -> (Vec<super::StoredRecord>, Option<StoreError>) {
    let mut chunk = Vec::with_capacity(VERIFY_CHUNK_RECORDS);
    while chunk.len() < VERIFY_CHUNK_RECORDS {
        let record = match rows.next() {
            Ok(None) => break,
            Ok(Some(row)) => record_row(row)
                .map_err(StoreError::from)
                .and_then(stored_record),
            Err(error) => Err(error.into()),
        };
        match record {
            Ok(record) => chunk.push(record),
            Err(error) => return (chunk, Some(error)),
        }
    }
    (chunk, None)
}

fn record_row(row: &Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn node_row(row: &Row<'_>) -> rusqlite::Result<NodeRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

/// A level's next row as the merge orders it: `(leaf_end, level, slot, hash, node_index)`.
type NextRow = (i64, i64, usize, Vec<u8>, i64);

/// The stored nodes in append order, `(leaf_end, level)`, merged from one cursor per level
/// (within a level, `leaf_end` grows with `node_index`: the table's CHECK), handed out by count.
struct Nodes<'a> {
    levels: Vec<Rows<'a>>,
    /// Each level's next row, smallest `(leaf_end, level)` first.
    next: BinaryHeap<Reverse<NextRow>>,
    /// A read failed: handed out next, then nothing.
    failed: Option<StoreError>,
    ended: bool,
}

impl<'a> Nodes<'a> {
    fn new(levels: Vec<Rows<'a>>) -> Self {
        let mut nodes = Nodes {
            next: BinaryHeap::with_capacity(levels.len()),
            levels,
            failed: None,
            ended: false,
        };
        for slot in 0..nodes.levels.len() {
            nodes.advance(slot);
        }
        nodes
    }

    /// Reads level `slot`'s next row into the heap.
    fn advance(&mut self, slot: usize) {
        if self.failed.is_some() {
            return;
        }
        let row = match self.levels[slot].next() {
            Ok(None) => return,
            Ok(Some(row)) => node_row(row),
            Err(error) => Err(error),
        };
        match row {
            Ok((level, node_index, leaf_end, hash)) => {
                self.next
                    .push(Reverse((leaf_end, level, slot, hash, node_index)));
            }
            Err(error) => self.failed = Some(error.into()),
        }
    }

    fn next_node(&mut self) -> Option<Result<StoredNode, StoreError>> {
        if let Some(error) = self.failed.take() {
            return Some(Err(error));
        }
        let Reverse((leaf_end, level, slot, hash, node_index)) = self.next.pop()?;
        self.advance(slot);
        Some(stored_node((level, node_index, leaf_end, hash)))
    }

    /// The next `count` nodes: fewer when the table ends, or after an error, the last.
    fn take(&mut self, count: u64) -> Vec<Result<StoredNode, StoreError>> {
        let mut taken = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        while !self.ended && (taken.len() as u64) < count {
            let Some(node) = self.next_node() else {
                self.ended = true;
                break;
            };
            self.ended = node.is_err();
            taken.push(node);
        }
        taken
    }
}
