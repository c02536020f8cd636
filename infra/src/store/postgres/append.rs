//! The PostgreSQL append in few round trips (ADR 0012).
//!
//! A batch is planned in Rust (`store::plan_batch`, sealing, `CompactRange`) against a state
//! read in ONE statement ([`READ_BATCH_STATE`]: head, receipts, stream versions, Merkle peaks,
//! one snapshot), and written by ONE statement ([`WRITE_BATCH`]) with fixed text and array
//! parameters, which moves the head only from the head the batch was planned against
//! (compare-and-set under the head row's lock) and only when the chain it carries continues that
//! head (positions `tree_size..`, first `prev` the head hash, each `prev` the hash before it,
//! the new head its last record) and the command ids and stream versions it was planned
//! against still hold; otherwise it writes nothing.
//!
//! Three ways to run it, tried in order:
//! 1. *Known head* (one round trip): the head and right border this process left after its own
//!    last append, with no receipts and each stream at the version its first request expects —
//!    the write statement checks all of it.
//! 2. *Read, then write* (two round trips, no transaction): the state read in one snapshot.
//! 3. *Locked* (BEGIN, `FOR UPDATE`, read, write, COMMIT): when another process moved the head
//!    in between; under the lock the write cannot miss.

use std::collections::HashMap;

use sqlx::PgConnection;

use crate::export::ExportedCommand;
use crate::merkle::{range_nodes, CompactRange, NodeId};
use crate::record::Hash;
use crate::store::{
    column_hash, column_u64, node_hashes, plan_batch, receipt, to_i64, AppendRequest, BatchPlan,
    CommandReceipt, LockedHead, StoreError,
};

/// The head and the Merkle tree's right border, as this process left them after its own last
/// append. Only a guess: [`WRITE_BATCH`] checks it.
#[derive(Debug, Clone)]
pub(super) struct KnownHead {
    pub(super) head: LockedHead,
    pub(super) range: CompactRange,
}

/// What a batch is planned against.
pub(super) struct BatchState {
    head: LockedHead,
    range: CompactRange,
    receipts: HashMap<String, CommandReceipt>,
    versions: HashMap<String, u64>,
}

impl BatchState {
    /// The state a known head implies for `requests`: no command id seen before, each stream at
    /// the version its first request in the batch was decided against.
    pub(super) fn assumed(known: KnownHead, requests: &[AppendRequest]) -> Self {
        let mut versions = HashMap::new();
        for request in requests {
            versions
                .entry(request.stream.clone())
                .or_insert(request.expected_version);
        }
        BatchState {
            head: known.head,
            range: known.range,
            receipts: HashMap::new(),
            versions,
        }
    }
}

/// Everything a batch is planned against, in ONE statement (one snapshot, so consistent): the
/// head (kind 0), the receipts of the batch's command ids (1) with their records (2), the
/// current version of each of its streams (3), and the Merkle tree's peaks (4): for a tree of n
/// leaves, node (l, (n >> l) − 1) for each level l where bit l of n is set — exactly
/// `merkle::range_nodes(0, n)`.
const READ_BATCH_STATE: &str = "\
WITH head AS (SELECT tree_size, head_hash, recorded_at_last FROM ledger_head WHERE id = 1), \
found AS (SELECT command_id, request_hash, stream, first_position, event_count FROM commands \
          WHERE command_id = ANY($1::TEXT[])) \
SELECT 0 AS kind, recorded_at_last AS name, NULL::TEXT AS other, tree_size AS a, \
       NULL::BIGINT AS b, head_hash AS hash FROM head \
UNION ALL \
SELECT 1, command_id, stream, first_position, event_count::BIGINT, request_hash FROM found \
UNION ALL \
SELECT 2, found.command_id, NULL, e.position, e.version, e.hash FROM found CROSS JOIN LATERAL \
       (SELECT position, version, hash FROM events WHERE position >= found.first_position \
        AND position < found.first_position + found.event_count) AS e \
UNION ALL \
SELECT 3, s.stream, NULL, (SELECT MAX(version) FROM events WHERE events.stream = s.stream), \
       NULL, NULL FROM UNNEST($2::TEXT[]) AS s(stream) \
UNION ALL \
SELECT 4, NULL, NULL, n.level, n.node_index, n.hash \
FROM head CROSS JOIN generate_series(0, 62) AS l(level) \
JOIN merkle_nodes n ON n.level = l.level AND n.node_index = (head.tree_size >> l.level) - 1 \
WHERE ((head.tree_size >> l.level) & 1) = 1";

/// One row of [`READ_BATCH_STATE`]: kind, name, other, a, b, hash.
type StateRow = (
    i32,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
);

/// Writes a planned batch in ONE statement, or nothing. Parameters: $1 the head it was planned
/// against (tree size), $2 (hash); $3 the head after it (tree size), $4 (hash), $5 its last
/// `recorded_at`; $6 the NOTIFY channel; $7–$15 the records' columns; $16–$19 the Merkle nodes
/// completed; $20–$24 the idempotency rows; $25 the command ids planned as never seen; $26, $27
/// each stream of the batch and the version it was planned against (0: none).
///
/// The UPDATE of the head takes its row lock; if another append moved it meanwhile, PostgreSQL
/// re-checks the WHERE clause against the new row and it no longer matches, so every insert
/// (each conditional on the UPDATE's row) writes nothing. When it does match, no append
/// committed since this statement's snapshot (every append moves the head), so the checks of
/// command ids and versions read the current state. Returns how many rows of each kind went
/// in: head, records, nodes, commands, notifications.
const WRITE_BATCH: &str = "\
WITH batch_events AS ( \
  SELECT * FROM UNNEST($7::BIGINT[], $8::TEXT[], $9::BIGINT[], $10::TEXT[], $11::TEXT[], \
                       $12::TEXT[], $13::BYTEA[], $14::BYTEA[], $15::BYTEA[]) \
  WITH ORDINALITY AS e(position, stream, version, event_type, command_id, recorded_at, \
                       canonical, hash, prev, n)), \
fits AS (SELECT \
  (SELECT COUNT(*) FROM batch_events) = $3 - $1 \
  AND NOT EXISTS (SELECT 1 FROM batch_events e LEFT JOIN batch_events p ON p.n = e.n - 1 \
                  WHERE e.position <> $1 + e.n - 1 OR e.prev <> COALESCE(p.hash, $2)) \
  AND $4 = (SELECT hash FROM batch_events ORDER BY n DESC LIMIT 1) \
  AND $20::TEXT[] <@ $25::TEXT[] \
  AND NOT EXISTS (SELECT 1 FROM commands WHERE command_id = ANY($25::TEXT[])) \
  AND NOT EXISTS (SELECT 1 FROM UNNEST($26::TEXT[], $27::BIGINT[]) AS v(stream, version) \
                  WHERE COALESCE((SELECT MAX(x.version) FROM events x \
                                  WHERE x.stream = v.stream), 0) <> v.version) \
  AS ok), \
moved AS (UPDATE ledger_head SET tree_size = $3, head_hash = $4, recorded_at_last = $5 \
  WHERE id = 1 AND tree_size = $1 AND head_hash = $2 AND (SELECT ok FROM fits) \
  RETURNING tree_size), \
new_events AS (INSERT INTO events (position, stream, version, event_type, command_id, \
                                   recorded_at, canonical, hash, prev) \
  SELECT position, stream, version, event_type, command_id, recorded_at, canonical, hash, prev \
  FROM batch_events WHERE EXISTS (SELECT 1 FROM moved) RETURNING 1), \
new_nodes AS (INSERT INTO merkle_nodes (level, node_index, leaf_end, hash) \
  SELECT * FROM UNNEST($16::BIGINT[], $17::BIGINT[], $18::BIGINT[], $19::BYTEA[]) \
  WHERE EXISTS (SELECT 1 FROM moved) RETURNING 1), \
new_commands AS (INSERT INTO commands (command_id, request_hash, stream, first_position, \
                                       event_count) \
  SELECT * FROM UNNEST($20::TEXT[], $21::BYTEA[], $22::TEXT[], $23::BIGINT[], $24::INT[]) \
  WHERE EXISTS (SELECT 1 FROM moved) RETURNING 1), \
announced AS (SELECT pg_notify($6, tree_size::TEXT) FROM moved) \
SELECT (SELECT COUNT(*) FROM moved), (SELECT COUNT(*) FROM new_events), \
       (SELECT COUNT(*) FROM new_nodes), (SELECT COUNT(*) FROM new_commands), \
       (SELECT COUNT(*) FROM announced)";

/// Reads what a batch of `requests` is planned against, in one statement.
pub(super) async fn read_batch_state(
    connection: &mut PgConnection,
    requests: &[AppendRequest],
) -> Result<BatchState, StoreError> {
    let mut command_ids: Vec<String> = requests
        .iter()
        .map(|request| request.command.command_id.clone())
        .collect();
    command_ids.sort_unstable();
    command_ids.dedup();
    let mut streams: Vec<String> = requests
        .iter()
        .map(|request| request.stream.clone())
        .collect();
    streams.sort_unstable();
    streams.dedup();
    let rows: Vec<StateRow> = sqlx::query_as(READ_BATCH_STATE)
        .bind(command_ids)
        .bind(streams)
        .fetch_all(&mut *connection)
        .await?;
    batch_state(rows)
}

/// The Merkle tree's right border as [`READ_BATCH_STATE`] reads it: the peaks' ids and hashes,
/// tallest first, and the tree size.
pub(super) async fn read_right_border(
    connection: &mut PgConnection,
) -> Result<(u64, Vec<(NodeId, Hash)>), StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(READ_BATCH_STATE)
        .bind(Vec::<String>::new())
        .bind(Vec::<String>::new())
        .fetch_all(&mut *connection)
        .await?;
    let (tree_size, peaks) = peaks_of(&rows)?;
    let mut found: Vec<(NodeId, Hash)> = Vec::with_capacity(peaks.len());
    for (level, index, hash) in peaks {
        let id = NodeId::new(
            u32::try_from(level).map_err(|_| corrupt_node(level, index))?,
            column_u64(index, -1, "node_index")?,
        );
        found.push((id, column_hash(&hash, -1, "hash")?));
    }
    found.sort_by_key(|(id, _)| std::cmp::Reverse(id.level()));
    Ok((tree_size, found))
}

fn corrupt_node(level: i64, index: i64) -> StoreError {
    StoreError::Corrupt {
        position: -1,
        reason: format!("Merkle node ({level}, {index}) is out of range"),
    }
}

/// The head's tree size and the peak rows (level, index, hash) of a [`READ_BATCH_STATE`] answer.
#[allow(clippy::type_complexity)]
fn peaks_of(rows: &[StateRow]) -> Result<(u64, Vec<(i64, i64, Vec<u8>)>), StoreError> {
    let mut tree_size = None;
    let mut peaks = Vec::new();
    for (kind, _, _, a, b, hash) in rows {
        match (kind, a, b, hash) {
            (0, Some(size), _, _) => tree_size = Some(column_u64(*size, *size, "tree_size")?),
            (4, Some(level), Some(index), Some(hash)) => peaks.push((*level, *index, hash.clone())),
            _ => {}
        }
    }
    let tree_size = tree_size.ok_or_else(|| StoreError::Database("no ledger head".to_owned()))?;
    Ok((tree_size, peaks))
}

/// Decodes the rows of [`READ_BATCH_STATE`].
fn batch_state(rows: Vec<StateRow>) -> Result<BatchState, StoreError> {
    let malformed =
        |kind: i32| StoreError::Database(format!("batch state row of kind {kind} is malformed"));
    let mut head = None;
    let mut found: Vec<(String, String, Vec<u8>)> = Vec::new();
    let mut records: HashMap<String, Vec<(i64, i64, Vec<u8>)>> = HashMap::new();
    let mut versions = HashMap::new();
    let mut peaks = Vec::new();
    for (kind, name, other, a, b, hash) in rows {
        match kind {
            0 => {
                let (Some(recorded_at_last), Some(tree_size), Some(head_hash)) = (name, a, hash)
                else {
                    return Err(malformed(kind));
                };
                head = Some(LockedHead {
                    tree_size: column_u64(tree_size, tree_size, "tree_size")?,
                    head_hash: column_hash(&head_hash, tree_size, "head_hash")?,
                    recorded_at_last,
                });
            }
            1 => {
                let (Some(command_id), Some(stream), Some(request_hash)) = (name, other, hash)
                else {
                    return Err(malformed(kind));
                };
                found.push((command_id, stream, request_hash));
            }
            2 => {
                let (Some(command_id), Some(position), Some(version), Some(hash)) =
                    (name, a, b, hash)
                else {
                    return Err(malformed(kind));
                };
                records
                    .entry(command_id)
                    .or_default()
                    .push((position, version, hash));
            }
            3 => {
                let Some(stream) = name else {
                    return Err(malformed(kind));
                };
                if let Some(version) = a {
                    versions.insert(stream, column_u64(version, -1, "version")?);
                }
            }
            4 => {
                let (Some(level), Some(index), Some(hash)) = (a, b, hash) else {
                    return Err(malformed(kind));
                };
                let leaf_end = (index + 1)
                    .checked_shl(u32::try_from(level).map_err(|_| corrupt_node(level, index))?)
                    .ok_or_else(|| corrupt_node(level, index))?;
                peaks.push((level, index, leaf_end, hash));
            }
            _ => return Err(malformed(kind)),
        }
    }
    let head = head.ok_or_else(|| StoreError::Database("no ledger head".to_owned()))?;
    let mut receipts = HashMap::with_capacity(found.len());
    for (command_id, stream, request_hash) in found {
        let mut own = records.remove(&command_id).unwrap_or_default();
        own.sort_unstable_by_key(|(position, ..)| *position);
        receipts.insert(command_id, receipt(&request_hash, stream, own)?);
    }
    let ids = range_nodes(0, head.tree_size);
    let range = CompactRange::from_peaks(head.tree_size, node_hashes(&ids, peaks)?);
    Ok(BatchState {
        head,
        range,
        receipts,
        versions,
    })
}

/// A batch planned and turned into the write statement's arrays.
pub(super) struct Planned {
    pub(super) plan: BatchPlan,
    /// The right border after the batch.
    pub(super) range: CompactRange,
    arrays: Option<BatchArrays>,
}

impl Planned {
    /// The head and right border after the batch, for the next one.
    pub(super) fn known_after(&self) -> KnownHead {
        KnownHead {
            head: self.plan.head.clone(),
            range: self.range.clone(),
        }
    }

    /// True when the batch writes nothing (every request refused or replayed).
    pub(super) fn writes_nothing(&self) -> bool {
        self.arrays.is_none()
    }
}

/// The write statement's parameters.
#[derive(Default)]
struct BatchArrays {
    base_tree_size: i64,
    base_hash: Vec<u8>,
    tree_size: i64,
    head_hash: Vec<u8>,
    recorded_at_last: String,
    positions: Vec<i64>,
    streams: Vec<String>,
    versions: Vec<i64>,
    event_types: Vec<String>,
    event_command_ids: Vec<String>,
    recorded_ats: Vec<String>,
    canonicals: Vec<Vec<u8>>,
    hashes: Vec<Vec<u8>>,
    prevs: Vec<Vec<u8>>,
    node_levels: Vec<i64>,
    node_indexes: Vec<i64>,
    node_leaf_ends: Vec<i64>,
    node_hashes: Vec<Vec<u8>>,
    command_ids: Vec<String>,
    request_hashes: Vec<Vec<u8>>,
    command_streams: Vec<String>,
    first_positions: Vec<i64>,
    event_counts: Vec<i32>,
    unseen_ids: Vec<String>,
    checked_streams: Vec<String>,
    checked_versions: Vec<i64>,
}

/// Plans `requests` against `state` (pure: `plan_batch`, sealing, the Merkle nodes completed).
pub(super) fn plan(state: BatchState, requests: &[AppendRequest]) -> Planned {
    let BatchState {
        head,
        mut range,
        receipts,
        versions,
    } = state;
    assert_eq!(range.tree_size(), head.tree_size);
    let mut checked: Vec<(String, i64)> = requests
        .iter()
        .map(|request| {
            let version = versions.get(&request.stream).copied().unwrap_or(0);
            (request.stream.clone(), to_i64(version))
        })
        .collect();
    checked.sort_unstable();
    checked.dedup();
    let mut unseen_ids: Vec<String> = requests
        .iter()
        .map(|request| request.command.command_id.clone())
        .filter(|command_id| !receipts.contains_key(command_id))
        .collect();
    unseen_ids.sort_unstable();
    unseen_ids.dedup();
    let plan = plan_batch(&head, requests, &receipts, versions, jiff::Timestamp::now());
    if plan.sealed.is_empty() {
        return Planned {
            plan,
            range,
            arrays: None,
        };
    }
    let mut arrays = BatchArrays {
        base_tree_size: to_i64(head.tree_size),
        base_hash: head.head_hash.as_bytes().to_vec(),
        tree_size: to_i64(plan.head.tree_size),
        head_hash: plan.head.head_hash.as_bytes().to_vec(),
        recorded_at_last: plan.head.recorded_at_last.clone(),
        ..BatchArrays::default()
    };
    for sealed in &plan.sealed {
        let record = &sealed.record;
        arrays.positions.push(to_i64(record.position));
        arrays.streams.push(record.stream.clone());
        arrays.versions.push(to_i64(record.version));
        arrays.event_types.push(record.event_type.clone());
        arrays.event_command_ids.push(record.command_id.clone());
        arrays.recorded_ats.push(record.recorded_at.clone());
        arrays.canonicals.push(sealed.canonical.clone());
        arrays.hashes.push(sealed.hash.as_bytes().to_vec());
        arrays.prevs.push(record.prev.as_bytes().to_vec());
        for (id, hash) in range.append(sealed.hash) {
            arrays.node_levels.push(i64::from(id.level()));
            arrays.node_indexes.push(to_i64(id.index()));
            arrays.node_leaf_ends.push(to_i64(id.leaf_end()));
            arrays.node_hashes.push(hash.as_bytes().to_vec());
        }
    }
    assert_eq!(range.tree_size(), plan.head.tree_size);
    for command in &plan.commands {
        push_command(&mut arrays, command);
    }
    arrays.unseen_ids = unseen_ids;
    (arrays.checked_streams, arrays.checked_versions) = checked.into_iter().unzip();
    Planned {
        plan,
        range,
        arrays: Some(arrays),
    }
}

fn push_command(arrays: &mut BatchArrays, command: &ExportedCommand) {
    arrays.command_ids.push(command.command_id.clone());
    arrays
        .request_hashes
        .push(command.request_hash.as_bytes().to_vec());
    arrays.command_streams.push(command.stream.clone());
    arrays.first_positions.push(to_i64(command.first_position));
    arrays
        .event_counts
        .push(i32::try_from(command.event_count).expect("a command has few events"));
}

/// Runs the write statement: true when the batch was written, false when the head or what the
/// batch was planned against no longer holds (nothing written).
///
/// # Panics
/// When the batch writes nothing (see [`Planned::writes_nothing`]), or the database reports a
/// partial write (impossible: one statement).
pub(super) async fn write_batch(
    connection: &mut PgConnection,
    planned: &Planned,
    channel: &str,
) -> Result<bool, StoreError> {
    let arrays = planned
        .arrays
        .as_ref()
        .expect("only a batch that writes is written");
    let (moved, events, nodes, commands, announced): (i64, i64, i64, i64, i64) =
        sqlx::query_as(WRITE_BATCH)
            .bind(arrays.base_tree_size)
            .bind(&arrays.base_hash)
            .bind(arrays.tree_size)
            .bind(&arrays.head_hash)
            .bind(&arrays.recorded_at_last)
            .bind(channel)
            .bind(&arrays.positions)
            .bind(&arrays.streams)
            .bind(&arrays.versions)
            .bind(&arrays.event_types)
            .bind(&arrays.event_command_ids)
            .bind(&arrays.recorded_ats)
            .bind(&arrays.canonicals)
            .bind(&arrays.hashes)
            .bind(&arrays.prevs)
            .bind(&arrays.node_levels)
            .bind(&arrays.node_indexes)
            .bind(&arrays.node_leaf_ends)
            .bind(&arrays.node_hashes)
            .bind(&arrays.command_ids)
            .bind(&arrays.request_hashes)
            .bind(&arrays.command_streams)
            .bind(&arrays.first_positions)
            .bind(&arrays.event_counts)
            .bind(&arrays.unseen_ids)
            .bind(&arrays.checked_streams)
            .bind(&arrays.checked_versions)
            .fetch_one(&mut *connection)
            .await?;
    if moved == 0 {
        assert_eq!((events, nodes, commands, announced), (0, 0, 0, 0));
        return Ok(false);
    }
    assert_eq!(moved, 1);
    assert_eq!(events as usize, arrays.positions.len());
    assert_eq!(nodes as usize, arrays.node_levels.len());
    assert_eq!(commands as usize, arrays.command_ids.len());
    assert_eq!(announced, 1);
    Ok(true)
}
