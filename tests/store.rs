//! The store conformance suite: every behaviour of `EventStore`, on SQLite and on PostgreSQL.

use std::sync::Arc;

use futures::TryStreamExt;
use infra::record::{leaf_hash, seal, Hash, Record};
use infra::store::{
    AppendOutcome, AppendRequest, CommandMeta, EventStore, NewEvent, StoreError, StoredRecord,
    EVENTS_PER_APPEND_MAX, READ_PAGE_RECORDS,
};
use infra::verify::{verify_store, VerifyError};
use libtest_mimic::Trial;
use serde_json::json;

use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "store",
        "empty_log_has_zero_head",
        empty_log_has_zero_head,
    ));
    trials.extend(on_both(
        "store",
        "stored_bytes_round_trip_exactly",
        stored_bytes_round_trip_exactly,
    ));
    trials.extend(on_both(
        "store",
        "records_link_each_prev_to_the_previous_hash",
        records_link_each_prev_to_the_previous_hash,
    ));
    trials.extend(on_both(
        "store",
        "exactly_one_of_8_concurrent_appenders_wins_each_race",
        exactly_one_of_8_concurrent_appenders_wins_each_race,
    ));
    trials.extend(on_both(
        "store",
        "positions_are_gap_free_under_8_concurrent_writers",
        positions_are_gap_free_under_8_concurrent_writers,
    ));
    trials.extend(on_both(
        "store",
        "expected_version_ahead_of_the_stream_is_a_conflict",
        expected_version_ahead_of_the_stream_is_a_conflict,
    ));
    trials.extend(on_both(
        "store",
        "retry_with_same_command_id_returns_the_original_positions",
        retry_with_same_command_id_returns_the_original_positions,
    ));
    trials.extend(on_both(
        "store",
        "reused_command_id_with_other_content_is_duplicate",
        reused_command_id_with_other_content_is_duplicate,
    ));
    trials.extend(on_both(
        "store",
        "database_refuses_update_and_delete_of_records",
        database_refuses_update_and_delete_of_records,
    ));
    trials.extend(on_both(
        "store",
        "read_all_streams_across_pages_from_any_position",
        read_all_streams_across_pages_from_any_position,
    ));
    trials.extend(on_both(
        "store",
        "float_in_event_data_is_refused_and_nothing_appended",
        float_in_event_data_is_refused_and_nothing_appended,
    ));
    trials.extend(on_both(
        "store",
        "verify_names_the_record_completing_a_rewritten_merkle_node_past_the_first_chunk",
        verify_names_the_record_completing_a_rewritten_merkle_node_past_the_first_chunk,
    ));
    trials.extend(on_both(
        "store",
        "verify_names_the_record_whose_leaf_node_was_deleted_past_the_first_chunk",
        verify_names_the_record_whose_leaf_node_was_deleted_past_the_first_chunk,
    ));
    trials.extend(on_both(
        "store",
        "verify_finds_a_merkle_node_beyond_the_last_record",
        verify_finds_a_merkle_node_beyond_the_last_record,
    ));
    trials
}

fn command(command_id: &str, fingerprint: &str) -> CommandMeta {
    CommandMeta {
        command_id: command_id.to_owned(),
        request_hash: leaf_hash(fingerprint.as_bytes()),
        at: "2024-03-01T09:00:00+08:00".to_owned(),
        actor: "liaison-01".to_owned(),
        role: "liaison".to_owned(),
    }
}

fn event(event_type: &str, data: serde_json::Value) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        schema: 1,
        data,
    }
}

fn request(
    stream: &str,
    expected_version: u64,
    command_id: &str,
    events: Vec<NewEvent>,
) -> AppendRequest {
    AppendRequest {
        stream: stream.to_owned(),
        expected_version,
        command: command(command_id, command_id),
        events,
    }
}

async fn append_one(
    store: &dyn EventStore,
    stream: &str,
    version: u64,
    command_id: &str,
) -> AppendOutcome {
    store
        .append(request(
            stream,
            version,
            command_id,
            vec![event("Noted", json!({"n": version}))],
        ))
        .await
        .expect("append")
}

async fn all_records(store: &dyn EventStore) -> Vec<StoredRecord> {
    store.read_all(0).try_collect().await.expect("read_all")
}

async fn empty_log_has_zero_head(db: Fresh) {
    let head = db.store.head().await.expect("head");
    assert_eq!(head.tree_size, 0);
    assert_eq!(head.head_hash, Hash::ZERO);
    assert!(all_records(&*db.store).await.is_empty());
    assert!(db
        .store
        .read_stream("item/none")
        .await
        .expect("read")
        .is_empty());
}

async fn stored_bytes_round_trip_exactly(db: Fresh) {
    let data = json!({
        "item_id": "2024-S-001",
        "title": "关于加快执行款发放的建议 \"quoted\" \\ </script> \u{1f602}",
        "deputies": [{"id": "d-1", "name": "王芳", "lead": true}],
        "amount": "20000000.00",
        "count": 9_007_199_254_740_991_u64,
    });
    let outcome = db
        .store
        .append(request(
            "item/2024-S-001",
            0,
            "c-1",
            vec![event("ItemFiled", data.clone())],
        ))
        .await
        .expect("append");
    assert_eq!(outcome.records.len(), 1);
    assert!(!outcome.replayed);
    let stored = db
        .store
        .read_stream("item/2024-S-001")
        .await
        .expect("read")
        .remove(0);
    let record = stored.record().expect("record");
    assert_eq!(record.data, data);
    assert_eq!(record.event_type, "ItemFiled");
    assert_eq!(record.actor, "liaison-01");
    assert_eq!(record.at, "2024-03-01T09:00:00+08:00");
    // The stored bytes are exactly the canonical bytes of the record, and they are what is hashed.
    let resealed = seal(record).expect("seal");
    assert_eq!(resealed.canonical, stored.canonical);
    assert_eq!(stored.hash, leaf_hash(&stored.canonical));
    assert_eq!(outcome.records[0].hash, stored.hash);
    assert_eq!(all_records(&*db.store).await, vec![stored]);
}

async fn records_link_each_prev_to_the_previous_hash(db: Fresh) {
    for version in 0..5 {
        append_one(&*db.store, "item/a", version, &format!("a-{version}")).await;
        append_one(&*db.store, "item/b", version, &format!("b-{version}")).await;
    }
    let records = all_records(&*db.store).await;
    assert_eq!(records.len(), 10);
    let mut prev = Hash::ZERO;
    for stored in &records {
        let record: Record = stored.record().expect("record");
        assert_eq!(record.prev, prev);
        assert_eq!(stored.prev, prev);
        prev = stored.hash;
    }
    let head = db.store.head().await.expect("head");
    assert_eq!(head.head_hash, prev);
    let verified = verify_store(&*db.store, &Default::default())
        .await
        .expect("intact");
    assert_eq!(verified.tree_size, 10);
    assert_eq!(verified.head_hash, prev);
}

async fn exactly_one_of_8_concurrent_appenders_wins_each_race(db: Fresh) {
    const RACES: u64 = 5;
    const APPENDERS: usize = 8;
    for race in 0..RACES {
        let mut tasks = Vec::new();
        for appender in 0..APPENDERS {
            let store = Arc::clone(&db.store);
            tasks.push(tokio::spawn(async move {
                let id = format!("race-{race}-{appender}");
                store
                    .append(request(
                        "item/contended",
                        race,
                        &id,
                        vec![event("Noted", json!({}))],
                    ))
                    .await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => wins += 1,
                Err(StoreError::Conflict { expected, .. }) => assert_eq!(expected, race),
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!(wins, 1, "race {race} had {wins} winners");
    }
    let versions: Vec<u64> = db
        .store
        .read_stream("item/contended")
        .await
        .expect("read")
        .iter()
        .map(|record| record.version)
        .collect();
    assert_eq!(versions, (1..=RACES).collect::<Vec<_>>());
}

async fn positions_are_gap_free_under_8_concurrent_writers(db: Fresh) {
    const WRITERS: u64 = 8;
    const APPENDS: u64 = 20;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            for version in 0..APPENDS {
                let stream = format!("item/w{writer}");
                append_one(&*store, &stream, version, &format!("w{writer}-{version}")).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let records = all_records(&*db.store).await;
    let positions: Vec<u64> = records.iter().map(|record| record.position).collect();
    assert_eq!(positions, (0..WRITERS * APPENDS).collect::<Vec<_>>());
    for writer in 0..WRITERS {
        let stream = db
            .store
            .read_stream(&format!("item/w{writer}"))
            .await
            .expect("read");
        let versions: Vec<u64> = stream.iter().map(|record| record.version).collect();
        assert_eq!(versions, (1..=APPENDS).collect::<Vec<_>>());
    }
    verify_store(&*db.store, &Default::default())
        .await
        .expect("intact");
}

async fn expected_version_ahead_of_the_stream_is_a_conflict(db: Fresh) {
    append_one(&*db.store, "item/a", 0, "a-0").await;
    let error = db
        .store
        .append(request("item/a", 3, "a-3", vec![event("Noted", json!({}))]))
        .await
        .expect_err("conflict");
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                expected: 3,
                actual: 1,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(db.store.head().await.expect("head").tree_size, 1);
}

async fn retry_with_same_command_id_returns_the_original_positions(db: Fresh) {
    let first = db
        .store
        .append(request(
            "item/a",
            0,
            "once",
            vec![
                event("ItemFiled", json!({})),
                event("ItemAccepted", json!({})),
            ],
        ))
        .await
        .expect("append");
    append_one(&*db.store, "item/b", 0, "other").await;
    // The retry carries a stale expected version: idempotency is decided before the version.
    let retry = db
        .store
        .append(request(
            "item/a",
            0,
            "once",
            vec![
                event("ItemFiled", json!({})),
                event("ItemAccepted", json!({})),
            ],
        ))
        .await
        .expect("retry");
    assert!(retry.replayed);
    assert_eq!(retry.records, first.records);
    assert_eq!(retry.stream, "item/a");
    assert_eq!(db.store.head().await.expect("head").tree_size, 3);
    let receipt = db
        .store
        .find_command("once")
        .await
        .expect("find")
        .expect("known");
    assert_eq!(receipt.outcome.records, first.records);
    assert!(db
        .store
        .find_command("never")
        .await
        .expect("find")
        .is_none());
}

async fn reused_command_id_with_other_content_is_duplicate(db: Fresh) {
    append_one(&*db.store, "item/a", 0, "taken").await;
    let mut other = request("item/b", 0, "taken", vec![event("Noted", json!({"x": 1}))]);
    other.command.request_hash = leaf_hash(b"something else");
    let error = db.store.append(other).await.expect_err("duplicate");
    assert!(matches!(error, StoreError::Duplicate { ref command_id } if command_id == "taken"));
    assert_eq!(db.store.head().await.expect("head").tree_size, 1);
    assert!(db
        .store
        .read_stream("item/b")
        .await
        .expect("read")
        .is_empty());
}

async fn database_refuses_update_and_delete_of_records(db: Fresh) {
    append_one(&*db.store, "item/a", 0, "a-0").await;
    append_one(&*db.store, "item/a", 1, "a-1").await;
    let before = all_records(&*db.store).await;
    let statements = [
        "UPDATE events SET canonical = canonical WHERE position = 0",
        "UPDATE events SET stream = 'item/x'",
        "DELETE FROM events WHERE position = 1",
        "DELETE FROM events",
        "UPDATE commands SET stream = 'item/x'",
        "DELETE FROM commands",
    ];
    for statement in statements {
        let outcome = crate::raw::execute(&db.url, statement).await;
        let message = outcome.expect_err(statement);
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
    if db.url.starts_with("postgres") {
        let message = crate::raw::execute(&db.url, "TRUNCATE events")
            .await
            .expect_err("truncate");
        assert!(message.contains("append-only"), "{message}");
    }
    assert_eq!(all_records(&*db.store).await, before);
    verify_store(&*db.store, &Default::default())
        .await
        .expect("intact");
}

async fn read_all_streams_across_pages_from_any_position(db: Fresh) {
    let batches = (READ_PAGE_RECORDS as usize * 2).div_ceil(EVENTS_PER_APPEND_MAX) + 1;
    for batch in 0..batches {
        let events = (0..EVENTS_PER_APPEND_MAX)
            .map(|index| event("Noted", json!({"batch": batch, "index": index})))
            .collect();
        let version = (batch * EVENTS_PER_APPEND_MAX) as u64;
        db.store
            .append(request(
                "item/many",
                version,
                &format!("batch-{batch}"),
                events,
            ))
            .await
            .expect("append");
    }
    let total = (batches * EVENTS_PER_APPEND_MAX) as u64;
    let records = all_records(&*db.store).await;
    assert_eq!(records.len() as u64, total);
    let from = READ_PAGE_RECORDS as u64 - 3;
    let tail: Vec<StoredRecord> = db.store.read_all(from).try_collect().await.expect("tail");
    let positions: Vec<u64> = tail.iter().map(|record| record.position).collect();
    assert_eq!(positions, (from..total).collect::<Vec<_>>());
    assert!(db
        .store
        .read_all(total)
        .try_collect::<Vec<_>>()
        .await
        .expect("end")
        .is_empty());
    verify_store(&*db.store, &Default::default())
        .await
        .expect("intact");
}

async fn float_in_event_data_is_refused_and_nothing_appended(db: Fresh) {
    let error = db
        .store
        .append(request(
            "item/a",
            0,
            "f",
            vec![event("Noted", json!({"amount": 1.5}))],
        ))
        .await
        .expect_err("refused");
    assert!(matches!(error, StoreError::NotCanonical(_)), "{error}");
    assert_eq!(db.store.head().await.expect("head").tree_size, 0);
    assert!(db.store.find_command("f").await.expect("find").is_none());
}

/// Records in the ledgers of the Merkle-node tests: past verify's first chunks (1,024 records
/// each), ending mid-chunk.
const CHUNKED_RECORDS: usize = 2_500;

/// Appends [`CHUNKED_RECORDS`] records to one stream.
async fn append_chunked(store: &dyn EventStore) {
    for batch in 0..CHUNKED_RECORDS.div_ceil(EVENTS_PER_APPEND_MAX) {
        let first = batch * EVENTS_PER_APPEND_MAX;
        let events = (first..CHUNKED_RECORDS.min(first + EVENTS_PER_APPEND_MAX))
            .map(|index| event("Noted", json!({"index": index})))
            .collect();
        store
            .append(request(
                "item/chunked",
                first as u64,
                &format!("chunked-{batch}"),
                events,
            ))
            .await
            .expect("append");
    }
}

/// Drops the trigger that refuses `change` (`update` or `delete`) on `merkle_nodes`.
async fn allow_node_change(url: &str, change: &str) {
    let statement = if url.starts_with("postgres") {
        "DROP TRIGGER merkle_nodes_refuse_change ON merkle_nodes".to_owned()
    } else {
        format!("DROP TRIGGER merkle_nodes_refuse_{change}")
    };
    crate::raw::execute(url, &statement)
        .await
        .expect("drop trigger");
}

async fn broken_at(store: &dyn EventStore) -> (u64, String) {
    match verify_store(store, &Default::default()).await {
        Err(VerifyError::Broken { position, reason }) => (position, reason),
        other => panic!("expected a broken log, got {other:?}"),
    }
}

async fn verify_names_the_record_completing_a_rewritten_merkle_node_past_the_first_chunk(
    db: Fresh,
) {
    append_chunked(&*db.store).await;
    let verified = verify_store(&*db.store, &Default::default())
        .await
        .expect("intact");
    assert_eq!(verified.tree_size, CHUNKED_RECORDS as u64);
    allow_node_change(&db.url, "update").await;
    // Node (1, 1100) covers leaves 2200 and 2201: record 2201 completes it.
    let zero = if db.url.starts_with("postgres") {
        "decode(repeat('00', 32), 'hex')"
    } else {
        "zeroblob(32)"
    };
    crate::raw::execute(
        &db.url,
        &format!("UPDATE merkle_nodes SET hash = {zero} WHERE level = 1 AND node_index = 1100"),
    )
    .await
    .expect("rewrite node");
    let (position, reason) = broken_at(&*db.store).await;
    assert_eq!(position, 2201, "{reason}");
    assert!(
        reason.starts_with("stored Merkle node (1, 1100) is 0000"),
        "{reason}"
    );
}

async fn verify_names_the_record_whose_leaf_node_was_deleted_past_the_first_chunk(db: Fresh) {
    append_chunked(&*db.store).await;
    allow_node_change(&db.url, "delete").await;
    crate::raw::execute(
        &db.url,
        "DELETE FROM merkle_nodes WHERE level = 0 AND node_index = 1500",
    )
    .await
    .expect("delete node");
    let (position, reason) = broken_at(&*db.store).await;
    assert_eq!(position, 1500, "{reason}");
    assert_eq!(reason, "expected Merkle node (0, 1500) but found (0, 1501)");
}

async fn verify_finds_a_merkle_node_beyond_the_last_record(db: Fresh) {
    append_chunked(&*db.store).await;
    let leaf = if db.url.starts_with("postgres") {
        "decode(repeat('00', 32), 'hex')"
    } else {
        "zeroblob(32)"
    };
    let end = CHUNKED_RECORDS;
    crate::raw::execute(
        &db.url,
        &format!(
            "INSERT INTO merkle_nodes (level, node_index, leaf_end, hash) \
             VALUES (0, {end}, {}, {leaf})",
            end + 1
        ),
    )
    .await
    .expect("insert node");
    let (position, reason) = broken_at(&*db.store).await;
    assert_eq!(position, CHUNKED_RECORDS as u64, "{reason}");
    assert_eq!(
        reason,
        format!("a Merkle node (0, {end}) covers records the log does not hold")
    );
}
