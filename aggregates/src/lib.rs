//! The rules of Huiyin (回音): items, their commands, events and errors, and the deadline calendar.
//!
//! This crate is pure. It does no I/O, never reads the clock and draws no random numbers: the
//! business time of every command arrives on the command itself ([`time::BusinessTime`]), and the
//! settings it needs arrive as the aggregate's services ([`deadline::DeadlineRules`]).
//!
//! The main types:
//!
//! - [`item::Item`], the `cqrs-es` aggregate of one supervised item, from filing (立案) to closing
//!   (销号); it is driven by an [`item::ItemCommand`] (who, when, and an [`item::ItemAction`]) and
//!   records [`item::ItemEvent`]s, or refuses with an [`item::ItemError`];
//! - [`actor::Actor`] and [`actor::Role`], who acts;
//! - [`deadline::DeadlineRules`] and [`deadline::WorkingCalendar`], how due dates are computed
//!   (working days with the yearly holiday arrangement, calendar months clamped to the month's end);
//! - [`error::ErrorCode`], the stable error codes every refusal maps to;
//! - [`validate`], the field checks and the limits (`TITLE_CHARS_MAX` and friends) they enforce.

pub mod access;
pub mod actor;
pub mod calendar;
pub mod deadline;
pub mod error;
pub mod item;
pub mod rules;
pub mod time;
pub mod validate;
