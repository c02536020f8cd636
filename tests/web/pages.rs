//! The login page, the board, its downloads, the language switch and escaping.

use aggregates::actor::Role;
use axum::http::StatusCode;
use libtest_mimic::Trial;
use serde_json::json;

use super::{get, log_in, Page};
use crate::http::{answered_item, command, file, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "web",
        "the_item_page_trail_rows_are_the_api_trail_and_both_rounds_show",
        the_item_page_trail_rows_are_the_api_trail_and_both_rounds_show,
    ));
    trials.extend(on_both(
        "web",
        "the_figures_page_counts_people_by_level_and_by_township",
        the_figures_page_counts_people_by_level_and_by_township,
    ));
    trials.extend(on_both(
        "web",
        "download_links_carry_the_board_filters_and_the_figures_year",
        download_links_carry_the_board_filters_and_the_figures_year,
    ));
    trials.extend(on_both(
        "web",
        "the_login_page_has_the_form_the_browser_fills",
        the_login_page_has_the_form_the_browser_fills,
    ));
    trials.extend(on_both(
        "web",
        "pages_redirect_to_login_when_logged_out",
        pages_redirect_to_login_when_logged_out,
    ));
    trials.extend(on_both(
        "web",
        "the_board_shows_counts_rows_and_marks_to_every_role",
        the_board_shows_counts_rows_and_marks_to_every_role,
    ));
    trials.extend(on_both(
        "web",
        "an_item_page_says_how_long_overdue_or_how_many_days_are_left",
        an_item_page_says_how_long_overdue_or_how_many_days_are_left,
    ));
    trials.extend(on_both(
        "web",
        "a_deputy_sees_only_their_own_items_on_the_board",
        a_deputy_sees_only_their_own_items_on_the_board,
    ));
    trials.extend(on_both(
        "web",
        "the_board_filters_and_sorts_by_query",
        the_board_filters_and_sorts_by_query,
    ));
    trials.extend(on_both(
        "web",
        "the_board_pages_through_a_next_page_link_without_script",
        the_board_pages_through_a_next_page_link_without_script,
    ));
    trials.extend(on_both(
        "web",
        "lang_en_switches_the_text_and_is_remembered",
        lang_en_switches_the_text_and_is_remembered,
    ));
    trials.extend(on_both(
        "web",
        "board_downloads_parse_as_csv_and_xlsx",
        board_downloads_parse_as_csv_and_xlsx,
    ));
    trials.extend(on_both(
        "web",
        "a_failed_form_login_comes_back_to_the_login_page",
        a_failed_form_login_comes_back_to_the_login_page,
    ));
    trials.extend(on_both(
        "web",
        "the_figures_page_draws_three_svg_charts_one_bar_per_value",
        the_figures_page_draws_three_svg_charts_one_bar_per_value,
    ));
    trials.extend(on_both(
        "web",
        "the_audit_page_shows_the_latest_signed_checkpoint",
        the_audit_page_shows_the_latest_signed_checkpoint,
    ));
    trials.extend(on_both(
        "web",
        "the_liaison_board_lists_the_newest_dead_notices_with_their_last_error",
        the_liaison_board_lists_the_newest_dead_notices_with_their_last_error,
    ));
    trials
}

async fn the_login_page_has_the_form_the_browser_fills(db: Fresh) {
    let api = Api::new(&db).await;
    let html = get(&api, "/login?next=%2Fitems%2F2024-S-1", None)
        .await
        .expect_html(StatusCode::OK);
    for needle in [
        r#"<form id="login" method="post" action="/login""#,
        r#"name="person_id""#,
        r#"name="password""#,
        r#"name="role""#,
        r#"<input type="hidden" name="next" value="/items/2024-S-1">"#,
        r#"<button id="login-submit""#,
        r#"id="lang-switch""#,
        "登录",
    ] {
        assert!(html.contains(needle), "{needle} missing in {html}");
    }
    // Logged out, there is nothing to log out of.
    assert!(!html.contains(r#"id="logout""#), "{html}");
}

async fn pages_redirect_to_login_when_logged_out(db: Fresh) {
    let api = Api::new(&db).await;
    for (path, next) in [
        ("/", "%2F"),
        ("/?status=assigned", "%2F%3Fstatus%3Dassigned"),
        ("/board.csv", "%2Fboard.csv"),
    ] {
        let page = get(&api, path, None).await;
        page.expect(StatusCode::SEE_OTHER);
        assert_eq!(page.location(), format!("/login?next={next}"), "{path}");
    }
}

/// Items: A answered (d-1), B assigned and overdue by 2024-06-10 (d-2), C filed (d-1, overdue
/// for triage), and a fourth, D, assigned later and due soon on 2024-06-10.
async fn four_items(api: &Api, cast: &Cast) {
    answered_item(api, cast, "2024-S-A", "d-1").await;
    let steps = [
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
        (&cast.liaison, file("2024-S-D", "d-2")),
        (
            &cast.office,
            command(
                "d-triage",
                "TriageItem",
                "2024-03-14T09:00:00+08:00",
                json!({"item_id": "2024-S-D", "decision": "accept"}),
            ),
        ),
        (
            &cast.office,
            command(
                "d-assign",
                "AssignItem",
                "2024-03-14T10:00:00+08:00",
                json!({"item_id": "2024-S-D", "lead_unit": "执行局",
                       "leader": {"id": "l-1", "name": "陈立新", "level": "vice_president"}}),
            ),
        ),
    ];
    for (token, step) in steps {
        api.command(token, &step).await.expect(StatusCode::OK, None);
    }
}

/// Moves the test clock to 2024-06-10 (B overdue since 06-05, D due 06-14).
fn to_june(api: &Api) {
    let start: jiff::Timestamp = crate::http::START.parse().expect("start");
    let june: jiff::Timestamp = "2024-06-10T02:00:00Z".parse().expect("june");
    let by = start.duration_until(june);
    api.clock
        .advance(std::time::Duration::try_from(by).expect("forward"));
}

fn count(html: &str, name: &str) -> String {
    let needle = format!(r#"data-count="{name}">"#);
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + needle.len();
    html[start..].split('<').next().expect("text").to_owned()
}

fn rows(html: &str) -> Vec<String> {
    html.split(r#"<tr data-item-id=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().expect("id").to_owned())
        .collect()
}

async fn the_board_shows_counts_rows_and_marks_to_every_role(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    to_june(&api);
    for role in Role::ALL {
        let session = log_in(&api, &format!("{}-web", role.as_str()), role).await;
        let html = get(&api, "/", Some(&session))
            .await
            .expect_html(StatusCode::OK);
        assert!(html.contains(r#"<form id="logout" method="post" action="/logout">"#));
        assert!(html.contains(r#"<button id="logout-submit""#));
        assert!(html.contains(r#"<a id="lang-switch""#));
        assert!(html.contains(r#"<table id="board">"#));
        assert_eq!(
            html.contains(r#"<a id="file-item" href="/items/new">"#),
            role == Role::Liaison,
            "{role}"
        );
        assert_eq!(
            html.contains(r#"id="dead-notifications""#),
            role == Role::Liaison,
            "{role}"
        );
        if role == Role::Deputy {
            // This deputy is named on no item: nothing of theirs is due and unanswered.
            assert_eq!(count(&html, "total"), "0");
            assert!(
                html.contains(r#"<p id="board-verdict" data-all-due-answered="true">"#),
                "{html}"
            );
            continue;
        }
        assert_eq!(
            rows(&html),
            ["2024-S-A", "2024-S-B", "2024-S-C", "2024-S-D"]
        );
        assert_eq!(count(&html, "total"), "4");
        assert_eq!(count(&html, "open"), "4");
        assert_eq!(count(&html, "closed"), "0");
        // A answered; B (answer) and C (triage) overdue; D due on 06-14, four days on.
        assert_eq!(count(&html, "answered"), "1");
        assert_eq!(count(&html, "overdue"), "2");
        assert_eq!(count(&html, "due_soon"), "1");
        assert!(
            html.contains(r#"<p id="board-verdict" data-all-due-answered="false">"#),
            "{html}"
        );
        // The same counts as the API's board for the same viewer and moment.
        let token = api.token(&format!("{}-web", role.as_str()), role).await;
        let board = api.get("/api/board", Some(&token)).await;
        let summary = &board.body["summary"];
        for name in ["total", "open", "answered", "overdue", "due_soon", "closed"] {
            assert_eq!(
                count(&html, name),
                summary[name].to_string(),
                "{role} {name}"
            );
        }
        assert_eq!(summary["all_due_answered"], false);
        assert!(
            html.contains(r#"<tr data-item-id="2024-S-B" data-status="assigned" class="overdue">"#),
            "{html}"
        );
        assert!(
            html.contains(
                r#"<tr data-item-id="2024-S-D" data-status="assigned" class="due-soon">"#
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"<tr data-item-id="2024-S-A" data-status="answered" class="">"#),
            "{html}"
        );
        assert!(html.contains(r#"data-flag="overdue""#) && html.contains("逾期未答复"));
        assert!(html.contains(r#"data-flag="due_soon""#) && html.contains("临期未答复"));
        assert!(html.contains(r#"<a href="/items/2024-S-B">"#));
    }
}

/// The days after `label` on the item page: `(label N unit)`.
fn days_after(html: &str, label: &str) -> Option<i64> {
    let start = html.find(&format!("({label} "))? + label.len() + 2;
    html[start..].split([' ', ')']).next()?.parse().ok()
}

async fn an_item_page_says_how_long_overdue_or_how_many_days_are_left(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    to_june(&api);
    let session = log_in(&api, "liaison-web", Role::Liaison).await;
    let overdue = get(&api, "/items/2024-S-B", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        days_after(&overdue, "已逾期").is_some_and(|days| days > 0),
        "{overdue}"
    );
    assert_eq!(days_after(&overdue, "剩余天数"), None, "{overdue}");
    let due_soon = get(&api, "/items/2024-S-D", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        days_after(&due_soon, "剩余天数").is_some_and(|days| days >= 0),
        "{due_soon}"
    );
    assert_eq!(days_after(&due_soon, "已逾期"), None, "{due_soon}");
    let english = get(&api, "/items/2024-S-B?lang=en", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        days_after(&english, "overdue by").is_some_and(|days| days > 0),
        "{english}"
    );
}

async fn a_deputy_sees_only_their_own_items_on_the_board(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    let deputy = log_in(&api, "d-1", Role::Deputy).await;
    let html = get(&api, "/", Some(&deputy))
        .await
        .expect_html(StatusCode::OK);
    assert_eq!(rows(&html), ["2024-S-A", "2024-S-C"]);
    assert_eq!(count(&html, "total"), "2");
    let csv = get(&api, "/board.csv", Some(&deputy)).await;
    csv.expect(StatusCode::OK);
    let text = csv.html();
    assert!(
        text.contains("2024-S-A") && !text.contains("2024-S-B"),
        "{text}"
    );
}

async fn the_board_filters_and_sorts_by_query(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    to_june(&api);
    let office = log_in(&api, "office-web", Role::CourtOffice).await;
    let board = |query: &'static str| {
        let api = &api;
        let office = &office;
        async move {
            let html = get(api, &format!("/?{query}"), Some(office))
                .await
                .expect_html(StatusCode::OK);
            (rows(&html), count(&html, "total"))
        }
    };
    assert_eq!(
        board("status=assigned").await,
        (
            vec!["2024-S-B".to_owned(), "2024-S-D".to_owned()],
            "2".to_owned()
        )
    );
    // C is overdue for triage (due 2024-03-12), B for its answer.
    assert_eq!(board("overdue=true").await.0, ["2024-S-B", "2024-S-C"]);
    assert_eq!(board("due_soon=true").await.0, ["2024-S-D"]);
    assert_eq!(board("leader=%E6%9D%8E%E6%98%8E").await.0, ["2024-S-B"]);
    assert_eq!(
        board("lead_unit=%E6%89%A7%E8%A1%8C%E5%B1%80").await.0,
        ["2024-S-A", "2024-S-D"]
    );
    assert_eq!(board("kind=suggestion&status=&overdue=").await.0.len(), 4);
    assert_eq!(board("kind=inquiry").await.0.len(), 0);
    assert_eq!(
        board("sort=item_id&dir=desc").await.0,
        ["2024-S-D", "2024-S-C", "2024-S-B", "2024-S-A"]
    );
    assert_eq!(
        board("sort=due").await.0[..2],
        ["2024-S-C".to_owned(), "2024-S-A".to_owned()]
    );
    let html = get(&api, "/?sort=item_id", Some(&office))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        html.contains(r#"href="/?sort=item_id&amp;dir=desc""#),
        "the active column's link reverses the order"
    );
}

async fn lang_en_switches_the_text_and_is_remembered(db: Fresh) {
    let api = Api::new(&db).await;
    let liaison = log_in(&api, "liaison-web", Role::Liaison).await;
    let page = get(&api, "/?lang=en", Some(&liaison)).await;
    let html = page.expect_html(StatusCode::OK);
    assert!(
        html.contains("Tracking board") && !html.contains("督办台账</h1>"),
        "{html}"
    );
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(
        html.contains(r#"href="/?lang=zh""#),
        "the switch offers Chinese: {html}"
    );
    let set = page
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("lang cookie");
    assert!(set.starts_with("huiyin_lang=en;"), "{set}");
    // The cookie keeps English without the query.
    let remembered = super::Session {
        cookie: format!("{}; huiyin_lang=en", liaison.cookie),
        csrf: liaison.csrf.clone(),
    };
    let html = get(&api, "/", Some(&remembered))
        .await
        .expect_html(StatusCode::OK);
    assert!(html.contains("Tracking board"), "{html}");
    let html = get(&api, "/", Some(&liaison))
        .await
        .expect_html(StatusCode::OK);
    assert!(html.contains("督办台账") && html.contains(r#"<html lang="zh-CN">"#));
}

async fn board_downloads_parse_as_csv_and_xlsx(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    let office = log_in(&api, "office-web", Role::CourtOffice).await;
    let csv = get(&api, "/board.csv?status=assigned", Some(&office)).await;
    csv.expect(StatusCode::OK);
    let text = csv.html();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let ids: Vec<String> = reader
        .records()
        .map(|record| record.expect("a CSV record")[0].to_owned())
        .collect();
    assert_eq!(ids, ["2024-S-B", "2024-S-D"]);
    let xlsx = get(&api, "/board.xlsx?status=assigned", Some(&office)).await;
    xlsx.expect(StatusCode::OK);
    assert_xlsx_rows(&xlsx, 3);
}

/// The workbook opens and its first sheet has `rows` rows (header included).
pub fn assert_xlsx_rows(page: &Page, rows: usize) {
    use calamine::Reader;
    let cursor = std::io::Cursor::new(page.body.clone());
    let mut workbook = calamine::open_workbook_auto_from_rs(cursor).expect("an XLSX workbook");
    let sheet = workbook
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    assert_eq!(sheet.height(), rows);
}

async fn a_failed_form_login_comes_back_to_the_login_page(db: Fresh) {
    let api = Api::new(&db).await;
    api.password("liaison-01", &[Role::Liaison], super::PASSWORD)
        .await;
    let body = "person_id=liaison-01&password=wrong-password&role=&next=%2Ffigures";
    let page = super::send(&api, super::form_request("/login", None, body)).await;
    page.expect(StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/login?error=unauthenticated&next=%2Ffigures&person_id=liaison-01"
    );
    let html = get(&api, page.location(), None)
        .await
        .expect_html(StatusCode::OK);
    assert!(
        html.contains(r#"<p id="flash" class="error" data-code="unauthenticated">"#),
        "{html}"
    );
    assert!(html.contains(r#"value="/figures""#));
}

/// The `<svg id="…">` element of `html`, parsed as XML: its bars' `data-value`s.
fn svg_bars(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!(r#"<svg id="{id}""#))
        .unwrap_or_else(|| panic!("{id} in {html}"));
    let end = start + html[start..].find("</svg>").expect("an end") + "</svg>".len();
    let svg = &html[start..end];
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut bars = Vec::new();
    let mut titles = 0;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|error| panic!("{id} is not well-formed XML: {error}\n{svg}"))
        {
            quick_xml::events::Event::Start(element) | quick_xml::events::Event::Empty(element) => {
                let name = element.name();
                if name.as_ref() == b"title" {
                    titles += 1;
                }
                let is_bar = element
                    .attributes()
                    .flatten()
                    .any(|a| a.key.as_ref() == b"class" && a.value.as_ref() == b"bar");
                if name.as_ref() == b"rect" && is_bar {
                    let value = element
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"data-value")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .expect("a data-value");
                    bars.push(value);
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        titles,
        bars.len() + 1,
        "{id}: one <title> for the chart and one per bar"
    );
    bars
}

async fn the_figures_page_draws_three_svg_charts_one_bar_per_value(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    for role in Role::ALL {
        let session = log_in(&api, &format!("{}-fig", role.as_str()), role).await;
        get(&api, "/figures", Some(&session))
            .await
            .expect_html(StatusCode::OK);
    }
    let office = log_in(&api, "office-fig2", Role::CourtOffice).await;
    let html = get(&api, "/figures", Some(&office))
        .await
        .expect_html(StatusCode::OK);
    let monthly = svg_bars(&html, "chart-monthly");
    assert_eq!(
        monthly.len(),
        24,
        "filed and answered for each of 12 months"
    );
    // March 2024: four filed; May 2024: one answered.
    assert_eq!(monthly[4], "4");
    assert_eq!(monthly[9], "1");
    let leaders = svg_bars(&html, "chart-on-time-by-leader");
    assert_eq!(leaders.len(), 2, "陈立新 and 李明");
    let years = svg_bars(&html, "chart-satisfaction-by-year");
    assert_eq!(years.len(), 1, "2024 only");
    assert!(
        html.contains("<title id=\"chart-monthly-title\">"),
        "{html}"
    );
    let csv = get(&api, "/figures.csv?year=2024", Some(&office)).await;
    csv.expect(StatusCode::OK);
    let text = csv.html();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    assert!(reader.records().all(|record| record.is_ok()));
    assert!(text.contains("件数 items"), "{text}");
    let xlsx = get(&api, "/figures.xlsx", Some(&office)).await;
    xlsx.expect(StatusCode::OK);
    use calamine::Reader;
    let workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx.body.clone()))
        .expect("an XLSX workbook");
    assert!(workbook.sheet_names().contains(&"2024年".to_owned()));
    let logged_out = get(&api, "/figures", None).await;
    logged_out.expect(StatusCode::SEE_OTHER);
}

async fn the_audit_page_shows_the_latest_signed_checkpoint(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-A", "d-1").await;
    let auditor = log_in(&api, "audit-web", Role::Auditor).await;
    let html = get(&api, "/audit", Some(&auditor))
        .await
        .expect_html(StatusCode::OK);
    assert!(html.contains(r#"id="no-checkpoint""#), "{html}");
    assert!(
        html.contains(r#"<strong id="log-size">4</strong>"#),
        "{html}"
    );
    let origin = infra::checkpoint::origin_for("huiyin");
    let signer =
        infra::note::SignerKey::generate(&origin, infra::note::KeyType::Ed25519).expect("key");
    infra::signing::sign_checkpoint(&*api.stores.events, &signer, &origin)
        .await
        .expect("sign");
    let html = get(&api, "/audit", Some(&auditor))
        .await
        .expect_html(StatusCode::OK);
    assert!(
        html.contains(r#"<dl id="checkpoint" data-tree-size="4">"#),
        "{html}"
    );
    assert!(html.contains(&origin), "{html}");
    assert!(html.contains(r#"<a id="export-link" href="/api/export">"#));
    assert!(html.contains("huiyin verify"));
    let deputy = log_in(&api, "d-1", Role::Deputy).await;
    get(&api, "/audit", Some(&deputy))
        .await
        .expect_html(StatusCode::OK);
    let logged_out = get(&api, "/audit", None).await;
    logged_out.expect(StatusCode::SEE_OTHER);
}

/// The `href` of the link with `id`, its `&amp;` read back.
fn link(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!(r#"<a id="{id}""#))?;
    let rest = &html[start..];
    let href = rest.split(r#"href=""#).nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

async fn the_board_pages_through_a_next_page_link_without_script(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let total = huiyin::reading::BOARD_PAGE_ITEMS_DEFAULT as usize + 5;
    for n in 0..total {
        api.command(&cast.liaison, &file(&format!("2024-S-{n:03}"), "d-1"))
            .await
            .expect(StatusCode::OK, None);
    }
    let session = log_in(&api, "office-web", Role::CourtOffice).await;
    let first = get(&api, "/?sort=item_id&dir=desc", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    assert_eq!(
        count(&first, "total"),
        total.to_string(),
        "counts: every item"
    );
    let first_rows = rows(&first);
    assert_eq!(first_rows.len(), total - 5);
    assert!(first.contains("下一页"), "{first}");
    assert!(link(&first, "board-first").is_none());
    let next = link(&first, "board-next").expect("a next-page link");
    assert!(next.starts_with("/?sort=item_id&dir=desc&after="), "{next}");
    let second = get(&api, &next, Some(&session))
        .await
        .expect_html(StatusCode::OK);
    let second_rows = rows(&second);
    assert_eq!(second_rows.len(), 5);
    assert!(link(&second, "board-next").is_none(), "the last page");
    assert_eq!(
        link(&second, "board-first").as_deref(),
        Some("/?sort=item_id&dir=desc")
    );
    assert_eq!(count(&second, "total"), total.to_string());
    let mut all: Vec<String> = first_rows.into_iter().chain(second_rows).collect();
    let mut expected: Vec<String> = (0..total).map(|n| format!("2024-S-{n:03}")).collect();
    expected.reverse();
    assert_eq!(all, expected, "both pages, in order, each item once");
    all.dedup();
    assert_eq!(all.len(), total);
    let english = get(&api, "/?lang=en", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    assert!(english.contains("Next page"), "{english}");
    let garbled = get(&api, "/?after=garbled", Some(&session)).await;
    garbled.expect(StatusCode::BAD_REQUEST);
}

async fn the_item_page_trail_rows_are_the_api_trail_and_both_rounds_show(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-R", "d-1").await;
    // Unsatisfied: a second round, answered again.
    let steps = [
        (
            &cast.deputy,
            command(
                "r-rate",
                "RateAnswer",
                "2024-05-25T09:00:00+08:00",
                json!({"item_id": "2024-S-R", "rating": "unsatisfied", "comment": "未解决实际问题"}),
            ),
        ),
        (
            &cast.leader,
            command(
                "r-answer-2",
                "AnswerItem",
                "2024-06-12T09:00:00+08:00",
                json!({"item_id": "2024-S-R", "class": "A", "text": "第二轮：已督促全部案款发放到位。"}),
            ),
        ),
    ];
    for (token, step) in steps {
        api.command(token, &step).await.expect(StatusCode::OK, None);
    }
    let trail = api
        .get("/api/items/2024-S-R/trail", Some(&cast.liaison))
        .await;
    trail.expect(StatusCode::OK, None);
    let expected: Vec<(String, String)> = trail.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|entry| {
            (
                entry["position"].to_string(),
                entry["hash"].as_str().expect("a hex hash").to_owned(),
            )
        })
        .collect();
    assert!(expected.len() >= 6, "{:#}", trail.body);
    for role in [Role::Liaison, Role::Deputy] {
        let person = if role == Role::Deputy {
            "d-1"
        } else {
            "liaison-r"
        };
        let session = log_in(&api, person, role).await;
        let html = get(&api, "/items/2024-S-R", Some(&session))
            .await
            .expect_html(StatusCode::OK);
        let page = scraper::Html::parse_document(&html);
        let selector = |css: &str| scraper::Selector::parse(css).expect("a selector");
        let rows: Vec<(String, String)> = page
            .select(&selector("table#trail tbody tr"))
            .map(|row| {
                let position = row.value().attr("data-position").expect("data-position");
                let cells: Vec<String> = row
                    .select(&selector("td"))
                    .map(|cell| cell.text().collect::<String>())
                    .collect();
                assert_eq!(cells[0], position, "the first cell is the position");
                let hash = row
                    .select(&selector("code.hash"))
                    .next()
                    .expect("a hash cell")
                    .text()
                    .collect::<String>();
                let proof = row
                    .select(&selector("a"))
                    .next()
                    .and_then(|link| link.value().attr("href"))
                    .expect("a proof link");
                assert_eq!(proof, format!("/api/proofs/inclusion?index={position}"));
                (position.to_owned(), hash)
            })
            .collect();
        assert_eq!(rows, expected, "{role}: the page's trail is the API's");
        let rounds: Vec<&str> = page
            .select(&selector("table#rounds tbody tr"))
            .map(|row| row.value().attr("data-round").expect("data-round"))
            .collect();
        assert_eq!(rounds, ["1", "2"], "{role}");
        let round = |n: &str| {
            page.select(&selector(&format!(r#"table#rounds tr[data-round="{n}"]"#)))
                .next()
                .expect("a round row")
                .text()
                .collect::<String>()
        };
        assert!(
            round("1").contains("已建立限时发放机制。"),
            "{}",
            round("1")
        );
        assert!(round("1").contains("不满意"), "{}", round("1"));
        assert!(
            round("2").contains("第二轮：已督促全部案款发放到位。"),
            "{}",
            round("2")
        );
    }
}

async fn download_links_carry_the_board_filters_and_the_figures_year(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    four_items(&api, &cast).await;
    to_june(&api);
    let office = log_in(&api, "office-web", Role::CourtOffice).await;
    // 陈立新 leads A and D.
    let leader = "%E9%99%88%E7%AB%8B%E6%96%B0";
    for (board, query, ids) in [
        (
            "/",
            "",
            vec!["2024-S-A", "2024-S-B", "2024-S-C", "2024-S-D"],
        ),
        (
            "/?status=assigned&sort=due&dir=desc",
            "status=assigned&sort=due&dir=desc",
            vec!["2024-S-D", "2024-S-B"],
        ),
        (
            "/?overdue=true",
            "overdue=true",
            vec!["2024-S-B", "2024-S-C"],
        ),
        (
            &format!("/?leader={leader}&sort=item_id"),
            &format!("leader={leader}&sort=item_id"),
            vec!["2024-S-A", "2024-S-D"],
        ),
    ] {
        let html = get(&api, board, Some(&office))
            .await
            .expect_html(StatusCode::OK);
        assert_eq!(rows(&html), ids, "{board}");
        let csv_link = link(&html, "download-csv").expect("a CSV link");
        let xlsx_link = link(&html, "download-xlsx").expect("an XLSX link");
        assert_eq!(csv_link, format!("/board.csv?{query}"), "{board}");
        assert_eq!(xlsx_link, format!("/board.xlsx?{query}"), "{board}");
        // Following them downloads what the page shows, in its order.
        let csv = get(&api, &csv_link, Some(&office)).await;
        csv.expect(StatusCode::OK);
        let text = csv.html();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let downloaded: Vec<String> = reader
            .records()
            .map(|record| record.expect("a CSV record")[0].to_owned())
            .collect();
        assert_eq!(downloaded, ids, "{csv_link}");
        let xlsx = get(&api, &xlsx_link, Some(&office)).await;
        xlsx.expect(StatusCode::OK);
        assert_xlsx_rows(&xlsx, ids.len() + 1);
    }
    for (figures, query) in [("/figures", ""), ("/figures?year=2024", "?year=2024")] {
        let html = get(&api, figures, Some(&office))
            .await
            .expect_html(StatusCode::OK);
        let csv_link = link(&html, "download-figures-csv").expect("a figures CSV link");
        let xlsx_link = link(&html, "download-figures-xlsx").expect("a figures XLSX link");
        assert_eq!(csv_link, format!("/figures.csv{query}"));
        assert_eq!(xlsx_link, format!("/figures.xlsx{query}"));
        get(&api, &csv_link, Some(&office))
            .await
            .expect(StatusCode::OK);
        get(&api, &xlsx_link, Some(&office))
            .await
            .expect(StatusCode::OK);
    }
    // Another year's figures download carries that year: none of its items were filed then.
    let other = get(&api, "/figures.csv?year=2023", Some(&office)).await;
    other.expect(StatusCode::OK);
    let this = get(&api, "/figures.csv?year=2024", Some(&office)).await;
    assert_ne!(other.body, this.body);
}

async fn the_figures_page_counts_people_by_level_and_by_township(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let people = [
        ("p-1", "deputy", Some("national"), None),
        ("p-2", "deputy", Some("county"), Some("城关镇")),
        ("p-3", "deputy", Some("county"), None),
        ("p-4", "supervisor", Some("county"), Some("城关镇")),
        ("p-5", "liaison_officer", None, Some("城关镇")),
        ("p-6", "liaison_officer", None, Some("东坝镇")),
    ];
    for (id, kind, level, township) in people {
        let mut data = json!({"person_id": id, "name": format!("人员{id}"), "kind": kind});
        if let Some(level) = level {
            data["level"] = json!(level);
        }
        if let Some(township) = township {
            data["township"] = json!(township);
        }
        let register = command(
            &format!("{id}-register"),
            "RegisterPerson",
            "2024-03-01T09:00:00+08:00",
            data,
        );
        api.command(&cast.admin, &register)
            .await
            .expect(StatusCode::OK, None);
    }
    let office = log_in(&api, "office-web", Role::CourtOffice).await;
    let html = get(&api, "/figures", Some(&office))
        .await
        .expect_html(StatusCode::OK);
    let page = scraper::Html::parse_document(&html);
    let selector = scraper::Selector::parse("table#people-figures tbody tr").expect("a selector");
    let rows: Vec<(String, String, String)> = page
        .select(&selector)
        .map(|row| {
            let group = row
                .value()
                .attr("data-level")
                .or_else(|| row.value().attr("data-township"))
                .expect("a level or a township");
            let cells: Vec<String> = row.text().map(str::to_owned).collect();
            (
                row.value().attr("data-kind").expect("a kind").to_owned(),
                group.to_owned(),
                cells.last().cloned().unwrap_or_default(),
            )
        })
        .collect();
    let row = |kind: &str, group: &str, n: &str| (kind.to_owned(), group.to_owned(), n.to_owned());
    assert_eq!(
        rows,
        [
            row("deputy", "county", "2"),
            row("deputy", "national", "1"),
            row("supervisor", "county", "1"),
            row("deputy", "城关镇", "1"),
            row("liaison_officer", "东坝镇", "1"),
            row("liaison_officer", "城关镇", "1"),
            row("supervisor", "城关镇", "1"),
        ]
    );
    assert!(html.contains("人大代表") && html.contains("县级"), "{html}");
    // The same figures as the API's.
    let stats = api.get("/api/stats", Some(&cast.liaison)).await;
    assert_eq!(
        stats.body["people_by_level"],
        json!({"deputy": {"county": 2, "national": 1}, "supervisor": {"county": 1}})
    );
    assert_eq!(
        stats.body["people_by_township"]["liaison_officer"],
        json!({"东坝镇": 1, "城关镇": 1})
    );
}

async fn the_liaison_board_lists_the_newest_dead_notices_with_their_last_error(db: Fresh) {
    use infra::outbox::{Attempt, DeliveryState, OutboxEntry};
    let api = Api::new(&db).await;
    let entry = |id: &str, subject: &str| OutboxEntry {
        id: id.to_owned(),
        kind: "overdue".to_owned(),
        item_id: Some("2024-S-001".to_owned()),
        recipient: "l-1".to_owned(),
        channel: "webhook".to_owned(),
        address: Some("13800000000".to_owned()),
        subject: subject.to_owned(),
        body: "请尽快答复。".to_owned(),
    };
    let outbox = &api.stores.outbox;
    // One sent, and more dead ones than the panel shows: given up on at 1001, 1002, ….
    let shown_max = 50;
    let mut entries = vec![entry("n-sent", "已送达的通知")];
    entries.extend(
        (0..=shown_max).map(|index| entry(&format!("n-dead-{index:02}"), "发送失败的通知")),
    );
    outbox.enqueue(&entries, 1_000).await.expect("enqueue");
    for (index, queued) in entries.iter().enumerate() {
        let (state, error) = match index {
            0 => (DeliveryState::Sent, None),
            _ => (
                DeliveryState::Dead,
                Some(format!("网关拒绝 {index}: HTTP 500")),
            ),
        };
        let attempt = Attempt {
            id: queued.id.clone(),
            attempt: 1,
            at: 1_000 + index as i64,
            state,
            error,
            next_attempt_at: 1_000 + index as i64,
        };
        assert!(outbox.record_attempt(&attempt).await.expect("record"));
    }
    let session = log_in(&api, "liaison-web", Role::Liaison).await;
    let html = get(&api, "/", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    let panel = &html[html.find(r#"id="dead-notifications""#).expect("the panel")..];
    let listed: Vec<&str> = panel
        .split(r#"<tr data-notice-id=""#)
        .skip(1)
        .filter_map(|row| row.split('"').next())
        .collect();
    // The newest first, as many as shown; the oldest dead one and the sent one are not listed.
    let expected: Vec<String> = (1..=shown_max)
        .rev()
        .map(|index| format!("n-dead-{index:02}"))
        .collect();
    assert_eq!(listed, expected);
    assert!(
        panel.contains("网关拒绝 51: HTTP 500"),
        "the last error is shown"
    );
    assert!(!panel.contains("n-sent"));
    assert!(
        panel.contains(&format!("({shown_max}+)")),
        "more than shown"
    );
}
