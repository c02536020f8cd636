//! The ledger's routes: one command in, the board, an item, its trail and the figures out.

use aggregates::actor::Role;
use axum::extract::State;
use axum::Json;
use infra::views::BoardSort;
use projections::board::{BoardItem, BoardView, PageInfo};
use projections::figures::Figures;
use projections::trail::Trail;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{token_looked_up_again, ApiJson, ApiPath, ApiQuery, PageCaller};
use super::AppState;
use crate::auth::Principal;
use crate::cursor::{self, CursorScope};
use crate::reading;
use crate::when::{parse_moment, ReadAt};

/// One command, as DESIGN.md §4 writes it, without `actor` and `role`: over HTTP the person and
/// the role come from the credential only, and a command that names either is refused (422) so
/// that no client believes it acted as someone else.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The idempotency key: the same id again returns the first result and appends nothing. A
    /// fresh one is made when it is left out.
    pub command_id: Option<String>,
    /// The command, e.g. `FileItem`.
    #[serde(rename = "type")]
    pub command_type: String,
    /// Business time, RFC 3339 with offset; defaults to now.
    pub at: Option<String>,
    /// The command's fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
    /// Refused: the actor is the credential's person.
    #[schema(ignore)]
    pub actor: Option<Value>,
    /// Refused: the role is the credential's.
    #[schema(ignore)]
    pub role: Option<Value>,
}

/// What an accepted command did (the same line `huiyin exec` prints).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandResult {
    /// Always true.
    pub ok: bool,
    /// The command's idempotency key.
    pub command_id: String,
    /// The stream it wrote, `item/<id>`.
    pub stream: String,
    /// The positions of its records.
    pub positions: Vec<u64>,
    /// The leaf hashes of its records, hex.
    pub hashes: Vec<String>,
    /// True when this repeated a command already recorded; nothing new was appended.
    pub replayed: bool,
}

/// Runs one command as the credential's person, in the credential's role.
#[utoipa::path(post, path = "/api/commands", tag = "ledger",
    request_body = CommandRequest,
    responses(
        (status = 200, description = "Accepted (or a repeat of an accepted command)", body = CommandResult),
        (status = 400, description = "`invalid`: the body is not JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid credential", body = ErrorBody),
        (status = 403, description = "`forbidden`: the role may not issue it, the item does not name this deputy, or an auditor", body = ErrorBody),
        (status = 404, description = "`not_found`: no such item or commitment", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned; the command may still have been recorded, and sending the same command_id again tells its outcome", body = ErrorBody),
        (status = 409, description = "`wrong_state`, `conflict` (retry) or `duplicate` (the id was used by another command)", body = ErrorBody),
        (status = 413, description = "`too_large`: over 64 KiB", body = ErrorBody),
        (status = 415, description = "`invalid`: not application/json", body = ErrorBody),
        (status = 422, description = "`invalid` (a bad, missing or unknown field, or actor/role given) or `unknown_command`", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; nothing is half done, and sending the same command_id again is safe", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn post_command(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CommandRequest>,
) -> Result<Json<CommandResult>, ApiError> {
    execute_counted(&state, &principal, request).await.map(Json)
}

/// Runs one command as `principal` and counts its outcome for `/metrics`: the one path of
/// `POST /api/commands` and of the web pages' forms.
pub(crate) async fn execute_counted(
    state: &AppState,
    principal: &Principal,
    request: CommandRequest,
) -> Result<CommandResult, ApiError> {
    let outcome = run_command(state, principal, request).await;
    state.metrics.command(match &outcome {
        Ok(result) if result.replayed => "replayed",
        Ok(_) => "ok",
        Err(error) if error.status_and_code().0.is_server_error() => "failed",
        Err(error) => error.status_and_code().1,
    });
    outcome
}

async fn run_command(
    state: &AppState,
    principal: &Principal,
    request: CommandRequest,
) -> Result<CommandResult, ApiError> {
    // The domain refuses an auditor every command too; this says so before anything is parsed,
    // and keeps holding for commands the domain adds later.
    if principal.role == Role::Auditor {
        return Err(ApiError::Forbidden(
            "an auditor reads, replays and verifies; an auditor changes nothing".to_owned(),
        ));
    }
    if request.actor.is_some() || request.role.is_some() {
        return Err(ApiError::Invalid(
            "actor and role come from your credential; leave them out of the command".to_owned(),
        ));
    }
    let command_id = request
        .command_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let submitted = commands::Submitted {
        command_id: Some(command_id.clone()),
        command_type: request.command_type,
        at: request.at,
        data: request.data,
        actor: None,
        role: None,
    };
    let outcome = state
        .writer
        .execute(&submitted, &command_id, Some(&principal.actor()))
        .await?;
    Ok(CommandResult {
        ok: true,
        command_id: outcome.command_id,
        stream: outcome.stream,
        positions: outcome.positions,
        hashes: outcome.hashes.iter().map(|hash| hash.to_hex()).collect(),
        replayed: outcome.replayed,
    })
}

/// Which board: as of when, judged when, which items, in what order, which page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// The board as the ledger knew it at a position (a number) or a time (RFC 3339 or a date).
    pub as_of: Option<String>,
    /// When due-soon and overdue are judged (RFC 3339 or a date); default the as-of moment, else now.
    pub now: Option<String>,
    /// Only items with this status (`assigned`, `answered`, …).
    pub status: Option<String>,
    /// Only items of this responsible leader (by name).
    pub leader: Option<String>,
    /// Only items of this lead unit.
    pub lead_unit: Option<String>,
    /// Only items of this kind (`suggestion`, …).
    pub kind: Option<String>,
    /// Only overdue items (`true`) or only items that are not (`false`).
    pub overdue: Option<bool>,
    /// Only items due soon (`true`) or only items that are not (`false`).
    pub due_soon: Option<bool>,
    /// The order: `item_id` (default), `kind`, `status`, `lead_unit`, `leader`, `due`,
    /// `days_left`, `last_activity_at`; ties by item id. Items without a value come first.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub dir: Option<String>,
    /// Items per page: 1 to 1,000, default 100.
    pub limit: Option<String>,
    /// The cursor of the page to show: `page.next` of the page before (opaque).
    pub after: Option<String>,
}

impl BoardQuery {
    /// The filters as a canonical text the cursor is bound to.
    fn filters_text(&self) -> String {
        let flag = |value: Option<bool>| value.map(|v| v.to_string()).unwrap_or_default();
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        serde_urlencoded::to_string([
            ("status", text(&self.status)),
            ("leader", text(&self.leader)),
            ("lead_unit", text(&self.lead_unit)),
            ("kind", text(&self.kind)),
            ("overdue", flag(self.overdue)),
            ("due_soon", flag(self.due_soon)),
        ])
        .unwrap_or_default()
    }

    /// The page this query asks for, as `principal` may see it (a deputy: their own items).
    ///
    /// # Errors
    /// 400 `invalid` for an unknown sort or dir, `invalid_limit`, `invalid_cursor`.
    pub(crate) fn request(
        &self,
        principal: &Principal,
    ) -> Result<(reading::BoardRequest, CursorScope), ApiError> {
        let sort = match self.sort.as_deref() {
            None | Some("") => BoardSort::ItemId,
            Some(text) => BoardSort::parse(text).ok_or_else(|| {
                ApiError::Malformed(format!(
                    "sort must be one of {}",
                    BoardSort::ALL.map(BoardSort::name).join(", ")
                ))
            })?,
        };
        let descending = match self.dir.as_deref() {
            None | Some("" | "asc") => false,
            Some("desc") => true,
            Some(_) => return Err(ApiError::Malformed("dir must be asc or desc".to_owned())),
        };
        let limit = match self.limit.as_deref() {
            None => reading::BOARD_PAGE_ITEMS_DEFAULT,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|limit| (1..=reading::BOARD_PAGE_ITEMS_MAX).contains(limit))
                .ok_or_else(|| {
                    ApiError::InvalidLimit(format!(
                        "limit must be a whole number from 1 to {}",
                        reading::BOARD_PAGE_ITEMS_MAX
                    ))
                })?,
        };
        let scope = CursorScope {
            sort,
            descending,
            filters: self.filters_text(),
        };
        let after = self
            .after
            .as_deref()
            .map(|text| cursor::decode(&scope, text))
            .transpose()
            .map_err(|error| ApiError::InvalidCursor(error.to_string()))?;
        let request = reading::BoardRequest {
            filters: infra::views::BoardFilters {
                deputy_id: (principal.role == Role::Deputy).then(|| principal.person_id.clone()),
                status: self.status.clone(),
                kind: self.kind.clone(),
                leader: self.leader.clone(),
                lead_unit: self.lead_unit.clone(),
                overdue: self.overdue,
                due_soon: self.due_soon,
            },
            sort,
            descending,
            after,
            limit,
            confirm_token: None,
        };
        Ok((request, scope))
    }
}

fn malformed(error: impl std::fmt::Display) -> ApiError {
    ApiError::Malformed(error.to_string())
}

/// The tracking board (督办台账), a page at a time: the JSON `huiyin board --format json` prints,
/// with `items` cut to one page of `limit` (default 100, at most 1,000) in the order asked for,
/// and `page` saying whether there is more and the cursor to ask for it (`after=`). The summary
/// counts every item of the filtered board, not just the page; a deputy is shown (and counted)
/// only the items that name them.
#[utoipa::path(get, path = "/api/board", tag = "ledger", params(BoardQuery),
    responses(
        (status = 200, description = "One page of the board", body = BoardView),
        (status = 400, description = "`invalid`: an unreadable as_of, now, filter, sort or dir; `invalid_limit`: limit not from 1 to 1,000; `invalid_cursor`: after is garbled, edited, or of a board with another order or filters", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn board(
    State(state): State<AppState>,
    caller: PageCaller,
    ApiQuery(query): ApiQuery<BoardQuery>,
) -> Result<Json<BoardView>, ApiError> {
    let at = ReadAt::parse(
        query.as_of.as_deref(),
        query.now.as_deref(),
        &state.time_zone,
    )
    .map_err(malformed)?;
    // A live page's statement confirms a cached token; an as-of page reads no table to do it by.
    let caller = if at.as_of.is_some() {
        PageCaller {
            principal: caller.confirmed(&state).await?,
            confirm_token: None,
        }
    } else {
        caller
    };
    let (mut request, scope) = query.request(&caller.principal)?;
    request.confirm_token = caller.confirm_token;
    let read = |request: reading::BoardRequest| {
        let state = &state;
        async move {
            reading::board_page(
                &state.stores,
                at,
                &state.time_zone,
                &*state.clock,
                &request,
                Some(&state.board_counts),
            )
            .await
        }
    };
    let (mut view, next) = match read(request.clone()).await {
        Err(reading::ReadError::TokenGone) => {
            // Revoked (or gone) since it was cached: a lookup answers why, with 401. Should it
            // still stand, the page is read again without the cache.
            let digest = request.confirm_token.unwrap_or_default();
            let principal = token_looked_up_again(&state, &digest).await?;
            let (mut request, _) = query.request(&principal)?;
            request.confirm_token = None;
            read(request).await?
        }
        read => read?,
    };
    view.page = Some(PageInfo {
        limit: request.limit,
        sort: scope.sort.name().to_owned(),
        dir: if scope.descending { "desc" } else { "asc" }.to_owned(),
        has_more: next.is_some(),
        next: next.map(|position| cursor::encode(&scope, &position)),
    });
    Ok(Json(view))
}

/// When an item's flags are judged.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// When due-soon and overdue are judged (RFC 3339 or a date); default now.
    pub now: Option<String>,
}

/// An item: its row of the board and its trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    /// The item as the board shows it.
    pub item: BoardItem,
    /// Every record of the item, with positions and hashes.
    pub trail: Trail,
}

/// The item's trail, if the principal may see the item: 404 when there is no such item, 403
/// when it is a deputy's and does not name them.
pub(crate) async fn visible_trail(
    state: &AppState,
    principal: &Principal,
    item_id: &str,
) -> Result<Trail, ApiError> {
    let trail = reading::trail(&*state.stores.events, item_id).await?;
    if trail.events.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no item {item_id} in this ledger"
        )));
    }
    if principal.role == Role::Deputy
        && !reading::deputy_ids(&trail)?.contains(&principal.person_id)
    {
        return Err(ApiError::Forbidden(format!(
            "item {item_id} does not name you; a deputy sees only their own items"
        )));
    }
    Ok(trail)
}

/// An item: its board row and its trail (履历). A deputy may read only an item that names them.
#[utoipa::path(get, path = "/api/items/{id}", tag = "ledger",
    params(("id" = String, Path, description = "The item's id"), ItemQuery),
    responses(
        (status = 200, description = "The item", body = ItemView),
        (status = 400, description = "`invalid`: an unreadable now", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a deputy's request for an item that does not name them", body = ErrorBody),
        (status = 404, description = "`not_found`: no such item", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn item(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(item_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ItemQuery>,
) -> Result<Json<ItemView>, ApiError> {
    let now = match query.now.as_deref() {
        Some(text) => parse_moment(text, &state.time_zone).map_err(malformed)?,
        None => state.clock.now(),
    };
    let trail = visible_trail(&state, &principal, &item_id).await?;
    let item = reading::board_item(&state.stores, &item_id, now, &state.time_zone)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(format!("item {item_id} has a trail but no board row"))
        })?;
    Ok(Json(ItemView { item, trail }))
}

/// An item's trail (履历): every record of its stream with position and hash. A deputy may read
/// only the trail of an item that names them.
#[utoipa::path(get, path = "/api/items/{id}/trail", tag = "ledger",
    params(("id" = String, Path, description = "The item's id")),
    responses(
        (status = 200, description = "The trail", body = Trail),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a deputy's request for an item that does not name them", body = ErrorBody),
        (status = 404, description = "`not_found`: no such item", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn trail(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(item_id): ApiPath<String>,
) -> Result<Json<Trail>, ApiError> {
    Ok(Json(visible_trail(&state, &principal, &item_id).await?))
}

/// Which figures.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Only items filed in this year.
    pub year: Option<i16>,
    /// The figures as the ledger knew them at a position or a time.
    pub as_of: Option<String>,
    /// When overdue is judged (RFC 3339 or a date).
    pub now: Option<String>,
}

/// The figures (统计), the JSON `huiyin stats --format json` prints. They count all items; every
/// role may read them.
#[utoipa::path(get, path = "/api/stats", tag = "ledger", params(StatsQuery),
    responses(
        (status = 200, description = "The figures", body = Figures),
        (status = 400, description = "`invalid`: an unreadable year, as_of or now", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<Figures>, ApiError> {
    let at = ReadAt::parse(
        query.as_of.as_deref(),
        query.now.as_deref(),
        &state.time_zone,
    )
    .map_err(malformed)?;
    let figures = reading::figures(
        &state.stores,
        at,
        query.year,
        &state.time_zone,
        &*state.clock,
    )
    .await?;
    Ok(Json(figures))
}
