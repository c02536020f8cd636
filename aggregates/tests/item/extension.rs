use aggregates::item::{ItemError, ItemEvent, ItemStatus, RequestExtension};
use jiff::civil::{date, Date};

use super::support::*;

/// Friday 2024-07-05: a working day after the answer due date (2024-06-05).
const UNTIL: Date = date(2024, 7, 5);

fn with(mut history: Vec<ItemEvent>, events: Vec<ItemEvent>) -> Vec<ItemEvent> {
    history.extend(events);
    history
}

fn history_pending() -> Vec<ItemEvent> {
    with(history_assigned(), vec![extension_requested(UNTIL)])
}

#[test]
fn request_extension_records_the_date_asked_for_and_the_due_date_in_force() {
    item_test()
        .given(history_assigned())
        .when(request_extension(UNTIL))
        .then_expect_events(vec![extension_requested(UNTIL)]);
}

#[test]
fn request_extension_to_exactly_assignment_plus_six_months_is_allowed_and_a_day_more_is_not() {
    // Assigned Tuesday 2024-03-05: + 6 months = Thursday 2024-09-05.
    item_test()
        .given(history_assigned())
        .when(request_extension(date(2024, 9, 5)))
        .then_expect_events(vec![extension_requested(date(2024, 9, 5))]);
    item_test()
        .given(history_assigned())
        .when(request_extension(date(2024, 9, 6)))
        .then_expect_error(ItemError::ExtensionBeyondLimit {
            item_id: ITEM.into(),
            until: date(2024, 9, 6),
            until_max: date(2024, 9, 5),
            months_max: 6,
        });
}

#[test]
fn request_extension_refused_unless_later_than_the_due_date() {
    for until in [ANSWER_DUE, date(2024, 5, 31)] {
        item_test()
            .given(history_assigned())
            .when(request_extension(until))
            .then_expect_error(ItemError::ExtensionNotLater {
                item_id: ITEM.into(),
                until,
                due: ANSWER_DUE,
            });
    }
}

#[test]
fn request_extension_refused_on_a_day_off_naming_the_next_working_day() {
    // Monday 2024-06-10 is 端午节 (June 8–10 off): the next working day is Tuesday June 11.
    item_test()
        .given(history_assigned())
        .when(request_extension(date(2024, 6, 10)))
        .then_expect_error(ItemError::ExtensionOnDayOff {
            item_id: ITEM.into(),
            until: date(2024, 6, 10),
            next_working_day: date(2024, 6, 11),
        });
}

#[test]
fn request_extension_refused_while_another_is_pending() {
    item_test()
        .given(history_pending())
        .when(request_extension(date(2024, 8, 1)))
        .then_expect_error(ItemError::ExtensionAlreadyPending {
            item_id: ITEM.into(),
            until: UNTIL,
        });
}

#[test]
fn request_extension_refused_before_assignment_and_once_answered() {
    item_test()
        .given(history_accepted())
        .when(request_extension(UNTIL))
        .then_expect_error(ItemError::NotAssigned {
            item_id: ITEM.into(),
            action: "RequestExtension",
            status: ItemStatus::Accepted,
        });
    item_test()
        .given(history_answered(vec![]))
        .when(request_extension(UNTIL))
        .then_expect_error(ItemError::RoundNotAwaitingAnswer {
            item_id: ITEM.into(),
            action: "RequestExtension",
            status: ItemStatus::Answered,
        });
}

#[test]
fn request_extension_needs_a_reason() {
    let mut cmd = request_extension(UNTIL);
    if let aggregates::item::ItemAction::RequestExtension(data) = &mut cmd.action {
        *data = RequestExtension {
            reason: String::new(),
            ..data.clone()
        };
    }
    item_test()
        .given(history_assigned())
        .when(cmd)
        .then_expect_error(empty("reason"));
}

#[test]
fn request_extension_in_a_later_round_is_still_bounded_by_assignment_plus_six_months() {
    // Round 2 is due 2024-06-25; the bound stays 2024-09-05.
    item_test()
        .given(history_rehandling())
        .when(request_extension(date(2024, 9, 6)))
        .then_expect_error(ItemError::ExtensionBeyondLimit {
            item_id: ITEM.into(),
            until: date(2024, 9, 6),
            until_max: date(2024, 9, 5),
            months_max: 6,
        });
}

#[test]
fn decide_extension_approved_moves_the_due_date_so_a_later_answer_is_on_time() {
    item_test()
        .given(history_pending())
        .when(decide_extension(true))
        .then_expect_events(vec![extension_decided(true, UNTIL)]);
    let history = with(history_pending(), vec![extension_decided(true, UNTIL)]);
    let mut cmd = answer(answer_data(vec![]));
    cmd.at = at("2024-06-20T10:00:00+08:00");
    item_test()
        .given(history)
        .when(cmd)
        .then_expect_events(vec![answered_from(
            answer_data(vec![]),
            1,
            date(2024, 6, 20),
            UNTIL,
        )]);
}

#[test]
fn decide_extension_refused_keeps_the_due_date_so_a_later_answer_is_late() {
    item_test()
        .given(history_pending())
        .when(decide_extension(false))
        .then_expect_events(vec![extension_decided(false, UNTIL)]);
    let history = with(history_pending(), vec![extension_decided(false, UNTIL)]);
    let mut cmd = answer(answer_data(vec![]));
    cmd.at = at("2024-06-20T10:00:00+08:00");
    let events = accepted_events(history, cmd);
    let ItemEvent::ItemAnswered { on_time, due, .. } = &events[0] else {
        panic!("an answer: {events:?}");
    };
    assert_eq!((*on_time, *due), (false, ANSWER_DUE));
}

#[test]
fn decide_extension_refused_with_nothing_pending_and_after_the_answer_lapses_the_request() {
    item_test()
        .given(history_assigned())
        .when(decide_extension(true))
        .then_expect_error(ItemError::NoExtensionPending {
            item_id: ITEM.into(),
            status: ItemStatus::Assigned,
        });
    let history = with(history_pending(), vec![answered(vec![])]);
    item_test()
        .given(history)
        .when(decide_extension(true))
        .then_expect_error(ItemError::NoExtensionPending {
            item_id: ITEM.into(),
            status: ItemStatus::Answered,
        });
}

#[test]
fn decide_extension_is_followed_by_another_request_if_needed() {
    let history = with(history_pending(), vec![extension_decided(true, UNTIL)]);
    let events = accepted_events(history, request_extension(date(2024, 8, 1)));
    let ItemEvent::ExtensionRequested { due, until, .. } = &events[0] else {
        panic!("a request: {events:?}");
    };
    assert_eq!((*due, *until), (UNTIL, date(2024, 8, 1)));
}

#[test]
fn request_extension_to_a_day_off_past_the_limit_is_told_the_limit_first() {
    // Saturday 2024-09-07 is both a day off and past 2024-09-05: the limit is what matters.
    item_test()
        .given(history_assigned())
        .when(request_extension(date(2024, 9, 7)))
        .then_expect_error(ItemError::ExtensionBeyondLimit {
            item_id: ITEM.into(),
            until: date(2024, 9, 7),
            until_max: date(2024, 9, 5),
            months_max: 6,
        });
}
