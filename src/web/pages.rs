//! The login page and the board (督办台账) with its filters, sorting, counts, marks and downloads.

use std::collections::BTreeSet;

use aggregates::actor::Role;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use infra::outbox::OutboxRow;
use infra::views::{BoardChoices, BoardSort};
use maud::{html, Markup};
use projections::board::{BoardItem, BoardRow, BoardView};

use super::i18n::Lang;
use super::layout::{page, role_label};
use super::{query_pairs, PageContext, PageError};
use crate::auth::Principal;
use crate::cursor::{self, CursorError, CursorScope};
use crate::http::AppState;
use crate::reading;
use crate::tables;
use crate::when::ReadAt;

/// The board panel shows at most this many dead notifications.
pub(crate) const DEAD_NOTICES_SHOWN_MAX: usize = 50;

/// `GET /login`: the login form. `next` (kept in a hidden field) is where the browser goes after;
/// `error` (set when a form login failed) says why the last attempt failed.
pub(crate) async fn login(context: PageContext, RawQuery(query): RawQuery) -> Response {
    let lang = context.lang;
    let pairs = query_pairs(query.as_deref());
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let next = value("next")
        .filter(|next| next.starts_with('/') && !next.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    let error = value("error");
    let person_id = value("person_id").unwrap_or_default();
    let error_text = error.as_deref().map(|code| match code {
        "unauthenticated" => lang.t("login.error.unauthenticated"),
        "forbidden" => lang.t("login.error.forbidden"),
        "throttled" => lang.t("login.error.throttled"),
        _ => lang.t("login.error.invalid"),
    });
    let body = html! {
        @if let (Some(code), Some(text)) = (&error, error_text) {
            p id="flash" class="error" data-code=(code) { (lang.t("login.failed")) ": " (text) }
        }
        form id="login" method="post" action="/login" class="command" {
            input type="hidden" name="next" value=(next);
            label { (lang.t("login.person_id")) " "
                input type="text" name="person_id" value=(person_id) required autocomplete="username"; }
            label { (lang.t("login.password")) " "
                input type="password" name="password" required autocomplete="current-password"; }
            label { (lang.t("login.role")) " "
                select name="role" {
                    option value="" { (lang.t("login.role_any")) }
                    @for role in Role::ALL {
                        option value=(role.as_str()) { (role_label(lang, role)) }
                    }
                }
            }
            button id="login-submit" type="submit" { (lang.t("login.submit")) }
        }
    };
    context.respond(StatusCode::OK, page(&context, lang.t("login.title"), body))
}

/// The board's filters and order, read from the query string (so a filtered view is a link).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BoardFilter {
    status: Option<String>,
    leader: Option<String>,
    lead_unit: Option<String>,
    kind: Option<String>,
    overdue: Option<bool>,
    due_soon: Option<bool>,
    sort: Option<BoardSort>,
    descending: bool,
    /// The cursor of the page shown (`after=`); the first page when `None`.
    after: Option<String>,
}

/// The order of two board items by one sort column (an as-of board, sorted in memory).
fn compare_by(column: BoardSort, a: &BoardItem, b: &BoardItem) -> std::cmp::Ordering {
    match column {
        BoardSort::ItemId => a.item_id.cmp(&b.item_id),
        BoardSort::Kind => a.kind.cmp(&b.kind),
        BoardSort::Status => a.status.cmp(&b.status),
        BoardSort::LeadUnit => a.lead_unit.cmp(&b.lead_unit),
        BoardSort::Leader => a.leader.cmp(&b.leader),
        BoardSort::Due => a.due.cmp(&b.due),
        BoardSort::DaysLeft => a.days_left.cmp(&b.days_left),
        BoardSort::LastActivity => a.last_activity_at.cmp(&b.last_activity_at),
    }
}

fn flag(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

impl BoardFilter {
    /// Reads the query string; an empty or unknown value means "any".
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let mut filter = BoardFilter::default();
        for (key, value) in query_pairs(query) {
            let text = Some(value.clone()).filter(|value| !value.is_empty());
            match key.as_str() {
                "status" => filter.status = text,
                "leader" => filter.leader = text,
                "lead_unit" => filter.lead_unit = text,
                "kind" => filter.kind = text,
                "overdue" => filter.overdue = flag(&value),
                "due_soon" => filter.due_soon = flag(&value),
                "sort" => filter.sort = BoardSort::parse(&value),
                "dir" => filter.descending = value == "desc",
                "after" => filter.after = text,
                _ => {}
            }
        }
        filter
    }

    fn keeps(&self, item: &BoardItem) -> bool {
        let is = |wanted: &Option<String>, value: Option<&String>| {
            wanted.as_ref().is_none_or(|wanted| value == Some(wanted))
        };
        is(&self.status, Some(&item.status))
            && is(&self.kind, Some(&item.kind))
            && is(&self.leader, item.leader.as_ref())
            && is(&self.lead_unit, item.lead_unit.as_ref())
            && self.overdue.is_none_or(|wanted| item.overdue == wanted)
            && self.due_soon.is_none_or(|wanted| item.due_soon == wanted)
    }

    /// The query string of these filters with `sort` and `dir` replaced (empty values left out).
    fn query(&self, sort: Option<BoardSort>, descending: bool) -> String {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let yes_no = |value: Option<bool>| value.map(|v| v.to_string()).unwrap_or_default();
        let pairs = [
            ("status", text(&self.status)),
            ("leader", text(&self.leader)),
            ("lead_unit", text(&self.lead_unit)),
            ("kind", text(&self.kind)),
            ("overdue", yes_no(self.overdue)),
            ("due_soon", yes_no(self.due_soon)),
            (
                "sort",
                sort.map(|s| s.name().to_owned()).unwrap_or_default(),
            ),
            (
                "dir",
                if descending && sort.is_some() {
                    "desc".to_owned()
                } else {
                    String::new()
                },
            ),
        ];
        let kept: Vec<(&str, String)> = pairs
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

impl BoardFilter {
    /// What a cursor of this board is bound to: its order and filters.
    fn cursor_scope(&self) -> CursorScope {
        CursorScope {
            sort: self.board_sort(),
            descending: self.descending && self.sort.is_some(),
            filters: self.query(None, false),
        }
    }

    fn board_sort(&self) -> BoardSort {
        self.sort.unwrap_or_default()
    }

    /// The page of the board this query shows, as `principal` may see it.
    fn request(&self, principal: &Principal) -> Result<reading::BoardRequest, CursorError> {
        let scope = self.cursor_scope();
        let after = self
            .after
            .as_deref()
            .map(|text| cursor::decode(&scope, text))
            .transpose()?;
        Ok(reading::BoardRequest {
            filters: infra::views::BoardFilters {
                deputy_id: (principal.role == Role::Deputy).then(|| principal.person_id.clone()),
                status: self.status.clone(),
                kind: self.kind.clone(),
                leader: self.leader.clone(),
                lead_unit: self.lead_unit.clone(),
                overdue: self.overdue,
                due_soon: self.due_soon,
            },
            sort: scope.sort,
            descending: scope.descending,
            after,
            limit: reading::BOARD_PAGE_ITEMS_DEFAULT,
            confirm_token: None,
        })
    }
}

/// How many items this page shows of how many, and the links to the first and the next page
/// (plain links: paging works without JavaScript).
fn pager(lang: Lang, view: &BoardView, filter: &BoardFilter, next: Option<&str>) -> Markup {
    let query = filter.query(filter.sort, filter.descending);
    let joined = |extra: String| {
        if query.is_empty() {
            format!("/?{extra}")
        } else {
            format!("/?{query}&{extra}")
        }
    };
    html! {
        nav id="board-pager" aria-label=(lang.t("board.pages")) {
            span id="board-page-count" data-shown=(view.items.len()) data-total=(view.summary.total) {
                (lang.t("board.page_shows")) " " (view.items.len()) " / " (view.summary.total)
            }
            @if filter.after.is_some() {
                " · " a id="board-first" href=(joined(String::new()).trim_end_matches(['&', '?']).to_owned()) {
                    (lang.t("board.first_page"))
                }
            }
            @if let Some(next) = next {
                " · " a id="board-next" rel="next" href=(joined(format!("after={next}"))) {
                    (lang.t("board.next_page"))
                }
            }
        }
    }
}

/// The rows a principal may see: a deputy only the items that name them (as in the API).
fn visible_to(principal: &Principal) -> impl Fn(&BoardRow) -> bool + '_ {
    move |row| principal.role != Role::Deputy || row.deputy_ids.contains(&principal.person_id)
}

/// The board the principal may see, live, judged now; and the same filtered and sorted.
async fn board_views(
    state: &AppState,
    principal: &Principal,
    filter: &BoardFilter,
) -> Result<(BoardView, BoardView), crate::reading::ReadError> {
    let visible = visible_to(principal);
    let all = reading::board_view(
        &state.stores,
        ReadAt::default(),
        &state.time_zone,
        &*state.clock,
        visible,
    )
    .await?;
    let mut shown = all.clone();
    shown.retain(|item| filter.keeps(item));
    if let Some(column) = filter.sort {
        shown.items.sort_by(|a, b| {
            let order = compare_by(column, a, b).then_with(|| a.item_id.cmp(&b.item_id));
            if filter.descending {
                order.reverse()
            } else {
                order
            }
        });
    }
    Ok((all, shown))
}

/// `GET /`: the board.
pub(crate) async fn board(
    State(state): State<AppState>,
    context: PageContext,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let principal = context.require()?;
    let lang = context.lang;
    let filter = BoardFilter::parse(query.as_deref());
    let request = filter
        .request(principal)
        .map_err(|error| PageError::Refused {
            lang,
            status: StatusCode::BAD_REQUEST,
            code: "invalid_cursor",
            detail: error.to_string(),
        })?;
    let (shown, next) = reading::board_page(
        &state.stores,
        ReadAt::default(),
        &state.time_zone,
        &*state.clock,
        &request,
        Some(&state.board_counts),
    )
    .await
    .map_err(|error| PageError::failed(lang, error))?;
    let next = next.map(|position| cursor::encode(&filter.cursor_scope(), &position));
    let deputy = (principal.role == Role::Deputy).then_some(principal.person_id.as_str());
    let choices = reading::board_choices(&state.stores, deputy)
        .await
        .map_err(|error| PageError::failed(lang, error))?;
    let dead = if principal.role == Role::Liaison {
        // One more than is shown, to know whether there are more.
        let rows = state
            .stores
            .outbox
            .dead(DEAD_NOTICES_SHOWN_MAX as u32 + 1)
            .await
            .map_err(|error| PageError::failed(lang, error))?;
        Some(rows)
    } else {
        None
    };
    let body = html! {
        (counts(lang, &shown))
        (filters(lang, &choices, &filter))
        p {
            a id="download-csv" href={ "/board.csv?" (filter.query(filter.sort, filter.descending)) } {
                (lang.t("board.download_csv"))
            }
            " · "
            a id="download-xlsx" href={ "/board.xlsx?" (filter.query(filter.sort, filter.descending)) } {
                (lang.t("board.download_xlsx"))
            }
        }
        (board_table(lang, &shown, &filter))
        (pager(lang, &shown, &filter, next.as_deref()))
        @if let Some(rows) = &dead {
            (dead_notices(lang, rows))
        }
    };
    Ok(context.respond(StatusCode::OK, page(&context, lang.t("board.title"), body)))
}

fn counts(lang: Lang, view: &BoardView) -> Markup {
    let summary = &view.summary;
    let entries = [
        ("total", "count.total", summary.total),
        ("open", "count.open", summary.open),
        ("answered", "count.answered", summary.answered),
        ("overdue", "count.overdue", summary.overdue),
        ("due_soon", "count.due_soon", summary.due_soon),
        ("closed", "count.closed", summary.closed),
    ];
    html! {
        dl id="board-counts" class="counts" {
            @for (name, key, value) in entries {
                div { dt { (lang.t(key)) } dd data-count=(name) { (value) } }
            }
        }
        p id="board-verdict" data-all-due-answered=(summary.all_due_answered) {
            @if summary.all_due_answered {
                (lang.t("board.all_due_answered"))
            } @else {
                strong { (lang.t("board.some_due_unanswered")) }
            }
            " " (lang.t("board.as_of")) " "
            (view.as_of_position.map(|p| p.to_string()).unwrap_or_else(|| "—".to_owned()))
            " · " (lang.t("board.judged_at")) " " span title=(view.now) { (to_the_minute(&view.now)) }
        }
    }
}

fn select(
    lang: Lang,
    name: &str,
    label_key: &str,
    options: &[(String, String)],
    chosen: Option<&str>,
) -> Markup {
    html! {
        label { (lang.t(label_key)) " "
            select name=(name) {
                option value="" { (lang.t("board.filter.any")) }
                @for (value, label) in options {
                    option value=(value) selected[chosen == Some(value.as_str())] { (label) }
                }
            }
        }
    }
}

fn filters(lang: Lang, choices: &BoardChoices, filter: &BoardFilter) -> Markup {
    let set = |values: &[String]| -> BTreeSet<String> { values.iter().cloned().collect() };
    let statuses = set(&choices.statuses);
    let kinds = set(&choices.kinds);
    let leaders = set(&choices.leaders);
    let units = set(&choices.lead_units);
    let labelled = |prefix: &str, values: BTreeSet<String>| -> Vec<(String, String)> {
        values
            .into_iter()
            .map(|value| (value.clone(), lang.label(prefix, &value)))
            .collect()
    };
    let plain = |values: BTreeSet<String>| -> Vec<(String, String)> {
        values
            .into_iter()
            .map(|value| (value.clone(), value))
            .collect()
    };
    let yes_no = vec![
        ("true".to_owned(), lang.t("board.filter.yes").to_owned()),
        ("false".to_owned(), lang.t("board.filter.no").to_owned()),
    ];
    let flag_text = |value: Option<bool>| value.map(|v| v.to_string());
    html! {
        form id="board-filters" class="filters" method="get" action="/" {
            strong { (lang.t("board.filters")) ": " }
            (select(lang, "status", "col.status", &labelled("status", statuses), filter.status.as_deref()))
            (select(lang, "leader", "col.leader", &plain(leaders), filter.leader.as_deref()))
            (select(lang, "lead_unit", "col.lead_unit", &plain(units), filter.lead_unit.as_deref()))
            (select(lang, "kind", "col.kind", &labelled("kind", kinds), filter.kind.as_deref()))
            (select(lang, "overdue", "col.overdue", &yes_no, flag_text(filter.overdue).as_deref()))
            (select(lang, "due_soon", "col.due_soon", &yes_no, flag_text(filter.due_soon).as_deref()))
            @if let Some(sort) = filter.sort {
                input type="hidden" name="sort" value=(sort.name());
                @if filter.descending { input type="hidden" name="dir" value="desc"; }
            }
            button id="board-filter-submit" type="submit" { (lang.t("board.filter.apply")) }
            " " a href="/" { (lang.t("board.filter.clear")) }
        }
    }
}

/// A mark for an item that is due and unanswered: words and a style, never colour alone.
pub(crate) fn due_mark(lang: Lang, item: &BoardItem) -> Markup {
    html! {
        @if item.overdue {
            span class="flag overdue" data-flag="overdue" { "⚠ " (lang.t("flag.overdue")) }
        } @else if item.due_soon {
            span class="flag due-soon" data-flag="due_soon" { "⏳ " (lang.t("flag.due_soon")) }
        }
    }
}

fn sort_header(lang: Lang, filter: &BoardFilter, column: BoardSort, key: &str) -> Markup {
    let active = filter.sort == Some(column);
    let descending = active && !filter.descending;
    let arrow = match (active, filter.descending) {
        (false, _) => "",
        (true, false) => " ▲",
        (true, true) => " ▼",
    };
    let order = if filter.descending {
        lang.t("sort.descending")
    } else {
        lang.t("sort.ascending")
    };
    html! {
        th aria-sort=(if !active { "none" } else if filter.descending { "descending" } else { "ascending" }) {
            a href={ "/?" (filter.query(Some(column), descending)) } { (lang.t(key)) (arrow) }
            @if active { span class="visually-hidden" hidden { " (" (order) ")" } }
        }
    }
}

fn board_table(lang: Lang, view: &BoardView, filter: &BoardFilter) -> Markup {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    html! {
        table id="board" {
            thead { tr {
                (sort_header(lang, filter, BoardSort::ItemId, "col.item_id"))
                th { (lang.t("col.title")) }
                (sort_header(lang, filter, BoardSort::Kind, "col.kind"))
                (sort_header(lang, filter, BoardSort::Status, "col.status"))
                th { (lang.t("col.deputies")) }
                (sort_header(lang, filter, BoardSort::LeadUnit, "col.lead_unit"))
                (sort_header(lang, filter, BoardSort::Leader, "col.leader"))
                (sort_header(lang, filter, BoardSort::Due, "col.due"))
                (sort_header(lang, filter, BoardSort::DaysLeft, "col.days_left"))
                th { (lang.t("col.flag")) }
                th { (lang.t("col.class")) }
                th { (lang.t("col.rating")) }
                (sort_header(lang, filter, BoardSort::LastActivity, "col.last_activity_at"))
            } }
            tbody {
                @for item in &view.items {
                    tr data-item-id=(item.item_id) data-status=(item.status)
                        class=(if item.overdue { "overdue" } else if item.due_soon { "due-soon" } else { "" }) {
                        td { a href=(super::item_path(&item.item_id)) { (item.item_id) } }
                        td { a href=(super::item_path(&item.item_id)) { (item.title) } }
                        td { (lang.label("kind", &item.kind)) }
                        td { (lang.label("status", &item.status)) }
                        td { (item.deputies.join("、")) }
                        td { (text(&item.lead_unit)) }
                        td { (text(&item.leader)) }
                        td { (item.due.map(|due| due.to_string()).unwrap_or_default()) }
                        td { (item.days_left.map(|days| days.to_string()).unwrap_or_default()) }
                        td { (due_mark(lang, item)) }
                        td { (text(&item.class)) }
                        td { (item.rating.as_deref().map(|r| lang.label("rating", r)).unwrap_or_default()) }
                        td title=(item.last_activity_at) { (to_the_minute(&item.last_activity_at)) }
                    }
                }
            }
        }
        @if view.items.is_empty() {
            p id="board-empty" { (lang.t("board.empty")) }
        }
    }
}

/// An RFC 3339 moment as its local date and time to the minute (`2026-05-29 09:30`), as a clerk
/// reads it; anything else is shown as it is.
fn to_the_minute(at: &str) -> String {
    match at.get(..16) {
        Some(minute) if at.as_bytes().get(10) == Some(&b'T') => minute.replacen('T', " ", 1),
        _ => at.to_owned(),
    }
}

/// The newest dead notifications (at most [`DEAD_NOTICES_SHOWN_MAX`] of `dead`, which may hold
/// one more), each with its last error.
fn dead_notices(lang: Lang, dead: &[(OutboxRow, Option<String>)]) -> Markup {
    html! {
        section id="dead-notifications" {
            h2 { (lang.t("dead.title")) " (" (dead.len().min(DEAD_NOTICES_SHOWN_MAX)) @if dead.len() > DEAD_NOTICES_SHOWN_MAX { "+" } ")" }
            @if dead.is_empty() {
                p { (lang.t("dead.none")) }
            } @else {
                p { (lang.t("dead.explain")) }
                table {
                    thead { tr {
                        th { (lang.t("dead.id")) } th { (lang.t("dead.kind")) }
                        th { (lang.t("dead.item")) } th { (lang.t("dead.recipient")) }
                        th { (lang.t("dead.channel")) } th { (lang.t("dead.attempts")) }
                        th { (lang.t("dead.subject")) } th { (lang.t("dead.error")) }
                    } }
                    tbody {
                        @for (row, error) in dead.iter().take(DEAD_NOTICES_SHOWN_MAX) {
                            tr data-notice-id=(row.entry.id) {
                                td { code { (row.entry.id) } }
                                td { (row.entry.kind) }
                                td { @if let Some(item) = &row.entry.item_id {
                                    a href=(super::item_path(item)) { (item) }
                                } }
                                td { (row.entry.recipient) " " (row.entry.address.as_deref().unwrap_or("")) }
                                td { (row.entry.channel) }
                                td { (row.attempts) }
                                td { (row.entry.subject) }
                                td class="dead-error" { (error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                @if dead.len() > DEAD_NOTICES_SHOWN_MAX { p { (lang.t("dead.more")) } }
            }
        }
    }
}

fn download(content_type: &'static str, file_name: &'static str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

/// A CSV answer (UTF-8 with a byte order mark, so spreadsheet programs read the Chinese).
pub(crate) fn csv_download(file_name: &'static str, text: String) -> Response {
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(text.into_bytes());
    download("text/csv; charset=utf-8", file_name, body)
}

/// An XLSX answer.
pub(crate) fn xlsx_download(file_name: &'static str, body: Vec<u8>) -> Response {
    download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        file_name,
        body,
    )
}

/// The board the principal may see, filtered and sorted by `query` as on `/`, for a download.
async fn board_download(
    state: &AppState,
    context: &PageContext,
    query: Option<&str>,
) -> Result<BoardView, PageError> {
    let principal = context.require()?;
    let filter = BoardFilter::parse(query);
    let (_, shown) = board_views(state, principal, &filter)
        .await
        .map_err(|error| PageError::failed(context.lang, error))?;
    Ok(shown)
}

/// `GET /board.csv`: the board as filtered and sorted by the same query as `/`.
pub(crate) async fn board_csv(
    State(state): State<AppState>,
    context: PageContext,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let shown = board_download(&state, &context, query.as_deref()).await?;
    let text =
        tables::board_csv(&shown).map_err(|error| PageError::internal(context.lang, error))?;
    Ok(csv_download("board.csv", text))
}

/// `GET /board.xlsx`: the board as filtered and sorted by the same query as `/`.
pub(crate) async fn board_xlsx(
    State(state): State<AppState>,
    context: PageContext,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let shown = board_download(&state, &context, query.as_deref()).await?;
    let body =
        tables::board_xlsx(&shown).map_err(|error| PageError::internal(context.lang, error))?;
    Ok(xlsx_download("board.xlsx", body))
}

#[cfg(test)]
mod tests {
    use super::to_the_minute;

    #[test]
    fn a_moment_is_shown_to_the_minute_in_its_own_local_time() {
        assert_eq!(
            to_the_minute("2026-11-26T12:58:15.082598629+08:00"),
            "2026-11-26 12:58"
        );
        assert_eq!(to_the_minute("2026-11-26T12:58+08:00"), "2026-11-26 12:58");
    }

    #[test]
    fn what_is_not_a_moment_is_shown_as_it_is() {
        assert_eq!(to_the_minute(""), "");
        assert_eq!(to_the_minute("yesterday, at noon"), "yesterday, at noon");
    }
}
