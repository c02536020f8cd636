//! The group-commit writer (DESIGN.md §7): one task per process takes commands from a bounded
//! channel, decides each against an in-memory cache of recent aggregates, and commits a batch of
//! them in ONE transaction ([`EventStore::append_batch`]), then answers each caller.
//!
//! **Invariants**
//! - Commands are decided in the order they entered the channel; two commands on one stream in
//!   one batch are decided in order, the second against the state the first produced.
//! - A refusal never rests on the cache alone: a command the cached state refuses is decided
//!   again from the store (after the commands before it in the batch have committed), since
//!   another process may have moved the stream; only that decision's refusal is answered, and
//!   it never spoils the others in its batch. A command the store refuses (its stream moved under another
//!   process, its id was used meanwhile) fails alone: its stream is dropped from the cache and
//!   the command is decided again from the store, at most [`APPEND_RETRIES_MAX`] times.
//! - The cache is only a hint: every append carries the version it was decided against and the
//!   store re-checks it under the head lock.
//! - The same command id twice (in one batch or across batches) answers as it would
//!   sequentially: the first outcome, `replayed`, or `duplicate` for different content.
//! - When the database is found away (a connection cannot be had or was dropped), the batch
//!   that found it and every command queued behind it are answered `Unavailable` at once, never
//!   run again on their own or as the next batch: each try would wait for a connection in turn,
//!   so a command's time in the writer would grow with the queue and its caller would time out
//!   (408, outcome unknown) instead of being told to retry (503). A command spends at most one
//!   connection wait in the writer while the database is away.
//! - Commands whose decision needs facts about other items (a parent, a merge target, open
//!   children) are run after the batch before them has committed, one at a time.

use std::collections::HashMap;
use std::time::Duration;

use aggregates::actor::Actor;
use aggregates::engagement::Engagement;
use aggregates::error::{ErrorCode, Refusal};
use aggregates::follow::Follow;
use aggregates::item::{Item, ItemAction, ItemCommand, ItemEvent, ItemFacts, TriageDecision};
use aggregates::person::Person;
use aggregates::rules::Rules;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use infra::store::{AppendOutcome, AppendRequest, StoreError};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::execute::{duplicate, new_event, outcome, Action, Prepared, Routed};
use crate::{CommandError, CommandOutcome, Ledger, Submitted, APPEND_RETRIES_MAX};

/// A batch holds at most this many commands.
pub const BATCH_COMMANDS_MAX: usize = 256;
/// After the first command of a batch arrives, the writer waits at most this long for more
/// (0: it takes only what queued while the previous batch was committing).
pub const BATCH_WAIT_MS: u64 = 0;
/// The channel holds at most this many commands; submitters wait when it is full.
pub const QUEUE_COMMANDS_MAX: usize = 4_096;
/// The cache holds at most this many aggregates; the least recently used go first.
pub const AGGREGATES_CACHED_MAX: usize = 16_384;
/// The writer remembers this many recently committed command ids, to answer retries at once.
pub const COMMANDS_REMEMBERED_MAX: usize = 16_384;

const _: () = assert!(BATCH_COMMANDS_MAX <= infra::store::BATCH_REQUESTS_MAX);

/// How the writer batches; every field bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    /// At most this many commands per batch (1 ..= [`BATCH_COMMANDS_MAX`]).
    pub batch_commands_max: usize,
    /// How long to wait for more commands once one has arrived.
    pub batch_wait: Duration,
    /// Capacity of the channel.
    pub queue_commands_max: usize,
    /// Capacity of the aggregate cache.
    pub aggregates_cached_max: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            batch_commands_max: BATCH_COMMANDS_MAX,
            batch_wait: Duration::from_millis(BATCH_WAIT_MS),
            queue_commands_max: QUEUE_COMMANDS_MAX,
            aggregates_cached_max: AGGREGATES_CACHED_MAX,
        }
    }
}

type Reply = oneshot::Sender<Result<CommandOutcome, CommandError>>;

/// One command waiting for the writer.
struct Job {
    prepared: Prepared,
    reply: Reply,
    attempt: u32,
}

/// A handle on the process's writer task; cloning it shares the task. The task ends when every
/// handle is dropped.
#[derive(Clone)]
pub struct Writer {
    ledger: Ledger,
    sender: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on the current tokio runtime.
    ///
    /// # Panics
    /// When `config` is out of bounds (a caller bug), or outside a tokio runtime.
    pub fn spawn(ledger: Ledger, config: WriterConfig) -> Writer {
        assert!(config.batch_commands_max >= 1);
        assert!(config.batch_commands_max <= BATCH_COMMANDS_MAX);
        assert!(config.queue_commands_max >= 1);
        assert!(config.aggregates_cached_max >= 1);
        let (sender, receiver) = mpsc::channel(config.queue_commands_max);
        tokio::spawn(run(ledger.clone(), config, receiver));
        Writer { ledger, sender }
    }

    /// The ledger this writer writes to.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Runs one command through the writer: the same checks, answers and errors as
    /// [`Ledger::execute`], committed together with whatever else is queued.
    ///
    /// # Errors
    /// As [`Ledger::execute`]; [`CommandError::Store`] when the writer has stopped.
    pub async fn execute(
        &self,
        submitted: &Submitted,
        command_id: &str,
        default_actor: Option<&Actor>,
    ) -> Result<CommandOutcome, CommandError> {
        self.submit(submitted, command_id, default_actor)
            .await?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Queues one command and returns at once with where its answer will arrive, so one caller
    /// can keep many commands in flight while they are decided in the order submitted.
    ///
    /// # Errors
    /// The command's refusal when it fails a check that needs no decision, or was already
    /// recorded under another request; [`CommandError::Store`] when the writer has stopped.
    pub async fn submit(
        &self,
        submitted: &Submitted,
        command_id: &str,
        default_actor: Option<&Actor>,
    ) -> Result<oneshot::Receiver<Result<CommandOutcome, CommandError>>, CommandError> {
        // A command id used before is recognised by the writer (`WriterState::answer_seen`)
        // and the store (`append_batch`), not here: no round trip per command.
        let prepared = self.ledger.prepare(submitted, command_id, default_actor)?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            prepared,
            reply,
            attempt: 1,
        };
        self.sender.send(job).await.map_err(|_| stopped())?;
        Ok(answer)
    }
}

fn stopped() -> CommandError {
    CommandError::Store(StoreError::Database(
        "the writer task has stopped".to_owned(),
    ))
}

/// The writer task: gathers a batch, commits it, and repeats until every handle is dropped.
async fn run(ledger: Ledger, config: WriterConfig, mut receiver: mpsc::Receiver<Job>) {
    let mut state = WriterState {
        cache: Cache::new(config.aggregates_cached_max),
        remembered: Remembered::new(COMMANDS_REMEMBERED_MAX),
        away: None,
    };
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        gather(&mut receiver, &mut jobs, &config).await;
        while !jobs.is_empty() {
            jobs = state.commit_jobs(&ledger, jobs).await;
        }
        if let Some(error) = state.away.take() {
            // Every command queued now waited through that wait for a connection; running
            // them as the next batch would wait as long again.
            while let Ok(job) = receiver.try_recv() {
                let _ = job.reply.send(Err(same_failure(&error).into()));
            }
        }
    }
}

/// Adds queued jobs to `jobs` up to the batch size, waiting at most the batch wait.
async fn gather(receiver: &mut mpsc::Receiver<Job>, jobs: &mut Vec<Job>, config: &WriterConfig) {
    while jobs.len() < config.batch_commands_max {
        match receiver.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    if config.batch_wait.is_zero() {
        return;
    }
    let deadline = tokio::time::Instant::now() + config.batch_wait;
    while jobs.len() < config.batch_commands_max {
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(job)) => jobs.push(job),
            Ok(None) | Err(_) => break,
        }
    }
}

/// A cached aggregate, with the version of its stream it reflects.
#[derive(Clone)]
enum State {
    Item(Item),
    Follow(Follow),
    Engagement(Engagement),
    Person(Person),
}

/// The least-recently-used cache of aggregates, keyed by stream.
struct Cache {
    entries: HashMap<String, (State, u64, u64)>,
    capacity: usize,
    tick: u64,
}

impl Cache {
    fn new(capacity: usize) -> Self {
        Cache {
            entries: HashMap::new(),
            capacity,
            tick: 0,
        }
    }

    fn get(&mut self, stream: &str) -> Option<(State, u64)> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(stream).map(|entry| {
            entry.2 = tick;
            (entry.0.clone(), entry.1)
        })
    }

    fn put(&mut self, stream: String, state: State, version: u64) {
        self.tick += 1;
        self.entries.insert(stream, (state, version, self.tick));
        if self.entries.len() > self.capacity {
            // Drop the older quarter at once, so eviction costs O(1) per insert on average.
            let mut ticks: Vec<u64> = self.entries.values().map(|entry| entry.2).collect();
            let keep = self.capacity - self.capacity / 4;
            let cut_index = ticks.len() - keep;
            let (_, cut, _) = ticks.select_nth_unstable(cut_index);
            let cut = *cut;
            self.entries.retain(|_, entry| entry.2 >= cut);
        }
        assert!(self.entries.len() <= self.capacity);
    }

    fn forget(&mut self, stream: &str) {
        self.entries.remove(stream);
    }
}

/// Recently committed command ids with their request hash and outcome, bounded.
struct Remembered {
    entries: HashMap<String, (infra::record::Hash, CommandOutcome)>,
    order: std::collections::VecDeque<String>,
    capacity: usize,
}

impl Remembered {
    fn new(capacity: usize) -> Self {
        Remembered {
            entries: HashMap::new(),
            order: std::collections::VecDeque::new(),
            capacity,
        }
    }

    fn insert(&mut self, request_hash: infra::record::Hash, outcome: &CommandOutcome) {
        let command_id = outcome.command_id.clone();
        let replayed = CommandOutcome {
            replayed: true,
            ..outcome.clone()
        };
        if self
            .entries
            .insert(command_id.clone(), (request_hash, replayed))
            .is_none()
        {
            self.order.push_back(command_id);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }

    /// The answer for a command id committed before, if remembered.
    fn answer(&self, prepared: &Prepared) -> Option<Result<CommandOutcome, CommandError>> {
        let meta = &prepared.envelope.meta;
        let (request_hash, earlier) = self.entries.get(&meta.command_id)?;
        if *request_hash == meta.request_hash {
            Some(Ok(earlier.clone()))
        } else {
            Some(Err(duplicate(&meta.command_id)))
        }
    }
}

/// The batch being gathered by [`WriterState::commit_jobs`].
#[derive(Default)]
struct Batch {
    decided: Vec<Decided>,
    /// The state each stream will have once `decided` commits.
    pending: HashMap<String, (State, u64)>,
    ids: HashMap<String, ()>,
    deferred: Vec<Job>,
    retry: Vec<Job>,
}

struct WriterState {
    cache: Cache,
    remembered: Remembered,
    /// Set when the current batch found the database away; the queue is then answered with it.
    away: Option<StoreError>,
}

/// A job decided and waiting for the commit, with the state its stream will have after it.
struct Decided {
    job: Job,
    request: AppendRequest,
    state_after: State,
}

impl WriterState {
    /// Decides and commits `jobs` in order; returns the jobs to decide again (lost races).
    async fn commit_jobs(&mut self, ledger: &Ledger, jobs: Vec<Job>) -> Vec<Job> {
        if let Some(error) = &self.away {
            // Jobs to decide again after a batch that found the database away.
            for job in jobs {
                let _ = job.reply.send(Err(same_failure(error).into()));
            }
            return Vec::new();
        }
        let jobs = self.answer_seen(jobs);
        if let Some(error) = self.preload(ledger, &jobs).await {
            // The database is away: answer the whole batch now. Committing the jobs that needed
            // no load would wait for a connection once more.
            for job in jobs {
                let _ = job.reply.send(Err(same_failure(&error).into()));
            }
            self.away = Some(error);
            return Vec::new();
        }
        let mut batch = Batch::default();
        for job in jobs {
            if let Some(error) = &self.away {
                // Found away while running a job alone or flushing the batch before it.
                let _ = job.reply.send(Err(same_failure(error).into()));
                continue;
            }
            if batch
                .ids
                .contains_key(&job.prepared.envelope.meta.command_id)
            {
                // The same id again in this batch: answered from the first once it commits.
                batch.deferred.push(job);
                continue;
            }
            if needs_facts(&job.prepared.action) {
                let decided = std::mem::take(&mut batch);
                batch.retry = self.flush(ledger, decided).await;
                self.run_alone(ledger, job).await;
                continue;
            }
            let stream = job.prepared.envelope.stream.clone();
            let current = match batch.pending.get(&stream) {
                Some(found) => Some(found.clone()),
                None => self.cache.get(&stream).or_else(|| {
                    assumes_new_stream(&job).then(|| (State::Item(Item::default()), 0))
                }),
            };
            let Some((state, version)) = current else {
                // Preloading failed for this stream: run it alone, which reports the error.
                self.run_alone(ledger, job).await;
                continue;
            };
            match decide_job(ledger.rules(), &job.prepared, state, version).await {
                Ok((request, state_after)) => {
                    let version_after = version + request.events.len() as u64;
                    batch
                        .pending
                        .insert(stream, (state_after.clone(), version_after));
                    batch.ids.insert(request.command.command_id.clone(), ());
                    batch.decided.push(Decided {
                        job,
                        request,
                        state_after,
                    });
                }
                Err(_) => {
                    // The cache is only a hint: another process may have moved the stream since
                    // it was loaded, and a refusal must never rest on a stale state (the command
                    // may be valid now, or this very command may be recorded already). Commit
                    // what is decided, so order holds, then decide this one from the store.
                    let decided = std::mem::take(&mut batch);
                    batch.retry = self.flush(ledger, decided).await;
                    self.run_alone(ledger, job).await;
                }
            }
        }
        self.flush(ledger, batch).await
    }

    /// Commits a batch, then answers the jobs that repeated an id of it; returns the jobs to
    /// decide again.
    async fn flush(&mut self, ledger: &Ledger, batch: Batch) -> Vec<Job> {
        let mut retry = batch.retry;
        retry.extend(self.commit(ledger, batch.decided).await);
        for job in batch.deferred {
            match self.remembered.answer(&job.prepared) {
                Some(answer) => {
                    let _ = job.reply.send(answer);
                }
                // The first did not commit: this one is decided on its own merits next round.
                None => retry.push(job),
            }
        }
        retry
    }

    /// Answers the jobs whose command id this writer committed recently, from memory, and
    /// returns the others, in order. There is no lookup in the store before deciding (ADR 0012):
    /// a command id committed by another process, or forgotten here, is still answered as a
    /// replay or a duplicate — when its decision is accepted, by the store, which checks every id
    /// under the head lock before anything is written; when it is refused, by
    /// [`Ledger::run`](crate::Ledger), which looks the id up before deciding from the store (a
    /// refusal never rests on the cache).
    fn answer_seen(&mut self, jobs: Vec<Job>) -> Vec<Job> {
        let mut unseen = Vec::with_capacity(jobs.len());
        for job in jobs {
            match self.remembered.answer(&job.prepared) {
                Some(answer) => {
                    let _ = job.reply.send(answer);
                }
                None => unseen.push(job),
            }
        }
        unseen
    }

    /// Loads, concurrently, every stream of `jobs` the cache does not hold, except a new item's
    /// ([`assumes_new_stream`]). Returns the failure when a stream could not be loaded because
    /// the database cannot be reached.
    async fn preload(&mut self, ledger: &Ledger, jobs: &[Job]) -> Option<StoreError> {
        let mut missing: Vec<(String, &Action)> = Vec::new();
        for job in jobs {
            let stream = &job.prepared.envelope.stream;
            let known = self.cache.entries.contains_key(stream)
                || missing.iter().any(|(seen, _)| seen == stream);
            if known {
                continue;
            }
            if assumes_new_stream(job) {
                continue;
            }
            missing.push((stream.clone(), &job.prepared.action));
        }
        let loads = missing
            .iter()
            .map(|(stream, action)| load_state(ledger, stream, action));
        let loaded = futures::future::join_all(loads).await;
        let mut away = None;
        for ((stream, _), found) in missing.into_iter().zip(loaded) {
            // A failed load leaves the stream out; its job then runs alone and reports the error,
            // unless the database is away (the batch is answered at once).
            match found {
                Ok((state, version)) => self.cache.put(stream, state, version),
                Err(CommandError::Store(error)) if error.is_unavailable() => away = Some(error),
                Err(_) => {}
            }
        }
        away
    }

    /// Remembers that the database was found away, so the queue behind is answered at once.
    fn note_failure(&mut self, error: &StoreError) {
        if error.is_unavailable() {
            self.away = Some(same_failure(error));
        }
    }

    /// Commits decided jobs in one transaction and answers them; returns those to decide again.
    async fn commit(&mut self, ledger: &Ledger, decided: Vec<Decided>) -> Vec<Job> {
        if decided.is_empty() {
            return Vec::new();
        }
        let requests = decided.iter().map(|one| one.request.clone()).collect();
        let results = match ledger.store().append_batch(requests).await {
            Ok(results) => results,
            Err(error) => {
                // Nothing of the batch was written: every caller learns why; the cache may
                // hold states that were never committed, so drop their streams.
                for one in decided {
                    self.cache.forget(&one.request.stream);
                    let _ = one.job.reply.send(Err(same_failure(&error).into()));
                }
                self.note_failure(&error);
                return Vec::new();
            }
        };
        assert_eq!(results.len(), decided.len());
        let mut retry = Vec::new();
        for (one, result) in decided.into_iter().zip(results) {
            if let Some(job) = self.answer(one, result) {
                retry.push(job);
            }
        }
        retry
    }

    /// Answers one committed job; returns it when it lost a race and may be decided again.
    fn answer(&mut self, one: Decided, result: Result<AppendOutcome, StoreError>) -> Option<Job> {
        let Decided {
            mut job,
            request,
            state_after,
        } = one;
        let command_id = request.command.command_id.as_str();
        match result {
            Ok(appended) if !appended.replayed => {
                let version = appended.records.last().map_or(0, |record| record.version);
                self.cache.put(request.stream.clone(), state_after, version);
                let done = outcome(command_id, appended);
                self.remembered.insert(request.command.request_hash, &done);
                let _ = job.reply.send(Ok(done));
                None
            }
            other => {
                // The cache assumed this command's events: they were not appended.
                self.cache.forget(&request.stream);
                let answer = match other {
                    Ok(appended) => Ok(outcome(command_id, appended)),
                    Err(StoreError::Conflict { .. }) if job.attempt < APPEND_RETRIES_MAX => {
                        job.attempt += 1;
                        return Some(job);
                    }
                    Err(StoreError::Conflict { stream, .. }) => Err(kept_changing(&stream)),
                    Err(StoreError::Duplicate { command_id }) => Err(duplicate(&command_id)),
                    Err(error) => Err(error.into()),
                };
                let _ = job.reply.send(answer);
                None
            }
        }
    }

    /// Runs a job on its own through [`Ledger::run`] (its own transaction, the store's state).
    async fn run_alone(&mut self, ledger: &Ledger, job: Job) {
        let stream = job.prepared.envelope.stream.clone();
        let answer = ledger.run(job.prepared).await;
        self.cache.forget(&stream);
        if let Err(CommandError::Store(error)) = &answer {
            self.note_failure(error);
        }
        let _ = job.reply.send(answer);
    }
}

/// The failure of a whole batch, for each of its callers: an unreachable database stays
/// `Unavailable` (a 503 over HTTP), anything else is a database error.
fn same_failure(error: &StoreError) -> StoreError {
    match error {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        other => StoreError::Database(other.to_string()),
    }
}

fn kept_changing(stream: &str) -> CommandError {
    CommandError::refused(
        ErrorCode::Conflict,
        format!("{stream} kept changing while this command was decided; retry it"),
        format!("{stream} 在处理本指令期间不断变化；请重试"),
    )
}

/// True when a job files an item and is decided for the first time: its stream is taken to be
/// empty without reading it. Only the expected version depends on that guess, never a refusal:
/// if the item exists after all, the store refuses the append as a conflict and the command is
/// decided again from the store, as is a command refused under the guess (every refusal is);
/// a guess is never cached.
fn assumes_new_stream(job: &Job) -> bool {
    job.attempt == 1 && matches!(job.prepared.action, Action::Item(ItemAction::FileItem(_)))
}

/// True when deciding `action` needs facts about other items, looked up in the store.
fn needs_facts(action: &Action) -> bool {
    match action {
        Action::Item(ItemAction::FileItem(data)) => data.parent_id.is_some(),
        Action::Item(ItemAction::TriageItem(data)) => data.decision == TriageDecision::Merge,
        // Closing a deliberation opinion needs its open children; any close is run alone.
        Action::Item(ItemAction::CloseItem(_)) => true,
        _ => false,
    }
}

/// Loads the aggregate of `stream` from the store, of the kind `action` is for.
async fn load_state(
    ledger: &Ledger,
    stream: &str,
    action: &Action,
) -> Result<(State, u64), CommandError> {
    Ok(match action {
        Action::Item(_) => {
            let (item, version) = ledger.load::<Item>(stream).await?;
            (State::Item(item), version)
        }
        Action::Follow(_) => {
            let (follow, version) = ledger.load::<Follow>(stream).await?;
            (State::Follow(follow), version)
        }
        Action::Engagement(_) => {
            let (engagement, version) = ledger.load::<Engagement>(stream).await?;
            (State::Engagement(engagement), version)
        }
        Action::Person(_) => {
            let (person, version) = ledger.load::<Person>(stream).await?;
            (State::Person(person), version)
        }
    })
}

/// Decides a job against `state` at `version`: the append request and the state after it.
async fn decide_job(
    rules: &Rules,
    prepared: &Prepared,
    state: State,
    version: u64,
) -> Result<(AppendRequest, State), CommandError> {
    let envelope = &prepared.envelope;
    let (events, state_after) = match (&prepared.action, state) {
        (Action::Item(action), State::Item(mut item)) => {
            let command = ItemCommand {
                actor: envelope.actor.clone(),
                at: envelope.at,
                action: action.clone(),
                facts: ItemFacts::default(),
            };
            let today = command.at.local_date(&rules.deadlines.time_zone);
            let events = decide_in_place(&mut item, command, rules).await?;
            let due_dates = events.iter().flat_map(ItemEvent::due_dates);
            crate::calendar_log::warn_uncovered(rules, today, due_dates);
            (new_events(&events)?, State::Item(item))
        }
        (Action::Follow(action), State::Follow(mut follow)) => {
            let command = Follow::command(envelope.actor.clone(), envelope.at, action.clone());
            let events = decide_in_place(&mut follow, command, rules).await?;
            (new_events(&events)?, State::Follow(follow))
        }
        (Action::Engagement(action), State::Engagement(mut engagement)) => {
            let command = Engagement::command(envelope.actor.clone(), envelope.at, action.clone());
            let events = decide_in_place(&mut engagement, command, rules).await?;
            (new_events(&events)?, State::Engagement(engagement))
        }
        (Action::Person(action), State::Person(mut person)) => {
            let command = Person::command(envelope.actor.clone(), envelope.at, action.clone());
            let events = decide_in_place(&mut person, command, rules).await?;
            (new_events(&events)?, State::Person(person))
        }
        _ => unreachable!("a stream's kind fixes its aggregate"),
    };
    let request = AppendRequest {
        stream: envelope.stream.clone(),
        expected_version: version,
        command: envelope.meta.clone(),
        events,
    };
    Ok((request, state_after))
}

fn new_events<E: Serialize + DomainEvent>(
    events: &[E],
) -> Result<Vec<infra::store::NewEvent>, CommandError> {
    events.iter().map(new_event).collect()
}

/// Decides `command` on `aggregate`, which then holds the state after the events (unchanged on
/// a refusal: every rule is checked before an event is written).
async fn decide_in_place<A>(
    aggregate: &mut A,
    command: A::Command,
    rules: &Rules,
) -> Result<Vec<A::Event>, CommandError>
where
    A: Aggregate<Services = Rules> + Clone,
    A::Error: Refusal,
{
    let mut next = aggregate.clone();
    let sink = EventSink::default();
    next.handle(command, rules, &sink)
        .await
        .map_err(|error| CommandError::from_refusal(&error))?;
    *aggregate = next;
    Ok(sink.collect().await)
}
