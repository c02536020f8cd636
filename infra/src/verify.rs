//! Re-verifying the log: every record's bytes against its hash, every `prev` against its
//! predecessor, every position against the next expected one; the Merkle tree re-derived from
//! the records, node by node against the stored one; every checkpoint's root against the tree
//! at its size, its signature (given the ledger's key) and its cosignatures (given a witness
//! key); and the head row against the last record.
//!
//! The same [`LogVerifier`] checks a database ([`verify_store`]) and an export file
//! (`crate::export`). Memory stays bounded: records, nodes and checkpoints are streamed.

use std::collections::VecDeque;

use futures::stream::{BoxStream, Peekable};
use futures::{StreamExt, TryStreamExt};

use crate::canonical_scan::scan_record;
use crate::checkpoint::{open_checkpoint, verify_cosignatures, Checkpoint, CheckpointError};
use crate::merkle::{CompactRange, NodeId};
use crate::note::VerifierKey;
use crate::record::{leaf_hash, write_canonical_record, Hash, Record};
use crate::store::{
    EventStore, LedgerHead, LogChunk, LogChunkSender, StoreError, StoredCheckpoint, StoredNode,
    StoredRecord,
};

/// What an intact log ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLog {
    /// Number of records checked.
    pub tree_size: u64,
    /// Hash of the last record ([`Hash::ZERO`] for an empty log).
    pub head_hash: Hash,
    /// The RFC 6962 root of all the records.
    pub root: Hash,
    /// Number of checkpoints whose root was checked against the tree.
    pub checkpoints_checked: u64,
    /// The largest checkpoint size checked, if any.
    pub checkpoint_size: Option<u64>,
    /// True when every checkpoint's signature was checked with the ledger's key.
    pub signatures_checked: bool,
    /// The largest checkpoint size cosigned by the witness key given, if any.
    pub witnessed_size: Option<u64>,
}

/// Why verification stopped.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log is not intact; `position` is the first record found wrong (or, when only a
    /// signed checkpoint shows the damage, the first record no intact checkpoint vouches for).
    #[error("log broken at position {position}: {reason}")]
    Broken {
        /// The first bad position.
        position: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A checkpoint is not what the ledger (or the witness) signed: a signature or
    /// cosignature does not verify, or the stored row disagrees with its note.
    #[error("checkpoint of {tree_size} records is not genuine: {reason}")]
    BadCheckpoint {
        /// The checkpoint's tree size.
        tree_size: u64,
        /// What is wrong.
        reason: String,
    },
    /// The log could not be read.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for VerifyError {
    fn from(error: StoreError) -> Self {
        match error {
            // A row that cannot even be decoded is a broken record, not an outage.
            StoreError::Corrupt { position, reason } => VerifyError::Broken {
                position: u64::try_from(position).unwrap_or(0),
                reason,
            },
            other => VerifyError::Store(other),
        }
    }
}

/// The keys verification checks signatures with, and checkpoints held outside the database.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The ledger's verifier key: every checkpoint's signature must verify with it.
    pub key: Option<VerifierKey>,
    /// A witness's verifier key: every cosignature by it must verify.
    pub witness_key: Option<VerifierKey>,
    /// Signed checkpoint notes held outside the database (e.g. `--checkpoint FILE`).
    pub held_checkpoints: Vec<String>,
}

/// Checks records one at a time, in position order, keeping only the last hash.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_position: u64,
    prev: Hash,
    /// Reused for each record's canonical form.
    scratch: Vec<u8>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_position: 0,
            prev: Hash::ZERO,
            scratch: Vec::with_capacity(1_024),
        }
    }
}

impl ChainVerifier {
    /// Checks the next record.
    ///
    /// # Errors
    /// [`VerifyError::Broken`] naming the position when the record is not the true successor.
    pub fn check(&mut self, stored: &StoredRecord) -> Result<Record, VerifyError> {
        self.check_position(stored)?;
        let record =
            check_alone(stored, &mut self.scratch).map_err(|reason| self.broken(reason))?;
        self.check_prev(stored, &record.prev)?;
        Ok(record)
    }

    /// As [`ChainVerifier::check`], given what [`check_alone`] found of `stored` (the
    /// record's `prev`, or why it is not a record in canonical form), computed elsewhere:
    /// the same checks in the same order, so the same first error.
    ///
    /// # Errors
    /// As [`ChainVerifier::check`].
    pub fn check_with(
        &mut self,
        stored: &StoredRecord,
        alone: Result<Hash, String>,
    ) -> Result<(), VerifyError> {
        self.check_position(stored)?;
        let prev = alone.map_err(|reason| self.broken(reason))?;
        self.check_prev(stored, &prev)
    }

    fn broken(&self, reason: String) -> VerifyError {
        VerifyError::Broken {
            position: self.next_position,
            reason,
        }
    }

    fn check_position(&self, stored: &StoredRecord) -> Result<(), VerifyError> {
        if stored.position != self.next_position {
            return Err(self.broken(format!("found position {} instead", stored.position)));
        }
        Ok(())
    }

    /// The checks that need the chain so far; then moves on to the next position.
    fn check_prev(&mut self, stored: &StoredRecord, record_prev: &Hash) -> Result<(), VerifyError> {
        if *record_prev != self.prev {
            return Err(self.broken(format!(
                "prev is {record_prev}, but the previous record's hash is {}",
                self.prev
            )));
        }
        if stored.prev != self.prev {
            return Err(self.broken("the stored prev column does not match the chain".to_owned()));
        }
        self.next_position += 1;
        self.prev = stored.hash;
        Ok(())
    }

    /// Number of records checked so far.
    pub fn tree_size(&self) -> u64 {
        self.next_position
    }

    /// Hash of the last record checked.
    pub fn head_hash(&self) -> Hash {
        self.prev
    }
}

/// The checks of one stored record that need no other record: its bytes hash to its stored
/// hash, parse as a record, are that record's canonical form (written into `scratch`, reused),
/// and agree with its position, stream and version columns. Returns the record, or why not.
/// Independent of order, so a verifier may run it on other threads ([`verify_store`] does).
///
/// # Errors
/// The reason, as [`VerifyError::Broken`] would give it.
pub fn check_alone(stored: &StoredRecord, scratch: &mut Vec<u8>) -> Result<Record, String> {
    check_hash(stored)?;
    check_form(stored, scratch)
}

/// As [`check_alone`], returning only the record's `prev`, which is all the chain needs: bytes
/// in canonical form are recognised by [`scan_record`] without building the record (most of
/// the cost of [`check_alone`]); any other bytes are judged by [`check_alone`]'s own parse and
/// re-serialisation, so the reason given is the same.
///
/// # Errors
/// As [`check_alone`].
pub fn check_alone_prev(stored: &StoredRecord, scratch: &mut Vec<u8>) -> Result<Hash, String> {
    check_hash(stored)?;
    let Some(scanned) = scan_record(&stored.canonical) else {
        return check_form(stored, scratch).map(|record| record.prev);
    };
    check_columns((scanned.position, scanned.stream, scanned.version), stored)?;
    Ok(scanned.prev)
}

fn check_hash(stored: &StoredRecord) -> Result<(), String> {
    let computed_hash = leaf_hash(&stored.canonical);
    if computed_hash != stored.hash {
        return Err(format!(
            "stored bytes hash to {computed_hash}, but the stored hash is {}",
            stored.hash
        ));
    }
    Ok(())
}

fn check_form(stored: &StoredRecord, scratch: &mut Vec<u8>) -> Result<Record, String> {
    // The stored bytes are parsed once, straight into the record; its canonical form is
    // written from it into a reused buffer and compared with the stored bytes, so any other
    // spelling (member order, whitespace, escapes, an uppercase hash) is refused.
    let record: Record = serde_json::from_slice(&stored.canonical)
        .map_err(|error| format!("stored bytes are not a record: {error}"))?;
    scratch.clear();
    write_canonical_record(scratch, &record)
        .map_err(|error| format!("record has no canonical form: {error}"))?;
    if *scratch != stored.canonical {
        return Err("stored bytes are not in canonical form".to_owned());
    }
    check_columns((record.position, &record.stream, record.version), stored)?;
    Ok(record)
}

/// The record's position, stream and version against the stored columns.
fn check_columns(
    (position, stream, version): (u64, &str, u64),
    stored: &StoredRecord,
) -> Result<(), String> {
    if position != stored.position || stream != stored.stream || version != stored.version {
        return Err("record disagrees with its position, stream or version columns".to_owned());
    }
    Ok(())
}

/// The chain and the Merkle tree together: each record checked is appended to the tree.
#[derive(Debug, Clone, Default)]
pub struct LogVerifier {
    chain: ChainVerifier,
    tree: CompactRange,
    checkpoints: CheckpointTally,
}

/// What the checkpoints checked so far add up to.
#[derive(Debug, Clone, Default)]
struct CheckpointTally {
    checked: u64,
    largest: Option<u64>,
    /// The largest size whose checkpoint matched: records before it are vouched for.
    vouched_size: u64,
    witnessed: Option<u64>,
}

impl LogVerifier {
    /// Checks the next record; returns it and the Merkle nodes it completes (the leaf first).
    ///
    /// # Errors
    /// [`VerifyError::Broken`] naming the position.
    pub fn check(
        &mut self,
        stored: &StoredRecord,
    ) -> Result<(Record, Vec<(NodeId, Hash)>), VerifyError> {
        let record = self.chain.check(stored)?;
        let completed = self.tree.append(stored.hash);
        assert_eq!(self.tree.tree_size(), self.chain.tree_size());
        Ok((record, completed))
    }

    /// As [`LogVerifier::check`], given what [`check_alone`] found of `stored`
    /// ([`ChainVerifier::check_with`]); returns the Merkle nodes it completes.
    ///
    /// # Errors
    /// [`VerifyError::Broken`] naming the position.
    pub fn check_with(
        &mut self,
        stored: &StoredRecord,
        alone: Result<Hash, String>,
    ) -> Result<Vec<(NodeId, Hash)>, VerifyError> {
        self.chain.check_with(stored, alone)?;
        let completed = self.tree.append(stored.hash);
        assert_eq!(self.tree.tree_size(), self.chain.tree_size());
        Ok(completed)
    }

    /// Number of records checked.
    pub fn tree_size(&self) -> u64 {
        self.chain.tree_size()
    }

    /// The root of the records checked.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Checks a signed checkpoint of exactly the records checked so far: its root must be
    /// this tree's root. The checkpoint's own signatures are checked by the caller.
    ///
    /// # Errors
    /// [`VerifyError::Broken`] naming the first record no earlier checkpoint vouches for.
    pub fn check_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), VerifyError> {
        assert_eq!(checkpoint.tree_size, self.tree_size());
        let computed_root = self.root();
        if computed_root != checkpoint.root {
            let from = self.checkpoints.vouched_size;
            return Err(VerifyError::Broken {
                position: from,
                reason: format!(
                    "the {} records hash to root {computed_root}, but the signed checkpoint of \
                     that size has root {}: a record at position {from} or later (before {}) \
                     was rewritten",
                    checkpoint.tree_size, checkpoint.root, checkpoint.tree_size
                ),
            });
        }
        self.checkpoints.checked += 1;
        self.checkpoints.largest = self.checkpoints.largest.max(Some(checkpoint.tree_size));
        self.checkpoints.vouched_size = checkpoint.tree_size;
        Ok(())
    }

    /// The error for a checkpoint larger than the whole log: its tail was removed.
    pub fn truncated(&self, checkpoint: &Checkpoint) -> VerifyError {
        VerifyError::Broken {
            position: self.tree_size(),
            reason: format!(
                "a signed checkpoint covers {} records, but the log holds only {}: the records \
                 from position {} on were removed",
                checkpoint.tree_size,
                self.tree_size(),
                self.tree_size()
            ),
        }
    }

    /// What was verified.
    pub fn verified(&self, signatures_checked: bool) -> VerifiedLog {
        VerifiedLog {
            tree_size: self.tree_size(),
            head_hash: self.chain.head_hash(),
            root: self.root(),
            checkpoints_checked: self.checkpoints.checked,
            checkpoint_size: self.checkpoints.largest,
            signatures_checked,
            witnessed_size: self.checkpoints.witnessed,
        }
    }

    /// Notes that the witness cosigned a checkpoint of `tree_size` records.
    fn witnessed(&mut self, tree_size: u64) {
        self.checkpoints.witnessed = self.checkpoints.witnessed.max(Some(tree_size));
    }
}

/// Opens a signed checkpoint note with the options' keys: its signature must verify when the
/// ledger key is given, and the witness's cosignatures when a witness key is.
///
/// # Errors
/// [`VerifyError::BadCheckpoint`].
pub fn open_verified(
    note: &str,
    options: &VerifyOptions,
) -> Result<(Checkpoint, bool), VerifyError> {
    let bad = |tree_size: u64, error: CheckpointError| VerifyError::BadCheckpoint {
        tree_size,
        reason: error.to_string(),
    };
    let (checkpoint, parsed) =
        open_checkpoint(note, options.key.as_ref()).map_err(|error| bad(0, error))?;
    let witnessed = match &options.witness_key {
        None => false,
        Some(witness) => match verify_cosignatures(&parsed, witness) {
            Ok(_) => true,
            Err(CheckpointError::NoCosignature(_)) => false,
            Err(error) => return Err(bad(checkpoint.tree_size, error)),
        },
    };
    Ok((checkpoint, witnessed))
}

/// Opens a stored checkpoint and checks its columns against its note.
fn open_stored(
    stored: &StoredCheckpoint,
    options: &VerifyOptions,
) -> Result<(Checkpoint, bool), VerifyError> {
    let (checkpoint, witnessed) =
        open_verified(&stored.cosigned_note(), options).map_err(|error| match error {
            VerifyError::BadCheckpoint { reason, .. } => VerifyError::BadCheckpoint {
                tree_size: stored.tree_size,
                reason,
            },
            other => other,
        })?;
    if checkpoint.tree_size != stored.tree_size || checkpoint.root != stored.root {
        return Err(VerifyError::BadCheckpoint {
            tree_size: stored.tree_size,
            reason: "the stored row's size or root disagrees with its signed note".to_owned(),
        });
    }
    Ok((checkpoint, witnessed))
}

/// The checkpoints to compare, in tree-size order: the stored ones (streamed) and the held ones.
struct Checkpoints<'a> {
    stored: Peekable<BoxStream<'a, Result<StoredCheckpoint, StoreError>>>,
    held: std::vec::IntoIter<Checkpoint>,
    held_next: Option<Checkpoint>,
    options: &'a VerifyOptions,
}

impl Checkpoints<'_> {
    /// The next checkpoint of at most `tree_size` records (all of them when `None`), opened.
    async fn next_up_to(
        &mut self,
        tree_size: Option<u64>,
    ) -> Result<Option<(Checkpoint, bool)>, VerifyError> {
        let fits = |size: u64| tree_size.is_none_or(|limit| size <= limit);
        let stored_size = match std::pin::Pin::new(&mut self.stored).peek().await {
            Some(Ok(stored)) => Some(stored.tree_size),
            Some(Err(_)) => Some(0),
            None => None,
        };
        let held_size = self.held_next.as_ref().map(|held| held.tree_size);
        let take_stored = match (stored_size, held_size) {
            (Some(stored), Some(held)) => stored <= held,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if take_stored && stored_size.is_some_and(fits) {
            let stored = self.stored.try_next().await?.expect("peeked");
            return open_stored(&stored, self.options).map(Some);
        }
        if !take_stored && held_size.is_some_and(fits) {
            let held = self.held_next.take().expect("peeked");
            self.held_next = self.held.next();
            return Ok(Some((held, false)));
        }
        Ok(None)
    }
}

/// Compares every checkpoint of exactly the records checked so far with the tree.
async fn check_checkpoints_at(
    verifier: &mut LogVerifier,
    checkpoints: &mut Checkpoints<'_>,
) -> Result<(), VerifyError> {
    while let Some((checkpoint, witnessed)) =
        checkpoints.next_up_to(Some(verifier.tree_size())).await?
    {
        verifier.check_checkpoint(&checkpoint)?;
        if witnessed {
            verifier.witnessed(checkpoint.tree_size);
        }
    }
    Ok(())
}

/// Checks the nodes a record completed against the next stored nodes (`nodes`, in append
/// order, as the scan handed them over).
fn check_nodes(
    position: u64,
    completed: &[(NodeId, Hash)],
    nodes: &mut VecDeque<Result<StoredNode, StoreError>>,
) -> Result<(), VerifyError> {
    for (id, hash) in completed {
        let broken = |reason: String| VerifyError::Broken { position, reason };
        let Some(stored) = nodes.pop_front().transpose()? else {
            return Err(broken(format!(
                "Merkle node ({}, {}) is missing",
                id.level(),
                id.index()
            )));
        };
        if stored.id != *id {
            return Err(broken(format!(
                "expected Merkle node ({}, {}) but found ({}, {})",
                id.level(),
                id.index(),
                stored.id.level(),
                stored.id.index()
            )));
        }
        if stored.hash != *hash {
            return Err(broken(format!(
                "stored Merkle node ({}, {}) is {}, but the records give {hash}",
                id.level(),
                id.index(),
                stored.hash
            )));
        }
    }
    Ok(())
}

/// Re-verifies a whole store: chain, Merkle nodes, checkpoints, signatures and the head row.
///
/// # Errors
/// [`VerifyError::Broken`] naming the first bad position; [`VerifyError::BadCheckpoint`];
/// [`VerifyError::Store`] when the database cannot be read.
pub async fn verify_store(
    store: &dyn EventStore,
    options: &VerifyOptions,
) -> Result<VerifiedLog, VerifyError> {
    let mut held = options
        .held_checkpoints
        .iter()
        .map(|note| open_verified(note, options).map(|(checkpoint, _)| checkpoint))
        .collect::<Result<Vec<_>, _>>()?;
    held.sort_by_key(|checkpoint| checkpoint.tree_size);
    let mut held = held.into_iter();
    let mut checkpoints = Checkpoints {
        stored: store.read_checkpoints().peekable(),
        held_next: held.next(),
        held,
        options,
    };
    let mut verifier = LogVerifier::default();
    let mut nodes = VecDeque::new();
    check_checkpoints_at(&mut verifier, &mut checkpoints).await?;
    // Three stages, so two cores share the work: the store's scan reads the head, then the
    // records and the Merkle nodes in chunks (SQLite on a thread of its own, from one read
    // snapshot); a blocking thread runs the checks each record needs alone (hash, parse,
    // canonical form: most of the work); this task then checks the chain, the tree and the
    // checkpoints in order. Bounded channels keep at most a few chunks in memory.
    let (to_check, mut unchecked) = tokio::sync::mpsc::channel(VERIFY_CHUNKS_IN_FLIGHT);
    let (to_chain, checked) = tokio::sync::mpsc::channel(VERIFY_CHUNKS_IN_FLIGHT);
    let checker =
        tokio::task::spawn_blocking(move || check_chunks_alone(&mut unchecked, &to_chain));
    let scan = store.scan_log(to_check);
    let chain = async {
        // Owned here, so that a chain stage ending early closes the channel and stops the others.
        let mut checked = checked;
        while let Some(chunk) = checked.recv().await {
            let (chunk, alone): CheckedChunk = chunk?;
            nodes.extend(chunk.nodes);
            for (stored, alone) in chunk.records.iter().zip(alone) {
                let completed = verifier.check_with(stored, alone)?;
                check_nodes(stored.position, &completed, &mut nodes)?;
                check_checkpoints_at(&mut verifier, &mut checkpoints).await?;
            }
        }
        Ok::<(), VerifyError>(())
    };
    // The chain stage ends first on a broken record (dropping the scan's channel stops it); a
    // read error travels down the chunks in order, so the first error is the first found. The
    // head is read before any record: when it cannot be, no record was sent.
    let (head, chained) = futures::join!(scan, chain);
    let head = head?;
    chained?;
    checker.await.expect("the record checker does not panic");
    if let Some((checkpoint, _)) = checkpoints.next_up_to(None).await? {
        return Err(verifier.truncated(&checkpoint));
    }
    // The scan's last chunk holds the next stored node after the records' own, if any.
    if let Some(extra) = nodes.pop_front().transpose()? {
        return Err(VerifyError::Broken {
            position: verifier.tree_size(),
            reason: format!(
                "a Merkle node ({}, {}) covers records the log does not hold",
                extra.id.level(),
                extra.id.index()
            ),
        });
    }
    check_head(&verifier, head.tree_size, head.head_hash)?;
    Ok(verifier.verified(options.key.is_some()))
}

/// Records per chunk handed between [`verify_store`]'s stages.
pub(crate) const VERIFY_CHUNK_RECORDS: usize = 1_024;
/// Chunks waiting between two stages, at most.
const VERIFY_CHUNKS_IN_FLIGHT: usize = 4;

/// A chunk of the log and what [`check_alone`] found of each record: its `prev`, or why not.
type CheckedChunk = (LogChunk, Vec<Result<Hash, String>>);

/// How many Merkle nodes a tree of `leaves` leaves holds: every leaf, and every perfect
/// subtree above them (`2n - popcount(n)`).
pub(crate) fn tree_nodes(leaves: u64) -> u64 {
    2 * leaves - u64::from(leaves.count_ones())
}

/// [`EventStore::scan_log`] through the store's paged streams: the head, then every record in
/// chunks, each with the next stored nodes those records complete (so the chain stage meets
/// the nodes in the order the node stream gives them), then a last chunk with the next stored
/// node after them, if any. A read error is the last item.
pub(crate) async fn scan_log_streamed<S: EventStore + ?Sized>(
    store: &S,
    to_check: LogChunkSender,
) -> Result<LedgerHead, StoreError> {
    let head = store.head().await?;
    let mut records = store.read_all(0).try_chunks(VERIFY_CHUNK_RECORDS);
    let mut nodes = store.read_merkle_nodes();
    let mut nodes_ended = false;
    let mut leaves = 0_u64;
    loop {
        let (chunk, error) = match records.next().await {
            None => break,
            Some(Ok(chunk)) => (chunk, None),
            // The records before the error are checked first.
            Some(Err(futures::stream::TryChunksError(chunk, error))) => (chunk, Some(error)),
        };
        let end = leaves + chunk.len() as u64;
        let nodes = take_nodes(
            &mut nodes,
            &mut nodes_ended,
            tree_nodes(end) - tree_nodes(leaves),
        )
        .await;
        leaves = end;
        if !chunk.is_empty()
            && to_check
                .send(Ok(LogChunk {
                    records: chunk,
                    nodes,
                }))
                .await
                .is_err()
        {
            return Ok(head);
        }
        if let Some(error) = error {
            let _stopped = to_check.send(Err(error)).await;
            return Ok(head);
        }
    }
    let nodes = take_nodes(&mut nodes, &mut nodes_ended, 1).await;
    let _stopped = to_check
        .send(Ok(LogChunk {
            records: Vec::new(),
            nodes,
        }))
        .await;
    Ok(head)
}

/// The next `count` items of `nodes` (fewer when it ends, or after an error, which is the last).
async fn take_nodes(
    nodes: &mut BoxStream<'_, Result<StoredNode, StoreError>>,
    ended: &mut bool,
    count: u64,
) -> Vec<Result<StoredNode, StoreError>> {
    let mut taken = Vec::new();
    while !*ended && (taken.len() as u64) < count {
        match nodes.next().await {
            None => *ended = true,
            Some(node) => {
                *ended = node.is_err();
                taken.push(node);
            }
        }
    }
    taken
}

/// The blocking stage of [`verify_store`]: [`check_alone`] on every record of every chunk.
fn check_chunks_alone(
    unchecked: &mut tokio::sync::mpsc::Receiver<Result<LogChunk, StoreError>>,
    to_chain: &tokio::sync::mpsc::Sender<Result<CheckedChunk, StoreError>>,
) {
    let mut scratch = Vec::with_capacity(1_024);
    while let Some(chunk) = unchecked.blocking_recv() {
        let checked = chunk.map(|chunk| {
            let alone = chunk
                .records
                .iter()
                .map(|stored| check_alone_prev(stored, &mut scratch))
                .collect();
            (chunk, alone)
        });
        if to_chain.blocking_send(checked).is_err() {
            return;
        }
    }
}

fn check_head(
    verifier: &LogVerifier,
    head_tree_size: u64,
    head_hash: Hash,
) -> Result<(), VerifyError> {
    let tree_size = verifier.tree_size();
    if tree_size != head_tree_size {
        return Err(VerifyError::Broken {
            position: tree_size.min(head_tree_size),
            reason: format!(
                "the ledger head counts {head_tree_size} records, but {tree_size} are stored"
            ),
        });
    }
    if verifier.chain.head_hash() != head_hash {
        return Err(VerifyError::Broken {
            position: tree_size.saturating_sub(1),
            reason: "the ledger head hash does not match the last record".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::seal;
    use serde_json::json;

    fn sample() -> Record {
        Record {
            position: 0,
            stream: "item/2024-S-001".into(),
            version: 1,
            event_type: "ItemFiled".into(),
            schema: 1,
            at: "2024-03-01T09:00:00+08:00".into(),
            recorded_at: "2024-03-01T01:00:03.125Z".into(),
            actor: "liaison-01".into(),
            role: "liaison".into(),
            command_id: "8a3e".into(),
            data: json!({"title": "执行款\"发放\"", "item_id": "2024-S-001", "count": 3}),
            prev: Hash::ZERO,
        }
    }

    /// The record stored as `bytes`, hashed correctly, so only the form can be wrong.
    fn stored(bytes: Vec<u8>) -> StoredRecord {
        StoredRecord {
            position: 0,
            stream: "item/2024-S-001".into(),
            version: 1,
            hash: leaf_hash(&bytes),
            prev: Hash::ZERO,
            canonical: bytes,
        }
    }

    fn check(bytes: Vec<u8>) -> Result<Record, VerifyError> {
        ChainVerifier::default().check(&stored(bytes))
    }

    fn text_of(record: Record) -> String {
        String::from_utf8(seal(record).expect("seal").canonical).expect("utf-8")
    }

    #[test]
    fn a_sealed_record_verifies_and_reads_back_as_sealed() {
        let sealed = seal(sample()).expect("seal");
        assert_eq!(check(sealed.canonical).expect("intact"), sample());
    }

    #[test]
    fn a_record_with_an_uppercase_prev_hash_is_not_canonical() {
        let mut record = sample();
        record.prev = leaf_hash(b"x");
        let text = text_of(record.clone());
        let upper = text.replace(&record.prev.to_hex(), &record.prev.to_hex().to_uppercase());
        assert_ne!(text, upper);
        let error = check(upper.into_bytes()).expect_err("uppercase hex");
        assert!(
            error.to_string().contains("not in canonical form"),
            "{error}"
        );
    }

    #[test]
    fn members_out_of_order_whitespace_or_escapes_are_not_canonical() {
        let text = text_of(sample());
        let swapped = text.replacen(
            r#""actor":"liaison-01","at":"2024-03-01T09:00:00+08:00""#,
            r#""at":"2024-03-01T09:00:00+08:00","actor":"liaison-01""#,
            1,
        );
        let spaced = text.replacen(r#""schema":1"#, r#""schema": 1"#, 1);
        let escaped = text.replacen("执行款", r"\u6267行款", 1);
        for bad in [swapped, spaced, escaped] {
            assert_ne!(bad, text);
            let error = check(bad.into_bytes()).expect_err("not canonical");
            assert!(
                error.to_string().contains("not in canonical form"),
                "{error}"
            );
        }
    }

    #[test]
    fn an_unknown_member_is_not_a_record() {
        let text = text_of(sample());
        let extra = text.replacen(r#"{"actor""#, r#"{"aaa":1,"actor""#, 1);
        let error = check(extra.into_bytes()).expect_err("unknown member");
        assert!(error.to_string().contains("not a record"), "{error}");
    }
}
