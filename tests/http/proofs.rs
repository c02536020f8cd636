//! The auditor's routes: the latest checkpoint, proofs that verify offline, and the export.

use axum::http::{header, StatusCode};
use infra::checkpoint::origin_for;
use infra::export::{verify_export, ExportReader};
use infra::merkle::{verify_consistency, verify_inclusion, ConsistencyProof, InclusionProof};
use infra::note::{KeyType, SignerKey};
use infra::record::Hash;
use infra::verify::VerifyOptions;
use libtest_mimic::Trial;
use serde_json::Value;

use super::{answered_item, Api, Cast};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "http",
        "checkpoint_and_proofs_verify_offline",
        checkpoint_and_proofs_verify_offline,
    ));
    trials.extend(on_both(
        "http",
        "only_an_auditor_exports_and_the_export_verifies",
        only_an_auditor_exports_and_the_export_verifies,
    ));
    trials.extend(on_both(
        "http",
        "export_of_a_log_tampered_under_its_checkpoint_is_500_internal_and_sends_no_record",
        export_of_a_log_tampered_under_its_checkpoint_is_500_internal_and_sends_no_record,
    ));
    trials
}

fn hash(value: &Value) -> Hash {
    value.as_str().expect("hex").parse().expect("a hash")
}

fn hashes(value: &Value) -> Vec<Hash> {
    value.as_array().expect("hashes").iter().map(hash).collect()
}

/// Signs a checkpoint of the whole log as `huiyin checkpoint --key` would; returns the signer.
async fn sign(api: &Api) -> SignerKey {
    let origin = origin_for("huiyin");
    let signer = SignerKey::generate(&origin, KeyType::Ed25519).expect("key");
    infra::signing::sign_checkpoint(&*api.stores.events, &signer, &origin)
        .await
        .expect("sign");
    signer
}

async fn checkpoint_and_proofs_verify_offline(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-P1", "d-1").await;
    api.get("/api/checkpoint", Some(&cast.deputy))
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let signer = sign(&api).await;
    let checkpoint = api.get("/api/checkpoint", Some(&cast.deputy)).await;
    checkpoint.expect(StatusCode::OK, None);
    assert_eq!(checkpoint.body["tree_size"], 4);
    let note = checkpoint.body["note"].as_str().expect("note");
    let (signed, _) = infra::checkpoint::open_checkpoint(note, Some(&signer.verifier()))
        .expect("the note verifies with the ledger's key");
    assert_eq!(signed.tree_size, 4);
    assert_eq!(signed.root, hash(&checkpoint.body["root"]));
    // The record at position 2 is in the signed tree, and its leaf is the trail's hash.
    let included = api
        .get("/api/proofs/inclusion?index=2&size=4", Some(&cast.deputy))
        .await;
    included.expect(StatusCode::OK, None);
    let trail = api
        .get("/api/items/2024-S-P1/trail", Some(&cast.deputy))
        .await;
    assert_eq!(included.body["leaf_hash"], trail.body["events"][2]["hash"]);
    let proof = InclusionProof {
        leaf_index: 2,
        tree_size: 4,
        hashes: hashes(&included.body["proof"]),
    };
    verify_inclusion(&proof, &hash(&included.body["leaf_hash"]), &signed.root).expect("valid");
    // Later records extend the signed tree.
    answered_item(&api, &cast, "2024-S-P2", "d-1").await;
    let extended = api
        .get("/api/proofs/consistency?from=4", Some(&cast.auditor))
        .await;
    extended.expect(StatusCode::OK, None);
    assert_eq!(extended.body["size2"], 8);
    let proof = ConsistencyProof {
        size1: 4,
        size2: 8,
        hashes: hashes(&extended.body["proof"]),
    };
    let root2 = hash(&extended.body["root2"]);
    verify_consistency(&proof, &signed.root, &root2).expect("valid");
    // The answers have the fields the OpenAPI document names.
    let document = super::ops::document(&api).await;
    for (path, answer) in [
        ("/api/checkpoint", &checkpoint),
        ("/api/proofs/inclusion", &included),
        ("/api/proofs/consistency", &extended),
    ] {
        super::ops::check_answer(&document, "get", path, answer);
    }
    for (path, status) in [
        (
            "/api/proofs/inclusion?index=9&size=8",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/proofs/consistency?from=0&to=8",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/proofs/consistency?from=4&to=99",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/proofs/inclusion", StatusCode::BAD_REQUEST),
        (
            "/api/proofs/inclusion?index=minus-one",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        api.get(path, Some(&cast.auditor))
            .await
            .expect(status, Some("invalid"));
    }
    api.get("/api/proofs/inclusion?index=0", None)
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}

async fn only_an_auditor_exports_and_the_export_verifies(db: Fresh) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-X1", "d-1").await;
    api.get("/api/export", Some(&cast.auditor))
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let signer = sign(&api).await;
    let tokens = [
        &cast.liaison,
        &cast.office,
        &cast.handler,
        &cast.leader,
        &cast.deputy,
    ];
    for token in tokens.into_iter().chain([&cast.admin]) {
        api.get("/api/export", Some(token))
            .await
            .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    }
    // A record appended after the checkpoint is not in the export, which ends at what was signed.
    answered_item(&api, &cast, "2024-S-X2", "d-2").await;
    let export = api.get("/api/export", Some(&cast.auditor)).await;
    export.expect(StatusCode::OK, None);
    assert_eq!(export.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let text = export.body.as_str().expect("JSON Lines").to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "four records and the checkpoint");
    assert!(lines[4].starts_with("{\"checkpoint\":"), "{}", lines[4]);
    let reader = ExportReader::new(Box::new(std::io::Cursor::new(text.into_bytes())));
    let options = VerifyOptions {
        key: Some(signer.verifier()),
        ..VerifyOptions::default()
    };
    let verified = verify_export(reader, &options).expect("the export verifies offline");
    assert_eq!(verified.tree_size, 4);
    assert!(verified.signatures_checked);
}

async fn export_of_a_log_tampered_under_its_checkpoint_is_500_internal_and_sends_no_record(
    db: Fresh,
) {
    let api = Api::new(&db).await;
    let cast = Cast::of(&api).await;
    answered_item(&api, &cast, "2024-S-X3", "d-1").await;
    sign(&api).await;
    api.get("/api/export", Some(&cast.auditor))
        .await
        .expect(StatusCode::OK, None);
    // Someone with the database's rights drops the trigger and improves the answer's class
    // (position 3) under the signed checkpoint.
    let statements: &[&str] = if db.url.starts_with("postgres") {
        &[
            "DROP TRIGGER events_refuse_change ON events",
            r#"UPDATE events SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), '"class":"A"', '"class":"B"'), 'UTF8') WHERE position = 3"#,
        ]
    } else {
        &[
            "DROP TRIGGER events_refuse_update",
            r#"UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"class":"A"', '"class":"B"') AS BLOB) WHERE position = 3"#,
        ]
    };
    for statement in statements {
        assert!(
            crate::raw::execute(&db.url, statement)
                .await
                .expect(statement)
                <= 1,
            "{statement}"
        );
    }
    let export = api.get("/api/export", Some(&cast.auditor)).await;
    export.expect(StatusCode::INTERNAL_SERVER_ERROR, Some("internal"));
    // The details are in the server's log, not in the answer; no record was sent.
    let message = export.body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("x-request-id"), "{message}");
    assert!(!message.contains("class"), "{message}");
    assert!(export.headers.contains_key("x-request-id"));
    assert_ne!(export.headers[header::CONTENT_TYPE], "application/x-ndjson");
    // Documented as the route's 500.
    super::ops::check_answer(
        &super::ops::document(&api).await,
        "get",
        "/api/export",
        &export,
    );
}
