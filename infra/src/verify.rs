//! Re-verifying the log: every record's bytes against its hash, every `prev` against its
//! predecessor, every position against the next expected one; the Merkle tree re-derived from
//! the records, node by node against the stored one; every checkpoint's root against the tree
//! at its size, its signature (given the ledger's key) and its cosignatures (given a witness
//! key); and the head row against the last record.
//!
//! The same [`LogVerifier`] checks a database ([`verify_store`]) and an export file
//! (`crate::export`). Memory stays bounded: records, nodes and checkpoints are streamed.

use futures::stream::{BoxStream, Peekable};
use futures::{StreamExt, TryStreamExt};

use crate::checkpoint::{open_checkpoint, verify_cosignatures, Checkpoint, CheckpointError};
use crate::merkle::{CompactRange, NodeId};
use crate::note::VerifierKey;
use crate::record::{leaf_hash, write_canonical_record, Hash, Record};
use crate::store::{EventStore, StoreError, StoredCheckpoint, StoredNode, StoredRecord};

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
        let position = self.next_position;
        let broken = |reason: String| VerifyError::Broken { position, reason };
        if stored.position != position {
            return Err(broken(format!(
                "found position {} instead",
                stored.position
            )));
        }
        let computed_hash = leaf_hash(&stored.canonical);
        if computed_hash != stored.hash {
            return Err(broken(format!(
                "stored bytes hash to {computed_hash}, but the stored hash is {}",
                stored.hash
            )));
        }
        // The stored bytes are parsed once, straight into the record; its canonical form is
        // written from it into a reused buffer and compared with the stored bytes, so any other
        // spelling (member order, whitespace, escapes, an uppercase hash) is refused.
        let record: Record = serde_json::from_slice(&stored.canonical)
            .map_err(|error| broken(format!("stored bytes are not a record: {error}")))?;
        self.scratch.clear();
        write_canonical_record(&mut self.scratch, &record)
            .map_err(|error| broken(format!("record has no canonical form: {error}")))?;
        if self.scratch != stored.canonical {
            return Err(broken("stored bytes are not in canonical form".to_owned()));
        }
        if record.position != stored.position
            || record.stream != stored.stream
            || record.version != stored.version
        {
            return Err(broken(
                "record disagrees with its position, stream or version columns".to_owned(),
            ));
        }
        if record.prev != self.prev {
            return Err(broken(format!(
                "prev is {}, but the previous record's hash is {}",
                record.prev, self.prev
            )));
        }
        if stored.prev != self.prev {
            return Err(broken(
                "the stored prev column does not match the chain".to_owned(),
            ));
        }
        self.next_position += 1;
        self.prev = stored.hash;
        Ok(record)
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

/// Checks the nodes a record completed against the next stored nodes.
async fn check_nodes(
    position: u64,
    completed: &[(NodeId, Hash)],
    nodes: &mut BoxStream<'_, Result<StoredNode, StoreError>>,
) -> Result<(), VerifyError> {
    for (id, hash) in completed {
        let broken = |reason: String| VerifyError::Broken { position, reason };
        let Some(stored) = nodes.try_next().await? else {
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
    let head = store.head().await?;
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
    let mut nodes = store.read_merkle_nodes();
    let mut records = store.read_all(0);
    check_checkpoints_at(&mut verifier, &mut checkpoints).await?;
    while let Some(stored) = records.try_next().await? {
        let (_, completed) = verifier.check(&stored)?;
        check_nodes(stored.position, &completed, &mut nodes).await?;
        check_checkpoints_at(&mut verifier, &mut checkpoints).await?;
    }
    if let Some((checkpoint, _)) = checkpoints.next_up_to(None).await? {
        return Err(verifier.truncated(&checkpoint));
    }
    if let Some(extra) = nodes.try_next().await? {
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
