//! A retry racing its own first attempt: the client timed out (or lost the connection) while
//! the first attempt was still working, and sent the same command again. If the first attempt
//! commits between the retry's idempotency check and its load, the retry decides against a
//! stream that already holds its own effect. It must be answered as a replay of that effect,
//! never refused (`wrong_state`) — a client told "refused" would believe nothing happened.
//!
//! The interleaving is made exact with a store that delegates everything to the real store and,
//! on the retry's first read of the item's stream, first lets the first attempt run to its
//! commit (through a second `Ledger` on the same real store).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use commands::{CommandError, Ledger, Submitted, SystemClock, Writer, WriterConfig};
use futures::stream::BoxStream;
use infra::export::{ExportReader, ExportedCommand, RestoreError};
use infra::merkle::NodeId;
use infra::record::Hash;
use infra::store::{
    AppendOutcome, AppendRequest, Backend, CommandReceipt, EventStore, LedgerHead, NewCheckpoint,
    NewCosignature, StoreError, StoredCheckpoint, StoredNode, StoredRecord,
};
use infra::verify::{VerifiedLog, VerifyOptions};
use libtest_mimic::Trial;

use super::workload::life_step;
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = on_both(
        "fault",
        "a_retry_racing_its_own_first_attempt_is_answered_as_a_replay_not_refused",
        a_retry_racing_its_own_first_attempt_is_answered_as_a_replay_not_refused,
    );
    trials.extend(on_both(
        "fault",
        "with_the_database_away_the_writer_asks_for_each_stream_once_and_answers_unavailable",
        with_the_database_away_the_writer_asks_for_each_stream_once_and_answers_unavailable,
    ));
    trials.extend(on_both(
        "fault",
        "with_the_database_away_the_commands_queued_behind_a_batch_are_answered_without_a_wait_of_their_own",
        with_the_database_away_the_commands_queued_behind_a_batch_are_answered_without_a_wait_of_their_own,
    ));
    trials
}

type Interleaved = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The real store, with one piece of work run just before the next `read_stream`; or, when
/// `reads_unavailable`, every `read_stream` failing as a database that cannot be reached. It
/// counts the `read_stream`s asked of it. The work runs before the read fails, so it can hold a
/// read that will find the database away for as long as a connection wait would last.
struct InterleavingStore {
    inner: Arc<dyn EventStore>,
    before_next_read: Mutex<Option<Interleaved>>,
    reads_unavailable: bool,
    reads: AtomicUsize,
}

#[async_trait]
impl EventStore for InterleavingStore {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    async fn append_batch(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Result<AppendOutcome, StoreError>>, StoreError> {
        self.inner.append_batch(requests).await
    }
    async fn find_command(&self, command_id: &str) -> Result<Option<CommandReceipt>, StoreError> {
        self.inner.find_command(command_id).await
    }
    async fn find_commands(
        &self,
        command_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, CommandReceipt>, StoreError> {
        self.inner.find_commands(command_ids).await
    }
    async fn read_stream(&self, stream: &str) -> Result<Vec<StoredRecord>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let interleaved = self.before_next_read.lock().expect("hook").take();
        if let Some(work) = interleaved {
            work.await;
        }
        if self.reads_unavailable {
            return Err(StoreError::Unavailable(
                "the database is away (test)".to_owned(),
            ));
        }
        self.inner.read_stream(stream).await
    }
    fn read_all(&self, from_position: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        self.inner.read_all(from_position)
    }
    async fn head(&self) -> Result<LedgerHead, StoreError> {
        self.inner.head().await
    }
    async fn wait_for_growth(&self, tree_size: u64, timeout: Duration) -> Result<u64, StoreError> {
        self.inner.wait_for_growth(tree_size, timeout).await
    }
    async fn merkle_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        self.inner.merkle_nodes(ids).await
    }
    fn read_merkle_nodes(&self) -> BoxStream<'_, Result<StoredNode, StoreError>> {
        self.inner.read_merkle_nodes()
    }
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.inner.latest_checkpoint().await
    }
    async fn add_checkpoint(
        &self,
        checkpoint: NewCheckpoint,
    ) -> Result<StoredCheckpoint, StoreError> {
        self.inner.add_checkpoint(checkpoint).await
    }
    fn read_checkpoints(&self) -> BoxStream<'_, Result<StoredCheckpoint, StoreError>> {
        self.inner.read_checkpoints()
    }
    async fn add_cosignature(&self, cosignature: NewCosignature) -> Result<bool, StoreError> {
        self.inner.add_cosignature(cosignature).await
    }
    async fn latest_cosigned_by(
        &self,
        witness: &str,
        key_id: u32,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.inner.latest_cosigned_by(witness, key_id).await
    }
    fn read_commands(&self) -> BoxStream<'_, Result<ExportedCommand, StoreError>> {
        self.inner.read_commands()
    }
    async fn restore(
        &self,
        reader: ExportReader,
        options: &VerifyOptions,
    ) -> Result<VerifiedLog, RestoreError> {
        self.inner.restore(reader, options).await
    }
}

fn submitted(command: &serde_json::Value, role: &str, actor: &str) -> Submitted {
    let mut command = command.clone();
    command["actor"] = actor.into();
    command["role"] = role.into();
    serde_json::from_value(command).expect("a command")
}

// See: issue 8 (a retry refused while its own first attempt was being recorded).
async fn a_retry_racing_its_own_first_attempt_is_answered_as_a_replay_not_refused(db: Fresh) {
    let rules = aggregates::rules::Rules::default();
    let direct = Ledger::new(Arc::clone(&db.store), rules.clone(), Arc::new(SystemClock));
    let steps = [
        ("liaison", "liaison-01"),
        ("court_office", "office-01"),
        ("court_office", "office-01"),
    ];
    for (step, (role, actor)) in steps.into_iter().enumerate() {
        let command = submitted(&life_step(step, "T-1", &format!("T-1-{step}")), role, actor);
        let id = command.command_id.clone().expect("id");
        direct
            .execute(&command, &id, None)
            .await
            .expect("setting up the item");
    }
    // The answer: its first attempt commits between the retry's idempotency check and its load.
    let answer = submitted(&life_step(3, "T-1", "T-1-answer"), "leader", "l-1");
    let first_attempt = {
        let (direct, answer) = (direct.clone(), answer.clone());
        Box::pin(async move {
            let first = direct.execute(&answer, "T-1-answer", None).await;
            assert!(
                first.is_ok_and(|outcome| !outcome.replayed),
                "the first attempt records it"
            );
        }) as Interleaved
    };
    let store = Arc::new(InterleavingStore {
        inner: Arc::clone(&db.store),
        before_next_read: Mutex::new(Some(first_attempt)),
        reads_unavailable: false,
        reads: AtomicUsize::new(0),
    });
    let retrying = Ledger::new(store, rules, Arc::new(SystemClock));
    let retry = retrying.execute(&answer, "T-1-answer", None).await;
    let retry = retry.unwrap_or_else(|error| panic!("the retry was refused: {error}"));
    assert!(retry.replayed, "the retry is a replay of the first attempt");
    let first = db
        .store
        .find_command("T-1-answer")
        .await
        .expect("find")
        .expect("recorded");
    let told: Vec<u64> = first
        .outcome
        .records
        .iter()
        .map(|record| record.position)
        .collect();
    assert_eq!(
        retry.positions, told,
        "the retry is told where the first attempt recorded it"
    );
    assert_eq!(
        db.store.head().await.expect("head").tree_size,
        4,
        "recorded once"
    );
}

/// With the database away, a batch of commands on existing items is answered `Unavailable`
/// after ONE load of each stream: the writer must not try each command again on its own (each
/// try waits for a connection in turn, so the last callers would time out instead of being told
/// to retry).
async fn with_the_database_away_the_writer_asks_for_each_stream_once_and_answers_unavailable(
    db: Fresh,
) {
    const ITEMS: usize = 8;
    let triages = filed_items_and_their_triages(&db, "A", ITEMS).await;
    let (store, writer) = writer_with_the_database_away(&db, None);
    let answers = futures::future::join_all(triages.iter().map(|triage| {
        let id = triage.command_id.clone().expect("id");
        let writer = writer.clone();
        async move { writer.execute(triage, &id, None).await }
    }))
    .await;
    for answer in answers {
        assert!(
            matches!(answer, Err(CommandError::Store(StoreError::Unavailable(_)))),
            "{answer:?}"
        );
    }
    let reads = store.reads.load(Ordering::SeqCst);
    assert!(
        (1..=ITEMS).contains(&reads),
        "each stream is asked for at most once, not again per command: {reads} reads"
    );
    assert_eq!(db.store.head().await.expect("head").tree_size, ITEMS as u64);
}

/// Given a batch whose load is waiting for a database that is away, and commands queued behind
/// it; when that load fails; then the queued commands are answered `Unavailable` with it, not
/// run as the next batch (each batch waits for a connection in turn, so a command's time in the
/// writer would grow with the queue until its caller times out instead of hearing 503).
async fn with_the_database_away_the_commands_queued_behind_a_batch_are_answered_without_a_wait_of_their_own(
    db: Fresh,
) {
    const ITEMS: usize = 8;
    let triages = filed_items_and_their_triages(&db, "Q", ITEMS).await;
    let (waiting, load_waits) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let held = Box::pin(async move {
        let _ = waiting.send(());
        let _ = released.await;
    }) as Interleaved;
    let (store, writer) = writer_with_the_database_away(&db, Some(held));
    let mut answers = Vec::new();
    let first = &triages[0];
    let first_id = first.command_id.clone().expect("id");
    answers.push(writer.submit(first, &first_id, None).await.expect("queued"));
    tokio::time::timeout(Duration::from_secs(30), load_waits)
        .await
        .expect("the first batch reaches its load")
        .expect("the load signals");
    for triage in &triages[1..] {
        let id = triage.command_id.clone().expect("id");
        answers.push(writer.submit(triage, &id, None).await.expect("queued"));
    }
    release.send(()).expect("the load is still waiting");
    for answer in answers {
        let answer = tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .expect("answered")
            .expect("the writer answers");
        assert!(
            matches!(answer, Err(CommandError::Store(StoreError::Unavailable(_)))),
            "{answer:?}"
        );
    }
    assert_eq!(
        store.reads.load(Ordering::SeqCst),
        1,
        "only the first batch asked the store; the queue behind it was answered with its failure"
    );
    assert_eq!(db.store.head().await.expect("head").tree_size, ITEMS as u64);
}

/// Files `count` items `{prefix}-N` on `db`'s real store; returns each one's triage.
async fn filed_items_and_their_triages(db: &Fresh, prefix: &str, count: usize) -> Vec<Submitted> {
    let rules = aggregates::rules::Rules::default();
    let direct = Ledger::new(Arc::clone(&db.store), rules, Arc::new(SystemClock));
    let mut triages = Vec::with_capacity(count);
    for item in 0..count {
        let item = format!("{prefix}-{item}");
        let filed = submitted(
            &life_step(0, &item, &format!("{item}-0")),
            "liaison",
            "liaison-01",
        );
        direct
            .execute(&filed, &format!("{item}-0"), None)
            .await
            .expect("filing the item");
        triages.push(submitted(
            &life_step(1, &item, &format!("{item}-1")),
            "court_office",
            "office-01",
        ));
    }
    triages
}

/// A writer over `db`'s store whose every stream read fails as a database that is away (after
/// `held`, when given, has run), and that store, which counts the reads.
fn writer_with_the_database_away(
    db: &Fresh,
    held: Option<Interleaved>,
) -> (Arc<InterleavingStore>, Writer) {
    let store = Arc::new(InterleavingStore {
        inner: Arc::clone(&db.store),
        before_next_read: Mutex::new(held),
        reads_unavailable: true,
        reads: AtomicUsize::new(0),
    });
    let away = Ledger::new(
        Arc::clone(&store) as Arc<dyn EventStore>,
        aggregates::rules::Rules::default(),
        Arc::new(SystemClock),
    );
    (store, Writer::spawn(away, WriterConfig::default()))
}
