//! `huiyin` as a library: what the command line and the HTTP API share, and the API itself.
//!
//! - [`reading`]: the board, the figures and an item's trail, live or as of a moment.
//! - [`cursor`]: the opaque cursor of a board page (`/api/board?after=`).
//! - [`when`]: reading "as of" and "now" moments.
//! - [`auth`]: passwords, tokens, sessions and login throttling; the [`auth::Principal`].
//! - [`http`]: the axum router ([`http::app`]), its state, errors and [`http::serve`].
//! - [`web`]: the server-rendered pages (board, item, figures, audit, login), in Chinese and English.
//! - [`tables`]: the board and the figures as CSV and XLSX.
//! - [`scheduler`]: notices queued as the log grows and at `daily_at`, and delivered, on a
//!   [`scheduler::Timer`] tests move (`huiyin notify`; `huiyin remind` is one evaluation).
//!
//! The binary (`src/main.rs`) adds the command line on top. Rules live in the library crates
//! (`aggregates`, `commands`, `projections`, `infra`); see ARCHITECTURE.md.

pub mod auth;
pub mod cursor;
pub mod http;
pub mod reading;
pub mod scheduler;
pub mod tables;
pub mod web;
pub mod when;
