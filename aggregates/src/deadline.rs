//! Deadlines (限期办理, DESIGN.md §4): working days and the due dates computed from them.
//!
//! A [`WorkingCalendar`] knows which dates are working days; [`DeadlineRules`] holds the
//! ledger's time zone, its calendar and the configurable periods, and computes each due date.
//! Every due date is computed once, when the event that sets it is decided, and stored on that
//! event, so a later calendar edit never changes history.
//!
//! The functions here saturate at [`Date::MAX`] (9999-12-31) rather than fail: item commands
//! refuse business times outside [`crate::validate::AT_YEAR_MIN`]..=[`crate::validate::AT_YEAR_MAX`],
//! so a real due date never comes near it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::Span;

/// The working-day calendar: weekends off, plus the State Council's yearly holiday arrangement.
///
/// A date is a working day if it is Monday to Friday and not a public holiday, or if it is a
/// make-up working day (调休上班), even on a weekend. The default calendar knows no holidays: only
/// weekends are off. [`WorkingCalendar::official`] is the State Council's arrangements
/// (see [`crate::calendar`]); the years it has a notice for are
/// [`WorkingCalendar::years_covered`], and any other year falls back to weekends only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    holidays: BTreeSet<Date>,
    make_up_working_days: BTreeSet<Date>,
    years_covered: BTreeSet<i16>,
}

impl WorkingCalendar {
    /// A calendar with these public holidays and make-up working days. A date in both sets is a
    /// working day.
    /// It covers no year until [`WorkingCalendar::covering`] says so.
    pub fn new(holidays: BTreeSet<Date>, make_up_days: BTreeSet<Date>) -> WorkingCalendar {
        WorkingCalendar {
            holidays,
            make_up_working_days: make_up_days,
            years_covered: BTreeSet::new(),
        }
    }

    /// The same calendar, saying that it has the holiday arrangement of each of `years`.
    pub fn covering(mut self, years: impl IntoIterator<Item = i16>) -> WorkingCalendar {
        self.years_covered.extend(years);
        self
    }

    /// The years whose holiday arrangement the calendar has.
    pub fn years_covered(&self) -> &BTreeSet<i16> {
        &self.years_covered
    }

    /// Whether the calendar has the holiday arrangement of `year`; if not, only weekends are off
    /// in that year.
    pub fn covers_year(&self, year: i16) -> bool {
        self.years_covered.contains(&year)
    }

    /// The years from `from` to `to` (inclusive) that the calendar has no arrangement for.
    pub fn years_not_covered(&self, from: Date, to: Date) -> Vec<i16> {
        (from.year()..=to.year())
            .filter(|year| !self.covers_year(*year))
            .collect()
    }

    /// The public holidays.
    pub fn holidays(&self) -> &BTreeSet<Date> {
        &self.holidays
    }

    /// The make-up working days (调休上班).
    pub fn make_up_working_days(&self) -> &BTreeSet<Date> {
        &self.make_up_working_days
    }

    /// Whether `date` is a working day: Monday to Friday and not a holiday, or a make-up working
    /// day.
    pub fn is_working_day(&self, date: Date) -> bool {
        if self.make_up_working_days.contains(&date) {
            return true;
        }
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        !weekend && !self.holidays.contains(&date)
    }

    /// The `n`-th working day strictly after `date` (`date` itself when `n` is 0), saturating at
    /// [`Date::MAX`].
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        let mut current = date;
        let mut counted = 0;
        while counted < n {
            let Ok(next) = current.tomorrow() else {
                return Date::MAX;
            };
            current = next;
            if self.is_working_day(current) {
                counted += 1;
            }
        }
        current
    }

    /// `date` if it is a working day, else the next working day after it, saturating at
    /// [`Date::MAX`].
    pub fn on_or_after_working_day(&self, date: Date) -> Date {
        let mut current = date;
        while !self.is_working_day(current) {
            let Ok(next) = current.tomorrow() else {
                return Date::MAX;
            };
            current = next;
        }
        current
    }
}

/// The ledger's deadline settings, and the due dates they give. These are the aggregate's
/// services: every decision that sets a due date computes it here.
#[derive(Debug, Clone)]
pub struct DeadlineRules {
    /// The ledger's time zone; dates are local dates in it. Default Asia/Shanghai.
    pub time_zone: TimeZone,
    /// The working-day calendar. Default: the official one, 2017 onwards.
    pub calendar: WorkingCalendar,
    /// Working days from filing to the triage due date. Default 7.
    pub triage_working_days: u32,
    /// Calendar months from assignment to the answer due date. Default 3.
    pub answer_months: u32,
    /// Calendar months from assignment to the answer due date of an urgent item. Default 1.
    pub urgent_answer_months: u32,
    /// Calendar months from assignment to the co-unit view due date. Default 1.
    pub co_view_months: u32,
    /// Calendar months from an unsatisfied rating to the re-handling due date. Default 1.
    pub rehandling_months: u32,
    /// The most calendar months after assignment an extension may reach. Default 6.
    pub extension_months_max: u32,
}

impl Default for DeadlineRules {
    /// Asia/Shanghai (from jiff's bundled time zone database, or a fixed +08:00 should that ever
    /// be missing), the official calendar ([`WorkingCalendar::official`]), and the periods of
    /// DESIGN.md §4.
    fn default() -> DeadlineRules {
        static OFFICIAL: OnceLock<WorkingCalendar> = OnceLock::new();
        let time_zone =
            TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(Offset::constant(8)));
        DeadlineRules {
            time_zone,
            calendar: OFFICIAL.get_or_init(WorkingCalendar::official).clone(),
            triage_working_days: 7,
            answer_months: 3,
            urgent_answer_months: 1,
            co_view_months: 1,
            rehandling_months: 1,
            extension_months_max: 6,
        }
    }
}

impl DeadlineRules {
    /// The triage due date: [`DeadlineRules::triage_working_days`] working days after the filing
    /// date.
    pub fn triage_due(&self, filed_on: Date) -> Date {
        self.calendar
            .add_working_days(filed_on, self.triage_working_days)
    }

    /// The answer due date: the assignment date plus [`DeadlineRules::answer_months`] (or
    /// [`DeadlineRules::urgent_answer_months`] when `urgent`), by the month rule of
    /// [`DeadlineRules::months_later_working_day`].
    pub fn answer_due(&self, assigned_on: Date, urgent: bool) -> Date {
        let months = if urgent {
            self.urgent_answer_months
        } else {
            self.answer_months
        };
        self.months_later_working_day(assigned_on, months)
    }

    /// The co-unit view due date: the assignment date plus [`DeadlineRules::co_view_months`].
    pub fn co_view_due(&self, assigned_on: Date) -> Date {
        self.months_later_working_day(assigned_on, self.co_view_months)
    }

    /// The re-handling due date: the date of the unsatisfied rating plus
    /// [`DeadlineRules::rehandling_months`].
    pub fn rehandling_due(&self, rated_on: Date) -> Date {
        self.months_later_working_day(rated_on, self.rehandling_months)
    }

    /// The latest date an extension may reach: the assignment date plus
    /// [`DeadlineRules::extension_months_max`], by the same month rule.
    pub fn extension_due_max(&self, assigned_on: Date) -> Date {
        self.months_later_working_day(assigned_on, self.extension_months_max)
    }

    /// `date` plus `months` calendar months, the day clamped to the end of a shorter month
    /// (January 31 plus one month is February 28 or 29), then moved forward to the next working
    /// day if it is not one. Saturates at [`Date::MAX`].
    pub fn months_later_working_day(&self, date: Date, months: u32) -> Date {
        let later = Span::new()
            .try_months(i64::from(months))
            .and_then(|span| date.checked_add(span))
            .unwrap_or(Date::MAX);
        self.calendar.on_or_after_working_day(later)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    /// The default rules on a weekends-only calendar.
    fn weekends_only() -> DeadlineRules {
        DeadlineRules {
            calendar: WorkingCalendar::default(),
            ..DeadlineRules::default()
        }
    }

    /// The 2024 National Day arrangement: October 1–7 off, Sunday September 29 and Saturday
    /// October 12 worked.
    fn national_day_2024() -> WorkingCalendar {
        let holidays = (1..=7).map(|day| date(2024, 10, day)).collect();
        let make_up_days = [date(2024, 9, 29), date(2024, 10, 12)]
            .into_iter()
            .collect();
        WorkingCalendar::new(holidays, make_up_days)
    }

    #[test]
    fn default_calendar_works_monday_to_friday_only() {
        let calendar = WorkingCalendar::default();
        // 2024-03-04 is a Monday.
        let week: Vec<bool> = (4..=10)
            .map(|day| calendar.is_working_day(date(2024, 3, day)))
            .collect();
        assert_eq!(week, [true, true, true, true, true, false, false]);
    }

    #[test]
    fn make_up_working_day_on_a_sunday_counts() {
        let calendar = national_day_2024();
        assert_eq!(date(2024, 9, 29).weekday(), Weekday::Sunday);
        assert!(calendar.is_working_day(date(2024, 9, 29)));
        assert_eq!(date(2024, 10, 12).weekday(), Weekday::Saturday);
        assert!(calendar.is_working_day(date(2024, 10, 12)));
        assert!(
            !calendar.is_working_day(date(2024, 10, 13)),
            "an ordinary Sunday is off"
        );
    }

    #[test]
    fn holiday_on_a_weekday_does_not_count() {
        let calendar = national_day_2024();
        assert_eq!(date(2024, 10, 1).weekday(), Weekday::Tuesday);
        assert!(!calendar.is_working_day(date(2024, 10, 1)));
        assert!(!calendar.is_working_day(date(2024, 10, 7)));
        assert!(calendar.is_working_day(date(2024, 10, 8)));
    }

    #[test]
    fn date_in_both_sets_is_a_working_day() {
        let both: BTreeSet<Date> = [date(2024, 10, 1)].into_iter().collect();
        let calendar = WorkingCalendar::new(both.clone(), both);
        assert!(calendar.is_working_day(date(2024, 10, 1)));
    }

    #[test]
    fn add_working_days_counts_strictly_after_the_date() {
        let calendar = WorkingCalendar::default();
        // Friday 2024-03-01: Mon 4 (1) … Fri 8 (5), Mon 11 (6).
        assert_eq!(
            calendar.add_working_days(date(2024, 3, 1), 0),
            date(2024, 3, 1)
        );
        assert_eq!(
            calendar.add_working_days(date(2024, 3, 1), 1),
            date(2024, 3, 4)
        );
        assert_eq!(
            calendar.add_working_days(date(2024, 3, 1), 6),
            date(2024, 3, 11)
        );
        // Starting on a Saturday: Mon 4 is the first.
        assert_eq!(
            calendar.add_working_days(date(2024, 3, 2), 1),
            date(2024, 3, 4)
        );
    }

    #[test]
    fn triage_due_is_seven_working_days_over_a_weekend() {
        let rules = weekends_only();
        // Filed Friday 2024-03-01: Mon 4, Tue 5, Wed 6, Thu 7, Fri 8 (5), Mon 11 (6), Tue 12 (7).
        assert_eq!(rules.triage_due(date(2024, 3, 1)), date(2024, 3, 12));
        // Filed Monday 2024-03-04: Tue 5 … Fri 8 (4), Mon 11 (5), Tue 12 (6), Wed 13 (7).
        assert_eq!(rules.triage_due(date(2024, 3, 4)), date(2024, 3, 13));
    }

    #[test]
    fn triage_due_skips_the_national_day_holiday_week_and_counts_make_up_days() {
        let rules = DeadlineRules {
            calendar: national_day_2024(),
            ..DeadlineRules::default()
        };
        // Filed Friday 2024-09-27: Sat 28 off, Sun 29 make-up (1), Mon 30 (2), Oct 1–7 off,
        // Tue 8 (3), Wed 9 (4), Thu 10 (5), Fri 11 (6), Sat 12 make-up (7).
        assert_eq!(rules.triage_due(date(2024, 9, 27)), date(2024, 10, 12));
        // Without the arrangement: Mon 30 (1), Tue 1 … Fri 4 (5), Mon 7 (6), Tue 8 (7).
        assert_eq!(
            weekends_only().triage_due(date(2024, 9, 27)),
            date(2024, 10, 8)
        );
    }

    #[test]
    fn on_or_after_working_day_keeps_a_working_day_and_moves_past_days_off() {
        let calendar = national_day_2024();
        assert_eq!(
            calendar.on_or_after_working_day(date(2024, 9, 30)),
            date(2024, 9, 30)
        );
        assert_eq!(
            calendar.on_or_after_working_day(date(2024, 9, 29)),
            date(2024, 9, 29)
        );
        assert_eq!(
            calendar.on_or_after_working_day(date(2024, 10, 1)),
            date(2024, 10, 8)
        );
        assert_eq!(
            calendar.on_or_after_working_day(date(2024, 10, 13)),
            date(2024, 10, 14)
        );
    }

    #[test]
    fn month_deadline_clamps_the_day_to_the_month_end() {
        let rules = weekends_only();
        // 2024 is a leap year: January 31 + 1 month = Thursday February 29.
        assert_eq!(
            rules.months_later_working_day(date(2024, 1, 31), 1),
            date(2024, 2, 29)
        );
        // 2023 is not: January 31 + 1 month = Tuesday February 28.
        assert_eq!(
            rules.months_later_working_day(date(2023, 1, 31), 1),
            date(2023, 2, 28)
        );
        // November 30 + 3 months = Friday 2025-02-28, and Thursday 2024-02-29 a year earlier.
        assert_eq!(
            rules.answer_due(date(2024, 11, 30), false),
            date(2025, 2, 28)
        );
        assert_eq!(
            rules.answer_due(date(2023, 11, 30), false),
            date(2024, 2, 29)
        );
        // March 31 + 1 month = Tuesday April 30.
        assert_eq!(rules.co_view_due(date(2024, 3, 31)), date(2024, 4, 30));
    }

    #[test]
    fn month_deadline_on_a_day_off_moves_to_the_next_working_day() {
        let rules = weekends_only();
        // May 31 + 1 month clamps to Sunday 2024-06-30, so Monday July 1.
        assert_eq!(rules.rehandling_due(date(2024, 5, 31)), date(2024, 7, 1));
        // Urgent: August 31 + 1 month = Monday 2024-09-30, a working day.
        assert_eq!(rules.answer_due(date(2024, 8, 31), true), date(2024, 9, 30));
        let holidays = DeadlineRules {
            calendar: national_day_2024(),
            ..DeadlineRules::default()
        };
        // September 1 + 1 month = Tuesday October 1, a holiday: Tuesday October 8.
        assert_eq!(holidays.co_view_due(date(2024, 9, 1)), date(2024, 10, 8));
    }

    #[test]
    fn answer_due_is_three_months_or_one_when_urgent() {
        let rules = weekends_only();
        // Tuesday 2024-03-05: + 3 months = Wednesday June 5; + 1 month = Friday April 5.
        assert_eq!(rules.answer_due(date(2024, 3, 5), false), date(2024, 6, 5));
        assert_eq!(rules.answer_due(date(2024, 3, 5), true), date(2024, 4, 5));
        // + 6 months = Thursday September 5.
        assert_eq!(rules.extension_due_max(date(2024, 3, 5)), date(2024, 9, 5));
    }

    #[test]
    fn deadlines_saturate_at_the_last_representable_date() {
        let rules = weekends_only();
        assert_eq!(rules.answer_due(date(9999, 11, 1), false), Date::MAX);
        assert_eq!(
            rules.calendar.add_working_days(date(9999, 12, 30), 5),
            Date::MAX
        );
        let huge = DeadlineRules {
            answer_months: u32::MAX,
            ..DeadlineRules::default()
        };
        assert_eq!(huge.answer_due(date(2024, 3, 5), false), Date::MAX);
    }

    #[test]
    fn default_rules_use_shanghai_time() {
        let rules = DeadlineRules::default();
        assert!(rules.calendar.covers_year(2024));
        assert_eq!(rules.time_zone.iana_name(), Some("Asia/Shanghai"));
        assert_eq!(rules.triage_working_days, 7);
        assert_eq!(rules.answer_months, 3);
        assert_eq!(rules.urgent_answer_months, 1);
        assert_eq!(rules.co_view_months, 1);
        assert_eq!(rules.rehandling_months, 1);
        assert_eq!(rules.extension_months_max, 6);
    }
}
