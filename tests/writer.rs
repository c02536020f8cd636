//! The group-commit writer (`commands::Writer`) on both backends: many submitters, refusals mixed
//! into batches, the same command id twice in one batch, and two writers (separate pools, as two
//! processes would have) on one database.

use std::collections::BTreeMap;
use std::sync::Arc;

use aggregates::rules::Rules;
use commands::{Clock, CommandError, CommandOutcome, Ledger, Submitted, Writer, WriterConfig};
use futures::TryStreamExt;
use infra::store::{open_store, EventStore};
use infra::verify::verify_store;
use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "writer",
        "16_concurrent_submitters_get_gap_free_positions_each_acknowledged_once",
        concurrent_submitters,
    ));
    trials.extend(on_both(
        "writer",
        "refusals_mixed_into_a_batch_do_not_affect_the_others",
        refusals_mixed_into_a_batch,
    ));
    trials.extend(on_both(
        "writer",
        "same_command_id_twice_in_one_batch_answers_as_across_batches",
        same_command_id_twice,
    ));
    trials.extend(on_both(
        "writer",
        "two_writers_with_separate_pools_on_one_database_keep_one_chain",
        two_writers_on_one_database,
    ));
    trials.extend(on_both(
        "writer",
        "a_command_valid_after_another_process_moved_the_stream_is_not_refused_from_the_cache",
        not_refused_from_a_stale_cache,
    ));
    trials.extend(on_both(
        "writer",
        "a_command_id_another_process_committed_is_a_replay_whether_its_decision_accepts_or_refuses",
        replay_of_another_process_command,
    ));
    trials
}

/// A fixed clock: commands here always carry their own `at`.
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }
}

fn writer(store: Arc<dyn EventStore>) -> Writer {
    let ledger = Ledger::new(store, Rules::default(), Arc::new(Fixed));
    Writer::spawn(ledger, WriterConfig::default())
}

/// FileItem, then the commands that answer it: `step` 0..4.
pub fn item_step(item_id: &str, step: usize) -> Value {
    let at = format!("2024-03-0{}T09:00:00+08:00", step + 1);
    let (kind, actor, role, data) = match step {
        0 => (
            "FileItem",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "kind": "suggestion", "title": "按期答复", "body": "",
                   "deputies": [{"id": "d-1", "name": "王芳"}]}),
        ),
        1 => (
            "TriageItem",
            "office-01",
            "court_office",
            json!({"item_id": item_id, "decision": "accept"}),
        ),
        2 => (
            "AssignItem",
            "office-01",
            "court_office",
            json!({"item_id": item_id, "lead_unit": "执行局",
                   "leader": {"id": "l-1", "name": "陈立新", "level": "president"}}),
        ),
        _ => (
            "AnswerItem",
            "l-1",
            "leader",
            json!({"item_id": item_id, "class": "A", "text": "答复"}),
        ),
    };
    json!({"type": kind, "at": at, "actor": actor, "role": role, "data": data})
}

async fn run(
    writer: &Writer,
    command: &Value,
    command_id: &str,
) -> Result<CommandOutcome, CommandError> {
    let submitted = Submitted::parse(&command.to_string()).expect("parse");
    writer.execute(&submitted, command_id, None).await
}

/// Checks the log is gap-free and intact, and that the acknowledged outcomes name every record
/// exactly once.
async fn assert_one_chain(store: &dyn EventStore, acknowledged: &[CommandOutcome]) {
    let records: Vec<_> = store.read_all(0).try_collect().await.expect("read");
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record.position, index as u64);
    }
    verify_store(store, &Default::default())
        .await
        .expect("intact chain");
    let mut named: Vec<u64> = acknowledged
        .iter()
        .filter(|outcome| !outcome.replayed)
        .flat_map(|outcome| outcome.positions.iter().copied())
        .collect();
    named.sort_unstable();
    let all: Vec<u64> = (0..records.len() as u64).collect();
    assert_eq!(named, all);
    let mut by_command: BTreeMap<String, usize> = BTreeMap::new();
    for record in &records {
        *by_command
            .entry(record.record().expect("record").command_id)
            .or_default() += 1;
    }
    for outcome in acknowledged.iter().filter(|outcome| !outcome.replayed) {
        assert_eq!(
            by_command.get(&outcome.command_id),
            Some(&outcome.positions.len())
        );
    }
}

async fn concurrent_submitters(db: Fresh) {
    let writer = writer(Arc::clone(&db.store));
    let mut tasks = Vec::new();
    for submitter in 0..16 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for item in 0..6 {
                let item_id = format!("W-{submitter}-{item}");
                for step in 0..4 {
                    let command_id = format!("{item_id}-{step}");
                    let outcome = run(&writer, &item_step(&item_id, step), &command_id)
                        .await
                        .expect("accepted");
                    done.push(outcome);
                }
            }
            done
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.expect("submitter"));
    }
    assert_eq!(acknowledged.len(), 16 * 6 * 4);
    assert_one_chain(&*db.store, &acknowledged).await;
}

async fn refusals_mixed_into_a_batch(db: Fresh) {
    let writer = writer(Arc::clone(&db.store));
    let mut answers = Vec::new();
    for index in 0..40 {
        let item_id = format!("R-{index}");
        let (command, good) = match index % 4 {
            // Answering an item never filed: not_found.
            1 => (item_step(&format!("missing-{index}"), 3), false),
            // A liaison may not triage: forbidden.
            2 => {
                let mut command = item_step(&format!("R-{}", index - 2), 1);
                command["role"] = json!("liaison");
                (command, false)
            }
            _ => (item_step(&item_id, 0), true),
        };
        let submitted = Submitted::parse(&command.to_string()).expect("parse");
        let answer = writer
            .submit(&submitted, &format!("r-{index}"), None)
            .await
            .expect("queued");
        answers.push((answer, good));
    }
    let mut acknowledged = Vec::new();
    for (answer, good) in answers {
        let result = answer.await.expect("answered");
        match (result, good) {
            (Ok(outcome), true) => acknowledged.push(outcome),
            (Err(CommandError::Refused { .. }), false) => {}
            (other, good) => panic!("good={good}: {other:?}"),
        }
    }
    assert_eq!(acknowledged.len(), 20);
    assert_eq!(db.store.head().await.expect("head").tree_size, 20);
    assert_one_chain(&*db.store, &acknowledged).await;
}

async fn same_command_id_twice(db: Fresh) {
    let writer = writer(Arc::clone(&db.store));
    let file = item_step("S-1", 0);
    let other = item_step("S-2", 0);
    let mut answers = Vec::new();
    for (command, command_id) in [
        (&file, "s-1"),
        (&file, "s-1"),
        (&other, "s-1"),
        (&other, "s-2"),
    ] {
        let submitted = Submitted::parse(&command.to_string()).expect("parse");
        // Once the first s-1 is committed, the writer may answer a reuse of its id at once,
        // before queueing; either way the answer must be the same.
        answers.push(writer.submit(&submitted, command_id, None).await);
    }
    let mut results = Vec::new();
    for answer in answers {
        results.push(match answer {
            Ok(answer) => answer.await.expect("answered"),
            Err(refused) => Err(refused),
        });
    }
    let first = results[0].as_ref().expect("first accepted").clone();
    assert!(!first.replayed);
    let again = results[1].as_ref().expect("retry accepted");
    assert!(again.replayed);
    assert_eq!(again.positions, first.positions);
    assert_eq!(again.hashes, first.hashes);
    match &results[2] {
        Err(CommandError::Refused { code, .. }) => assert_eq!(code.as_str(), "duplicate"),
        other => panic!("expected duplicate: {other:?}"),
    }
    let second = results[3].as_ref().expect("other accepted").clone();
    // Across batches, and through a fresh writer (nothing remembered), the same answers.
    let fresh_writer = writer_on(&db).await;
    let later = run(&fresh_writer, &file, "s-1").await.expect("replayed");
    assert!(later.replayed);
    assert_eq!(later.positions, first.positions);
    assert_eq!(db.store.head().await.expect("head").tree_size, 2);
    assert_one_chain(&*db.store, &[first, second]).await;
}

async fn writer_on(db: &Fresh) -> Writer {
    writer(open_store(&db.url).await.expect("second pool"))
}

/// Two writers, each with its own pool, cache and task (as two `huiyin` processes have), race on
/// the same items: every step succeeds exactly once, through one writer or the other.
async fn two_writers_on_one_database(db: Fresh) {
    let writers = [writer_on(&db).await, writer_on(&db).await];
    let mut tasks = Vec::new();
    for (side, writer) in writers.iter().enumerate() {
        for submitter in 0..4 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = Vec::new();
                for item in 0..8 {
                    let item_id = format!("T-{submitter}-{item}");
                    for step in 0..4 {
                        let command_id = format!("{item_id}-{step}-{side}");
                        match run(&writer, &item_step(&item_id, step), &command_id).await {
                            Ok(outcome) => done.push(outcome),
                            Err(CommandError::Refused { .. }) => {}
                            Err(other) => panic!("{other}"),
                        }
                    }
                }
                done
            }));
        }
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.expect("submitter"));
    }
    // Each of the 4 × 8 items was filed, triaged, assigned and answered exactly once.
    assert_eq!(acknowledged.len(), 4 * 8 * 4);
    assert_one_chain(&*db.store, &acknowledged).await;
}

// See: issue 8. A writer that cached an item refused a command that another process had made
// valid meanwhile (the cache said `accepted`; the store said `assigned`).
async fn not_refused_from_a_stale_cache(db: Fresh) {
    let cached = writer_on(&db).await;
    for step in 0..2 {
        let command_id = format!("T-1-{step}");
        run(&cached, &item_step("T-1", step), &command_id)
            .await
            .expect("filed and triaged through the caching writer");
    }
    // Another process assigns the item; the caching writer does not see it.
    let other = writer_on(&db).await;
    run(&other, &item_step("T-1", 2), "T-1-2")
        .await
        .expect("assigned by another process");
    let answered = run(&cached, &item_step("T-1", 3), "T-1-3").await;
    let answered = answered.unwrap_or_else(|error| panic!("refused from a stale cache: {error}"));
    assert_eq!(answered.positions, vec![3]);
    // A command the store itself refuses is still refused, with the store's reason.
    let again = run(&cached, &item_step("T-1", 2), "T-1-2-again").await;
    assert!(
        matches!(
            again,
            Err(CommandError::Refused {
                code: aggregates::error::ErrorCode::WrongState,
                ..
            })
        ),
        "{again:?}"
    );
}

/// The writer looks no id up before deciding (ADR 0012): a command another process committed is
/// answered as a replay by the store when the (stale) cached state accepts it, and by the run
/// from the store when the store's state refuses it; never refused, never appended twice.
async fn replay_of_another_process_command(db: Fresh) {
    let cached = writer_on(&db).await;
    for step in 0..2 {
        run(&cached, &item_step("T-1", step), &format!("T-1-{step}"))
            .await
            .expect("filed and triaged through the caching writer");
    }
    let other = writer_on(&db).await;
    let assigned = run(&other, &item_step("T-1", 2), "T-1-2")
        .await
        .expect("assigned by another process");
    // The caching writer's state says `triaged`: the assignment would be accepted.
    let retried = run(&cached, &item_step("T-1", 2), "T-1-2")
        .await
        .unwrap_or_else(|error| panic!("a retry decided from the cache was refused: {error}"));
    assert!(retried.replayed);
    assert_eq!(retried.positions, assigned.positions);
    // A writer with nothing cached loads the item (`assigned`): the triage would be refused.
    let fresh_writer = writer_on(&db).await;
    let triaged = db
        .store
        .find_command("T-1-1")
        .await
        .expect("find")
        .expect("recorded");
    let retried = run(&fresh_writer, &item_step("T-1", 1), "T-1-1")
        .await
        .unwrap_or_else(|error| panic!("a retry decided from the store was refused: {error}"));
    assert!(retried.replayed);
    let told: Vec<u64> = triaged
        .outcome
        .records
        .iter()
        .map(|record| record.position)
        .collect();
    assert_eq!(retried.positions, told);
    assert_eq!(db.store.head().await.expect("head").tree_size, 3);
}
