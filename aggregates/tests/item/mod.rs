//! Item rules, one module per command, plus the cross-cutting tables.

/// Fixtures: the standard item, its history, and command builders.
mod support;

/// `FileItem`.
mod file;
/// `TriageItem`.
mod triage;
/// `AssignItem`.
mod assign;
/// `AnswerItem`.
mod answer;
/// `RateAnswer`, and re-handling after an unsatisfied rating.
mod rate;
/// `FulfilCommitment`, `ReconcileItem` and `CloseItem`.
mod finish;
/// Roles × commands, existence and the item-id guard, for every command.
mod access;
/// The state `apply` folds, error codes and messages.
mod state;
/// The JSON shapes of actions and events.
mod shape;
