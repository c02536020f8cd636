//! The body of the `command_decision` fuzz target of `fuzz/`, kept here so that the stable test
//! suite replays every file of the checked-in corpus through the very same function
//! (`tests/fuzz_corpus.rs`).
//!
//! Arbitrary bytes go the whole pure way of a command: JSON → [`Submitted`] → the checks that
//! need no store (command id, type, actor and role, `at`, data, stream id, the request's
//! fingerprint) → the aggregate's decision against each of a few fixed states (an item that
//! does not exist yet, filed, assigned, answered; a follow, an engagement and a person before and
//! after they begin). Nothing touches a store or the clock: a missing `at` is a fixed moment.

use std::sync::OnceLock;

use aggregates::actor::{Actor, Role};
use aggregates::engagement::Engagement;
use aggregates::follow::Follow;
use aggregates::item::{Item, ItemAction, ItemCommand, ItemFacts};
use aggregates::person::Person;
use aggregates::rules::Rules;
use aggregates::time::BusinessTime;
use cqrs_es::{Aggregate, DomainEvent};
use serde::Serialize;

use crate::execute::{decide, new_event, prepare, Action, Routed};
use crate::{Clock, CommandError, Submitted};

/// The moment a command without `at` is taken to happen at.
const FIXED_NOW: &str = "2024-06-03T01:00:00Z";

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> jiff::Timestamp {
        FIXED_NOW.parse().expect("a fixed instant")
    }
}

/// Who issues a command that names no actor: a liaison officer, the role that files.
fn default_actor() -> Actor {
    Actor {
        id: "liaison-01".to_owned(),
        role: Role::Liaison,
    }
}

/// One item's life up to its answer, as the commands that make it; the states are the item
/// before each step and after the last.
const ITEM_SCRIPT: [&str; 4] = [
    r#"{"actor":"liaison-01","role":"liaison","type":"FileItem","at":"2024-03-01T09:00:00+08:00","data":{"item_id":"2024-S-001","kind":"suggestion","title":"标题","body":"正文","deputies":[{"id":"d-1","name":"王芳","lead":true}]}}"#,
    r#"{"actor":"office-01","role":"court_office","type":"TriageItem","at":"2024-03-04T09:00:00+08:00","data":{"item_id":"2024-S-001","decision":"accept"}}"#,
    r#"{"actor":"office-01","role":"court_office","type":"AssignItem","at":"2024-03-05T09:00:00+08:00","data":{"item_id":"2024-S-001","lead_unit":"执行局","co_units":["立案庭"],"leader":{"id":"l-1","name":"陈立新","level":"vice_president"}}}"#,
    r#"{"actor":"l-1","role":"leader","type":"AnswerItem","at":"2024-05-20T09:00:00+08:00","data":{"item_id":"2024-S-001","class":"A","text":"答复","commitments":[{"id":"c-1","text":"承诺","due":"2024-08-01"}]}}"#,
];

const FOLLOW_SCRIPT: [&str; 1] = [
    r#"{"actor":"office-01","role":"court_office","type":"StartCaseFollow","at":"2024-03-01T09:00:00+08:00","data":{"follow_id":"F-1","case_no":"(2024)X0101执1号","deputy":{"id":"d-1","name":"王芳"},"judge":{"id":"j-1","name":"赵明"}}}"#,
];

const ENGAGEMENT_SCRIPT: [&str; 1] = [
    r#"{"actor":"liaison-01","role":"liaison","type":"RecordEngagement","at":"2024-03-01T09:00:00+08:00","data":{"engagement_id":"E-1","kind":"visit","deputies":["d-1"],"summary":"走访"}}"#,
];

const PERSON_SCRIPT: [&str; 1] = [
    r#"{"actor":"admin-01","role":"admin","type":"RegisterPerson","at":"2024-03-01T09:00:00+08:00","data":{"person_id":"d-1","name":"王芳","kind":"deputy"}}"#,
];

/// The fixed states commands are decided against, made once by the same pure path.
struct States {
    items: Vec<Item>,
    follows: Vec<Follow>,
    engagements: Vec<Engagement>,
    people: Vec<Person>,
}

fn states() -> &'static States {
    static STATES: OnceLock<States> = OnceLock::new();
    STATES.get_or_init(|| {
        let rules = Rules::default();
        States {
            items: script_states(&ITEM_SCRIPT, &rules, |action| match action {
                Action::Item(action) => Some(action),
                _ => None,
            }),
            follows: script_states(&FOLLOW_SCRIPT, &rules, |action| match action {
                Action::Follow(action) => Some(action),
                _ => None,
            }),
            engagements: script_states(&ENGAGEMENT_SCRIPT, &rules, |action| match action {
                Action::Engagement(action) => Some(action),
                _ => None,
            }),
            people: script_states(&PERSON_SCRIPT, &rules, |action| match action {
                Action::Person(action) => Some(action),
                _ => None,
            }),
        }
    })
}

/// The states of an aggregate before each line of `script` and after the last, each line
/// prepared and decided by the same pure path the fuzzed commands take.
fn script_states<A: Fixture>(
    script: &[&str],
    rules: &Rules,
    action_of: fn(Action) -> Option<A::Action>,
) -> Vec<A> {
    let mut states = vec![A::default()];
    for line in script {
        let submitted = Submitted::parse(line).expect("a script line parses");
        let prepared = prepare(&submitted, "script", None, &FixedClock, rules)
            .expect("a script line is well formed");
        let (actor, at) = (prepared.envelope.actor, prepared.envelope.at);
        let action = action_of(prepared.action).expect("a script line of this aggregate");
        let mut state = states.last().expect("a state").clone();
        let command = A::fixture_command(actor, at, action);
        for event in
            block_on_decision(state.clone(), command, rules).expect("the script is accepted")
        {
            state.apply(event);
        }
        states.push(state);
    }
    states
}

/// An aggregate the fuzz target decides commands of, with no facts about other streams.
trait Fixture:
    Aggregate<Services = Rules, Error: aggregates::error::Refusal> + Default + Clone
{
    /// What its commands ask for.
    type Action;

    /// The command of `action`, issued by `actor` at `at`.
    fn fixture_command(actor: Actor, at: BusinessTime, action: Self::Action) -> Self::Command;
}

impl Fixture for Item {
    type Action = ItemAction;

    fn fixture_command(actor: Actor, at: BusinessTime, action: ItemAction) -> ItemCommand {
        ItemCommand {
            actor,
            at,
            action,
            facts: ItemFacts::default(),
        }
    }
}

impl<A: Routed + Clone> Fixture for A {
    type Action = <A as Routed>::Action;

    fn fixture_command(actor: Actor, at: BusinessTime, action: Self::Action) -> Self::Command {
        A::command(actor, at, action)
    }
}

fn block_on_decision<A>(
    aggregate: A,
    command: A::Command,
    rules: &Rules,
) -> Result<Vec<A::Event>, CommandError>
where
    A: Aggregate<Services = Rules>,
    A::Error: aggregates::error::Refusal,
{
    futures::executor::block_on(decide(aggregate, command, rules))
}

/// Decides one command given as bytes against every fixed state of its aggregate.
///
/// # Panics
/// When a command is refused with anything but a ledger refusal, when the same decision made
/// twice differs, when an accepted decision cannot be recorded (its events do not become
/// canonical record data), or when applying accepted events panics.
pub fn command_decision(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(submitted) = Submitted::parse(text) else {
        return;
    };
    let rules = Rules::default();
    let command_id = submitted
        .command_id
        .clone()
        .unwrap_or_else(|| "fuzz".to_owned());
    let prepared = match prepare(
        &submitted,
        &command_id,
        Some(&default_actor()),
        &FixedClock,
        &rules,
    ) {
        Ok(prepared) => prepared,
        Err(error) => return assert_refusal(&error),
    };
    let actor = prepared.envelope.actor.clone();
    let at = prepared.envelope.at;
    let states = states();
    match prepared.action {
        Action::Item(action) => decide_on_each(&states.items, &actor, at, &action, &rules),
        Action::Follow(action) => decide_on_each(&states.follows, &actor, at, &action, &rules),
        Action::Engagement(action) => {
            decide_on_each(&states.engagements, &actor, at, &action, &rules);
        }
        Action::Person(action) => decide_on_each(&states.people, &actor, at, &action, &rules),
    }
}

fn decide_on_each<A>(
    states: &[A],
    actor: &Actor,
    at: BusinessTime,
    action: &A::Action,
    rules: &Rules,
) where
    A: Fixture,
    A::Action: Clone,
    A::Command: Clone,
    A::Event: Serialize + DomainEvent + PartialEq,
{
    for state in states {
        check_decision(
            state,
            A::fixture_command(actor.clone(), at, action.clone()),
            rules,
        );
    }
}

/// A refusal carries a stable code; nothing on the pure path is an operating failure.
fn assert_refusal(error: &CommandError) {
    assert!(
        matches!(error, CommandError::Refused { .. }),
        "the pure path refuses, it does not fail: {error:?}"
    );
}

/// Decides `command` against `state` twice; checks the answers agree and, when accepted, that
/// the events become record data and apply.
fn check_decision<A>(state: &A, command: A::Command, rules: &Rules)
where
    A: Aggregate<Services = Rules> + Clone,
    A::Command: Clone,
    A::Event: Serialize + DomainEvent + PartialEq,
    A::Error: aggregates::error::Refusal,
{
    let first = block_on_decision(state.clone(), command.clone(), rules);
    let second = block_on_decision(state.clone(), command, rules);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert!(a == b, "the same decision twice gave other events"),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "the same decision twice"),
        _ => panic!("the same decision twice was accepted once and refused once"),
    }
    let events = match first {
        Ok(events) => events,
        Err(error) => return assert_refusal(&error),
    };
    let mut after = state.clone();
    for event in &events {
        let recorded = new_event(event).expect("an accepted event becomes record data");
        let record = serde_json::json!({"type": recorded.event_type, "data": recorded.data});
        infra::canonical::to_canonical_bytes(&record).expect("accepted data is canonical");
    }
    for event in events {
        after.apply(event);
    }
}
