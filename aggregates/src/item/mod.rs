//! Items (督办事项): the aggregate, its commands, events and errors.
//!
//! An [`Item`] is filed by the liaison office ([`FileItem`]), triaged and assigned by the court
//! office ([`TriageItem`], [`AssignItem`]), answered by its leader ([`AnswerItem`]), rated by its
//! deputy ([`RateAnswer`]; an unsatisfied rating starts the next round), its commitments
//! fulfilled ([`FulfilCommitment`]), reconciled ([`ReconcileItem`]) and closed ([`CloseItem`]).
//! Each step is recorded as an [`ItemEvent`]; a command that breaks a rule is refused with an
//! [`ItemError`] and records nothing.

mod aggregate;
mod command;
mod decide;
mod error;
mod event;
mod types;

pub use aggregate::Item;
pub use command::{
    AnswerItem, AssignItem, CloseItem, FileItem, FulfilCommitment, ItemAction, ItemCommand,
    RateAnswer, ReconcileItem, TriageItem,
};
pub use error::ItemError;
pub use event::ItemEvent;
pub use types::{
    AnswerClass, Commitment, Deputy, ItemKind, ItemStatus, Leader, LeaderLevel, Rating,
    TriageDecision,
};
