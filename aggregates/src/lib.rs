//! The rules of Huiyin (回音): items, their commands, events and errors, and the deadline calendar.
//!
//! This crate is pure. It does no I/O, never reads the clock and draws no random numbers: the
//! business time of every command arrives on the command itself ([`time::BusinessTime`]), and the
//! settings it needs arrive as the aggregate's services ([`rules::Rules`]).
//!
//! The main types:
//!
//! - [`item::Item`], the `cqrs-es` aggregate of one supervised item, from filing (立案) to closing
//!   (销号); it is driven by an [`item::ItemCommand`] (who, when, and an [`item::ItemAction`]) and
//!   records [`item::ItemEvent`]s, or refuses with an [`item::ItemError`];
//! - [`follow::Follow`] (一人一案 case follows), [`engagement::Engagement`] (走访、视察、座谈…)
//!   and [`person::Person`] (people and their access), driven by a [`command::Command`];
//! - [`access::COMMANDS`], the one table of who may do what, which the aggregates, the write side
//!   and `docs/commands.md` all read;
//! - [`actor::Actor`] and [`actor::Role`], who acts;
//! - [`deadline::DeadlineRules`] and [`deadline::WorkingCalendar`], how due dates are computed
//!   (working days with the yearly holiday arrangement, calendar months clamped to the month's end),
//!   and [`calendar`], the State Council's notices as embedded data; [`rules::Rules`], the
//!   settings every aggregate decides by;
//! - [`money::Yuan`], an amount in yuan held as whole fen (no floating point);
//! - [`error::ErrorCode`], the stable error codes every refusal maps to, and [`error::Refusal`],
//!   which every aggregate's error implements (code, English `Display`, Chinese message);
//! - [`validate`], the field checks and the limits (`TITLE_CHARS_MAX` and friends) they enforce.

pub mod access;
pub mod actor;
pub mod calendar;
pub mod command;
pub mod deadline;
pub mod engagement;
pub mod error;
pub mod follow;
pub mod item;
pub mod money;
pub mod person;
pub mod rules;
pub mod time;
pub mod validate;
