//! Health, metrics, the OpenAPI document against the router, and the error shape of everything
//! the layers refuse.

use std::collections::BTreeSet;

use aggregates::actor::Role;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use huiyin::http::{served_routes, REQUEST_BODY_BYTES_MAX};
use libtest_mimic::Trial;
use serde_json::{json, Value};

use super::{answered_item, file, request, with_header, Answer, Api, Cast};
use crate::support::{fresh_at, on_both, on_postgres, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both("http", "healthz_and_metrics", healthz_and_metrics));
    trials.extend(on_both(
        "http",
        "openapi_lists_exactly_the_routes_the_router_serves",
        openapi_lists_exactly_the_routes_the_router_serves,
    ));
    trials.extend(on_both(
        "http",
        "openapi_schemas_have_the_fields_the_responses_have",
        openapi_schemas_have_the_fields_the_responses_have,
    ));
    trials.push(on_postgres(
        "http",
        "with_postgres_stopped_every_route_answers_503_exactly_where_the_openapi_document_says",
        with_postgres_stopped_every_route_answers_503_exactly_where_the_openapi_document_says,
    ));
    trials.extend(on_both(
        "http",
        "unknown_routes_bad_methods_and_large_bodies_answer_in_the_error_shape",
        unknown_routes_bad_methods_and_large_bodies_answer_in_the_error_shape,
    ));
    trials
}

async fn healthz_and_metrics(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let health = api.get("/healthz", None).await;
    health.expect(StatusCode::OK, None);
    assert_eq!(health.body, json!({"status": "ok", "tree_size": 0}));
    api.command(&cast.liaison, &file("2024-S-M", "d-1"))
        .await
        .expect(StatusCode::OK, None);
    api.command(&cast.handler, &file("2024-S-N", "d-1"))
        .await
        .expect(StatusCode::FORBIDDEN, None);
    api.get("/api/items/2024-S-M", Some(&cast.liaison))
        .await
        .expect(StatusCode::OK, None);
    api.get("/api/items/2024-S-X", Some(&cast.liaison))
        .await
        .expect(StatusCode::NOT_FOUND, None);
    api.get("/nowhere", None)
        .await
        .expect(StatusCode::NOT_FOUND, None);
    let metrics = api.get("/metrics", None).await;
    metrics.expect(StatusCode::OK, None);
    let content_type = metrics.headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = metrics.body.as_str().expect("text");
    for line in [
        "huiyin_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1",
        "huiyin_http_requests_total{route=\"/api/commands\",method=\"POST\",status=\"200\"} 1",
        "huiyin_http_requests_total{route=\"/api/commands\",method=\"POST\",status=\"403\"} 1",
        "huiyin_http_requests_total{route=\"/api/items/{id}\",method=\"GET\",status=\"404\"} 1",
        "huiyin_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "huiyin_http_request_duration_seconds_count{route=\"/api/items/{id}\"} 2",
        "huiyin_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1",
        "huiyin_commands_total{outcome=\"ok\"} 1",
        "huiyin_commands_total{outcome=\"forbidden\"} 1",
        "# TYPE huiyin_http_request_duration_seconds histogram",
        "huiyin_ledger_tree_size 1",
    ] {
        assert!(
            text.lines().any(|have| have == line),
            "missing {line:?} in\n{text}"
        );
    }
    // Every response carries a request id; one the client sent is kept.
    assert!(health.headers.contains_key("x-request-id"));
    let mine = with_header(
        request(Method::GET, "/healthz", None, None),
        header::HeaderName::from_static("x-request-id"),
        "req-42",
    );
    assert_eq!(api.send(mine).await.headers["x-request-id"], "req-42");
}

/// The document as the server serves it.
pub async fn document(api: &Api) -> Value {
    let answer = api.get("/api/openapi.json", None).await;
    answer.expect(StatusCode::OK, None);
    answer.body
}

/// A request that can reach `path`'s handler: path parameters filled in, a body where it posts.
fn probe(method: &Method, path: &str) -> Request<Body> {
    let path = path.replace("{id}", "2024-S-P");
    let body = (method == Method::POST).then(|| json!({}));
    request(method.clone(), &path, None, body.as_ref())
}

async fn openapi_lists_exactly_the_routes_the_router_serves(db: Fresh) {
    let api = Api::new(&db).await;
    let document = document(&api).await;
    assert!(document["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = served_routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_owned()))
        .collect();
    assert_eq!(
        documented, served,
        "the OpenAPI paths and the router's routes differ"
    );
    // The table is what the router serves: each route reaches a handler (not the fallback, not
    // 405), and a path not in it reaches the fallback.
    for (method, path) in served_routes() {
        let answer = api.send(probe(&method, path)).await;
        assert!(!answer.route_not_found, "{method} {path} is not routed");
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
    assert!(api.get("/api/nothing-here", None).await.route_not_found);
    // Every documented error names the one error schema.
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            // The timeout layer wraps every route; every route but these two reads the database
            // (if only to check the credential), and a database that does not answer is a 503.
            let responses = &operation["responses"];
            assert!(
                responses["408"].is_object(),
                "{method} {path} does not document 408 timeout"
            );
            let without_database = [("get", "/metrics"), ("get", "/api/openapi.json")];
            if !without_database.contains(&(method.as_str(), path.as_str())) {
                assert!(
                    responses["503"].is_object(),
                    "{method} {path} does not document 503 unavailable"
                );
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

/// Follows `$ref`s and picks the non-null alternative of `oneOf`s.
fn resolve<'a>(document: &'a Value, schema: &'a Value, value: &Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return resolve(document, &document["components"]["schemas"][name], value);
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let chosen = alternatives
            .iter()
            .find(|alternative| (alternative["type"] == "null") == value.is_null());
        if let Some(chosen) = chosen {
            return resolve(document, chosen, value);
        }
    }
    schema
}

/// Asserts that every object in `value` has exactly the properties its schema names.
fn check_shape(document: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(document, schema, value);
    match value {
        Value::Object(members) => {
            if let Some(properties) = schema["properties"].as_object() {
                let have: BTreeSet<&String> = members.keys().collect();
                let documented: BTreeSet<&String> = properties.keys().collect();
                assert_eq!(have, documented, "at {at}");
                for (name, member) in members {
                    check_shape(document, &properties[name], member, &format!("{at}.{name}"));
                }
            } else if schema["additionalProperties"].is_object() {
                for (name, member) in members {
                    check_shape(
                        document,
                        &schema["additionalProperties"],
                        member,
                        &format!("{at}.{name}"),
                    );
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_shape(document, &schema["items"], item, &format!("{at}[{index}]"));
            }
        }
        _ => {}
    }
}

pub fn check_answer(document: &Value, method: &str, path: &str, answer: &Answer) {
    let status = answer.status.as_u16().to_string();
    let response = &document["paths"][path][method]["responses"][&status];
    assert!(
        response.is_object(),
        "{method} {path} does not document {status}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    check_shape(
        document,
        schema,
        &answer.body,
        &format!("{method} {path} {status}"),
    );
}

async fn openapi_schemas_have_the_fields_the_responses_have(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let document = document(&api).await;
    answered_item(&api, &cast, "2024-S-O", "d-1").await;
    let rated = super::command(
        "o-rate",
        "RateAnswer",
        "2024-05-25T09:00:00+08:00",
        json!({"item_id": "2024-S-O", "rating": "satisfied"}),
    );
    check_answer(
        &document,
        "post",
        "/api/commands",
        &api.command(&cast.deputy, &rated).await,
    );
    check_answer(
        &document,
        "post",
        "/api/commands",
        &api.command(&cast.deputy, &rated).await,
    );
    check_answer(
        &document,
        "post",
        "/api/commands",
        &api.command(&cast.handler, &file("x", "d-1")).await,
    );
    check_answer(
        &document,
        "get",
        "/api/board",
        &api.get("/api/board?now=2024-06-01", Some(&cast.liaison))
            .await,
    );
    check_answer(
        &document,
        "get",
        "/api/items/{id}",
        &api.get("/api/items/2024-S-O", Some(&cast.liaison)).await,
    );
    check_answer(
        &document,
        "get",
        "/api/items/{id}/trail",
        &api.get("/api/items/2024-S-O/trail", Some(&cast.liaison))
            .await,
    );
    check_answer(
        &document,
        "get",
        "/api/stats",
        &api.get("/api/stats", Some(&cast.liaison)).await,
    );
    check_answer(
        &document,
        "get",
        "/api/stats",
        &api.get("/api/stats", None).await,
    );
    check_answer(
        &document,
        "get",
        "/healthz",
        &api.get("/healthz", None).await,
    );
    check_session_answers(&api, &document).await;
}

async fn unknown_routes_bad_methods_and_large_bodies_answer_in_the_error_shape(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let unknown = api.get("/api/boards", Some(&cast.liaison)).await;
    unknown.expect(StatusCode::NOT_FOUND, Some("not_found"));
    assert!(unknown.headers.contains_key("x-request-id"));
    let wrong_method = api
        .send(request(
            Method::DELETE,
            "/api/board",
            Some(&cast.liaison),
            None,
        ))
        .await;
    wrong_method.expect(StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"));
    assert!(wrong_method.headers.contains_key(header::ALLOW));
    // Too large, announced by Content-Length: refused before the body is read.
    let padding = "x".repeat(REQUEST_BODY_BYTES_MAX);
    let large = json!({"type": "FileItem", "data": {"item_id": "2024-S-L", "body": padding}});
    let announced = api.command(&cast.liaison, &large).await;
    announced.expect(StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"));
    // Too large, streamed without a length: refused while it is read.
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(large.to_string())];
    let streamed = Request::builder()
        .method(Method::POST)
        .uri("/api/commands")
        .header(header::AUTHORIZATION, format!("Bearer {}", cast.liaison))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .expect("request");
    api.send(streamed)
        .await
        .expect(StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"));
    // The largest body allowed is read.
    let fits = json!({"type": "FileItem", "data": {"item_id": "2024-S-L"}});
    let mut text = fits.to_string();
    text.insert_str(
        text.len() - 1,
        &" ".repeat(REQUEST_BODY_BYTES_MAX - text.len()),
    );
    assert_eq!(text.len(), REQUEST_BODY_BYTES_MAX);
    let mut exact = request(Method::POST, "/api/commands", Some(&cast.liaison), None);
    *exact.body_mut() = Body::from(text);
    let exact = with_header(exact, header::CONTENT_TYPE, "application/json");
    api.send(exact)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert_eq!(api.stores.events.head().await.expect("head").tree_size, 0);
}

async fn check_session_answers(api: &Api, document: &Value) {
    api.password("d-1", &[Role::Deputy], "deputy's password")
        .await;
    let login = api
        .post(
            "/login",
            None,
            &json!({"person_id": "d-1", "password": "deputy's password"}),
        )
        .await;
    check_answer(document, "post", "/login", &login);
    check_answer(
        document,
        "post",
        "/logout",
        &api.post("/logout", None, &json!({})).await,
    );
}

/// A request that reaches `path`'s handler with a credential allowed to use it, so that only the
/// database decides its answer.
fn with_credentials(method: &Method, path: &str, cast: &Cast) -> Request<Body> {
    match (method.as_str(), path) {
        ("POST", "/api/commands") => request(
            Method::POST,
            path,
            Some(&cast.liaison),
            Some(&file("2024-S-U", "d-1")),
        ),
        ("POST", "/login") => request(
            Method::POST,
            path,
            None,
            Some(&json!({"person_id": "d-1", "password": "a password"})),
        ),
        ("POST", "/logout") => with_header(
            request(Method::POST, path, None, Some(&json!({}))),
            header::COOKIE,
            "huiyin_session=a-session",
        ),
        ("GET", "/api/proofs/inclusion") => request(
            Method::GET,
            "/api/proofs/inclusion?index=0&size=1",
            Some(&cast.auditor),
            None,
        ),
        ("GET", "/api/proofs/consistency") => request(
            Method::GET,
            "/api/proofs/consistency?from=1&to=1",
            Some(&cast.auditor),
            None,
        ),
        ("GET", _) => request(
            Method::GET,
            &path.replace("{id}", "2024-S-U"),
            Some(&cast.auditor),
            None,
        ),
        _ => panic!("no request for {method} {path}: add one"),
    }
}

async fn with_postgres_stopped_every_route_answers_503_exactly_where_the_openapi_document_says(
    _shared: Fresh,
) {
    let cluster = crate::fault::private_pg::PrivateCluster::start();
    let db = fresh_at(&cluster.url()).await;
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    let document = document(&api).await;
    cluster.pg_ctl_stop_immediate();
    let routes = served_routes();
    let answers = futures::future::join_all(
        routes
            .iter()
            .map(|(method, path)| api.send(with_credentials(method, path, &cast))),
    )
    .await;
    for ((method, path), answer) in routes.iter().zip(&answers) {
        let method = method.as_str().to_ascii_lowercase();
        let documented = document["paths"][*path][&method]["responses"]["503"].is_object();
        if documented {
            answer.expect(StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"));
            check_answer(&document, &method, path, answer);
        } else {
            answer.expect(StatusCode::OK, None);
        }
    }
    drop(cluster);
}
