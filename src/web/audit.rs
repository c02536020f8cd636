//! The auditor's page: the latest signed checkpoint, the log's size, the export and proof APIs,
//! and how to verify offline. Every role may read it; the export itself is the auditor's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use infra::store::StoredCheckpoint;
use maud::{html, Markup};

use super::i18n::Lang;
use super::layout::page;
use super::{PageContext, PageError};
use crate::http::AppState;

/// The signers of a C2SP signed note: the names on its `— name signature` lines.
fn signers(note: &str) -> Vec<&str> {
    note.lines()
        .filter_map(|line| line.strip_prefix("— "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect()
}

fn checkpoint_markup(lang: Lang, checkpoint: &StoredCheckpoint) -> Markup {
    let origin = checkpoint.note.lines().next().unwrap_or_default();
    html! {
        dl id="checkpoint" data-tree-size=(checkpoint.tree_size) {
            dt { (lang.t("audit.origin")) } dd { code { (origin) } }
            dt { (lang.t("audit.tree_size")) } dd { (checkpoint.tree_size) }
            dt { (lang.t("audit.root_hash")) } dd { code class="hash" { (checkpoint.root.to_hex()) } }
            dt { (lang.t("audit.signed_by")) } dd { (signers(&checkpoint.note).join(", ")) }
            dt { (lang.t("item.recorded_at")) } dd { (checkpoint.recorded_at) }
        }
        h3 { (lang.t("audit.note")) }
        pre id="checkpoint-note" { (checkpoint.note) @for line in &checkpoint.cosignatures { (line) } }
    }
}

/// `GET /audit`.
pub(crate) async fn audit_page(
    State(app): State<AppState>,
    context: PageContext,
) -> Result<Response, PageError> {
    context.require()?;
    let lang = context.lang;
    let events = &app.stores.events;
    let head = events
        .head()
        .await
        .map_err(|error| PageError::failed(lang, error))?;
    let latest = events
        .latest_checkpoint()
        .await
        .map_err(|error| PageError::failed(lang, error))?;
    let last_index = head.tree_size.saturating_sub(1);
    let body = html! {
        p { (lang.t("audit.log_size")) ": " strong id="log-size" { (head.tree_size) } }
        h2 { (lang.t("audit.checkpoint")) }
        @match &latest {
            Some(checkpoint) => (checkpoint_markup(lang, checkpoint)),
            None => p id="no-checkpoint" { (lang.t("audit.no_checkpoint")) },
        }
        h2 { (lang.t("audit.links")) }
        ul {
            li { a id="export-link" href="/api/export" { (lang.t("audit.export")) } " — " code { "GET /api/export" } }
            li { a href="/api/checkpoint" { (lang.t("audit.checkpoint_api")) } " — " code { "GET /api/checkpoint" } }
            li { a href={ "/api/proofs/inclusion?index=" (last_index) } { (lang.t("audit.inclusion_api")) }
                " — " code { "GET /api/proofs/inclusion?index=N&size=S" } }
            li { a href={ "/api/proofs/consistency?from=1&to=" (head.tree_size.max(1)) } { (lang.t("audit.consistency_api")) }
                " — " code { "GET /api/proofs/consistency?from=S1&to=S2" } }
        }
        h2 { (lang.t("audit.offline")) }
        p { (lang.t("audit.offline_explain")) }
        pre id="verify-offline" {
            "huiyin verify --export huiyin-export.jsonl --key ledger.pub\n"
            "huiyin tlog verify-inclusion --leaf-hash H --index I --size N --root R --proof H1,H2,…\n"
            "huiyin tlog verify-consistency --size1 S1 --size2 S2 --root1 R1 --root2 R2 --proof H1,H2,…"
        }
    };
    Ok(context.respond(StatusCode::OK, page(&context, lang.t("audit.title"), body)))
}
