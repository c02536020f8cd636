//! Signing the log: the ledger's checkpoints and a witness's cosignatures, each refused unless
//! the log it signs is consistent with what was signed before.
//!
//! **Invariant:** the ledger never signs a checkpoint that is not an extension of the last one
//! it stored (checked with a consistency proof against the last note's own, signed root); a
//! witness never cosigns a checkpoint the ledger did not sign, whose root the log does not have,
//! or that does not extend the largest checkpoint it cosigned before.

use crate::checkpoint::{
    cosign, open_checkpoint, verify_cosignatures, Checkpoint, CheckpointError,
};
use crate::merkle::{verify_consistency, ProofError, EMPTY_ROOT};
use crate::note::{KeyType, SignerKey, VerifierKey};
use crate::record::Hash;
use crate::store::{EventStore, NewCheckpoint, NewCosignature, StoreError, StoredCheckpoint};

/// Why a checkpoint or cosignature was not made.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A note or key was refused.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The key's name is not the ledger's origin.
    #[error("the key is named {key_name}, but this ledger's checkpoints have origin {origin}")]
    OriginMismatch {
        /// The key's name.
        key_name: String,
        /// The ledger's origin.
        origin: String,
    },
    /// The log no longer extends what was signed before: refused.
    #[error("refused: the log is not consistent with the checkpoint of {tree_size} records signed before: {reason}")]
    Inconsistent {
        /// The size of the earlier checkpoint.
        tree_size: u64,
        /// What does not hold.
        reason: String,
    },
}

/// What `sign_checkpoint` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The checkpoint as stored.
    pub stored: StoredCheckpoint,
    /// False when the log had not grown and the last checkpoint, by the same key, was returned.
    pub fresh: bool,
}

fn inconsistent(tree_size: u64, reason: impl ToString) -> SignError {
    SignError::Inconsistent {
        tree_size,
        reason: reason.to_string(),
    }
}

/// Parses a stored checkpoint and checks that its columns say what its note says.
fn open_stored(
    stored: &StoredCheckpoint,
    key: Option<&VerifierKey>,
) -> Result<Checkpoint, SignError> {
    let (checkpoint, _) = open_checkpoint(&stored.note, key)?;
    if checkpoint.tree_size != stored.tree_size || checkpoint.root != stored.root {
        return Err(inconsistent(
            stored.tree_size,
            "the stored checkpoint row disagrees with its signed note",
        ));
    }
    Ok(checkpoint)
}

/// Checks that the log's tree of `tree_size` records, with `root`, extends `earlier`.
async fn check_extends(
    store: &dyn EventStore,
    earlier: &Checkpoint,
    tree_size: u64,
    root: &Hash,
) -> Result<(), SignError> {
    let earlier_size = earlier.tree_size;
    if !(earlier_size <= tree_size) {
        return Err(inconsistent(
            earlier_size,
            format!("the log now holds only {tree_size} records"),
        ));
    }
    if earlier_size == 0 {
        // Every tree extends the empty one, whose root is fixed.
        if earlier.root != EMPTY_ROOT {
            return Err(inconsistent(0, "its root is not the empty tree's"));
        }
        return Ok(());
    }
    let evidence = store.prove_consistency(earlier_size, tree_size).await?;
    verify_consistency(&evidence.proof, &earlier.root, root)
        .map_err(|error: ProofError| inconsistent(earlier_size, error))
}

/// Signs, stores and returns a checkpoint of the whole log under `origin` with `signer`.
///
/// When the log has not grown since the last checkpoint, which this key signed, that one is
/// returned and nothing is stored.
///
/// # Errors
/// [`SignError::OriginMismatch`]; [`SignError::Inconsistent`] when the log is not an extension
/// of the last stored checkpoint (or that checkpoint, signed by this key, does not verify);
/// [`SignError::Store`], including [`StoreError::CheckpointRace`].
pub async fn sign_checkpoint(
    store: &dyn EventStore,
    signer: &SignerKey,
    origin: &str,
) -> Result<Signed, SignError> {
    if signer.name() != origin || signer.key_type() != KeyType::Ed25519 {
        return Err(SignError::OriginMismatch {
            key_name: signer.name().to_owned(),
            origin: origin.to_owned(),
        });
    }
    let verifier = signer.verifier();
    let tree_size = store.head().await?.tree_size;
    let root = store.root(tree_size).await?;
    let last = store.latest_checkpoint().await?;
    if let Some(last) = &last {
        // A checkpoint this key signed must verify: a forged row is not something to extend.
        let (_, note) = open_checkpoint(&last.note, None)?;
        let ours = note.signatures().iter().any(|line| verifier.matches(line));
        let earlier = open_stored(last, ours.then_some(&verifier))
            .map_err(|error| inconsistent(last.tree_size, error))?;
        if earlier.origin != origin {
            return Err(inconsistent(
                earlier.tree_size,
                format!("it is for origin {}", earlier.origin),
            ));
        }
        check_extends(store, &earlier, tree_size, &root).await?;
        if earlier.tree_size == tree_size && ours {
            return Ok(Signed {
                stored: last.clone(),
                fresh: false,
            });
        }
    }
    let checkpoint = Checkpoint {
        origin: origin.to_owned(),
        tree_size,
        root,
    };
    let note = checkpoint.sign(signer)?;
    let stored = store
        .add_checkpoint(NewCheckpoint {
            checkpoint_id: last.map_or(1, |last| last.checkpoint_id + 1),
            tree_size,
            root,
            note: note.to_string(),
        })
        .await?;
    Ok(Signed {
        stored,
        fresh: true,
    })
}

/// The witness's side: checks the latest stored checkpoint and cosigns it at `timestamp`.
///
/// The checkpoint must carry a valid signature by `log_key`, its root must be the log's root at
/// its size, and it must extend the largest checkpoint this witness cosigned before (whose
/// cosignature must verify with the witness's own key). Returns the checkpoint with the new
/// cosignature line, and whether the line is new.
///
/// # Errors
/// [`SignError::Checkpoint`] for a bad signature or key; [`SignError::Inconsistent`] when the log
/// does not match; [`SignError::Store`].
pub async fn cosign_checkpoint(
    store: &dyn EventStore,
    witness: &SignerKey,
    log_key: &VerifierKey,
    timestamp: u64,
) -> Result<(StoredCheckpoint, bool), SignError> {
    let mut latest = store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| inconsistent(0, "the ledger has signed no checkpoint yet"))?;
    let checkpoint = open_stored(&latest, Some(log_key))?;
    let root = store.root(checkpoint.tree_size).await?;
    if root != checkpoint.root {
        return Err(inconsistent(
            checkpoint.tree_size,
            "the log's root at that size is not the signed root",
        ));
    }
    let verifier = witness.verifier();
    if let Some(previous) = store
        .latest_cosigned_by(verifier.name(), verifier.key_id())
        .await?
    {
        let (earlier, note) = open_checkpoint(&previous.cosigned_note(), Some(log_key))?;
        verify_cosignatures(&note, &verifier)?;
        check_extends(store, &earlier, checkpoint.tree_size, &checkpoint.root).await?;
    }
    let (_, note) = open_checkpoint(&latest.note, None)?;
    let line = cosign(&note, witness, timestamp)?;
    let fresh = store
        .add_cosignature(NewCosignature {
            checkpoint_id: latest.checkpoint_id,
            witness: verifier.name().to_owned(),
            key_id: verifier.key_id(),
            cosigned_at: timestamp,
            line: line.clone(),
        })
        .await?;
    if fresh {
        latest.cosignatures.push(line);
    }
    Ok((latest, fresh))
}
