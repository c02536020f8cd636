//! The Chinese messages of [`ItemError`]: the same facts as the English ones, for a clerk.

use super::error::ItemError;
use crate::access::roles_text_zh;
use crate::error::{ErrorCode, Refusal};

impl Refusal for ItemError {
    fn code(&self) -> ErrorCode {
        ItemError::code(self)
    }

    fn message_zh(&self) -> String {
        match self {
            ItemError::RoleNotAllowed {
                item_id,
                action,
                role,
            } => format!(
                "事项 {item_id}：{}无权执行 {action}；{action} 须由{}执行",
                role.label_zh(),
                roles_text_zh(action)
            ),
            ItemError::NotItemDeputy { item_id, deputy_id } => {
                format!("事项 {item_id}：代表 {deputy_id} 不是本事项的提出代表，不能评价其答复")
            }
            ItemError::RatingForAnotherDeputy {
                item_id,
                actor_id,
                deputy_id,
            } => format!(
                "事项 {item_id}：代表 {actor_id} 只能以本人名义评价，不能代替代表 {deputy_id}；\
                 代为记录评价须由人大代表联络机构办理"
            ),
            ItemError::NotFiled { item_id } => {
                format!("事项 {item_id} 尚未提交；只能对其执行 FileItem")
            }
            ItemError::CommitmentNotFound {
                item_id,
                commitment_id,
            } => format!("事项 {item_id} 没有编号为 {commitment_id} 的承诺事项"),
            ItemError::AlreadyFiled { item_id, status } => format!(
                "事项 {item_id} 已经提交（{}）；请使用新的事项编号",
                status.label_zh()
            ),
            ItemError::TriageNeedsFiled { item_id, status } => format!(
                "事项 {item_id} {}；只有待分办的事项才能分办",
                status.label_zh()
            ),
            ItemError::AssignNeedsAccepted { item_id, status } => format!(
                "事项 {item_id} {}；只有已受理的事项才能交办",
                status.label_zh()
            ),
            ItemError::AnswerNeedsAssignment { item_id, status } => format!(
                "事项 {item_id} {}；只有已交办或重新办理中的事项才能答复",
                status.label_zh()
            ),
            ItemError::RatingNeedsAnswer { item_id, status } => format!(
                "事项 {item_id} {}；只有已答复的事项才能评价",
                status.label_zh()
            ),
            ItemError::ItemFinished { item_id, status } => format!(
                "事项 {item_id} {}；已销号或已终结事项的承诺不能再变更",
                status.label_zh()
            ),
            ItemError::CommitmentAlreadyFulfilled {
                item_id,
                commitment_id,
            } => format!("事项 {item_id}：承诺 {commitment_id} 已经兑现"),
            ItemError::ReconcileNeedsRating { item_id, status } => format!(
                "事项 {item_id} {}；只有已评价（且不是不满意）的事项才能对账",
                status.label_zh()
            ),
            other => message_zh_more(other),
        }
    }
}

/// The messages of the field and cross-item errors.
fn message_zh_more(error: &ItemError) -> String {
    match error {
        ItemError::OpenCommitments {
            item_id,
            commitment_ids,
        } => format!(
            "事项 {item_id} 已评价，但仍有承诺未兑现，不能对账：{}",
            commitment_ids.join("、")
        ),
        ItemError::CloseNeedsReconciliation { item_id, status } => format!(
            "事项 {item_id} {}；只有已对账的事项才能销号",
            status.label_zh()
        ),
        ItemError::ItemIdMismatch {
            item_id,
            command_item_id,
        } => format!("指令针对事项 {command_item_id}，却被送往事项 {item_id}"),
        ItemError::InvalidField { item_id, error } => {
            format!("事项 {item_id}：{}", error.message_zh())
        }
        ItemError::SeveralLeadDeputies {
            item_id,
            deputy_ids,
        } => format!(
            "事项 {item_id}：只能有一名领衔代表，现有 {}",
            deputy_ids.join("、")
        ),
        ItemError::ParentIsItself { item_id } => {
            format!("事项 {item_id} 不能以自己为上级事项（parent_id）")
        }
        ItemError::FieldNotForDecision {
            item_id,
            field,
            decision,
        } => format!("事项 {item_id}：分办决定为 {decision} 时不使用 {field}，请删去"),
        ItemError::MergeIntoItself { item_id } => {
            format!("事项 {item_id} 不能并入自身（target_item_id）")
        }
        ItemError::CoUnitIsLeadUnit { item_id, unit } => {
            format!("事项 {item_id}：{unit} 是主办部门，不能同时作为协办部门")
        }
        ItemError::CommitmentIdUsed {
            item_id,
            commitment_id,
        } => format!("事项 {item_id}：承诺编号 {commitment_id} 已被此前的答复使用"),
        ItemError::UnknownDeputy { item_id, deputy_id } => {
            format!("事项 {item_id}：deputy_id {deputy_id} 不是本事项的代表")
        }
        other => message_zh_handling(other),
    }
}

/// The messages of the handling errors.
fn message_zh_handling(error: &ItemError) -> String {
    match error {
        ItemError::UnitNotOnItem {
            item_id,
            unit,
            units,
        } => format!(
            "事项 {item_id}：{unit} 不是本事项的承办单位；本事项交办给 {}",
            units.join("、")
        ),
        ItemError::NotCoUnit {
            item_id,
            unit,
            co_units,
        } => format!(
            "事项 {item_id}：{unit} 不是本事项的协办部门，不能提交协办意见；协办部门为 {}",
            co_units.join("、")
        ),
        ItemError::NotAssigned {
            item_id,
            action,
            status,
        } => format!(
            "事项 {item_id} {}；{action} 须在事项交办之后进行",
            status.label_zh()
        ),
        ItemError::RoundNotAwaitingAnswer {
            item_id,
            action,
            status,
        } => format!(
            "事项 {item_id} {}；{action} 只能在本轮尚未答复时进行（已交办或重新办理中）",
            status.label_zh()
        ),
        ItemError::ItemEnded {
            item_id,
            action,
            status,
        } => format!(
            "事项 {item_id} {}；已销号或已终结的事项不能 {action}",
            status.label_zh()
        ),
        ItemError::AlreadyAcknowledged {
            item_id,
            unit,
            round,
        } => format!("事项 {item_id}：{unit} 已签收第 {round} 轮"),
        ItemError::CoViewAlreadySubmitted {
            item_id,
            unit,
            round,
        } => format!("事项 {item_id}：{unit} 已在第 {round} 轮提交协办意见"),
        ItemError::ExtensionAlreadyPending { item_id, until } => {
            format!("事项 {item_id}：延期至 {until} 的申请正在等待联络机构决定")
        }
        ItemError::NoExtensionPending { item_id, status } => {
            format!("事项 {item_id} {}，没有待决定的延期申请", status.label_zh())
        }
        other => message_zh_deadlines(other),
    }
}

/// The messages of the extension, answer and lifecycle errors.
fn message_zh_deadlines(error: &ItemError) -> String {
    match error {
        ItemError::ExtensionBeyondLimit {
            item_id,
            until,
            until_max,
            months_max,
        } => format!(
            "事项 {item_id}：申请延期至 {until} 过晚；延期最迟只能到 {until_max}（交办之日起 {months_max} 个月）"
        ),
        ItemError::ExtensionNotLater {
            item_id,
            until,
            due,
        } => format!("事项 {item_id}：申请的日期 {until} 不晚于现行办理期限 {due}"),
        ItemError::ExtensionOnDayOff {
            item_id,
            until,
            next_working_day,
        } => format!(
            "事项 {item_id}：{until} 不是工作日；其后第一个工作日是 {next_working_day}"
        ),
        ItemError::ContactRequired { item_id, round } => format!(
            "事项 {item_id}：本地规定答复前须与代表沟通，第 {round} 轮尚无沟通记录；请先用 RecordContact 登记"
        ),
        ItemError::ReclassifyNeedsAnswer { item_id, status } => format!(
            "事项 {item_id} {}；只能在对账前调整本轮答复的类别",
            status.label_zh()
        ),
        ItemError::SameClass { item_id, class } => {
            format!("事项 {item_id}：答复已是 {class} 类")
        }
        ItemError::WithdrawNeedsUnanswered { item_id, status } => format!(
            "事项 {item_id} {}；只有从未答复的事项（待分办、已受理或已交办）才能撤回",
            status.label_zh()
        ),
        ItemError::ReopenNeedsClosed { item_id, status } => format!(
            "事项 {item_id} {}；只有已销号的事项才能重新启动",
            status.label_zh()
        ),
        other => message_zh_links(other),
    }
}

/// The messages of the errors about other items.
fn message_zh_links(error: &ItemError) -> String {
    match error {
        ItemError::MergeTargetNotFound {
            item_id,
            target_item_id,
        } => format!("事项 {item_id} 不能并入 {target_item_id}：该事项尚未提交"),
        ItemError::MergeTargetFinished {
            item_id,
            target_item_id,
            status,
        } => format!(
            "事项 {item_id} 不能并入 {target_item_id}（{}）；请并入仍在办理的事项",
            status.label_zh()
        ),
        ItemError::ParentNotFound { item_id, parent_id } => {
            format!("事项 {item_id}：上级事项 {parent_id} 尚未提交")
        }
        ItemError::ParentNotDeliberation {
            item_id,
            parent_id,
            kind,
        } => format!(
            "事项 {item_id}：上级事项 {parent_id} 的类型是 {kind}；只有审议意见可以有下级事项"
        ),
        ItemError::ParentFinished {
            item_id,
            parent_id,
            status,
        } => format!(
            "事项 {item_id}：上级事项 {parent_id} {}；下级事项只能挂在仍在办理的事项下",
            status.label_zh()
        ),
        ItemError::OpenChildItems { item_id, child_ids } => format!(
            "事项 {item_id} 还有未办结的下级事项，不能销号：{}",
            child_ids.join("、")
        ),
        // Every other variant is handled by the functions above, which pass on only the rest.
        other => other.to_string(),
    }
}
