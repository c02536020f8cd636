//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the
//! types they take and return. A test compares its paths with [`super::served_routes`], so a
//! route served but not listed here (or listed but not served) fails the build's tests.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{api, ops, proofs, session};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Huiyin 回音",
        description = "The supervision and feedback ledger's HTTP API (DESIGN.md §6). Every error \
                       is `{\"error\":{\"code\",\"message\"}}` with a stable code.",
    ),
    paths(
        api::post_command,
        api::board,
        api::item,
        api::trail,
        api::stats,
        proofs::checkpoint,
        proofs::inclusion,
        proofs::consistency,
        proofs::export,
        session::login,
        session::logout,
        ops::healthz,
        ops::metrics,
        ops::openapi,
    ),
    modifiers(&Credentials),
    tags(
        (name = "ledger", description = "Commands, the board, items, trails and figures"),
        (name = "proofs", description = "Signed checkpoints, inclusion and consistency proofs, the export"),
        (name = "session", description = "Password login and logout"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Declares the two credentials: a bearer token, or the session cookie a login sets.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `huiyin token issue`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::extract::SESSION_COOKIE,
                "The cookie POST /login sets",
            ))),
        );
    }
}
