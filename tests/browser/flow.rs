//! The core flow through the pages, the language switch, and a deputy kept out of another
//! deputy's item, each in a real Chromium.

use libtest_mimic::Trial;
use serde_json::json;

use super::{browser_trial, cli_ok, Browser, Flash, Person, Stage, Tools};
use crate::support::Fresh;

pub fn trials() -> Vec<Trial> {
    vec![
        browser_trial(
            "liaison_files_office_assigns_leader_answers_deputy_rates_and_the_board_follows",
            liaison_files_office_assigns_leader_answers_deputy_rates_and_the_board_follows,
        ),
        browser_trial(
            "the_language_switch_turns_the_pages_english_and_back",
            the_language_switch_turns_the_pages_english_and_back,
        ),
        browser_trial(
            "a_deputy_cannot_open_another_deputys_item",
            a_deputy_cannot_open_another_deputys_item,
        ),
    ]
}

const LIAISON: Person = Person {
    id: "liaison-01",
    role: "liaison",
    name: "县人大常委会人代工委",
    kind: "liaison_officer",
};
const OFFICE: Person = Person {
    id: "office-01",
    role: "court_office",
    name: "法院办公室",
    kind: "staff",
};
const LEADER: Person = Person {
    id: "l-1",
    role: "leader",
    name: "陈立新",
    kind: "staff",
};
const DEPUTY: Person = Person {
    id: "d-1",
    role: "deputy",
    name: "王芳",
    kind: "deputy",
};
const OTHER_DEPUTY: Person = Person {
    id: "d-2",
    role: "deputy",
    name: "李明",
    kind: "deputy",
};
const PEOPLE: [Person; 5] = [LIAISON, OFFICE, LEADER, DEPUTY, OTHER_DEPUTY];

/// The item the flow files through the form.
const ITEM: &str = "2024-S-101";

/// The board as the browser shows it for one item: its row's status and the counts at the top.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BoardSeen {
    row_status: String,
    total: u64,
    open: u64,
    closed: u64,
}

async fn count(browser: &Browser, name: &str) -> u64 {
    let text = browser
        .find(&format!("#board-counts dd[data-count=\"{name}\"]"))
        .await
        .text()
        .await
        .expect("count text");
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("count {name} is not a number: {text:?}"))
}

/// Opens the board and reads what it shows about `item`.
async fn board(browser: &Browser, item: &str) -> BoardSeen {
    browser.goto("/").await;
    browser.wait_for("table#board").await;
    let row = format!("table#board tr[data-item-id=\"{item}\"]");
    BoardSeen {
        row_status: browser.attribute(&row, "data-status").await,
        total: count(browser, "total").await,
        open: count(browser, "open").await,
        closed: count(browser, "closed").await,
    }
}

/// Opens the item from its row on the board (by its link) and returns the item page's status.
async fn open_from_board(browser: &Browser, item: &str) -> String {
    browser.goto("/").await;
    let link = format!("table#board tr[data-item-id=\"{item}\"] a");
    browser.click_and_wait(&link).await;
    let status = browser.attribute("section#item", "data-status").await;
    assert_eq!(
        browser.attribute("section#item", "data-item-id").await,
        item
    );
    assert!(
        browser.count("table#trail").await == 1,
        "the trail is shown"
    );
    status
}

#[track_caller]
fn assert_ok(step: &str, flash: &Flash) {
    assert!(
        flash.class.split_whitespace().any(|class| class == "ok"),
        "{step}: {flash:?}"
    );
}

/// Submits `command` on the item page and checks where it lands and the status it shows.
async fn step(browser: &Browser, command: &str, fields: &[(&str, &str)], expect_status: &str) {
    let flash = browser.submit(command, fields).await;
    assert_ok(command, &flash);
    assert_eq!(
        browser.page_path().await,
        format!("/items/{ITEM}"),
        "{command}"
    );
    assert_eq!(
        browser.attribute("section#item", "data-status").await,
        expect_status,
        "{command}"
    );
}

/// Checks the board after a step: the row moved to `status`, and the counts are as given.
async fn board_shows(
    browser: &Browser,
    before: &BoardSeen,
    status: &str,
    open: u64,
    closed: u64,
) -> BoardSeen {
    let seen = board(browser, ITEM).await;
    assert_ne!(seen.row_status, before.row_status, "the row changed");
    assert_eq!(
        seen,
        BoardSeen {
            row_status: status.to_owned(),
            total: 1,
            open,
            closed,
        }
    );
    seen
}

async fn liaison_files_office_assigns_leader_answers_deputy_rates_and_the_board_follows(
    tools: Tools,
) {
    let stage = Stage::start(&tools, "flow", &PEOPLE, |_| {}).await;
    let browser = &stage.browser;
    let mut seen = liaison_files_through_the_form(browser).await;
    seen = office_accepts_and_assigns(browser, &seen).await;
    seen = leader_answers(browser, &seen).await;
    seen = deputy_rates(browser, &seen).await;
    liaison_reconciles_and_leader_closes(browser, &seen).await;
    every_step_was_the_logged_in_person(&stage.db);
    let Stage { browser, .. } = stage;
    browser.close().await;
}

/// The liaison files the item through the form on /items/new; filing it twice is refused.
async fn liaison_files_through_the_form(browser: &Browser) -> BoardSeen {
    browser.login(&LIAISON).await;
    browser.goto("/").await;
    assert_eq!(count(browser, "total").await, 0);
    browser.click_and_wait("a#file-item").await;
    assert_eq!(browser.page_path().await, "/items/new");
    let filing = [
        ("item_id", ITEM),
        ("kind", "suggestion"),
        ("title", "关于加快涉民生案件执行款发放的建议"),
        ("body", "建议法院建立执行款到账后限时发放机制。"),
        ("deputies.0.id", DEPUTY.id),
        ("deputies.0.name", DEPUTY.name),
    ];
    let flash = browser.submit("FileItem", &filing).await;
    assert_ok("FileItem", &flash);
    assert_eq!(browser.page_path().await, format!("/items/{ITEM}"));
    assert_eq!(
        browser.attribute("section#item", "data-status").await,
        "filed"
    );
    browser.screenshot("flow-1-filed").await;
    // Filing the same id again is refused, and the page says why with the stable code.
    browser.goto("/items/new").await;
    let again = browser.submit("FileItem", &filing).await;
    assert!(
        again.class.split_whitespace().any(|class| class == "error"),
        "{again:?}"
    );
    assert_eq!(again.code.as_deref(), Some("wrong_state"), "{again:?}");
    assert!(!again.text.trim().is_empty(), "{again:?}");
    let seen = board(browser, ITEM).await;
    let filed = BoardSeen {
        row_status: "filed".to_owned(),
        total: 1,
        open: 1,
        closed: 0,
    };
    assert_eq!(seen, filed);
    browser.logout().await;
    seen
}

/// The court office accepts the item and assigns it to a leader and a lead unit.
async fn office_accepts_and_assigns(browser: &Browser, seen: &BoardSeen) -> BoardSeen {
    browser.login(&OFFICE).await;
    assert_eq!(open_from_board(browser, ITEM).await, "filed");
    step(browser, "TriageItem", &[("decision", "accept")], "accepted").await;
    let seen = board_shows(browser, seen, "accepted", 1, 0).await;
    open_from_board(browser, ITEM).await;
    let assignment = [
        ("lead_unit", "执行局"),
        ("leader.id", LEADER.id),
        ("leader.name", LEADER.name),
        ("leader.level", "vice_president"),
    ];
    step(browser, "AssignItem", &assignment, "assigned").await;
    browser.screenshot("flow-2-assigned").await;
    let seen = board_shows(browser, &seen, "assigned", 1, 0).await;
    browser.logout().await;
    seen
}

/// The leader it was assigned to answers it.
async fn leader_answers(browser: &Browser, seen: &BoardSeen) -> BoardSeen {
    browser.login(&LEADER).await;
    assert_eq!(open_from_board(browser, ITEM).await, "assigned");
    let answer = [
        ("class", "A"),
        (
            "text",
            "已建立执行款到账后七日内发放的机制，并对积压款项逐案清理。",
        ),
    ];
    step(browser, "AnswerItem", &answer, "answered").await;
    browser.screenshot("flow-3-answered").await;
    let seen = board_shows(browser, seen, "answered", 1, 0).await;
    browser.logout().await;
    seen
}

/// The deputy named on it rates the answer.
async fn deputy_rates(browser: &Browser, seen: &BoardSeen) -> BoardSeen {
    browser.login(&DEPUTY).await;
    assert_eq!(open_from_board(browser, ITEM).await, "answered");
    let rating = [
        ("rating", "satisfied"),
        ("comment", "答复具体，措施已见效。"),
    ];
    step(browser, "RateAnswer", &rating, "rated").await;
    browser.screenshot("flow-4-rated").await;
    let seen = board_shows(browser, seen, "rated", 1, 0).await;
    browser.logout().await;
    seen
}

/// The liaison reconciles and the leader closes it: the counts move from open to closed. The
/// board at the end is the screenshot `board.png`.
async fn liaison_reconciles_and_leader_closes(browser: &Browser, seen: &BoardSeen) {
    browser.login(&LIAISON).await;
    open_from_board(browser, ITEM).await;
    let note = [("note", "双方对账一致")];
    step(browser, "ReconcileItem", &note, "reconciled").await;
    let seen = board_shows(browser, seen, "reconciled", 1, 0).await;
    browser.logout().await;
    browser.login(&LEADER).await;
    open_from_board(browser, ITEM).await;
    step(browser, "CloseItem", &[("note", "销号")], "closed").await;
    board_shows(browser, &seen, "closed", 0, 1).await;
    let board_png = browser.screenshot("board").await;
    println!(
        "browser: the board at the end of the flow: {}",
        board_png.display()
    );
    browser.logout().await;
}

/// Every step was recorded as the person in the role the browser logged in as.
fn every_step_was_the_logged_in_person(db: &Fresh) {
    let trail = cli_ok(db, &["trail", ITEM, "--format", "json"], "");
    let trail: serde_json::Value = serde_json::from_str(&trail).expect("trail JSON");
    let acts: Vec<(String, String, String)> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            let text = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
            (text("type"), text("actor"), text("role"))
        })
        .collect();
    let expected = [
        ("ItemFiled", LIAISON),
        ("ItemAccepted", OFFICE),
        ("ItemAssigned", OFFICE),
        ("ItemAnswered", LEADER),
        ("AnswerRated", DEPUTY),
        ("ItemReconciled", LIAISON),
        ("ItemClosed", LEADER),
    ]
    .map(|(kind, who)| (kind.to_owned(), who.id.to_owned(), who.role.to_owned()));
    assert_eq!(acts, expected);
}

/// The switch offers the other language, named in that language.
async fn switch_offers(browser: &Browser, code: &str, label: &str) {
    let switch = browser.find("a#lang-switch").await;
    assert_eq!(
        switch.attr("hreflang").await.expect("hreflang").as_deref(),
        Some(code)
    );
    assert_eq!(switch.text().await.expect("label").trim(), label);
    let href = switch.attr("href").await.expect("href").unwrap_or_default();
    assert!(href.contains(&format!("lang={code}")), "{href}");
}

async fn the_language_switch_turns_the_pages_english_and_back(tools: Tools) {
    let stage = Stage::start(&tools, "language", &PEOPLE, file_for_both_deputies).await;
    let browser = &stage.browser;
    browser.login(&LIAISON).await;
    browser.goto("/").await;
    // Chinese by default.
    assert!(browser.language().await.starts_with("zh"));
    // The switch offers the other language by that language's own name.
    switch_offers(browser, "en", "English").await;
    let chinese_heading = browser
        .find("table#board")
        .await
        .text()
        .await
        .expect("text");
    browser.screenshot("language-zh").await;
    browser.click_and_wait("a#lang-switch").await;
    assert_eq!(browser.language().await, "en");
    switch_offers(browser, "zh", "中文").await;
    let english_heading = browser
        .find("table#board")
        .await
        .text()
        .await
        .expect("text");
    assert_ne!(
        chinese_heading, english_heading,
        "the board's words changed"
    );
    browser.screenshot("language-en").await;
    // The choice is kept (cookie) on pages opened without `?lang`.
    browser.goto(&format!("/items/{MINE}")).await;
    assert_eq!(browser.language().await, "en");
    browser.goto("/").await;
    assert_eq!(browser.language().await, "en");
    // And the switch leads back to Chinese.
    browser.click_and_wait("a#lang-switch").await;
    assert!(browser.language().await.starts_with("zh"));
    browser.goto("/").await;
    assert!(browser.language().await.starts_with("zh"));
    let Stage { browser, .. } = stage;
    browser.close().await;
}

/// The deputy's own item and another deputy's, filed through the CLI.
const MINE: &str = "2024-S-201";
const THEIRS: &str = "2024-S-202";
const THEIR_TITLE: &str = "只属于李明代表的建议";

fn file_for_both_deputies(db: &Fresh) {
    let filing = |item: &str, title: &str, deputy: &Person| {
        json!({"command_id": format!("file-{item}"), "type": "FileItem",
            "at": "2024-03-01T09:00:00+08:00", "actor": LIAISON.id, "role": LIAISON.role,
            "data": {"item_id": item, "kind": "suggestion", "title": title, "body": "正文",
                     "deputies": [{"id": deputy.id, "name": deputy.name, "lead": true}]}})
    };
    let lines = format!(
        "{}\n{}\n",
        filing(MINE, "王芳代表的建议", &DEPUTY),
        filing(THEIRS, THEIR_TITLE, &OTHER_DEPUTY)
    );
    cli_ok(db, &["exec", "-"], &lines);
}

async fn a_deputy_cannot_open_another_deputys_item(tools: Tools) {
    let stage = Stage::start(&tools, "deputy", &PEOPLE, file_for_both_deputies).await;
    let browser = &stage.browser;
    browser.login(&DEPUTY).await;
    // The board lists only the deputy's own item.
    browser.goto("/").await;
    assert_eq!(browser.count("table#board tr[data-item-id]").await, 1);
    assert_eq!(
        browser
            .count(&format!("table#board tr[data-item-id=\"{MINE}\"]"))
            .await,
        1
    );
    // Their own item opens.
    browser.goto(&format!("/items/{MINE}")).await;
    assert_eq!(
        browser.attribute("section#item", "data-item-id").await,
        MINE
    );
    assert_eq!(browser.fetch_status(&format!("/items/{MINE}")).await, 200);
    // The other deputy's does not: an error page, nothing of the item on it.
    let theirs = format!("/items/{THEIRS}");
    browser.goto(&theirs).await;
    assert_eq!(browser.count("section#item").await, 0);
    assert_eq!(browser.count("table#trail").await, 0);
    assert!(!browser.source().await.contains(THEIR_TITLE));
    browser.screenshot("deputy-forbidden").await;
    let status = browser.fetch_status(&theirs).await;
    assert!(status == 403 || status == 404, "{theirs} answered {status}");
    let Stage { browser, .. } = stage;
    browser.close().await;
}
