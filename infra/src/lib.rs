//! Bytes, order and proof: Huiyin's ground state.
//!
//! - [`canonical`]: RFC 8785 canonical JSON, the only way a record becomes bytes.
//! - [`record`]: the recorded event ([`record::Record`]), its leaf hash ([`record::Hash`]).
//! - [`merkle`]: the RFC 6962 tree over the leaf hashes, its proofs and their verifiers.
//! - [`note`]: C2SP signed notes and Ed25519 key strings.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` notes and `cosignature/v1` witness cosignatures.
//! - [`export`]: the JSON Lines export, written from a store and verified without one.
//! - [`outbox`]: notifications waiting to be sent and their attempts ([`outbox::OutboxStore`]).
//! - [`signing`]: signing checkpoints and cosigning them, refusing any that the log does not extend.
//! - [`store`]: the [`store::EventStore`] trait and its SQLite and PostgreSQL backends.
//! - [`views`]: where projections keep their rows and checkpoints ([`views::ViewStore`]).
//! - [`verify`]: re-hashing the log, checking every chain link, the Merkle tree, the checkpoints and
//!   their signatures.
//! - [`fuzz`]: the bodies of the fuzz targets for the canonicaliser and the proof verifiers.
//! - [`credentials`]: password hashes, bearer tokens and sessions, outside the ledger
//!   ([`credentials::CredentialStore`]).

pub mod canonical;
pub mod canonical_scan;
pub mod checkpoint;
pub mod credentials;
pub mod export;
pub mod fuzz;
pub mod merkle;
pub mod note;
pub mod outbox;
pub mod record;
pub mod signing;
pub mod store;
pub mod verify;
pub mod views;
