//! Items (督办事项): the aggregate, its commands, events and errors.
//!
//! An [`Item`] is filed by the liaison office ([`FileItem`]), triaged and assigned by the court
//! office ([`TriageItem`], [`AssignItem`]), answered by its leader ([`AnswerItem`]), rated by its
//! deputy ([`RateAnswer`]; an unsatisfied rating starts the next round), its commitments
//! fulfilled ([`FulfilCommitment`]), reconciled ([`ReconcileItem`]) and closed ([`CloseItem`]).
//! Between assignment and answer its units acknowledge it, log contacts with the deputies,
//! co-unit views and progress, and may ask for an extension; the liaison office may correct an
//! answer's class, withdraw an item never answered, and reopen a closed one.
//! Each step is recorded as an [`ItemEvent`]; a command that breaks a rule is refused with an
//! [`ItemError`] and records nothing.

mod aggregate;
mod command;
mod decide;
mod error;
mod event;
mod handling;
mod message_zh;
mod types;

pub use aggregate::Item;
pub use command::{
    AcknowledgeItem, AnswerItem, AssignItem, CloseItem, DecideExtension, FileItem,
    FulfilCommitment, ItemAction, ItemCommand, RateAnswer, ReclassifyAnswer, ReconcileItem,
    RecordContact, ReopenItem, ReportProgress, RequestExtension, SubmitCoView, TriageItem,
    WithdrawItem,
};
pub use error::ItemError;
pub use event::ItemEvent;
pub use types::{
    AnswerClass, Commitment, ContactChannel, ContactStage, Deputy, ItemFacts, ItemKind, ItemStatus,
    Leader, LeaderLevel, LinkedItem, Rating, TriageDecision,
};
