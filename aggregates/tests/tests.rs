//! The item rules of the `aggregates` crate, written given / when / then with `cqrs-es`'s
//! `TestFramework`. One integration binary; one module per command or concern.

mod calendar;
mod follow;
mod item;
mod people;
mod property;
