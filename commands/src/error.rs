//! Why a command was refused or failed, with the stable codes of DESIGN.md §4.

use aggregates::error::ErrorCode;
use infra::store::StoreError;

/// A refused command (a stable [`ErrorCode`] and a message for a clerk) or a failure to run it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command was refused; nothing was appended.
    #[error("{message}")]
    Refused {
        /// The stable code.
        code: ErrorCode,
        /// What went wrong, in words a clerk understands.
        message: String,
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
    /// A refusal with a code and a message.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        CommandError::Refused {
            code,
            message: message.into(),
        }
    }

    /// A refusal for a bad or missing field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::refused(ErrorCode::Invalid, message)
    }

    /// The stable code of a refusal; `None` when the command failed rather than was refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CommandError::Refused { code, .. } => Some(*code),
            CommandError::Store(_) | CommandError::Unreadable { .. } => None,
        }
    }
}
