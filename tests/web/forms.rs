//! The item page's forms: which a role is shown, posting them, refusals and CSRF.

use aggregates::actor::Role;
use axum::http::StatusCode;
use libtest_mimic::Trial;
use serde_json::json;

use super::{get, log_in, log_size, post_form, Session};
use crate::http::{assigned_item, command, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "web",
        "the_forms_shown_follow_the_role_and_the_state",
        the_forms_shown_follow_the_role_and_the_state,
    ));
    trials.extend(on_both(
        "web",
        "forms_file_assign_answer_and_rate_and_the_board_follows",
        forms_file_assign_answer_and_rate_and_the_board_follows,
    ));
    trials.extend(on_both(
        "web",
        "a_form_with_chinese_text_at_its_longest_is_filed_not_refused_as_too_large",
        a_form_with_chinese_text_at_its_longest_is_filed_not_refused_as_too_large,
    ));
    trials.extend(on_both(
        "web",
        "a_form_the_role_may_not_use_is_refused_and_appends_nothing",
        a_form_the_role_may_not_use_is_refused_and_appends_nothing,
    ));
    trials.extend(on_both(
        "web",
        "a_wrong_csrf_token_is_403_and_appends_nothing",
        a_wrong_csrf_token_is_403_and_appends_nothing,
    ));
    trials.extend(on_both(
        "web",
        "a_refused_form_comes_back_with_the_ledgers_message_and_code",
        a_refused_form_comes_back_with_the_ledgers_message_and_code,
    ));
    trials.extend(on_both(
        "web",
        "a_deputy_cannot_open_another_deputys_item",
        a_deputy_cannot_open_another_deputys_item,
    ));
    trials.extend(on_both(
        "web",
        "ledger_strings_are_escaped_on_every_page",
        ledger_strings_are_escaped_on_every_page,
    ));
    trials
}

fn forms_in(html: &str) -> Vec<String> {
    html.split(r#"<form id="form-"#)
        .skip(1)
        .map(|rest| rest.split('"').next().expect("name").to_owned())
        .collect()
}

async fn the_forms_shown_follow_the_role_and_the_state(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    assigned_item(&api, &cast, "2024-S-1", "d-1").await;
    let page = |session: Session| {
        let api = &api;
        async move {
            get(api, "/items/2024-S-1", Some(&session))
                .await
                .expect_html(StatusCode::OK)
        }
    };
    let leader = page(log_in(&api, "l-1", Role::Leader).await).await;
    assert!(
        leader.contains(r#"<section id="item" data-item-id="2024-S-1" data-status="assigned">"#),
        "{leader}"
    );
    assert!(leader.contains(r#"<table id="trail">"#));
    assert!(
        leader.contains(r#"<form id="form-AnswerItem" method="post" action="/forms""#),
        "{leader}"
    );
    assert!(leader.contains(r#"<button id="submit-AnswerItem""#));
    for name in [
        r#"name="class""#,
        r#"name="text""#,
        r#"name="csrf""#,
        r#"name="item_id" value="2024-S-1""#,
    ] {
        assert!(leader.contains(name), "{name}");
    }
    assert_eq!(
        forms_in(&leader),
        [
            "RecordContact",
            "ReportProgress",
            "RequestExtension",
            "AnswerItem"
        ]
    );
    let deputy = page(log_in(&api, "d-1", Role::Deputy).await).await;
    assert!(forms_in(&deputy).is_empty(), "{deputy}");
    assert!(!deputy.contains("form-AnswerItem"));
    let auditor = page(log_in(&api, "audit-web", Role::Auditor).await).await;
    assert!(forms_in(&auditor).is_empty(), "{auditor}");
    let liaison = page(log_in(&api, "liaison-web", Role::Liaison).await).await;
    assert_eq!(forms_in(&liaison), ["WithdrawItem"]);
    let handler = page(log_in(&api, "h-web", Role::Handler).await).await;
    assert_eq!(
        forms_in(&handler),
        [
            "AcknowledgeItem",
            "RecordContact",
            "ReportProgress",
            "RequestExtension"
        ]
    );
    let office = page(log_in(&api, "office-web", Role::CourtOffice).await).await;
    assert!(
        forms_in(&office).is_empty(),
        "assigned: nothing left to triage or assign"
    );
}

fn board_status(html: &str, item: &str) -> String {
    let needle = format!(r#"<tr data-item-id="{item}" data-status=""#);
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("{item} in {html}"))
        + needle.len();
    html[start..].split('"').next().expect("status").to_owned()
}

#[track_caller]
fn assert_lands_on(page: &super::Page, item: &str, command: &str) {
    page.expect(StatusCode::SEE_OTHER);
    assert_eq!(page.location(), format!("/items/{item}?done={command}"));
}

async fn forms_file_assign_answer_and_rate_and_the_board_follows(db: Fresh) {
    let api = Api::new(&db).await;
    let liaison = log_in(&api, "liaison-01", Role::Liaison).await;
    let new = get(&api, "/items/new", Some(&liaison))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        new.contains(r#"<form id="form-FileItem" method="post" action="/forms""#),
        "{new}"
    );
    let filed = post_form(
        &api,
        &liaison,
        "FileItem",
        &[
            ("item_id", "2024-W-1"),
            ("kind", "suggestion"),
            ("title", "关于执行款发放的建议"),
            ("body", "建议加快发放。"),
            ("deputies.0.id", "d-1"),
            ("deputies.0.name", "王代表"),
            ("deputies.1.id", ""),
            ("deputies.1.name", ""),
            ("urgent", "false"),
        ],
    )
    .await;
    assert_lands_on(&filed, "2024-W-1", "FileItem");
    let html = get(&api, filed.location(), Some(&liaison))
        .await
        .expect_html(StatusCode::OK);
    assert!(html.contains(r#"<p id="flash" class="ok">"#), "{html}");
    let board = get(&api, "/", Some(&liaison))
        .await
        .expect_html(StatusCode::OK);
    assert_eq!(board_status(&board, "2024-W-1"), "filed");

    let office = log_in(&api, "office-01", Role::CourtOffice).await;
    let triaged = post_form(
        &api,
        &office,
        "TriageItem",
        &[
            ("item_id", "2024-W-1"),
            ("decision", "accept"),
            ("reason", ""),
        ],
    )
    .await;
    assert_lands_on(&triaged, "2024-W-1", "TriageItem");
    let assigned = post_form(
        &api,
        &office,
        "AssignItem",
        &[
            ("item_id", "2024-W-1"),
            ("lead_unit", "执行局"),
            ("co_units", ""),
            ("leader.id", "l-1"),
            ("leader.name", "陈立新"),
            ("leader.level", "vice_president"),
        ],
    )
    .await;
    assert_lands_on(&assigned, "2024-W-1", "AssignItem");
    let board = get(&api, "/", Some(&office))
        .await
        .expect_html(StatusCode::OK);
    assert_eq!(board_status(&board, "2024-W-1"), "assigned");

    let leader = log_in(&api, "l-1", Role::Leader).await;
    let answered = post_form(
        &api,
        &leader,
        "AnswerItem",
        &[
            ("item_id", "2024-W-1"),
            ("class", "A"),
            ("text", "已建立限时发放机制。"),
            ("doc_no", ""),
            ("public", ""),
        ],
    )
    .await;
    assert_lands_on(&answered, "2024-W-1", "AnswerItem");

    let deputy = log_in(&api, "d-1", Role::Deputy).await;
    let page = get(&api, "/items/2024-W-1", Some(&deputy))
        .await
        .expect_html(StatusCode::OK);
    assert_eq!(forms_in(&page), ["RateAnswer"]);
    let rated = post_form(
        &api,
        &deputy,
        "RateAnswer",
        &[
            ("item_id", "2024-W-1"),
            ("rating", "satisfied"),
            ("comment", "满意"),
        ],
    )
    .await;
    assert_lands_on(&rated, "2024-W-1", "RateAnswer");
    let page = get(&api, "/items/2024-W-1", Some(&deputy))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        page.contains(r#"<table id="rounds">"#) && page.contains("已建立限时发放机制。"),
        "{page}"
    );
    let board = get(&api, "/", Some(&deputy))
        .await
        .expect_html(StatusCode::OK);
    assert_eq!(board_status(&board, "2024-W-1"), "rated");
}

/// A browser percent-encodes each byte of Chinese text, so a body at its limit (20,000
/// characters) posts ~180 KiB: more than the API's 64 KiB, within the pages' own limit.
async fn a_form_with_chinese_text_at_its_longest_is_filed_not_refused_as_too_large(db: Fresh) {
    let api = Api::new(&db).await;
    let liaison = log_in(&api, "liaison-01", Role::Liaison).await;
    let body = "执".repeat(aggregates::validate::TEXT_CHARS_MAX);
    let filed = post_form(
        &api,
        &liaison,
        "FileItem",
        &[
            ("item_id", "2024-W-LONG"),
            ("kind", "suggestion"),
            ("title", "关于执行款发放的建议"),
            ("body", &body),
            ("deputies.0.id", "d-1"),
            ("deputies.0.name", "王代表"),
            ("urgent", "false"),
        ],
    )
    .await;
    assert_lands_on(&filed, "2024-W-LONG", "FileItem");
    let token = api.token("liaison-01", Role::Liaison).await;
    let trail = api.get("/api/items/2024-W-LONG/trail", Some(&token)).await;
    trail.expect(StatusCode::OK, None);
    assert_eq!(trail.body["events"][0]["type"], "ItemFiled");
    assert_eq!(
        trail.body["events"][0]["data"]["body"].as_str(),
        Some(body.as_str())
    );
}

async fn a_form_the_role_may_not_use_is_refused_and_appends_nothing(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    assigned_item(&api, &cast, "2024-S-1", "d-1").await;
    let before = log_size(&api).await;
    let answer = [("item_id", "2024-S-1"), ("class", "A"), ("text", "答复")];
    let deputy = log_in(&api, "d-1", Role::Deputy).await;
    let refused = post_form(&api, &deputy, "AnswerItem", &answer).await;
    let html = refused.expect_html(StatusCode::FORBIDDEN);
    assert!(
        html.contains(r#"<p id="flash" class="error" data-code="forbidden">"#),
        "{html}"
    );
    assert!(
        !html.contains("form-AnswerItem"),
        "the refused form is not offered to this role"
    );
    let auditor = log_in(&api, "audit-web", Role::Auditor).await;
    post_form(&api, &auditor, "AnswerItem", &answer)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(log_size(&api).await, before);
}

async fn a_wrong_csrf_token_is_403_and_appends_nothing(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    assigned_item(&api, &cast, "2024-S-1", "d-1").await;
    let before = log_size(&api).await;
    let leader = log_in(&api, "l-1", Role::Leader).await;
    let other = log_in(&api, "l-2", Role::Leader).await;
    let answer = [("item_id", "2024-S-1"), ("class", "A"), ("text", "答复")];
    for csrf in [String::new(), "0".repeat(64), other.csrf.clone()] {
        let forged = Session {
            cookie: leader.cookie.clone(),
            csrf,
        };
        let page = post_form(&api, &forged, "AnswerItem", &answer).await;
        let html = page.expect_html(StatusCode::FORBIDDEN);
        assert!(html.contains(r#"data-code="csrf""#), "{html}");
    }
    assert_eq!(log_size(&api).await, before);
    // The right token works.
    let page = post_form(&api, &leader, "AnswerItem", &answer).await;
    page.expect(StatusCode::SEE_OTHER);
    assert_eq!(log_size(&api).await, before + 1);
}

async fn a_refused_form_comes_back_with_the_ledgers_message_and_code(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    assigned_item(&api, &cast, "2024-S-1", "d-1").await;
    let before = log_size(&api).await;
    let leader = log_in(&api, "l-1", Role::Leader).await;
    // An extension past six months after assignment is refused by the domain.
    let fields = [
        ("item_id", "2024-S-1"),
        ("until", "2025-12-31"),
        ("reason", "案情复杂"),
    ];
    let page = post_form(&api, &leader, "RequestExtension", &fields).await;
    assert!(page.status.is_client_error(), "{}", page.html());
    let html = page.html();
    assert!(
        html.contains(r#"<p id="flash" class="error" data-code="invalid">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"value="2025-12-31""#),
        "the form keeps what was posted: {html}"
    );
    assert!(html.contains("案情复杂"));
    assert_eq!(log_size(&api).await, before);
    // A filing whose id is taken: 409 on the new-item page, in English when asked.
    let liaison = log_in(&api, "liaison-web", Role::Liaison).await;
    let english = Session {
        cookie: format!("{}; huiyin_lang=en", liaison.cookie),
        csrf: liaison.csrf.clone(),
    };
    let page = post_form(
        &api,
        &english,
        "FileItem",
        &[
            ("item_id", "2024-S-1"),
            ("kind", "suggestion"),
            ("title", "again"),
            ("body", "b"),
            ("deputies.0.id", "d-1"),
            ("deputies.0.name", "W"),
        ],
    )
    .await;
    let html = page.expect_html(StatusCode::CONFLICT);
    assert!(
        html.contains(r#"data-code="wrong_state""#) || html.contains(r#"data-code="duplicate""#),
        "{html}"
    );
    assert!(html.contains("Refused"), "{html}");
    assert!(html.contains(r#"<form id="form-FileItem""#));
    assert_eq!(log_size(&api).await, before);
}

async fn a_deputy_cannot_open_another_deputys_item(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    assigned_item(&api, &cast, "2024-S-1", "d-1").await;
    let other = log_in(&api, "d-2", Role::Deputy).await;
    let page = get(&api, "/items/2024-S-1", Some(&other)).await;
    let html = page.expect_html(StatusCode::FORBIDDEN);
    assert!(
        !html.contains("关于2024-S-1的建议"),
        "no title leaks: {html}"
    );
    get(&api, "/items/2024-S-404", Some(&other))
        .await
        .expect_html(StatusCode::NOT_FOUND);
    let owner = log_in(&api, "d-1", Role::Deputy).await;
    get(&api, "/items/2024-S-1", Some(&owner))
        .await
        .expect_html(StatusCode::OK);
    let logged_out = get(&api, "/items/2024-S-1", None).await;
    logged_out.expect(StatusCode::SEE_OTHER);
    assert_eq!(logged_out.location(), "/login?next=%2Fitems%2F2024-S-1");
}

async fn ledger_strings_are_escaped_on_every_page(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let hostile = "<script>alert(1)</script>";
    let filing = command(
        "x-file",
        "FileItem",
        "2024-03-01T09:00:00+08:00",
        json!({
            "item_id": "2024-X-1", "kind": "suggestion", "title": hostile,
            "body": "\"'><img src=x onerror=alert(2)> ../../etc/passwd '; DROP TABLE events; --",
            "deputies": [{"id": "d-1", "name": "<b>王</b>", "lead": true}],
        }),
    );
    api.command(&cast.liaison, &filing)
        .await
        .expect(StatusCode::OK, None);
    let liaison = log_in(&api, "liaison-web", Role::Liaison).await;
    for path in ["/", "/items/2024-X-1"] {
        let html = get(&api, path, Some(&liaison))
            .await
            .expect_html(StatusCode::OK);
        assert!(!html.contains("<script>"), "{path}: {html}");
        assert!(!html.contains("<img"), "{path}");
        assert!(!html.contains("<b>"), "{path}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: {html}"
        );
    }
}
