//! Case follows (一人一案 跟案执行): a deputy follows one enforcement case, and the court records
//! what it does in that case (witnessed actions, mediations, recoveries) until the follow ends.
//!
//! A [`Follow`] is the `cqrs-es` aggregate of the `follow/…` streams, driven by a
//! [`FollowCommand`] and recording [`FollowEvent`]s, or refusing with a [`FollowError`].

mod decide;
mod error;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use error::FollowError;

use crate::command::Command;
use crate::item::Rating;
use crate::money::Yuan;
use crate::rules::Rules;

/// A command to a case follow.
pub type FollowCommand = Command<FollowAction>;

/// A person a follow names: the deputy following, or the judge in charge of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRef {
    /// The person's id.
    pub id: String,
    /// The person's name.
    pub name: String,
}

/// The kind of an enforcement action (执行措施).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementActionKind {
    /// Investigating the debtor's property (财产调查).
    PropertyInvestigation,
    /// Seizing, attaching or freezing property (查封、扣押、冻结).
    Seizure,
    /// Searching (搜查).
    Search,
    /// Auctioning or selling property (拍卖、变卖).
    Auction,
    /// Evicting or handing over property (强制迁出、交付).
    Eviction,
    /// A fine or detention (罚款、拘留).
    FineOrDetention,
    /// Credit sanctions: the list of dishonest debtors, spending limits (失信惩戒、限制消费).
    CreditSanction,
    /// An enforcement on site (现场执行).
    OnSite,
    /// Any other action (其他).
    Other,
}

/// How a case follow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowOutcome {
    /// The judgment was enforced in full (执行完毕).
    Enforced,
    /// The parties settled (执行和解).
    Settled,
    /// Enforcement was terminated for now (终结本次执行程序).
    Terminated,
    /// The case went to another court (移送、指定执行).
    Transferred,
    /// Any other ending (其他).
    Other,
}

/// What a follow command asks for. Serialised as `{"type":"StartCaseFollow","data":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum FollowAction {
    /// Start following a case (court office, liaison).
    StartCaseFollow(StartCaseFollow),
    /// Log an enforcement action (handler).
    RecordEnforcementAction(RecordEnforcementAction),
    /// Log a mediation (handler).
    RecordMediation(RecordMediation),
    /// Log money recovered (handler).
    RecordRecovery(RecordRecovery),
    /// The deputy's evaluation (deputy, or liaison on their behalf).
    RecordFollowEvaluation(RecordFollowEvaluation),
    /// End the follow (court office, liaison).
    EndCaseFollow(EndCaseFollow),
}

/// `StartCaseFollow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartCaseFollow {
    /// The new follow's id; it must be unused.
    pub follow_id: String,
    /// The case number (案号).
    pub case_no: String,
    /// The deputy following the case.
    pub deputy: PersonRef,
    /// The judge in charge.
    pub judge: PersonRef,
}

/// `RecordEnforcementAction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEnforcementAction {
    /// The follow.
    pub follow_id: String,
    /// The kind of action.
    pub kind: EnforcementActionKind,
    /// What was done, 1 to 20,000 characters.
    pub summary: String,
    /// Whether the deputy was there (a witnessed action, 见证执行).
    pub deputy_present: bool,
}

/// `RecordMediation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMediation {
    /// The follow.
    pub follow_id: String,
    /// Whether the parties settled.
    pub settled: bool,
    /// What happened, 1 to 20,000 characters.
    pub summary: String,
}

/// `RecordRecovery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRecovery {
    /// The follow.
    pub follow_id: String,
    /// The amount recovered, in yuan, as a decimal string: `"12345.60"`.
    pub amount: String,
    /// How, 1 to 20,000 characters.
    pub summary: String,
}

/// `RecordFollowEvaluation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordFollowEvaluation {
    /// The follow.
    pub follow_id: String,
    /// The rating.
    pub rating: Rating,
    /// The deputy's comment. Default empty.
    #[serde(default)]
    pub comment: String,
}

/// `EndCaseFollow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndCaseFollow {
    /// The follow.
    pub follow_id: String,
    /// How it ended.
    pub outcome: FollowOutcome,
    /// A summary, 1 to 20,000 characters.
    pub summary: String,
}

impl FollowAction {
    /// The type name of every follow action.
    pub const TYPES: &'static [&'static str] = &[
        "StartCaseFollow",
        "RecordEnforcementAction",
        "RecordMediation",
        "RecordRecovery",
        "RecordFollowEvaluation",
        "EndCaseFollow",
    ];

    /// The id of the follow the action is about.
    pub fn follow_id(&self) -> &str {
        match self {
            FollowAction::StartCaseFollow(data) => &data.follow_id,
            FollowAction::RecordEnforcementAction(data) => &data.follow_id,
            FollowAction::RecordMediation(data) => &data.follow_id,
            FollowAction::RecordRecovery(data) => &data.follow_id,
            FollowAction::RecordFollowEvaluation(data) => &data.follow_id,
            FollowAction::EndCaseFollow(data) => &data.follow_id,
        }
    }

    /// The action's type name: `"RecordRecovery"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            FollowAction::StartCaseFollow(_) => "StartCaseFollow",
            FollowAction::RecordEnforcementAction(_) => "RecordEnforcementAction",
            FollowAction::RecordMediation(_) => "RecordMediation",
            FollowAction::RecordRecovery(_) => "RecordRecovery",
            FollowAction::RecordFollowEvaluation(_) => "RecordFollowEvaluation",
            FollowAction::EndCaseFollow(_) => "EndCaseFollow",
        }
    }
}

/// Something that happened to a case follow. Every event's data carries the `follow_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum FollowEvent {
    /// The follow started (active).
    CaseFollowStarted {
        /// The follow.
        follow_id: String,
        /// The case number.
        case_no: String,
        /// The deputy following.
        deputy: PersonRef,
        /// The judge in charge.
        judge: PersonRef,
        /// The local date it started.
        started_on: Date,
    },
    /// An enforcement action was logged.
    EnforcementActionRecorded {
        /// The follow.
        follow_id: String,
        /// The kind of action.
        kind: EnforcementActionKind,
        /// What was done.
        summary: String,
        /// Whether the deputy witnessed it.
        deputy_present: bool,
        /// The local date of the action.
        acted_on: Date,
    },
    /// A mediation was logged.
    MediationRecorded {
        /// The follow.
        follow_id: String,
        /// Whether the parties settled.
        settled: bool,
        /// What happened.
        summary: String,
        /// The local date of the mediation.
        mediated_on: Date,
    },
    /// Money recovered was logged.
    RecoveryRecorded {
        /// The follow.
        follow_id: String,
        /// The amount, a decimal string in yuan.
        amount: Yuan,
        /// How.
        summary: String,
        /// The local date of the recovery.
        recovered_on: Date,
        /// The follow's total recovered so far, this amount included.
        recovered_total: Yuan,
    },
    /// The deputy's evaluation was logged.
    FollowEvaluated {
        /// The follow.
        follow_id: String,
        /// The rating.
        rating: Rating,
        /// The comment.
        comment: String,
        /// The deputy whose evaluation it is.
        deputy_id: String,
        /// Whether the liaison office recorded it on the deputy's behalf.
        on_behalf: bool,
    },
    /// The follow ended.
    CaseFollowEnded {
        /// The follow.
        follow_id: String,
        /// How it ended.
        outcome: FollowOutcome,
        /// A summary.
        summary: String,
        /// The local date it ended.
        ended_on: Date,
    },
}

impl FollowEvent {
    /// The event's type name: `"RecoveryRecorded"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            FollowEvent::CaseFollowStarted { .. } => "CaseFollowStarted",
            FollowEvent::EnforcementActionRecorded { .. } => "EnforcementActionRecorded",
            FollowEvent::MediationRecorded { .. } => "MediationRecorded",
            FollowEvent::RecoveryRecorded { .. } => "RecoveryRecorded",
            FollowEvent::FollowEvaluated { .. } => "FollowEvaluated",
            FollowEvent::CaseFollowEnded { .. } => "CaseFollowEnded",
        }
    }
}

impl DomainEvent for FollowEvent {
    fn event_type(&self) -> String {
        self.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// One case follow: the `cqrs-es` aggregate of the `follow/…` streams. The default value is a
/// follow not yet started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    started: Option<FollowState>,
}

/// What the rules need of a started follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FollowState {
    follow_id: String,
    deputy_id: String,
    ended: bool,
    recovered_total: Option<Yuan>,
}

impl Follow {
    /// The follow's id, once started.
    pub fn follow_id(&self) -> Option<&str> {
        self.started.as_ref().map(|state| state.follow_id.as_str())
    }

    /// Whether the follow has ended; `None` before it started.
    pub fn ended(&self) -> Option<bool> {
        self.started.as_ref().map(|state| state.ended)
    }

    /// The total recovered so far, if anything was.
    pub fn recovered_total(&self) -> Option<Yuan> {
        self.started
            .as_ref()
            .and_then(|state| state.recovered_total)
    }
}

impl Aggregate for Follow {
    const TYPE: &'static str = "follow";
    type Command = FollowCommand;
    type Event = FollowEvent;
    type Error = FollowError;
    type Services = Rules;

    /// Decides the command with [`Follow::decide`], then writes the events.
    async fn handle(
        &mut self,
        command: FollowCommand,
        rules: &Rules,
        sink: &EventSink<Follow>,
    ) -> Result<(), FollowError> {
        let events = self.decide(&command, rules)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: FollowEvent) {
        match event {
            FollowEvent::CaseFollowStarted {
                follow_id, deputy, ..
            } => {
                self.started = Some(FollowState {
                    follow_id,
                    deputy_id: deputy.id,
                    ended: false,
                    recovered_total: None,
                });
            }
            FollowEvent::RecoveryRecorded {
                recovered_total, ..
            } => {
                if let Some(state) = self.started.as_mut() {
                    state.recovered_total = Some(recovered_total);
                }
            }
            FollowEvent::CaseFollowEnded { .. } => {
                if let Some(state) = self.started.as_mut() {
                    state.ended = true;
                }
            }
            FollowEvent::EnforcementActionRecorded { .. }
            | FollowEvent::MediationRecorded { .. }
            | FollowEvent::FollowEvaluated { .. } => {}
        }
    }
}
