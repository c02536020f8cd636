//! The stable error codes (DESIGN.md §4) that every refusal maps to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable error code. Programs and tests rely on these names; they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The command's type is not one the ledger knows.
    UnknownCommand,
    /// A field is bad or missing.
    Invalid,
    /// The thing the command is about does not exist.
    NotFound,
    /// The thing exists but is not in a state that allows the command.
    WrongState,
    /// The actor's role, or their relation to the thing, does not allow the command.
    Forbidden,
    /// The stream moved while the command was decided; retrying may succeed.
    Conflict,
    /// The command id was already used by a different command.
    Duplicate,
}

impl ErrorCode {
    /// The code as written in JSON: `"wrong_state"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::Invalid => "invalid",
            ErrorCode::NotFound => "not_found",
            ErrorCode::WrongState => "wrong_state",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Duplicate => "duplicate",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal of a command by the rules: its stable code and its message in Chinese (the
/// English message is its `Display`). Every aggregate's error implements it, so the write side
/// reports every refusal the same way.
pub trait Refusal: std::error::Error {
    /// The stable code.
    fn code(&self) -> ErrorCode;
    /// The message in Chinese, for a clerk (the same facts as the English `Display`).
    fn message_zh(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_serialises_as_its_string() {
        let all = [
            ErrorCode::UnknownCommand,
            ErrorCode::Invalid,
            ErrorCode::NotFound,
            ErrorCode::WrongState,
            ErrorCode::Forbidden,
            ErrorCode::Conflict,
            ErrorCode::Duplicate,
        ];
        for code in all {
            let json = serde_json::to_string(&code).expect("a code serialises");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("a code deserialises");
            assert_eq!(back, code);
        }
        assert_eq!(ErrorCode::UnknownCommand.as_str(), "unknown_command");
        assert_eq!(ErrorCode::WrongState.to_string(), "wrong_state");
    }
}
