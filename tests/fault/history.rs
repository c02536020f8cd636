//! What each client sent and was told, and the check of the log against it.
//!
//! The rules (Jepsen's, for a log with idempotent commands): every acknowledged command is in
//! the log exactly once, at the positions it was told; every refused command is absent; a
//! command whose answer was unknown is either wholly there or wholly absent; positions are
//! gap-free from 0; every record belongs to a command some client sent.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use futures::TryStreamExt;
use infra::store::EventStore;

use super::client::Told;

/// One command as a client sent it (perhaps several times, always with the same id and body)
/// and every answer it got.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Which client sent it.
    pub client: usize,
    /// Its idempotency key.
    pub command_id: String,
    /// Its type, e.g. `AnswerItem`.
    pub command_type: String,
    /// The item it is about.
    pub item_id: String,
    /// What each attempt was told, in order.
    pub attempts: Vec<Told>,
}

/// What a command's attempts add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Some attempt was acknowledged at these positions.
    Acknowledged(Vec<u64>),
    /// Refused, never acknowledged.
    Refused(String),
    /// No attempt was answered definitely.
    Unknown,
}

impl Sent {
    /// The verdict of all attempts.
    ///
    /// # Panics
    /// When attempts contradict each other: acknowledged at different positions, or both
    /// acknowledged and refused (a retry must never be refused once its first try was recorded).
    pub fn verdict(&self) -> Verdict {
        let mut acknowledged: Option<&Vec<u64>> = None;
        let mut refused: Option<&str> = None;
        for told in &self.attempts {
            match told {
                Told::Acknowledged { positions, .. } => {
                    if let Some(earlier) = acknowledged {
                        assert_eq!(earlier, positions, "{self:?}: told two sets of positions");
                    }
                    acknowledged = Some(positions);
                }
                Told::Refused { code, .. } => refused = Some(code),
                Told::ServerError { .. } | Told::NoAnswer(_) => {}
            }
        }
        match (acknowledged, refused) {
            (Some(_), Some(code)) => {
                panic!("{self:?}: acknowledged and also refused ({code})")
            }
            (Some(positions), None) => Verdict::Acknowledged(positions.clone()),
            (None, Some(code)) => Verdict::Refused(code.to_owned()),
            (None, None) => Verdict::Unknown,
        }
    }
}

/// Every client's history, shared by the client threads.
#[derive(Debug, Default)]
pub struct History(Mutex<Vec<Sent>>);

impl History {
    /// Adds a settled (or given-up) command.
    pub fn add(&self, sent: Sent) {
        self.0.lock().expect("history").push(sent);
    }

    /// Everything sent so far.
    pub fn all(&self) -> Vec<Sent> {
        self.0.lock().expect("history").clone()
    }
}

/// The counts a check ends with; printed as the summary line RELIABILITY.md quotes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records in the log.
    pub records: u64,
    /// Commands sent (distinct ids).
    pub commands: usize,
    /// Attempts made (first sends and retries with the same id).
    pub attempts: usize,
    /// Commands acknowledged (200).
    pub acknowledged: usize,
    /// Of those, acknowledged only on a retry (same id, same body).
    pub acknowledged_on_retry: usize,
    /// Of those, the retry was a replay: an earlier try had been recorded but its answer was
    /// lost (the server was killed, or its database connection cut during the commit).
    pub recorded_but_answer_lost: usize,
    /// Commands refused (4xx), by code.
    pub refused: BTreeMap<String, usize>,
    /// Attempts answered 5xx, by status.
    pub server_errors: BTreeMap<u16, usize>,
    /// Attempts with no answer (connection refused or broken, timeout).
    pub no_answer: usize,
    /// Commands never answered definitely: found wholly in the log.
    pub unknown_present: usize,
    /// Commands never answered definitely: wholly absent.
    pub unknown_absent: usize,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            out,
            "records={} commands={} attempts={} acknowledged={} (on_retry {}, recorded_but_answer_lost {}) refused={:?} \
             5xx={:?} no_answer={} unknown_present={} unknown_absent={} lost=0 duplicated=0",
            self.records,
            self.commands,
            self.attempts,
            self.acknowledged,
            self.acknowledged_on_retry,
            self.recorded_but_answer_lost,
            self.refused,
            self.server_errors,
            self.no_answer,
            self.unknown_present,
            self.unknown_absent
        )
    }
}

/// Reads the whole log and the idempotency table and checks them against `history`.
///
/// # Panics
/// On any breach of the rules in the module's documentation.
pub async fn check_log_against(store: &dyn EventStore, history: &[Sent]) -> Tally {
    let records: Vec<_> = store.read_all(0).try_collect().await.expect("read the log");
    let head = store.head().await.expect("head");
    assert_eq!(
        head.tree_size,
        records.len() as u64,
        "the head counts every record"
    );
    let mut positions_of: HashMap<String, Vec<u64>> = HashMap::new();
    for (index, stored) in records.iter().enumerate() {
        assert_eq!(
            stored.position, index as u64,
            "positions are gap-free from 0"
        );
        let record = stored.record().expect("a readable record");
        positions_of
            .entry(record.command_id)
            .or_default()
            .push(stored.position);
    }
    let commands: Vec<_> = store
        .read_commands()
        .try_collect()
        .await
        .expect("read the idempotency table");
    assert_eq!(
        commands.len(),
        positions_of.len(),
        "one command row per command"
    );
    for command in &commands {
        let wanted: Vec<u64> =
            (command.first_position..command.first_position + command.event_count).collect();
        assert_eq!(
            positions_of.get(&command.command_id),
            Some(&wanted),
            "command {} is wholly in the log, once, where its row says",
            command.command_id
        );
    }
    let mut tally = Tally {
        records: head.tree_size,
        commands: history.len(),
        ..Tally::default()
    };
    let mut sent_ids: HashMap<&str, usize> = HashMap::new();
    for sent in history {
        if let Some(other) = sent_ids.insert(sent.command_id.as_str(), sent.client) {
            panic!(
                "{} sent by clients {other} and {}",
                sent.command_id, sent.client
            );
        }
        tally_attempts(&mut tally, sent);
        let found = positions_of.get(&sent.command_id);
        match sent.verdict() {
            Verdict::Acknowledged(told) => {
                assert_eq!(found, Some(&told), "{sent:?} is where it was told");
                tally.acknowledged += 1;
                if !matches!(sent.attempts.first(), Some(Told::Acknowledged { .. })) {
                    tally.acknowledged_on_retry += 1;
                    let replayed = sent
                        .attempts
                        .iter()
                        .any(|told| matches!(told, Told::Acknowledged { replayed: true, .. }));
                    if replayed {
                        tally.recorded_but_answer_lost += 1;
                    }
                }
            }
            Verdict::Refused(code) => {
                assert_eq!(
                    found, None,
                    "{sent:?} was refused ({code}) yet is in the log"
                );
                *tally.refused.entry(code).or_default() += 1;
            }
            Verdict::Unknown if found.is_some() => tally.unknown_present += 1,
            Verdict::Unknown => tally.unknown_absent += 1,
        }
    }
    for command_id in positions_of.keys() {
        assert!(
            sent_ids.contains_key(command_id.as_str()),
            "{command_id} is in the log but no client sent it"
        );
    }
    tally
}

fn tally_attempts(tally: &mut Tally, sent: &Sent) {
    for told in &sent.attempts {
        tally.attempts += 1;
        match told {
            Told::ServerError { status, .. } => {
                *tally.server_errors.entry(*status).or_default() += 1
            }
            Told::NoAnswer(_) => tally.no_answer += 1,
            Told::Acknowledged { .. } | Told::Refused { .. } => {}
        }
    }
}
