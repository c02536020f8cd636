//! The whole supervision domain end to end: the real `huiyin exec` on both backends, for a
//! two-round item, a case follow, engagements and people, the facts about other items, the
//! settings file, and the refusals of the new commands.

use std::process::Output;

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::support::{huiyin, on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "domain",
        "two_round_item_is_answered_rated_unsatisfied_rehandled_rated_satisfied_reconciled_closed",
        two_round_item,
    ));
    trials.extend(on_both(
        "domain",
        "case_follow_with_witnessed_actions_a_mediation_and_recoveries",
        case_follow,
    ));
    trials.extend(on_both(
        "domain",
        "engagements_and_people_are_recorded",
        engagements_and_people,
    ));
    trials.extend(on_both(
        "domain",
        "merge_parent_and_children_are_checked_against_the_other_items",
        other_items,
    ));
    trials.extend(on_both(
        "domain",
        "refusals_of_the_new_commands_carry_codes_and_both_languages",
        refusals,
    ));
    trials.extend(on_both(
        "domain",
        "settings_file_can_require_a_contact_before_the_answer",
        settings_file,
    ));
    trials.extend(on_both(
        "domain",
        "a_year_without_a_holiday_notice_is_logged_once",
        year_without_a_notice,
    ));
    trials
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

fn exec_with(db: &Fresh, extra: &[&str], commands: &[Value]) -> (Option<i32>, Vec<Value>) {
    let input: String = commands.iter().map(|line| format!("{line}\n")).collect();
    let mut args = extra.to_vec();
    args.extend(["exec", "-"]);
    let output = huiyin(db, &args, &input);
    (output.status.code(), lines(&output))
}

fn exec(db: &Fresh, commands: &[Value]) -> (Option<i32>, Vec<Value>) {
    exec_with(db, &[], commands)
}

/// Runs `commands`, all of which must be accepted.
fn exec_ok(db: &Fresh, commands: &[Value]) -> Vec<Value> {
    let (code, results) = exec(db, commands);
    assert_eq!(code, Some(0), "{results:#?}");
    results
}

fn tree_size(db: &Fresh) -> u64 {
    let output = huiyin(db, &["verify"], "");
    assert_eq!(output.status.code(), Some(0), "verify failed");
    lines(&output)[0]["tree_size"].as_u64().expect("tree_size")
}

fn cmd(id: &str, actor: &str, role: &str, kind: &str, at: &str, data: Value) -> Value {
    json!({"command_id": id, "actor": actor, "role": role, "type": kind, "at": at, "data": data})
}

fn file_item(id: &str, item: &str, kind: &str, parent: Option<&str>) -> Value {
    let mut data = json!({"item_id": item, "kind": kind, "title": "关于规范执行的建议",
        "body": "正文", "deputies": [{"id": "d-1", "name": "王芳", "lead": true}]});
    if let Some(parent) = parent {
        data["parent_id"] = json!(parent);
    }
    cmd(
        id,
        "liaison-01",
        "liaison",
        "FileItem",
        "2024-03-01T09:00:00+08:00",
        data,
    )
}

/// Filed, accepted and assigned (lead unit 执行局, co-unit 立案庭) on 2024-03-05.
fn assigned_item(prefix: &str, item: &str, kind: &str) -> Vec<Value> {
    vec![
        file_item(&format!("{prefix}-file"), item, kind, None),
        cmd(
            &format!("{prefix}-triage"),
            "office-01",
            "court_office",
            "TriageItem",
            "2024-03-04T09:00:00+08:00",
            json!({"item_id": item, "decision": "accept"}),
        ),
        cmd(
            &format!("{prefix}-assign"),
            "office-01",
            "court_office",
            "AssignItem",
            "2024-03-05T09:00:00+08:00",
            json!({"item_id": item, "lead_unit": "执行局", "co_units": ["立案庭"],
                   "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
        ),
    ]
}

async fn two_round_item(db: Fresh) {
    let item = "2024-S-101";
    let mut steps = assigned_item("t", item, "suggestion");
    steps.extend([
        cmd(
            "t-ack",
            "h-1",
            "handler",
            "AcknowledgeItem",
            "2024-03-06T09:00:00+08:00",
            json!({"item_id": item, "unit": "执行局"}),
        ),
        cmd(
            "t-contact",
            "h-1",
            "handler",
            "RecordContact",
            "2024-03-20T09:00:00+08:00",
            json!({"item_id": item, "deputy_id": "d-1", "channel": "in_person", "stage": "before",
                   "summary": "当面听取意见"}),
        ),
        cmd(
            "t-coview",
            "h-2",
            "handler",
            "SubmitCoView",
            "2024-03-25T09:00:00+08:00",
            json!({"item_id": item, "unit": "立案庭", "view": "同意"}),
        ),
        cmd(
            "t-progress",
            "h-1",
            "handler",
            "ReportProgress",
            "2024-04-15T09:00:00+08:00",
            json!({"item_id": item, "summary": "已制定方案"}),
        ),
        cmd(
            "t-answer-1",
            "l-1",
            "leader",
            "AnswerItem",
            "2024-05-20T09:00:00+08:00",
            json!({"item_id": item, "class": "B", "text": "正在研究",
                   "commitments": [{"id": "c-1", "text": "三季度出台办法", "due": "2024-09-30"}]}),
        ),
        cmd(
            "t-rate-1",
            "d-1",
            "deputy",
            "RateAnswer",
            "2024-05-25T09:00:00+08:00",
            json!({"item_id": item, "rating": "unsatisfied", "comment": "没有时间表"}),
        ),
        cmd(
            "t-extend",
            "l-1",
            "leader",
            "RequestExtension",
            "2024-06-10T09:00:00+08:00",
            json!({"item_id": item, "until": "2024-07-10", "reason": "需协调财政部门"}),
        ),
        cmd(
            "t-decide",
            "liaison-01",
            "liaison",
            "DecideExtension",
            "2024-06-11T09:00:00+08:00",
            json!({"item_id": item, "approve": true, "note": "同意"}),
        ),
        cmd(
            "t-answer-2",
            "l-1",
            "leader",
            "AnswerItem",
            "2024-07-05T09:00:00+08:00",
            json!({"item_id": item, "class": "A", "text": "办法已出台"}),
        ),
        cmd(
            "t-rate-2",
            "liaison-01",
            "liaison",
            "RateAnswer",
            "2024-07-12T09:00:00+08:00",
            json!({"item_id": item, "rating": "satisfied", "comment": "代表书面评价满意"}),
        ),
        cmd(
            "t-fulfil",
            "h-1",
            "handler",
            "FulfilCommitment",
            "2024-07-15T09:00:00+08:00",
            json!({"item_id": item, "commitment_id": "c-1", "note": "已出台"}),
        ),
        cmd(
            "t-reconcile",
            "liaison-01",
            "liaison",
            "ReconcileItem",
            "2024-07-20T09:00:00+08:00",
            json!({"item_id": item, "note": "对账一致"}),
        ),
        cmd(
            "t-close",
            "l-1",
            "leader",
            "CloseItem",
            "2024-07-25T09:00:00+08:00",
            json!({"item_id": item, "note": "销号"}),
        ),
    ]);
    let results = exec_ok(&db, &steps);
    let rated = &results[8];
    assert_eq!(
        rated["positions"].as_array().map(Vec::len),
        Some(2),
        "rating + new round"
    );
    assert_eq!(tree_size(&db), 17);
    let trail = huiyin(&db, &["trail", item, "--format", "json"], "");
    let trail: Value = serde_json::from_slice(&trail.stdout).expect("trail JSON");
    let events = trail["events"].as_array().expect("events");
    let of_type = |name: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|event| event["type"] == name)
            .collect()
    };
    let answers = of_type("ItemAnswered");
    assert_eq!(answers.len(), 2, "both rounds stay visible");
    assert_eq!(answers[0]["data"]["round"], 1);
    assert_eq!(answers[1]["data"]["round"], 2);
    // Rated 2024-05-25: round 2 due 2024-06-25, moved to 2024-07-10 by the extension.
    assert_eq!(
        of_type("RehandlingStarted")[0]["data"]["answer_due"],
        "2024-06-25"
    );
    assert_eq!(of_type("ExtensionDecided")[0]["data"]["due"], "2024-07-10");
    assert_eq!(answers[1]["data"]["due"], "2024-07-10");
    assert_eq!(answers[1]["data"]["on_time"], true);
    assert_eq!(of_type("AnswerRated")[1]["data"]["on_behalf"], true);
    let board = huiyin(
        &db,
        &["board", "--format", "json", "--now", "2024-08-01"],
        "",
    );
    let board: Value = serde_json::from_slice(&board.stdout).expect("board JSON");
    let row = &board["items"][0];
    assert_eq!(row["status"], "closed");
    assert_eq!(row["round"], 2);
    assert_eq!(row["class"], "A");
    assert_eq!(row["rating"], "satisfied");
}

fn follow_cmd(id: &str, role: &str, kind: &str, data: Value) -> Value {
    let actor = match role {
        "deputy" => "d-1",
        "handler" => "judge-01",
        _ => "office-01",
    };
    let mut data = data;
    data["follow_id"] = json!("2024-F-001");
    cmd(id, actor, role, kind, "2024-04-10T10:00:00+08:00", data)
}

async fn case_follow(db: Fresh) {
    let steps = vec![
        follow_cmd(
            "f-start",
            "court_office",
            "StartCaseFollow",
            json!({
            "case_no": "(2024)粤0101执123号",
            "deputy": {"id": "d-1", "name": "王芳"}, "judge": {"id": "judge-01", "name": "李法官"}}),
        ),
        follow_cmd(
            "f-act-1",
            "handler",
            "RecordEnforcementAction",
            json!({
            "kind": "seizure", "summary": "查封房产", "deputy_present": true}),
        ),
        follow_cmd(
            "f-act-2",
            "handler",
            "RecordEnforcementAction",
            json!({
            "kind": "property_investigation", "summary": "网络查控", "deputy_present": false}),
        ),
        follow_cmd(
            "f-act-3",
            "handler",
            "RecordEnforcementAction",
            json!({
            "kind": "on_site", "summary": "现场腾房", "deputy_present": true}),
        ),
        follow_cmd(
            "f-mediate",
            "handler",
            "RecordMediation",
            json!({
            "settled": true, "summary": "双方达成和解"}),
        ),
        follow_cmd(
            "f-recover-1",
            "handler",
            "RecordRecovery",
            json!({
            "amount": "150000.5", "summary": "首期执行款"}),
        ),
        follow_cmd(
            "f-recover-2",
            "handler",
            "RecordRecovery",
            json!({
            "amount": "49999.50", "summary": "尾款"}),
        ),
        follow_cmd(
            "f-evaluate",
            "deputy",
            "RecordFollowEvaluation",
            json!({
            "rating": "satisfied", "comment": "执行规范"}),
        ),
        follow_cmd(
            "f-end",
            "court_office",
            "EndCaseFollow",
            json!({
            "outcome": "settled", "summary": "和解履行完毕"}),
        ),
    ];
    let results = exec_ok(&db, &steps);
    assert!(results
        .iter()
        .all(|result| result["stream"] == "follow/2024-F-001"));
    let records = db
        .store
        .read_stream("follow/2024-F-001")
        .await
        .expect("read");
    let data: Vec<Value> = records
        .iter()
        .map(|stored| stored.record().expect("record").data)
        .collect();
    let witnessed = data
        .iter()
        .filter(|data| data["deputy_present"] == true)
        .count();
    assert_eq!(witnessed, 2);
    assert_eq!(data[4]["settled"], true);
    assert_eq!(
        data[5]["amount"], "150000.50",
        "money is a decimal string in yuan"
    );
    assert_eq!(data[6]["recovered_total"], "200000.00");
    assert_eq!(data[7]["on_behalf"], false);
    // Nothing more happens on an ended follow.
    let late = follow_cmd(
        "f-late",
        "handler",
        "RecordRecovery",
        json!({
        "amount": "1", "summary": "迟到"}),
    );
    let (code, results) = exec(&db, &[late]);
    assert_eq!(code, Some(1));
    assert_eq!(results[0]["error"]["code"], "wrong_state");
}

async fn engagements_and_people(db: Fresh) {
    let steps = vec![
        cmd(
            "e-1",
            "liaison-01",
            "liaison",
            "RecordEngagement",
            "2024-05-10T09:00:00+08:00",
            json!({"engagement_id": "2024-E-001", "kind": "special_action",
                   "deputies": ["d-1", "d-2"], "summary": "邀请代表见证集中执行行动"}),
        ),
        cmd(
            "p-1",
            "admin-01",
            "admin",
            "RegisterPerson",
            "2024-01-02T09:00:00+08:00",
            json!({"person_id": "d-1", "name": "王芳", "kind": "deputy", "level": "county",
                   "township": "城关镇"}),
        ),
        cmd(
            "p-2",
            "admin-01",
            "admin",
            "GrantAccess",
            "2024-01-02T09:05:00+08:00",
            json!({"person_id": "d-1", "role": "deputy"}),
        ),
        cmd(
            "p-3",
            "admin-01",
            "admin",
            "RevokeAccess",
            "2024-12-31T09:05:00+08:00",
            json!({"person_id": "d-1", "role": "deputy"}),
        ),
    ];
    let results = exec_ok(&db, &steps);
    assert_eq!(results[0]["stream"], "engagement/2024-E-001");
    assert_eq!(results[1]["stream"], "person/d-1");
    assert_eq!(tree_size(&db), 4);
}

async fn other_items(db: Fresh) {
    let mut steps = assigned_item("o", "2024-D-001", "deliberation_opinion");
    steps.push(file_item(
        "o-child",
        "2024-S-201",
        "suggestion",
        Some("2024-D-001"),
    ));
    steps.push(file_item("o-dup", "2024-S-202", "suggestion", None));
    steps.push(cmd(
        "o-merge",
        "office-01",
        "court_office",
        "TriageItem",
        "2024-03-04T09:00:00+08:00",
        json!({"item_id": "2024-S-202", "decision": "merge", "target_item_id": "2024-S-201",
               "reason": "内容相同"}),
    ));
    steps.extend([
        cmd(
            "o-answer",
            "l-1",
            "leader",
            "AnswerItem",
            "2024-05-20T09:00:00+08:00",
            json!({"item_id": "2024-D-001", "class": "A", "text": "已落实"}),
        ),
        cmd(
            "o-rate",
            "liaison-01",
            "liaison",
            "RateAnswer",
            "2024-05-25T09:00:00+08:00",
            json!({"item_id": "2024-D-001", "rating": "satisfied"}),
        ),
        cmd(
            "o-reconcile",
            "liaison-01",
            "liaison",
            "ReconcileItem",
            "2024-06-01T09:00:00+08:00",
            json!({"item_id": "2024-D-001"}),
        ),
    ]);
    exec_ok(&db, &steps);
    let size = tree_size(&db);
    let close = cmd(
        "o-close",
        "l-1",
        "leader",
        "CloseItem",
        "2024-06-05T09:00:00+08:00",
        json!({"item_id": "2024-D-001"}),
    );
    let (code, results) = exec(&db, std::slice::from_ref(&close));
    assert_eq!(code, Some(1));
    assert_eq!(results[0]["error"]["code"], "wrong_state");
    assert!(results[0]["error"]["message"]
        .as_str()
        .expect("message")
        .contains("2024-S-201"));
    assert_eq!(tree_size(&db), size);
    // Once the child is withdrawn, the opinion closes.
    let withdraw = cmd(
        "o-withdraw",
        "liaison-01",
        "liaison",
        "WithdrawItem",
        "2024-06-04T09:00:00+08:00",
        json!({"item_id": "2024-S-201", "reason": "代表撤回"}),
    );
    exec_ok(&db, &[withdraw, close]);
    // Filing under a closed opinion, or merging into an item never filed, is refused.
    let late_child = file_item("o-late", "2024-S-203", "suggestion", Some("2024-D-001"));
    let orphan = file_item("o-orphan", "2024-S-204", "suggestion", Some("2024-D-404"));
    let (_, results) = exec(&db, &[late_child, orphan]);
    assert_eq!(results[0]["error"]["code"], "wrong_state");
    assert_eq!(results[1]["error"]["code"], "not_found");
}

async fn refusals(db: Fresh) {
    exec_ok(&db, &assigned_item("r", "2024-S-301", "suggestion"));
    exec_ok(
        &db,
        &[follow_cmd(
            "r-start",
            "liaison",
            "StartCaseFollow",
            json!({
        "case_no": "(2024)粤0101执9号",
        "deputy": {"id": "d-1", "name": "王芳"}, "judge": {"id": "judge-01", "name": "李法官"}}),
        )],
    );
    let size = tree_size(&db);
    let at = "2024-04-01T09:00:00+08:00";
    let cases = [
        (
            "forbidden",
            cmd(
                "x-1",
                "h-1",
                "handler",
                "RecordEngagement",
                at,
                json!({"engagement_id": "2024-E-9", "kind": "visit", "deputies": ["d-1"],
                   "summary": "走访"}),
            ),
        ),
        (
            "invalid",
            follow_cmd(
                "x-2",
                "handler",
                "RecordRecovery",
                json!({"amount": "-5", "summary": "负数"}),
            ),
        ),
        (
            "invalid",
            follow_cmd(
                "x-3",
                "handler",
                "RecordRecovery",
                json!({"amount": 12.5, "summary": "浮点数"}),
            ),
        ),
        (
            "invalid",
            cmd(
                "x-4",
                "l-1",
                "leader",
                "RequestExtension",
                at,
                json!({"item_id": "2024-S-301", "until": "2024-09-06", "reason": "超过六个月"}),
            ),
        ),
        (
            "invalid",
            cmd(
                "x-5",
                "l-1",
                "leader",
                "RequestExtension",
                at,
                json!({"item_id": "2024-S-301", "until": "2024-02-30", "reason": "不存在的日期"}),
            ),
        ),
        (
            "forbidden",
            cmd(
                "x-6",
                "h-1",
                "handler",
                "SubmitCoView",
                at,
                json!({"item_id": "2024-S-301", "unit": "执行局", "view": "主办部门不能提协办意见"}),
            ),
        ),
        (
            "not_found",
            cmd(
                "x-7",
                "h-1",
                "handler",
                "RecordMediation",
                at,
                json!({"follow_id": "2024-F-404", "settled": false, "summary": "无此跟案"}),
            ),
        ),
        (
            "not_found",
            cmd(
                "x-8",
                "admin-01",
                "admin",
                "GrantAccess",
                at,
                json!({"person_id": "nobody", "role": "leader"}),
            ),
        ),
        (
            "wrong_state",
            cmd(
                "x-9",
                "liaison-01",
                "liaison",
                "DecideExtension",
                at,
                json!({"item_id": "2024-S-301", "approve": true}),
            ),
        ),
        (
            "wrong_state",
            cmd(
                "x-10",
                "liaison-01",
                "liaison",
                "ReopenItem",
                at,
                json!({"item_id": "2024-S-301", "reason": "未销号"}),
            ),
        ),
        (
            "invalid",
            cmd(
                "x-11",
                "h-1",
                "handler",
                "RecordContact",
                at,
                json!({"item_id": "2024-S-301", "deputy_id": "d-1", "channel": "telepathy",
                   "stage": "before", "summary": "无此方式"}),
            ),
        ),
        (
            "invalid",
            cmd(
                "x-12",
                "liaison-01",
                "liaison",
                "RecordEngagement",
                at,
                json!({"engagement_id": "bad id!", "kind": "visit", "deputies": ["d-1"],
                   "summary": "走访"}),
            ),
        ),
        (
            "forbidden",
            follow_cmd(
                "x-13",
                "auditor",
                "EndCaseFollow",
                json!({"outcome": "other", "summary": "审计不能改动"}),
            ),
        ),
    ];
    for (code, line) in cases {
        let (exit, results) = exec(&db, std::slice::from_ref(&line));
        assert_eq!(exit, Some(1), "{line}");
        let error = &results[0]["error"];
        assert_eq!(error["code"], code, "{line}: {error}");
        for language in ["message", "message_zh"] {
            let text = error[language].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{line}: no {language}");
        }
        assert_eq!(tree_size(&db), size, "{line} appended something");
    }
}

async fn settings_file(db: Fresh) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = dir.path().join("huiyin.toml");
    std::fs::write(&config, "require_contact_before_answer = true\n").expect("write");
    let config = config.display().to_string();
    exec_ok(&db, &assigned_item("s", "2024-S-401", "suggestion"));
    let answer = cmd(
        "s-answer",
        "l-1",
        "leader",
        "AnswerItem",
        "2024-05-20T09:00:00+08:00",
        json!({"item_id": "2024-S-401", "class": "A", "text": "答复"}),
    );
    let (code, results) = exec_with(&db, &["--config", &config], std::slice::from_ref(&answer));
    assert_eq!(code, Some(1));
    assert_eq!(results[0]["error"]["code"], "wrong_state");
    assert!(results[0]["error"]["message_zh"]
        .as_str()
        .expect("zh")
        .contains("RecordContact"));
    // Without the file the same answer is accepted.
    exec_ok(&db, &[answer]);
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[deadlines]\nanswer_months = 0\n").expect("write");
    let output = huiyin(
        &db,
        &["--config", &broken.display().to_string(), "verify"],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("answer_months"));
}

async fn year_without_a_notice(db: Fresh) {
    let filed = |id: &str, item: &str| {
        cmd(
            id,
            "liaison-01",
            "liaison",
            "FileItem",
            "2027-03-01T09:00:00+08:00",
            json!({"item_id": item, "kind": "suggestion", "title": "建议", "body": "",
                   "deputies": [{"id": "d-1", "name": "王芳"}]}),
        )
    };
    let input = format!(
        "{}\n{}\n",
        filed("y-1", "2027-S-001"),
        filed("y-2", "2027-S-002")
    );
    let output = huiyin(&db, &["exec", "-"], &input);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("no State Council holiday notice for 2027")
            .count(),
        1,
        "{stderr}"
    );
    // Weekends only: filed Monday 2027-03-01, seven working days later is Wednesday 2027-03-10.
    let records = db.store.read_stream("item/2027-S-001").await.expect("read");
    let data = records[0].record().expect("record").data;
    assert_eq!(data["triage_due"], "2027-03-10");
}
