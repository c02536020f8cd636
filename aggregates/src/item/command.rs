//! Item commands: who acts, when, and what they ask for.

use serde::{Deserialize, Serialize};

use super::types::{AnswerClass, Commitment, Deputy, ItemKind, Leader, Rating, TriageDecision};
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
    /// Answer an assigned or re-handled item (leader).
    AnswerItem(AnswerItem),
    /// Rate an answer (the deputy, or the liaison office on the deputy's behalf).
    RateAnswer(RateAnswer),
    /// Mark a commitment of an answer fulfilled (handler, leader).
    FulfilCommitment(FulfilCommitment),
    /// Reconcile a rated item (liaison).
    ReconcileItem(ReconcileItem),
    /// Close a reconciled item (leader).
    CloseItem(CloseItem),
}

impl ItemAction {
    /// The type name of every item action, as written in a command's `type`.
    pub const TYPES: &'static [&'static str] = &[
        "FileItem",
        "TriageItem",
        "AssignItem",
        "AnswerItem",
        "RateAnswer",
        "FulfilCommitment",
        "ReconcileItem",
        "CloseItem",
    ];

    /// The id of the item the action is about.
    pub fn item_id(&self) -> &str {
        match self {
            ItemAction::FileItem(data) => &data.item_id,
            ItemAction::TriageItem(data) => &data.item_id,
            ItemAction::AssignItem(data) => &data.item_id,
            ItemAction::AnswerItem(data) => &data.item_id,
            ItemAction::RateAnswer(data) => &data.item_id,
            ItemAction::FulfilCommitment(data) => &data.item_id,
            ItemAction::ReconcileItem(data) => &data.item_id,
            ItemAction::CloseItem(data) => &data.item_id,
        }
    }

    /// The action's type name, as written in a command's `type`: `"FileItem"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ItemAction::FileItem(_) => "FileItem",
            ItemAction::TriageItem(_) => "TriageItem",
            ItemAction::AssignItem(_) => "AssignItem",
            ItemAction::AnswerItem(_) => "AnswerItem",
            ItemAction::RateAnswer(_) => "RateAnswer",
            ItemAction::FulfilCommitment(_) => "FulfilCommitment",
            ItemAction::ReconcileItem(_) => "ReconcileItem",
            ItemAction::CloseItem(_) => "CloseItem",
        }
    }

    /// The roles that may issue the action of type `type_name` (DESIGN.md §4); none for a name
    /// that is not in [`ItemAction::TYPES`]. A role being allowed is not enough: a deputy may
    /// rate only the items that name them.
    pub fn allowed_roles(type_name: &str) -> &'static [Role] {
        match type_name {
            "FileItem" | "ReconcileItem" => &[Role::Liaison],
            "TriageItem" | "AssignItem" => &[Role::CourtOffice],
            "AnswerItem" | "CloseItem" => &[Role::Leader],
            "RateAnswer" => &[Role::Deputy, Role::Liaison],
            "FulfilCommitment" => &[Role::Handler, Role::Leader],
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
