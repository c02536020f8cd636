//! End to end: the real `huiyin` binary against real databases, on both backends.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::support::{huiyin, on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "e2e",
        "item_goes_from_filing_to_closing",
        item_goes_from_filing_to_closing,
    ));
    trials.extend(on_both(
        "e2e",
        "refused_commands_print_their_code_and_append_nothing",
        refused_commands_print_their_code_and_append_nothing,
    ));
    trials.extend(on_both(
        "e2e",
        "running_the_same_commands_again_appends_nothing",
        running_the_same_commands_again_appends_nothing,
    ));
    trials.extend(on_both(
        "e2e",
        "tampered_record_makes_verify_exit_2_naming_its_position",
        tampered_record_makes_verify_exit_2_naming_its_position,
    ));
    trials.extend(on_both(
        "e2e",
        "four_processes_appending_at_once_keep_positions_gap_free",
        four_processes_appending_at_once_keep_positions_gap_free,
    ));
    trials.extend(on_both(
        "e2e",
        "demo_loads_once_and_prints_the_board",
        demo_loads_once_and_prints_the_board,
    ));
    trials.extend(on_both(
        "e2e",
        "stats_and_xlsx_exports_carry_the_figures",
        stats_and_xlsx_exports_carry_the_figures,
    ));
    trials
}

pub fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

pub fn exec(db: &Fresh, commands: &[Value]) -> (Option<i32>, Vec<Value>) {
    let input: String = commands
        .iter()
        .map(|command| format!("{command}\n"))
        .collect();
    let output = huiyin(db, &["exec", "-"], &input);
    (output.status.code(), lines(&output))
}

fn tree_size(db: &Fresh) -> u64 {
    let output = huiyin(db, &["verify"], "");
    assert_eq!(
        output.status.code(),
        Some(0),
        "verify: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines(&output)[0]["tree_size"].as_u64().expect("tree_size")
}

fn command(id: &str, actor: &str, role: &str, kind: &str, at: &str, data: Value) -> Value {
    json!({"command_id": id, "actor": actor, "role": role, "type": kind, "at": at, "data": data})
}

/// The whole slice for one item, filed on 2024-03-01 and closed on 2024-06-20.
pub fn lifecycle(item: &str) -> Vec<Value> {
    let id = |step: &str| format!("{item}-{step}");
    vec![
        command(
            &id("file"),
            "liaison-01",
            "liaison",
            "FileItem",
            "2024-03-01T09:00:00+08:00",
            json!({"item_id": item, "kind": "suggestion", "title": "关于加快执行案款发放的建议",
                   "body": "执行案款发放周期长。", "deputies": [{"id": "d-1", "name": "王芳", "lead": true}]}),
        ),
        command(
            &id("triage"),
            "office-01",
            "court_office",
            "TriageItem",
            "2024-03-04T09:00:00+08:00",
            json!({"item_id": item, "decision": "accept"}),
        ),
        command(
            &id("assign"),
            "office-01",
            "court_office",
            "AssignItem",
            "2024-03-05T09:00:00+08:00",
            json!({"item_id": item, "lead_unit": "执行局",
                   "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
        ),
        command(
            &id("answer"),
            "l-1",
            "leader",
            "AnswerItem",
            "2024-05-20T09:00:00+08:00",
            json!({"item_id": item, "class": "A", "text": "已建立限时发放机制。"}),
        ),
        command(
            &id("rate"),
            "d-1",
            "deputy",
            "RateAnswer",
            "2024-05-25T09:00:00+08:00",
            json!({"item_id": item, "rating": "satisfied"}),
        ),
        command(
            &id("reconcile"),
            "liaison-01",
            "liaison",
            "ReconcileItem",
            "2024-06-10T09:00:00+08:00",
            json!({"item_id": item}),
        ),
        command(
            &id("close"),
            "l-1",
            "leader",
            "CloseItem",
            "2024-06-20T09:00:00+08:00",
            json!({"item_id": item}),
        ),
    ]
}

async fn item_goes_from_filing_to_closing(db: Fresh) {
    let (code, results) = exec(&db, &lifecycle("2024-S-001"));
    assert_eq!(code, Some(0), "{results:?}");
    assert_eq!(results.len(), 7);
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["ok"], true, "{result}");
        assert_eq!(result["stream"], "item/2024-S-001");
        assert_eq!(result["positions"], json!([index]));
    }
    let board = huiyin(
        &db,
        &["board", "--format", "json", "--now", "2024-07-01"],
        "",
    );
    assert_eq!(board.status.code(), Some(0));
    let board: Value = serde_json::from_slice(&board.stdout).expect("board JSON");
    let row = &board["items"][0];
    assert_eq!(row["item_id"], "2024-S-001");
    assert_eq!(row["status"], "closed");
    assert_eq!(row["leader"], "陈立新");
    assert_eq!(row["class"], "A");
    assert_eq!(row["rating"], "satisfied");
    assert_eq!(board["summary"]["closed"], 1);
    assert_eq!(board["summary"]["all_due_answered"], true);
    assert_eq!(board["as_of_position"], 6);
    // As of position 2 (just assigned), the item awaits its answer, due 3 months after 2024-03-05.
    let earlier = huiyin(
        &db,
        &[
            "board",
            "--format",
            "json",
            "--as-of",
            "2",
            "--now",
            "2024-06-06",
        ],
        "",
    );
    let earlier: Value = serde_json::from_slice(&earlier.stdout).expect("board JSON");
    assert_eq!(earlier["items"][0]["status"], "assigned");
    assert_eq!(earlier["items"][0]["due"], "2024-06-05");
    assert_eq!(earlier["items"][0]["overdue"], true);
    assert_eq!(earlier["summary"]["all_due_answered"], false);
    let trail = huiyin(&db, &["trail", "2024-S-001", "--format", "json"], "");
    assert_eq!(trail.status.code(), Some(0));
    let trail: Value = serde_json::from_slice(&trail.stdout).expect("trail JSON");
    let types: Vec<&str> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "ItemFiled",
            "ItemAccepted",
            "ItemAssigned",
            "ItemAnswered",
            "AnswerRated",
            "ItemReconciled",
            "ItemClosed"
        ]
    );
    assert_eq!(trail["events"][3]["hash"], results[3]["hashes"][0]);
    assert_eq!(tree_size(&db), 7);
}

async fn refused_commands_print_their_code_and_append_nothing(db: Fresh) {
    let steps = lifecycle("2024-S-002");
    let (code, _) = exec(&db, &steps[..3]);
    assert_eq!(code, Some(0));
    let cases: Vec<(&str, String)> = vec![
        // Wrong role: a handler may not answer.
        (
            "forbidden",
            command(
                "r-1",
                "h-1",
                "handler",
                "AnswerItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002", "class": "A", "text": "答复"}),
            )
            .to_string(),
        ),
        // Wrong state: nothing to rate before an answer.
        (
            "wrong_state",
            command(
                "r-2",
                "d-1",
                "deputy",
                "RateAnswer",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002", "rating": "satisfied"}),
            )
            .to_string(),
        ),
        // Malformed JSON.
        (
            "invalid",
            r#"{"type":"FileItem","data":{"item_id":"#.to_owned(),
        ),
        // Unknown command type.
        (
            "unknown_command",
            command(
                "r-3",
                "l-1",
                "leader",
                "ShredItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002"}),
            )
            .to_string(),
        ),
        // Missing field: an answer without its class.
        (
            "invalid",
            command(
                "r-4",
                "l-1",
                "leader",
                "AnswerItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-002", "text": "答复"}),
            )
            .to_string(),
        ),
        // An item that was never filed.
        (
            "not_found",
            command(
                "r-5",
                "office-01",
                "court_office",
                "TriageItem",
                "2024-05-20T09:00:00+08:00",
                json!({"item_id": "2024-S-404", "decision": "accept"}),
            )
            .to_string(),
        ),
        // A command id already used by a different command.
        (
            "duplicate",
            command(
                "2024-S-002-file",
                "liaison-01",
                "liaison",
                "FileItem",
                "2024-03-01T09:00:00+08:00",
                json!({"item_id": "2024-S-003", "kind": "suggestion", "title": "另一件", "body": "",
                   "deputies": [{"id": "d-1", "name": "王芳"}]}),
            )
            .to_string(),
        ),
    ];
    for (expected_code, line) in cases {
        let output = huiyin(&db, &["exec", "-"], &format!("{line}\n"));
        assert_eq!(output.status.code(), Some(1), "{line}");
        let results = lines(&output);
        assert_eq!(results.len(), 1, "{line}");
        assert_eq!(results[0]["ok"], false);
        assert_eq!(
            results[0]["error"]["code"], expected_code,
            "{line}: {}",
            results[0]
        );
        assert!(!results[0]["error"]["message"]
            .as_str()
            .expect("message")
            .is_empty());
        assert_eq!(tree_size(&db), 3, "{line} appended something");
    }
    // In a batch, a refused line does not stop the others, and the exit code is still 1.
    let batch = vec![
        steps[3].clone(),
        json!({"type": "Nope", "actor": "x", "role": "liaison"}),
        steps[4].clone(),
    ];
    let (code, results) = exec(&db, &batch);
    assert_eq!(code, Some(1));
    let oks: Vec<&Value> = results.iter().map(|result| &result["ok"]).collect();
    assert_eq!(oks, [&json!(true), &json!(false), &json!(true)]);
    assert_eq!(tree_size(&db), 5);
}

async fn running_the_same_commands_again_appends_nothing(db: Fresh) {
    let steps = lifecycle("2024-S-004");
    let (_, first) = exec(&db, &steps);
    let (code, again) = exec(&db, &steps);
    assert_eq!(code, Some(0));
    for (first, again) in first.iter().zip(&again) {
        assert_eq!(first["positions"], again["positions"]);
        assert_eq!(first["hashes"], again["hashes"]);
        assert_eq!(again["replayed"], true);
    }
    assert_eq!(tree_size(&db), 7);
}

async fn tampered_record_makes_verify_exit_2_naming_its_position(db: Fresh) {
    let (code, _) = exec(&db, &lifecycle("2024-S-005"));
    assert_eq!(code, Some(0));
    // An attacker with database rights drops the trigger and improves the answer's class.
    let statements: &[&str] = if db.url.starts_with("postgres") {
        &[
            "DROP TRIGGER events_refuse_change ON events",
            r#"UPDATE events SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), '"class":"A"', '"class":"B"'), 'UTF8') WHERE position = 3"#,
        ]
    } else {
        &[
            "DROP TRIGGER events_refuse_update",
            r#"UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"class":"A"', '"class":"B"') AS BLOB) WHERE position = 3"#,
        ]
    };
    for statement in statements {
        crate::raw::execute(&db.url, statement)
            .await
            .expect(statement);
    }
    let output = huiyin(&db, &["verify"], "");
    assert_eq!(output.status.code(), Some(2));
    let result = &lines(&output)[0];
    assert_eq!(result["ok"], false);
    assert_eq!(result["position"], 3);
    assert!(String::from_utf8_lossy(&output.stderr).contains("position 3"));
}

async fn four_processes_appending_at_once_keep_positions_gap_free(db: Fresh) {
    const PROCESSES: usize = 4;
    const ITEMS: usize = 10;
    let children: Vec<_> = (0..PROCESSES)
        .map(|process| {
            let input: String = (0..ITEMS)
                .map(|item| {
                    let item_id = format!("2024-P{process}-{item:03}");
                    format!("{}\n", lifecycle(&item_id)[0])
                })
                .collect();
            let mut child = Command::new(env!("CARGO_BIN_EXE_huiyin"))
                .args(["--db", &db.url, "exec", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start huiyin");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("stdin");
            child
        })
        .collect();
    let mut positions = Vec::new();
    for child in children {
        let output = child.wait_with_output().expect("huiyin runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for result in lines(&output) {
            positions.push(result["positions"][0].as_u64().expect("position"));
        }
    }
    positions.sort_unstable();
    assert_eq!(
        positions,
        (0..(PROCESSES * ITEMS) as u64).collect::<Vec<_>>()
    );
    assert_eq!(tree_size(&db), (PROCESSES * ITEMS) as u64);
}

async fn demo_loads_once_and_prints_the_board(db: Fresh) {
    let first = huiyin(&db, &["demo", "--format", "json"], "");
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let board: Value = serde_json::from_slice(&first.stdout).expect("board JSON");
    // 23 suggestions of 2017–2021 and eight items of the current year.
    assert_eq!(board["summary"]["total"], 31);
    assert_eq!(board["summary"]["overdue"], 2);
    // Every due date is a working day: on the first days of a long holiday (about one a year) no
    // working day comes within the due-soon window and nothing can be due soon.
    let rules = aggregates::deadline::DeadlineRules::default();
    let today = jiff::Timestamp::now()
        .to_zoned(rules.time_zone.clone())
        .date();
    let working_day_within = (0..=projections::board::DUE_SOON_DAYS_MAX).any(|ahead| {
        rules
            .calendar
            .is_working_day(today.saturating_add(jiff::Span::new().days(ahead)))
    });
    if working_day_within {
        assert!(board["summary"]["due_soon"].as_u64().expect("due soon") >= 1);
    }
    assert_eq!(board["summary"]["all_due_answered"], false);
    let size = tree_size(&db);
    let again = huiyin(&db, &["demo"], "");
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("2017-JY-001"));
    assert_eq!(
        tree_size(&db),
        size,
        "loading the demo again appends nothing"
    );
    // The figures of point 4 of the demonstration ledger.
    let stats = huiyin(&db, &["stats", "--format", "json"], "");
    assert_eq!(
        stats.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stats.stderr)
    );
    let stats: Value = serde_json::from_slice(&stats.stdout).expect("stats JSON");
    let mut suggestions = 0;
    for year in 2017..=2021 {
        let figures = &stats["by_year"][year.to_string()];
        assert_eq!(
            figures["answered"], figures["total"],
            "{year}: every suggestion answered"
        );
        assert_eq!(
            figures["closed"], figures["total"],
            "{year}: every suggestion closed"
        );
        suggestions += figures["by_kind"]["suggestion"]
            .as_u64()
            .expect("suggestions");
    }
    assert_eq!(suggestions, 23);
    let follows = &stats["follows"];
    assert_eq!(follows["total"], 100);
    assert_eq!(follows["witnessed_actions"], 300);
    assert_eq!(follows["mediations"], 63);
    let recovered: f64 = follows["recovered_yuan"]
        .as_str()
        .expect("yuan")
        .parse()
        .expect("amount");
    assert!(
        recovered > 20_000_000.0,
        "over ¥20 million recovered, got {recovered}"
    );
    assert_eq!(stats["people"]["supervisor"], 19);
    assert_eq!(stats["people"]["liaison_officer"], 15);
    // The hundred deputies who follow the hundred cases, at three levels; supervisors and
    // liaisons appointed by township.
    assert_eq!(
        stats["people_by_level"]["deputy"],
        json!({"national": 3, "provincial": 12, "county": 85})
    );
    assert_eq!(
        stats["people_by_level"]["supervisor"],
        json!({"county": 19})
    );
    let by_township = |kind: &str| -> Vec<u64> {
        stats["people_by_township"][kind]
            .as_object()
            .unwrap_or_else(|| panic!("{kind} by township"))
            .values()
            .map(|n| n.as_u64().expect("a count"))
            .collect()
    };
    assert_eq!(by_township("liaison_officer"), vec![1; 15]);
    let supervisors = by_township("supervisor");
    assert_eq!(supervisors.len(), 15, "every township has a supervisor");
    assert_eq!(supervisors.iter().sum::<u64>(), 19);
    assert!(stats["people_by_township"]["deputy"].is_null());
    let csv = huiyin(&db, &["stats", "--format", "csv"], "");
    let csv = String::from_utf8_lossy(&csv.stdout);
    for line in [
        "people deputy level national,3,",
        "people deputy level provincial,12,",
        "people deputy level county,85,",
        "people supervisor level county,19,",
        "people liaison_officer township 城关镇,1,",
    ] {
        assert!(
            csv.lines().any(|have| have.contains(line)),
            "no line with {line:?} in the CSV:\n{csv}"
        );
    }
    assert!(stats["engagements"]["visit"].as_u64().expect("visits") >= 200);
    assert!(
        stats["engagements"]["inspection"]
            .as_u64()
            .expect("inspections")
            >= 20
    );
    assert_eq!(stats["engagements"]["forum"], 12);
}

fn xlsx_rows(path: &std::path::Path, sheet: &str) -> Vec<Vec<String>> {
    use calamine::{open_workbook, Reader, Xlsx};
    let mut workbook: Xlsx<_> = open_workbook(path).expect("open xlsx");
    let range = workbook.worksheet_range(sheet).expect("sheet");
    range
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

async fn stats_and_xlsx_exports_carry_the_figures(db: Fresh) {
    let (code, _) = exec(&db, &lifecycle("2024-S-007"));
    assert_eq!(code, Some(0));
    let stats = huiyin(
        &db,
        &["stats", "--format", "json", "--now", "2024-07-01"],
        "",
    );
    assert_eq!(
        stats.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stats.stderr)
    );
    let stats: Value = serde_json::from_slice(&stats.stdout).expect("stats JSON");
    assert_eq!(stats["items"]["total"], 1);
    assert_eq!(stats["items"]["answered"], 1);
    assert_eq!(stats["items"]["closed"], 1);
    assert_eq!(
        stats["items"]["rates"]["answer_rate"],
        json!({"value": 1.0, "count": 1, "n": 1})
    );
    assert_eq!(stats["items"]["rates"]["satisfaction_rate"]["value"], 1.0);
    assert_eq!(stats["by_leader"]["陈立新"]["total"], 1);
    let folder = tempfile::tempdir().expect("folder");
    let board_file = folder.path().join("board.xlsx");
    let out = board_file.to_str().expect("path");
    let board = huiyin(&db, &["board", "--format", "xlsx", "--out", out], "");
    assert_eq!(
        board.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&board.stderr)
    );
    let rows = xlsx_rows(&board_file, "督办台账");
    assert_eq!(rows[0][0], "item_id");
    assert_eq!(rows[1][0], "2024-S-007");
    assert_eq!(rows[1][2], "closed");
    let stats_file = folder.path().join("stats.xlsx");
    let out = stats_file.to_str().expect("path");
    let written = huiyin(
        &db,
        &[
            "stats",
            "--format",
            "xlsx",
            "--out",
            out,
            "--now",
            "2024-07-01",
        ],
        "",
    );
    assert_eq!(
        written.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let rows = xlsx_rows(&stats_file, "统计");
    let answer_rate = rows
        .iter()
        .find(|row| row[0].starts_with("办复率"))
        .expect("answer rate row");
    assert_eq!(answer_rate[1..], ["100.0%", "1", "1"]);
    assert!(!xlsx_rows(&stats_file, "2024年").is_empty());
}
