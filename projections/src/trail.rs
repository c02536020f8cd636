//! An item's trail (履历): every record of its stream, in order, with position and hash.

use infra::record::{Hash, Record};
use serde::Serialize;
use serde_json::Value;

/// One line of a trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrailEntry {
    /// Global position.
    pub position: u64,
    /// The stream.
    pub stream: String,
    /// Version within the stream.
    pub version: u64,
    /// Event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Business time.
    pub at: String,
    /// Server time.
    pub recorded_at: String,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// The record's leaf hash.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Hash,
    /// The event's payload.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

/// `{"item_id","events":[…]}` (DESIGN.md §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trail {
    /// The item.
    pub item_id: String,
    /// Its records in order.
    pub events: Vec<TrailEntry>,
}

impl Trail {
    /// An empty trail for `item_id`.
    pub fn new(item_id: &str) -> Self {
        Trail {
            item_id: item_id.to_owned(),
            events: Vec::new(),
        }
    }

    /// Adds the next record of the item's stream.
    pub fn push(&mut self, record: Record, hash: Hash) {
        self.events.push(TrailEntry {
            position: record.position,
            stream: record.stream,
            version: record.version,
            event_type: record.event_type,
            at: record.at,
            recorded_at: record.recorded_at,
            actor: record.actor,
            role: record.role,
            hash,
            data: record.data,
        });
    }
}
