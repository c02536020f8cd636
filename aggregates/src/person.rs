//! People and access: who is known to the ledger, and which roles they were granted when. These
//! are events like any other, so who could do what, when, is itself auditable. No credential
//! (token, password hash) is ever recorded.
//!
//! A [`Person`] is the `cqrs-es` aggregate of the `person/…` streams.

use std::collections::BTreeSet;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::access::{self, roles_text, roles_text_zh};
use crate::actor::Role;
use crate::command::Command;
use crate::error::{ErrorCode, Refusal};
use crate::rules::Rules;
use crate::validate::{self, FieldError};

/// A command to a person.
pub type PersonCommand = Command<PersonAction>;

/// What kind of person (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// A people's congress deputy (人大代表).
    Deputy,
    /// A CPPCC member or special supervisor (政协委员、特约监督员).
    Supervisor,
    /// An officer of the liaison office (联络机构工作人员).
    LiaisonOfficer,
    /// Court staff (法院工作人员).
    Staff,
}

/// The level of the congress a deputy or supervisor sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonLevel {
    /// National (全国).
    National,
    /// Provincial (省级).
    Provincial,
    /// Municipal (市级).
    Municipal,
    /// County (县级).
    County,
    /// Township (乡镇级).
    Township,
}

/// What a person command asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum PersonAction {
    /// Register a person (admin).
    RegisterPerson(RegisterPerson),
    /// Grant a role (admin).
    GrantAccess(AccessChange),
    /// Revoke a role (admin).
    RevokeAccess(AccessChange),
}

impl PersonAction {
    /// The type name of every person action.
    pub const TYPES: &'static [&'static str] = &["RegisterPerson", "GrantAccess", "RevokeAccess"];

    /// The person's id.
    pub fn person_id(&self) -> &str {
        match self {
            PersonAction::RegisterPerson(data) => &data.person_id,
            PersonAction::GrantAccess(data) | PersonAction::RevokeAccess(data) => &data.person_id,
        }
    }

    /// The action's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            PersonAction::RegisterPerson(_) => "RegisterPerson",
            PersonAction::GrantAccess(_) => "GrantAccess",
            PersonAction::RevokeAccess(_) => "RevokeAccess",
        }
    }
}

/// `RegisterPerson`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    /// The new person's id; it must be unused.
    pub person_id: String,
    /// The name.
    pub name: String,
    /// The kind.
    pub kind: PersonKind,
    /// The congress level; only for deputies and supervisors.
    #[serde(default)]
    pub level: Option<PersonLevel>,
    /// The township or street they belong to (乡镇、街道), if any.
    #[serde(default)]
    pub township: Option<String>,
}

/// `GrantAccess` and `RevokeAccess`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessChange {
    /// The person.
    pub person_id: String,
    /// The role.
    pub role: Role,
}

/// Something that happened to a person's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum PersonEvent {
    /// The person was registered.
    PersonRegistered {
        /// The person.
        person_id: String,
        /// The name.
        name: String,
        /// The kind.
        kind: PersonKind,
        /// The congress level, if any.
        level: Option<PersonLevel>,
        /// The township, if any.
        township: Option<String>,
    },
    /// A role was granted.
    AccessGranted {
        /// The person.
        person_id: String,
        /// The role.
        role: Role,
    },
    /// A role was revoked.
    AccessRevoked {
        /// The person.
        person_id: String,
        /// The role.
        role: Role,
    },
}

impl DomainEvent for PersonEvent {
    fn event_type(&self) -> String {
        match self {
            PersonEvent::PersonRegistered { .. } => "PersonRegistered",
            PersonEvent::AccessGranted { .. } => "AccessGranted",
            PersonEvent::AccessRevoked { .. } => "AccessRevoked",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// Why a person command was refused. Checked in the order: role, existence, state, fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    /// The actor's role may not manage people. Code `forbidden`.
    #[error(
        "person {person_id}: the {role} role may not {action}; {action} needs the {} role",
        roles_text(.action)
    )]
    RoleNotAllowed {
        /// The person.
        person_id: String,
        /// The command.
        action: &'static str,
        /// The actor's role.
        role: Role,
    },
    /// The person was never registered. Code `not_found`.
    #[error("person {person_id} is not registered; register them with RegisterPerson first")]
    NotRegistered {
        /// The person.
        person_id: String,
    },
    /// The person id is already registered. Code `wrong_state`.
    #[error("person {person_id} is already registered")]
    AlreadyRegistered {
        /// The person.
        person_id: String,
    },
    /// The role is already held. Code `wrong_state`.
    #[error("person {person_id} already holds the {role} role")]
    RoleAlreadyHeld {
        /// The person.
        person_id: String,
        /// The role.
        role: Role,
    },
    /// The role is not held. Code `wrong_state`.
    #[error("person {person_id} does not hold the {role} role, so it cannot be revoked")]
    RoleNotHeld {
        /// The person.
        person_id: String,
        /// The role.
        role: Role,
    },
    /// A congress level for someone who is neither deputy nor supervisor. Code `invalid`.
    #[error("person {person_id}: level is only for deputies and supervisors; leave it out")]
    LevelNotForKind {
        /// The person.
        person_id: String,
    },
    /// A field is bad or missing. Code `invalid`.
    #[error("person {person_id}: {error}")]
    InvalidField {
        /// The person.
        person_id: String,
        /// What is wrong.
        error: FieldError,
    },
}

impl Refusal for PersonError {
    fn code(&self) -> ErrorCode {
        match self {
            PersonError::RoleNotAllowed { .. } => ErrorCode::Forbidden,
            PersonError::NotRegistered { .. } => ErrorCode::NotFound,
            PersonError::AlreadyRegistered { .. }
            | PersonError::RoleAlreadyHeld { .. }
            | PersonError::RoleNotHeld { .. } => ErrorCode::WrongState,
            PersonError::LevelNotForKind { .. } | PersonError::InvalidField { .. } => {
                ErrorCode::Invalid
            }
        }
    }

    fn message_zh(&self) -> String {
        match self {
            PersonError::RoleNotAllowed {
                person_id,
                action,
                role,
            } => format!(
                "人员 {person_id}：{}无权执行 {action}；{action} 须由{}执行",
                role.label_zh(),
                roles_text_zh(action)
            ),
            PersonError::NotRegistered { person_id } => {
                format!("人员 {person_id} 尚未登记；请先用 RegisterPerson 登记")
            }
            PersonError::AlreadyRegistered { person_id } => {
                format!("人员 {person_id} 已经登记")
            }
            PersonError::RoleAlreadyHeld { person_id, role } => {
                format!("人员 {person_id} 已有{}权限", role.label_zh())
            }
            PersonError::RoleNotHeld { person_id, role } => {
                format!("人员 {person_id} 没有{}权限，无法收回", role.label_zh())
            }
            PersonError::LevelNotForKind { person_id } => {
                format!("人员 {person_id}：只有代表和委员才有 level（代表层级），请删去")
            }
            PersonError::InvalidField { person_id, error } => {
                format!("人员 {person_id}：{}", error.message_zh())
            }
        }
    }
}

/// One person: the `cqrs-es` aggregate of the `person/…` streams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    registered: bool,
    roles: BTreeSet<Role>,
}

impl Person {
    /// Whether the person is registered.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The roles the person holds now.
    pub fn roles(&self) -> &BTreeSet<Role> {
        &self.roles
    }

    /// Decides `command`: role, then existence, then state, then fields.
    ///
    /// # Errors
    ///
    /// The first rule the command breaks.
    pub fn decide(
        &self,
        command: &PersonCommand,
        rules: &Rules,
    ) -> Result<Vec<PersonEvent>, PersonError> {
        let person_id = command.action.person_id().to_owned();
        let action = command.action.type_name();
        if !access::allowed_roles(action).contains(&command.actor.role) {
            let role = command.actor.role;
            return Err(PersonError::RoleNotAllowed {
                person_id,
                action,
                role,
            });
        }
        match &command.action {
            PersonAction::RegisterPerson(data) => self.register(command, data, rules),
            PersonAction::GrantAccess(data) | PersonAction::RevokeAccess(data) => {
                if !self.registered {
                    return Err(PersonError::NotRegistered { person_id });
                }
                let grant = matches!(command.action, PersonAction::GrantAccess(_));
                let held = self.roles.contains(&data.role);
                let role = data.role;
                match (grant, held) {
                    (true, true) => return Err(PersonError::RoleAlreadyHeld { person_id, role }),
                    (false, false) => return Err(PersonError::RoleNotHeld { person_id, role }),
                    _ => {}
                }
                check_envelope(command, rules, &person_id)?;
                Ok(vec![if grant {
                    PersonEvent::AccessGranted { person_id, role }
                } else {
                    PersonEvent::AccessRevoked { person_id, role }
                }])
            }
        }
    }

    fn register(
        &self,
        command: &PersonCommand,
        data: &RegisterPerson,
        rules: &Rules,
    ) -> Result<Vec<PersonEvent>, PersonError> {
        let person_id = data.person_id.clone();
        if self.registered {
            return Err(PersonError::AlreadyRegistered { person_id });
        }
        check_envelope(command, rules, &person_id)?;
        let invalid = |error| PersonError::InvalidField {
            person_id: person_id.clone(),
            error,
        };
        validate::id("person_id", &data.person_id).map_err(invalid)?;
        validate::required_text("name", &data.name, validate::NAME_CHARS_MAX).map_err(invalid)?;
        let may_have_level = matches!(data.kind, PersonKind::Deputy | PersonKind::Supervisor);
        if data.level.is_some() && !may_have_level {
            return Err(PersonError::LevelNotForKind { person_id });
        }
        if let Some(township) = &data.township {
            validate::required_text("township", township, validate::UNIT_CHARS_MAX)
                .map_err(invalid)?;
        }
        Ok(vec![PersonEvent::PersonRegistered {
            person_id: data.person_id.clone(),
            name: data.name.clone(),
            kind: data.kind,
            level: data.level,
            township: data.township.clone(),
        }])
    }
}

fn check_envelope(
    command: &PersonCommand,
    rules: &Rules,
    person_id: &str,
) -> Result<(), PersonError> {
    let invalid = |error| PersonError::InvalidField {
        person_id: person_id.to_owned(),
        error,
    };
    validate::id("actor.id", &command.actor.id).map_err(invalid)?;
    validate::at_year("at", &command.at, &rules.deadlines.time_zone).map_err(invalid)
}

impl Aggregate for Person {
    const TYPE: &'static str = "person";
    type Command = PersonCommand;
    type Event = PersonEvent;
    type Error = PersonError;
    type Services = Rules;

    /// Decides the command with [`Person::decide`], then writes the events.
    async fn handle(
        &mut self,
        command: PersonCommand,
        rules: &Rules,
        sink: &EventSink<Person>,
    ) -> Result<(), PersonError> {
        let events = self.decide(&command, rules)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: PersonEvent) {
        match event {
            PersonEvent::PersonRegistered { .. } => self.registered = true,
            PersonEvent::AccessGranted { role, .. } => {
                self.roles.insert(role);
            }
            PersonEvent::AccessRevoked { role, .. } => {
                self.roles.remove(&role);
            }
        }
    }
}
