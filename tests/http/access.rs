//! Credentials: 401 for every way of not having one, password login with its cookie, logout, and
//! slowed-down guessing. The clock is the test's; nothing sleeps.

use std::time::Duration;

use aggregates::actor::Role;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use huiyin::http::{HttpConfig, SESSION_TTL};
use libtest_mimic::Trial;
use serde_json::{json, Value};

use super::{file, from_address, request, with_header, Answer, Api};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "http",
        "missing_forged_expired_and_revoked_credentials_get_401",
        missing_forged_expired_and_revoked_credentials_get_401,
    ));
    trials.extend(on_both(
        "http",
        "login_sets_a_session_cookie_that_works_until_logout",
        login_sets_a_session_cookie_that_works_until_logout,
    ));
    trials.extend(on_both(
        "http",
        "a_form_login_is_redirected_and_its_session_expires",
        a_form_login_is_redirected_and_its_session_expires,
    ));
    trials.extend(on_both(
        "http",
        "login_refusals_have_their_statuses",
        login_refusals_have_their_statuses,
    ));
    trials.extend(on_both(
        "http",
        "failed_logins_are_slowed_down_per_account_and_per_address",
        failed_logins_are_slowed_down_per_account_and_per_address,
    ));
    trials
}

/// Asserts 401 with the JSON shape and the Bearer challenge, for a read and for a command.
async fn assert_401(api: &Api, decorate: impl Fn(Request<Body>) -> Request<Body>) {
    let read = api
        .send(decorate(request(Method::GET, "/api/board", None, None)))
        .await;
    read.expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    assert!(read.headers.contains_key(header::WWW_AUTHENTICATE));
    let write = api
        .send(decorate(request(
            Method::POST,
            "/api/commands",
            None,
            Some(&file("2024-S-401", "d-1")),
        )))
        .await;
    write.expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}

fn bearer(token: &str) -> impl Fn(Request<Body>) -> Request<Body> + '_ {
    move |request| with_header(request, header::AUTHORIZATION, &format!("Bearer {token}"))
}

fn cookie(value: &str) -> impl Fn(Request<Body>) -> Request<Body> + '_ {
    move |request| with_header(request, header::COOKIE, &format!("huiyin_session={value}"))
}

async fn missing_forged_expired_and_revoked_credentials_get_401(db: Fresh) {
    let api = Api::new(&db).await;
    assert_401(&api, |request| request).await;
    // Forged: the right form, never issued; the wrong form; another scheme.
    let forged = format!("hy_{}", "ab".repeat(32));
    assert_401(&api, bearer(&forged)).await;
    assert_401(&api, bearer("not-a-token")).await;
    assert_401(&api, |request| {
        with_header(request, header::AUTHORIZATION, "Basic bGlhaXNvbjpwdw==")
    })
    .await;
    assert_401(&api, cookie(&"cd".repeat(32))).await;
    // A real token works, then expires.
    let issued = huiyin::auth::issue_token(
        &*api.stores.credentials,
        "liaison-01",
        Role::Liaison,
        commands::Clock::now(&*api.clock),
        Duration::from_secs(60),
    )
    .await
    .expect("issue");
    api.get("/api/board", Some(&issued.token))
        .await
        .expect(StatusCode::OK, None);
    api.clock.advance(Duration::from_secs(60));
    assert_401(&api, bearer(&issued.token)).await;
    // Another is revoked by its id.
    let token = api.token("liaison-02", Role::Liaison).await;
    api.get("/api/board", Some(&token))
        .await
        .expect(StatusCode::OK, None);
    let issued_id = {
        let digest = huiyin::auth::secret::digest(&token);
        api.stores
            .credentials
            .token(&digest)
            .await
            .expect("lookup")
            .expect("stored")
            .token_id
    };
    let now = commands::Clock::now(&*api.clock);
    assert!(api
        .stores
        .credentials
        .revoke_token(&issued_id, now)
        .await
        .expect("revoke"));
    assert!(!api
        .stores
        .credentials
        .revoke_token(&issued_id, now)
        .await
        .expect("again"));
    assert_401(&api, bearer(&token)).await;
    // Only the digest is stored: the token's text appears nowhere in the database.
    let digest = huiyin::auth::secret::digest(&token);
    let stored = api
        .stores
        .credentials
        .token(&digest)
        .await
        .expect("lookup")
        .expect("stored");
    assert_eq!(stored.secret_hash, digest);
    assert!(stored.revoked_at.is_some());
}

fn login_request(body: &Value) -> Request<Body> {
    request(Method::POST, "/login", None, Some(body))
}

fn set_cookie(answer: &Answer) -> String {
    answer
        .headers
        .get(header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .expect("a Set-Cookie header")
        .to_owned()
}

/// The `name=value` part of a Set-Cookie header, to send back as Cookie.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .expect("a pair")
        .trim()
        .to_owned()
}

async fn login_sets_a_session_cookie_that_works_until_logout(db: Fresh) {
    let api = Api::new(&db).await;
    api.password("liaison-01", &[Role::Liaison], "correct horse battery")
        .await;
    let login = api
        .send(login_request(
            &json!({"person_id": "liaison-01", "password": "correct horse battery"}),
        ))
        .await;
    login.expect(StatusCode::OK, None);
    assert_eq!(login.body["person_id"], "liaison-01");
    assert_eq!(login.body["role"], "liaison");
    let set = set_cookie(&login);
    assert!(set.starts_with("huiyin_session="), "{set}");
    let value = cookie_pair(&set)["huiyin_session=".len()..].to_owned();
    assert_eq!(value.len(), 64, "256 random bits as hex: {set}");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        &format!("Max-Age={}", SESSION_TTL.as_secs()),
    ] {
        assert!(set.contains(attribute), "{attribute} missing: {set}");
    }
    assert!(
        !set.contains("Secure"),
        "loopback: no TLS, no Secure: {set}"
    );
    // The cookie reads and writes, as the person who logged in.
    let with_cookie = |request: Request<Body>| {
        with_header(
            request,
            header::COOKIE,
            &format!("lang=zh; {}", cookie_pair(&set)),
        )
    };
    api.send(with_cookie(request(Method::GET, "/api/board", None, None)))
        .await
        .expect(StatusCode::OK, None);
    let filed = api
        .send(with_cookie(request(
            Method::POST,
            "/api/commands",
            None,
            Some(&file("2024-S-100", "d-1")),
        )))
        .await;
    filed.expect(StatusCode::OK, None);
    let trail = api
        .send(with_cookie(request(
            Method::GET,
            "/api/items/2024-S-100/trail",
            None,
            None,
        )))
        .await;
    assert_eq!(trail.body["events"][0]["actor"], "liaison-01");
    // Logging out ends the session and clears the cookie.
    let logout = api
        .send(with_cookie(request(Method::POST, "/logout", None, None)))
        .await;
    logout.expect(StatusCode::OK, None);
    assert!(set_cookie(&logout).contains("Max-Age=0"));
    api.send(with_cookie(request(Method::GET, "/api/board", None, None)))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}

async fn login_refusals_have_their_statuses(db: Fresh) {
    let api = Api::new(&db).await;
    api.password("l-1", &[Role::Leader, Role::Handler], "leader's password")
        .await;
    let attempt = |body: Value| api.send(login_request(&body));
    attempt(json!({"person_id": "l-1", "password": "wrong password"}))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    attempt(json!({"person_id": "nobody", "password": "leader's password"}))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    attempt(json!({"person_id": "x".repeat(65), "password": "leader's password"}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    // Right password, but two roles and none chosen; a role not granted; a role that is no role.
    attempt(json!({"person_id": "l-1", "password": "leader's password"}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    attempt(json!({"person_id": "l-1", "password": "leader's password", "role": "liaison"}))
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    attempt(json!({"person_id": "l-1", "password": "leader's password", "role": "king"}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    let chosen =
        attempt(json!({"person_id": "l-1", "password": "leader's password", "role": "handler"}))
            .await;
    chosen.expect(StatusCode::OK, None);
    assert_eq!(chosen.body["role"], "handler");
    // Bodies that are not a login.
    attempt(json!({"person_id": "l-1"}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    let mut text = request(Method::POST, "/login", None, None);
    *text.body_mut() = Body::from("person_id=l-1");
    api.send(with_header(text, header::CONTENT_TYPE, "text/plain"))
        .await
        .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("invalid"));
    let mut broken = request(Method::POST, "/login", None, None);
    *broken.body_mut() = Body::from("{\"person_id\":");
    api.send(with_header(
        broken,
        header::CONTENT_TYPE,
        "application/json",
    ))
    .await
    .expect(StatusCode::BAD_REQUEST, Some("invalid"));
    // A new password ends the sessions of the old one.
    let cookie = cookie_pair(&set_cookie(&chosen));
    let board = || {
        with_header(
            request(Method::GET, "/api/board", None, None),
            header::COOKIE,
            &cookie,
        )
    };
    api.send(board()).await.expect(StatusCode::OK, None);
    api.password("l-1", &[Role::Leader], "a new password").await;
    api.send(board())
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}

async fn failed_logins_are_slowed_down_per_account_and_per_address(db: Fresh) {
    let api = Api::new(&db).await;
    api.password("d-1", &[Role::Deputy], "deputy's password")
        .await;
    let attempt = |person: &str, password: &str, address: &str| {
        from_address(
            login_request(&json!({"person_id": person, "password": password})),
            address,
        )
    };
    let home = "198.51.100.1:40000";
    for _ in 0..3 {
        api.send(attempt("d-1", "guess", home))
            .await
            .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    }
    // The fourth try must wait a second, even with the right password, from anywhere.
    for address in [home, "203.0.113.9:1"] {
        let held = api.send(attempt("d-1", "deputy's password", address)).await;
        held.expect(StatusCode::TOO_MANY_REQUESTS, Some("throttled"));
        assert_eq!(held.headers[header::RETRY_AFTER], "1");
    }
    api.clock.advance(Duration::from_secs(1));
    api.send(attempt("d-1", "guess", home))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    // Each further failure doubles the wait.
    let held = api.send(attempt("d-1", "deputy's password", home)).await;
    held.expect(StatusCode::TOO_MANY_REQUESTS, Some("throttled"));
    assert_eq!(held.headers[header::RETRY_AFTER], "2");
    api.clock.advance(Duration::from_secs(2));
    api.send(attempt("d-1", "deputy's password", home))
        .await
        .expect(StatusCode::OK, None);
    // A success forgets the account's failures.
    api.send(attempt("d-1", "guess", home))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    api.send(attempt("d-1", "deputy's password", home))
        .await
        .expect(StatusCode::OK, None);
    // One address guessing at many accounts is slowed down too, other addresses are not.
    let guesser = "192.0.2.66:5555";
    for n in 0..20 {
        api.send(attempt(&format!("p-{n}"), "guess", guesser))
            .await
            .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    }
    api.send(attempt("d-1", "deputy's password", guesser))
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS, Some("throttled"));
    api.send(attempt("d-1", "deputy's password", home))
        .await
        .expect(StatusCode::OK, None);
    let metrics = api.get("/metrics", None).await;
    let text = metrics.body.as_str().expect("text");
    assert!(
        text.contains("huiyin_logins_total{outcome=\"throttled\"} 4"),
        "{text}"
    );
}

async fn a_form_login_is_redirected_and_its_session_expires(db: Fresh) {
    let api = Api::new(&db).await;
    api.password("liaison-01", &[Role::Liaison], "correct horse battery")
        .await;
    let mut form = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "person_id=liaison-01&password=correct+horse+battery&role=&next=%2Fboard",
        ))
        .expect("request");
    form = from_address(form, "127.0.0.1:50000");
    let redirected = api.send(form).await;
    assert_eq!(redirected.status, StatusCode::SEE_OTHER);
    assert_eq!(redirected.headers[header::LOCATION], "/board");
    let second = cookie_pair(&set_cookie(&redirected));
    let with_second = |request: Request<Body>| with_header(request, header::COOKIE, &second);
    api.send(with_second(request(Method::GET, "/api/board", None, None)))
        .await
        .expect(StatusCode::OK, None);
    api.clock.advance(SESSION_TTL);
    api.send(with_second(request(Method::GET, "/api/board", None, None)))
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    // Off loopback the cookie is Secure.
    let public =
        Api::with_config(&db, HttpConfig::for_address(([192, 0, 2, 10], 443).into())).await;
    let login = public
        .send(login_request(
            &json!({"person_id": "liaison-01", "password": "correct horse battery"}),
        ))
        .await;
    login.expect(StatusCode::OK, None);
    assert!(
        set_cookie(&login).ends_with("; Secure"),
        "{}",
        set_cookie(&login)
    );
}
