//! The write side: a command arrives as JSON, is checked, decided by its aggregate against the
//! stream's recorded events, and appended at the version it was decided against.
//!
//! - [`Submitted`]: a command as a client sent it (`command_id`, `type`, `at`, `data`).
//! - [`Ledger::execute`]: routes the command by its type through the one table of who may do
//!   what ([`aggregates::access::COMMANDS`]) to its aggregate and stream (`item/…`, `follow/…`,
//!   `engagement/…`, `person/…`); idempotency → load → decide → append, retrying a lost race a
//!   bounded number of times; returns a [`CommandOutcome`] or a [`CommandError`] with a stable
//!   code and a message in English and Chinese.
//! - Item commands get facts about other items looked up first (a merge target, a parent, the
//!   open children of a deliberation opinion), since the aggregate sees only its own stream.
//! - [`Clock`]: where "now" comes from when a command carries no `at`; tests pass a fixed one.
//!
//! - [`fuzz`]: the body of the command fuzz target, replayed over its corpus by the tests.
//!
//! Nothing here knows which database it talks to: the store is an `Arc<dyn EventStore>`.

mod calendar_log;
mod error;
mod execute;
mod facts;
pub mod fuzz;
mod submitted;
mod writer;

pub use error::CommandError;
pub use execute::{item_event, item_stream, CommandOutcome, Ledger, APPEND_RETRIES_MAX};
pub use submitted::{Clock, Submitted, SystemClock};
pub use writer::{
    Writer, WriterConfig, AGGREGATES_CACHED_MAX, BATCH_COMMANDS_MAX, BATCH_WAIT_MS,
    COMMANDS_REMEMBERED_MAX, QUEUE_COMMANDS_MAX,
};
