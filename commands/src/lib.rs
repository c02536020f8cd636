//! The write side: a command arrives as JSON, is checked, decided by its aggregate against the
//! stream's recorded events, and appended at the version it was decided against.
//!
//! - [`Submitted`]: a command as a client sent it (`command_id`, `type`, `at`, `data`).
//! - [`Ledger::execute`]: idempotency → load → decide → append, retrying a lost race a bounded
//!   number of times; returns a [`CommandOutcome`] or a [`CommandError`] with a stable code.
//! - [`Clock`]: where "now" comes from when a command carries no `at`; tests pass a fixed one.
//!
//! Nothing here knows which database it talks to: the store is an `Arc<dyn EventStore>`.

mod error;
mod execute;
mod submitted;

pub use error::CommandError;
pub use execute::{item_event, item_stream, CommandOutcome, Ledger, APPEND_RETRIES_MAX};
pub use submitted::{Clock, Submitted, SystemClock};
