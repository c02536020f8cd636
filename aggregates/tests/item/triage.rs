use aggregates::item::{ItemError, ItemEvent, ItemStatus, TriageDecision, TriageItem};
use aggregates::validate::{TEXT_CHARS_MAX, UNIT_CHARS_MAX};

use super::support::*;

fn with_reason(decision: TriageDecision) -> TriageItem {
    TriageItem {
        reason: "不属于法院职责范围".into(),
        ..triage_data(decision)
    }
}

fn redirect_data() -> TriageItem {
    TriageItem {
        redirect_to: Some("市人民检察院".into()),
        ..with_reason(TriageDecision::Redirect)
    }
}

fn merge_data() -> TriageItem {
    TriageItem {
        target_item_id: Some(OTHER_ITEM.into()),
        ..with_reason(TriageDecision::Merge)
    }
}

#[test]
fn triage_accept_records_item_accepted() {
    item_test()
        .given(vec![filed()])
        .when(triage(triage_data(TriageDecision::Accept)))
        .then_expect_events(vec![accepted()]);
}

#[test]
fn triage_accept_keeps_an_optional_reason() {
    let data = TriageItem {
        reason: "符合交办条件".into(),
        ..triage_data(TriageDecision::Accept)
    };
    item_test()
        .given(vec![filed()])
        .when(triage(data))
        .then_expect_events(vec![ItemEvent::ItemAccepted {
            item_id: ITEM.into(),
            reason: "符合交办条件".into(),
        }]);
}

#[test]
fn triage_return_records_item_returned_with_its_reason() {
    item_test()
        .given(vec![filed()])
        .when(triage(with_reason(TriageDecision::Return)))
        .then_expect_events(vec![ItemEvent::ItemReturned {
            item_id: ITEM.into(),
            reason: "不属于法院职责范围".into(),
        }]);
}

#[test]
fn triage_redirect_records_item_redirected_to_the_named_body() {
    item_test()
        .given(vec![filed()])
        .when(triage(redirect_data()))
        .then_expect_events(vec![ItemEvent::ItemRedirected {
            item_id: ITEM.into(),
            redirect_to: "市人民检察院".into(),
            reason: "不属于法院职责范围".into(),
        }]);
}

#[test]
fn triage_merge_records_item_merged_into_the_target() {
    item_test()
        .given(vec![filed()])
        .when(merge_into_open_target(merge_data()))
        .then_expect_events(vec![ItemEvent::ItemMerged {
            item_id: ITEM.into(),
            target_item_id: OTHER_ITEM.into(),
            reason: "不属于法院职责范围".into(),
        }]);
}

#[test]
fn triage_item_refused_unless_filed() {
    let cases = [
        (history_accepted(), ItemStatus::Accepted),
        (history_assigned(), ItemStatus::Assigned),
        (history_closed(), ItemStatus::Closed),
        (
            vec![
                filed(),
                ItemEvent::ItemReturned {
                    item_id: ITEM.into(),
                    reason: "x".into(),
                },
            ],
            ItemStatus::Returned,
        ),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(triage(triage_data(TriageDecision::Accept)))
            .then_expect_error(ItemError::TriageNeedsFiled {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn triage_return_redirect_and_merge_need_a_reason() {
    let without_reason = [
        TriageItem {
            reason: String::new(),
            ..with_reason(TriageDecision::Return)
        },
        TriageItem {
            reason: " ".into(),
            ..redirect_data()
        },
        TriageItem {
            reason: String::new(),
            ..merge_data()
        },
    ];
    for data in without_reason {
        item_test()
            .given(vec![filed()])
            .when(triage(data))
            .then_expect_error(empty("reason"));
    }
}

#[test]
fn triage_reason_of_20000_characters_accepted_and_20001_refused() {
    let data = TriageItem {
        reason: chars(TEXT_CHARS_MAX),
        ..with_reason(TriageDecision::Return)
    };
    accepted_events(vec![filed()], triage(data));
    let data = TriageItem {
        reason: chars(TEXT_CHARS_MAX + 1),
        ..with_reason(TriageDecision::Return)
    };
    item_test()
        .given(vec![filed()])
        .when(triage(data))
        .then_expect_error(too_long("reason", 20_001, 20_000));
    let data = TriageItem {
        reason: chars(TEXT_CHARS_MAX + 1),
        ..triage_data(TriageDecision::Accept)
    };
    item_test()
        .given(vec![filed()])
        .when(triage(data))
        .then_expect_error(too_long("reason", 20_001, 20_000));
}

#[test]
fn triage_redirect_needs_redirect_to() {
    let missing = TriageItem {
        redirect_to: None,
        ..redirect_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(missing))
        .then_expect_error(empty("redirect_to"));
    let blank = TriageItem {
        redirect_to: Some("  ".into()),
        ..redirect_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(blank))
        .then_expect_error(empty("redirect_to"));
}

#[test]
fn triage_redirect_to_of_200_characters_accepted_and_201_refused() {
    let data = TriageItem {
        redirect_to: Some(chars(UNIT_CHARS_MAX)),
        ..redirect_data()
    };
    accepted_events(vec![filed()], triage(data));
    let data = TriageItem {
        redirect_to: Some(chars(UNIT_CHARS_MAX + 1)),
        ..redirect_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(data))
        .then_expect_error(too_long("redirect_to", 201, 200));
}

#[test]
fn triage_merge_needs_a_valid_target_item_id() {
    let missing = TriageItem {
        target_item_id: None,
        ..merge_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(missing))
        .then_expect_error(empty("target_item_id"));
    let bad = TriageItem {
        target_item_id: Some("2024 S 2".into()),
        ..merge_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(bad))
        .then_expect_error(bad_id("target_item_id"));
}

#[test]
fn triage_merge_into_the_item_itself_is_refused() {
    let data = TriageItem {
        target_item_id: Some(ITEM.into()),
        ..merge_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(data))
        .then_expect_error(ItemError::MergeIntoItself {
            item_id: ITEM.into(),
        });
}

#[test]
fn triage_refuses_fields_the_decision_does_not_use() {
    let not_for = |field: &'static str, decision| ItemError::FieldNotForDecision {
        item_id: ITEM.into(),
        field,
        decision,
    };
    let cases = [
        (
            TriageItem {
                redirect_to: Some("市人民检察院".into()),
                ..triage_data(TriageDecision::Accept)
            },
            not_for("redirect_to", TriageDecision::Accept),
        ),
        (
            TriageItem {
                target_item_id: Some(OTHER_ITEM.into()),
                ..with_reason(TriageDecision::Return)
            },
            not_for("target_item_id", TriageDecision::Return),
        ),
        (
            TriageItem {
                target_item_id: Some(OTHER_ITEM.into()),
                ..redirect_data()
            },
            not_for("target_item_id", TriageDecision::Redirect),
        ),
        (
            TriageItem {
                redirect_to: Some("市人民检察院".into()),
                ..merge_data()
            },
            not_for("redirect_to", TriageDecision::Merge),
        ),
    ];
    for (data, error) in cases {
        item_test()
            .given(vec![filed()])
            .when(triage(data))
            .then_expect_error(error);
    }
}

/// `TriageItem` with the write side having found the target open (assigned).
fn merge_into_open_target(data: TriageItem) -> aggregates::item::ItemCommand {
    let mut cmd = triage(data);
    cmd.facts.merge_target = Some(aggregates::item::LinkedItem {
        kind: aggregates::item::ItemKind::Suggestion,
        status: ItemStatus::Assigned,
    });
    cmd
}

#[test]
fn triage_merge_refused_when_the_target_was_never_filed() {
    item_test()
        .given(vec![filed()])
        .when(triage(merge_data()))
        .then_expect_error(ItemError::MergeTargetNotFound {
            item_id: ITEM.into(),
            target_item_id: OTHER_ITEM.into(),
        });
}

#[test]
fn triage_merge_refused_when_the_target_is_closed_or_ended() {
    for status in [
        ItemStatus::Closed,
        ItemStatus::Merged,
        ItemStatus::Withdrawn,
        ItemStatus::Returned,
    ] {
        let mut cmd = triage(merge_data());
        cmd.facts.merge_target = Some(aggregates::item::LinkedItem {
            kind: aggregates::item::ItemKind::Suggestion,
            status,
        });
        item_test()
            .given(vec![filed()])
            .when(cmd)
            .then_expect_error(ItemError::MergeTargetFinished {
                item_id: ITEM.into(),
                target_item_id: OTHER_ITEM.into(),
                status,
            });
    }
}

#[test]
fn triage_merge_checks_the_target_after_the_fields() {
    let data = TriageItem {
        reason: String::new(),
        ..merge_data()
    };
    item_test()
        .given(vec![filed()])
        .when(triage(data))
        .then_expect_error(empty("reason"));
}
