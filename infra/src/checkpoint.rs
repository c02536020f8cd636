//! Checkpoints (C2SP `tlog-checkpoint`, <https://c2sp.org/tlog-checkpoint>) and witness
//! cosignatures (C2SP `tlog-cosignature` v1, <https://c2sp.org/tlog-cosignature>).
//!
//! A checkpoint is a signed note whose text is three lines: the origin (`huiyin/<ledger name>`
//! by default), the tree size in decimal, and the base64 RFC 6962 root. The ledger signs it with
//! its Ed25519 key (type `0x01`); a witness such as the liaison office adds a cosignature line
//! with its own key (type `0x04`): an Ed25519 signature over
//! `"cosignature/v1\ntime <secs>\n" || checkpoint text`, carried as `timestamp (u64, big-endian)
//! || signature`.
//!
//! **Invariants:** a checkpoint's text is exactly its three lines (huiyin writes no extension
//! lines and refuses to read any); the tree size has no leading zeros; the root is 32 bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::note::{KeyType, Note, NoteError, SignerKey, VerifierKey};
use crate::record::Hash;

/// The origin prefix of huiyin ledgers: `huiyin/<ledger name>`.
pub const ORIGIN_PREFIX: &str = "huiyin/";

/// The cosignature header line (domain separation).
const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

/// Cosignature timestamps are POSIX seconds and must not exceed this (the spec's `2^63 - 1`).
pub const COSIGNATURE_TIME_MAX: u64 = i64::MAX as u64;

/// The origin of the ledger called `ledger_name`.
pub fn origin_for(ledger_name: &str) -> String {
    format!("{ORIGIN_PREFIX}{ledger_name}")
}

/// Why a checkpoint or cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed note itself is refused.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note's text is not a checkpoint.
    #[error("not a checkpoint: {0}")]
    Malformed(&'static str),
    /// A key of the wrong kind was given.
    #[error("{0}")]
    WrongKeyType(&'static str),
    /// The witness has no valid cosignature on the checkpoint.
    #[error("no cosignature by {0}")]
    NoCosignature(String),
    /// A cosignature by the witness does not verify.
    #[error("a cosignature by {0} does not verify")]
    BadCosignature(String),
}

/// The three lines a checkpoint commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `huiyin/default`.
    pub origin: String,
    /// Number of records.
    pub tree_size: u64,
    /// The RFC 6962 root of those records.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: origin, size, base64 root, each ending in a newline.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            BASE64.encode(self.root.as_bytes())
        )
    }

    /// Parses a checkpoint's note text.
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`].
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("the text ends in a newline"))?
            .split('\n')
            .collect();
        let [origin, size, root] = lines[..] else {
            return Err(CheckpointError::Malformed(
                "a huiyin checkpoint is three lines: origin, size, root",
            ));
        };
        if origin.is_empty() {
            return Err(CheckpointError::Malformed("the origin is empty"));
        }
        let canonical_size = size == "0" || (!size.starts_with('0') && !size.is_empty());
        let tree_size = size
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_size && size.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(CheckpointError::Malformed(
                "the size is not a decimal number",
            ))?;
        let root = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::from_slice(&bytes).ok())
            .ok_or(CheckpointError::Malformed(
                "the root is not 32 bytes of base64",
            ))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            tree_size,
            root,
        })
    }

    /// Signs the checkpoint with the ledger's key.
    ///
    /// # Errors
    /// [`CheckpointError::WrongKeyType`] when `signer` is a witness key.
    pub fn sign(&self, signer: &SignerKey) -> Result<Note, CheckpointError> {
        if signer.key_type() != KeyType::Ed25519 {
            return Err(CheckpointError::WrongKeyType(
                "a checkpoint is signed with the ledger's key, not a witness key",
            ));
        }
        Ok(Note::sign(&self.text(), signer))
    }
}

/// Parses a signed checkpoint; when `key` is given, its signature must verify.
///
/// # Errors
/// [`CheckpointError`] when the note or its text is malformed or the signature fails.
pub fn open_checkpoint(
    message: &str,
    key: Option<&VerifierKey>,
) -> Result<(Checkpoint, Note), CheckpointError> {
    let note = Note::parse(message)?;
    let checkpoint = Checkpoint::parse_text(note.text())?;
    if let Some(key) = key {
        note.verify(key)?;
    }
    Ok((checkpoint, note))
}

/// The message a `cosignature/v1` signs.
fn cosigned_message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("{COSIGNATURE_HEADER}time {timestamp}\n{text}").into_bytes()
}

/// A witness's cosignature line over a checkpoint note's text, at `timestamp` (POSIX seconds).
///
/// # Errors
/// [`CheckpointError::WrongKeyType`] unless `witness` is a cosignature (type `0x04`) key.
///
/// # Panics
/// When `timestamp` exceeds [`COSIGNATURE_TIME_MAX`] (the caller passes the clock).
pub fn cosign(note: &Note, witness: &SignerKey, timestamp: u64) -> Result<String, CheckpointError> {
    assert!(timestamp <= COSIGNATURE_TIME_MAX);
    if witness.key_type() != KeyType::Cosignature {
        return Err(CheckpointError::WrongKeyType(
            "a cosignature is made with a witness key (keygen --witness)",
        ));
    }
    let signature = witness.sign_bytes(&cosigned_message(timestamp, note.text()));
    let mut payload = timestamp.to_be_bytes().to_vec();
    payload.extend_from_slice(&signature);
    Ok(witness.signature_line(&payload))
}

/// Checks the witness's cosignatures on a note: every line naming the witness key must verify,
/// and there must be one. Returns the latest cosignature time.
///
/// # Errors
/// [`CheckpointError::NoCosignature`] or [`CheckpointError::BadCosignature`].
pub fn verify_cosignatures(note: &Note, witness: &VerifierKey) -> Result<u64, CheckpointError> {
    if witness.key_type() != KeyType::Cosignature {
        return Err(CheckpointError::WrongKeyType(
            "a witness key has signature type 0x04 (cosignature/v1)",
        ));
    }
    let bad = || CheckpointError::BadCosignature(witness.name().to_owned());
    let mut latest = None;
    for signature in note.signatures().iter().filter(|s| witness.matches(s)) {
        let (time, ed25519) = signature.payload.split_at_checked(8).ok_or_else(bad)?;
        let timestamp = u64::from_be_bytes(time.try_into().map_err(|_| bad())?);
        if timestamp > COSIGNATURE_TIME_MAX
            || !witness.verifies(&cosigned_message(timestamp, note.text()), ed25519)
        {
            return Err(bad());
        }
        latest = latest.max(Some(timestamp));
    }
    latest.ok_or_else(|| CheckpointError::NoCosignature(witness.name().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: origin_for("default"),
            tree_size: 8,
            root: crate::record::leaf_hash(b"root"),
        }
    }

    #[test]
    fn a_checkpoint_text_round_trips() {
        let text = checkpoint().text();
        assert!(text.starts_with("huiyin/default\n8\n"));
        assert_eq!(Checkpoint::parse_text(&text), Ok(checkpoint()));
    }

    #[test]
    fn sizes_with_leading_zeros_signs_or_extension_lines_are_refused() {
        let root = BASE64.encode(checkpoint().root.as_bytes());
        for text in [
            format!("o\n08\n{root}\n"),
            format!("o\n+8\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n8\n{root}\nextension\n"),
            format!("o\n8\n{root}"),
            "o\n8\nAAAA\n".to_owned(),
        ] {
            assert!(Checkpoint::parse_text(&text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_witness_cosignature_verifies_and_a_changed_note_does_not() {
        let ledger = SignerKey::from_seed("huiyin/default", KeyType::Ed25519, [1; 32]).expect("k");
        let witness = SignerKey::from_seed("liaison/w1", KeyType::Cosignature, [2; 32]).expect("w");
        let note = checkpoint().sign(&ledger).expect("sign");
        let line = cosign(&note, &witness, 1_700_000_000).expect("cosign");
        let cosigned = note.with_line(&line);
        let reparsed = Note::parse(&cosigned.to_string()).expect("parse");
        reparsed
            .verify(&ledger.verifier())
            .expect("ledger signature");
        assert_eq!(
            verify_cosignatures(&reparsed, &witness.verifier()),
            Ok(1_700_000_000)
        );
        let other = Checkpoint {
            tree_size: 9,
            ..checkpoint()
        }
        .sign(&ledger)
        .expect("sign")
        .with_line(&line);
        assert!(verify_cosignatures(&other, &witness.verifier()).is_err());
        assert!(cosign(&note, &ledger, 1).is_err());
    }
}
