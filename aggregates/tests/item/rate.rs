use aggregates::actor::Role;
use aggregates::item::{
    AnswerItem, Deputy, FileItem, ItemAction, ItemCommand, ItemError, ItemEvent, ItemStatus,
    RateAnswer, Rating,
};
use aggregates::validate::TEXT_CHARS_MAX;
use jiff::civil::date;

use super::support::*;

fn rate_by_liaison(data: RateAnswer) -> ItemCommand {
    command(Role::Liaison, RATED_AT, ItemAction::RateAnswer(data))
}

fn rate_by(deputy_id: &str, data: RateAnswer) -> ItemCommand {
    command_by(
        deputy_id,
        Role::Deputy,
        RATED_AT,
        ItemAction::RateAnswer(data),
    )
}

#[test]
fn rate_answer_by_a_deputy_named_on_the_item_records_answer_rated() {
    let data = RateAnswer {
        comment: "满意".into(),
        ..rate_data(Rating::Satisfied)
    };
    item_test()
        .given(history_answered(vec![]))
        .when(rate(data))
        .then_expect_events(vec![ItemEvent::AnswerRated {
            item_id: ITEM.into(),
            round: 1,
            rating: Rating::Satisfied,
            comment: "满意".into(),
            deputy_id: LEAD_DEPUTY.into(),
            on_behalf: false,
        }]);
}

#[test]
fn rate_answer_by_a_deputy_who_is_not_the_lead_records_their_own_id() {
    item_test()
        .given(history_answered(vec![]))
        .when(rate_by(
            SECOND_DEPUTY,
            rate_data(Rating::BasicallySatisfied),
        ))
        .then_expect_events(vec![ItemEvent::AnswerRated {
            item_id: ITEM.into(),
            round: 1,
            rating: Rating::BasicallySatisfied,
            comment: String::new(),
            deputy_id: SECOND_DEPUTY.into(),
            on_behalf: false,
        }]);
}

#[test]
fn rate_answer_by_a_deputy_naming_themself_is_accepted() {
    let data = RateAnswer {
        deputy_id: Some(LEAD_DEPUTY.into()),
        ..rate_data(Rating::Satisfied)
    };
    item_test()
        .given(history_answered(vec![]))
        .when(rate(data))
        .then_expect_events(vec![rated(1, Rating::Satisfied)]);
}

#[test]
fn rate_answer_by_deputy_not_named_on_item_is_forbidden() {
    item_test()
        .given(history_answered(vec![]))
        .when(rate_by(STRANGER_DEPUTY, rate_data(Rating::Satisfied)))
        .then_expect_error(ItemError::NotItemDeputy {
            item_id: ITEM.into(),
            deputy_id: STRANGER_DEPUTY.into(),
        });
}

#[test]
fn rate_answer_ownership_is_checked_before_the_state() {
    // The item is not answered yet, but a stranger learns only that they may not rate it.
    item_test()
        .given(history_assigned())
        .when(rate_by(STRANGER_DEPUTY, rate_data(Rating::Satisfied)))
        .then_expect_error(ItemError::NotItemDeputy {
            item_id: ITEM.into(),
            deputy_id: STRANGER_DEPUTY.into(),
        });
}

#[test]
fn rate_answer_by_a_deputy_in_another_deputys_name_is_forbidden() {
    let data = RateAnswer {
        deputy_id: Some(SECOND_DEPUTY.into()),
        ..rate_data(Rating::Satisfied)
    };
    item_test()
        .given(history_answered(vec![]))
        .when(rate(data))
        .then_expect_error(ItemError::RatingForAnotherDeputy {
            item_id: ITEM.into(),
            actor_id: LEAD_DEPUTY.into(),
            deputy_id: SECOND_DEPUTY.into(),
        });
}

#[test]
fn rate_answer_by_liaison_is_marked_on_behalf_of_the_lead_deputy() {
    item_test()
        .given(history_answered(vec![]))
        .when(rate_by_liaison(rate_data(Rating::Satisfied)))
        .then_expect_events(vec![ItemEvent::AnswerRated {
            item_id: ITEM.into(),
            round: 1,
            rating: Rating::Satisfied,
            comment: String::new(),
            deputy_id: LEAD_DEPUTY.into(),
            on_behalf: true,
        }]);
}

#[test]
fn rate_answer_by_liaison_without_a_lead_deputy_is_for_the_first_deputy() {
    let no_lead = vec![
        Deputy {
            id: SECOND_DEPUTY.into(),
            name: "李秀英".into(),
            lead: false,
        },
        Deputy {
            id: LEAD_DEPUTY.into(),
            name: "王建国".into(),
            lead: false,
        },
    ];
    let given = vec![
        filed_from(FileItem {
            deputies: no_lead,
            ..file_data()
        }),
        accepted(),
        assigned(),
        answered(vec![]),
    ];
    item_test()
        .given(given)
        .when(rate_by_liaison(rate_data(Rating::NoResponse)))
        .then_expect_events(vec![ItemEvent::AnswerRated {
            item_id: ITEM.into(),
            round: 1,
            rating: Rating::NoResponse,
            comment: String::new(),
            deputy_id: SECOND_DEPUTY.into(),
            on_behalf: true,
        }]);
}

#[test]
fn rate_answer_by_liaison_for_a_named_deputy() {
    let data = RateAnswer {
        deputy_id: Some(SECOND_DEPUTY.into()),
        ..rate_data(Rating::Satisfied)
    };
    item_test()
        .given(history_answered(vec![]))
        .when(rate_by_liaison(data))
        .then_expect_events(vec![ItemEvent::AnswerRated {
            item_id: ITEM.into(),
            round: 1,
            rating: Rating::Satisfied,
            comment: String::new(),
            deputy_id: SECOND_DEPUTY.into(),
            on_behalf: true,
        }]);
}

#[test]
fn rate_answer_by_liaison_for_a_deputy_not_on_the_item_is_invalid() {
    let data = RateAnswer {
        deputy_id: Some(STRANGER_DEPUTY.into()),
        ..rate_data(Rating::Satisfied)
    };
    item_test()
        .given(history_answered(vec![]))
        .when(rate_by_liaison(data))
        .then_expect_error(ItemError::UnknownDeputy {
            item_id: ITEM.into(),
            deputy_id: STRANGER_DEPUTY.into(),
        });
}

#[test]
fn rate_answer_refused_before_any_answer() {
    let cases = [
        (vec![filed()], ItemStatus::Filed),
        (history_accepted(), ItemStatus::Accepted),
        (history_assigned(), ItemStatus::Assigned),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(rate(rate_data(Rating::Satisfied)))
            .then_expect_error(ItemError::RatingNeedsAnswer {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn rate_answer_refused_once_rated_or_while_rehandling() {
    let cases = [
        (history_rated(), ItemStatus::Rated),
        (history_rehandling(), ItemStatus::Rehandling),
        (history_reconciled(), ItemStatus::Reconciled),
        (history_closed(), ItemStatus::Closed),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(rate_by_liaison(rate_data(Rating::Satisfied)))
            .then_expect_error(ItemError::RatingNeedsAnswer {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn rate_answer_comment_of_20000_characters_accepted_and_20001_refused() {
    let data = RateAnswer {
        comment: chars(TEXT_CHARS_MAX),
        ..rate_data(Rating::Satisfied)
    };
    accepted_events(history_answered(vec![]), rate(data));
    let data = RateAnswer {
        comment: chars(TEXT_CHARS_MAX + 1),
        ..rate_data(Rating::Satisfied)
    };
    item_test()
        .given(history_answered(vec![]))
        .when(rate(data))
        .then_expect_error(too_long("comment", 20_001, 20_000));
}

#[test]
fn rate_answer_unsatisfied_starts_round_two_due_one_month_after_the_rating() {
    // Rated Saturday 2024-05-25: + 1 month = Tuesday 2024-06-25, a working day.
    item_test()
        .given(history_answered(vec![]))
        .when(rate(rate_data(Rating::Unsatisfied)))
        .then_expect_events(vec![
            rated(1, Rating::Unsatisfied),
            rehandling_started(2, REHANDLING_DUE),
        ]);
}

#[test]
fn rate_answer_unsatisfied_rehandling_due_moves_off_a_weekend() {
    // Rated Friday 2024-05-31: + 1 month clamps to Sunday 2024-06-30 → Monday 2024-07-01.
    let cmd = ItemCommand {
        at: at("2024-05-31T10:00:00+08:00"),
        ..rate(rate_data(Rating::Unsatisfied))
    };
    item_test()
        .given(history_answered(vec![]))
        .when(cmd)
        .then_expect_events(vec![
            rated(1, Rating::Unsatisfied),
            rehandling_started(2, date(2024, 7, 1)),
        ]);
}

#[test]
fn rehandling_answer_is_round_two_and_due_on_the_rehandling_date() {
    // Round 2 is due Tuesday 2024-06-25; answered Thursday 2024-06-20, on time.
    let data = AnswerItem {
        text: "重新办理后的答复。".into(),
        ..answer_data(vec![commitment("c-2")])
    };
    let cmd = ItemCommand {
        at: at("2024-06-20T11:00:00+08:00"),
        ..answer(data.clone())
    };
    item_test()
        .given(history_rehandling())
        .when(cmd)
        .then_expect_events(vec![answered_from(
            data,
            2,
            date(2024, 6, 20),
            REHANDLING_DUE,
        )]);
}

#[test]
fn rehandling_answer_after_its_due_date_is_late() {
    // Round 2 is due Tuesday 2024-06-25 (its own due date, not round 1's); answered Wednesday
    // 2024-06-26: one day late.
    let data = answer_data(vec![]);
    let cmd = ItemCommand {
        at: at("2024-06-26T09:00:00+08:00"),
        ..answer(data.clone())
    };
    let expected = answered_from(data, 2, date(2024, 6, 26), REHANDLING_DUE);
    assert!(matches!(
        expected,
        ItemEvent::ItemAnswered { on_time: false, .. }
    ));
    item_test()
        .given(history_rehandling())
        .when(cmd)
        .then_expect_events(vec![expected]);
}

#[test]
fn rehandled_answer_can_be_rated_in_round_two_and_again_unsatisfied_opens_round_three() {
    let mut given = history_rehandling();
    given.push(answered_from(
        answer_data(vec![]),
        2,
        date(2024, 6, 20),
        REHANDLING_DUE,
    ));
    // Rated Saturday 2024-06-22: round 3 is due + 1 month = Monday 2024-07-22.
    let rate_later = |rating| ItemCommand {
        at: at("2024-06-22T09:00:00+08:00"),
        ..rate(rate_data(rating))
    };
    item_test()
        .given(given.clone())
        .when(rate_later(Rating::Satisfied))
        .then_expect_events(vec![rated(2, Rating::Satisfied)]);
    item_test()
        .given(given)
        .when(rate_later(Rating::Unsatisfied))
        .then_expect_events(vec![
            rated(2, Rating::Unsatisfied),
            rehandling_started(3, date(2024, 7, 22)),
        ]);
}
