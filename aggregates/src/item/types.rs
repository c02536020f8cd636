//! The vocabulary of items: statuses, kinds, levels, classes, ratings, and the people and
//! commitments an item names.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Where an item stands (DESIGN.md §4).
///
/// `filed` to `closed` are open or finished work; `returned`, `redirected`, `merged` and
/// `withdrawn` are endings without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Filed by the liaison office, waiting for triage (立案, 待交办).
    Filed,
    /// Accepted by the court office, waiting for assignment.
    Accepted,
    /// Assigned to a lead unit and a leader, being handled in round 1.
    Assigned,
    /// Answered in the current round, waiting for the deputy's rating.
    Answered,
    /// Rated, and the rating is not `unsatisfied`.
    Rated,
    /// Rated unsatisfied: being handled again, in round 2 or later, before its answer (重新办理).
    Rehandling,
    /// Reconciled by the liaison office (对账).
    Reconciled,
    /// Closed by the leader (销号).
    Closed,
    /// Returned at triage (退回).
    Returned,
    /// Redirected at triage to another body (转办).
    Redirected,
    /// Merged at triage into another item (并案).
    Merged,
    /// Withdrawn by the liaison office (撤回).
    Withdrawn,
}

impl ItemStatus {
    /// The status as written in JSON: `"rehandling"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Filed => "filed",
            ItemStatus::Accepted => "accepted",
            ItemStatus::Assigned => "assigned",
            ItemStatus::Answered => "answered",
            ItemStatus::Rated => "rated",
            ItemStatus::Rehandling => "rehandling",
            ItemStatus::Reconciled => "reconciled",
            ItemStatus::Closed => "closed",
            ItemStatus::Returned => "returned",
            ItemStatus::Redirected => "redirected",
            ItemStatus::Merged => "merged",
            ItemStatus::Withdrawn => "withdrawn",
        }
    }

    /// Whether the item ended without an answer: returned, redirected, merged or withdrawn.
    pub const fn is_ended_unanswered(self) -> bool {
        match self {
            ItemStatus::Returned
            | ItemStatus::Redirected
            | ItemStatus::Merged
            | ItemStatus::Withdrawn => true,
            ItemStatus::Filed
            | ItemStatus::Accepted
            | ItemStatus::Assigned
            | ItemStatus::Answered
            | ItemStatus::Rated
            | ItemStatus::Rehandling
            | ItemStatus::Reconciled
            | ItemStatus::Closed => false,
        }
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of matter an item is (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A deputy's suggestion (代表建议).
    Suggestion,
    /// A deliberation opinion of the standing committee (审议意见); may have child items.
    DeliberationOpinion,
    /// A follow-up of a special inquiry (专题询问).
    Inquiry,
    /// A finding of an inspection or survey (视察/调研发现).
    InspectionFinding,
    /// A deputy's letter, or a case a deputy is concerned about (代表来信/代表关注案件).
    DeputyLetter,
}

impl ItemKind {
    /// The kind as written in JSON: `"deliberation_opinion"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::Suggestion => "suggestion",
            ItemKind::DeliberationOpinion => "deliberation_opinion",
            ItemKind::Inquiry => "inquiry",
            ItemKind::InspectionFinding => "inspection_finding",
            ItemKind::DeputyLetter => "deputy_letter",
        }
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The level of the leader an item is assigned to (领导包案, 分级负责).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaderLevel {
    /// The court president (院长).
    President,
    /// A vice president (副院长).
    VicePresident,
    /// A member of the judicial committee (审委会专职委员).
    CommitteeMember,
    /// A division chief (庭长 / 局长).
    DivisionChief,
}

impl LeaderLevel {
    /// The level as written in JSON: `"vice_president"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LeaderLevel::President => "president",
            LeaderLevel::VicePresident => "vice_president",
            LeaderLevel::CommitteeMember => "committee_member",
            LeaderLevel::DivisionChief => "division_chief",
        }
    }
}

impl fmt::Display for LeaderLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class letter of an answer (A: solved or adopted … D: explained, cannot be solved). The
/// labels of the letters are a locality's setting; the letters are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnswerClass {
    /// Class A.
    A,
    /// Class B.
    B,
    /// Class C.
    C,
    /// Class D.
    D,
}

impl AnswerClass {
    /// The letter: `"A"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AnswerClass::A => "A",
            AnswerClass::B => "B",
            AnswerClass::C => "C",
            AnswerClass::D => "D",
        }
    }
}

impl fmt::Display for AnswerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deputy's rating of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// Satisfied (满意).
    Satisfied,
    /// Basically satisfied (基本满意).
    BasicallySatisfied,
    /// Unsatisfied (不满意): the item is handled again in a new round.
    Unsatisfied,
    /// The deputy gave no response (未反馈).
    NoResponse,
}

impl Rating {
    /// The rating as written in JSON: `"basically_satisfied"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::BasicallySatisfied => "basically_satisfied",
            Rating::Unsatisfied => "unsatisfied",
            Rating::NoResponse => "no_response",
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The court office's triage decision on a filed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageDecision {
    /// Accept the item for handling.
    Accept,
    /// Return it to the liaison office (退回); needs a reason.
    Return,
    /// Redirect it to another body (转办); needs `redirect_to` and a reason.
    Redirect,
    /// Merge it into another item (并案); needs `target_item_id` and a reason.
    Merge,
}

impl TriageDecision {
    /// The decision as written in JSON: `"redirect"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TriageDecision::Accept => "accept",
            TriageDecision::Return => "return",
            TriageDecision::Redirect => "redirect",
            TriageDecision::Merge => "merge",
        }
    }
}

impl fmt::Display for TriageDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deputy named on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deputy {
    /// The deputy's person id.
    pub id: String,
    /// The deputy's name.
    pub name: String,
    /// Whether this deputy leads the item (领衔代表); at most one does. Default false.
    #[serde(default)]
    pub lead: bool,
}

/// The court leader an item is assigned to (包案领导).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leader {
    /// The leader's person id.
    pub id: String,
    /// The leader's name.
    pub name: String,
    /// The leader's level.
    pub level: LeaderLevel,
}

/// A commitment an answer makes (承诺事项), to be fulfilled by its due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// The commitment's id, unique within the item across all rounds.
    pub id: String,
    /// What is promised.
    pub text: String,
    /// The date it is promised by.
    pub due: Date,
}

/// How the court was in contact with a deputy (联系方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// Met in person (见面、面商、走访).
    InPerson,
    /// By telephone (电话).
    Phone,
    /// By video call (视频).
    Video,
    /// In writing: a letter or a message (书面、信函).
    Written,
    /// Any other way (其他).
    Other,
}

/// When, relative to the handling, a contact with a deputy took place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactStage {
    /// Before handling, to understand the request (办理前).
    Before,
    /// During handling, to discuss it (办理中).
    During,
    /// After handling, to explain the result (办理后).
    After,
}

/// What the write side looked up in other streams for an item command: the aggregate decides
/// only on its own stream, so facts about other items arrive on the command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFacts {
    /// For `FileItem` with a `parent_id`: the parent item, `None` when it was never filed.
    #[serde(default)]
    pub parent: Option<LinkedItem>,
    /// For a `merge` triage: the target item, `None` when it was never filed.
    #[serde(default)]
    pub merge_target: Option<LinkedItem>,
    /// For `CloseItem` on a deliberation opinion: its child items that are still open (neither
    /// closed nor ended), by id.
    #[serde(default)]
    pub open_child_ids: Vec<String>,
}

/// Another item, as a command's facts describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedItem {
    /// Its kind.
    pub kind: ItemKind,
    /// Its status.
    pub status: ItemStatus,
}

impl ItemStatus {
    /// Whether the item is finished: closed, or ended without an answer.
    pub const fn is_finished(self) -> bool {
        matches!(self, ItemStatus::Closed) || self.is_ended_unanswered()
    }

    /// The status in Chinese, for messages: `"重新办理中"`.
    pub const fn label_zh(self) -> &'static str {
        match self {
            ItemStatus::Filed => "已提交待分办",
            ItemStatus::Accepted => "已受理待交办",
            ItemStatus::Assigned => "已交办",
            ItemStatus::Answered => "已答复",
            ItemStatus::Rated => "已评价",
            ItemStatus::Rehandling => "重新办理中",
            ItemStatus::Reconciled => "已对账",
            ItemStatus::Closed => "已销号",
            ItemStatus::Returned => "已退回",
            ItemStatus::Redirected => "已转办",
            ItemStatus::Merged => "已并案",
            ItemStatus::Withdrawn => "已撤回",
        }
    }
}
