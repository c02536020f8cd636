//! The rules of a case follow. Checked in order: the actor's role; existence (started, except
//! for `StartCaseFollow`) and the follow id; ownership (a deputy evaluates only a follow naming
//! them); the state (active, for everything but evaluations); then the fields.

use jiff::civil::Date;

use super::{
    EndCaseFollow, Follow, FollowAction, FollowCommand, FollowError, FollowEvent, FollowState,
    PersonRef, RecordEnforcementAction, RecordFollowEvaluation, RecordMediation, RecordRecovery,
    StartCaseFollow,
};
use crate::access;
use crate::actor::Role;
use crate::rules::Rules;
use crate::validate::{self, FieldError};

impl Follow {
    /// Decides `command` against the follow's state: the events it records, or why it is
    /// refused. Pure, like [`crate::item::Item::decide`].
    ///
    /// # Errors
    ///
    /// The first rule the command breaks, in the order of this module.
    pub fn decide(
        &self,
        command: &FollowCommand,
        rules: &Rules,
    ) -> Result<Vec<FollowEvent>, FollowError> {
        let action = &command.action;
        let follow_id = action.follow_id();
        if !access::allowed_roles(action.type_name()).contains(&command.actor.role) {
            return Err(FollowError::RoleNotAllowed {
                follow_id: follow_id.to_owned(),
                action: action.type_name(),
                role: command.actor.role,
            });
        }
        let check = Check {
            follow_id,
            command,
            rules,
        };
        let Some(state) = &self.started else {
            return match action {
                FollowAction::StartCaseFollow(data) => check.start(data),
                _ => Err(FollowError::NotStarted {
                    follow_id: follow_id.to_owned(),
                }),
            };
        };
        if follow_id != state.follow_id {
            return Err(FollowError::FollowIdMismatch {
                follow_id: state.follow_id.clone(),
                command_follow_id: follow_id.to_owned(),
            });
        }
        if let FollowAction::RecordFollowEvaluation(data) = action {
            return check.evaluate(state, data);
        }
        if state.ended {
            return Err(FollowError::FollowEnded {
                follow_id: follow_id.to_owned(),
                action: action.type_name(),
            });
        }
        match action {
            FollowAction::StartCaseFollow(_) => Err(FollowError::AlreadyStarted {
                follow_id: follow_id.to_owned(),
            }),
            FollowAction::RecordEnforcementAction(data) => check.enforcement_action(data),
            FollowAction::RecordMediation(data) => check.mediation(data),
            FollowAction::RecordRecovery(data) => check.recovery(state, data),
            FollowAction::RecordFollowEvaluation(data) => check.evaluate(state, data),
            FollowAction::EndCaseFollow(data) => check.end(data),
        }
    }
}

/// A follow command being checked.
struct Check<'a> {
    follow_id: &'a str,
    command: &'a FollowCommand,
    rules: &'a Rules,
}

impl Check<'_> {
    fn field(&self, checked: Result<(), FieldError>) -> Result<(), FollowError> {
        checked.map_err(|error| FollowError::InvalidField {
            follow_id: self.follow_id.to_owned(),
            error,
        })
    }

    /// The actor's id and the year of `at`.
    fn envelope(&self) -> Result<(), FollowError> {
        self.field(validate::id("actor.id", &self.command.actor.id))?;
        let time_zone = &self.rules.deadlines.time_zone;
        self.field(validate::at_year("at", &self.command.at, time_zone))
    }

    fn text(&self, name: &str, value: &str) -> Result<(), FollowError> {
        self.field(validate::required_text(
            name,
            value,
            validate::TEXT_CHARS_MAX,
        ))
    }

    fn person(&self, name: &str, person: &PersonRef) -> Result<(), FollowError> {
        self.field(validate::id(&format!("{name}.id"), &person.id))?;
        self.field(validate::required_text(
            &format!("{name}.name"),
            &person.name,
            validate::NAME_CHARS_MAX,
        ))
    }

    fn today(&self) -> Date {
        self.command.at.local_date(&self.rules.deadlines.time_zone)
    }

    fn start(&self, data: &StartCaseFollow) -> Result<Vec<FollowEvent>, FollowError> {
        self.envelope()?;
        self.field(validate::id("follow_id", &data.follow_id))?;
        self.field(validate::required_text(
            "case_no",
            &data.case_no,
            validate::CASE_NO_CHARS_MAX,
        ))?;
        self.person("deputy", &data.deputy)?;
        self.person("judge", &data.judge)?;
        Ok(vec![FollowEvent::CaseFollowStarted {
            follow_id: data.follow_id.clone(),
            case_no: data.case_no.clone(),
            deputy: data.deputy.clone(),
            judge: data.judge.clone(),
            started_on: self.today(),
        }])
    }

    fn enforcement_action(
        &self,
        data: &RecordEnforcementAction,
    ) -> Result<Vec<FollowEvent>, FollowError> {
        self.envelope()?;
        self.text("summary", &data.summary)?;
        Ok(vec![FollowEvent::EnforcementActionRecorded {
            follow_id: self.follow_id.to_owned(),
            kind: data.kind,
            summary: data.summary.clone(),
            deputy_present: data.deputy_present,
            acted_on: self.today(),
        }])
    }

    fn mediation(&self, data: &RecordMediation) -> Result<Vec<FollowEvent>, FollowError> {
        self.envelope()?;
        self.text("summary", &data.summary)?;
        Ok(vec![FollowEvent::MediationRecorded {
            follow_id: self.follow_id.to_owned(),
            settled: data.settled,
            summary: data.summary.clone(),
            mediated_on: self.today(),
        }])
    }

    fn recovery(
        &self,
        state: &FollowState,
        data: &RecordRecovery,
    ) -> Result<Vec<FollowEvent>, FollowError> {
        self.envelope()?;
        let amount = validate::amount("amount", &data.amount).map_err(|error| {
            FollowError::InvalidField {
                follow_id: self.follow_id.to_owned(),
                error,
            }
        })?;
        let recovered_total =
            match state.recovered_total {
                None => amount,
                Some(total) => total.checked_add(amount).ok_or_else(|| {
                    FollowError::RecoveredTotalTooLarge {
                        follow_id: self.follow_id.to_owned(),
                        recovered_total: total,
                    }
                })?,
            };
        self.text("summary", &data.summary)?;
        Ok(vec![FollowEvent::RecoveryRecorded {
            follow_id: self.follow_id.to_owned(),
            amount,
            summary: data.summary.clone(),
            recovered_on: self.today(),
            recovered_total,
        }])
    }

    fn evaluate(
        &self,
        state: &FollowState,
        data: &RecordFollowEvaluation,
    ) -> Result<Vec<FollowEvent>, FollowError> {
        let actor = &self.command.actor;
        let on_behalf = actor.role == Role::Liaison;
        if !on_behalf && actor.id != state.deputy_id {
            return Err(FollowError::NotFollowDeputy {
                follow_id: self.follow_id.to_owned(),
                deputy_id: actor.id.clone(),
            });
        }
        self.envelope()?;
        self.field(validate::optional_text(
            "comment",
            &data.comment,
            validate::TEXT_CHARS_MAX,
        ))?;
        Ok(vec![FollowEvent::FollowEvaluated {
            follow_id: self.follow_id.to_owned(),
            rating: data.rating,
            comment: data.comment.clone(),
            deputy_id: state.deputy_id.clone(),
            on_behalf,
        }])
    }

    fn end(&self, data: &EndCaseFollow) -> Result<Vec<FollowEvent>, FollowError> {
        self.envelope()?;
        self.text("summary", &data.summary)?;
        Ok(vec![FollowEvent::CaseFollowEnded {
            follow_id: self.follow_id.to_owned(),
            outcome: data.outcome,
            summary: data.summary.clone(),
            ended_on: self.today(),
        }])
    }
}
