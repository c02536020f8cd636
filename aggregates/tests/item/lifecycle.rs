use aggregates::actor::Role;
use aggregates::item::{AnswerClass, FileItem, ItemError, ItemEvent, ItemKind, ItemStatus, Rating};

use super::support::*;

fn with(mut history: Vec<ItemEvent>, events: Vec<ItemEvent>) -> Vec<ItemEvent> {
    history.extend(events);
    history
}

#[test]
fn reclassify_answer_records_both_letters_while_answered_or_rated() {
    for history in [history_answered(vec![]), history_rated()] {
        item_test()
            .given(history)
            .when(reclassify(AnswerClass::B))
            .then_expect_events(vec![ItemEvent::AnswerReclassified {
                item_id: ITEM.into(),
                round: 1,
                previous_class: AnswerClass::A,
                class: AnswerClass::B,
                reason: "答复内容与A类标准不符".into(),
            }]);
    }
}

#[test]
fn reclassify_answer_twice_compares_with_the_corrected_letter() {
    let history = with(
        history_answered(vec![]),
        accepted_events(history_answered(vec![]), reclassify(AnswerClass::B)),
    );
    item_test()
        .given(history)
        .when(reclassify(AnswerClass::B))
        .then_expect_error(ItemError::SameClass {
            item_id: ITEM.into(),
            class: AnswerClass::B,
        });
}

#[test]
fn reclassify_answer_refused_to_the_same_letter() {
    item_test()
        .given(history_answered(vec![]))
        .when(reclassify(AnswerClass::A))
        .then_expect_error(ItemError::SameClass {
            item_id: ITEM.into(),
            class: AnswerClass::A,
        });
}

#[test]
fn reclassify_answer_refused_before_an_answer_in_this_round_and_once_reconciled() {
    for (history, status) in [
        (history_assigned(), ItemStatus::Assigned),
        (history_rehandling(), ItemStatus::Rehandling),
        (history_reconciled(), ItemStatus::Reconciled),
        (history_closed(), ItemStatus::Closed),
    ] {
        item_test()
            .given(history)
            .when(reclassify(AnswerClass::B))
            .then_expect_error(ItemError::ReclassifyNeedsAnswer {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn withdraw_item_ends_an_item_never_answered() {
    for history in [vec![filed()], history_accepted(), history_assigned()] {
        item_test()
            .given(history)
            .when(withdraw("代表申请撤回"))
            .then_expect_events(vec![withdrawn("代表申请撤回")]);
    }
}

#[test]
fn withdraw_item_refused_once_answered_or_finished() {
    let withdrawn_history = with(vec![filed()], vec![withdrawn("撤回")]);
    for (history, status) in [
        (history_answered(vec![]), ItemStatus::Answered),
        (history_rated(), ItemStatus::Rated),
        (history_rehandling(), ItemStatus::Rehandling),
        (history_closed(), ItemStatus::Closed),
        (withdrawn_history, ItemStatus::Withdrawn),
    ] {
        item_test()
            .given(history)
            .when(withdraw("撤回"))
            .then_expect_error(ItemError::WithdrawNeedsUnanswered {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn withdraw_item_needs_a_reason() {
    item_test()
        .given(vec![filed()])
        .when(withdraw(""))
        .then_expect_error(empty("reason"));
}

#[test]
fn withdrawn_item_takes_no_more_handling() {
    let history = with(history_assigned(), vec![withdrawn("撤回")]);
    item_test()
        .given(history)
        .when(answer(answer_data(vec![])))
        .then_expect_error(ItemError::AnswerNeedsAssignment {
            item_id: ITEM.into(),
            status: ItemStatus::Withdrawn,
        });
}

#[test]
fn reopen_item_opens_the_next_round_with_its_due_date() {
    item_test()
        .given(history_closed())
        .when(reopen("代表反映承诺未落实"))
        .then_expect_events(vec![reopened(2)]);
}

#[test]
fn reopened_item_is_answered_in_its_new_round() {
    let history = with(history_closed(), vec![reopened(2)]);
    let mut cmd = answer(answer_data(vec![]));
    cmd.at = at("2024-08-20T10:00:00+08:00");
    item_test()
        .given(history)
        .when(cmd)
        .then_expect_events(vec![answered_from(
            answer_data(vec![]),
            2,
            jiff::civil::date(2024, 8, 20),
            REOPENED_DUE,
        )]);
}

#[test]
fn reopen_item_refused_unless_closed() {
    for (history, status) in [
        (history_reconciled(), ItemStatus::Reconciled),
        (history_assigned(), ItemStatus::Assigned),
    ] {
        item_test()
            .given(history)
            .when(reopen("r"))
            .then_expect_error(ItemError::ReopenNeedsClosed {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn reopen_item_needs_a_reason() {
    item_test()
        .given(history_closed())
        .when(reopen(" "))
        .then_expect_error(empty("reason"));
}

/// The standard history, but of a deliberation opinion.
fn deliberation_reconciled() -> Vec<ItemEvent> {
    let mut history = history_reconciled();
    history[0] = filed_from(FileItem {
        kind: ItemKind::DeliberationOpinion,
        ..file_data()
    });
    history
}

#[test]
fn close_deliberation_opinion_refused_while_a_child_item_is_open() {
    let mut cmd = close("");
    cmd.facts.open_child_ids = vec!["2024-S-101".into(), "2024-S-102".into()];
    item_test()
        .given(deliberation_reconciled())
        .when(cmd)
        .then_expect_error(ItemError::OpenChildItems {
            item_id: ITEM.into(),
            child_ids: vec!["2024-S-101".into(), "2024-S-102".into()],
        });
}

#[test]
fn close_deliberation_opinion_allowed_when_every_child_is_finished() {
    item_test()
        .given(deliberation_reconciled())
        .when(close(""))
        .then_expect_events(vec![closed()]);
}

#[test]
fn answer_refused_without_a_contact_in_this_round_when_the_ledger_requires_one() {
    item_test_requiring_contact()
        .given(history_assigned())
        .when(answer(answer_data(vec![])))
        .then_expect_error(ItemError::ContactRequired {
            item_id: ITEM.into(),
            round: 1,
        });
}

#[test]
fn answer_allowed_after_a_contact_in_this_round_when_the_ledger_requires_one() {
    let history = with(history_assigned(), vec![contacted(1, LEAD_DEPUTY)]);
    item_test_requiring_contact()
        .given(history)
        .when(answer(answer_data(vec![])))
        .then_expect_events(vec![answered(vec![])]);
}

#[test]
fn contact_of_an_earlier_round_does_not_count_for_the_next() {
    let mut history = history_rehandling();
    history.insert(3, contacted(1, LEAD_DEPUTY));
    item_test_requiring_contact()
        .given(history)
        .when(answer(answer_data(vec![])))
        .then_expect_error(ItemError::ContactRequired {
            item_id: ITEM.into(),
            round: 2,
        });
}

#[test]
fn two_rounds_stay_visible_and_the_second_rating_lets_the_item_close() {
    let mut history = history_rehandling();
    let mut second = answer(answer_data(vec![]));
    second.at = at("2024-06-20T10:00:00+08:00");
    history.extend(accepted_events(history.clone(), second));
    let mut rating = rate(rate_data(Rating::Satisfied));
    rating.at = at("2024-06-28T10:00:00+08:00");
    history.extend(accepted_events(history.clone(), rating));
    let rounds: Vec<u32> = history
        .iter()
        .filter_map(|event| match event {
            ItemEvent::ItemAnswered { round, .. } | ItemEvent::AnswerRated { round, .. } => {
                Some(*round)
            }
            _ => None,
        })
        .collect();
    assert_eq!(rounds, [1, 1, 2, 2]);
    history.extend(accepted_events(history.clone(), reconcile("")));
    let events = accepted_events(history, command(Role::Leader, LATER_AT, close("").action));
    assert_eq!(events, vec![closed()]);
}

#[test]
fn reclassify_answer_needs_a_reason() {
    let mut cmd = reclassify(AnswerClass::C);
    if let aggregates::item::ItemAction::ReclassifyAnswer(data) = &mut cmd.action {
        data.reason = String::new();
    }
    item_test()
        .given(history_answered(vec![]))
        .when(cmd)
        .then_expect_error(empty("reason"));
}

#[test]
fn decide_extension_refuses_a_note_over_the_limit() {
    use aggregates::validate::TEXT_CHARS_MAX;
    let until = jiff::civil::date(2024, 7, 5);
    let mut cmd = decide_extension(true);
    if let aggregates::item::ItemAction::DecideExtension(data) = &mut cmd.action {
        data.note = chars(TEXT_CHARS_MAX + 1);
    }
    item_test()
        .given(with(history_assigned(), vec![extension_requested(until)]))
        .when(cmd)
        .then_expect_error(too_long("note", TEXT_CHARS_MAX + 1, TEXT_CHARS_MAX));
}

#[test]
fn withdraw_item_refuses_a_bad_actor_id() {
    let mut cmd = withdraw("撤回");
    cmd.actor.id = String::new();
    item_test()
        .given(vec![filed()])
        .when(cmd)
        .then_expect_error(empty("actor.id"));
}

#[test]
fn reopen_item_refuses_a_time_outside_the_supported_years() {
    let mut cmd = reopen("r");
    cmd.at = at("9001-01-01T09:00:00+08:00");
    item_test()
        .given(history_closed())
        .when(cmd)
        .then_expect_error(invalid(aggregates::validate::FieldError::YearOutOfRange {
            field: "at".into(),
            year: 9001,
            year_min: aggregates::validate::AT_YEAR_MIN,
            year_max: aggregates::validate::AT_YEAR_MAX,
        }));
}
