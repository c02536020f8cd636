//! The read side: pure folds from recorded events to what people look at, and the runner that
//! keeps them in SQL tables.
//!
//! - [`Projection`]: a fold from records to keyed rows (`key` says which row a record changes,
//!   `apply` folds it in). [`Folded`] runs one in memory: for a rebuild, or a replay as of any
//!   position or moment.
//! - [`board::BoardProjection`]: the tracking board (督办台账), one [`board::BoardRow`] per item;
//!   [`board::BoardView`] is the board on a given day, with due-soon / overdue flags and summary.
//! - [`trail::Trail`]: an item's audit trail (履历), every record with its position and hash.
//! - [`notices::NoticeProjection`]: what the notice rules need of each item;
//!   [`notices::decide`] turns it and a moment into reminders, status notices and digests.
//! - [`runner`]: `catch_up` keeps a projection's table current (rows and checkpoint in one
//!   transaction), `rebuild` replaces it from position 0, `run` wakes on every append.
//!
//! A fold reads no clock and no database: the same code serves the live tables, a rebuild and a
//! replay "as of".

pub mod board;
pub mod figures;
pub mod notices;
pub mod runner;
pub mod templates;
pub mod trail;

use std::collections::BTreeMap;

use aggregates::item::ItemEvent;
use infra::record::Record;
use infra::views::{BoardColumns, StoredRow};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Why a record could not be folded: a record of an item stream that is not an item event.
#[derive(Debug, thiserror::Error)]
#[error("record at position {position} ({event_type}) is not a readable event: {reason}")]
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
    decode_tagged(event_type, data)
}

/// Decodes an event enum tagged `{"type", "data"}` from a record's type and data, reading the
/// data in place (no `{"type", "data"}` value is built, nothing is copied).
///
/// # Errors
/// When the type is not one of `E`'s or its data does not fit it.
pub fn decode_tagged<E: DeserializeOwned>(
    event_type: &str,
    data: &Value,
) -> Result<E, serde_json::Error> {
    use serde::de::value::MapDeserializer;
    use serde::de::IntoDeserializer;
    let tag: Value = Value::String(event_type.to_owned());
    let members: [(&str, &Value); 2] = [("type", &tag), ("data", data)];
    E::deserialize(MapDeserializer::new(
        members
            .into_iter()
            .map(|(name, value)| (name, value.into_deserializer())),
    ))
}

/// Decodes a record of an item stream, naming its position when it does not decode.
///
/// # Errors
/// [`FoldError`] when the record is not an item event.
pub fn item_event_of(record: &Record) -> Result<ItemEvent, FoldError> {
    decode_item_event(&record.event_type, &record.data).map_err(|error| FoldError {
        position: record.position,
        event_type: record.event_type.clone(),
        reason: error.to_string(),
    })
}

/// A fold from records to rows keyed by entity.
pub trait Projection {
    /// The projection's name: its rows and checkpoint are stored under it.
    const NAME: &'static str;
    /// One row.
    type Row: Serialize + DeserializeOwned + Clone + PartialEq + Send;

    /// True when the projection's live runner queues notices as it folds (only
    /// [`notices::NoticeProjection`], kept current by [`notices::catch_up`]). Then the generic
    /// [`runner::catch_up`] refuses it (it would move the checkpoint past events without queueing
    /// their notices), and a rebuild refolds only up to its live checkpoint and leaves it there
    /// ([`runner::rebuild_all`]): the records after it are still the live runner's to fold and
    /// queue, and the records before it were queued when the live runner folded them.
    const QUEUES_NOTICES: bool = false;

    /// The key of the row `record` changes, or `None` when it changes none.
    fn key(record: &Record) -> Option<String>;

    /// True when `record` is the first record that ever changes its key's row, so that no row
    /// exists before it (a rebuild then need not look for one). `false` when unsure.
    fn opens_key(record: &Record) -> bool {
        let _ = record;
        false
    }

    /// Folds `record` into its row (`None` when the row does not exist yet); returns the new
    /// row, or `None` to remove it.
    ///
    /// # Errors
    /// [`FoldError`] when the record cannot be read as the event its type names.
    fn apply(row: Option<Self::Row>, record: &Record) -> Result<Option<Self::Row>, FoldError>;

    /// The row's real, indexed columns, written beside its JSON text (only the board has them:
    /// `board_rows`). A pure function of the row.
    fn board_columns(_row: &Self::Row) -> Option<BoardColumns> {
        None
    }
}

/// A projection folded in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded<P: Projection> {
    rows: BTreeMap<String, P::Row>,
    records_folded: u64,
}

impl<P: Projection> Default for Folded<P> {
    fn default() -> Self {
        Folded {
            rows: BTreeMap::new(),
            records_folded: 0,
        }
    }
}

impl<P: Projection> Folded<P> {
    /// Folds the next record.
    ///
    /// # Errors
    /// [`FoldError`] when the record cannot be read.
    ///
    /// # Panics
    /// When records arrive out of position order (a bug in the caller).
    pub fn apply(&mut self, record: &Record) -> Result<(), FoldError> {
        assert_eq!(record.position, self.records_folded);
        if let Some(key) = P::key(record) {
            let row = self.rows.remove(&key);
            if let Some(row) = P::apply(row, record)? {
                self.rows.insert(key, row);
            }
        }
        self.records_folded += 1;
        Ok(())
    }

    /// How many records have been folded (the next position to fold).
    pub fn records_folded(&self) -> u64 {
        self.records_folded
    }

    /// The rows, ordered by key.
    pub fn rows(&self) -> &BTreeMap<String, P::Row> {
        &self.rows
    }

    /// The rows as stored: `(key, JSON text)`, ordered by key.
    ///
    /// # Errors
    /// When a row cannot be serialised (a bug).
    pub fn stored_rows(&self) -> Result<Vec<(String, String)>, serde_json::Error> {
        self.rows
            .iter()
            .map(|(key, row)| Ok((key.clone(), serde_json::to_string(row)?)))
            .collect()
    }

    /// The rows as a rebuild writes them: key, JSON text and (for the board) columns.
    ///
    /// # Errors
    /// When a row cannot be serialised (a bug).
    pub fn rows_to_store(&self) -> Result<Vec<StoredRow>, serde_json::Error> {
        self.rows
            .iter()
            .map(|(key, row)| {
                Ok(StoredRow {
                    key: key.clone(),
                    body: serde_json::to_string(row)?,
                    board: P::board_columns(row),
                })
            })
            .collect()
    }
}
