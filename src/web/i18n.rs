//! The web pages' words: one catalogue, every key in Chinese (the default) and English.
//!
//! Pages never write UI text themselves; they look it up here with [`Lang::t`]. Names from the
//! ledger (titles, people, units) are data, shown as recorded.

/// The language a page is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

/// The cookie that remembers the language a person chose.
pub const LANG_COOKIE: &str = "huiyin_lang";

impl Lang {
    /// `zh` or `en`, as in `?lang=` and the cookie.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The HTML `lang` attribute.
    pub const fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The other language (what the switch link offers).
    pub const fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// `zh` or `en`; anything else is not a language the pages speak.
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The text of `key` in this language. A key missing from the catalogue is a bug: debug
    /// builds (and so every test that renders a page) panic; release builds show the key.
    pub fn t(self, key: &str) -> &'static str {
        match CATALOGUE.iter().find(|(name, _, _)| *name == key) {
            Some((_, zh, en)) => match self {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => {
                debug_assert!(false, "message key {key:?} is not in the catalogue");
                "?"
            }
        }
    }

    /// The text of `prefix.value` when the catalogue has it, else `value` itself (a status, kind
    /// or rating the catalogue does not know yet is shown as recorded).
    pub fn label(self, prefix: &str, value: &str) -> String {
        let key = format!("{prefix}.{value}");
        match CATALOGUE.iter().find(|(name, _, _)| *name == key) {
            Some((_, zh, en)) => match self {
                Lang::Zh => (*zh).to_owned(),
                Lang::En => (*en).to_owned(),
            },
            None => value.to_owned(),
        }
    }
}

/// Every UI text: `(key, 中文, English)`.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    ("app.name", "回音 · 督办台账", "Huiyin · supervision ledger"),
    ("lang.switch", "English", "中文"),
    ("nav.board", "督办台账", "Board"),
    ("nav.figures", "统计", "Figures"),
    ("nav.audit", "审计", "Audit"),
    ("nav.new_item", "登记新事项", "File an item"),
    ("nav.logout", "退出", "Log out"),
    ("nav.signed_in_as", "当前用户", "Signed in as"),
    // Login.
    ("login.title", "登录", "Log in"),
    ("login.person_id", "人员编号", "Person id"),
    ("login.password", "密码", "Password"),
    ("login.role", "角色（可留空）", "Role (may be empty)"),
    (
        "login.role_any",
        "（账户唯一角色）",
        "(the account's only role)",
    ),
    ("login.submit", "登录", "Log in"),
    ("login.failed", "登录失败", "Login failed"),
    (
        "login.error.unauthenticated",
        "人员编号或密码不正确。",
        "Wrong person id or password.",
    ),
    (
        "login.error.forbidden",
        "该账户没有所选角色。",
        "This account does not have that role.",
    ),
    (
        "login.error.throttled",
        "失败次数过多，请稍后再试。",
        "Too many failed logins; wait a little and try again.",
    ),
    (
        "login.error.invalid",
        "请填写人员编号和密码；账户有多个角色时请选择角色。",
        "Fill in person id and password; choose a role when the account has several.",
    ),
    // Roles.
    ("role.liaison", "人大代表联络机构", "Liaison office"),
    ("role.court_office", "法院办公室", "Court office"),
    ("role.handler", "承办部门", "Handling unit"),
    ("role.leader", "院领导", "Court leader"),
    ("role.deputy", "人大代表", "Deputy"),
    ("role.auditor", "审计监督", "Auditor"),
    ("role.admin", "系统管理员", "Administrator"),
    // Board.
    ("board.title", "督办台账", "Tracking board"),
    ("board.as_of", "截至日志位置", "As of log position"),
    ("board.judged_at", "判定时间", "Judged at"),
    ("board.empty", "没有符合条件的事项。", "No items match."),
    ("board.pages", "分页", "Pages"),
    ("board.page_shows", "本页显示", "This page shows"),
    ("board.first_page", "第一页", "First page"),
    ("board.next_page", "下一页 →", "Next page →"),
    (
        "board.all_due_answered",
        "应答复事项均已答复：件件有回音。",
        "Every item that is due has been answered.",
    ),
    (
        "board.some_due_unanswered",
        "有到期未答复的事项。",
        "Some items are due and unanswered.",
    ),
    ("board.filters", "筛选", "Filters"),
    ("board.filter.any", "全部", "Any"),
    ("board.filter.apply", "筛选", "Apply"),
    ("board.filter.clear", "清除筛选", "Clear filters"),
    ("board.filter.yes", "是", "Yes"),
    ("board.filter.no", "否", "No"),
    ("board.download_csv", "下载 CSV", "Download CSV"),
    ("board.download_xlsx", "下载 Excel", "Download XLSX"),
    ("count.total", "事项总数", "Total"),
    ("count.open", "办理中", "Open"),
    ("count.answered", "已答复", "Answered"),
    ("count.answered_on_time", "按期答复", "Answered on time"),
    ("count.overdue", "逾期", "Overdue"),
    ("count.due_soon", "临期", "Due soon"),
    ("count.closed", "已销号", "Closed"),
    ("col.item_id", "编号", "Id"),
    ("col.kind", "类型", "Kind"),
    ("col.title", "标题", "Title"),
    ("col.deputies", "代表", "Deputies"),
    ("col.status", "状态", "Status"),
    ("col.round", "轮次", "Round"),
    ("col.lead_unit", "承办部门", "Lead unit"),
    ("col.leader", "包案领导", "Leader"),
    ("col.due", "办理期限", "Due"),
    ("col.days_left", "剩余天数", "Days left"),
    ("item.overdue_by", "已逾期", "overdue by"),
    ("item.days", "天", "days"),
    ("col.flag", "提示", "Flag"),
    ("col.class", "答复类别", "Class"),
    ("col.rating", "评价", "Rating"),
    ("col.last_activity_at", "最近办理", "Last activity"),
    ("col.overdue", "逾期", "Overdue"),
    ("col.due_soon", "临期", "Due soon"),
    ("flag.overdue", "逾期未答复", "Overdue, unanswered"),
    ("flag.due_soon", "临期未答复", "Due soon, unanswered"),
    ("sort.ascending", "升序", "ascending"),
    ("sort.descending", "降序", "descending"),
    // Dead notifications.
    (
        "dead.title",
        "发送失败的通知",
        "Notifications that could not be sent",
    ),
    (
        "dead.explain",
        "以下通知多次发送失败，系统已停止重试，请人工跟进。",
        "The sender gave up on these notifications; follow them up by hand.",
    ),
    (
        "dead.none",
        "没有发送失败的通知。",
        "No notification has failed for good.",
    ),
    ("dead.id", "通知编号", "Notice id"),
    ("dead.kind", "类型", "Kind"),
    ("dead.item", "事项", "Item"),
    ("dead.recipient", "收件人", "Recipient"),
    ("dead.channel", "渠道", "Channel"),
    ("dead.attempts", "尝试次数", "Attempts"),
    ("dead.subject", "主题", "Subject"),
    ("dead.error", "最后一次失败原因", "Last error"),
    (
        "dead.more",
        "仅显示最近放弃的若干条。",
        "Only the most recently given up on are shown.",
    ),
    // Statuses.
    ("status.filed", "已登记", "Filed"),
    ("status.accepted", "已受理", "Accepted"),
    ("status.assigned", "已交办", "Assigned"),
    ("status.answered", "已答复", "Answered"),
    ("status.rated", "已评价", "Rated"),
    ("status.rehandling", "重新办理", "Re-handling"),
    ("status.reconciled", "已对账", "Reconciled"),
    ("status.closed", "已销号", "Closed"),
    ("status.returned", "已退回", "Returned"),
    ("status.redirected", "已转办", "Redirected"),
    ("status.merged", "已合并", "Merged"),
    ("status.withdrawn", "已撤回", "Withdrawn"),
    // Kinds.
    ("kind.suggestion", "代表建议", "Suggestion"),
    (
        "kind.deliberation_opinion",
        "审议意见",
        "Deliberation opinion",
    ),
    ("kind.inquiry", "专题询问", "Inquiry"),
    (
        "kind.inspection_finding",
        "视察调研发现",
        "Inspection finding",
    ),
    ("kind.deputy_letter", "代表来信", "Deputy letter"),
    // Ratings.
    ("rating.satisfied", "满意", "Satisfied"),
    (
        "rating.basically_satisfied",
        "基本满意",
        "Basically satisfied",
    ),
    ("rating.unsatisfied", "不满意", "Unsatisfied"),
    ("rating.no_response", "未表态", "No response"),
    // Item page.
    ("item.title", "事项", "Item"),
    ("item.facts", "基本情况", "Facts"),
    ("item.body", "内容", "Text"),
    ("item.rounds", "办理轮次", "Rounds"),
    ("item.round", "第几轮", "Round"),
    ("item.answer", "答复", "Answer"),
    ("item.answered_at", "答复时间", "Answered at"),
    ("item.answered_by", "答复人", "Answered by"),
    ("item.rated_at", "评价时间", "Rated at"),
    ("item.comment", "意见", "Comment"),
    ("item.no_rounds", "尚未答复。", "Not answered yet."),
    ("item.trail", "履历（日志记录）", "Trail (log records)"),
    ("item.position", "位置", "Position"),
    ("item.event", "事件", "Event"),
    ("item.at", "业务时间", "Business time"),
    ("item.recorded_at", "记录时间", "Recorded at"),
    ("item.actor", "操作人", "Actor"),
    ("item.role", "角色", "Role"),
    ("item.hash", "哈希", "Hash"),
    ("item.proof", "包含证明", "Inclusion proof"),
    ("item.actions", "可办理操作", "What you may do"),
    (
        "item.no_actions",
        "以您的角色，此事项当前没有可办理的操作。",
        "Your role has nothing to do on this item in its current state.",
    ),
    ("item.back", "返回督办台账", "Back to the board"),
    ("flash.ok", "已记录", "Recorded"),
    ("flash.refused", "未能办理", "Refused"),
    ("flash.code", "错误代码", "Error code"),
    // Commands (form titles).
    ("cmd.FileItem", "登记事项", "File an item"),
    (
        "cmd.TriageItem",
        "分流（受理/退回/转办/合并）",
        "Triage (accept, return, redirect, merge)",
    ),
    (
        "cmd.AssignItem",
        "交办（承办部门与包案领导）",
        "Assign (lead unit and leader)",
    ),
    ("cmd.AcknowledgeItem", "承办部门签收", "Acknowledge"),
    (
        "cmd.RecordContact",
        "记录与代表联系（面商）",
        "Record a contact with a deputy",
    ),
    ("cmd.SubmitCoView", "会办意见", "Submit a co-unit view"),
    ("cmd.ReportProgress", "报告办理进展", "Report progress"),
    ("cmd.RequestExtension", "申请延期", "Request an extension"),
    ("cmd.DecideExtension", "审批延期", "Decide the extension"),
    ("cmd.AnswerItem", "答复", "Answer"),
    (
        "cmd.ReclassifyAnswer",
        "更正答复类别",
        "Reclassify the answer",
    ),
    ("cmd.RateAnswer", "评价答复", "Rate the answer"),
    (
        "cmd.FulfilCommitment",
        "承诺事项已兑现",
        "Fulfil a commitment",
    ),
    ("cmd.ReconcileItem", "对账", "Reconcile"),
    ("cmd.CloseItem", "销号", "Close"),
    ("cmd.WithdrawItem", "撤回", "Withdraw"),
    ("cmd.ReopenItem", "重新打开", "Reopen"),
    ("form.submit", "提交", "Submit"),
    ("form.optional", "（选填）", "(optional)"),
    // Form fields.
    ("field.item_id", "事项编号", "Item id"),
    ("field.kind", "类型", "Kind"),
    ("field.title", "标题", "Title"),
    ("field.body", "内容", "Text"),
    ("field.deputy_id", "代表编号", "Deputy's person id"),
    ("field.deputy_name", "代表姓名", "Deputy's name"),
    (
        "field.second_deputy_id",
        "第二位代表编号",
        "Second deputy's id",
    ),
    (
        "field.second_deputy_name",
        "第二位代表姓名",
        "Second deputy's name",
    ),
    (
        "field.urgent",
        "紧急（一个月内答复）",
        "Urgent (answer within a month)",
    ),
    (
        "field.parent_id",
        "上级事项编号（审议意见）",
        "Parent item (a deliberation opinion)",
    ),
    ("field.decision", "决定", "Decision"),
    ("field.reason", "理由", "Reason"),
    ("field.target_item_id", "合并到事项", "Merge into item"),
    ("field.redirect_to", "转办至", "Redirect to"),
    ("field.lead_unit", "承办部门", "Lead unit"),
    (
        "field.co_units",
        "会办部门（以逗号分隔）",
        "Co-units (comma-separated)",
    ),
    ("field.leader_id", "包案领导编号", "Leader's person id"),
    ("field.leader_name", "包案领导姓名", "Leader's name"),
    ("field.leader_level", "领导级别", "Leader's level"),
    ("field.unit", "部门", "Unit"),
    ("field.channel", "联系方式", "Channel"),
    ("field.stage", "阶段", "Stage"),
    ("field.summary", "情况", "Summary"),
    ("field.view", "意见", "View"),
    ("field.until", "延期至（日期）", "Until (date)"),
    ("field.approve", "是否同意", "Approve"),
    ("field.note", "备注", "Note"),
    ("field.class", "答复类别", "Answer class"),
    ("field.text", "答复内容", "Answer text"),
    ("field.doc_no", "文号", "Document number"),
    ("field.public", "可公开", "May be published"),
    ("field.commitment_id", "承诺编号", "Commitment id"),
    ("field.commitment_text", "承诺内容", "Commitment"),
    ("field.commitment_due", "承诺期限", "Commitment due"),
    ("field.rating", "评价", "Rating"),
    ("field.comment", "意见", "Comment"),
    (
        "field.on_behalf_of",
        "代为记录的代表编号",
        "On behalf of deputy (id)",
    ),
    ("opt.accept", "受理", "Accept"),
    ("opt.return", "退回", "Return"),
    ("opt.redirect", "转办", "Redirect"),
    ("opt.merge", "合并", "Merge"),
    ("opt.true", "是", "Yes"),
    ("opt.false", "否", "No"),
    ("opt.president", "院长", "President"),
    ("opt.vice_president", "副院长", "Vice president"),
    ("opt.committee_member", "审委会专职委员", "Committee member"),
    ("opt.division_chief", "庭长", "Division chief"),
    ("opt.in_person", "当面", "In person"),
    ("opt.phone", "电话", "Phone"),
    ("opt.video", "视频", "Video"),
    ("opt.written", "书面", "Written"),
    ("opt.other", "其他", "Other"),
    ("opt.before", "答复前", "Before the answer"),
    ("opt.during", "办理中", "During handling"),
    ("opt.after", "答复后", "After the answer"),
    // Figures.
    ("figures.title", "统计", "Figures"),
    ("figures.year", "年度", "Year"),
    ("figures.all_years", "全部年度", "All years"),
    ("figures.show", "查看", "Show"),
    ("figures.download_csv", "下载 CSV", "Download CSV"),
    ("figures.download_xlsx", "下载 Excel", "Download XLSX"),
    (
        "figures.monthly",
        "每月登记与答复件数",
        "Filed and answered per month",
    ),
    ("figures.filed", "登记", "Filed"),
    ("figures.answered", "答复", "Answered"),
    ("figures.month", "月", "Month"),
    (
        "figures.on_time_by_leader",
        "各包案领导按期办复率",
        "On-time rate per leader",
    ),
    (
        "figures.satisfaction_by_year",
        "各年度满意率",
        "Satisfaction per year",
    ),
    ("figures.no_data", "无数据", "No data"),
    ("figures.summary", "主要指标", "Key figures"),
    ("figures.figure", "指标", "Figure"),
    ("figures.value", "数值", "Value"),
    ("figures.items", "事项", "Items"),
    ("figures.answer_rate", "办复率", "Answer rate"),
    ("figures.on_time_rate", "按期办复率", "On-time rate"),
    ("figures.contact_rate", "见面率", "Contact rate"),
    ("figures.satisfaction_rate", "满意率", "Satisfaction rate"),
    (
        "figures.satisfied_or_basic_rate",
        "满意和基本满意率",
        "Satisfied or basically satisfied",
    ),
    ("figures.follows", "跟案执行", "Case follows"),
    (
        "figures.witnessed_actions",
        "代表见证执行",
        "Witnessed enforcement actions",
    ),
    ("figures.mediations", "调解", "Mediations"),
    (
        "figures.recovered_yuan",
        "执行到位金额（元）",
        "Recovered (yuan)",
    ),
    ("figures.people", "人员（按层级、按乡镇）", "People (by level, by township)"),
    ("figures.person_kind", "类别", "Kind"),
    ("figures.level_or_township", "层级或乡镇", "Level or township"),
    ("figures.people_count", "人数", "People"),
    ("person_kind.deputy", "人大代表", "Deputy"),
    ("person_kind.supervisor", "特约监督员", "Supervisor"),
    ("person_kind.liaison_officer", "联络员", "Liaison officer"),
    ("person_kind.staff", "工作人员", "Staff"),
    ("level.national", "全国", "National"),
    ("level.provincial", "省级", "Provincial"),
    ("level.municipal", "市级", "Municipal"),
    ("level.county", "县级", "County"),
    ("level.township", "乡镇级", "Township"),
    // Audit.
    ("audit.title", "审计与核验", "Audit and verification"),
    ("audit.log_size", "日志记录数", "Records in the log"),
    (
        "audit.checkpoint",
        "最新签名检查点",
        "Latest signed checkpoint",
    ),
    (
        "audit.no_checkpoint",
        "尚无签名检查点（运行 huiyin checkpoint --key 签发）。",
        "No signed checkpoint yet (sign one with huiyin checkpoint --key).",
    ),
    ("audit.origin", "签名来源", "Origin"),
    ("audit.tree_size", "树大小", "Tree size"),
    ("audit.root_hash", "根哈希", "Root hash"),
    ("audit.signed_by", "签名", "Signatures"),
    ("audit.note", "检查点原文", "Checkpoint note"),
    ("audit.links", "接口", "Interfaces"),
    (
        "audit.export",
        "导出全部日志（仅审计角色）",
        "Export the whole log (auditors only)",
    ),
    ("audit.checkpoint_api", "检查点接口", "Checkpoint API"),
    ("audit.inclusion_api", "包含证明接口", "Inclusion proof API"),
    (
        "audit.consistency_api",
        "一致性证明接口",
        "Consistency proof API",
    ),
    ("audit.offline", "离线核验", "Verify offline"),
    (
        "audit.offline_explain",
        "下载导出文件和账本公钥后，无需数据库即可核验：",
        "With the export and the ledger's public key, anyone can verify without the database:",
    ),
    // Errors.
    ("error.title", "出错了", "Something went wrong"),
    (
        "error.not_found",
        "找不到该页面或事项。",
        "No such page or item.",
    ),
    (
        "error.forbidden",
        "您的角色无权查看或办理。",
        "Your role may not see or do this.",
    ),
    (
        "error.csrf",
        "表单已过期或来源不明，请返回重新提交。",
        "The form is stale or did not come from this site; go back and send it again.",
    ),
    (
        "error.invalid",
        "请求无法读取。",
        "The request cannot be read.",
    ),
    (
        "error.too_large",
        "提交的内容过大，未作任何记录；请缩短后重试。",
        "What was sent is too large; nothing was recorded. Shorten it and try again.",
    ),
    (
        "error.internal",
        "服务器出错，详情见服务器日志。",
        "The server failed; the details are in its log.",
    ),
    (
        "error.unavailable",
        "暂时无法连接账本数据库，请稍后重试；本次操作未作任何记录。",
        "The ledger's database cannot be reached just now; try again shortly. Nothing was recorded.",
    ),
    ("error.back", "返回首页", "Back to the board"),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_key_has_chinese_and_english_text_once() {
        let mut keys = BTreeSet::new();
        for (key, zh, en) in CATALOGUE {
            assert!(keys.insert(*key), "{key} twice");
            assert!(!zh.trim().is_empty(), "{key} has no Chinese");
            assert!(!en.trim().is_empty(), "{key} has no English");
        }
    }

    #[test]
    fn every_role_status_and_command_has_a_label() {
        for role in aggregates::actor::Role::ALL {
            Lang::En.t(&format!("role.{}", role.as_str()));
        }
        for rule in aggregates::access::COMMANDS
            .iter()
            .filter(|rule| rule.stream == aggregates::access::StreamKind::Item)
        {
            Lang::Zh.t(&format!("cmd.{}", rule.command));
        }
    }
}
