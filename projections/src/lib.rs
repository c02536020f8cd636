//! The read side: pure folds from recorded events to what people look at.
//!
//! - [`board::Board`]: the tracking board (督办台账), one [`board::BoardRow`] per item, and its
//!   [`board::BoardView`] for a given day with the summary and the due-soon / overdue flags.
//! - [`trail::Trail`]: an item's audit trail (履历), every record with its position and hash.
//!
//! A fold takes records in position order and never reads a clock or a database: the same code
//! serves a live view, a rebuild and a replay as of any position.

pub mod board;
pub mod trail;

use aggregates::item::ItemEvent;
use serde_json::{json, Value};

/// Why a record could not be folded: a record of an item stream that is not an item event.
#[derive(Debug, thiserror::Error)]
#[error("record at position {position} ({event_type}) is not a readable item event: {reason}")]
pub struct FoldError {
    /// Where.
    pub position: u64,
    /// Its type.
    pub event_type: String,
    /// Why.
    pub reason: String,
}

/// Decodes a recorded item event from its type and data.
///
/// # Errors
/// When the type is not an item event or its data does not fit it.
pub fn decode_item_event(event_type: &str, data: &Value) -> Result<ItemEvent, serde_json::Error> {
    serde_json::from_value(json!({"type": event_type, "data": data}))
}
