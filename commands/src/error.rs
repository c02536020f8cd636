//! Why a command was refused or failed, with the stable codes of DESIGN.md §4.

use aggregates::error::{ErrorCode, Refusal};
use infra::store::StoreError;

/// A refused command (a stable [`ErrorCode`] and a message for a clerk, in English and in
/// Chinese) or a failure to run it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command was refused; nothing was appended.
    #[error("{message}")]
    Refused {
        /// The stable code.
        code: ErrorCode,
        /// What went wrong, in English words a clerk understands.
        message: String,
        /// The same, in Chinese.
        message_zh: String,
    },
    /// The ledger could not be read or written (database down, stored record unreadable).
    #[error("ledger unavailable: {0}")]
    Store(#[from] StoreError),
    /// A recorded event could not be read back into the domain: a bug or a damaged log.
    #[error("recorded event at position {position} cannot be read: {reason}")]
    Unreadable {
        /// Where.
        position: u64,
        /// Why.
        reason: String,
    },
}

impl CommandError {
    /// A refusal with a code and its message in English and Chinese.
    pub fn refused(
        code: ErrorCode,
        message: impl Into<String>,
        message_zh: impl Into<String>,
    ) -> Self {
        CommandError::Refused {
            code,
            message: message.into(),
            message_zh: message_zh.into(),
        }
    }

    /// A refusal for a bad or missing field, in English and Chinese.
    pub fn invalid(message: impl Into<String>, message_zh: impl Into<String>) -> Self {
        Self::refused(ErrorCode::Invalid, message, message_zh)
    }

    /// The refusal an aggregate's rules gave.
    pub fn from_refusal(refusal: &impl Refusal) -> Self {
        Self::refused(refusal.code(), refusal.to_string(), refusal.message_zh())
    }

    /// The stable code of a refusal; `None` when the command failed rather than was refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CommandError::Refused { code, .. } => Some(*code),
            CommandError::Store(_) | CommandError::Unreadable { .. } => None,
        }
    }
}

impl From<aggregates::validate::FieldError> for CommandError {
    fn from(error: aggregates::validate::FieldError) -> Self {
        CommandError::invalid(error.to_string(), error.message_zh())
    }
}
