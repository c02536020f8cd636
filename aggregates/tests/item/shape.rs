use aggregates::item::{
    AnswerItem, FileItem, ItemAction, ItemCommand, ItemEvent, RateAnswer, Rating, TriageDecision,
};
use cqrs_es::DomainEvent;
use serde_json::json;

use super::support::*;

#[test]
fn item_action_serialises_as_type_and_data() {
    let action = ItemAction::FileItem(file_data());
    let value = serde_json::to_value(&action).expect("serialises");
    assert_eq!(
        value,
        json!({
            "type": "FileItem",
            "data": {
                "item_id": "2024-S-001",
                "kind": "suggestion",
                "title": "关于加大涉民生案件执行力度的建议",
                "body": "建议法院对拖欠农民工工资案件开辟绿色通道。",
                "deputies": [
                    {"id": "d-001", "name": "王建国", "lead": true},
                    {"id": "d-002", "name": "李秀英", "lead": false}
                ],
                "urgent": false,
                "cases": ["(2024)粤0101执123号"],
                "parent_id": null
            }
        })
    );
    let back: ItemAction = serde_json::from_value(value).expect("deserialises");
    assert_eq!(back, action);
}

#[test]
fn item_action_optional_fields_take_their_defaults() {
    let minimal = json!({
        "type": "FileItem",
        "data": {
            "item_id": "2024-S-001",
            "kind": "deputy_letter",
            "title": "t",
            "body": "",
            "deputies": [{"id": "d-001", "name": "王建国"}]
        }
    });
    let ItemAction::FileItem(data) = serde_json::from_value(minimal).expect("deserialises") else {
        panic!("a FileItem");
    };
    assert!(!data.urgent);
    assert!(data.cases.is_empty());
    assert_eq!(data.parent_id, None);
    assert!(!data.deputies[0].lead);

    let answer = json!({"type": "AnswerItem", "data": {"item_id": "i", "class": "B", "text": "t"}});
    let ItemAction::AnswerItem(AnswerItem {
        public,
        commitments,
        doc_no,
        ..
    }) = serde_json::from_value(answer).expect("deserialises")
    else {
        panic!("an AnswerItem");
    };
    assert!(public, "public defaults to true");
    assert!(commitments.is_empty());
    assert_eq!(doc_no, None);

    let rate =
        json!({"type": "RateAnswer", "data": {"item_id": "i", "rating": "basically_satisfied"}});
    let back: ItemAction = serde_json::from_value(rate).expect("deserialises");
    assert_eq!(
        back,
        ItemAction::RateAnswer(RateAnswer {
            item_id: "i".into(),
            rating: Rating::BasicallySatisfied,
            comment: String::new(),
            deputy_id: None,
        })
    );

    let triage = json!({"type": "TriageItem", "data": {"item_id": ITEM, "decision": "accept"}});
    let back: ItemAction = serde_json::from_value(triage).expect("deserialises");
    assert_eq!(
        back,
        ItemAction::TriageItem(triage_data(TriageDecision::Accept))
    );
}

#[test]
fn item_action_refuses_an_unknown_field_in_data() {
    let mut value = serde_json::to_value(ItemAction::FileItem(file_data())).expect("serialises");
    value["data"]["priority"] = json!("high");
    let error = serde_json::from_value::<ItemAction>(value).expect_err("unknown field refused");
    assert!(error.to_string().contains("priority"), "{error}");

    let nested = json!({"type": "FileItem", "data": {
        "item_id": "i", "kind": "suggestion", "title": "t", "body": "",
        "deputies": [{"id": "d", "name": "n", "phone": "123"}]
    }});
    assert!(serde_json::from_value::<ItemAction>(nested).is_err());

    let close = json!({"type": "CloseItem", "data": {"item_id": "i", "notes": "typo"}});
    assert!(serde_json::from_value::<ItemAction>(close).is_err());
}

#[test]
fn item_action_refuses_an_unknown_type_or_a_bad_enum_value() {
    let unknown = json!({"type": "DeleteItem", "data": {"item_id": "i"}});
    assert!(serde_json::from_value::<ItemAction>(unknown).is_err());
    let bad_rating = json!({"type": "RateAnswer", "data": {"item_id": "i", "rating": "great"}});
    assert!(serde_json::from_value::<ItemAction>(bad_rating).is_err());
    let bad_class =
        json!({"type": "AnswerItem", "data": {"item_id": "i", "class": "a", "text": "t"}});
    assert!(serde_json::from_value::<ItemAction>(bad_class).is_err());
}

#[test]
fn item_action_type_names_match_the_serialised_type() {
    let actions = [
        ItemAction::FileItem(file_data()),
        ItemAction::TriageItem(triage_data(TriageDecision::Accept)),
        ItemAction::AssignItem(assign_data()),
        ItemAction::AnswerItem(answer_data(vec![commitment("c-1")])),
        ItemAction::RateAnswer(rate_data(Rating::Satisfied)),
    ];
    for action in actions {
        let value = serde_json::to_value(&action).expect("serialises");
        assert_eq!(value["type"], action.type_name());
        assert!(ItemAction::TYPES.contains(&action.type_name()));
        assert_eq!(value["data"]["item_id"], ITEM);
    }
}

#[test]
fn item_command_round_trips_through_json() {
    let cmd = file(FileItem {
        urgent: true,
        ..file_data()
    });
    let value = serde_json::to_value(&cmd).expect("serialises");
    assert_eq!(
        value["actor"],
        json!({"id": "liaison-01", "role": "liaison"})
    );
    assert_eq!(value["at"], FILED_AT);
    assert_eq!(value["action"]["type"], "FileItem");
    let back: ItemCommand = serde_json::from_value(value).expect("deserialises");
    assert_eq!(back, cmd);
}

#[test]
fn item_event_serialises_as_type_and_data_with_its_item_id() {
    let value = serde_json::to_value(assigned()).expect("serialises");
    assert_eq!(
        value,
        json!({
            "type": "ItemAssigned",
            "data": {
                "item_id": "2024-S-001",
                "lead_unit": "执行局",
                "co_units": ["立案庭"],
                "leader": {"id": "leader-01", "name": "张副院长", "level": "vice_president"},
                "assigned_on": "2024-03-05",
                "answer_due": "2024-06-05",
                "co_view_due": "2024-04-07"
            }
        })
    );
    let rated_value = serde_json::to_value(rated(1, Rating::NoResponse)).expect("serialises");
    assert_eq!(rated_value["data"]["rating"], "no_response");
    assert_eq!(rated_value["data"]["on_behalf"], false);
}

#[test]
fn every_item_event_names_its_type_version_and_item() {
    let events = [
        filed(),
        accepted(),
        ItemEvent::ItemReturned {
            item_id: ITEM.into(),
            reason: "r".into(),
        },
        ItemEvent::ItemRedirected {
            item_id: ITEM.into(),
            redirect_to: "x".into(),
            reason: "r".into(),
        },
        ItemEvent::ItemMerged {
            item_id: ITEM.into(),
            target_item_id: OTHER_ITEM.into(),
            reason: "r".into(),
        },
        assigned(),
        acknowledged(1, LEAD_UNIT),
        contacted(1, LEAD_DEPUTY),
        ItemEvent::CoViewSubmitted {
            item_id: ITEM.into(),
            round: 1,
            unit: CO_UNIT.into(),
            view: "同意".into(),
            submitted_on: HANDLING_ON,
            due: Some(CO_VIEW_DUE),
            on_time: Some(false),
        },
        ItemEvent::ProgressReported {
            item_id: ITEM.into(),
            round: 1,
            summary: "s".into(),
        },
        extension_requested(jiff::civil::date(2024, 8, 1)),
        extension_decided(true, jiff::civil::date(2024, 8, 1)),
        answered(vec![commitment("c-1")]),
        ItemEvent::AnswerReclassified {
            item_id: ITEM.into(),
            round: 1,
            previous_class: aggregates::item::AnswerClass::A,
            class: aggregates::item::AnswerClass::B,
            reason: "r".into(),
        },
        rated(1, Rating::Unsatisfied),
        rehandling_started(2, REHANDLING_DUE),
        fulfilled("c-1"),
        reconciled(),
        closed(),
        withdrawn("r"),
        reopened(3),
    ];
    let names: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
    assert_eq!(names, ItemEvent::TYPES);
    for event in events {
        assert_eq!(event.event_version(), "1");
        assert_eq!(event.item_id(), ITEM);
        let value = serde_json::to_value(&event).expect("serialises");
        assert_eq!(value["type"], event.event_type());
        assert_eq!(value["data"]["item_id"], ITEM);
        let back: ItemEvent = serde_json::from_value(value).expect("deserialises");
        assert_eq!(back, event);
    }
}
