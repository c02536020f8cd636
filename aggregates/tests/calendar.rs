//! The official holiday calendar on real dates (State Council notices 2017–2026).

use aggregates::calendar::{official_notices, parse_notice, CalendarError, OFFICIAL_FILES};
use aggregates::deadline::{DeadlineRules, WorkingCalendar};
use jiff::civil::{date, Date, Weekday};

fn rules() -> DeadlineRules {
    DeadlineRules::default()
}

fn working(day: Date) -> bool {
    rules().calendar.is_working_day(day)
}

#[test]
fn every_embedded_notice_parses_names_its_notice_and_covers_its_year() {
    let notices = official_notices().expect("the embedded notices are well formed");
    let years: Vec<i16> = notices.iter().map(|notice| notice.year).collect();
    assert_eq!(years, (2017..=2026).collect::<Vec<i16>>());
    assert_eq!(OFFICIAL_FILES.len(), 10);
    for notice in &notices {
        assert!(notice.notice.contains("国务院办公厅"), "{}", notice.notice);
        assert!(
            notice.holidays.len() >= 6,
            "{}: every festival",
            notice.year
        );
    }
    let calendar = WorkingCalendar::official();
    assert!((2017..=2026).all(|year| calendar.covers_year(year)));
    assert!(!calendar.covers_year(2016) && !calendar.covers_year(2027));
}

#[test]
fn national_day_2024_is_off_and_its_make_up_sunday_and_saturday_are_worked() {
    assert_eq!(date(2024, 9, 29).weekday(), Weekday::Sunday);
    assert_eq!(date(2024, 10, 12).weekday(), Weekday::Saturday);
    assert!(working(date(2024, 9, 29)));
    assert!(working(date(2024, 10, 12)));
    assert!((1..=7).all(|day| !working(date(2024, 10, day))));
    assert!(working(date(2024, 10, 8)));
    assert!(!working(date(2024, 10, 13)), "an ordinary Sunday");
}

#[test]
fn triage_due_across_the_2024_national_day_counts_both_make_up_days() {
    // Filed Friday 2024-09-27: Sun 29 (1, make-up), Mon 30 (2), October 1–7 off, Tue 8 (3),
    // Wed 9 (4), Thu 10 (5), Fri 11 (6), Sat 12 (7, make-up).
    assert_eq!(rules().triage_due(date(2024, 9, 27)), date(2024, 10, 12));
    // Filed Monday 2024-09-23: Tue 24 … Fri 27 (4), Sun 29 (5), Mon 30 (6), Tue October 8 (7).
    assert_eq!(rules().triage_due(date(2024, 9, 23)), date(2024, 10, 8));
}

#[test]
fn triage_due_across_the_2025_spring_festival() {
    // 2025: January 28 – February 4 off; Sunday January 26 and Saturday February 8 worked.
    // Filed Friday 2025-01-24: Sun 26 (1), Mon 27 (2), Wed Feb 5 (3), Thu 6 (4), Fri 7 (5),
    // Sat 8 (6), Mon 10 (7).
    assert!(working(date(2025, 1, 26)));
    assert!(!working(date(2025, 1, 28)) && !working(date(2025, 2, 4)));
    assert!(working(date(2025, 2, 8)));
    assert_eq!(rules().triage_due(date(2025, 1, 24)), date(2025, 2, 10));
}

#[test]
fn answer_due_of_an_assignment_on_30_november_is_clamped_to_the_month_end() {
    // 2024-11-30 + 3 months = Friday 2025-02-28 (no 2025-02-30).
    assert_eq!(
        rules().answer_due(date(2024, 11, 30), false),
        date(2025, 2, 28)
    );
    // 2023-11-30 + 3 months = Thursday 2024-02-29, a leap day.
    assert_eq!(
        rules().answer_due(date(2023, 11, 30), false),
        date(2024, 2, 29)
    );
    // 2025-11-30 + 3 months = Saturday 2026-02-28, a make-up working day after 春节: it stays.
    assert_eq!(date(2026, 2, 28).weekday(), Weekday::Saturday);
    assert_eq!(
        rules().answer_due(date(2025, 11, 30), false),
        date(2026, 2, 28)
    );
}

#[test]
fn answer_due_falling_in_a_holiday_moves_to_the_next_working_day() {
    // 2024-07-01 + 3 months = Tuesday 2024-10-01, National Day: Tuesday October 8.
    assert_eq!(
        rules().answer_due(date(2024, 7, 1), false),
        date(2024, 10, 8)
    );
    // 2025-07-03 + 3 months = 2025-10-03, in 国庆节、中秋节 (October 1–8): Thursday October 9.
    assert_eq!(
        rules().answer_due(date(2025, 7, 3), false),
        date(2025, 10, 9)
    );
    // Urgent: 2024-04-04 + 1 month = 2024-05-04, in 劳动节 (May 1–5): Monday May 6.
    assert_eq!(rules().answer_due(date(2024, 4, 4), true), date(2024, 5, 6));
}

#[test]
fn a_period_starting_in_the_previous_year_counts() {
    // 2019's 元旦: 2018-12-30 to 2019-01-01 off, Saturday 2018-12-29 worked.
    assert!(!working(date(2018, 12, 31)));
    assert!(working(date(2018, 12, 29)));
    assert!(!working(date(2019, 1, 1)));
}

#[test]
fn the_2020_spring_festival_extension_is_kept() {
    // Extended to February 2; the make-up Saturday February 1 was cancelled with it.
    assert!(!working(date(2020, 1, 31)));
    assert!(!working(date(2020, 2, 1)));
    assert!(working(date(2020, 2, 3)));
    assert!(
        working(date(2020, 1, 19)),
        "the make-up Sunday before it stands"
    );
}

#[test]
fn a_year_without_a_notice_falls_back_to_weekends_only() {
    let calendar = rules().calendar;
    // Friday 2027-10-01 would be National Day, but 2027 has no notice yet.
    assert!(calendar.is_working_day(date(2027, 10, 1)));
    assert!(!calendar.is_working_day(date(2027, 10, 2)));
    assert_eq!(
        calendar.years_not_covered(date(2026, 11, 1), date(2027, 2, 1)),
        vec![2027]
    );
    assert!(calendar
        .years_not_covered(date(2024, 1, 1), date(2026, 12, 31))
        .is_empty());
}

#[test]
fn every_due_date_of_a_year_of_assignments_is_a_working_day() {
    let rules = rules();
    let mut day = date(2024, 1, 1);
    while day.year() == 2024 {
        for due in [
            rules.triage_due(day),
            rules.answer_due(day, false),
            rules.answer_due(day, true),
            rules.co_view_due(day),
            rules.rehandling_due(day),
            rules.extension_due_max(day),
        ] {
            assert!(rules.calendar.is_working_day(due), "{due} from {day}");
        }
        day = day.tomorrow().expect("2024 ends well before 9999");
    }
}

const GOOD: &str = r#"
year = 2024
notice = "测试通知"
[[holiday]]
name = "国庆节"
first_day = "2024-10-01"
last_day = "2024-10-07"
make_up_working_days = ["2024-09-29", "2024-10-12"]
"#;

#[test]
fn parse_notice_accepts_a_well_formed_notice() {
    let notice = parse_notice("x.toml", GOOD).expect("well formed");
    assert_eq!(notice.year, 2024);
    assert_eq!(notice.holidays[0].make_up_working_days.len(), 2);
}

#[test]
fn parse_notice_refuses_broken_notices() {
    let broken = [
        GOOD.replace("2024-10-07", "2024-09-07"),
        GOOD.replace("2024-09-29", "2024-09-30"),
        GOOD.replace("2024-10-12", "2024-10-05"),
        GOOD.replace("2024-10-07", "2024-12-07"),
        GOOD.replace("first_day = \"2024-10-01\"", "first_day = \"2022-10-01\""),
        GOOD.replace("2024-10-01", "2024-02-30"),
        GOOD.replace("notice = \"测试通知\"", "notice = \" \""),
        GOOD.replace("name = \"国庆节\"", "name = \"国庆节\"\nlength = 7"),
        GOOD.replace("2024-10-12\"]", "2025-03-01\"]"),
    ];
    for text in broken {
        assert!(parse_notice("x.toml", &text).is_err(), "accepted:\n{text}");
    }
    let error = parse_notice("x.toml", "year = ").expect_err("not TOML");
    assert!(matches!(error, CalendarError::Syntax { .. }), "{error}");
}

#[test]
fn two_notices_for_one_year_conflict() {
    let notice = parse_notice("x.toml", GOOD).expect("well formed");
    let error = WorkingCalendar::from_notices(&[notice.clone(), notice]).expect_err("conflict");
    assert!(matches!(error, CalendarError::Conflict { .. }), "{error}");
}
