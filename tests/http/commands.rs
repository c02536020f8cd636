//! `POST /api/commands`: who acts, and every refusal's status.

use aggregates::access::COMMANDS;
use aggregates::actor::Role;
use axum::http::{header, Method, StatusCode};
use libtest_mimic::Trial;
use serde_json::{json, Value};

use super::{answered_item, command, file, raw, request, with_header, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "http",
        "commands_run_as_the_credentials_person_in_its_role",
        commands_run_as_the_credentials_person_in_its_role,
    ));
    trials.extend(on_both(
        "http",
        "refused_commands_answer_their_documented_status",
        refused_commands_answer_their_documented_status,
    ));
    trials.extend(on_both(
        "http",
        "refusals_are_in_chinese_when_the_request_prefers_it",
        refusals_are_in_chinese_when_the_request_prefers_it,
    ));
    trials.extend(on_both(
        "http",
        "every_role_the_command_table_forbids_gets_403",
        every_role_the_command_table_forbids_gets_403,
    ));
    trials.extend(on_both(
        "http",
        "a_deputy_reads_and_rates_only_their_own_items",
        a_deputy_reads_and_rates_only_their_own_items,
    ));
    trials.extend(on_both(
        "http",
        "an_auditor_reads_everything_and_changes_nothing",
        an_auditor_reads_everything_and_changes_nothing,
    ));
    trials
}

async fn commands_run_as_the_credentials_person_in_its_role(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let filed = api.command(&cast.liaison, &file("2024-S-001", "d-1")).await;
    filed.expect(StatusCode::OK, None);
    assert_eq!(filed.body["ok"], true);
    assert_eq!(filed.body["command_id"], "2024-S-001-file");
    assert_eq!(filed.body["stream"], "item/2024-S-001");
    assert_eq!(filed.body["positions"], json!([0]));
    assert_eq!(filed.body["replayed"], false);
    assert_eq!(filed.body["hashes"][0].as_str().map(str::len), Some(64));
    // The same command again appends nothing and answers the first result.
    let again = api.command(&cast.liaison, &file("2024-S-001", "d-1")).await;
    again.expect(StatusCode::OK, None);
    assert_eq!(again.body["replayed"], true);
    assert_eq!(again.body["positions"], json!([0]));
    // Without a command id, the server makes one.
    let fresh = json!({"type": "TriageItem", "at": "2024-03-04T09:00:00+08:00",
                       "data": {"item_id": "2024-S-001", "decision": "accept"}});
    let triaged = api.command(&cast.office, &fresh).await;
    triaged.expect(StatusCode::OK, None);
    assert!(triaged.body["command_id"]
        .as_str()
        .is_some_and(|id| id.len() >= 32));
    // The rest of the slice, each step by its role, ends with the item closed.
    answered_rated_reconciled_closed(&api, &cast).await;
    let trail = api
        .get("/api/items/2024-S-001/trail", Some(&cast.auditor))
        .await;
    trail.expect(StatusCode::OK, None);
    let actors: Vec<(String, String)> = trail.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            (
                event["actor"].as_str().unwrap_or("").to_owned(),
                event["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("liaison-01", "liaison"),
        ("office-01", "court_office"),
        ("office-01", "court_office"),
        ("l-1", "leader"),
        ("d-1", "deputy"),
        ("liaison-01", "liaison"),
        ("l-1", "leader"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(actor, role)| ((*actor).to_owned(), (*role).to_owned()))
        .collect();
    assert_eq!(actors, expected);
    let board = api
        .get("/api/board?now=2024-07-01", Some(&cast.liaison))
        .await;
    assert_eq!(board.body["items"][0]["status"], "closed");
    assert_eq!(board.body["summary"]["closed"], 1);
}

async fn answered_rated_reconciled_closed(api: &Api, cast: &Cast) {
    let item = "2024-S-001";
    let steps = [
        (
            &cast.office,
            command(
                "s-assign",
                "AssignItem",
                "2024-03-05T09:00:00+08:00",
                json!({"item_id": item, "lead_unit": "执行局",
                   "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
            ),
        ),
        (
            &cast.leader,
            command(
                "s-answer",
                "AnswerItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": item, "class": "A", "text": "答复"}),
            ),
        ),
        (
            &cast.deputy,
            command(
                "s-rate",
                "RateAnswer",
                "2024-05-25T09:00:00+08:00",
                json!({"item_id": item, "rating": "satisfied"}),
            ),
        ),
        (
            &cast.liaison,
            command(
                "s-reconcile",
                "ReconcileItem",
                "2024-06-10T09:00:00+08:00",
                json!({"item_id": item}),
            ),
        ),
        (
            &cast.leader,
            command(
                "s-close",
                "CloseItem",
                "2024-06-20T09:00:00+08:00",
                json!({"item_id": item}),
            ),
        ),
    ];
    for (token, step) in steps {
        api.command(token, &step).await.expect(StatusCode::OK, None);
    }
}

async fn refused_commands_answer_their_documented_status(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    api.command(&cast.liaison, &file("2024-S-002", "d-1"))
        .await
        .expect(StatusCode::OK, None);
    let cases = field_refusals(&cast)
        .into_iter()
        .chain(rule_refusals(&cast));
    for (status, code, token, body) in cases {
        let answer = api.command(token, &body).await;
        assert_eq!(answer.status, status, "{body}: {:#}", answer.body);
        answer.expect(status, Some(code));
    }
    // Bodies that are not a JSON command at all.
    let broken = r#"{"type":"FileItem","data":{"item_id":"#;
    let token = Some(cast.liaison.as_str());
    api.send(raw(
        Method::POST,
        "/api/commands",
        token,
        "application/json",
        broken,
    ))
    .await
    .expect(StatusCode::BAD_REQUEST, Some("invalid"));
    let as_text = file("2024-S-004", "d-1").to_string();
    api.send(raw(
        Method::POST,
        "/api/commands",
        token,
        "text/plain",
        &as_text,
    ))
    .await
    .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("invalid"));
    // Nothing of the refused commands was appended: one filing only.
    let head = api.stores.events.head().await.expect("head");
    assert_eq!(head.tree_size, 1);
}

async fn refusals_are_in_chinese_when_the_request_prefers_it(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let answer_as_handler = command(
        "zh-1",
        "AnswerItem",
        "2024-05-20T09:00:00+08:00",
        json!({"item_id": "2024-S-404", "class": "A", "text": "答复"}),
    );
    let english = api.command(&cast.handler, &answer_as_handler).await;
    english.expect(StatusCode::FORBIDDEN, Some("forbidden"));
    let message = english.body["error"]["message"].as_str().expect("message");
    assert!(message.is_ascii(), "{message}");
    let chinese = api
        .send(with_header(
            request(
                Method::POST,
                "/api/commands",
                Some(&cast.handler),
                Some(&answer_as_handler),
            ),
            header::ACCEPT_LANGUAGE,
            "zh-CN,zh;q=0.9,en;q=0.5",
        ))
        .await;
    chinese.expect(StatusCode::FORBIDDEN, Some("forbidden"));
    assert_eq!(chinese.headers[header::CONTENT_LANGUAGE], "zh");
    let message = chinese.body["error"]["message"].as_str().expect("message");
    assert!(!message.is_ascii(), "{message}");
}

/// A refused command: the status and code expected, who sends it, and what.
type Refusal<'a> = (StatusCode, &'static str, &'a str, Value);

/// Commands refused for what they say: bad, missing or unknown fields and types.
fn field_refusals(cast: &Cast) -> Vec<Refusal<'_>> {
    vec![
        // A bad field: a title that is empty.
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &cast.liaison,
            command(
                "r-1",
                "FileItem",
                "2024-03-01T09:00:00+08:00",
                json!({"item_id": "2024-S-003", "kind": "suggestion", "title": "", "body": "",
                       "deputies": [{"id": "d-1", "name": "王芳"}]}),
            ),
        ),
        // A missing field: an answer without its class.
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &cast.leader,
            command(
                "r-2",
                "AnswerItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002", "text": "答复"}),
            ),
        ),
        // A command type the ledger does not know.
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_command",
            &cast.liaison,
            command(
                "r-3",
                "ShredItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002"}),
            ),
        ),
        // The actor and role come from the credential only.
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &cast.deputy,
            json!({"command_id": "r-4", "type": "TriageItem", "actor": "office-01", "role": "court_office",
                   "data": {"item_id": "2024-S-002", "decision": "accept"}}),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &cast.office,
            json!({"command_id": "r-5", "type": "TriageItem", "role": "court_office",
                   "data": {"item_id": "2024-S-002", "decision": "accept"}}),
        ),
        // JSON of the wrong shape: no type, or a field the envelope does not have.
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &cast.office,
            json!({"data": {}}),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &cast.office,
            json!({"type": "TriageItem", "data": {}, "extra": 1}),
        ),
    ]
}

/// Commands refused by the ledger's rules: existence, state, idempotency, role.
fn rule_refusals(cast: &Cast) -> Vec<Refusal<'_>> {
    vec![
        // An item that was never filed.
        (
            StatusCode::NOT_FOUND,
            "not_found",
            &cast.office,
            command(
                "r-6",
                "TriageItem",
                "2024-03-04T09:00:00+08:00",
                json!({"item_id": "2024-S-404", "decision": "accept"}),
            ),
        ),
        // The wrong state: an item is assigned only once accepted.
        (
            StatusCode::CONFLICT,
            "wrong_state",
            &cast.office,
            command(
                "r-7",
                "AssignItem",
                "2024-03-05T09:00:00+08:00",
                json!({"item_id": "2024-S-002", "lead_unit": "执行局",
                       "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
            ),
        ),
        // A command id used before by a different command.
        (
            StatusCode::CONFLICT,
            "duplicate",
            &cast.liaison,
            command(
                "2024-S-002-file",
                "FileItem",
                "2024-03-01T09:00:00+08:00",
                json!({"item_id": "2024-S-009", "kind": "suggestion", "title": "另一件", "body": "",
                       "deputies": [{"id": "d-1", "name": "王芳"}]}),
            ),
        ),
        // The role may not: a handler does not answer.
        (
            StatusCode::FORBIDDEN,
            "forbidden",
            &cast.handler,
            command(
                "r-8",
                "AnswerItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002", "class": "A", "text": "答复"}),
            ),
        ),
    ]
}

/// Data of the right shape for each command type, so that only the role decides. A command type
/// the domain adds without a sample here fails this test, which keeps the table test complete.
pub fn sample_data(command_type: &str, id: &str) -> Value {
    let person = json!({"id": "d-1", "name": "王芳"});
    match command_type {
        "FileItem" => json!({"item_id": id, "kind": "suggestion", "title": "样例", "body": "",
                             "deputies": [{"id": "d-1", "name": "王芳", "lead": true}]}),
        "TriageItem" => json!({"item_id": id, "decision": "accept"}),
        "AssignItem" => json!({"item_id": id, "lead_unit": "执行局",
                               "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
        "AcknowledgeItem" => json!({"item_id": id, "unit": "执行局"}),
        "RecordContact" => json!({"item_id": id, "deputy_id": "d-1", "channel": "in_person",
                                  "stage": "before", "summary": "面商"}),
        "SubmitCoView" => json!({"item_id": id, "unit": "立案庭", "view": "同意"}),
        "ReportProgress" => json!({"item_id": id, "summary": "进展"}),
        "RequestExtension" => json!({"item_id": id, "until": "2024-07-10", "reason": "协调"}),
        "DecideExtension" => json!({"item_id": id, "approve": true, "note": "同意"}),
        "AnswerItem" => json!({"item_id": id, "class": "A", "text": "答复"}),
        "ReclassifyAnswer" => json!({"item_id": id, "class": "B", "reason": "更正"}),
        "RateAnswer" => json!({"item_id": id, "rating": "satisfied"}),
        "FulfilCommitment" => json!({"item_id": id, "commitment_id": "c-1"}),
        "ReconcileItem" | "CloseItem" => json!({"item_id": id}),
        "WithdrawItem" | "ReopenItem" => json!({"item_id": id, "reason": "理由"}),
        "StartCaseFollow" => json!({"follow_id": id, "case_no": "(2024)X0101执1号",
                                    "deputy": person, "judge": {"id": "j-1", "name": "赵明"}}),
        "RecordEnforcementAction" => json!({"follow_id": id, "kind": "on_site", "summary": "查封",
                                            "deputy_present": true}),
        "RecordMediation" => json!({"follow_id": id, "settled": true, "summary": "和解"}),
        "RecordRecovery" => json!({"follow_id": id, "amount": "100.00", "summary": "到账"}),
        "RecordFollowEvaluation" => json!({"follow_id": id, "rating": "satisfied", "comment": ""}),
        "EndCaseFollow" => json!({"follow_id": id, "outcome": "settled", "summary": "履行完毕"}),
        "RecordEngagement" => json!({"engagement_id": id, "kind": "visit", "deputies": ["d-1"],
                                     "summary": "走访"}),
        "RegisterPerson" => json!({"person_id": id, "name": "王芳", "kind": "deputy"}),
        "GrantAccess" | "RevokeAccess" => json!({"person_id": id, "role": "deputy"}),
        other => panic!("no sample data for command type {other}; add one so its roles are tested"),
    }
}

async fn every_role_the_command_table_forbids_gets_403(db: Fresh) {
    let api = Api::new(&db).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((
            role,
            api.token(&format!("{}-7", role.as_str().replace('_', "-")), role)
                .await,
        ));
    }
    let mut forbidden_pairs = 0;
    let mut pair = 0;
    let mut creating = 0;
    for rule in COMMANDS {
        let (command_type, allowed) = (rule.command, rule.roles);
        assert!(!allowed.is_empty(), "{command_type} names no role");
        for (role, token) in &tokens {
            // Each pair on a thing of its own that does not exist: the role is checked before
            // existence, so a forbidden role gets 403 and an allowed one 404 (or, for a command
            // that creates its stream, 200).
            pair += 1;
            let body = command(
                &format!("t-{pair}"),
                command_type,
                "2024-03-01T09:00:00+08:00",
                sample_data(command_type, &format!("2024-T-{pair}")),
            );
            let answer = api.command(token, &body).await;
            if allowed.contains(role) {
                assert_ne!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{command_type} as {role}: {:#}",
                    answer.body
                );
                creating += usize::from(answer.status == StatusCode::OK);
            } else {
                forbidden_pairs += 1;
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{command_type} as {role}: {:#}",
                    answer.body
                );
                answer.expect(StatusCode::FORBIDDEN, Some("forbidden"));
            }
        }
    }
    assert!(forbidden_pairs >= COMMANDS.len() * 4, "{forbidden_pairs}");
    // Only the allowed commands that create their stream (a filing, a case follow, an
    // engagement, a person) appended anything: one record each.
    assert!(creating >= 4, "{creating}");
    let tree_size = api.stores.events.head().await.expect("head").tree_size;
    assert_eq!(tree_size, creating as u64);
}

async fn a_deputy_reads_and_rates_only_their_own_items(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-010", "d-1").await;
    answered_item(&api, &cast, "2024-S-020", "d-2").await;
    let board = api.get("/api/board", Some(&cast.deputy)).await;
    board.expect(StatusCode::OK, None);
    let ids: Vec<&str> = board.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["item_id"].as_str())
        .collect();
    assert_eq!(ids, ["2024-S-010"]);
    assert_eq!(board.body["summary"]["total"], 1);
    api.get("/api/items/2024-S-010", Some(&cast.deputy))
        .await
        .expect(StatusCode::OK, None);
    api.get("/api/items/2024-S-020", Some(&cast.deputy))
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    api.get("/api/items/2024-S-020/trail", Some(&cast.deputy))
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    api.get("/api/items/2024-S-999", Some(&cast.deputy))
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let rate = |item: &str| {
        command(
            &format!("{item}-rate"),
            "RateAnswer",
            "2024-05-25T09:00:00+08:00",
            json!({"item_id": item, "rating": "satisfied"}),
        )
    };
    api.command(&cast.deputy, &rate("2024-S-020"))
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    api.command(&cast.deputy, &rate("2024-S-010"))
        .await
        .expect(StatusCode::OK, None);
    api.command(&cast.other_deputy, &rate("2024-S-020"))
        .await
        .expect(StatusCode::OK, None);
    // Other roles see every item.
    let all = api.get("/api/board", Some(&cast.office)).await;
    assert_eq!(all.body["summary"]["total"], 2);
}

async fn an_auditor_reads_everything_and_changes_nothing(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-030", "d-1").await;
    let size = api.stores.events.head().await.expect("head").tree_size;
    for rule in COMMANDS {
        let command_type = rule.command;
        let body = command(
            &format!("a-{command_type}"),
            command_type,
            "2024-05-25T09:00:00+08:00",
            sample_data(command_type, "2024-S-030"),
        );
        api.command(&cast.auditor, &body)
            .await
            .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    }
    // Even a command the ledger does not know, or one that does not parse, is refused as such.
    api.command(&cast.auditor, &json!({"type": "ShredItem", "data": {}}))
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    assert_eq!(
        api.stores.events.head().await.expect("head").tree_size,
        size
    );
    for path in [
        "/api/board",
        "/api/items/2024-S-030",
        "/api/items/2024-S-030/trail",
        "/api/stats",
    ] {
        api.get(path, Some(&cast.auditor))
            .await
            .expect(StatusCode::OK, None);
        api.get(path, Some(&cast.admin))
            .await
            .expect(StatusCode::OK, None);
    }
}
