//! The command forms: which a viewer is shown, their fields, and the JSON a posted form becomes.
//!
//! A form is shown only when the viewer's role may issue the command (the domain's one table,
//! `aggregates::access::COMMANDS`) and the item's state allows it ([`available`]). Field names
//! are the command's JSON fields; a nested field is written with dots (`leader.id`,
//! `deputies.0.name`, `commitments.0.due`), a list of names as comma-separated text
//! (`co_units`), a yes/no as a select of `true`/`false`.

use aggregates::access::{allowed_roles, command_rule, StreamKind};
use aggregates::actor::Role;
use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::i18n::Lang;

/// What the forms need to know about an item beyond its board row, read from its trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ItemState {
    /// The item's id; empty for a new item.
    pub item_id: String,
    /// Its status (`assigned`, …); empty for a new item.
    pub status: String,
    /// The deputies it names: `(id, name)`.
    pub deputies: Vec<(String, String)>,
    /// The lead unit, once assigned.
    pub lead_unit: Option<String>,
    /// The co-units, once assigned.
    pub co_units: Vec<String>,
    /// An extension is asked for and not decided.
    pub extension_pending: bool,
    /// Commitments made and not fulfilled: `(id, text)`.
    pub open_commitments: Vec<(String, String)>,
}

/// Whether the item's state allows `command` (the "may happen when" column of DESIGN.md §4, as
/// far as a form can tell; the domain decides the rest and its refusal is shown).
pub(crate) fn available(command: &str, item: &ItemState) -> bool {
    let status = item.status.as_str();
    let working = matches!(
        status,
        "assigned" | "answered" | "rated" | "rehandling" | "reconciled"
    );
    match command {
        "FileItem" => status.is_empty(),
        "TriageItem" => status == "filed",
        "AssignItem" => status == "accepted",
        "AcknowledgeItem" => matches!(status, "assigned" | "rehandling"),
        "SubmitCoView" => matches!(status, "assigned" | "rehandling") && !item.co_units.is_empty(),
        "RequestExtension" => {
            matches!(status, "assigned" | "rehandling") && !item.extension_pending
        }
        "AnswerItem" => matches!(status, "assigned" | "rehandling"),
        "RecordContact" | "ReportProgress" => working,
        "DecideExtension" => item.extension_pending,
        "ReclassifyAnswer" => matches!(status, "answered" | "rated"),
        "RateAnswer" => status == "answered",
        "FulfilCommitment" => working && !item.open_commitments.is_empty(),
        "ReconcileItem" => status == "rated" && item.open_commitments.is_empty(),
        "CloseItem" => status == "reconciled",
        "WithdrawItem" => matches!(status, "filed" | "accepted" | "assigned"),
        "ReopenItem" => status == "closed",
        _ => false,
    }
}

/// The item commands `role` may issue on `item` now, in the order of the command table.
pub(crate) fn forms_for(role: Role, item: &ItemState) -> Vec<&'static str> {
    aggregates::access::COMMANDS
        .iter()
        .filter(|rule| rule.stream == StreamKind::Item && rule.command != "FileItem")
        .filter(|rule| rule.roles.contains(&role))
        .filter(|rule| available(rule.command, item))
        .map(|rule| rule.command)
        .collect()
}

/// True when `command` is an item command `role` may issue at all.
pub(crate) fn role_may(role: Role, command: &str) -> bool {
    command_rule(command).is_some_and(|rule| rule.stream == StreamKind::Item)
        && allowed_roles(command).contains(&role)
}

/// How a field is entered.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    Text,
    TextArea,
    Date,
    /// A select of `(value, label)`.
    Choice(Vec<(String, String)>),
}

/// One field of a form.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub required: bool,
}

fn text(name: &'static str, label: &'static str, required: bool) -> Field {
    Field {
        name,
        label,
        input: Input::Text,
        required,
    }
}

fn area(name: &'static str, label: &'static str, required: bool) -> Field {
    Field {
        name,
        label,
        input: Input::TextArea,
        required,
    }
}

fn date(name: &'static str, label: &'static str, required: bool) -> Field {
    Field {
        name,
        label,
        input: Input::Date,
        required,
    }
}

fn choice(
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    required: bool,
) -> Field {
    Field {
        name,
        label,
        input: Input::Choice(options),
        required,
    }
}

/// Options whose labels come from the catalogue under `prefix`.
fn options(lang: Lang, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|value| ((*value).to_owned(), lang.label(prefix, value)))
        .collect()
}

fn plain(values: impl IntoIterator<Item = String>) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|value| (value.clone(), value))
        .collect()
}

const YES_NO: [&str; 2] = ["true", "false"];
const CLASSES: [&str; 4] = ["A", "B", "C", "D"];

/// The fields of `command`'s form for `item` (besides the hidden `item_id`).
pub(crate) fn fields(command: &str, item: &ItemState, lang: Lang) -> Vec<Field> {
    match command {
        "FileItem" => vec![
            text("item_id", "field.item_id", true),
            choice(
                "kind",
                "field.kind",
                options(
                    lang,
                    "kind",
                    &[
                        "suggestion",
                        "deliberation_opinion",
                        "inquiry",
                        "inspection_finding",
                        "deputy_letter",
                    ],
                ),
                true,
            ),
            text("title", "field.title", true),
            area("body", "field.body", true),
            text("deputies.0.id", "field.deputy_id", true),
            text("deputies.0.name", "field.deputy_name", true),
            text("deputies.1.id", "field.second_deputy_id", false),
            text("deputies.1.name", "field.second_deputy_name", false),
            choice(
                "urgent",
                "field.urgent",
                options(lang, "opt", &["false", "true"]),
                false,
            ),
            text("parent_id", "field.parent_id", false),
        ],
        "TriageItem" => vec![
            choice(
                "decision",
                "field.decision",
                options(lang, "opt", &["accept", "return", "redirect", "merge"]),
                true,
            ),
            area("reason", "field.reason", false),
            text("target_item_id", "field.target_item_id", false),
            text("redirect_to", "field.redirect_to", false),
        ],
        "AssignItem" => vec![
            text("lead_unit", "field.lead_unit", true),
            text("co_units", "field.co_units", false),
            text("leader.id", "field.leader_id", true),
            text("leader.name", "field.leader_name", true),
            choice(
                "leader.level",
                "field.leader_level",
                options(
                    lang,
                    "opt",
                    &[
                        "president",
                        "vice_president",
                        "committee_member",
                        "division_chief",
                    ],
                ),
                true,
            ),
        ],
        "AcknowledgeItem" => {
            let units = item.lead_unit.iter().chain(&item.co_units).cloned();
            vec![choice("unit", "field.unit", plain(units), true)]
        }
        "RecordContact" => vec![
            choice(
                "deputy_id",
                "field.deputy_id",
                item.deputies
                    .iter()
                    .map(|(id, name)| (id.clone(), format!("{name} ({id})")))
                    .collect(),
                true,
            ),
            choice(
                "channel",
                "field.channel",
                options(
                    lang,
                    "opt",
                    &["in_person", "phone", "video", "written", "other"],
                ),
                true,
            ),
            choice(
                "stage",
                "field.stage",
                options(lang, "opt", &["before", "during", "after"]),
                true,
            ),
            area("summary", "field.summary", true),
        ],
        "SubmitCoView" => vec![
            choice(
                "unit",
                "field.unit",
                plain(item.co_units.iter().cloned()),
                true,
            ),
            area("view", "field.view", true),
        ],
        "ReportProgress" => vec![area("summary", "field.summary", true)],
        "RequestExtension" => vec![
            date("until", "field.until", true),
            area("reason", "field.reason", true),
        ],
        "DecideExtension" => vec![
            choice(
                "approve",
                "field.approve",
                options(lang, "opt", &YES_NO),
                true,
            ),
            area("note", "field.note", false),
        ],
        "AnswerItem" => vec![
            choice(
                "class",
                "field.class",
                plain(CLASSES.map(str::to_owned)),
                true,
            ),
            area("text", "field.text", true),
            text("doc_no", "field.doc_no", false),
            choice(
                "public",
                "field.public",
                options(lang, "opt", &YES_NO),
                false,
            ),
            text("commitments.0.id", "field.commitment_id", false),
            text("commitments.0.text", "field.commitment_text", false),
            date("commitments.0.due", "field.commitment_due", false),
        ],
        "ReclassifyAnswer" => vec![
            choice(
                "class",
                "field.class",
                plain(CLASSES.map(str::to_owned)),
                true,
            ),
            area("reason", "field.reason", true),
        ],
        "RateAnswer" => vec![
            choice(
                "rating",
                "field.rating",
                options(
                    lang,
                    "rating",
                    &[
                        "satisfied",
                        "basically_satisfied",
                        "unsatisfied",
                        "no_response",
                    ],
                ),
                true,
            ),
            area("comment", "field.comment", false),
        ],
        "FulfilCommitment" => vec![
            choice(
                "commitment_id",
                "field.commitment_id",
                item.open_commitments
                    .iter()
                    .map(|(id, text)| (id.clone(), format!("{id}: {text}")))
                    .collect(),
                true,
            ),
            area("note", "field.note", false),
        ],
        "ReconcileItem" | "CloseItem" => vec![area("note", "field.note", false)],
        "WithdrawItem" | "ReopenItem" => vec![area("reason", "field.reason", true)],
        _ => Vec::new(),
    }
}

/// Fields whose text is a yes/no.
const BOOLEAN_FIELDS: [&str; 3] = ["urgent", "public", "approve"];
/// Fields whose text is a comma-separated list.
const LIST_FIELDS: [&str; 1] = ["co_units"];

fn value_of(name: &str, text: &str) -> Value {
    if BOOLEAN_FIELDS.contains(&name) {
        return Value::Bool(text == "true");
    }
    if LIST_FIELDS.contains(&name) {
        let items = text
            .split([',', '，', '、'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| Value::String(part.to_owned()));
        return Value::Array(items.collect());
    }
    Value::String(text.to_owned())
}

/// Puts `value` at the dotted `path` of `data` (`leader.id`, `deputies.0.name`).
fn put(data: &mut Map<String, Value>, path: &str, value: Value) {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [name] => {
            data.insert((*name).to_owned(), value);
        }
        [name, field] => {
            let entry = data
                .entry((*name).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(object) = entry {
                object.insert((*field).to_owned(), value);
            }
        }
        [name, index, field] => {
            let Ok(index) = index.parse::<usize>() else {
                return;
            };
            let entry = data
                .entry((*name).to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = entry {
                while list.len() <= index {
                    list.push(Value::Object(Map::new()));
                }
                if let Some(Value::Object(object)) = list.get_mut(index) {
                    object.insert((*field).to_owned(), value);
                }
            }
        }
        _ => {}
    }
}

/// The command's `data` from a posted form: the form's fields only (anything else posted is
/// ignored), empty optional fields left out. On a filing the first deputy leads.
pub(crate) fn command_data(command: &str, item: &ItemState, posted: &[(String, String)]) -> Value {
    let posted_value = |name: &str| {
        posted
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let mut data = Map::new();
    if command != "FileItem" {
        data.insert("item_id".to_owned(), Value::String(item.item_id.clone()));
    }
    for field in fields(command, item, Lang::En) {
        if let Some(text) = posted_value(field.name) {
            put(&mut data, field.name, value_of(field.name, &text));
        }
    }
    if let Some(Value::Array(deputies)) = data.get_mut("deputies") {
        deputies.retain(|deputy| deputy.as_object().is_some_and(|object| !object.is_empty()));
        if let Some(Value::Object(first)) = deputies.first_mut() {
            first.insert("lead".to_owned(), Value::Bool(true));
        }
    }
    Value::Object(data)
}

/// The form of `command` for `item`, with `values` filled in (after a refusal) and the session's
/// CSRF token. Every form gets a fresh `command_id`, so sending it twice records it once.
pub(crate) fn render(
    lang: Lang,
    command: &str,
    item: &ItemState,
    csrf: &str,
    values: &[(String, String)],
) -> Markup {
    let value = |name: &str| {
        values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let command_id = Uuid::new_v4().to_string();
    html! {
        form id={ "form-" (command) } method="post" action="/forms" class="command" {
            h3 { (lang.t(&format!("cmd.{command}"))) }
            input type="hidden" name="command" value=(command);
            input type="hidden" name="command_id" value=(command_id);
            input type="hidden" name="csrf" value=(csrf);
            @if command != "FileItem" {
                input type="hidden" name="item_id" value=(item.item_id);
            }
            @for field in fields(command, item, lang) {
                label {
                    (lang.t(field.label))
                    @if !field.required { " " (lang.t("form.optional")) }
                    " "
                    (input(&field, value(field.name)))
                }
            }
            button id={ "submit-" (command) } type="submit" { (lang.t("form.submit")) }
        }
    }
}

fn input(field: &Field, value: Option<&str>) -> Markup {
    let value_text = value.unwrap_or("");
    html! {
        @match &field.input {
            Input::Text => input type="text" name=(field.name) value=(value_text) required[field.required];
            Input::Date => input type="date" name=(field.name) value=(value_text) required[field.required];
            Input::TextArea => textarea name=(field.name) rows="3" required[field.required] { (value_text) }
            Input::Choice(options) => select name=(field.name) required[field.required] {
                @if !field.required { option value="" { "—" } }
                @for (option, label) in options {
                    option value=(option) selected[value == Some(option.as_str())] { (label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn a_filing_form_becomes_the_commands_json_with_the_first_deputy_leading() {
        let data = command_data(
            "FileItem",
            &ItemState::default(),
            &posted(&[
                ("item_id", "2024-S-9"),
                ("kind", "suggestion"),
                ("title", " 标题 "),
                ("body", "正文"),
                ("deputies.0.id", "d-1"),
                ("deputies.0.name", "王"),
                ("deputies.1.id", ""),
                ("deputies.1.name", ""),
                ("urgent", "true"),
                ("parent_id", ""),
                ("actor", "someone-else"),
            ]),
        );
        assert_eq!(
            data,
            json!({"item_id": "2024-S-9", "kind": "suggestion", "title": "标题", "body": "正文",
                   "deputies": [{"id": "d-1", "name": "王", "lead": true}], "urgent": true})
        );
    }

    #[test]
    fn nested_and_list_fields_are_built_from_dotted_names() {
        let item = ItemState {
            item_id: "2024-S-1".to_owned(),
            status: "accepted".to_owned(),
            ..ItemState::default()
        };
        let data = command_data(
            "AssignItem",
            &item,
            &posted(&[
                ("lead_unit", "执行局"),
                ("co_units", "执行一庭，执行二庭, "),
                ("leader.id", "l-1"),
                ("leader.name", "陈"),
                ("leader.level", "president"),
            ]),
        );
        assert_eq!(
            data,
            json!({"item_id": "2024-S-1", "lead_unit": "执行局", "co_units": ["执行一庭", "执行二庭"],
                   "leader": {"id": "l-1", "name": "陈", "level": "president"}})
        );
    }

    #[test]
    fn forms_follow_the_role_table_and_the_state() {
        let assigned = ItemState {
            item_id: "x".to_owned(),
            status: "assigned".to_owned(),
            ..ItemState::default()
        };
        assert!(forms_for(Role::Leader, &assigned).contains(&"AnswerItem"));
        assert!(!forms_for(Role::Deputy, &assigned).contains(&"AnswerItem"));
        assert!(forms_for(Role::Auditor, &assigned).is_empty());
        assert!(forms_for(Role::Admin, &assigned).is_empty());
        let answered = ItemState {
            status: "answered".to_owned(),
            ..assigned
        };
        assert_eq!(forms_for(Role::Deputy, &answered), ["RateAnswer"]);
        for role in Role::ALL {
            for command in forms_for(role, &answered) {
                assert!(allowed_roles(command).contains(&role), "{role} {command}");
            }
        }
    }
}
