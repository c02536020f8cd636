use aggregates::actor::Role;
use aggregates::item::{
    FulfilCommitment, ItemAction, ItemCommand, ItemError, ItemEvent, ItemStatus, Rating,
};
use aggregates::validate::TEXT_CHARS_MAX;
use jiff::civil::date;

use super::support::*;

fn fulfil_with_note(commitment_id: &str, note: String) -> ItemCommand {
    let data = FulfilCommitment {
        item_id: ITEM.into(),
        commitment_id: commitment_id.into(),
        note,
    };
    command(Role::Handler, LATER_AT, ItemAction::FulfilCommitment(data))
}

/// Answered with commitments c-1 and c-2, then rated satisfied.
fn history_rated_with_commitments() -> Vec<ItemEvent> {
    let mut history = history_answered(vec![commitment("c-1"), commitment("c-2")]);
    history.push(rated(1, Rating::Satisfied));
    history
}

#[test]
fn fulfil_commitment_by_handler_records_commitment_fulfilled() {
    let data = FulfilCommitment {
        item_id: ITEM.into(),
        commitment_id: "c-1".into(),
        note: "专项行动已完成".into(),
    };
    let cmd = command(Role::Handler, LATER_AT, ItemAction::FulfilCommitment(data));
    item_test()
        .given(history_rated_with_commitments())
        .when(cmd)
        .then_expect_events(vec![ItemEvent::CommitmentFulfilled {
            item_id: ITEM.into(),
            commitment_id: "c-1".into(),
            note: "专项行动已完成".into(),
        }]);
}

#[test]
fn fulfil_commitment_by_leader_is_allowed_while_the_answer_awaits_its_rating() {
    let cmd = ItemCommand {
        actor: aggregates::actor::Actor {
            id: "leader-01".into(),
            role: Role::Leader,
        },
        ..fulfil("c-2")
    };
    item_test()
        .given(history_answered(vec![commitment("c-1"), commitment("c-2")]))
        .when(cmd)
        .then_expect_events(vec![fulfilled("c-2")]);
}

#[test]
fn fulfil_commitment_refused_for_an_unknown_commitment() {
    item_test()
        .given(history_rated_with_commitments())
        .when(fulfil("c-9"))
        .then_expect_error(ItemError::CommitmentNotFound {
            item_id: ITEM.into(),
            commitment_id: "c-9".into(),
        });
}

#[test]
fn fulfil_commitment_refused_before_any_answer() {
    item_test()
        .given(history_assigned())
        .when(fulfil("c-1"))
        .then_expect_error(ItemError::CommitmentNotFound {
            item_id: ITEM.into(),
            commitment_id: "c-1".into(),
        });
}

#[test]
fn fulfil_commitment_refused_when_already_fulfilled() {
    let mut given = history_rated_with_commitments();
    given.push(fulfilled("c-1"));
    item_test()
        .given(given)
        .when(fulfil("c-1"))
        .then_expect_error(ItemError::CommitmentAlreadyFulfilled {
            item_id: ITEM.into(),
            commitment_id: "c-1".into(),
        });
}

#[test]
fn fulfil_commitment_refused_once_the_item_is_closed() {
    let mut given = history_rated_with_commitments();
    given.extend([fulfilled("c-1"), fulfilled("c-2"), reconciled(), closed()]);
    item_test()
        .given(given)
        .when(fulfil("c-1"))
        .then_expect_error(ItemError::ItemFinished {
            item_id: ITEM.into(),
            status: ItemStatus::Closed,
        });
}

#[test]
fn fulfil_commitment_refused_on_an_item_ended_without_answer() {
    let given = vec![
        filed(),
        ItemEvent::ItemReturned {
            item_id: ITEM.into(),
            reason: "退回".into(),
        },
    ];
    item_test()
        .given(given)
        .when(fulfil("c-1"))
        .then_expect_error(ItemError::ItemFinished {
            item_id: ITEM.into(),
            status: ItemStatus::Returned,
        });
}

#[test]
fn fulfil_commitment_note_of_20000_characters_accepted_and_20001_refused() {
    accepted_events(
        history_rated_with_commitments(),
        fulfil_with_note("c-1", chars(TEXT_CHARS_MAX)),
    );
    item_test()
        .given(history_rated_with_commitments())
        .when(fulfil_with_note("c-1", chars(TEXT_CHARS_MAX + 1)))
        .then_expect_error(too_long("note", 20_001, 20_000));
}

#[test]
fn reconcile_item_records_item_reconciled() {
    item_test()
        .given(history_rated())
        .when(reconcile("双方对账一致"))
        .then_expect_events(vec![ItemEvent::ItemReconciled {
            item_id: ITEM.into(),
            note: "双方对账一致".into(),
        }]);
}

#[test]
fn reconcile_item_after_no_response_is_allowed() {
    let mut given = history_answered(vec![]);
    given.push(rated(1, Rating::NoResponse));
    item_test()
        .given(given)
        .when(reconcile(""))
        .then_expect_events(vec![reconciled()]);
}

#[test]
fn reconcile_item_refused_with_an_open_commitment_then_allowed_after_fulfilling_it() {
    item_test()
        .given(history_rated_with_commitments())
        .when(reconcile(""))
        .then_expect_error(ItemError::OpenCommitments {
            item_id: ITEM.into(),
            commitment_ids: vec!["c-1".into(), "c-2".into()],
        });
    let mut given = history_rated_with_commitments();
    given.push(fulfilled("c-1"));
    item_test()
        .given(given.clone())
        .when(reconcile(""))
        .then_expect_error(ItemError::OpenCommitments {
            item_id: ITEM.into(),
            commitment_ids: vec!["c-2".into()],
        });
    given.push(fulfilled("c-2"));
    item_test()
        .given(given)
        .when(reconcile(""))
        .then_expect_events(vec![reconciled()]);
}

#[test]
fn reconcile_item_counts_commitments_from_every_round() {
    // Round 1 promised c-1 (fulfilled), round 2 promised c-2 (still open).
    let mut given = history_answered(vec![commitment("c-1")]);
    given.push(rated(1, Rating::Unsatisfied));
    given.push(rehandling_started(2, REHANDLING_DUE));
    given.push(fulfilled("c-1"));
    given.push(answered_from(
        answer_data(vec![commitment("c-2")]),
        2,
        date(2024, 6, 20),
        REHANDLING_DUE,
    ));
    given.push(rated(2, Rating::Satisfied));
    item_test()
        .given(given)
        .when(reconcile(""))
        .then_expect_error(ItemError::OpenCommitments {
            item_id: ITEM.into(),
            commitment_ids: vec!["c-2".into()],
        });
}

#[test]
fn reconcile_item_refused_unless_rated() {
    let cases = [
        (history_assigned(), ItemStatus::Assigned),
        (history_answered(vec![]), ItemStatus::Answered),
        (history_rehandling(), ItemStatus::Rehandling),
        (history_reconciled(), ItemStatus::Reconciled),
        (history_closed(), ItemStatus::Closed),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(reconcile(""))
            .then_expect_error(ItemError::ReconcileNeedsRating {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn reconcile_item_note_of_20000_characters_accepted_and_20001_refused() {
    accepted_events(history_rated(), reconcile(&chars(TEXT_CHARS_MAX)));
    item_test()
        .given(history_rated())
        .when(reconcile(&chars(TEXT_CHARS_MAX + 1)))
        .then_expect_error(too_long("note", 20_001, 20_000));
}

#[test]
fn close_item_records_item_closed() {
    item_test()
        .given(history_reconciled())
        .when(close("销号"))
        .then_expect_events(vec![ItemEvent::ItemClosed {
            item_id: ITEM.into(),
            note: "销号".into(),
        }]);
}

#[test]
fn close_item_refused_unless_reconciled() {
    let cases = [
        (history_answered(vec![]), ItemStatus::Answered),
        (history_rated(), ItemStatus::Rated),
        (history_closed(), ItemStatus::Closed),
    ];
    for (given, status) in cases {
        item_test().given(given).when(close("")).then_expect_error(
            ItemError::CloseNeedsReconciliation {
                item_id: ITEM.into(),
                status,
            },
        );
    }
}

#[test]
fn close_item_note_of_20000_characters_accepted_and_20001_refused() {
    accepted_events(history_reconciled(), close(&chars(TEXT_CHARS_MAX)));
    item_test()
        .given(history_reconciled())
        .when(close(&chars(TEXT_CHARS_MAX + 1)))
        .then_expect_error(too_long("note", 20_001, 20_000));
}
