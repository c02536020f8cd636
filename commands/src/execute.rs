//! Envelope → route → idempotency → load → decide → append.

use std::sync::Arc;

use aggregates::access::{self, CommandRule, StreamKind};
use aggregates::actor::Actor;
use aggregates::engagement::{Engagement, EngagementAction};
use aggregates::error::{ErrorCode, Refusal};
use aggregates::follow::{Follow, FollowAction};
use aggregates::item::{Item, ItemAction, ItemCommand, ItemEvent};
use aggregates::person::{Person, PersonAction};
use aggregates::rules::Rules;
use aggregates::time::BusinessTime;
use aggregates::validate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use infra::record::Hash;
use infra::store::{AppendOutcome, AppendRequest, CommandMeta, EventStore, NewEvent, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::facts::item_facts;
use crate::{Clock, CommandError, Submitted};

/// A lost race (another writer moved the stream) is decided again at most this many times.
pub const APPEND_RETRIES_MAX: u32 = 8;

/// What an accepted command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The command's idempotency key.
    pub command_id: String,
    /// The stream it wrote.
    pub stream: String,
    /// The positions of its records, in order.
    pub positions: Vec<u64>,
    /// The leaf hashes of its records, in order.
    pub hashes: Vec<Hash>,
    /// True when this was a retry of a command already recorded; nothing new was appended.
    pub replayed: bool,
}

/// The stream of an item: `item/<item_id>`.
pub fn item_stream(item_id: &str) -> String {
    StreamKind::Item.stream(item_id)
}

/// The write side of one ledger.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn EventStore>,
    rules: Arc<Rules>,
    clock: Arc<dyn Clock>,
}

/// A command that passed the envelope checks: who, when, its row of the table, its stream.
pub(crate) struct Envelope {
    pub(crate) actor: Actor,
    pub(crate) at: BusinessTime,
    pub(crate) stream: String,
    pub(crate) meta: CommandMeta,
}

/// What a command asks of its aggregate, parsed.
#[derive(Clone)]
pub(crate) enum Action {
    Item(ItemAction),
    Follow(FollowAction),
    Engagement(EngagementAction),
    Person(PersonAction),
}

/// A command that passed every check that needs no store.
pub(crate) struct Prepared {
    pub(crate) envelope: Envelope,
    pub(crate) action: Action,
}

impl Ledger {
    /// A ledger writing to `store`, deciding by `rules`, filling a missing `at` from `clock`.
    pub fn new(store: Arc<dyn EventStore>, rules: Rules, clock: Arc<dyn Clock>) -> Self {
        Ledger {
            store,
            rules: Arc::new(rules),
            clock,
        }
    }

    /// The store this ledger writes to.
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// The rules this ledger decides by.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Runs one command. `command_id` must be set (the caller gives a fresh one when the client
    /// sent none); `default_actor` is who issues it unless the command names its own actor.
    ///
    /// The steps: the command id; the type, looked up in [`access::COMMANDS`]
    /// (`unknown_command`); the actor and role; `at`; the data, parsed into the action of the
    /// type's aggregate; the stream id; idempotency (the same id and request again returns the
    /// first result, another request under a used id is `duplicate`); then load → decide →
    /// append, retrying a lost race at most [`APPEND_RETRIES_MAX`] times.
    ///
    /// # Errors
    /// [`CommandError::Refused`] with a stable code when a rule refuses it (nothing appended);
    /// [`CommandError::Store`] when the ledger cannot be reached.
    pub async fn execute(
        &self,
        submitted: &Submitted,
        command_id: &str,
        default_actor: Option<&Actor>,
    ) -> Result<CommandOutcome, CommandError> {
        let prepared = self.prepare(submitted, command_id, default_actor)?;
        self.run(prepared).await
    }

    /// The checks that need no store: command id, type, actor, `at`, data, stream id.
    pub(crate) fn prepare(
        &self,
        submitted: &Submitted,
        command_id: &str,
        default_actor: Option<&Actor>,
    ) -> Result<Prepared, CommandError> {
        prepare(
            submitted,
            command_id,
            default_actor,
            &*self.clock,
            &self.rules,
        )
    }

    /// Idempotency → load → decide → append, for a prepared command, one transaction per try.
    pub(crate) async fn run(&self, prepared: Prepared) -> Result<CommandOutcome, CommandError> {
        let Prepared { envelope, action } = prepared;
        match action {
            Action::Item(action) => self.run_item(envelope, action).await,
            Action::Follow(action) => self.run_plain::<Follow>(envelope, action).await,
            Action::Engagement(action) => self.run_plain::<Engagement>(envelope, action).await,
            Action::Person(action) => self.run_plain::<Person>(envelope, action).await,
        }
    }

    /// The first result of this command id, when it was already recorded with the same request.
    pub(crate) async fn earlier(
        &self,
        meta: &CommandMeta,
    ) -> Result<Option<CommandOutcome>, CommandError> {
        let command_id = meta.command_id.as_str();
        match self.store.find_command(command_id).await? {
            Some(earlier) if earlier.request_hash != meta.request_hash => {
                Err(duplicate(command_id))
            }
            Some(earlier) => Ok(Some(outcome(command_id, earlier.outcome))),
            None => Ok(None),
        }
    }

    /// A refusal, unless this very command was recorded meanwhile: another attempt with the same
    /// id (a client's retry while its first try was still working, perhaps in another process)
    /// committed between the idempotency check and the load, so the stream already holds this
    /// command's effect and the rules refuse it a second time. That attempt's outcome is the
    /// answer (`replayed`): a client told "refused" would believe nothing happened. If the load
    /// saw the other attempt's records, its idempotency row (same transaction) is visible now.
    async fn refused_unless_recorded(
        &self,
        meta: &CommandMeta,
        refusal: CommandError,
    ) -> Result<CommandOutcome, CommandError> {
        match self.earlier(meta).await? {
            Some(earlier) => Ok(earlier),
            None => Err(refusal),
        }
    }

    /// Runs an item command: the facts about other items are looked up afresh on every attempt.
    async fn run_item(
        &self,
        envelope: Envelope,
        action: ItemAction,
    ) -> Result<CommandOutcome, CommandError> {
        if let Some(earlier) = self.earlier(&envelope.meta).await? {
            return Ok(earlier);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (item, version) = self.load::<Item>(&envelope.stream).await?;
            let facts = item_facts(self, &item, &action).await?;
            let command = ItemCommand {
                actor: envelope.actor.clone(),
                at: envelope.at,
                action: action.clone(),
                facts,
            };
            let today = command.at.local_date(&self.rules.deadlines.time_zone);
            let events = match decide(item, command, &self.rules).await {
                Ok(events) => events,
                Err(refusal) => return self.refused_unless_recorded(&envelope.meta, refusal).await,
            };
            let due_dates = events.iter().flat_map(ItemEvent::due_dates);
            crate::calendar_log::warn_uncovered(&self.rules, today, due_dates);
            if let Some(done) = self
                .append_once(&envelope, version, &events, attempt)
                .await?
            {
                return Ok(done);
            }
        }
    }

    /// Runs a command of an aggregate that needs nothing from other streams.
    async fn run_plain<A>(
        &self,
        envelope: Envelope,
        action: A::Action,
    ) -> Result<CommandOutcome, CommandError>
    where
        A: Routed,
    {
        if let Some(earlier) = self.earlier(&envelope.meta).await? {
            return Ok(earlier);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (aggregate, version) = self.load::<A>(&envelope.stream).await?;
            let command = A::command(envelope.actor.clone(), envelope.at, action.clone());
            let events = match decide(aggregate, command, &self.rules).await {
                Ok(events) => events,
                Err(refusal) => return self.refused_unless_recorded(&envelope.meta, refusal).await,
            };
            if let Some(done) = self
                .append_once(&envelope, version, &events, attempt)
                .await?
            {
                return Ok(done);
            }
        }
    }

    /// Appends `events` at `version`: the outcome, or `None` when the race was lost and may be
    /// decided again.
    async fn append_once<E: Serialize + DomainEvent>(
        &self,
        envelope: &Envelope,
        version: u64,
        events: &[E],
        attempt: u32,
    ) -> Result<Option<CommandOutcome>, CommandError> {
        let request = AppendRequest {
            stream: envelope.stream.clone(),
            expected_version: version,
            command: envelope.meta.clone(),
            events: events.iter().map(new_event).collect::<Result<_, _>>()?,
        };
        match self.store.append(request).await {
            Ok(appended) => Ok(Some(outcome(&envelope.meta.command_id, appended))),
            Err(StoreError::Conflict { .. }) if attempt < APPEND_RETRIES_MAX => Ok(None),
            Err(StoreError::Conflict { stream, .. }) => Err(CommandError::refused(
                ErrorCode::Conflict,
                format!("{stream} kept changing while this command was decided; retry it"),
                format!("{stream} 在处理本指令期间不断变化；请重试"),
            )),
            Err(StoreError::Duplicate { command_id }) => Err(duplicate(&command_id)),
            Err(other) => Err(other.into()),
        }
    }

    /// Folds a stream's recorded events into its aggregate; returns it with the stream version.
    pub(crate) async fn load<A>(&self, stream: &str) -> Result<(A, u64), CommandError>
    where
        A: Aggregate + Default,
        A::Event: DeserializeOwned,
    {
        let records = self.store.read_stream(stream).await?;
        let mut aggregate = A::default();
        let mut version = 0;
        for stored in &records {
            let unreadable = |reason: String| CommandError::Unreadable {
                position: stored.position,
                reason,
            };
            let record = stored
                .record()
                .map_err(|error| unreadable(error.to_string()))?;
            let event: A::Event = recorded_event(&record.event_type, record.data)
                .map_err(|error| unreadable(error.to_string()))?;
            aggregate.apply(event);
            version = stored.version;
        }
        Ok((aggregate, version))
    }
}

/// An aggregate the write side routes commands to with nothing but its own stream.
pub(crate) trait Routed:
    Aggregate<Services = Rules, Event: Serialize + DeserializeOwned, Error: Refusal> + Default
{
    /// What its commands ask for.
    type Action: Clone + Send + Sync;

    /// The command of `action`, issued by `actor` at `at`.
    fn command(actor: Actor, at: BusinessTime, action: Self::Action) -> Self::Command;
}

impl Routed for Follow {
    type Action = FollowAction;

    fn command(actor: Actor, at: BusinessTime, action: FollowAction) -> Self::Command {
        aggregates::command::Command { actor, at, action }
    }
}

impl Routed for Engagement {
    type Action = EngagementAction;

    fn command(actor: Actor, at: BusinessTime, action: EngagementAction) -> Self::Command {
        aggregates::command::Command { actor, at, action }
    }
}

impl Routed for Person {
    type Action = PersonAction;

    fn command(actor: Actor, at: BusinessTime, action: PersonAction) -> Self::Command {
        aggregates::command::Command { actor, at, action }
    }
}

/// The checks that need no store: command id, type, actor, `at`, data, stream id. Pure: the
/// clock is asked only for a missing `at`.
pub(crate) fn prepare(
    submitted: &Submitted,
    command_id: &str,
    default_actor: Option<&Actor>,
    clock: &dyn Clock,
    rules: &Rules,
) -> Result<Prepared, CommandError> {
    validate::id("command_id", command_id)?;
    let Some(rule) = access::command_rule(&submitted.command_type) else {
        return Err(unknown_command(&submitted.command_type));
    };
    let actor = submitted.actor(default_actor)?;
    let at = submitted.business_time(clock, &rules.deadlines.time_zone)?;
    let (id, action) = match rule.stream {
        StreamKind::Item => {
            let action: ItemAction = parse_action(submitted)?;
            (action.item_id().to_owned(), Action::Item(action))
        }
        StreamKind::Follow => {
            let action: FollowAction = parse_action(submitted)?;
            (action.follow_id().to_owned(), Action::Follow(action))
        }
        StreamKind::Engagement => {
            let action: EngagementAction = parse_action(submitted)?;
            (
                action.engagement_id().to_owned(),
                Action::Engagement(action),
            )
        }
        StreamKind::Person => {
            let action: PersonAction = parse_action(submitted)?;
            (action.person_id().to_owned(), Action::Person(action))
        }
    };
    let envelope = envelope(submitted, command_id, rule, &id, actor, at)?;
    Ok(Prepared { envelope, action })
}

/// Checks the stream id and fingerprints the request.
fn envelope(
    submitted: &Submitted,
    command_id: &str,
    rule: &CommandRule,
    id: &str,
    actor: Actor,
    at: BusinessTime,
) -> Result<Envelope, CommandError> {
    validate::id(rule.stream.id_field(), id)?;
    let request_hash = submitted.request_hash(&actor)?;
    let meta = CommandMeta {
        command_id: command_id.to_owned(),
        request_hash,
        at: at.to_string(),
        actor: actor.id.clone(),
        role: actor.role.as_str().to_owned(),
    };
    Ok(Envelope {
        actor,
        at,
        stream: rule.stream.stream(id),
        meta,
    })
}

/// Parses `{"type","data"}` into an aggregate's action.
fn parse_action<T: DeserializeOwned>(submitted: &Submitted) -> Result<T, CommandError> {
    serde_json::from_value(json!({
        "type": submitted.command_type,
        "data": submitted.data,
    }))
    .map_err(|error| {
        let kind = &submitted.command_type;
        CommandError::invalid(
            format!("{kind}: {error}"),
            format!("{kind} 的字段有误（缺少、多余、类型或取值不对）：{error}"),
        )
    })
}

/// Decodes a recorded item event from its type and data.
///
/// # Errors
/// When the type is not an item event or the data does not match it.
pub fn item_event(event_type: &str, data: Value) -> Result<ItemEvent, serde_json::Error> {
    recorded_event(event_type, data)
}

/// Decodes a recorded event of any aggregate from its type and data.
fn recorded_event<E: DeserializeOwned>(
    event_type: &str,
    data: Value,
) -> Result<E, serde_json::Error> {
    serde_json::from_value(json!({"type": event_type, "data": data}))
}

pub(crate) async fn decide<A>(
    mut aggregate: A,
    command: A::Command,
    rules: &Rules,
) -> Result<Vec<A::Event>, CommandError>
where
    A: Aggregate<Services = Rules>,
    A::Error: Refusal,
{
    let sink = EventSink::default();
    aggregate
        .handle(command, rules, &sink)
        .await
        .map_err(|error| CommandError::from_refusal(&error))?;
    Ok(sink.collect().await)
}

pub(crate) fn new_event<E: Serialize + DomainEvent>(event: &E) -> Result<NewEvent, CommandError> {
    let schema = event.event_version().parse::<u32>().unwrap_or(1);
    let mut value = serde_json::to_value(event).map_err(|error| CommandError::Unreadable {
        position: 0,
        reason: error.to_string(),
    })?;
    let data = value
        .get_mut("data")
        .map(Value::take)
        .unwrap_or(Value::Null);
    Ok(NewEvent {
        event_type: event.event_type(),
        schema,
        data,
    })
}

pub(crate) fn outcome(command_id: &str, appended: AppendOutcome) -> CommandOutcome {
    CommandOutcome {
        command_id: command_id.to_owned(),
        stream: appended.stream,
        positions: appended
            .records
            .iter()
            .map(|record| record.position)
            .collect(),
        hashes: appended.records.iter().map(|record| record.hash).collect(),
        replayed: appended.replayed,
    }
}

pub(crate) fn duplicate(command_id: &str) -> CommandError {
    CommandError::refused(
        ErrorCode::Duplicate,
        format!("command id {command_id} was already used by a different command"),
        format!("指令编号 {command_id} 已被另一条不同的指令使用"),
    )
}

fn unknown_command(command_type: &str) -> CommandError {
    let known: Vec<&str> = access::COMMANDS.iter().map(|rule| rule.command).collect();
    CommandError::refused(
        ErrorCode::UnknownCommand,
        format!(
            "unknown command type {command_type:?}; the ledger knows: {}",
            known.join(", ")
        ),
        format!("未知的指令类型 {command_type:?}；可用的指令见 docs/commands.md"),
    )
}
