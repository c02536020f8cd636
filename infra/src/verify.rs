//! Re-hashing the log: every record's bytes against its hash, every `prev` against its
//! predecessor, every position against the next expected one, and the head row against the last
//! record. The same [`ChainVerifier`] checks a database and (later) an export file.

use futures::TryStreamExt;

use crate::canonical::to_canonical_bytes;
use crate::record::{leaf_hash, Hash, Record};
use crate::store::{EventStore, LedgerHead, StoreError, StoredRecord};

/// What an intact log ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLog {
    /// Number of records checked.
    pub tree_size: u64,
    /// Hash of the last record ([`Hash::ZERO`] for an empty log).
    pub head_hash: Hash,
}

/// Why verification stopped.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log is not intact; `position` is the first record found wrong.
    #[error("log broken at position {position}: {reason}")]
    Broken {
        /// The first bad position.
        position: u64,
        /// What is wrong there.
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

/// Checks records one at a time, in position order, keeping only the last hash.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_position: u64,
    prev: Hash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_position: 0,
            prev: Hash::ZERO,
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
        let record: Record = serde_json::from_slice(&stored.canonical)
            .map_err(|error| broken(format!("stored bytes are not a record: {error}")))?;
        let value = serde_json::to_value(&record)
            .map_err(|error| broken(format!("record cannot be re-encoded: {error}")))?;
        let canonical = to_canonical_bytes(&value)
            .map_err(|error| broken(format!("record has no canonical form: {error}")))?;
        if canonical != stored.canonical {
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

    /// The log checked so far.
    pub fn verified(&self) -> VerifiedLog {
        VerifiedLog {
            tree_size: self.next_position,
            head_hash: self.prev,
        }
    }
}

/// Re-hashes every record of a store and checks the chain and the head row.
///
/// # Errors
/// [`VerifyError::Broken`] naming the first bad position; [`VerifyError::Store`] when the
/// database cannot be read.
pub async fn verify_store(store: &dyn EventStore) -> Result<VerifiedLog, VerifyError> {
    let head: LedgerHead = store.head().await?;
    let mut verifier = ChainVerifier::default();
    let mut records = store.read_all(0);
    while let Some(stored) = records.try_next().await? {
        verifier.check(&stored)?;
    }
    let verified = verifier.verified();
    if verified.tree_size != head.tree_size {
        return Err(VerifyError::Broken {
            position: verified.tree_size.min(head.tree_size),
            reason: format!(
                "the ledger head counts {} records, but {} are stored",
                head.tree_size, verified.tree_size
            ),
        });
    }
    if verified.head_hash != head.head_hash {
        return Err(VerifyError::Broken {
            position: verified.tree_size.saturating_sub(1),
            reason: "the ledger head hash does not match the last record".to_owned(),
        });
    }
    Ok(verified)
}
