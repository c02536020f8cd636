//! Idempotency → load → decide → append.

use std::sync::Arc;

use aggregates::actor::Actor;
use aggregates::error::ErrorCode;
use aggregates::item::{Item, ItemAction, ItemCommand, ItemEvent};
use aggregates::rules::Rules;
use aggregates::validate;
use cqrs_es::{Aggregate, DomainEvent};
use infra::record::Hash;
use infra::store::{AppendOutcome, AppendRequest, CommandMeta, EventStore, NewEvent, StoreError};
use serde_json::{json, Value};

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
    format!("item/{item_id}")
}

/// The write side of one ledger.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn EventStore>,
    rules: Arc<Rules>,
    clock: Arc<dyn Clock>,
}

impl Ledger {
    /// A ledger writing to `store`, deciding deadlines by `rules`, filling a missing `at` from
    /// `clock`.
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

    /// Runs one command. `command_id` must be set (the caller gives a fresh one when the client
    /// sent none); `default_actor` is who issues it unless the command names its own actor.
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
        validate::id("command_id", command_id)
            .map_err(|error| CommandError::invalid(error.to_string()))?;
        if !ItemAction::TYPES.contains(&submitted.command_type.as_str()) {
            return Err(CommandError::refused(
                ErrorCode::UnknownCommand,
                format!("unknown command type {:?}", submitted.command_type),
            ));
        }
        let actor = submitted.actor(default_actor)?;
        let at = submitted.business_time(&*self.clock, &self.rules.deadlines.time_zone)?;
        let action: ItemAction = serde_json::from_value(json!({
            "type": submitted.command_type,
            "data": submitted.data,
        }))
        .map_err(|error| CommandError::invalid(format!("{}: {error}", submitted.command_type)))?;
        validate::id("item_id", action.item_id())
            .map_err(|error| CommandError::invalid(error.to_string()))?;
        let request_hash = submitted.request_hash(&actor)?;
        if let Some(earlier) = self.store.find_command(command_id).await? {
            if earlier.request_hash != request_hash {
                return Err(duplicate(command_id));
            }
            return Ok(outcome(command_id, earlier.outcome));
        }
        let meta = CommandMeta {
            command_id: command_id.to_owned(),
            request_hash,
            at: at.to_string(),
            actor: actor.id.clone(),
            role: actor.role.as_str().to_owned(),
        };
        let command = ItemCommand {
            actor,
            at,
            action,
            facts: Default::default(),
        };
        self.decide_and_append(command, meta).await
    }

    async fn decide_and_append(
        &self,
        command: ItemCommand,
        meta: CommandMeta,
    ) -> Result<CommandOutcome, CommandError> {
        let stream = item_stream(command.action.item_id());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (item, version) = self.load_item(&stream).await?;
            let events = decide(item, command.clone(), &self.rules).await?;
            let request = AppendRequest {
                stream: stream.clone(),
                expected_version: version,
                command: meta.clone(),
                events: events.iter().map(new_event).collect::<Result<_, _>>()?,
            };
            match self.store.append(request).await {
                Ok(appended) => return Ok(outcome(&meta.command_id, appended)),
                Err(StoreError::Conflict { .. }) if attempt < APPEND_RETRIES_MAX => continue,
                Err(StoreError::Conflict { stream, .. }) => {
                    return Err(CommandError::refused(
                        ErrorCode::Conflict,
                        format!("{stream} kept changing while this command was decided; retry it"),
                    ))
                }
                Err(StoreError::Duplicate { command_id }) => return Err(duplicate(&command_id)),
                Err(other) => return Err(other.into()),
            }
        }
    }

    /// Folds a stream's recorded events into its aggregate; returns it with the stream version.
    async fn load_item(&self, stream: &str) -> Result<(Item, u64), CommandError> {
        let records = self.store.read_stream(stream).await?;
        let mut item = Item::default();
        let mut version = 0;
        for stored in &records {
            let unreadable = |reason: String| CommandError::Unreadable {
                position: stored.position,
                reason,
            };
            let record = stored
                .record()
                .map_err(|error| unreadable(error.to_string()))?;
            let event = item_event(&record.event_type, record.data)
                .map_err(|error| unreadable(error.to_string()))?;
            item.apply(event);
            version = stored.version;
        }
        Ok((item, version))
    }
}

/// Decodes a recorded item event from its type and data.
///
/// # Errors
/// When the type is not an item event or the data does not match it.
pub fn item_event(event_type: &str, data: Value) -> Result<ItemEvent, serde_json::Error> {
    serde_json::from_value(json!({"type": event_type, "data": data}))
}

async fn decide(
    mut item: Item,
    command: ItemCommand,
    rules: &Rules,
) -> Result<Vec<ItemEvent>, CommandError> {
    let sink = cqrs_es::event_sink::EventSink::default();
    item.handle(command, rules, &sink)
        .await
        .map_err(|error| CommandError::refused(error.code(), error.to_string()))?;
    Ok(sink.collect().await)
}

fn new_event(event: &ItemEvent) -> Result<NewEvent, CommandError> {
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

fn outcome(command_id: &str, appended: AppendOutcome) -> CommandOutcome {
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

fn duplicate(command_id: &str) -> CommandError {
    CommandError::refused(
        ErrorCode::Duplicate,
        format!("command id {command_id} was already used by a different command"),
    )
}
