//! The State Council's yearly holiday arrangements (国务院办公厅关于部分节假日安排的通知), as data.
//!
//! Each notice is one TOML file in `aggregates/calendar/` (`2017.toml` … `2026.toml`), embedded
//! in the program with `include_str!`, so the calendar is data, not code, and needs no file at
//! run time. A file names the notice it was copied from and lists each holiday period with its
//! first and last day off (weekends included) and its make-up working days (调休上班):
//!
//! ```toml
//! year = 2024
//! notice = "国务院办公厅关于2024年部分节假日安排的通知（国办发明电〔2023〕7号）"
//!
//! [[holiday]]
//! name = "国庆节"
//! first_day = "2024-10-01"
//! last_day = "2024-10-07"
//! make_up_working_days = ["2024-09-29", "2024-10-12"]
//! ```
//!
//! A period may start in the previous year (2019's 元旦 starts on 2018-12-30). A year with no
//! notice falls back to weekends only; [`WorkingCalendar::covers_year`] tells the write side,
//! which says so in its log.
//!
//! Parsing is pure: [`parse_notice`] takes the text, [`official_notices`] parses the embedded
//! files and [`WorkingCalendar::from_notices`] builds the calendar.

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};
use serde::Deserialize;

use crate::deadline::WorkingCalendar;

/// The embedded notices, one per year, as (file name, text).
pub const OFFICIAL_FILES: &[(&str, &str)] = &[
    ("2017.toml", include_str!("../calendar/2017.toml")),
    ("2018.toml", include_str!("../calendar/2018.toml")),
    ("2019.toml", include_str!("../calendar/2019.toml")),
    ("2020.toml", include_str!("../calendar/2020.toml")),
    ("2021.toml", include_str!("../calendar/2021.toml")),
    ("2022.toml", include_str!("../calendar/2022.toml")),
    ("2023.toml", include_str!("../calendar/2023.toml")),
    ("2024.toml", include_str!("../calendar/2024.toml")),
    ("2025.toml", include_str!("../calendar/2025.toml")),
    ("2026.toml", include_str!("../calendar/2026.toml")),
];

/// The longest holiday period a notice may list, in days (the longest so far is 9).
pub const HOLIDAY_PERIOD_DAYS_MAX: i32 = 15;
/// The most holiday periods one notice may list (a year has seven festivals).
pub const HOLIDAY_PERIODS_MAX: usize = 12;

/// One year's holiday arrangement, as published.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayNotice {
    /// The year the notice is for.
    pub year: i16,
    /// The notice's title and number, as published.
    pub notice: String,
    /// The holiday periods.
    #[serde(rename = "holiday")]
    pub holidays: Vec<HolidayPeriod>,
}

/// One holiday period of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayPeriod {
    /// The festival: `"国庆节"`.
    pub name: String,
    /// The first day off.
    pub first_day: Date,
    /// The last day off (inclusive).
    pub last_day: Date,
    /// The weekend days worked in exchange (调休上班).
    pub make_up_working_days: Vec<Date>,
}

/// Why a calendar file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The file is not TOML of the expected shape.
    #[error("calendar file {file}: {reason}")]
    Syntax {
        /// The file.
        file: String,
        /// What the TOML parser said.
        reason: String,
    },
    /// The file breaks a rule every notice keeps.
    #[error("calendar file {file}, {period}: {problem}")]
    Inconsistent {
        /// The file.
        file: String,
        /// The holiday period (or `notice` for the whole file).
        period: String,
        /// What is wrong.
        problem: String,
    },
    /// Two files give one year, or call one date both a holiday and a working day.
    #[error("calendar files disagree: {problem}")]
    Conflict {
        /// What is wrong.
        problem: String,
    },
}

/// Parses and checks one notice. `file` names it in errors.
///
/// The checks: each period ends on or after its first day, lasts at most
/// [`HOLIDAY_PERIOD_DAYS_MAX`] days and lies between the previous December and the end of the
/// notice's year; each make-up working day is a Saturday or Sunday outside every period of the
/// notice and lies within a month of its period.
///
/// # Errors
///
/// [`CalendarError::Syntax`] or [`CalendarError::Inconsistent`].
pub fn parse_notice(file: &str, text: &str) -> Result<HolidayNotice, CalendarError> {
    let notice: HolidayNotice = toml::from_str(text).map_err(|error| CalendarError::Syntax {
        file: file.to_owned(),
        reason: error.to_string(),
    })?;
    check_notice(file, &notice)?;
    Ok(notice)
}

fn check_notice(file: &str, notice: &HolidayNotice) -> Result<(), CalendarError> {
    let whole = |problem: String| CalendarError::Inconsistent {
        file: file.to_owned(),
        period: "notice".to_owned(),
        problem,
    };
    if notice.notice.trim().is_empty() {
        return Err(whole("the notice's title is empty".to_owned()));
    }
    if notice.holidays.is_empty() || notice.holidays.len() > HOLIDAY_PERIODS_MAX {
        let count = notice.holidays.len();
        return Err(whole(format!(
            "{count} holiday periods; a notice lists 1 to {HOLIDAY_PERIODS_MAX}"
        )));
    }
    let earliest = Date::new(notice.year.saturating_sub(1), 12, 1)
        .map_err(|error| whole(format!("year {}: {error}", notice.year)))?;
    let latest = Date::new(notice.year, 12, 31)
        .map_err(|error| whole(format!("year {}: {error}", notice.year)))?;
    let days_off = notice_days_off(notice);
    for period in &notice.holidays {
        check_period(file, period, earliest, latest, &days_off)?;
    }
    Ok(())
}

fn check_period(
    file: &str,
    period: &HolidayPeriod,
    earliest: Date,
    latest: Date,
    days_off: &BTreeSet<Date>,
) -> Result<(), CalendarError> {
    let problem = |problem: String| CalendarError::Inconsistent {
        file: file.to_owned(),
        period: period.name.clone(),
        problem,
    };
    if period.name.trim().is_empty() {
        return Err(problem("a holiday period has no name".to_owned()));
    }
    if period.last_day < period.first_day {
        return Err(problem(format!(
            "last_day {} is before first_day {}",
            period.last_day, period.first_day
        )));
    }
    let length = days_between(period.first_day, period.last_day) + 1;
    if length > HOLIDAY_PERIOD_DAYS_MAX {
        return Err(problem(format!(
            "{length} days off; at most {HOLIDAY_PERIOD_DAYS_MAX} are plausible"
        )));
    }
    if period.first_day < earliest || period.last_day > latest {
        return Err(problem(format!(
            "{} to {} is outside {earliest} to {latest}",
            period.first_day, period.last_day
        )));
    }
    for day in &period.make_up_working_days {
        if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            return Err(problem(format!(
                "make-up working day {day} is a {:?}, but make-up days are weekend days",
                day.weekday()
            )));
        }
        if days_off.contains(day) {
            return Err(problem(format!(
                "{day} is both a day off and a make-up day"
            )));
        }
        let near = days_between(*day, period.first_day).abs() <= 31
            || days_between(period.last_day, *day).abs() <= 31;
        if !near {
            return Err(problem(format!(
                "make-up working day {day} is more than a month from the period"
            )));
        }
    }
    Ok(())
}

/// Calendar days from `from` to `to` (negative when `to` is earlier).
fn days_between(from: Date, to: Date) -> i32 {
    from.until(to).map_or(i32::MAX, |span| span.get_days())
}

/// Every day off of every period of `notice`.
fn notice_days_off(notice: &HolidayNotice) -> BTreeSet<Date> {
    let mut days = BTreeSet::new();
    for period in &notice.holidays {
        let mut day = period.first_day;
        while day <= period.last_day {
            days.insert(day);
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
    days
}

/// The embedded notices, parsed and checked, in year order.
///
/// # Errors
///
/// The first file that does not parse or check; a test makes sure none does.
pub fn official_notices() -> Result<Vec<HolidayNotice>, CalendarError> {
    OFFICIAL_FILES
        .iter()
        .map(|(file, text)| {
            let notice = parse_notice(file, text)?;
            let expected = format!("{}.toml", notice.year);
            if *file != expected {
                return Err(CalendarError::Inconsistent {
                    file: (*file).to_owned(),
                    period: "notice".to_owned(),
                    problem: format!("the file says year {}", notice.year),
                });
            }
            Ok(notice)
        })
        .collect()
}

impl WorkingCalendar {
    /// The calendar of `notices`: their days off are holidays, their make-up days working days,
    /// and their years are covered.
    ///
    /// # Errors
    ///
    /// [`CalendarError::Conflict`] when two notices give the same year, or one calls a date a
    /// day off that another calls a make-up working day.
    pub fn from_notices(notices: &[HolidayNotice]) -> Result<WorkingCalendar, CalendarError> {
        let mut holidays = BTreeSet::new();
        let mut make_up_days = BTreeSet::new();
        let mut years = BTreeSet::new();
        for notice in notices {
            if !years.insert(notice.year) {
                return Err(CalendarError::Conflict {
                    problem: format!("two notices for the year {}", notice.year),
                });
            }
            holidays.extend(notice_days_off(notice));
            for period in &notice.holidays {
                make_up_days.extend(period.make_up_working_days.iter().copied());
            }
        }
        if let Some(day) = holidays.intersection(&make_up_days).next() {
            return Err(CalendarError::Conflict {
                problem: format!("{day} is a day off in one notice and a make-up day in another"),
            });
        }
        Ok(WorkingCalendar::new(holidays, make_up_days).covering(years))
    }

    /// The official calendar: every embedded notice.
    ///
    /// # Panics
    ///
    /// If an embedded file is broken: a programmer error that the calendar tests catch.
    pub fn official() -> WorkingCalendar {
        let built = official_notices().and_then(|notices| WorkingCalendar::from_notices(&notices));
        match built {
            Ok(calendar) => calendar,
            Err(error) => panic!("the embedded holiday calendar is broken: {error}"),
        }
    }
}
