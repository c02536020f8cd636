use aggregates::item::{AnswerClass, AnswerItem, Commitment, ItemCommand, ItemError, ItemStatus};
use aggregates::validate::{
    COMMITMENTS_MAX, COMMITMENT_TEXT_CHARS_MAX, DOC_NO_CHARS_MAX, TEXT_CHARS_MAX,
};
use jiff::civil::date;

use super::support::*;

fn answer_at(at_text: &str, data: AnswerItem) -> ItemCommand {
    ItemCommand {
        at: at(at_text),
        ..answer(data)
    }
}

fn commitments(n: usize) -> Vec<Commitment> {
    (0..n).map(|i| commitment(&format!("c-{i}"))).collect()
}

#[test]
fn answer_item_before_the_due_date_is_on_time_in_round_one() {
    // Answered Monday 2024-05-20; the answer is due Wednesday 2024-06-05.
    let data = answer_data(vec![commitment("c-1")]);
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_events(vec![answered(vec![commitment("c-1")])]);
}

#[test]
fn answer_item_on_the_due_date_is_on_time() {
    // 23:59 on Wednesday 2024-06-05 in Shanghai is still the due date.
    let data = answer_data(vec![]);
    item_test()
        .given(history_assigned())
        .when(answer_at("2024-06-05T23:59:59+08:00", data.clone()))
        .then_expect_events(vec![answered_from(data, 1, ANSWER_DUE, ANSWER_DUE)]);
}

#[test]
fn answer_item_after_the_due_date_is_late() {
    // 2024-06-05T16:30Z is 00:30 on Thursday 2024-06-06 in Shanghai: one day late.
    let data = answer_data(vec![]);
    let expected = answered_from(data.clone(), 1, date(2024, 6, 6), ANSWER_DUE);
    assert!(matches!(
        expected,
        aggregates::item::ItemEvent::ItemAnswered { on_time: false, .. }
    ));
    item_test()
        .given(history_assigned())
        .when(answer_at("2024-06-05T16:30:00Z", data))
        .then_expect_events(vec![expected]);
}

#[test]
fn answer_item_keeps_class_doc_no_and_public() {
    let data = AnswerItem {
        class: AnswerClass::D,
        doc_no: None,
        public: false,
        ..answer_data(vec![])
    };
    item_test()
        .given(history_assigned())
        .when(answer(data.clone()))
        .then_expect_events(vec![answered_from(data, 1, ANSWERED_ON, ANSWER_DUE)]);
}

#[test]
fn answer_item_refused_before_assignment() {
    let cases = [
        (vec![filed()], ItemStatus::Filed),
        (history_accepted(), ItemStatus::Accepted),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(answer(answer_data(vec![])))
            .then_expect_error(ItemError::AnswerNeedsAssignment {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn answer_item_refused_once_answered_in_the_round() {
    let cases = [
        (history_answered(vec![]), ItemStatus::Answered),
        (history_rated(), ItemStatus::Rated),
        (history_reconciled(), ItemStatus::Reconciled),
        (history_closed(), ItemStatus::Closed),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(answer(answer_data(vec![])))
            .then_expect_error(ItemError::AnswerNeedsAssignment {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn answer_item_needs_text() {
    let data = AnswerItem {
        text: " ".into(),
        ..answer_data(vec![])
    };
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(empty("text"));
}

#[test]
fn answer_item_text_of_20000_characters_accepted_and_20001_refused() {
    let data = AnswerItem {
        text: chars(TEXT_CHARS_MAX),
        ..answer_data(vec![])
    };
    accepted_events(history_assigned(), answer(data));
    let data = AnswerItem {
        text: chars(TEXT_CHARS_MAX + 1),
        ..answer_data(vec![])
    };
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(too_long("text", 20_001, 20_000));
}

#[test]
fn answer_item_doc_no_of_100_characters_accepted_and_101_refused() {
    let data = AnswerItem {
        doc_no: Some(chars(DOC_NO_CHARS_MAX)),
        ..answer_data(vec![])
    };
    accepted_events(history_assigned(), answer(data));
    let data = AnswerItem {
        doc_no: Some(chars(DOC_NO_CHARS_MAX + 1)),
        ..answer_data(vec![])
    };
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(too_long("doc_no", 101, 100));
    let data = AnswerItem {
        doc_no: Some(String::new()),
        ..answer_data(vec![])
    };
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(empty("doc_no"));
}

#[test]
fn answer_item_50_commitments_accepted_and_51_refused() {
    accepted_events(
        history_assigned(),
        answer(answer_data(commitments(COMMITMENTS_MAX))),
    );
    item_test()
        .given(history_assigned())
        .when(answer(answer_data(commitments(COMMITMENTS_MAX + 1))))
        .then_expect_error(too_many("commitments", 51, 50));
}

#[test]
fn answer_item_commitment_text_of_2000_characters_accepted_and_2001_refused() {
    let with_text = |text: String| Commitment {
        text,
        ..commitment("c-1")
    };
    let data = answer_data(vec![with_text(chars(COMMITMENT_TEXT_CHARS_MAX))]);
    accepted_events(history_assigned(), answer(data));
    let data = answer_data(vec![
        commitment("c-0"),
        with_text(chars(COMMITMENT_TEXT_CHARS_MAX + 1)),
    ]);
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(too_long("commitments[1].text", 2_001, 2_000));
    let data = answer_data(vec![with_text(String::new())]);
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(empty("commitments[0].text"));
}

#[test]
fn answer_item_refuses_a_bad_commitment_id() {
    let data = answer_data(vec![commitment("承诺一")]);
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(bad_id("commitments[0].id"));
}

#[test]
fn answer_item_refuses_the_same_commitment_id_twice() {
    let data = answer_data(vec![commitment("c-1"), commitment("c-1")]);
    item_test()
        .given(history_assigned())
        .when(answer(data))
        .then_expect_error(repeated("commitments[].id", "c-1"));
}

#[test]
fn answer_item_refuses_a_commitment_id_used_in_an_earlier_round() {
    let mut given = history_answered(vec![commitment("c-1")]);
    given.push(rated(1, aggregates::item::Rating::Unsatisfied));
    given.push(rehandling_started(2, REHANDLING_DUE));
    let data = answer_data(vec![commitment("c-2"), commitment("c-1")]);
    item_test()
        .given(given)
        .when(answer(data))
        .then_expect_error(ItemError::CommitmentIdUsed {
            item_id: ITEM.into(),
            commitment_id: "c-1".into(),
        });
}
