//! An item's page (its facts, rounds, trail and the forms its viewer may use), the new-item page,
//! and the one handler every form posts to.

use aggregates::actor::Role;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use projections::board::BoardItem;
use projections::trail::Trail;
use serde_json::Value;

use super::csrf::csrf_matches;
use super::forms::{self, ItemState};
use super::i18n::Lang;
use super::layout::{page, role_label};
use super::pages::due_mark;
use super::{query_pairs, PageContext, PageError};
use crate::auth::Principal;
use crate::http::api::{execute_counted, visible_trail, CommandRequest};
use crate::http::{ApiError, AppState};
use crate::reading;

/// A flash message for the top of a page.
#[derive(Debug, Clone)]
enum Flash {
    /// `command` was recorded.
    Done(String),
    /// A command was refused: its stable code and message.
    Refused { code: String, message: String },
}

fn flash_markup(lang: Lang, flash: Option<&Flash>) -> Markup {
    html! {
        @match flash {
            Some(Flash::Done(command)) => p id="flash" class="ok" {
                (lang.t("flash.ok")) ": " (lang.t(&format!("cmd.{command}")))
            },
            Some(Flash::Refused { code, message }) => p id="flash" class="error" data-code=(code) {
                (lang.t("flash.refused")) ": " (message) " (" (lang.t("flash.code")) " " code { (code) } ")"
            },
            None => {},
        }
    }
}

/// What the forms need to know, read from the trail.
fn item_state(trail: &Trail, status: &str) -> ItemState {
    let mut state = ItemState {
        item_id: trail.item_id.clone(),
        status: status.to_owned(),
        ..ItemState::default()
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    for entry in &trail.events {
        let data = &entry.data;
        match entry.event_type.as_str() {
            "ItemFiled" => {
                state.deputies = data["deputies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|deputy| (text(&deputy["id"]), text(&deputy["name"])))
                    .collect();
            }
            "ItemAssigned" => {
                state.lead_unit = data["lead_unit"].as_str().map(str::to_owned);
                state.co_units = data["co_units"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect();
            }
            "ExtensionRequested" => state.extension_pending = true,
            "ExtensionDecided" => state.extension_pending = false,
            "ItemAnswered" => state.open_commitments.extend(
                data["commitments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|commitment| (text(&commitment["id"]), text(&commitment["text"]))),
            ),
            "CommitmentFulfilled" => {
                let id = text(&data["commitment_id"]);
                state.open_commitments.retain(|(open, _)| *open != id);
            }
            _ => {}
        }
    }
    state
}

/// One round of an item: its answer and its rating.
#[derive(Debug, Default)]
struct Round {
    round: u64,
    class: String,
    text: String,
    answered_on: String,
    answered_by: String,
    rating: Option<String>,
    comment: String,
}

fn rounds(trail: &Trail) -> Vec<Round> {
    let mut rounds: Vec<Round> = Vec::new();
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    for entry in &trail.events {
        let data = &entry.data;
        let round = data["round"].as_u64().unwrap_or(1);
        match entry.event_type.as_str() {
            "ItemAnswered" => rounds.push(Round {
                round,
                class: text(&data["class"]),
                text: text(&data["text"]),
                answered_on: text(&data["answered_on"]),
                answered_by: entry.actor.clone(),
                ..Round::default()
            }),
            "AnswerReclassified" => {
                if let Some(last) = rounds.iter_mut().rev().find(|r| r.round == round) {
                    last.class = text(&data["class"]);
                }
            }
            "AnswerRated" => {
                if let Some(last) = rounds.iter_mut().rev().find(|r| r.round == round) {
                    last.rating = Some(text(&data["rating"]));
                    last.comment = text(&data["comment"]);
                }
            }
            _ => {}
        }
    }
    rounds
}

fn facts(lang: Lang, item: &BoardItem, trail: &Trail) -> Markup {
    let filed = trail.events.first().map(|entry| &entry.data);
    let body = filed.and_then(|data| data["body"].as_str()).unwrap_or("");
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    html! {
        dl id="item-facts" {
            dt { (lang.t("col.title")) } dd { (item.title) }
            dt { (lang.t("item.body")) } dd { (body) }
            dt { (lang.t("col.kind")) } dd { (lang.label("kind", &item.kind)) }
            dt { (lang.t("col.status")) } dd data-status=(item.status) { (lang.label("status", &item.status)) }
            dt { (lang.t("col.round")) } dd { (item.round) }
            dt { (lang.t("col.deputies")) } dd { (item.deputies.join("、")) }
            dt { (lang.t("col.lead_unit")) } dd { (text(&item.lead_unit)) }
            dt { (lang.t("col.leader")) } dd { (text(&item.leader)) }
            dt { (lang.t("col.due")) } dd {
                (item.due.map(|due| due.to_string()).unwrap_or_default())
                @if let Some(days) = item.days_left {
                    @if days < 0 {
                        " (" (lang.t("item.overdue_by")) " " (days.unsigned_abs()) " " (lang.t("item.days")) ")"
                    } @else {
                        " (" (lang.t("col.days_left")) " " (days) ")"
                    }
                }
                " " (due_mark(lang, item))
            }
            dt { (lang.t("col.class")) } dd { (text(&item.class)) }
            dt { (lang.t("col.rating")) } dd {
                (item.rating.as_deref().map(|r| lang.label("rating", r)).unwrap_or_default())
            }
        }
    }
}

fn rounds_markup(lang: Lang, trail: &Trail) -> Markup {
    let rounds = rounds(trail);
    html! {
        h2 { (lang.t("item.rounds")) }
        @if rounds.is_empty() {
            p { (lang.t("item.no_rounds")) }
        } @else {
            table id="rounds" {
                thead { tr {
                    th { (lang.t("item.round")) } th { (lang.t("col.class")) }
                    th { (lang.t("item.answer")) } th { (lang.t("item.answered_at")) }
                    th { (lang.t("item.answered_by")) } th { (lang.t("col.rating")) }
                    th { (lang.t("item.comment")) }
                } }
                tbody {
                    @for round in &rounds {
                        tr data-round=(round.round) {
                            td { (round.round) } td { (round.class) } td { (round.text) }
                            td { (round.answered_on) } td { (round.answered_by) }
                            td { (round.rating.as_deref().map(|r| lang.label("rating", r)).unwrap_or_default()) }
                            td { (round.comment) }
                        }
                    }
                }
            }
        }
    }
}

fn trail_markup(lang: Lang, trail: &Trail) -> Markup {
    html! {
        h2 { (lang.t("item.trail")) }
        table id="trail" {
            thead { tr {
                th { (lang.t("item.position")) } th { (lang.t("item.event")) }
                th { (lang.t("item.at")) } th { (lang.t("item.recorded_at")) }
                th { (lang.t("item.actor")) } th { (lang.t("item.role")) }
                th { (lang.t("item.hash")) } th { (lang.t("item.proof")) }
            } }
            tbody {
                @for entry in &trail.events {
                    tr data-position=(entry.position) {
                        td { (entry.position) } td { (entry.event_type) }
                        td { (entry.at) } td { (entry.recorded_at) }
                        td { (entry.actor) }
                        td { (entry.role.parse::<Role>().map(|role| role_label(lang, role)).unwrap_or(&entry.role)) }
                        td { code class="hash" { (entry.hash.to_hex()) } }
                        td { a href={ "/api/proofs/inclusion?index=" (entry.position) } { (lang.t("item.proof")) } }
                    }
                }
            }
        }
    }
}

/// The item page's parts that come from the ledger.
struct Loaded {
    item: BoardItem,
    trail: Trail,
    state: ItemState,
}

async fn load(
    app: &AppState,
    principal: &Principal,
    item_id: &str,
    lang: Lang,
) -> Result<Loaded, PageError> {
    let trail = visible_trail(app, principal, item_id)
        .await
        .map_err(|error| PageError::of_api(lang, error))?;
    let item = reading::board_item(&app.stores, item_id, app.clock.now(), &app.time_zone)
        .await
        .map_err(|error| PageError::failed(lang, error))?
        .ok_or_else(|| PageError::internal(lang, format!("item {item_id} has no board row")))?;
    let state = item_state(&trail, &item.status);
    Ok(Loaded { item, trail, state })
}

/// The whole item page; `refused` is the form that was refused and what was posted to it.
fn item_markup(
    context: &PageContext,
    principal: &Principal,
    loaded: &Loaded,
    flash: Option<&Flash>,
    refused: Option<(&str, &[(String, String)])>,
) -> Markup {
    let lang = context.lang;
    let item = &loaded.item;
    let csrf = context.csrf.as_deref().unwrap_or_default();
    let commands = forms::forms_for(principal.role, &loaded.state);
    let title = format!("{} {}", lang.t("item.title"), item.item_id);
    let body = html! {
        (flash_markup(lang, flash))
        section id="item" data-item-id=(item.item_id) data-status=(item.status) {
            (facts(lang, item, &loaded.trail))
            (rounds_markup(lang, &loaded.trail))
            h2 { (lang.t("item.actions")) }
            @if commands.is_empty() {
                p id="no-forms" { (lang.t("item.no_actions")) }
            }
            @for command in &commands {
                @let values = refused.filter(|(name, _)| name == command).map_or(&[][..], |(_, values)| values);
                (forms::render(lang, command, &loaded.state, csrf, values))
            }
            (trail_markup(lang, &loaded.trail))
        }
        p { a href="/" { (lang.t("item.back")) } }
    };
    page(context, &title, body)
}

/// `GET /items/{id}`: the item. A deputy sees only an item that names them (403 otherwise, 404
/// when there is no such item), as in the API.
pub(crate) async fn item_page(
    State(app): State<AppState>,
    context: PageContext,
    Path(item_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let principal = context.require()?;
    let lang = context.lang;
    let loaded = load(&app, principal, &item_id, lang).await?;
    let flash = query_pairs(query.as_deref())
        .into_iter()
        .find(|(key, _)| key == "done")
        .map(|(_, command)| command)
        .filter(|command| forms::role_may(principal.role, command))
        .map(Flash::Done);
    let markup = item_markup(&context, principal, &loaded, flash.as_ref(), None);
    Ok(context.respond(StatusCode::OK, markup))
}

fn new_item_markup(
    context: &PageContext,
    flash: Option<&Flash>,
    values: &[(String, String)],
) -> Markup {
    let lang = context.lang;
    let csrf = context.csrf.as_deref().unwrap_or_default();
    let body = html! {
        (flash_markup(lang, flash))
        (forms::render(lang, "FileItem", &ItemState::default(), csrf, values))
    };
    page(context, lang.t("cmd.FileItem"), body)
}

/// `GET /items/new`: the filing form (the liaison office only).
pub(crate) async fn new_item(context: PageContext) -> Result<Response, PageError> {
    let principal = context.require()?;
    if !forms::role_may(principal.role, "FileItem") {
        return Err(PageError::forbidden(
            context.lang,
            "only the liaison office files items",
        ));
    }
    Ok(context.respond(StatusCode::OK, new_item_markup(&context, None, &[])))
}

fn see_other(location: &str) -> Response {
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn posted<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `POST /forms`: every command form posts here. Checks the CSRF token (403 `csrf` and nothing
/// appended when wrong), builds the command's JSON from the form's fields, runs it as the
/// session's person and role through the same path as `POST /api/commands`, and redirects to the
/// item's page (303) with a flash; a refusal re-renders the form with the refusal's message and
/// code, with the refusal's status.
pub(crate) async fn post_form(
    State(app): State<AppState>,
    context: PageContext,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = context.lang;
    let Some(principal) = context.principal.clone() else {
        return Ok(see_other("/login"));
    };
    let expected = context.csrf.as_deref().unwrap_or_default();
    let sent = posted(&pairs, "csrf").unwrap_or_default();
    if !csrf_matches(expected, sent) {
        return Err(PageError::Refused {
            lang,
            status: StatusCode::FORBIDDEN,
            code: "csrf",
            detail: "the form's csrf token is not this session's".to_owned(),
        });
    }
    let command = posted(&pairs, "command").unwrap_or_default().to_owned();
    if aggregates::access::command_rule(&command)
        .is_none_or(|rule| rule.stream != aggregates::access::StreamKind::Item)
    {
        return Err(PageError::invalid(
            lang,
            format!("no item command {command:?}"),
        ));
    }
    let item_id = if command == "FileItem" {
        None
    } else {
        Some(posted(&pairs, "item_id").unwrap_or_default().to_owned())
    };
    let loaded = match &item_id {
        Some(item_id) => Some(load(&app, &principal, item_id, lang).await?),
        None => None,
    };
    let state = loaded
        .as_ref()
        .map(|loaded| loaded.state.clone())
        .unwrap_or_default();
    let data = forms::command_data(&command, &state, &pairs);
    let request = CommandRequest {
        command_id: posted(&pairs, "command_id")
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        command_type: command.clone(),
        at: None,
        data: data.clone(),
        actor: None,
        role: None,
    };
    match execute_counted(&app, &principal, request).await {
        Ok(_) => {
            let target = item_id
                .or_else(|| data["item_id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let query =
                serde_urlencoded::to_string([("done", command.as_str())]).unwrap_or_default();
            Ok(see_other(&format!("{}?{query}", super::item_path(&target))))
        }
        Err(error) => refused(&app, &context, &principal, &command, &pairs, error, loaded).await,
    }
}

/// The page again with the refused form filled in as posted, the refusal's message (in the
/// page's language where the ledger has it) and code, and the refusal's status.
async fn refused(
    app: &AppState,
    context: &PageContext,
    principal: &Principal,
    command: &str,
    pairs: &[(String, String)],
    error: ApiError,
    loaded: Option<Loaded>,
) -> Result<Response, PageError> {
    let lang = context.lang;
    let (status, code) = error.status_and_code();
    if status.is_server_error() {
        return Err(PageError::of_api(lang, error));
    }
    let message = match (&error, lang) {
        (ApiError::Refused { message_zh, .. }, Lang::Zh) => message_zh.clone(),
        _ => error.to_string(),
    };
    let flash = Flash::Refused {
        code: code.to_owned(),
        message,
    };
    let markup = match loaded {
        None => new_item_markup(context, Some(&flash), pairs),
        Some(loaded) => {
            // The refusal may have come from a race: show the item as it is now.
            let fresh = load(app, principal, &loaded.item.item_id, lang)
                .await
                .unwrap_or(loaded);
            item_markup(
                context,
                principal,
                &fresh,
                Some(&flash),
                Some((command, pairs)),
            )
        }
    };
    Ok(context.respond(status, markup))
}
