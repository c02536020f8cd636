//! Engagements with deputies (走访、视察、座谈会、专项行动…), counted in the yearly figures.
//!
//! An [`Engagement`] is the `cqrs-es` aggregate of the `engagement/…` streams: recorded once by
//! [`RecordEngagement`], refused with an [`EngagementError`] otherwise.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::access::{self, roles_text, roles_text_zh};
use crate::actor::Role;
use crate::command::Command;
use crate::error::{ErrorCode, Refusal};
use crate::rules::Rules;
use crate::validate::{self, FieldError};

/// The most deputies one engagement may name (a forum of a whole congress delegation fits).
pub const ENGAGEMENT_DEPUTIES_MAX: usize = 200;

/// A command to an engagement.
pub type EngagementCommand = Command<EngagementAction>;

/// The kind of an engagement (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementKind {
    /// A visit to deputies (走访).
    Visit,
    /// An inspection by deputies (视察).
    Inspection,
    /// A forum (座谈会).
    Forum,
    /// A special action deputies witness (专项行动).
    SpecialAction,
    /// A briefing to deputies (通报会).
    Briefing,
    /// A survey report (调研报告).
    SurveyReport,
    /// A hearing deputies attend (听证).
    Hearing,
}

/// What an engagement command asks for: `{"type":"RecordEngagement","data":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EngagementAction {
    /// Record an engagement (court office, liaison).
    RecordEngagement(RecordEngagement),
}

impl EngagementAction {
    /// The type name of every engagement action.
    pub const TYPES: &'static [&'static str] = &["RecordEngagement"];

    /// The engagement's id.
    pub fn engagement_id(&self) -> &str {
        match self {
            EngagementAction::RecordEngagement(data) => &data.engagement_id,
        }
    }

    /// The action's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            EngagementAction::RecordEngagement(_) => "RecordEngagement",
        }
    }
}

/// `RecordEngagement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEngagement {
    /// The new engagement's id; it must be unused.
    pub engagement_id: String,
    /// The kind.
    pub kind: EngagementKind,
    /// The ids of the deputies taking part, 1 to [`ENGAGEMENT_DEPUTIES_MAX`], none twice.
    pub deputies: Vec<String>,
    /// What happened, 1 to 20,000 characters.
    pub summary: String,
}

/// Something that happened to an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EngagementEvent {
    /// The engagement was recorded.
    EngagementRecorded {
        /// The engagement.
        engagement_id: String,
        /// The kind.
        kind: EngagementKind,
        /// The deputies taking part.
        deputies: Vec<String>,
        /// What happened.
        summary: String,
        /// The local date it took place.
        held_on: Date,
    },
}

impl DomainEvent for EngagementEvent {
    fn event_type(&self) -> String {
        match self {
            EngagementEvent::EngagementRecorded { .. } => "EngagementRecorded".to_owned(),
        }
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// Why an engagement command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngagementError {
    /// The actor's role may not record engagements. Code `forbidden`.
    #[error(
        "engagement {engagement_id}: the {role} role may not {action}; {action} needs the {} role",
        roles_text(.action)
    )]
    RoleNotAllowed {
        /// The engagement.
        engagement_id: String,
        /// The command.
        action: &'static str,
        /// The actor's role.
        role: Role,
    },
    /// The engagement id is already used. Code `wrong_state`.
    #[error("engagement {engagement_id} is already recorded; choose a new engagement id")]
    AlreadyRecorded {
        /// The engagement.
        engagement_id: String,
    },
    /// A field is bad or missing. Code `invalid`.
    #[error("engagement {engagement_id}: {error}")]
    InvalidField {
        /// The engagement.
        engagement_id: String,
        /// What is wrong.
        error: FieldError,
    },
}

impl Refusal for EngagementError {
    fn code(&self) -> ErrorCode {
        match self {
            EngagementError::RoleNotAllowed { .. } => ErrorCode::Forbidden,
            EngagementError::AlreadyRecorded { .. } => ErrorCode::WrongState,
            EngagementError::InvalidField { .. } => ErrorCode::Invalid,
        }
    }

    fn message_zh(&self) -> String {
        match self {
            EngagementError::RoleNotAllowed {
                engagement_id,
                action,
                role,
            } => format!(
                "联络活动 {engagement_id}：{}无权执行 {action}；{action} 须由{}执行",
                role.label_zh(),
                roles_text_zh(action)
            ),
            EngagementError::AlreadyRecorded { engagement_id } => {
                format!("联络活动 {engagement_id} 已经登记；请使用新的活动编号")
            }
            EngagementError::InvalidField {
                engagement_id,
                error,
            } => format!("联络活动 {engagement_id}：{}", error.message_zh()),
        }
    }
}

/// One engagement: the `cqrs-es` aggregate of the `engagement/…` streams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    recorded: bool,
}

impl Engagement {
    /// Whether the engagement is recorded.
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }

    /// Decides `command`: role, then existence, then the fields.
    ///
    /// # Errors
    ///
    /// The first rule the command breaks.
    pub fn decide(
        &self,
        command: &EngagementCommand,
        rules: &Rules,
    ) -> Result<Vec<EngagementEvent>, EngagementError> {
        let EngagementAction::RecordEngagement(data) = &command.action;
        let engagement_id = data.engagement_id.as_str();
        let action = command.action.type_name();
        if !access::allowed_roles(action).contains(&command.actor.role) {
            return Err(EngagementError::RoleNotAllowed {
                engagement_id: engagement_id.to_owned(),
                action,
                role: command.actor.role,
            });
        }
        if self.recorded {
            return Err(EngagementError::AlreadyRecorded {
                engagement_id: engagement_id.to_owned(),
            });
        }
        check_fields(command, data, rules).map_err(|error| EngagementError::InvalidField {
            engagement_id: engagement_id.to_owned(),
            error,
        })?;
        Ok(vec![EngagementEvent::EngagementRecorded {
            engagement_id: engagement_id.to_owned(),
            kind: data.kind,
            deputies: data.deputies.clone(),
            summary: data.summary.clone(),
            held_on: command.at.local_date(&rules.deadlines.time_zone),
        }])
    }
}

fn check_fields(
    command: &EngagementCommand,
    data: &RecordEngagement,
    rules: &Rules,
) -> Result<(), FieldError> {
    validate::id("actor.id", &command.actor.id)?;
    validate::at_year("at", &command.at, &rules.deadlines.time_zone)?;
    validate::id("engagement_id", &data.engagement_id)?;
    if data.deputies.is_empty() {
        return Err(FieldError::Empty {
            field: "deputies".to_owned(),
        });
    }
    validate::count("deputies", data.deputies.len(), ENGAGEMENT_DEPUTIES_MAX)?;
    for (index, deputy) in data.deputies.iter().enumerate() {
        validate::id(&format!("deputies[{index}]"), deputy)?;
    }
    validate::unique("deputies", data.deputies.iter().map(String::as_str))?;
    validate::required_text("summary", &data.summary, validate::TEXT_CHARS_MAX)
}

impl Aggregate for Engagement {
    const TYPE: &'static str = "engagement";
    type Command = EngagementCommand;
    type Event = EngagementEvent;
    type Error = EngagementError;
    type Services = Rules;

    /// Decides the command with [`Engagement::decide`], then writes the events.
    async fn handle(
        &mut self,
        command: EngagementCommand,
        rules: &Rules,
        sink: &EventSink<Engagement>,
    ) -> Result<(), EngagementError> {
        let events = self.decide(&command, rules)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: EngagementEvent) {
        match event {
            EngagementEvent::EngagementRecorded { .. } => self.recorded = true,
        }
    }
}
