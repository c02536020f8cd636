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

/// One of every `ItemError` variant.
fn every_item_error() -> Vec<ItemError> {
    use aggregates::item::{AnswerClass, ItemKind};
    let id = || ITEM.to_owned();
    let status = ItemStatus::Filed;
    let day = date(2024, 6, 5);
    let text = |value: &str| value.to_owned();
    vec![
        ItemError::RoleNotAllowed {
            item_id: id(),
            action: "FileItem",
            role: Role::Admin,
        },
        ItemError::NotItemDeputy {
            item_id: id(),
            deputy_id: text("d"),
        },
        ItemError::RatingForAnotherDeputy {
            item_id: id(),
            actor_id: text("a"),
            deputy_id: text("b"),
        },
        ItemError::NotFiled { item_id: id() },
        ItemError::CommitmentNotFound {
            item_id: id(),
            commitment_id: text("c"),
        },
        ItemError::AlreadyFiled {
            item_id: id(),
            status,
        },
        ItemError::TriageNeedsFiled {
            item_id: id(),
            status,
        },
        ItemError::AssignNeedsAccepted {
            item_id: id(),
            status,
        },
        ItemError::AnswerNeedsAssignment {
            item_id: id(),
            status,
        },
        ItemError::RatingNeedsAnswer {
            item_id: id(),
            status,
        },
        ItemError::ItemFinished {
            item_id: id(),
            status,
        },
        ItemError::CommitmentAlreadyFulfilled {
            item_id: id(),
            commitment_id: text("c"),
        },
        ItemError::ReconcileNeedsRating {
            item_id: id(),
            status,
        },
        ItemError::OpenCommitments {
            item_id: id(),
            commitment_ids: vec![text("c")],
        },
        ItemError::CloseNeedsReconciliation {
            item_id: id(),
            status,
        },
        ItemError::ItemIdMismatch {
            item_id: id(),
            command_item_id: text("x"),
        },
        ItemError::InvalidField {
            item_id: id(),
            error: FieldError::Empty {
                field: text("title"),
            },
        },
        ItemError::SeveralLeadDeputies {
            item_id: id(),
            deputy_ids: vec![text("a"), text("b")],
        },
        ItemError::ParentIsItself { item_id: id() },
        ItemError::FieldNotForDecision {
            item_id: id(),
            field: "redirect_to",
            decision: TriageDecision::Accept,
        },
        ItemError::MergeIntoItself { item_id: id() },
        ItemError::CoUnitIsLeadUnit {
            item_id: id(),
            unit: text("u"),
        },
        ItemError::CommitmentIdUsed {
            item_id: id(),
            commitment_id: text("c"),
        },
        ItemError::UnknownDeputy {
            item_id: id(),
            deputy_id: text("d"),
        },
        ItemError::UnitNotOnItem {
            item_id: id(),
            unit: text("u"),
            units: vec![text("v")],
        },
        ItemError::NotCoUnit {
            item_id: id(),
            unit: text("u"),
            co_units: vec![text("v")],
        },
        ItemError::NotAssigned {
            item_id: id(),
            action: "AcknowledgeItem",
            status,
        },
        ItemError::RoundNotAwaitingAnswer {
            item_id: id(),
            action: "SubmitCoView",
            status,
        },
        ItemError::ItemEnded {
            item_id: id(),
            action: "ReportProgress",
            status,
        },
        ItemError::AlreadyAcknowledged {
            item_id: id(),
            unit: text("u"),
            round: 1,
        },
        ItemError::CoViewAlreadySubmitted {
            item_id: id(),
            unit: text("u"),
            round: 1,
        },
        ItemError::ExtensionAlreadyPending {
            item_id: id(),
            until: day,
        },
        ItemError::NoExtensionPending {
            item_id: id(),
            status,
        },
        ItemError::ExtensionBeyondLimit {
            item_id: id(),
            until: day,
            until_max: day,
            months_max: 6,
        },
        ItemError::ExtensionNotLater {
            item_id: id(),
            until: day,
            due: day,
        },
        ItemError::ExtensionOnDayOff {
            item_id: id(),
            until: day,
            next_working_day: day,
        },
        ItemError::ContactRequired {
            item_id: id(),
            round: 1,
        },
        ItemError::ReclassifyNeedsAnswer {
            item_id: id(),
            status,
        },
        ItemError::SameClass {
            item_id: id(),
            class: AnswerClass::A,
        },
        ItemError::WithdrawNeedsUnanswered {
            item_id: id(),
            status,
        },
        ItemError::ReopenNeedsClosed {
            item_id: id(),
            status,
        },
        ItemError::MergeTargetNotFound {
            item_id: id(),
            target_item_id: text("t"),
        },
        ItemError::MergeTargetFinished {
            item_id: id(),
            target_item_id: text("t"),
            status,
        },
        ItemError::ParentNotFound {
            item_id: id(),
            parent_id: text("p"),
        },
        ItemError::ParentNotDeliberation {
            item_id: id(),
            parent_id: text("p"),
            kind: ItemKind::Inquiry,
        },
        ItemError::ParentFinished {
            item_id: id(),
            parent_id: text("p"),
            status,
        },
        ItemError::OpenChildItems {
            item_id: id(),
            child_ids: vec![text("k")],
        },
    ]
}

#[test]
fn every_error_has_a_chinese_message_naming_the_item() {
    use aggregates::error::Refusal;
    let errors = every_item_error();
    assert_eq!(errors.len(), 47, "a new variant needs a line here");
    for error in errors {
        let zh = error.message_zh();
        assert_ne!(zh, error.to_string(), "no Chinese message for {error:?}");
        assert!(
            zh.contains(ITEM) || matches!(error, ItemError::ItemIdMismatch { .. }),
            "{zh}"
        );
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert_eq!(Refusal::code(&error), error.code());
    }
}
