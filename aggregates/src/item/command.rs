//! Item commands: who acts, when, and what they ask for.

use serde::{Deserialize, Serialize};

use jiff::civil::Date;

use super::types::{
    AnswerClass, Commitment, ContactChannel, ContactStage, Deputy, ItemFacts, ItemKind, Leader,
    Rating, TriageDecision,
};
use crate::access;
use crate::actor::{Actor, Role};
use crate::time::BusinessTime;

/// One command to an item: the actor, the business time it happens at, and the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemCommand {
    /// Who issues the command, in which role.
    pub actor: Actor,
    /// The business time of the command; deadlines are computed from its local date.
    pub at: BusinessTime,
    /// What the command asks for.
    pub action: ItemAction,
    /// What the write side looked up in other streams (a merge target, a parent, open child
    /// items). Default: nothing found.
    #[serde(default)]
    pub facts: ItemFacts,
}

/// What an item command asks for. Serialised as `{"type":"FileItem","data":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ItemAction {
    /// File a new item (liaison).
    FileItem(FileItem),
    /// Accept, return, redirect or merge a filed item (court office).
    TriageItem(TriageItem),
    /// Assign an accepted item to a lead unit, co-units and a leader (court office).
    AssignItem(AssignItem),
    /// A unit of the item acknowledges its assignment (handler).
    AcknowledgeItem(AcknowledgeItem),
    /// Log a contact with a deputy (handler, leader).
    RecordContact(RecordContact),
    /// A co-unit submits its view (handler).
    SubmitCoView(SubmitCoView),
    /// Log progress (handler, leader).
    ReportProgress(ReportProgress),
    /// Ask for a later due date (handler, leader).
    RequestExtension(RequestExtension),
    /// Approve or refuse the pending extension (liaison).
    DecideExtension(DecideExtension),
    /// Answer an assigned or re-handled item (leader).
    AnswerItem(AnswerItem),
    /// Correct the class letter of the current answer (liaison).
    ReclassifyAnswer(ReclassifyAnswer),
    /// Rate an answer (the deputy, or the liaison office on the deputy's behalf).
    RateAnswer(RateAnswer),
    /// Mark a commitment of an answer fulfilled (handler, leader).
    FulfilCommitment(FulfilCommitment),
    /// Reconcile a rated item (liaison).
    ReconcileItem(ReconcileItem),
    /// Close a reconciled item (leader).
    CloseItem(CloseItem),
    /// Withdraw an item not yet answered (liaison).
    WithdrawItem(WithdrawItem),
    /// Reopen a closed item for another round (liaison).
    ReopenItem(ReopenItem),
}

impl ItemAction {
    /// The type name of every item action, as written in a command's `type`.
    pub const TYPES: &'static [&'static str] = &[
        "FileItem",
        "TriageItem",
        "AssignItem",
        "AcknowledgeItem",
        "RecordContact",
        "SubmitCoView",
        "ReportProgress",
        "RequestExtension",
        "DecideExtension",
        "AnswerItem",
        "ReclassifyAnswer",
        "RateAnswer",
        "FulfilCommitment",
        "ReconcileItem",
        "CloseItem",
        "WithdrawItem",
        "ReopenItem",
    ];

    /// The id of the item the action is about.
    pub fn item_id(&self) -> &str {
        match self {
            ItemAction::FileItem(data) => &data.item_id,
            ItemAction::TriageItem(data) => &data.item_id,
            ItemAction::AssignItem(data) => &data.item_id,
            ItemAction::AcknowledgeItem(data) => &data.item_id,
            ItemAction::RecordContact(data) => &data.item_id,
            ItemAction::SubmitCoView(data) => &data.item_id,
            ItemAction::ReportProgress(data) => &data.item_id,
            ItemAction::RequestExtension(data) => &data.item_id,
            ItemAction::DecideExtension(data) => &data.item_id,
            ItemAction::AnswerItem(data) => &data.item_id,
            ItemAction::ReclassifyAnswer(data) => &data.item_id,
            ItemAction::RateAnswer(data) => &data.item_id,
            ItemAction::FulfilCommitment(data) => &data.item_id,
            ItemAction::ReconcileItem(data) => &data.item_id,
            ItemAction::CloseItem(data) => &data.item_id,
            ItemAction::WithdrawItem(data) => &data.item_id,
            ItemAction::ReopenItem(data) => &data.item_id,
        }
    }

    /// The action's type name, as written in a command's `type`: `"FileItem"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ItemAction::FileItem(_) => "FileItem",
            ItemAction::TriageItem(_) => "TriageItem",
            ItemAction::AssignItem(_) => "AssignItem",
            ItemAction::AcknowledgeItem(_) => "AcknowledgeItem",
            ItemAction::RecordContact(_) => "RecordContact",
            ItemAction::SubmitCoView(_) => "SubmitCoView",
            ItemAction::ReportProgress(_) => "ReportProgress",
            ItemAction::RequestExtension(_) => "RequestExtension",
            ItemAction::DecideExtension(_) => "DecideExtension",
            ItemAction::AnswerItem(_) => "AnswerItem",
            ItemAction::ReclassifyAnswer(_) => "ReclassifyAnswer",
            ItemAction::RateAnswer(_) => "RateAnswer",
            ItemAction::FulfilCommitment(_) => "FulfilCommitment",
            ItemAction::ReconcileItem(_) => "ReconcileItem",
            ItemAction::CloseItem(_) => "CloseItem",
            ItemAction::WithdrawItem(_) => "WithdrawItem",
            ItemAction::ReopenItem(_) => "ReopenItem",
        }
    }

    /// The roles that may issue the action of type `type_name`, from the one table
    /// [`crate::access::COMMANDS`]; none for a name that is not an item command. A role being
    /// allowed is not enough: a deputy may rate only the items that name them.
    pub fn allowed_roles(type_name: &str) -> &'static [Role] {
        match access::command_rule(type_name) {
            Some(rule) if rule.stream == access::StreamKind::Item => rule.roles,
            _ => &[],
        }
    }
}

fn default_true() -> bool {
    true
}

/// `FileItem`: file a new item on behalf of its deputies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileItem {
    /// The new item's id; it must be unused.
    pub item_id: String,
    /// The kind of matter.
    pub kind: ItemKind,
    /// The title, 1 to 200 characters.
    pub title: String,
    /// The full text, at most 20,000 characters.
    pub body: String,
    /// The deputies who raised it, 1 to 50, at most one of them lead.
    pub deputies: Vec<Deputy>,
    /// Whether it is urgent (a shorter answer deadline). Default false.
    #[serde(default)]
    pub urgent: bool,
    /// The case numbers it concerns (案号). Default none.
    #[serde(default)]
    pub cases: Vec<String>,
    /// The item it is a child of (a deliberation opinion's item), if any.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// `TriageItem`: accept, return, redirect or merge a filed item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageItem {
    /// The item.
    pub item_id: String,
    /// The decision.
    pub decision: TriageDecision,
    /// Why; required unless the decision is `accept`. Default empty.
    #[serde(default)]
    pub reason: String,
    /// The item to merge into; required for `merge`, refused otherwise.
    #[serde(default)]
    pub target_item_id: Option<String>,
    /// The body to redirect to; required for `redirect`, refused otherwise.
    #[serde(default)]
    pub redirect_to: Option<String>,
}

/// `AssignItem`: assign an accepted item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignItem {
    /// The item.
    pub item_id: String,
    /// The lead unit (主办部门).
    pub lead_unit: String,
    /// The co-units (协办部门), at most 20, none of them the lead unit. Default none.
    #[serde(default)]
    pub co_units: Vec<String>,
    /// The responsible leader (包案领导).
    pub leader: Leader,
}

/// `AnswerItem`: the leader's answer in the current round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerItem {
    /// The item.
    pub item_id: String,
    /// The answer's class letter.
    pub class: AnswerClass,
    /// The answer's text.
    pub text: String,
    /// The answer document's number (文号), if any.
    #[serde(default)]
    pub doc_no: Option<String>,
    /// Whether the answer may be published. Default true.
    #[serde(default = "default_true")]
    pub public: bool,
    /// What the answer promises, at most 50. Default none.
    #[serde(default)]
    pub commitments: Vec<Commitment>,
}

/// `RateAnswer`: the rating of the current round's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateAnswer {
    /// The item.
    pub item_id: String,
    /// The rating.
    pub rating: Rating,
    /// The deputy's comment. Default empty.
    #[serde(default)]
    pub comment: String,
    /// The deputy whose rating the liaison office records. When absent, the lead deputy, else the
    /// first deputy named on the item. A deputy rating for themself may leave it out or give
    /// their own id.
    #[serde(default)]
    pub deputy_id: Option<String>,
}

/// `FulfilCommitment`: mark one commitment of an answer fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FulfilCommitment {
    /// The item.
    pub item_id: String,
    /// The commitment.
    pub commitment_id: String,
    /// How it was fulfilled. Default empty.
    #[serde(default)]
    pub note: String,
}

/// `ReconcileItem`: the liaison office reconciles a rated item (对账).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileItem {
    /// The item.
    pub item_id: String,
    /// A note. Default empty.
    #[serde(default)]
    pub note: String,
}

/// `CloseItem`: the leader closes a reconciled item (销号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseItem {
    /// The item.
    pub item_id: String,
    /// A note. Default empty.
    #[serde(default)]
    pub note: String,
}

/// `AcknowledgeItem`: a unit of the item acknowledges its assignment (签收).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeItem {
    /// The item.
    pub item_id: String,
    /// The unit acknowledging: the lead unit or a co-unit.
    pub unit: String,
}

/// `RecordContact`: a contact with one of the item's deputies (见面、面商).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordContact {
    /// The item.
    pub item_id: String,
    /// The deputy contacted; one of the item's deputies.
    pub deputy_id: String,
    /// How.
    pub channel: ContactChannel,
    /// Before, during or after the handling.
    pub stage: ContactStage,
    /// What was said, 1 to 20,000 characters.
    pub summary: String,
}

/// `SubmitCoView`: a co-unit's view on the item (协办意见).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitCoView {
    /// The item.
    pub item_id: String,
    /// The co-unit submitting.
    pub unit: String,
    /// Its view, 1 to 20,000 characters.
    pub view: String,
}

/// `ReportProgress`: progress of the handling (办理进展).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportProgress {
    /// The item.
    pub item_id: String,
    /// What was done, 1 to 20,000 characters.
    pub summary: String,
}

/// `RequestExtension`: ask the liaison office for a later due date (申请延期).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestExtension {
    /// The item.
    pub item_id: String,
    /// The due date asked for: a working day after the current due date, at most the
    /// assignment date plus six months.
    pub until: Date,
    /// Why, 1 to 20,000 characters.
    pub reason: String,
}

/// `DecideExtension`: the liaison office approves or refuses the pending extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideExtension {
    /// The item.
    pub item_id: String,
    /// True to approve (the due date moves to the date asked for), false to refuse.
    pub approve: bool,
    /// A note. Default empty.
    #[serde(default)]
    pub note: String,
}

/// `ReclassifyAnswer`: the liaison office corrects the class letter of the current answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReclassifyAnswer {
    /// The item.
    pub item_id: String,
    /// The corrected class letter; it must differ from the current one.
    pub class: AnswerClass,
    /// Why, 1 to 20,000 characters.
    pub reason: String,
}

/// `WithdrawItem`: the liaison office withdraws an item never answered (撤回).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawItem {
    /// The item.
    pub item_id: String,
    /// Why, 1 to 20,000 characters.
    pub reason: String,
}

/// `ReopenItem`: the liaison office reopens a closed item for another round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenItem {
    /// The item.
    pub item_id: String,
    /// Why, 1 to 20,000 characters.
    pub reason: String,
}
