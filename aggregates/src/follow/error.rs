//! Why a case-follow command was refused.

use crate::access::{roles_text, roles_text_zh};
use crate::actor::Role;
use crate::error::{ErrorCode, Refusal};
use crate::money::Yuan;
use crate::validate::FieldError;

/// Why a case-follow command was refused. Checked in the order: role, existence, ownership,
/// state, fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowError {
    /// The actor's role may not issue this command. Code `forbidden`.
    #[error(
        "case follow {follow_id}: the {role} role may not {action}; {action} needs the {} role",
        roles_text(.action)
    )]
    RoleNotAllowed {
        /// The follow.
        follow_id: String,
        /// The command.
        action: &'static str,
        /// The actor's role.
        role: Role,
    },
    /// A deputy evaluating a follow that another deputy follows. Code `forbidden`.
    #[error(
        "case follow {follow_id}: deputy {deputy_id} does not follow this case, so may not \
         evaluate it"
    )]
    NotFollowDeputy {
        /// The follow.
        follow_id: String,
        /// The deputy who tried.
        deputy_id: String,
    },
    /// The follow was never started. Code `not_found`.
    #[error(
        "case follow {follow_id} has not been started; only StartCaseFollow can be used on it"
    )]
    NotStarted {
        /// The follow.
        follow_id: String,
    },
    /// `StartCaseFollow` for a follow id already used. Code `wrong_state`.
    #[error("case follow {follow_id} has already been started; choose a new follow id")]
    AlreadyStarted {
        /// The follow.
        follow_id: String,
    },
    /// A command that needs an active follow, on an ended one. Code `wrong_state`.
    #[error("case follow {follow_id} has ended; {action} is possible only while it is active")]
    FollowEnded {
        /// The follow.
        follow_id: String,
        /// The command.
        action: &'static str,
    },
    /// The command names another follow than the stream it was sent to. Code `invalid`.
    #[error("the command names case follow {command_follow_id} but was sent to {follow_id}")]
    FollowIdMismatch {
        /// The follow the command was sent to.
        follow_id: String,
        /// The follow the command names.
        command_follow_id: String,
    },
    /// A field is bad or missing. Code `invalid`.
    #[error("case follow {follow_id}: {error}")]
    InvalidField {
        /// The follow.
        follow_id: String,
        /// What is wrong, and with which field.
        error: FieldError,
    },
    /// The recoveries would add up to more than the largest amount. Code `invalid`.
    #[error(
        "case follow {follow_id}: with this amount the total recovered would exceed \
         100000000000.00 yuan (it is {recovered_total} so far); check the amount"
    )]
    RecoveredTotalTooLarge {
        /// The follow.
        follow_id: String,
        /// The total so far.
        recovered_total: Yuan,
    },
}

impl Refusal for FollowError {
    fn code(&self) -> ErrorCode {
        match self {
            FollowError::RoleNotAllowed { .. } | FollowError::NotFollowDeputy { .. } => {
                ErrorCode::Forbidden
            }
            FollowError::NotStarted { .. } => ErrorCode::NotFound,
            FollowError::AlreadyStarted { .. } | FollowError::FollowEnded { .. } => {
                ErrorCode::WrongState
            }
            FollowError::FollowIdMismatch { .. }
            | FollowError::InvalidField { .. }
            | FollowError::RecoveredTotalTooLarge { .. } => ErrorCode::Invalid,
        }
    }

    fn message_zh(&self) -> String {
        match self {
            FollowError::RoleNotAllowed {
                follow_id,
                action,
                role,
            } => format!(
                "跟案 {follow_id}：{}无权执行 {action}；{action} 须由{}执行",
                role.label_zh(),
                roles_text_zh(action)
            ),
            FollowError::NotFollowDeputy {
                follow_id,
                deputy_id,
            } => format!("跟案 {follow_id}：代表 {deputy_id} 不是本案的跟案代表，不能评价"),
            FollowError::NotStarted { follow_id } => {
                format!("跟案 {follow_id} 尚未启动；只能对其执行 StartCaseFollow")
            }
            FollowError::AlreadyStarted { follow_id } => {
                format!("跟案 {follow_id} 已经启动；请使用新的跟案编号")
            }
            FollowError::FollowEnded { follow_id, action } => {
                format!("跟案 {follow_id} 已结束；{action} 只能在跟案期间进行")
            }
            FollowError::FollowIdMismatch {
                follow_id,
                command_follow_id,
            } => format!("指令针对跟案 {command_follow_id}，却被送往跟案 {follow_id}"),
            FollowError::InvalidField { follow_id, error } => {
                format!("跟案 {follow_id}：{}", error.message_zh())
            }
            FollowError::RecoveredTotalTooLarge {
                follow_id,
                recovered_total,
            } => format!(
                "跟案 {follow_id}：加上本笔金额后执行到位总额将超过 100000000000.00 元（目前为 {recovered_total} 元）；请核对金额"
            ),
        }
    }
}
