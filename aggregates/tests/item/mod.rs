//! Item rules, one module per command, plus the cross-cutting tables.

/// Fixtures: the standard item, its history, and command builders.
mod support;

/// Roles × commands, existence and the item-id guard, for every command.
mod access;
/// `AnswerItem`.
mod answer;
/// `AssignItem`.
mod assign;
/// `RequestExtension` and `DecideExtension`.
mod extension;
/// `FileItem`.
mod file;
/// `FulfilCommitment`, `ReconcileItem` and `CloseItem`.
mod finish;
/// `AcknowledgeItem`, `RecordContact`, `SubmitCoView` and `ReportProgress`.
mod handling;
/// `ReclassifyAnswer`, `WithdrawItem`, `ReopenItem`, closing with children, contacts required.
mod lifecycle;
/// `RateAnswer`, and re-handling after an unsatisfied rating.
mod rate;
/// The JSON shapes of actions and events.
mod shape;
/// The state `apply` folds, error codes and messages.
mod state;
/// `TriageItem`.
mod triage;
