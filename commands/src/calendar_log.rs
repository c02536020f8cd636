//! Saying once when a due date was computed in a year the holiday calendar does not cover.
//!
//! The aggregates stay pure; the write side checks, after each decision, the years from the
//! command's date to the latest due date it set, and logs a warning the first time in this
//! process that a year without a State Council notice was used (only weekends were off in it).

use std::collections::BTreeSet;
use std::sync::Mutex;

use aggregates::rules::Rules;
use jiff::civil::Date;

/// The years already warned about in this process.
static WARNED_YEARS: Mutex<BTreeSet<i16>> = Mutex::new(BTreeSet::new());

/// Warns once per year and process about each year from `today` to the latest of `due_dates`
/// that the calendar does not cover.
pub(crate) fn warn_uncovered(rules: &Rules, today: Date, due_dates: impl Iterator<Item = Date>) {
    let Some(latest) = due_dates.max() else {
        return;
    };
    let calendar = &rules.deadlines.calendar;
    let uncovered = calendar.years_not_covered(today.min(latest), latest.max(today));
    if uncovered.is_empty() {
        return;
    }
    // A poisoned lock only means another thread panicked while warning; the set is still fine.
    let mut warned = WARNED_YEARS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for year in uncovered {
        if warned.insert(year) {
            tracing::warn!(
                year,
                "no State Council holiday notice for {year} in the calendar: due dates in {year} \
                 count weekends only (add calendar/{year}.toml or [calendar] files in huiyin.toml)"
            );
        }
    }
}
