//! The export file (DESIGN.md §3): JSON Lines, one `{"record":{…},"hash":"…"}` per record in
//! position order, the first record of each command also carrying its `"request_hash"` (so an
//! import restores the idempotency table), and a last line `{"checkpoint":"<signed note>"}`
//! (with any witness cosignature lines).
//!
//! [`write_export`] writes one from a store, re-deriving the root as it goes; [`ExportReader`]
//! reads one back and verifies every line without a database: each `record` object is
//! re-canonicalised (its canonical bytes must be the ones hashed), hashed, chained and added to
//! the Merkle tree, and the final checkpoint must sign exactly that tree.

use std::io::{BufRead, Read, Write};

use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use crate::canonical::to_canonical_bytes;
use crate::merkle::NodeId;
use crate::record::{leaf_hash, Hash, Record};
use crate::store::{EventStore, StoreError, StoredCheckpoint, StoredRecord};
use crate::verify::{open_verified, LogVerifier, VerifiedLog, VerifyError, VerifyOptions};

/// An export line longer than this is refused (a record is far smaller).
pub const EXPORT_LINE_BYTES_MAX: usize = 1024 * 1024;

/// A command as the idempotency table holds it, rebuilt from an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedCommand {
    /// The command's id.
    pub command_id: String,
    /// Its request fingerprint.
    pub request_hash: Hash,
    /// The stream it wrote.
    pub stream: String,
    /// Position of its first record.
    pub first_position: u64,
    /// Number of records it wrote.
    pub event_count: u64,
}

/// One verified record of an export.
#[derive(Debug, Clone)]
pub struct VerifiedRecord {
    /// The record as a store holds it (its canonical bytes, hash and links).
    pub stored: StoredRecord,
    /// The parsed record.
    pub record: Record,
    /// The Merkle nodes it completes, the leaf first.
    pub nodes: Vec<(NodeId, Hash)>,
    /// The command that ended just before this record, if one did.
    pub finished_command: Option<ExportedCommand>,
}

/// Writes an export of the records up to `checkpoint`'s size, ending with its note.
///
/// # Errors
/// [`VerifyError`] when the store's records are not what the checkpoint signed (nothing that
/// does not verify is ever exported), or the output cannot be written.
pub async fn write_export(
    store: &dyn EventStore,
    checkpoint: &StoredCheckpoint,
    out: &mut dyn Write,
) -> Result<VerifiedLog, VerifyError> {
    let io = |error: std::io::Error| VerifyError::Store(StoreError::Database(error.to_string()));
    let mut verifier = LogVerifier::default();
    let mut commands = store.read_commands().peekable();
    let mut records = store.read_all(0);
    while verifier.tree_size() < checkpoint.tree_size {
        let Some(stored) = records.try_next().await? else {
            break;
        };
        let (record, _) = verifier.check(&stored)?;
        let mut line = Vec::with_capacity(stored.canonical.len() + 160);
        line.extend_from_slice(b"{\"record\":");
        line.extend_from_slice(&stored.canonical);
        line.extend_from_slice(format!(",\"hash\":\"{}\"", stored.hash).as_bytes());
        let next = std::pin::Pin::new(&mut commands).peek().await;
        let starts = match next {
            Some(Ok(command)) => command.first_position == record.position,
            Some(Err(_)) => true,
            None => false,
        };
        if starts {
            let command = commands.try_next().await?.expect("peeked");
            line.extend_from_slice(
                format!(",\"request_hash\":\"{}\"", command.request_hash).as_bytes(),
            );
        }
        line.extend_from_slice(b"}\n");
        out.write_all(&line).map_err(io)?;
    }
    let options = VerifyOptions::default();
    let (signed, _) = open_verified(&checkpoint.note, &options)?;
    if signed.tree_size != verifier.tree_size() {
        return Err(verifier.truncated(&signed));
    }
    verifier.check_checkpoint(&signed)?;
    // The note travels with its witnesses' cosignatures, so an auditor can check those too.
    let last = serde_json::json!({ "checkpoint": checkpoint.cosigned_note() });
    writeln!(out, "{last}").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(verifier.verified(false))
}

/// Reads and verifies an export line by line.
pub struct ExportReader {
    lines: Box<dyn BufRead + Send>,
    line_number: u64,
    verifier: LogVerifier,
    pending: Option<ExportedCommand>,
    checkpoint_note: Option<String>,
}

impl std::fmt::Debug for ExportReader {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "ExportReader(line {})", self.line_number)
    }
}

impl ExportReader {
    /// Reads from `lines`.
    pub fn new(lines: Box<dyn BufRead + Send>) -> Self {
        ExportReader {
            lines,
            line_number: 0,
            verifier: LogVerifier::default(),
            pending: None,
            checkpoint_note: None,
        }
    }

    fn broken(&self, reason: impl std::fmt::Display) -> VerifyError {
        VerifyError::Broken {
            position: self.verifier.tree_size(),
            reason: format!("export line {}: {reason}", self.line_number),
        }
    }

    fn read_line(&mut self) -> Result<Option<String>, VerifyError> {
        let mut line = String::new();
        let read = Read::by_ref(&mut self.lines)
            .take(EXPORT_LINE_BYTES_MAX as u64 + 1)
            .read_line(&mut line)
            .map_err(|error| self.broken(format!("unreadable: {error}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.line_number += 1;
        if line.len() > EXPORT_LINE_BYTES_MAX || !line.ends_with('\n') {
            return Err(self.broken("the line is too long or does not end in a newline"));
        }
        line.pop();
        Ok(Some(line))
    }

    /// The next verified record, or `None` once the checkpoint line has been read.
    ///
    /// # Errors
    /// [`VerifyError::Broken`] naming the first position (and line) that does not verify.
    pub fn next_record(&mut self) -> Result<Option<VerifiedRecord>, VerifyError> {
        if self.checkpoint_note.is_some() {
            return Ok(None);
        }
        let Some(line) = self.read_line()? else {
            return Err(self.broken("the export ends without its checkpoint line"));
        };
        let mut object: Map<String, Value> = serde_json::from_str(&line)
            .map_err(|error| self.broken(format!("not a JSON object: {error}")))?;
        if let Some(note) = object.remove("checkpoint") {
            let note = note
                .as_str()
                .ok_or_else(|| self.broken("the checkpoint is not text"))?;
            if !object.is_empty() {
                return Err(self.broken("the checkpoint line has other members"));
            }
            self.checkpoint_note = Some(note.to_owned());
            return Ok(None);
        }
        self.record_line(object).map(Some)
    }

    fn take_hash(
        &self,
        object: &mut Map<String, Value>,
        key: &str,
    ) -> Result<Option<Hash>, VerifyError> {
        object
            .remove(key)
            .map(|value| {
                value
                    .as_str()
                    .and_then(|text| text.parse().ok())
                    .ok_or_else(|| self.broken(format!("{key} is not a 64-hex hash")))
            })
            .transpose()
    }

    fn record_line(
        &mut self,
        mut object: Map<String, Value>,
    ) -> Result<VerifiedRecord, VerifyError> {
        let value = object
            .remove("record")
            .ok_or_else(|| self.broken("no record"))?;
        let hash = self
            .take_hash(&mut object, "hash")?
            .ok_or_else(|| self.broken("no hash"))?;
        let request_hash = self.take_hash(&mut object, "request_hash")?;
        if !object.is_empty() {
            return Err(self.broken("unknown members beside record and hash"));
        }
        // The record object's canonical bytes are what was hashed; nothing else is.
        let canonical = to_canonical_bytes(&value)
            .map_err(|error| self.broken(format!("the record has no canonical form: {error}")))?;
        let computed_hash = leaf_hash(&canonical);
        if computed_hash != hash {
            return Err(self.broken(format!(
                "the record hashes to {computed_hash}, but the line says {hash}"
            )));
        }
        let record: Record = serde_json::from_value(value)
            .map_err(|error| self.broken(format!("not a record: {error}")))?;
        let stored = StoredRecord {
            position: record.position,
            stream: record.stream.clone(),
            version: record.version,
            canonical,
            hash,
            prev: record.prev,
        };
        let (record, nodes) = self.verifier.check(&stored)?;
        let finished_command = self.track_command(&record, request_hash)?;
        Ok(VerifiedRecord {
            stored,
            record,
            nodes,
            finished_command,
        })
    }

    /// Follows commands: `request_hash` is on a command's first record and only there.
    fn track_command(
        &mut self,
        record: &Record,
        request_hash: Option<Hash>,
    ) -> Result<Option<ExportedCommand>, VerifyError> {
        let continues = self.pending.as_ref().is_some_and(|pending| {
            pending.command_id == record.command_id && pending.stream == record.stream
        });
        match (continues, request_hash) {
            (true, None) => {
                let pending = self.pending.as_mut().expect("a command continues");
                pending.event_count += 1;
                Ok(None)
            }
            (false, Some(request_hash)) => {
                let started = ExportedCommand {
                    command_id: record.command_id.clone(),
                    request_hash,
                    stream: record.stream.clone(),
                    first_position: record.position,
                    event_count: 1,
                };
                Ok(self.pending.replace(started))
            }
            (true, Some(_)) => Err(self.broken("request_hash on a command's later record")),
            (false, None) => Err(self.broken("a command's first record has no request_hash")),
        }
    }

    /// Checks the checkpoint line against everything read, and that nothing follows it.
    /// Returns what was verified, the checkpoint note, and the last command.
    ///
    /// # Errors
    /// [`VerifyError`] when the checkpoint does not sign exactly these records, its signature
    /// fails with the key given, or lines follow it.
    pub fn finish(
        mut self,
        options: &VerifyOptions,
    ) -> Result<(VerifiedLog, String, Option<ExportedCommand>), VerifyError> {
        let note = self
            .checkpoint_note
            .take()
            .ok_or_else(|| self.broken("the checkpoint line has not been read"))?;
        if self.read_line()?.is_some() {
            return Err(self.broken("lines follow the checkpoint"));
        }
        let (checkpoint, witnessed) = open_verified(&note, options)?;
        if checkpoint.tree_size != self.verifier.tree_size() {
            return Err(if checkpoint.tree_size > self.verifier.tree_size() {
                self.verifier.truncated(&checkpoint)
            } else {
                self.broken(format!(
                    "the checkpoint signs {} records, but the export holds {}",
                    checkpoint.tree_size,
                    self.verifier.tree_size()
                ))
            });
        }
        self.verifier.check_checkpoint(&checkpoint)?;
        let mut verified = self.verifier.verified(options.key.is_some());
        if witnessed {
            verified.witnessed_size = Some(checkpoint.tree_size);
        }
        Ok((verified, note, self.pending.take()))
    }
}

/// Verifies a whole export, plus any checkpoints held apart from it (each must be a prefix of
/// the export: its root must be the export's tree at its size).
///
/// # Errors
/// [`VerifyError`] naming the first bad position.
pub fn verify_export(
    reader: ExportReader,
    options: &VerifyOptions,
) -> Result<VerifiedLog, VerifyError> {
    let mut reader = reader;
    let mut held = options
        .held_checkpoints
        .iter()
        .map(|note| open_verified(note, options).map(|(checkpoint, _)| checkpoint))
        .collect::<Result<Vec<_>, _>>()?;
    held.sort_by_key(|checkpoint| std::cmp::Reverse(checkpoint.tree_size));
    let mut check_held = |verifier: &mut LogVerifier| -> Result<(), VerifyError> {
        while held
            .last()
            .is_some_and(|next| next.tree_size == verifier.tree_size())
        {
            let checkpoint = held.pop().expect("peeked");
            verifier.check_checkpoint(&checkpoint)?;
        }
        Ok(())
    };
    check_held(&mut reader.verifier)?;
    while reader.next_record()?.is_some() {
        check_held(&mut reader.verifier)?;
    }
    if let Some(beyond) = held.first() {
        return Err(reader.verifier.truncated(beyond));
    }
    let (verified, _, _) = reader.finish(options)?;
    Ok(verified)
}

/// Why an import appended nothing.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The ledger already holds records or checkpoints.
    #[error("the ledger is not empty ({tree_size} records, {checkpoints} checkpoints): import restores into an empty ledger only")]
    NotEmpty {
        /// Records found.
        tree_size: u64,
        /// Checkpoints found.
        checkpoints: u64,
    },
    /// The export does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RestoreError {
    fn from(error: sqlx::Error) -> Self {
        RestoreError::Store(error.into())
    }
}
