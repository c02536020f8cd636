//! For operators and programs: health, metrics and the OpenAPI document. None of these needs a
//! credential, and none shows anything of the ledger but its size.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::openapi::ApiDoc;
use super::AppState;

/// The server is up and its database answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `"ok"`.
    pub status: &'static str,
    /// Records in the ledger.
    pub tree_size: u64,
}

/// Health: 200 when the server and its database answer.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "Up", body = Health),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer", body = ErrorBody),
    ))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let head = state
        .stores
        .events
        .head()
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    Ok(Json(Health {
        status: "ok",
        tree_size: head.tree_size,
    }))
}

/// The Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Requests by route and status, latency histogram, command and login outcomes by code, ledger tree size",
            body = String, content_type = "text/plain; version=0.0.4"),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
    ))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let tree_size = match state.stores.events.head().await {
        Ok(head) => Some(head.tree_size),
        Err(error) => {
            tracing::warn!(%error, "metrics: the ledger's size cannot be read");
            None
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(tree_size),
    )
}

/// This document: every route the server serves, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", body = Object),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
    ))]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
