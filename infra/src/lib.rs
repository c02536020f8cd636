//! Bytes, order and proof: Huiyin's ground state.
//!
//! - [`canonical`]: RFC 8785 canonical JSON, the only way a record becomes bytes.
//! - [`record`]: the recorded event ([`record::Record`]), its leaf hash ([`record::Hash`]).
//! - [`merkle`]: the RFC 6962 tree over the leaf hashes, its proofs and their verifiers.
//! - [`note`]: C2SP signed notes and Ed25519 key strings.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` notes and `cosignature/v1` witness cosignatures.
//! - [`store`]: the [`store::EventStore`] trait and its SQLite and PostgreSQL backends.
//! - [`verify`]: re-hashing the log and checking every chain link.
//! - [`views`]: where projections keep their rows and checkpoints ([`views::ViewStore`]).

pub mod canonical;
pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod record;
pub mod store;
pub mod verify;
pub mod views;
