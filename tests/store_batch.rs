//! `append_batch` on both backends: a mixed batch answers each request as it would be answered
//! alone and commits one contiguous run of records; an append planned against a head another
//! process moved is planned again; the Merkle peaks an append reads are the compact range.

use futures::TryStreamExt;
use infra::merkle::range_nodes;
use infra::record::leaf_hash;
use infra::store::{
    open_store, AppendOutcome, AppendRequest, CommandMeta, EventStore, NewEvent, PostgresStore,
    StoreError, EVENTS_PER_APPEND_MAX,
};
use infra::verify::verify_store;
use libtest_mimic::Trial;
use serde_json::json;

use crate::support::{on_both, on_postgres, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = on_both(
        "store",
        "a_mixed_batch_answers_each_request_as_alone_and_appends_one_contiguous_run",
        a_mixed_batch_answers_each_request_as_alone_and_appends_one_contiguous_run,
    );
    trials.extend(on_both(
        "store",
        "a_batch_planned_against_a_head_another_process_moved_is_planned_again",
        a_batch_planned_against_a_head_another_process_moved_is_planned_again,
    ));
    trials.push(on_postgres(
        "store",
        "the_merkle_peaks_an_append_reads_are_the_compact_range",
        the_merkle_peaks_an_append_reads_are_the_compact_range,
    ));
    trials
}

fn request(
    stream: &str,
    expected_version: u64,
    command_id: &str,
    fingerprint: &str,
    events: usize,
) -> AppendRequest {
    AppendRequest {
        stream: stream.to_owned(),
        expected_version,
        command: CommandMeta {
            command_id: command_id.to_owned(),
            request_hash: leaf_hash(fingerprint.as_bytes()),
            at: "2024-03-01T09:00:00+08:00".to_owned(),
            actor: "liaison-01".to_owned(),
            role: "liaison".to_owned(),
        },
        events: (0..events)
            .map(|n| NewEvent {
                event_type: "Noted".to_owned(),
                schema: 1,
                data: json!({"command": command_id, "n": n}),
            })
            .collect(),
    }
}

fn positions(outcome: &AppendOutcome) -> Vec<u64> {
    outcome
        .records
        .iter()
        .map(|record| record.position)
        .collect()
}

fn versions(outcome: &AppendOutcome) -> Vec<u64> {
    outcome
        .records
        .iter()
        .map(|record| record.version)
        .collect()
}

fn fresh(result: &Result<AppendOutcome, StoreError>) -> &AppendOutcome {
    match result {
        Ok(outcome) if !outcome.replayed => outcome,
        other => panic!("expected a fresh append, got {other:?}"),
    }
}

async fn assert_intact(store: &dyn EventStore, tree_size: u64) {
    let records: Vec<_> = store.read_all(0).try_collect().await.expect("read_all");
    let seen: Vec<u64> = records.iter().map(|record| record.position).collect();
    assert_eq!(
        seen,
        (0..tree_size).collect::<Vec<_>>(),
        "gap-free positions"
    );
    assert_eq!(store.head().await.expect("head").tree_size, tree_size);
    let verified = verify_store(store, &Default::default())
        .await
        .expect("chain, Merkle nodes and head intact");
    assert_eq!(verified.tree_size, tree_size);
}

async fn a_mixed_batch_answers_each_request_as_alone_and_appends_one_contiguous_run(db: Fresh) {
    let store = &*db.store;
    let old = store
        .append(request("item/old", 0, "old-1", "old-1", 1))
        .await
        .expect("append");
    store
        .append(request("item/other", 0, "other-1", "other-1", 1))
        .await
        .expect("append");
    let batch = vec![
        // 0: a new stream, three events.
        request("item/new-a", 0, "new-a-1", "new-a-1", 3),
        // 1: a command committed before: its first outcome.
        request("item/old", 0, "old-1", "old-1", 1),
        // 2: its id again with other content: duplicate.
        request("item/old", 1, "old-1", "something else", 1),
        // 3: a stale version: conflict.
        request("item/other", 0, "other-2", "other-2", 1),
        // 4, 5: the most events a command may carry, twice: over 100 records in one batch.
        request("item/other", 1, "other-3", "other-3", EVENTS_PER_APPEND_MAX),
        request("item/new-b", 0, "new-b-1", "new-b-1", EVENTS_PER_APPEND_MAX),
        // 6: the id of request 0 again: its outcome, replayed.
        request("item/new-a", 0, "new-a-1", "new-a-1", 3),
        // 7: the stream of request 0, after it.
        request("item/new-a", 3, "new-a-2", "new-a-2", 1),
        // 8: the stream of request 0 at the version before request 7: conflict.
        request("item/new-a", 3, "new-a-3", "new-a-3", 1),
    ];
    let mut float = request("item/float", 0, "float-1", "float-1", 1);
    float.events[0].data = json!({"amount": 1.5});
    let mut batch = batch;
    // 9: data with no canonical form.
    batch.push(float);
    let results = store.append_batch(batch.clone()).await.expect("batch");
    assert_eq!(results.len(), 10);
    let new_a = fresh(&results[0]);
    assert_eq!(positions(new_a), vec![2, 3, 4]);
    assert_eq!(versions(new_a), vec![1, 2, 3]);
    let replay = results[1].as_ref().expect("replayed");
    assert!(replay.replayed);
    assert_eq!(replay.records, old.records);
    assert!(
        matches!(&results[2], Err(StoreError::Duplicate { command_id }) if command_id == "old-1")
    );
    assert!(matches!(
        &results[3],
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1,
            ..
        })
    ));
    let other = fresh(&results[4]);
    assert_eq!(positions(other), (5..5 + 64).collect::<Vec<_>>());
    assert_eq!(versions(other), (2..2 + 64).collect::<Vec<_>>());
    let new_b = fresh(&results[5]);
    assert_eq!(positions(new_b), (69..69 + 64).collect::<Vec<_>>());
    let again = results[6].as_ref().expect("replayed");
    assert!(again.replayed);
    assert_eq!(again.records, new_a.records);
    let after = fresh(&results[7]);
    assert_eq!(positions(after), vec![133]);
    assert_eq!(versions(after), vec![4]);
    assert!(matches!(
        &results[8],
        Err(StoreError::Conflict {
            expected: 3,
            actual: 4,
            ..
        })
    ));
    assert!(matches!(&results[9], Err(StoreError::NotCanonical(_))));
    assert_intact(store, 134).await;
    for (command_id, outcome) in [("new-a-1", new_a), ("other-3", other), ("new-b-1", new_b)] {
        let receipt = store
            .find_command(command_id)
            .await
            .expect("find")
            .expect("recorded");
        assert_eq!(receipt.outcome.records, outcome.records, "{command_id}");
    }
    // The same batch again: every command that went in is a replay, nothing is appended.
    let results = store.append_batch(batch).await.expect("batch");
    for index in [0, 1, 4, 5, 6, 7] {
        assert!(
            results[index]
                .as_ref()
                .is_ok_and(|outcome| outcome.replayed),
            "request {index} is replayed: {:?}",
            results[index]
        );
    }
    assert_intact(store, 134).await;
}

async fn a_batch_planned_against_a_head_another_process_moved_is_planned_again(db: Fresh) {
    let one = &*db.store;
    let two = open_store(&db.url).await.expect("a second process's store");
    let two = &*two;
    fresh(&Ok(one
        .append(request("item/s1", 0, "one-1", "one-1", 1))
        .await
        .expect("append")));
    // The other process moves the head under the first one's feet.
    two.append(request("item/s1", 1, "two-1", "two-1", 1))
        .await
        .expect("append");
    two.append(request("item/s2", 0, "two-2", "two-2", 2))
        .await
        .expect("append");
    // New streams only: nothing but the head says the first process is behind.
    let results = one
        .append_batch(vec![request("item/s3", 0, "one-2", "one-2", 1)])
        .await
        .expect("batch");
    assert_eq!(positions(fresh(&results[0])), vec![4]);
    // A stale version, the other process's command, and a version that is current.
    let results = one
        .append_batch(vec![
            request("item/s1", 1, "one-3", "one-3", 1),
            request("item/s2", 0, "two-2", "two-2", 2),
            request("item/s1", 2, "one-4", "one-4", 1),
        ])
        .await
        .expect("batch");
    assert!(matches!(
        &results[0],
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2,
            ..
        })
    ));
    let replay = results[1].as_ref().expect("replayed");
    assert!(replay.replayed);
    assert_eq!(
        replay
            .records
            .iter()
            .map(|r| r.position)
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(positions(fresh(&results[2])), vec![5]);
    // Taking turns: each append follows the other's.
    for turn in 0..6_u64 {
        let (store, name) = if turn % 2 == 0 {
            (one, "one")
        } else {
            (two, "two")
        };
        let results = store
            .append_batch(vec![request(
                &format!("item/turn-{turn}"),
                0,
                &format!("{name}-turn-{turn}"),
                "turn",
                1,
            )])
            .await
            .expect("batch");
        assert_eq!(positions(fresh(&results[0])), vec![6 + turn]);
    }
    assert_intact(one, 12).await;
    assert_intact(two, 12).await;
}

async fn the_merkle_peaks_an_append_reads_are_the_compact_range(db: Fresh) {
    let store = PostgresStore::connect(&db.url).await.expect("connect");
    let mut tree_size = 0_u64;
    let mut next_command = 0;
    for step in 0..48_u64 {
        let (size, peaks) = store.right_border().await.expect("right border");
        assert_eq!(size, tree_size);
        let ids: Vec<_> = peaks.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, range_nodes(0, tree_size), "peaks at {tree_size}");
        let stored = db.store.merkle_nodes(&ids).await.expect("nodes");
        let read: Vec<_> = peaks.iter().map(|(_, hash)| *hash).collect();
        assert_eq!(read, stored, "peak hashes at {tree_size}");
        // One record at a time at first, then runs of records that cross several levels.
        let events = if step < 33 {
            1
        } else {
            1 + (step as usize * 7) % EVENTS_PER_APPEND_MAX
        };
        next_command += 1;
        let id = format!("c-{next_command}");
        store
            .append(request(&format!("item/{id}"), 0, &id, &id, events))
            .await
            .expect("append");
        tree_size += events as u64;
    }
    assert_intact(&*db.store, tree_size).await;
}
