//! The notice rules as a pure function: rows and a moment in, notices out. Each test states
//! one rule.

use aggregates::deadline::WorkingCalendar;
use jiff::civil::date;
use jiff::Timestamp;
use projections::notices::{
    decide, status_notices, Address, Named, Notice, NoticeKind, NoticeRow, NoticeRules,
};

/// Assigned on 2024-03-05 to l-1 and 执行局, due 2024-06-05, unanswered.
fn assigned() -> NoticeRow {
    NoticeRow {
        item_id: "2024-S-001".to_owned(),
        title: "关于加快执行案款发放的建议".to_owned(),
        deputies: vec![Named {
            id: "d-1".to_owned(),
            name: "王芳".to_owned(),
        }],
        leader: Some(Named {
            id: "l-1".to_owned(),
            name: "陈立新".to_owned(),
        }),
        lead_unit: Some("执行局".to_owned()),
        round: 1,
        answer_due: Some(date(2024, 6, 5)),
        round_started_at: Some("2024-03-05T09:00:00+08:00".to_owned()),
    }
}

fn rules() -> NoticeRules {
    let mut rules = NoticeRules::default();
    rules.audiences.remove(&NoticeKind::Digest);
    rules
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a moment")
}

fn run(rules: &NoticeRules, row: &NoticeRow, now: &str) -> Vec<Notice> {
    decide([row], rules, &WorkingCalendar::default(), at(now))
}

fn of_kind(notices: &[Notice], kind: NoticeKind) -> Vec<&Notice> {
    notices
        .iter()
        .filter(|notice| notice.kind == kind)
        .collect()
}

#[test]
fn overdue_is_told_on_the_first_day_and_then_weekly() {
    let rules = rules();
    let row = assigned();
    let concerns = |now: &str| -> Vec<jiff::civil::Date> {
        of_kind(&run(&rules, &row, now), NoticeKind::Overdue)
            .iter()
            .map(|notice| notice.concerns)
            .collect()
    };
    assert!(concerns("2024-06-05T12:00:00+08:00").is_empty());
    assert_eq!(concerns("2024-06-06T09:00:00+08:00"), [date(2024, 6, 6); 2]);
    // Days 2 to 7 overdue still concern the first day: the same ids, nothing new.
    assert_eq!(concerns("2024-06-12T09:00:00+08:00"), [date(2024, 6, 6); 2]);
    assert_eq!(
        concerns("2024-06-13T09:00:00+08:00"),
        [date(2024, 6, 13); 2]
    );
    assert_eq!(
        concerns("2024-06-20T09:00:00+08:00"),
        [date(2024, 6, 20); 2]
    );
}

#[test]
fn overdue_goes_to_the_leader_and_the_liaison_office() {
    let notices = run(&rules(), &assigned(), "2024-06-06T09:00:00+08:00");
    let to: Vec<&str> = of_kind(&notices, NoticeKind::Overdue)
        .iter()
        .map(|notice| notice.to.as_str())
        .collect();
    assert_eq!(to, ["l-1", "liaison_office"]);
}

#[test]
fn a_reminder_missed_on_its_day_comes_with_the_next_run_under_the_same_id() {
    let rules = rules();
    let row = assigned();
    let on_the_day = run(&rules, &row, "2024-05-29T09:00:00+08:00");
    let two_days_late = run(&rules, &row, "2024-05-31T09:00:00+08:00");
    let ids = |notices: &[Notice]| -> Vec<String> {
        of_kind(notices, NoticeKind::DueSoon)
            .iter()
            .map(|notice| notice.id.clone())
            .collect()
    };
    assert_eq!(ids(&on_the_day).len(), 2);
    assert_eq!(ids(&on_the_day), ids(&two_days_late));
}

#[test]
fn before_daily_at_the_days_reminders_are_not_due_yet() {
    let rules = rules();
    let row = assigned();
    assert!(of_kind(
        &run(&rules, &row, "2024-05-29T08:29:59+08:00"),
        NoticeKind::DueSoon
    )
    .is_empty());
    assert_eq!(
        of_kind(
            &run(&rules, &row, "2024-05-29T08:30:00+08:00"),
            NoticeKind::DueSoon
        )
        .len(),
        2
    );
}

#[test]
fn an_answered_round_gets_no_reminders() {
    let mut row = assigned();
    row.answer_due = None;
    let notices = run(&rules(), &row, "2024-06-20T09:00:00+08:00");
    assert!(notices.is_empty(), "{notices:?}");
}

/// The assignment's notices, as the live runner queues them when it folds the event.
fn told_of_assignment(rules: &NoticeRules, row: &NoticeRow) -> Vec<Notice> {
    status_notices(
        row,
        NoticeKind::Assigned,
        "2024-03-05T09:00:00+08:00",
        rules,
    )
}

#[test]
fn decide_gives_no_status_notices_they_are_queued_as_events_are_folded() {
    let rules = rules();
    let row = assigned();
    for now in ["2024-03-05T10:00:00+08:00", "2024-04-05T10:00:00+08:00"] {
        let notices = run(&rules, &row, now);
        assert!(of_kind(&notices, NoticeKind::Assigned).is_empty(), "{now}");
    }
}

#[test]
fn a_status_notice_concerns_the_events_local_day_and_goes_to_the_deputies() {
    let rules = rules();
    let late = status_notices(
        &assigned(),
        NoticeKind::Assigned,
        "2024-03-05T17:30:00Z",
        &rules,
    );
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].to, "d-1");
    assert_eq!(late[0].round, 1);
    // 17:30 UTC is already the next day in Shanghai.
    assert_eq!(late[0].concerns, date(2024, 3, 6));
    let mut off = rules.clone();
    off.audiences.insert(NoticeKind::Assigned, Vec::new());
    assert!(told_of_assignment(&off, &assigned()).is_empty());
}

#[test]
fn each_channel_of_a_recipient_gets_its_own_notice_and_id() {
    let mut rules = rules();
    let addresses = vec![
        Address {
            channel: "email".to_owned(),
            address: "wang@deputies.example".to_owned(),
        },
        Address {
            channel: "webhook".to_owned(),
            address: "13800000001".to_owned(),
        },
    ];
    rules.addresses.insert("d-1".to_owned(), addresses);
    let notices = told_of_assignment(&rules, &assigned());
    let assigned = of_kind(&notices, NoticeKind::Assigned);
    assert_eq!(assigned.len(), 2);
    assert_eq!(assigned[0].channel, "email");
    assert_eq!(
        assigned[0].address.as_deref(),
        Some("wang@deputies.example")
    );
    assert_eq!(assigned[1].channel, "webhook");
    assert_ne!(assigned[0].id, assigned[1].id);
}

#[test]
fn a_recipient_without_an_address_is_queued_on_channel_none() {
    let notices = told_of_assignment(&rules(), &assigned());
    let assigned = of_kind(&notices, NoticeKind::Assigned);
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].channel, "none");
    assert_eq!(assigned[0].address, None);
}

#[test]
fn a_kind_with_nobody_to_tell_is_off() {
    let mut rules = rules();
    rules.audiences.insert(NoticeKind::Overdue, Vec::new());
    let notices = run(&rules, &assigned(), "2024-06-06T09:00:00+08:00");
    assert!(of_kind(&notices, NoticeKind::Overdue).is_empty());
}

#[test]
fn the_digest_lists_a_leaders_open_items_once_a_working_day() {
    let rules = NoticeRules::default();
    let mut second = assigned();
    second.item_id = "2024-S-002".to_owned();
    let rows = [assigned(), second];
    let calendar = WorkingCalendar::default();
    let digests = |now: &str| -> Vec<Notice> {
        decide(&rows, &rules, &calendar, at(now))
            .into_iter()
            .filter(|notice| notice.kind == NoticeKind::Digest)
            .collect()
    };
    let tuesday = digests("2024-04-02T09:00:00+08:00");
    assert_eq!(tuesday.len(), 1);
    assert_eq!(tuesday[0].to, "l-1");
    assert_eq!(tuesday[0].item_id, None);
    assert!(tuesday[0].body.contains("2024-S-001") && tuesday[0].body.contains("2024-S-002"));
    assert!(digests("2024-04-06T09:00:00+08:00").is_empty(), "Saturday");
    assert_ne!(digests("2024-04-03T09:00:00+08:00")[0].id, tuesday[0].id);
}
