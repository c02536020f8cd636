//! The auditor's routes: the latest signed checkpoint, inclusion and consistency proofs, and the
//! export. The server never holds a signing key (keys never enter the database): checkpoints are
//! signed with `huiyin checkpoint --key FILE`, and these routes serve what was signed.

use aggregates::actor::Role;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use infra::merkle::PROOF_HASHES_MAX;
use infra::record::Hash;
use infra::store::{EventStore, StoreError, StoredCheckpoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use super::AppState;
use crate::auth::Principal;

/// The latest checkpoint the ledger signed (C2SP tlog-checkpoint), with its witnesses'
/// cosignatures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckpointView {
    /// 1, 2, 3… in signing order.
    pub checkpoint_id: u64,
    /// The number of records it commits to.
    pub tree_size: u64,
    /// The RFC 6962 root of those records, hex.
    pub root: String,
    /// The signed note, followed by every witness's cosignature line.
    pub note: String,
    /// When it was stored (server clock).
    pub recorded_at: String,
    /// How many witnesses cosigned it.
    pub cosignatures: usize,
}

impl From<StoredCheckpoint> for CheckpointView {
    fn from(stored: StoredCheckpoint) -> Self {
        CheckpointView {
            note: stored.cosigned_note(),
            checkpoint_id: stored.checkpoint_id,
            tree_size: stored.tree_size,
            root: stored.root.to_hex(),
            recorded_at: stored.recorded_at,
            cosignatures: stored.cosignatures.len(),
        }
    }
}

fn store_failure(error: StoreError) -> ApiError {
    match error {
        StoreError::Proof(error) => ApiError::Invalid(error.to_string()),
        other => ApiError::from(other),
    }
}

async fn latest(store: &dyn EventStore) -> Result<StoredCheckpoint, ApiError> {
    store
        .latest_checkpoint()
        .await
        .map_err(store_failure)?
        .ok_or_else(|| {
            ApiError::NotFound(
            "the ledger has no signed checkpoint yet; sign one with huiyin checkpoint --key FILE"
                .to_owned(),
        )
        })
}

/// The latest signed checkpoint. Every role may read it.
#[utoipa::path(get, path = "/api/checkpoint", tag = "proofs",
    responses(
        (status = 200, description = "The latest checkpoint", body = CheckpointView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`: nothing has been signed yet", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<Json<CheckpointView>, ApiError> {
    Ok(Json(latest(&*state.stores.events).await?.into()))
}

fn hex_list(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_hex).collect()
}

/// Which record, in which tree.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The record's position (its leaf index).
    pub index: u64,
    /// The tree size; default the whole log.
    pub size: Option<u64>,
}

/// An inclusion proof: the same JSON as `huiyin prove --index`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InclusionView {
    /// The leaf index.
    pub index: u64,
    /// The tree size.
    pub size: u64,
    /// The record's leaf hash, hex.
    pub leaf_hash: String,
    /// The root of the tree of `size` records, hex.
    pub root: String,
    /// The proof's hashes, hex, at most 64.
    pub proof: Vec<String>,
}

/// Proves that the record at `index` is in the tree of `size` records (RFC 6962 §2.1.1).
#[utoipa::path(get, path = "/api/proofs/inclusion", tag = "proofs", params(InclusionQuery),
    responses(
        (status = 200, description = "The proof", body = InclusionView),
        (status = 400, description = "`invalid`: index or size missing or not a number", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 422, description = "`invalid`: index or size out of range", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn inclusion(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionView>, ApiError> {
    let store = &*state.stores.events;
    let size = match query.size {
        Some(size) => size,
        None => store.head().await.map_err(store_failure)?.tree_size,
    };
    let evidence = store
        .prove_inclusion(query.index, size)
        .await
        .map_err(store_failure)?;
    debug_assert!(evidence.proof.hashes.len() <= PROOF_HASHES_MAX);
    Ok(Json(InclusionView {
        index: query.index,
        size,
        leaf_hash: evidence.leaf_hash.to_hex(),
        root: evidence.root.to_hex(),
        proof: hex_list(&evidence.proof.hashes),
    }))
}

/// Which two trees.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The smaller tree size (at least 1).
    pub from: u64,
    /// The larger tree size; default the whole log.
    pub to: Option<u64>,
}

/// A consistency proof: the same JSON as `huiyin prove --from --to`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsistencyView {
    /// The smaller tree size.
    pub size1: u64,
    /// The larger tree size.
    pub size2: u64,
    /// The root of the smaller tree, hex.
    pub root1: String,
    /// The root of the larger tree, hex.
    pub root2: String,
    /// The proof's hashes, hex.
    pub proof: Vec<String>,
}

/// Proves that the tree of `to` records extends the tree of `from` records (RFC 6962 §2.1.2).
#[utoipa::path(get, path = "/api/proofs/consistency", tag = "proofs", params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof", body = ConsistencyView),
        (status = 400, description = "`invalid`: from or to missing or not a number", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 422, description = "`invalid`: sizes out of range", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn consistency(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyView>, ApiError> {
    let store = &*state.stores.events;
    let size2 = match query.to {
        Some(size) => size,
        None => store.head().await.map_err(store_failure)?.tree_size,
    };
    let evidence = store
        .prove_consistency(query.from, size2)
        .await
        .map_err(store_failure)?;
    Ok(Json(ConsistencyView {
        size1: query.from,
        size2,
        root1: evidence.root1.to_hex(),
        root2: evidence.root2.to_hex(),
        proof: hex_list(&evidence.proof.hashes),
    }))
}

/// The export (auditor only): JSON Lines, one `{"record","hash"}` per record up to the latest
/// signed checkpoint, then `{"checkpoint"}`, exactly as `huiyin export` writes it. It is built
/// and verified whole before the first byte is sent, so a 200 is always a verified export.
#[utoipa::path(get, path = "/api/export", tag = "proofs",
    responses(
        (status = 200, description = "The export", body = String, content_type = "application/x-ndjson"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: only an auditor exports", body = ErrorBody),
        (status = 404, description = "`not_found`: nothing has been signed yet", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took longer than the server allows (30 s unless configured) and was abandoned", body = ErrorBody),
        (status = 500, description = "`internal`: the log does not verify against its checkpoint (see the server's log)", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database does not answer; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn export(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    if principal.role != Role::Auditor {
        return Err(ApiError::Forbidden(
            "only an auditor exports the ledger".to_owned(),
        ));
    }
    let store = state.stores.events.clone();
    let checkpoint = latest(&*store).await?;
    let tree_size = checkpoint.tree_size;
    // `write_export` writes to a `dyn Write`, which is not `Send`; it runs to completion on a
    // blocking thread of its own instead of inside the request's task.
    let runtime = tokio::runtime::Handle::current();
    let written = tokio::task::spawn_blocking(move || {
        let mut body = Vec::new();
        runtime
            .block_on(infra::export::write_export(&*store, &checkpoint, &mut body))
            .map(|_| body)
    })
    .await
    .map_err(|error| ApiError::Internal(format!("the export task failed: {error}")))?;
    let body = written.map_err(|error| {
        ApiError::Internal(format!("export refused: the log does not verify: {error}"))
    })?;
    let disposition = format!("attachment; filename=\"huiyin-export-{tree_size}.jsonl\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
