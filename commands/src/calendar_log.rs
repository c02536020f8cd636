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
/// that the calendar does not cover; returns the years it warned about just now.
pub(crate) fn warn_uncovered(
    rules: &Rules,
    today: Date,
    due_dates: impl Iterator<Item = Date>,
) -> Vec<i16> {
    let Some(latest) = due_dates.max() else {
        return Vec::new();
    };
    let calendar = &rules.deadlines.calendar;
    let uncovered = calendar.years_not_covered(today.min(latest), latest.max(today));
    if uncovered.is_empty() {
        return Vec::new();
    }
    // A poisoned lock only means another thread panicked while warning; the set is still fine.
    let mut warned = WARNED_YEARS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut warned_now = Vec::new();
    for year in uncovered {
        if warned.insert(year) {
            tracing::warn!(
                year,
                "no State Council holiday notice for {year} in the calendar: due dates in {year} \
                 count weekends only (add calendar/{year}.toml or [calendar] files in huiyin.toml)"
            );
            warned_now.push(year);
        }
    }
    warned_now
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn each_uncovered_year_is_warned_about_once_per_process() {
        let rules = Rules::default();
        let first = warn_uncovered(&rules, date(2040, 11, 2), [date(2041, 2, 4)].into_iter());
        assert_eq!(first, vec![2040, 2041]);
        let again = warn_uncovered(&rules, date(2040, 12, 1), [date(2041, 1, 4)].into_iter());
        assert!(again.is_empty());
        let covered = warn_uncovered(&rules, date(2024, 3, 1), [date(2024, 6, 5)].into_iter());
        assert!(covered.is_empty());
        assert!(warn_uncovered(&rules, date(2042, 1, 1), std::iter::empty()).is_empty());
    }
}
