//! Who acts: an [`Actor`] is a person's id together with the [`Role`] they act in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role a person acts in (DESIGN.md §1). Written in snake case: `"court_office"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The people's congress liaison office (人大代表联络机构): files items, records ratings given on
    /// paper, reconciles.
    Liaison,
    /// The court's liaison office (法院联络办): triages and assigns items.
    CourtOffice,
    /// A handling unit of the court (承办部门).
    Handler,
    /// A court leader responsible for an item (包案领导): answers and closes.
    Leader,
    /// A deputy or committee member (人大代表 / 政协委员): rates the answers to their own items.
    Deputy,
    /// An auditor: reads, replays and verifies; changes nothing.
    Auditor,
    /// A system administrator: manages people and access; changes no item.
    Admin,
}

impl Role {
    /// Every role, in the order of DESIGN.md §1.
    pub const ALL: [Role; 7] = [
        Role::Liaison,
        Role::CourtOffice,
        Role::Handler,
        Role::Leader,
        Role::Deputy,
        Role::Auditor,
        Role::Admin,
    ];

    /// The role's stable id, as written in JSON and on the command line: `"court_office"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Liaison => "liaison",
            Role::CourtOffice => "court_office",
            Role::Handler => "handler",
            Role::Leader => "leader",
            Role::Deputy => "deputy",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl Role {
    /// The role in Chinese, for messages: `"法院办公室"`.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Role::Liaison => "人大代表联络机构",
            Role::CourtOffice => "法院办公室",
            Role::Handler => "承办部门",
            Role::Leader => "院领导",
            Role::Deputy => "人大代表",
            Role::Auditor => "审计监督人员",
            Role::Admin => "系统管理员",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`Role`] from a string that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {input:?}; expected one of liaison, court_office, handler, leader, deputy, \
     auditor, admin"
)]
pub struct ParseRoleError {
    input: String,
}

impl ParseRoleError {
    /// The text that named no role.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl FromStr for Role {
    type Err = ParseRoleError;

    /// Parses a role id exactly as [`Role::as_str`] writes it (lower case, snake case).
    fn from_str(input: &str) -> Result<Role, ParseRoleError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == input)
            .ok_or_else(|| ParseRoleError {
                input: input.to_owned(),
            })
    }
}

/// The person who issues a command, and the role they issue it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The person's id (an id as [`crate::validate::id`] accepts it, e.g. `"liaison-01"`).
    pub id: String,
    /// The role the person acts in.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips_through_its_string() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).expect("a role serialises");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn role_parse_refuses_unknown_and_differently_cased_names() {
        let error = "CourtOffice".parse::<Role>().expect_err("not a role id");
        assert_eq!(error.input(), "CourtOffice");
        assert!("court-office".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }
}
