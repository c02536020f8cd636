//! Hostile text in every free-text field of the item commands, through the real router (no
//! browser): every page that shows it shows it as text — parsed, the page holds no element or
//! attribute the text could have made — and the ledger keeps it byte for byte (the API's JSON
//! returns the exact strings).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use libtest_mimic::Trial;
use scraper::{Html, Selector};
use serde_json::{json, Value};

use crate::http::{command, request, with_header, Answer, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    on_both(
        "escaping",
        "hostile_text_in_every_field_is_shown_escaped_and_stored_verbatim",
        hostile_text_in_every_field_is_shown_escaped_and_stored_verbatim,
    )
}

const SCRIPT: &str = "<script>alert(1)</script>";
const ATTRIBUTE_BREAK: &str = "\"'><img src=x onerror=alert(1)>";
const SQL: &str = "'; DROP TABLE records; --";
const PATH: &str = "../../etc/passwd";
/// Characters outside the Basic Multilingual Plane (a CJK Extension B ideograph, emoji, a
/// musical symbol), which take four bytes in UTF-8 and two units in UTF-16.
const NON_BMP: &str = "𠮷野家 😀 𝄞 𝕏";
/// Text that is already an entity, or closes the elements a value may sit in.
const ENTITIES: &str = "&amp; &lt;b&gt; </textarea></title></td> {{7*7}} ${7*7}";

/// Each field's hostile value: distinct, so a value showing up where another belongs is caught.
fn hostile(field: &str) -> String {
    format!("{field}: {SCRIPT} {ATTRIBUTE_BREAK} {SQL} {PATH} {NON_BMP} {ENTITIES}")
}

/// A string of `chars_max` characters: hostile text, non-BMP characters and filler.
fn long_hostile(field: &str, chars_max: usize) -> String {
    let mut text = hostile(field);
    let filler = "执行𠮷<>&\"'";
    while text.chars().count() + filler.chars().count() <= chars_max {
        text.push_str(filler);
    }
    text
}

/// The item with hostile text everywhere, and one whose id is a path.
const ITEM: &str = "2024-S-666";
const PATH_ITEM: &str = PATH;

/// The fields' values, by name; each appears on at least one page.
struct Hostile {
    title: String,
    body: String,
    deputy_name: String,
    lead_unit: String,
    co_unit: String,
    leader_name: String,
    triage_reason: String,
    contact_summary: String,
    progress_summary: String,
    answer_text: String,
    doc_no: String,
    commitment_text: String,
    rating_comment: String,
}

impl Hostile {
    fn new() -> Hostile {
        Hostile {
            title: long_hostile("title", aggregates::validate::TITLE_CHARS_MAX),
            body: long_hostile("body", aggregates::validate::TEXT_CHARS_MAX),
            deputy_name: hostile("name").chars().take(100).collect(),
            lead_unit: long_hostile("unit", aggregates::validate::UNIT_CHARS_MAX),
            co_unit: hostile("co"),
            leader_name: hostile("leader").chars().take(100).collect(),
            triage_reason: hostile("reason"),
            contact_summary: hostile("contact"),
            progress_summary: hostile("progress"),
            answer_text: long_hostile("answer", aggregates::validate::TEXT_CHARS_MAX),
            doc_no: hostile("doc").chars().take(100).collect(),
            commitment_text: hostile("commitment"),
            rating_comment: hostile("comment"),
        }
    }

    /// The strings the item page must show as text.
    fn on_item_page(&self) -> Vec<&str> {
        vec![
            &self.title,
            &self.body,
            &self.deputy_name,
            &self.lead_unit,
            &self.leader_name,
            &self.answer_text,
            &self.rating_comment,
        ]
    }
}

fn steps(item: &str, text: &Hostile) -> Vec<Value> {
    let at = |day: &str| format!("2024-{day}T09:00:00+08:00");
    let id = |step: &str| format!("{item}-{step}");
    vec![
        command(
            &id("file"),
            "FileItem",
            &at("03-01"),
            json!({"item_id": item, "kind": "suggestion", "title": text.title, "body": text.body,
                   "deputies": [{"id": "d-1", "name": text.deputy_name, "lead": true}]}),
        ),
        command(
            &id("triage"),
            "TriageItem",
            &at("03-04"),
            json!({"item_id": item, "decision": "accept", "reason": text.triage_reason}),
        ),
        command(
            &id("assign"),
            "AssignItem",
            &at("03-05"),
            json!({"item_id": item, "lead_unit": text.lead_unit, "co_units": [text.co_unit],
                   "leader": {"id": "l-1", "name": text.leader_name, "level": "vice_president"}}),
        ),
        command(
            &id("contact"),
            "RecordContact",
            &at("03-10"),
            json!({"item_id": item, "deputy_id": "d-1", "channel": "in_person", "stage": "before",
                   "summary": text.contact_summary}),
        ),
        command(
            &id("progress"),
            "ReportProgress",
            &at("04-10"),
            json!({"item_id": item, "summary": text.progress_summary}),
        ),
        command(
            &id("answer"),
            "AnswerItem",
            &at("05-20"),
            json!({"item_id": item, "class": "B", "text": text.answer_text, "doc_no": text.doc_no,
                   "commitments": [{"id": "c-1", "text": text.commitment_text, "due": "2024-09-30"}]}),
        ),
        command(
            &id("rate"),
            "RateAnswer",
            &at("06-01"),
            json!({"item_id": item, "rating": "basically_satisfied", "comment": text.rating_comment}),
        ),
    ]
}

/// Which token each step is sent with.
fn sender<'a>(cast: &'a Cast, kind: &str) -> &'a str {
    match kind {
        "FileItem" => &cast.liaison,
        "TriageItem" | "AssignItem" => &cast.office,
        "RecordContact" | "ReportProgress" | "AnswerItem" => &cast.leader,
        "RateAnswer" => &cast.deputy,
        other => panic!("no sender for {other}"),
    }
}

/// Logs `person` in (as `role`) with a password and returns the session's cookie pair.
async fn session(api: &Api, person: &str, role: aggregates::actor::Role) -> String {
    let password = format!("{person} hostile-test password");
    api.password(person, &[role], &password).await;
    let login = api
        .post(
            "/login",
            None,
            &json!({"person_id": person, "password": password}),
        )
        .await;
    login.expect(StatusCode::OK, None);
    let set_cookie = login
        .headers
        .get(header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .expect("a session cookie");
    set_cookie
        .split(';')
        .next()
        .expect("name=value")
        .trim()
        .to_owned()
}

/// `GET path` as a browser with `cookie` would: the page as text.
async fn page(api: &Api, cookie: &str, path: &str) -> String {
    let get: Request<Body> = with_header(
        request(Method::GET, path, None, None),
        header::COOKIE,
        cookie,
    );
    let answer: Answer = api.send(get).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {}", answer.body);
    match answer.body {
        Value::String(html) => html,
        other => panic!("GET {path} is not HTML: {other}"),
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a CSS selector")
}

/// Checks one page: parsed, nothing executable came from the data, and each of `shown` is in
/// one text node or attribute value exactly as stored (so it was escaped, not dropped or mangled).
#[track_caller]
fn assert_escaped(path: &str, html: &str, shown: &[&str]) {
    // The page's own `</title>` and `</td>` are legitimate; that the data's were escaped is
    // shown below, when each value is found whole in one text node.
    for raw in [SCRIPT, "<img src=x onerror=alert(1)>"] {
        assert!(!html.contains(raw), "{path} has the raw `{raw}`");
    }
    let document = Html::parse_document(html);
    for element in document.select(&selector("*")) {
        let name = element.value().name();
        if name == "script" {
            let code: String = element.text().collect();
            assert!(
                !code.contains("alert("),
                "{path}: a script ran the data: {code}"
            );
        }
        assert!(
            !(name == "img" && element.value().attr("src") == Some("x")),
            "{path}: an <img> came from the data"
        );
        for (attribute, value) in element.value().attrs() {
            assert!(
                !attribute.starts_with("on"),
                "{path}: <{name} {attribute}=\"{value}\"> is an event handler"
            );
        }
    }
    let texts: Vec<&str> = document
        .root_element()
        .descendants()
        .filter_map(|node| node.value().as_text().map(|text| &**text))
        .collect();
    let attributes: Vec<&str> = document
        .select(&selector("*"))
        .flat_map(|element| element.value().attrs().map(|(_, value)| value))
        .collect();
    for text in shown {
        let found = texts
            .iter()
            .chain(&attributes)
            .any(|node| node.contains(text));
        let head: String = text.chars().take(40).collect();
        assert!(found, "{path} does not show `{head}…` as text");
    }
}

async fn hostile_text_in_every_field_is_shown_escaped_and_stored_verbatim(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let text = Hostile::new();
    for item in [ITEM, PATH_ITEM] {
        for step in steps(item, &text) {
            let kind = step["type"].as_str().expect("type").to_owned();
            let answer = api.command(sender(&cast, &kind), &step).await;
            answer.expect(StatusCode::OK, None);
        }
    }
    stored_verbatim(&api, &cast, &text).await;
    let liaison = session(&api, "liaison-01", aggregates::actor::Role::Liaison).await;
    let board = page(&api, &liaison, "/").await;
    let on_board = [
        text.title.as_str(),
        &text.deputy_name,
        &text.lead_unit,
        &text.leader_name,
        PATH_ITEM,
    ];
    assert_escaped("/", &board, &on_board);
    // Filter values come back in the filter form: chosen by the query, so reflected input.
    let filtered = format!(
        "/?leader={}&lead_unit={}&sort=leader&dir=desc",
        encode_segment(&text.leader_name),
        encode_segment(&text.lead_unit)
    );
    let board_filtered = page(&api, &liaison, &filtered).await;
    assert_escaped(
        &filtered,
        &board_filtered,
        &[&text.leader_name, &text.lead_unit],
    );
    let reflected = format!("/?leader={}", encode_segment(SCRIPT));
    assert_escaped(&reflected, &page(&api, &liaison, &reflected).await, &[]);
    // The item page, at the link the board gives; the path-shaped id at its encoded path.
    for item in [ITEM, PATH_ITEM] {
        let href = item_link(&board, item);
        let encoded = format!("/items/{}", encode_segment(item));
        // An id with `/` and `..` (both valid in ids) stays one encoded segment: a browser
        // following the link lands on the item, never on /etc/passwd.
        assert_eq!(href, encoded, "the board's link to {item}");
        let href = encoded;
        let html = page(&api, &liaison, &href).await;
        assert_escaped(&href, &html, &text.on_item_page());
        let document = Html::parse_document(&html);
        let section = document
            .select(&selector("section#item"))
            .next()
            .unwrap_or_else(|| panic!("{href} has no section#item"));
        assert_eq!(section.value().attr("data-item-id"), Some(item), "{href}");
    }
    refused_form_shows_the_posted_text_escaped(&api, &liaison, &text).await;
    let figures = page(&api, &liaison, "/figures").await;
    // The figures name leaders (a table and an SVG chart's labels), not units.
    assert_escaped("/figures", &figures, &[&text.leader_name]);
}

/// The href of the link in `item`'s board row.
fn item_link(board: &str, item: &str) -> String {
    let document = Html::parse_document(board);
    let rows = selector("table#board tr[data-item-id]");
    let row = document
        .select(&rows)
        .find(|row| row.value().attr("data-item-id") == Some(item))
        .unwrap_or_else(|| panic!("no board row for {item}"));
    let link = row
        .select(&selector("a[href]"))
        .next()
        .unwrap_or_else(|| panic!("no link in {item}'s row"));
    let href = link.value().attr("href").expect("href");
    // Where a browser would go: the href resolved against the board's URL (so `..` segments
    // that are not percent-encoded climb out of `/items/`).
    let board_url = url::Url::parse("http://127.0.0.1/").expect("base");
    let target = board_url.join(href).expect("a link a browser can follow");
    match target.query() {
        Some(query) => format!("{}?{query}", target.path()),
        None => target.path().to_owned(),
    }
}

/// The API returns every string exactly as it was sent.
async fn stored_verbatim(api: &Api, cast: &Cast, text: &Hostile) {
    for item in [ITEM, PATH_ITEM] {
        let path = format!("/api/items/{}/trail", encode_segment(item));
        let trail = api.get(&path, Some(&cast.auditor)).await;
        trail.expect(StatusCode::OK, None);
        let events = trail.body["events"].as_array().expect("events");
        let data = |kind: &str| -> &Value {
            &events
                .iter()
                .find(|event| event["type"] == kind)
                .unwrap_or_else(|| panic!("{item} has no {kind}"))["data"]
        };
        let filed = data("ItemFiled");
        assert_eq!(filed["item_id"], item);
        assert_eq!(filed["title"], text.title);
        assert_eq!(filed["body"], text.body);
        assert_eq!(filed["deputies"][0]["name"], text.deputy_name);
        assert_eq!(data("ItemAccepted")["reason"], text.triage_reason);
        let assigned = data("ItemAssigned");
        assert_eq!(assigned["lead_unit"], text.lead_unit);
        assert_eq!(assigned["co_units"][0], text.co_unit);
        assert_eq!(assigned["leader"]["name"], text.leader_name);
        let answered = data("ItemAnswered");
        assert_eq!(answered["text"], text.answer_text);
        assert_eq!(answered["doc_no"], text.doc_no);
        assert_eq!(answered["commitments"][0]["text"], text.commitment_text);
        assert_eq!(data("AnswerRated")["comment"], text.rating_comment);
        assert_eq!(data("ContactRecorded")["summary"], text.contact_summary);
        assert_eq!(data("ProgressReported")["summary"], text.progress_summary);
        let item_path = format!("/api/items/{}", encode_segment(item));
        let shown = api.get(&item_path, Some(&cast.auditor)).await;
        shown.expect(StatusCode::OK, None);
        assert_eq!(shown.body["item"]["title"], text.title, "{item_path}");
        assert_eq!(
            shown.body["item"]["lead_unit"], text.lead_unit,
            "{item_path}"
        );
    }
}

/// Percent-encodes one path segment (everything but unreserved characters).
fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A refused form comes back filled in with what was posted: as text, not markup.
async fn refused_form_shows_the_posted_text_escaped(api: &Api, cookie: &str, text: &Hostile) {
    let new_item = page(api, cookie, "/items/new").await;
    let csrf = {
        let document = Html::parse_document(&new_item);
        let token = document
            .select(&selector("form#form-FileItem input[name=\"csrf\"]"))
            .next()
            .and_then(|input| input.value().attr("value"))
            .expect("the filing form's csrf token")
            .to_owned();
        token
    };
    // Filing an id already filed is refused (wrong_state) after every field was read. The
    // texts are the short ones: percent-encoded, a 20,000-character Chinese body is far over
    // the 64 KiB request limit.
    let (title, body) = (hostile("form title"), hostile("form body"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("command", "FileItem"),
        ("item_id", ITEM),
        ("kind", "suggestion"),
        ("title", &title),
        ("body", &body),
        ("deputies.0.id", "d-1"),
        ("deputies.0.name", &text.deputy_name),
    ];
    let form_body = fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode_segment(name), encode_segment(value)))
        .collect::<Vec<_>>()
        .join("&");
    let post = with_header(
        crate::http::raw(
            Method::POST,
            "/forms",
            None,
            "application/x-www-form-urlencoded",
            &form_body,
        ),
        header::COOKIE,
        cookie,
    );
    let answer = api.send(post).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    let Value::String(html) = answer.body else {
        panic!("the refusal is not a page: {}", answer.body)
    };
    assert!(html.contains("data-code=\"wrong_state\""), "{html}");
    let shown = [title.as_str(), &body, &text.deputy_name];
    assert_escaped("POST /forms (refused)", &html, &shown);
}
