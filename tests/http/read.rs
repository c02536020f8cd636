//! The read routes: the board with its filters, items and trails, the figures; and that they
//! answer the same JSON as the command line.

use std::process::Command;

use axum::http::StatusCode;
use libtest_mimic::Trial;
use serde_json::{json, Value};

use super::{answered_item, command, file, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "http",
        "board_filters_as_of_and_now",
        board_filters_as_of_and_now,
    ));
    trials.extend(on_both(
        "http",
        "board_and_stats_are_the_json_the_cli_prints",
        board_and_stats_are_the_json_the_cli_prints,
    ));
    trials.extend(on_both(
        "http",
        "an_item_is_its_board_row_and_its_trail",
        an_item_is_its_board_row_and_its_trail,
    ));
    trials
}

fn ids(board: &Value) -> Vec<String> {
    board["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["item_id"].as_str().map(str::to_owned))
        .collect()
}

/// Three items: A answered, B assigned (answer due 2024-06-05), C filed (triage due 2024-03-12).
async fn three_items(api: &Api, cast: &Cast) {
    answered_item(api, cast, "2024-S-A", "d-1").await;
    for step in [
        (&cast.liaison, file("2024-S-B", "d-2")),
        (
            &cast.office,
            command(
                "b-triage",
                "TriageItem",
                "2024-03-04T09:00:00+08:00",
                json!({"item_id": "2024-S-B", "decision": "accept"}),
            ),
        ),
        (
            &cast.office,
            command(
                "b-assign",
                "AssignItem",
                "2024-03-05T09:00:00+08:00",
                json!({"item_id": "2024-S-B", "lead_unit": "立案庭",
                   "leader": {"id": "l-2", "name": "李明", "level": "president"}}),
            ),
        ),
        (&cast.liaison, file("2024-S-C", "d-1")),
    ] {
        api.command(step.0, &step.1)
            .await
            .expect(StatusCode::OK, None);
    }
}

async fn board_filters_as_of_and_now(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    three_items(&api, &cast).await;
    let board = |query: &str| {
        let path = format!("/api/board?now=2024-06-01{query}");
        let token = cast.office.clone();
        let api = &api;
        async move { api.get(&path, Some(&token)).await }
    };
    let all = board("").await;
    all.expect(StatusCode::OK, None);
    assert_eq!(ids(&all.body), ["2024-S-A", "2024-S-B", "2024-S-C"]);
    assert_eq!(all.body["summary"]["total"], 3);
    let cases: [(&str, &[&str]); 9] = [
        ("&status=assigned", &["2024-S-B"]),
        ("&status=filed&kind=suggestion", &["2024-S-C"]),
        ("&kind=inquiry", &[]),
        ("&leader=%E6%9D%8E%E6%98%8E", &["2024-S-B"]),
        ("&lead_unit=%E6%89%A7%E8%A1%8C%E5%B1%80", &["2024-S-A"]),
        // On 2024-06-01 B's answer is due in 4 days; C's triage was due on 2024-03-12.
        ("&due_soon=true", &["2024-S-B"]),
        ("&overdue=true", &["2024-S-C"]),
        ("&overdue=false&due_soon=false", &["2024-S-A"]),
        ("&status=assigned&overdue=true", &[]),
    ];
    for (query, expected) in cases {
        let filtered = board(query).await;
        filtered.expect(StatusCode::OK, None);
        assert_eq!(ids(&filtered.body), expected, "{query}");
        assert_eq!(filtered.body["summary"]["total"], expected.len(), "{query}");
    }
    // As of position 0 only the first filing was known; "now" defaults to that moment.
    let first = api.get("/api/board?as_of=0", Some(&cast.office)).await;
    first.expect(StatusCode::OK, None);
    assert_eq!(ids(&first.body), ["2024-S-A"]);
    assert_eq!(first.body["as_of_position"], 0);
    assert_eq!(first.body["items"][0]["status"], "filed");
    for bad in [
        "as_of=yesterday",
        "now=soon",
        "overdue=maybe",
        "due_soon=1x",
    ] {
        api.get(&format!("/api/board?{bad}"), Some(&cast.office))
            .await
            .expect(StatusCode::BAD_REQUEST, Some("invalid"));
    }
}

/// Runs the real binary on the same ledger and parses what it prints.
fn cli_json(url: &str, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .arg("--db")
        .arg(url)
        .args(args)
        .output()
        .expect("huiyin runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

async fn board_and_stats_are_the_json_the_cli_prints(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    three_items(&api, &cast).await;
    let now = "2024-06-01T12:00:00+08:00";
    let board = api
        .get(
            &format!("/api/board?now={}", now.replace('+', "%2B")),
            Some(&cast.auditor),
        )
        .await;
    board.expect(StatusCode::OK, None);
    // The API's one page holds the whole (small) board, and says so in `page`, which the
    // command line (always the whole board) leaves out.
    let whole = |mut board: Value| {
        let page = board
            .as_object_mut()
            .and_then(|board| board.remove("page"))
            .expect("a page");
        assert_eq!(page["has_more"], false, "{page}");
        board
    };
    assert_eq!(
        whole(board.body),
        cli_json(&api.url, &["board", "--format", "json", "--now", now])
    );
    let earlier = api
        .get("/api/board?as_of=4&now=2024-04-01", Some(&cast.auditor))
        .await;
    assert_eq!(
        whole(earlier.body),
        cli_json(
            &api.url,
            &[
                "board",
                "--format",
                "json",
                "--as-of",
                "4",
                "--now",
                "2024-04-01"
            ]
        )
    );
    let stats = api
        .get("/api/stats?year=2024&now=2024-06-01", Some(&cast.deputy))
        .await;
    stats.expect(StatusCode::OK, None);
    assert_eq!(
        stats.body,
        cli_json(
            &api.url,
            &[
                "stats",
                "--format",
                "json",
                "--year",
                "2024",
                "--now",
                "2024-06-01"
            ]
        )
    );
    assert_eq!(stats.body["items"]["total"], 3);
    let as_of = api
        .get("/api/stats?as_of=0&now=2024-06-01", Some(&cast.leader))
        .await;
    assert_eq!(as_of.body["items"]["total"], 1);
    api.get("/api/stats?year=twenty", Some(&cast.leader))
        .await
        .expect(StatusCode::BAD_REQUEST, Some("invalid"));
}

async fn an_item_is_its_board_row_and_its_trail(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    three_items(&api, &cast).await;
    let item = api
        .get("/api/items/2024-S-B?now=2024-06-01", Some(&cast.handler))
        .await;
    item.expect(StatusCode::OK, None);
    assert_eq!(item.body["item"]["item_id"], "2024-S-B");
    assert_eq!(item.body["item"]["status"], "assigned");
    assert_eq!(item.body["item"]["due_soon"], true);
    let board = api
        .get("/api/board?now=2024-06-01", Some(&cast.handler))
        .await;
    assert_eq!(
        item.body["item"], board.body["items"][1],
        "the item is its board row"
    );
    assert_eq!(item.body["trail"]["item_id"], "2024-S-B");
    let events = item.body["trail"]["events"].as_array().expect("events");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["type"], "ItemFiled");
    assert_eq!(events[2]["type"], "ItemAssigned");
    assert_eq!(events[2]["hash"].as_str().map(str::len), Some(64));
    let trail = api
        .get("/api/items/2024-S-B/trail", Some(&cast.handler))
        .await;
    trail.expect(StatusCode::OK, None);
    assert_eq!(trail.body, item.body["trail"]);
    api.get("/api/items/2024-S-Z", Some(&cast.handler))
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    api.get("/api/items/2024-S-Z/trail", Some(&cast.handler))
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    api.get("/api/items/2024-S-B?now=later", Some(&cast.handler))
        .await
        .expect(StatusCode::BAD_REQUEST, Some("invalid"));
}
