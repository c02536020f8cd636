use aggregates::actor::Role;
use aggregates::error::ErrorCode;
use aggregates::item::{
    Item, ItemAction, ItemError, ItemEvent, ItemStatus, Rating, TriageDecision,
};
use aggregates::rules::Rules;
use aggregates::validate::FieldError;
use cqrs_es::Aggregate;
use jiff::civil::date;

use super::support::*;

fn fold(events: Vec<ItemEvent>) -> Item {
    let mut item = Item::default();
    for event in events {
        item.apply(event);
    }
    item
}

#[test]
fn unfiled_item_has_no_status_and_round_zero() {
    let item = Item::default();
    assert_eq!(item.status(), None);
    assert_eq!(item.round(), 0);
    assert_eq!(item.item_id(), None);
    assert_eq!(Item::TYPE, "item");
}

#[test]
fn apply_moves_the_status_through_the_whole_lifecycle() {
    let steps = [
        (filed(), ItemStatus::Filed, 1),
        (accepted(), ItemStatus::Accepted, 1),
        (assigned(), ItemStatus::Assigned, 1),
        (answered(vec![commitment("c-1")]), ItemStatus::Answered, 1),
        (rated(1, Rating::Unsatisfied), ItemStatus::Answered, 1),
        (
            rehandling_started(2, REHANDLING_DUE),
            ItemStatus::Rehandling,
            2,
        ),
        (
            answered_from(answer_data(vec![]), 2, date(2024, 6, 20), REHANDLING_DUE),
            ItemStatus::Answered,
            2,
        ),
        (rated(2, Rating::BasicallySatisfied), ItemStatus::Rated, 2),
        (fulfilled("c-1"), ItemStatus::Rated, 2),
        (reconciled(), ItemStatus::Reconciled, 2),
        (closed(), ItemStatus::Closed, 2),
    ];
    let mut item = Item::default();
    for (event, status, round) in steps {
        let type_name = event.type_name();
        item.apply(event);
        assert_eq!(item.status(), Some(status), "after {type_name}");
        assert_eq!(item.round(), round, "after {type_name}");
        assert_eq!(item.item_id(), Some(ITEM));
    }
}

#[test]
fn triage_endings_set_their_statuses() {
    let endings = [
        (
            ItemEvent::ItemReturned {
                item_id: ITEM.into(),
                reason: "r".into(),
            },
            ItemStatus::Returned,
        ),
        (
            ItemEvent::ItemRedirected {
                item_id: ITEM.into(),
                redirect_to: "x".into(),
                reason: "r".into(),
            },
            ItemStatus::Redirected,
        ),
        (
            ItemEvent::ItemMerged {
                item_id: ITEM.into(),
                target_item_id: OTHER_ITEM.into(),
                reason: "r".into(),
            },
            ItemStatus::Merged,
        ),
    ];
    for (ending, status) in endings {
        assert_eq!(fold(vec![filed(), ending]).status(), Some(status));
        assert!(status.is_ended_unanswered());
    }
    assert!(!ItemStatus::Closed.is_ended_unanswered());
}

#[test]
fn apply_ignores_events_before_filing_and_never_fails() {
    let item = fold(vec![accepted(), closed()]);
    assert_eq!(item, Item::default());
}

#[test]
fn item_state_serialises_and_deserialises_unchanged() {
    let item = fold(history_rehandling());
    let json = serde_json::to_string(&item).expect("serialises");
    let back: Item = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, item);
}

#[test]
fn decide_returns_the_events_handle_writes_and_changes_nothing() {
    let item = fold(history_answered(vec![]));
    let before = item.clone();
    let events = item
        .decide(&rate(rate_data(Rating::Unsatisfied)), &Rules::default())
        .expect("a named deputy rates an answered item");
    assert_eq!(
        events,
        vec![
            rated(1, Rating::Unsatisfied),
            rehandling_started(2, REHANDLING_DUE)
        ]
    );
    assert_eq!(item, before);
}

#[test]
fn every_error_has_its_stable_code() {
    let status = ItemStatus::Filed;
    let id = || ITEM.to_owned();
    let cases = [
        (
            ItemError::RoleNotAllowed {
                item_id: id(),
                action: "FileItem",
                role: Role::Admin,
            },
            ErrorCode::Forbidden,
        ),
        (
            ItemError::NotItemDeputy {
                item_id: id(),
                deputy_id: "d".into(),
            },
            ErrorCode::Forbidden,
        ),
        (
            ItemError::RatingForAnotherDeputy {
                item_id: id(),
                actor_id: "a".into(),
                deputy_id: "b".into(),
            },
            ErrorCode::Forbidden,
        ),
        (ItemError::NotFiled { item_id: id() }, ErrorCode::NotFound),
        (
            ItemError::CommitmentNotFound {
                item_id: id(),
                commitment_id: "c".into(),
            },
            ErrorCode::NotFound,
        ),
        (
            ItemError::AlreadyFiled {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::TriageNeedsFiled {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::AssignNeedsAccepted {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::AnswerNeedsAssignment {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::RatingNeedsAnswer {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::ItemFinished {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::CommitmentAlreadyFulfilled {
                item_id: id(),
                commitment_id: "c".into(),
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::ReconcileNeedsRating {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::OpenCommitments {
                item_id: id(),
                commitment_ids: vec!["c".into()],
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::CloseNeedsReconciliation {
                item_id: id(),
                status,
            },
            ErrorCode::WrongState,
        ),
        (
            ItemError::ItemIdMismatch {
                item_id: id(),
                command_item_id: "x".into(),
            },
            ErrorCode::Invalid,
        ),
        (
            ItemError::InvalidField {
                item_id: id(),
                error: FieldError::Empty {
                    field: "title".into(),
                },
            },
            ErrorCode::Invalid,
        ),
        (
            ItemError::SeveralLeadDeputies {
                item_id: id(),
                deputy_ids: vec![],
            },
            ErrorCode::Invalid,
        ),
        (
            ItemError::ParentIsItself { item_id: id() },
            ErrorCode::Invalid,
        ),
        (
            ItemError::FieldNotForDecision {
                item_id: id(),
                field: "redirect_to",
                decision: TriageDecision::Accept,
            },
            ErrorCode::Invalid,
        ),
        (
            ItemError::MergeIntoItself { item_id: id() },
            ErrorCode::Invalid,
        ),
        (
            ItemError::CoUnitIsLeadUnit {
                item_id: id(),
                unit: "u".into(),
            },
            ErrorCode::Invalid,
        ),
        (
            ItemError::CommitmentIdUsed {
                item_id: id(),
                commitment_id: "c".into(),
            },
            ErrorCode::Invalid,
        ),
        (
            ItemError::UnknownDeputy {
                item_id: id(),
                deputy_id: "d".into(),
            },
            ErrorCode::Invalid,
        ),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code, "{error}");
        assert!(
            error.to_string().contains(ITEM),
            "the message names the item: {error}"
        );
    }
}

#[test]
fn error_messages_name_the_item_its_status_and_what_was_needed() {
    let error = ItemError::AnswerNeedsAssignment {
        item_id: ITEM.into(),
        status: ItemStatus::Accepted,
    };
    assert_eq!(
        error.to_string(),
        "item 2024-S-001 is accepted; only an item that is assigned or being re-handled can be answered"
    );
    let error = ItemError::RoleNotAllowed {
        item_id: ITEM.into(),
        action: "RateAnswer",
        role: Role::Auditor,
    };
    assert_eq!(
        error.to_string(),
        "item 2024-S-001: the auditor role may not RateAnswer; RateAnswer needs the deputy or liaison role"
    );
    let error = ItemError::OpenCommitments {
        item_id: ITEM.into(),
        commitment_ids: vec!["c-1".into(), "c-2".into()],
    };
    assert_eq!(
        error.to_string(),
        "item 2024-S-001 is rated but cannot be reconciled while commitments are open: c-1, c-2"
    );
    assert_eq!(
        too_long("title", 201, 200).to_string(),
        "item 2024-S-001: title is 201 characters long, but at most 200 are allowed"
    );
}

#[test]
fn action_type_names_and_item_ids() {
    let action = ItemAction::TriageItem(triage_data(TriageDecision::Accept));
    assert_eq!(action.type_name(), "TriageItem");
    assert_eq!(action.item_id(), ITEM);
    assert!(ItemAction::allowed_roles("NoSuchCommand").is_empty());
}
