//! Why an item command was refused.

use jiff::civil::Date;

use super::types::{AnswerClass, ItemKind, ItemStatus, TriageDecision};
use crate::access::roles_text;
use crate::actor::Role;
use crate::error::ErrorCode;
use crate::validate::FieldError;

/// Why an item command was refused. A refused command appends nothing.
///
/// Each variant is one way of refusing; [`ItemError::code`] gives its stable code. The checks run
/// in a fixed order and the first that fails decides the error: the actor's role, then whether
/// the item exists (and the command's item id matches it), then ownership (a deputy rating an
/// item that names them), then the item's state, then the command's fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// The actor's role may not issue this command at all. Code `forbidden`.
    #[error(
        "item {item_id}: the {role} role may not {action}; {action} needs the {} role",
        roles_text(.action)
    )]
    RoleNotAllowed {
        /// The item.
        item_id: String,
        /// The command's type name.
        action: &'static str,
        /// The actor's role.
        role: Role,
    },
    /// A deputy tried to rate an item that does not name them. Code `forbidden`.
    #[error(
        "item {item_id}: deputy {deputy_id} is not named on this item, so may not rate its answer"
    )]
    NotItemDeputy {
        /// The item.
        item_id: String,
        /// The deputy who tried.
        deputy_id: String,
    },
    /// A deputy tried to record a rating as another deputy. Code `forbidden`.
    #[error(
        "item {item_id}: deputy {actor_id} may rate only in their own name, not as deputy \
         {deputy_id}; the liaison office records ratings on another deputy's behalf"
    )]
    RatingForAnotherDeputy {
        /// The item.
        item_id: String,
        /// The deputy who tried.
        actor_id: String,
        /// The deputy they named.
        deputy_id: String,
    },
    /// The item has not been filed. Code `not_found`.
    #[error("item {item_id} has not been filed; only FileItem can be used on it")]
    NotFiled {
        /// The item.
        item_id: String,
    },
    /// The item has no commitment with this id. Code `not_found`.
    #[error("item {item_id} has no commitment {commitment_id}")]
    CommitmentNotFound {
        /// The item.
        item_id: String,
        /// The commitment id asked for.
        commitment_id: String,
    },
    /// `FileItem` for an item id that is already filed. Code `wrong_state`.
    #[error("item {item_id} is already filed (it is {status}); choose a new item id")]
    AlreadyFiled {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `TriageItem` on an item that is not `filed`. Code `wrong_state`.
    #[error("item {item_id} is {status}; only a filed item can be triaged")]
    TriageNeedsFiled {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `AssignItem` on an item that is not `accepted`. Code `wrong_state`.
    #[error("item {item_id} is {status}; only an accepted item can be assigned")]
    AssignNeedsAccepted {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `AnswerItem` on an item that is neither `assigned` nor `rehandling`. Code `wrong_state`.
    #[error(
        "item {item_id} is {status}; only an item that is assigned or being re-handled can be \
         answered"
    )]
    AnswerNeedsAssignment {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `RateAnswer` on an item that is not `answered`. Code `wrong_state`.
    #[error("item {item_id} is {status}; only an answered item can be rated")]
    RatingNeedsAnswer {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `FulfilCommitment` on an item that is closed or ended. Code `wrong_state`.
    #[error("item {item_id} is {status}; commitments of a closed or ended item cannot change")]
    ItemFinished {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `FulfilCommitment` on a commitment already fulfilled. Code `wrong_state`.
    #[error("item {item_id}: commitment {commitment_id} is already fulfilled")]
    CommitmentAlreadyFulfilled {
        /// The item.
        item_id: String,
        /// The commitment.
        commitment_id: String,
    },
    /// `ReconcileItem` on an item that is not `rated`. Code `wrong_state`.
    #[error(
        "item {item_id} is {status}; only a rated item (whose rating is not unsatisfied) can be \
         reconciled"
    )]
    ReconcileNeedsRating {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `ReconcileItem` while commitments are still open. Code `wrong_state`.
    #[error(
        "item {item_id} is rated but cannot be reconciled while commitments are open: {}",
        .commitment_ids.join(", ")
    )]
    OpenCommitments {
        /// The item.
        item_id: String,
        /// The open commitments, in the order they were made.
        commitment_ids: Vec<String>,
    },
    /// `CloseItem` on an item that is not `reconciled`. Code `wrong_state`.
    #[error("item {item_id} is {status}; only a reconciled item can be closed")]
    CloseNeedsReconciliation {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// The command's `item_id` is not the id of the item it was routed to: a bug in the caller.
    /// Code `invalid`.
    #[error("the command names item {command_item_id} but was sent to item {item_id}")]
    ItemIdMismatch {
        /// The item the command was sent to.
        item_id: String,
        /// The item the command names.
        command_item_id: String,
    },
    /// A field is bad or missing. Code `invalid`.
    #[error("item {item_id}: {error}")]
    InvalidField {
        /// The item.
        item_id: String,
        /// What is wrong, and with which field.
        error: FieldError,
    },
    /// More than one deputy is marked lead. Code `invalid`.
    #[error(
        "item {item_id}: only one deputy may be marked lead, but {} are",
        .deputy_ids.join(", ")
    )]
    SeveralLeadDeputies {
        /// The item.
        item_id: String,
        /// The deputies marked lead.
        deputy_ids: Vec<String>,
    },
    /// `parent_id` names the item itself. Code `invalid`.
    #[error("item {item_id} cannot be its own parent (parent_id)")]
    ParentIsItself {
        /// The item.
        item_id: String,
    },
    /// A triage field was given for a decision that does not use it. Code `invalid`.
    #[error("item {item_id}: {field} is not used when the decision is {decision}; leave it out")]
    FieldNotForDecision {
        /// The item.
        item_id: String,
        /// The field.
        field: &'static str,
        /// The decision.
        decision: TriageDecision,
    },
    /// A merge names the item itself as its target. Code `invalid`.
    #[error("item {item_id} cannot be merged into itself (target_item_id)")]
    MergeIntoItself {
        /// The item.
        item_id: String,
    },
    /// A co-unit is also the lead unit. Code `invalid`.
    #[error("item {item_id}: {unit} is the lead unit, so it cannot also be a co-unit")]
    CoUnitIsLeadUnit {
        /// The item.
        item_id: String,
        /// The unit.
        unit: String,
    },
    /// An answer's commitment id was already used by an earlier answer. Code `invalid`.
    #[error("item {item_id}: commitment id {commitment_id} is already used by an earlier answer")]
    CommitmentIdUsed {
        /// The item.
        item_id: String,
        /// The commitment id.
        commitment_id: String,
    },
    /// The liaison office named a deputy who is not on the item. Code `invalid`.
    #[error("item {item_id}: deputy_id {deputy_id} is not one of the item's deputies")]
    UnknownDeputy {
        /// The item.
        item_id: String,
        /// The deputy id given.
        deputy_id: String,
    },
    /// A unit acknowledging the item is neither its lead unit nor a co-unit. Code `forbidden`.
    #[error(
        "item {item_id}: {unit} is not a unit of this item; it is assigned to {}",
        .units.join(", ")
    )]
    UnitNotOnItem {
        /// The item.
        item_id: String,
        /// The unit named.
        unit: String,
        /// The item's units, lead unit first.
        units: Vec<String>,
    },
    /// A co-unit view from a unit that is not a co-unit. Code `forbidden`.
    #[error(
        "item {item_id}: {unit} is not a co-unit of this item, so it may not submit a co-unit \
         view; the co-units are: {}",
        .co_units.join(", ")
    )]
    NotCoUnit {
        /// The item.
        item_id: String,
        /// The unit named.
        unit: String,
        /// The item's co-units.
        co_units: Vec<String>,
    },
    /// A handling command on an item that has not been assigned yet. Code `wrong_state`.
    #[error("item {item_id} is {status}; {action} needs the item to be assigned first")]
    NotAssigned {
        /// The item.
        item_id: String,
        /// The command.
        action: &'static str,
        /// Its status.
        status: ItemStatus,
    },
    /// A command that needs the current round to await its answer. Code `wrong_state`.
    #[error(
        "item {item_id} is {status}; {action} is possible only while the current round awaits \
         its answer (assigned or rehandling)"
    )]
    RoundNotAwaitingAnswer {
        /// The item.
        item_id: String,
        /// The command.
        action: &'static str,
        /// Its status.
        status: ItemStatus,
    },
    /// A command on an item that is closed or ended. Code `wrong_state`.
    #[error("item {item_id} is {status}; {action} is not possible on a closed or ended item")]
    ItemEnded {
        /// The item.
        item_id: String,
        /// The command.
        action: &'static str,
        /// Its status.
        status: ItemStatus,
    },
    /// The unit already acknowledged the item in this round. Code `wrong_state`.
    #[error("item {item_id}: {unit} already acknowledged round {round}")]
    AlreadyAcknowledged {
        /// The item.
        item_id: String,
        /// The unit.
        unit: String,
        /// The round.
        round: u32,
    },
    /// The co-unit already submitted its view in this round. Code `wrong_state`.
    #[error("item {item_id}: {unit} already submitted its view in round {round}")]
    CoViewAlreadySubmitted {
        /// The item.
        item_id: String,
        /// The unit.
        unit: String,
        /// The round.
        round: u32,
    },
    /// An extension is asked for while another is pending. Code `wrong_state`.
    #[error(
        "item {item_id}: an extension to {until} is already waiting for the liaison office's \
         decision"
    )]
    ExtensionAlreadyPending {
        /// The item.
        item_id: String,
        /// The date the pending request asks for.
        until: Date,
    },
    /// `DecideExtension` with no extension pending. Code `wrong_state`.
    #[error("item {item_id} is {status} and has no extension request waiting for a decision")]
    NoExtensionPending {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// The extension asks for a date beyond assignment + the most months allowed. Code
    /// `invalid`.
    #[error(
        "item {item_id}: until {until} is too late; an extension may reach at most {until_max} \
         (the assignment date plus {months_max} months)"
    )]
    ExtensionBeyondLimit {
        /// The item.
        item_id: String,
        /// The date asked for.
        until: Date,
        /// The latest date allowed.
        until_max: Date,
        /// The most months after assignment.
        months_max: u32,
    },
    /// The extension asks for a date not after the current due date. Code `invalid`.
    #[error("item {item_id}: until {until} is not after the current due date {due}")]
    ExtensionNotLater {
        /// The item.
        item_id: String,
        /// The date asked for.
        until: Date,
        /// The due date in force.
        due: Date,
    },
    /// The extension asks for a day off. Code `invalid`.
    #[error(
        "item {item_id}: until {until} is not a working day; the next working day is \
         {next_working_day}"
    )]
    ExtensionOnDayOff {
        /// The item.
        item_id: String,
        /// The date asked for.
        until: Date,
        /// The next working day after it.
        next_working_day: Date,
    },
    /// `require_contact_before_answer` is set and no contact was logged in this round. Code
    /// `wrong_state`.
    #[error(
        "item {item_id}: this ledger requires a contact with a deputy before the answer, and \
         none was logged in round {round}; record one with RecordContact first"
    )]
    ContactRequired {
        /// The item.
        item_id: String,
        /// The round.
        round: u32,
    },
    /// `ReclassifyAnswer` when the current round has no answer, or the item is reconciled.
    /// Code `wrong_state`.
    #[error(
        "item {item_id} is {status}; only the answer of the current round can be reclassified, \
         and only before reconciliation"
    )]
    ReclassifyNeedsAnswer {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `ReclassifyAnswer` to the class the answer already has. Code `invalid`.
    #[error("item {item_id}: the answer is already class {class}")]
    SameClass {
        /// The item.
        item_id: String,
        /// The class.
        class: AnswerClass,
    },
    /// `WithdrawItem` on an item that was answered or is finished. Code `wrong_state`.
    #[error(
        "item {item_id} is {status}; only an item never answered (filed, accepted or assigned) \
         can be withdrawn"
    )]
    WithdrawNeedsUnanswered {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// `ReopenItem` on an item that is not closed. Code `wrong_state`.
    #[error("item {item_id} is {status}; only a closed item can be reopened")]
    ReopenNeedsClosed {
        /// The item.
        item_id: String,
        /// Its status.
        status: ItemStatus,
    },
    /// A merge target that was never filed. Code `not_found`.
    #[error("item {item_id} cannot be merged into {target_item_id}: no such item has been filed")]
    MergeTargetNotFound {
        /// The item.
        item_id: String,
        /// The target.
        target_item_id: String,
    },
    /// A merge target that is closed or ended. Code `wrong_state`.
    #[error(
        "item {item_id} cannot be merged into {target_item_id}, which is {status}; merge into \
         an item that is still open"
    )]
    MergeTargetFinished {
        /// The item.
        item_id: String,
        /// The target.
        target_item_id: String,
        /// The target's status.
        status: ItemStatus,
    },
    /// A `parent_id` that names no filed item. Code `not_found`.
    #[error("item {item_id}: parent {parent_id} has not been filed")]
    ParentNotFound {
        /// The item.
        item_id: String,
        /// The parent named.
        parent_id: String,
    },
    /// A `parent_id` that names an item that is not a deliberation opinion. Code `invalid`.
    #[error(
        "item {item_id}: parent {parent_id} is a {kind}; only a deliberation opinion may have \
         child items"
    )]
    ParentNotDeliberation {
        /// The item.
        item_id: String,
        /// The parent named.
        parent_id: String,
        /// The parent's kind.
        kind: ItemKind,
    },
    /// A `parent_id` that names a closed or ended item. Code `wrong_state`.
    #[error(
        "item {item_id}: parent {parent_id} is {status}; a child can join only an open parent"
    )]
    ParentFinished {
        /// The item.
        item_id: String,
        /// The parent named.
        parent_id: String,
        /// The parent's status.
        status: ItemStatus,
    },
    /// `CloseItem` on a deliberation opinion with open child items. Code `wrong_state`.
    #[error(
        "item {item_id} cannot be closed while its child items are open: {}",
        .child_ids.join(", ")
    )]
    OpenChildItems {
        /// The item.
        item_id: String,
        /// The open children.
        child_ids: Vec<String>,
    },
}

impl ItemError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ItemError::RoleNotAllowed { .. }
            | ItemError::NotItemDeputy { .. }
            | ItemError::RatingForAnotherDeputy { .. }
            | ItemError::UnitNotOnItem { .. }
            | ItemError::NotCoUnit { .. } => ErrorCode::Forbidden,
            ItemError::NotFiled { .. }
            | ItemError::CommitmentNotFound { .. }
            | ItemError::MergeTargetNotFound { .. }
            | ItemError::ParentNotFound { .. } => ErrorCode::NotFound,
            ItemError::AlreadyFiled { .. }
            | ItemError::TriageNeedsFiled { .. }
            | ItemError::AssignNeedsAccepted { .. }
            | ItemError::AnswerNeedsAssignment { .. }
            | ItemError::RatingNeedsAnswer { .. }
            | ItemError::ItemFinished { .. }
            | ItemError::CommitmentAlreadyFulfilled { .. }
            | ItemError::ReconcileNeedsRating { .. }
            | ItemError::OpenCommitments { .. }
            | ItemError::CloseNeedsReconciliation { .. }
            | ItemError::NotAssigned { .. }
            | ItemError::RoundNotAwaitingAnswer { .. }
            | ItemError::ItemEnded { .. }
            | ItemError::AlreadyAcknowledged { .. }
            | ItemError::CoViewAlreadySubmitted { .. }
            | ItemError::ExtensionAlreadyPending { .. }
            | ItemError::NoExtensionPending { .. }
            | ItemError::ContactRequired { .. }
            | ItemError::ReclassifyNeedsAnswer { .. }
            | ItemError::WithdrawNeedsUnanswered { .. }
            | ItemError::ReopenNeedsClosed { .. }
            | ItemError::MergeTargetFinished { .. }
            | ItemError::ParentFinished { .. }
            | ItemError::OpenChildItems { .. } => ErrorCode::WrongState,
            ItemError::ItemIdMismatch { .. }
            | ItemError::InvalidField { .. }
            | ItemError::SeveralLeadDeputies { .. }
            | ItemError::ParentIsItself { .. }
            | ItemError::FieldNotForDecision { .. }
            | ItemError::MergeIntoItself { .. }
            | ItemError::CoUnitIsLeadUnit { .. }
            | ItemError::CommitmentIdUsed { .. }
            | ItemError::UnknownDeputy { .. }
            | ItemError::ExtensionBeyondLimit { .. }
            | ItemError::ExtensionNotLater { .. }
            | ItemError::ExtensionOnDayOff { .. }
            | ItemError::SameClass { .. }
            | ItemError::ParentNotDeliberation { .. } => ErrorCode::Invalid,
        }
    }
}
