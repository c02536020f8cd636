//! The board a page at a time (`/api/board?limit=&after=`): pages cover the filtered board once,
//! in order, with every sort and filter, also while items are filed between pages; the live
//! pages (read from `board_rows`) equal the pages of the same board folded in memory (`as_of`),
//! summary included; cursors and limits are checked; a deputy sees only their items on every page.

use std::collections::BTreeSet;
use std::sync::Arc;

use ::commands::{Clock, Ledger, Submitted};
use aggregates::actor::{Actor, Role};
use aggregates::rules::Rules;
use infra::store::open_stores;

use axum::http::StatusCode;
use libtest_mimic::Trial;
use serde_json::Value;

use super::{answered_item, assigned_item, file, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "http",
        "board_pages_in_every_order_and_filter_equal_the_board_folded_in_memory",
        board_pages_in_every_order_and_filter_equal_the_board_folded_in_memory,
    ));
    trials.extend(on_both(
        "http",
        "board_pages_cover_the_board_once_in_order_while_items_are_filed_between_pages",
        board_pages_cover_the_board_once_in_order_while_items_are_filed_between_pages,
    ));
    trials.extend(on_both(
        "http",
        "a_garbled_or_foreign_cursor_and_a_bad_limit_are_refused_with_codes",
        a_garbled_or_foreign_cursor_and_a_bad_limit_are_refused_with_codes,
    ));
    trials.extend(on_both(
        "http",
        "migration_0050_fills_an_existing_boards_columns_as_the_projection_writes_them",
        migration_0050_fills_an_existing_boards_columns_as_the_projection_writes_them,
    ));
    trials.extend(on_both(
        "http",
        "a_deputy_sees_only_their_own_items_on_every_page",
        a_deputy_sees_only_their_own_items_on_every_page,
    ));
    trials.extend(on_both(
        "http",
        "a_board_page_shows_what_another_process_committed_before_it_was_asked",
        a_board_page_shows_what_another_process_committed_before_it_was_asked,
    ));
    trials.extend(on_both(
        "http",
        "a_token_revoked_through_another_process_is_refused_on_the_next_page",
        a_token_revoked_through_another_process_is_refused_on_the_next_page,
    ));
    trials
}

const SORTS: [&str; 8] = [
    "item_id",
    "kind",
    "status",
    "lead_unit",
    "leader",
    "due",
    "days_left",
    "last_activity_at",
];

/// Twelve items in several states: filed (triage overdue on 2024-06-01), assigned (due soon),
/// answered; ids out of filing order, deputies d-1 and d-2 alternating.
async fn twelve_items(api: &Api, cast: &Cast) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..12_u32 {
        let id = format!("P-{:02}", (n * 7) % 12);
        let deputy = if n % 2 == 0 { "d-1" } else { "d-2" };
        match n % 4 {
            0 => answered_item(api, cast, &id, deputy).await,
            1 => assigned_item(api, cast, &id, deputy).await,
            _ => api
                .command(&cast.liaison, &file(&id, deputy))
                .await
                .expect(StatusCode::OK, None),
        }
        ids.push(id);
    }
    ids.sort();
    ids
}

fn ids(board: &Value) -> Vec<String> {
    board["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["item_id"].as_str().map(str::to_owned))
        .collect()
}

/// An item's sort value as `board_rows` holds it ("" for none).
fn sort_value(item: &Value, sort: &str) -> String {
    let text = |name: &str| item[name].as_str().unwrap_or("").to_owned();
    match sort {
        "days_left" if item["days_left"].is_null() => String::new(),
        "days_left" => text("due"),
        other => text(other),
    }
}

/// Every page of `query`, `limit` items at a time: `between` runs after each page.
async fn all_pages(
    api: &Api,
    token: &str,
    query: &str,
    limit: u32,
    mut between: impl FnMut(usize) -> Option<String>,
) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = format!("/api/board?limit={limit}{query}");
        if let Some(cursor) = &after {
            path.push_str(&format!("&after={cursor}"));
        }
        let page = api.get(&path, Some(token)).await;
        page.expect(StatusCode::OK, None);
        assert!(ids(&page.body).len() <= limit as usize, "{path}");
        let next = page.body["page"]["next"].as_str().map(str::to_owned);
        assert_eq!(page.body["page"]["has_more"], next.is_some(), "{path}");
        pages.push(page.body);
        assert!(pages.len() <= 100, "paging does not end: {path}");
        if let Some(item) = between(pages.len()) {
            api.command(token, &file(&item, "d-1"))
                .await
                .expect(StatusCode::OK, None);
        }
        match next {
            Some(cursor) => after = Some(cursor),
            None => return pages,
        }
    }
}

fn in_order(items: &[Value], sort: &str, descending: bool) {
    for pair in items.windows(2) {
        let key = |item: &Value| {
            (
                sort_value(item, sort),
                item["item_id"].as_str().map(str::to_owned),
            )
        };
        let (a, b) = (key(&pair[0]), key(&pair[1]));
        if descending {
            assert!(a > b, "{sort} desc: {a:?} then {b:?}");
        } else {
            assert!(a < b, "{sort} asc: {a:?} then {b:?}");
        }
    }
}

async fn board_pages_in_every_order_and_filter_equal_the_board_folded_in_memory(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let all_ids = twelve_items(&api, &cast).await;
    let whole = api
        .get("/api/board?limit=1000&now=2024-06-01", Some(&cast.office))
        .await;
    let head = whole.body["as_of_position"].as_u64().expect("a position");
    assert_eq!(ids(&whole.body), all_ids);
    let filters = [
        "",
        "&status=filed",
        "&overdue=true",
        "&due_soon=false",
        "&kind=suggestion&overdue=false",
        "&leader=%E9%99%88%E7%AB%8B%E6%96%B0&due_soon=true",
    ];
    for filter in filters {
        for sort in SORTS {
            for dir in ["asc", "desc"] {
                let query = format!("&now=2024-06-01&sort={sort}&dir={dir}{filter}");
                let live = all_pages(&api, &cast.office, &query, 5, |_| None).await;
                let folded = all_pages(
                    &api,
                    &cast.office,
                    &format!("{query}&as_of={head}"),
                    5,
                    |_| None,
                )
                .await;
                // The same items, summary and cursors, page by page (`now` is the same text).
                assert_eq!(live, folded, "{query}");
                let items: Vec<Value> = live
                    .iter()
                    .flat_map(|page| page["items"].as_array().cloned().unwrap_or_default())
                    .collect();
                in_order(&items, sort, dir == "desc");
                let everything = api
                    .get(&format!("/api/board?limit=1000{query}"), Some(&cast.office))
                    .await;
                // Counts are over the whole filtered board, on every page.
                for page in &live {
                    assert_eq!(page["summary"], everything.body["summary"], "{query}");
                }
                assert_eq!(everything.body["summary"]["total"], items.len(), "{query}");
            }
        }
    }
}

async fn board_pages_cover_the_board_once_in_order_while_items_are_filed_between_pages(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let before = twelve_items(&api, &cast).await;
    for (sort, dir) in [("item_id", "asc"), ("due", "desc"), ("status", "asc")] {
        let query = format!("&now=2024-06-01&sort={sort}&dir={dir}");
        // After each page, an item is filed whose id sorts before, among and after the rest.
        let pages = all_pages(&api, &cast.liaison, &query, 4, |page| {
            Some(format!(
                "{}-{sort}-{dir}-{page}",
                ["A", "P-05x", "Z"][page % 3]
            ))
        })
        .await;
        // Each page counts the board as it is when that page is read (never a stale count).
        let filed_before = api.get("/api/board?limit=1", Some(&cast.liaison)).await;
        let total_now = filed_before.body["summary"]["total"]
            .as_u64()
            .expect("total");
        let total_at_start = total_now - pages.len() as u64;
        for (number, page) in pages.iter().enumerate() {
            assert_eq!(
                page["summary"]["total"],
                total_at_start + number as u64,
                "page {number} of {sort} {dir}"
            );
        }
        let items: Vec<Value> = pages
            .iter()
            .flat_map(|page| page["items"].as_array().cloned().unwrap_or_default())
            .collect();
        let seen: Vec<String> = items
            .iter()
            .filter_map(|item| item["item_id"].as_str().map(str::to_owned))
            .collect();
        let distinct: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(distinct.len(), seen.len(), "no item twice: {seen:?}");
        for id in &before {
            assert!(
                seen.contains(id),
                "{id} was on the board before paging: {seen:?}"
            );
        }
        in_order(&items, sort, dir == "desc");
    }
}

async fn a_garbled_or_foreign_cursor_and_a_bad_limit_are_refused_with_codes(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    twelve_items(&api, &cast).await;
    let first = api
        .get("/api/board?limit=5&sort=due", Some(&cast.office))
        .await;
    first.expect(StatusCode::OK, None);
    assert_eq!(ids(&first.body).len(), 5);
    assert_eq!(first.body["summary"]["total"], 12);
    let cursor = first.body["page"]["next"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = api
        .get(
            &format!("/api/board?limit=5&sort=due&after={cursor}"),
            Some(&cast.office),
        )
        .await;
    next.expect(StatusCode::OK, None);
    let mut garbled = cursor.clone();
    garbled.replace_range(3..4, if &cursor[3..4] == "A" { "B" } else { "A" });
    for (query, code) in [
        (format!("sort=due&after={garbled}"), "invalid_cursor"),
        ("sort=due&after=not-a-cursor".to_owned(), "invalid_cursor"),
        ("sort=due&after=%F0%9F%98%80".to_owned(), "invalid_cursor"),
        // The cursor of another order, or of other filters.
        (format!("sort=kind&after={cursor}"), "invalid_cursor"),
        (
            format!("sort=due&dir=desc&after={cursor}"),
            "invalid_cursor",
        ),
        (
            format!("sort=due&status=filed&after={cursor}"),
            "invalid_cursor",
        ),
        ("limit=0".to_owned(), "invalid_limit"),
        ("limit=1001".to_owned(), "invalid_limit"),
        ("limit=-1".to_owned(), "invalid_limit"),
        ("limit=ten".to_owned(), "invalid_limit"),
        ("sort=title".to_owned(), "invalid"),
        ("dir=up".to_owned(), "invalid"),
    ] {
        api.get(&format!("/api/board?{query}"), Some(&cast.office))
            .await
            .expect(StatusCode::BAD_REQUEST, Some(code));
    }
    let most = api.get("/api/board?limit=1000", Some(&cast.office)).await;
    most.expect(StatusCode::OK, None);
    assert_eq!(most.body["page"]["has_more"], false);
    let default = api.get("/api/board", Some(&cast.office)).await;
    assert_eq!(default.body["page"]["limit"], 100);
}

async fn a_deputy_sees_only_their_own_items_on_every_page(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let all_ids = twelve_items(&api, &cast).await;
    for (token, deputy) in [(&cast.deputy, "d-1"), (&cast.other_deputy, "d-2")] {
        let pages = all_pages(&api, token, "&sort=status", 2, |_| None).await;
        let office = api.get("/api/board?limit=1000", Some(&cast.office)).await;
        let theirs: BTreeSet<String> = office.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|item| item["deputies"][0] == format!("代表{deputy}"))
            .filter_map(|item| item["item_id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(theirs.len(), 6);
        let seen: Vec<String> = pages.iter().flat_map(ids).collect();
        assert_eq!(
            seen.iter().cloned().collect::<BTreeSet<_>>(),
            theirs,
            "{deputy}"
        );
        assert_eq!(seen.len(), 6);
        for page in &pages {
            assert_eq!(page["summary"]["total"], 6, "counted: only their items");
        }
    }
    assert_eq!(all_ids.len(), 12);
}

/// The statements of migration 0050 that fill `board_rows` and `board_deputies` from the JSON
/// rows (everything from its `INSERT INTO board_rows`).
fn fill_statements(postgres: bool) -> &'static str {
    let migration = if postgres {
        include_str!("../../infra/migrations/postgres/0050_board_rows.sql")
    } else {
        include_str!("../../infra/migrations/sqlite/0050_board_rows.sql")
    };
    let start = migration.find("INSERT INTO board_rows").expect("the fill");
    &migration[start..]
}

const BOARD_COLUMNS_AS_TEXT: &str = "SELECT item_id || '|' || kind || '|' || status || '|' || \
    lead_unit || '|' || leader || '|' || due || '|' || awaiting_due || '|' || \
    COALESCE(CAST(answered_on_time AS TEXT), '-') || '|' || CAST(is_open AS TEXT) || '|' || \
    CAST(is_closed AS TEXT) || '|' || CAST(awaits_answer AS TEXT) || '|' || last_activity_at \
    FROM board_rows ORDER BY item_id";
const BOARD_DEPUTIES_AS_TEXT: &str =
    "SELECT deputy_id || '|' || item_id FROM board_deputies ORDER BY deputy_id, item_id";

async fn migration_0050_fills_an_existing_boards_columns_as_the_projection_writes_them(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    twelve_items(&api, &cast).await;
    // The board as the projection wrote it.
    api.get("/api/board", Some(&cast.office))
        .await
        .expect(StatusCode::OK, None);
    let postgres = db.url.starts_with("postgres");
    let read = |sql: &'static str| {
        let url = db.url.clone();
        async move {
            if url.starts_with("postgres") {
                let pool = sqlx::PgPool::connect(&url).await.expect("connect");
                let rows: Vec<String> = sqlx::query_scalar(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("read");
                pool.close().await;
                rows
            } else {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
                let rows: Vec<String> = sqlx::query_scalar(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("read");
                pool.close().await;
                rows
            }
        }
    };
    let written = (
        read(BOARD_COLUMNS_AS_TEXT).await,
        read(BOARD_DEPUTIES_AS_TEXT).await,
    );
    assert_eq!(written.0.len(), 12);
    assert_eq!(written.1.len(), 12);
    // A ledger from before the migration: JSON rows only; then the migration's fill.
    let refill = format!(
        "DELETE FROM board_deputies; DELETE FROM board_rows; {}",
        fill_statements(postgres)
    );
    if postgres {
        let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
        sqlx::raw_sql(&refill).execute(&pool).await.expect("refill");
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await.expect("connect");
        sqlx::raw_sql(&refill).execute(&pool).await.expect("refill");
        pool.close().await;
    }
    let filled = (
        read(BOARD_COLUMNS_AS_TEXT).await,
        read(BOARD_DEPUTIES_AS_TEXT).await,
    );
    assert_eq!(
        filled, written,
        "the migration's fill = the projection's columns"
    );
    // And `huiyin rebuild` writes the same columns again.
    let rebuilt = std::process::Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .args(["--db", &db.url, "rebuild", "--quiet"])
        .output()
        .expect("huiyin runs");
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    let after_rebuild = (
        read(BOARD_COLUMNS_AS_TEXT).await,
        read(BOARD_DEPUTIES_AS_TEXT).await,
    );
    assert_eq!(
        after_rebuild, written,
        "a rebuild's columns = the live projection's"
    );
}

/// The server's process knows nothing of what another process appends (no runner, no
/// notification in this router): a page must still show it, since the page's own statement
/// reads the log's head with the board. Each page is asked right after the other process's
/// command returned, with a token the server has cached since the first page.
async fn a_board_page_shows_what_another_process_committed_before_it_was_asked(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let deputy = api.token("d-9", Role::Deputy).await;
    // The other process: its own connection pool (`db.store`) and its own ledger.
    let elsewhere = Ledger::new(Arc::clone(&db.store), Rules::default(), api.clock.clone());
    let liaison = Actor {
        id: "liaison-01".to_owned(),
        role: Role::Liaison,
    };
    for n in 0..3_u64 {
        let all = api.get("/api/board?limit=2", Some(&cast.office)).await;
        all.expect(StatusCode::OK, None);
        assert_eq!(all.body["summary"]["total"], n);
        let own = api.get("/api/board", Some(&deputy)).await;
        own.expect(StatusCode::OK, None);
        assert_eq!(ids(&own.body).len() as u64, n, "{:#}", own.body);
        let item = format!("X-{n}");
        let submitted = Submitted::parse(&file(&item, "d-9").to_string()).expect("command");
        elsewhere
            .execute(&submitted, &format!("{item}-file"), Some(&liaison))
            .await
            .expect("filed by the other process");
        let all = api.get("/api/board?limit=2", Some(&cast.office)).await;
        all.expect(StatusCode::OK, None);
        assert_eq!(all.body["summary"]["total"], n + 1, "{:#}", all.body);
        let own = api.get("/api/board", Some(&deputy)).await;
        own.expect(StatusCode::OK, None);
        assert!(ids(&own.body).contains(&item), "{:#}", own.body);
        assert_eq!(own.body["summary"]["total"], n + 1, "{:#}", own.body);
    }
}

/// A board page may take its token from the server's cache, but the page's own statement reads
/// whether it is still unrevoked: a token revoked by another process (its own pool) is refused on
/// the very next page, live or as of a moment.
async fn a_token_revoked_through_another_process_is_refused_on_the_next_page(db: Fresh) {
    let api = Api::new(&db).await;
    let live = api.token("office-01", Role::CourtOffice).await;
    let as_of = api.token("office-02", Role::CourtOffice).await;
    for token in [&live, &as_of] {
        // The first page looks the token up and caches it; the second uses the cache.
        for _ in 0..2 {
            api.get("/api/board", Some(token))
                .await
                .expect(StatusCode::OK, None);
        }
    }
    let elsewhere = open_stores(&db.url)
        .await
        .expect("another process's stores");
    for token in [&live, &as_of] {
        let digest = huiyin::auth::secret::digest(token);
        let stored = elsewhere
            .credentials
            .token(&digest)
            .await
            .expect("lookup")
            .expect("stored");
        assert!(elsewhere
            .credentials
            .revoke_token(&stored.token_id, api.clock.now())
            .await
            .expect("revoke"));
    }
    for path in ["/api/board", "/api/board?limit=1&sort=due"] {
        let refused = api.get(path, Some(&live)).await;
        refused.expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .is_some_and(|message| message.contains("revoked")),
            "{:#}",
            refused.body
        );
    }
    api.get("/api/board?as_of=1", Some(&as_of))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    api.get("/api/board", Some(&as_of))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}
