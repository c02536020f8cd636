use aggregates::actor::Role;
use aggregates::item::{
    ContactChannel, ContactStage, ItemError, ItemEvent, ItemStatus, Rating, RecordContact,
};
use aggregates::validate::TEXT_CHARS_MAX;

use super::support::*;

fn with(mut history: Vec<ItemEvent>, events: Vec<ItemEvent>) -> Vec<ItemEvent> {
    history.extend(events);
    history
}

fn history_withdrawn_after_assignment() -> Vec<ItemEvent> {
    with(history_assigned(), vec![withdrawn("代表撤回")])
}

#[test]
fn acknowledge_item_by_the_lead_unit_and_by_a_co_unit() {
    for unit in [LEAD_UNIT, CO_UNIT] {
        item_test()
            .given(history_assigned())
            .when(acknowledge(unit))
            .then_expect_events(vec![acknowledged(1, unit)]);
    }
}

#[test]
fn acknowledge_item_refused_for_a_unit_not_on_the_item() {
    item_test()
        .given(history_assigned())
        .when(acknowledge("刑事审判庭"))
        .then_expect_error(ItemError::UnitNotOnItem {
            item_id: ITEM.into(),
            unit: "刑事审判庭".into(),
            units: vec![LEAD_UNIT.into(), CO_UNIT.into()],
        });
}

#[test]
fn acknowledge_item_refused_before_assignment() {
    item_test()
        .given(history_accepted())
        .when(acknowledge(LEAD_UNIT))
        .then_expect_error(ItemError::NotAssigned {
            item_id: ITEM.into(),
            action: "AcknowledgeItem",
            status: ItemStatus::Accepted,
        });
}

#[test]
fn acknowledge_item_refused_twice_in_a_round_but_allowed_again_in_the_next() {
    item_test()
        .given(with(history_assigned(), vec![acknowledged(1, LEAD_UNIT)]))
        .when(acknowledge(LEAD_UNIT))
        .then_expect_error(ItemError::AlreadyAcknowledged {
            item_id: ITEM.into(),
            unit: LEAD_UNIT.into(),
            round: 1,
        });
    let history = with(history_rehandling(), vec![]);
    let history = {
        let mut history = history;
        history.insert(3, acknowledged(1, LEAD_UNIT));
        history
    };
    item_test()
        .given(history)
        .when(acknowledge(LEAD_UNIT))
        .then_expect_events(vec![acknowledged(2, LEAD_UNIT)]);
}

#[test]
fn acknowledge_item_refused_once_the_round_is_answered() {
    item_test()
        .given(history_answered(vec![]))
        .when(acknowledge(LEAD_UNIT))
        .then_expect_error(ItemError::RoundNotAwaitingAnswer {
            item_id: ITEM.into(),
            action: "AcknowledgeItem",
            status: ItemStatus::Answered,
        });
}

#[test]
fn acknowledge_item_refuses_a_bad_actor_id() {
    let mut cmd = acknowledge(LEAD_UNIT);
    cmd.actor.id = "承办人".into();
    item_test()
        .given(history_assigned())
        .when(cmd)
        .then_expect_error(bad_id("actor.id"));
}

#[test]
fn record_contact_by_handler_or_leader_logs_the_contact() {
    for role in [Role::Handler, Role::Leader] {
        item_test()
            .given(history_assigned())
            .when(contact(role, contact_data(LEAD_DEPUTY)))
            .then_expect_events(vec![contacted(1, LEAD_DEPUTY)]);
    }
}

#[test]
fn record_contact_keeps_channel_and_stage_and_is_allowed_after_the_answer() {
    let data = RecordContact {
        channel: ContactChannel::Phone,
        stage: ContactStage::After,
        ..contact_data(SECOND_DEPUTY)
    };
    let events = accepted_events(history_rated(), contact(Role::Handler, data));
    let ItemEvent::ContactRecorded {
        channel,
        stage,
        deputy_id,
        ..
    } = &events[0]
    else {
        panic!("a contact: {events:?}");
    };
    assert_eq!(
        (*channel, *stage, deputy_id.as_str()),
        (ContactChannel::Phone, ContactStage::After, SECOND_DEPUTY)
    );
}

#[test]
fn record_contact_refused_for_a_deputy_not_on_the_item() {
    item_test()
        .given(history_assigned())
        .when(contact(Role::Handler, contact_data(STRANGER_DEPUTY)))
        .then_expect_error(ItemError::UnknownDeputy {
            item_id: ITEM.into(),
            deputy_id: STRANGER_DEPUTY.into(),
        });
}

#[test]
fn record_contact_refuses_a_bad_deputy_id_and_an_empty_summary() {
    item_test()
        .given(history_assigned())
        .when(contact(Role::Handler, contact_data("代表")))
        .then_expect_error(bad_id("deputy_id"));
    let data = RecordContact {
        summary: " ".into(),
        ..contact_data(LEAD_DEPUTY)
    };
    item_test()
        .given(history_assigned())
        .when(contact(Role::Handler, data))
        .then_expect_error(empty("summary"));
}

#[test]
fn record_contact_refused_before_assignment_and_on_a_closed_or_withdrawn_item() {
    item_test()
        .given(history_accepted())
        .when(contact(Role::Handler, contact_data(LEAD_DEPUTY)))
        .then_expect_error(ItemError::NotAssigned {
            item_id: ITEM.into(),
            action: "RecordContact",
            status: ItemStatus::Accepted,
        });
    for (history, status) in [
        (history_closed(), ItemStatus::Closed),
        (history_withdrawn_after_assignment(), ItemStatus::Withdrawn),
    ] {
        item_test()
            .given(history)
            .when(contact(Role::Handler, contact_data(LEAD_DEPUTY)))
            .then_expect_error(ItemError::ItemEnded {
                item_id: ITEM.into(),
                action: "RecordContact",
                status,
            });
    }
}

#[test]
fn submit_co_view_by_a_co_unit_records_whether_it_met_the_co_view_due_date() {
    // Submitted Wednesday 2024-04-10, after the co-view due date (Sunday 2024-04-07).
    item_test()
        .given(history_assigned())
        .when(co_view(CO_UNIT, "同意主办部门意见"))
        .then_expect_events(vec![ItemEvent::CoViewSubmitted {
            item_id: ITEM.into(),
            round: 1,
            unit: CO_UNIT.into(),
            view: "同意主办部门意见".into(),
            submitted_on: HANDLING_ON,
            due: Some(CO_VIEW_DUE),
            on_time: Some(false),
        }]);
    let mut cmd = co_view(CO_UNIT, "同意");
    cmd.at = at("2024-04-07T10:00:00+08:00");
    let events = accepted_events(history_assigned(), cmd);
    let ItemEvent::CoViewSubmitted { on_time, .. } = &events[0] else {
        panic!("a co-view: {events:?}");
    };
    assert_eq!(*on_time, Some(true), "on the due date is on time");
}

#[test]
fn submit_co_view_refused_for_the_lead_unit_and_for_a_stranger() {
    for unit in [LEAD_UNIT, "刑事审判庭"] {
        item_test()
            .given(history_assigned())
            .when(co_view(unit, "意见"))
            .then_expect_error(ItemError::NotCoUnit {
                item_id: ITEM.into(),
                unit: unit.into(),
                co_units: vec![CO_UNIT.into()],
            });
    }
}

#[test]
fn submit_co_view_refused_twice_in_a_round_and_once_answered() {
    let submitted = accepted_events(history_assigned(), co_view(CO_UNIT, "同意"));
    item_test()
        .given(with(history_assigned(), submitted))
        .when(co_view(CO_UNIT, "补充意见"))
        .then_expect_error(ItemError::CoViewAlreadySubmitted {
            item_id: ITEM.into(),
            unit: CO_UNIT.into(),
            round: 1,
        });
    item_test()
        .given(history_answered(vec![]))
        .when(co_view(CO_UNIT, "意见"))
        .then_expect_error(ItemError::RoundNotAwaitingAnswer {
            item_id: ITEM.into(),
            action: "SubmitCoView",
            status: ItemStatus::Answered,
        });
}

#[test]
fn submit_co_view_in_a_later_round_has_no_due_date() {
    let events = accepted_events(history_rehandling(), co_view(CO_UNIT, "同意"));
    let ItemEvent::CoViewSubmitted {
        round,
        due,
        on_time,
        ..
    } = &events[0]
    else {
        panic!("a co-view: {events:?}");
    };
    assert_eq!((*round, *due, *on_time), (2, None, None));
}

#[test]
fn submit_co_view_refused_before_assignment_and_with_an_empty_view() {
    item_test()
        .given(history_accepted())
        .when(co_view(CO_UNIT, "意见"))
        .then_expect_error(ItemError::NotAssigned {
            item_id: ITEM.into(),
            action: "SubmitCoView",
            status: ItemStatus::Accepted,
        });
    item_test()
        .given(history_assigned())
        .when(co_view(CO_UNIT, ""))
        .then_expect_error(empty("view"));
}

#[test]
fn report_progress_by_handler_or_leader_in_any_open_state() {
    for history in [
        history_assigned(),
        history_answered(vec![]),
        history_rehandling(),
        history_reconciled(),
    ] {
        for role in [Role::Handler, Role::Leader] {
            let round = if history == history_rehandling() {
                2
            } else {
                1
            };
            item_test()
                .given(history.clone())
                .when(progress(role, "已约谈被执行人"))
                .then_expect_events(vec![ItemEvent::ProgressReported {
                    item_id: ITEM.into(),
                    round,
                    summary: "已约谈被执行人".into(),
                }]);
        }
    }
}

#[test]
fn report_progress_refused_before_assignment_on_a_closed_item_and_with_a_bad_summary() {
    item_test()
        .given(vec![filed()])
        .when(progress(Role::Handler, "进展"))
        .then_expect_error(ItemError::NotAssigned {
            item_id: ITEM.into(),
            action: "ReportProgress",
            status: ItemStatus::Filed,
        });
    item_test()
        .given(history_closed())
        .when(progress(Role::Handler, "进展"))
        .then_expect_error(ItemError::ItemEnded {
            item_id: ITEM.into(),
            action: "ReportProgress",
            status: ItemStatus::Closed,
        });
    item_test()
        .given(history_assigned())
        .when(progress(Role::Handler, &chars(TEXT_CHARS_MAX + 1)))
        .then_expect_error(too_long("summary", TEXT_CHARS_MAX + 1, TEXT_CHARS_MAX));
}

#[test]
fn handling_events_leave_the_status_as_it_is() {
    let history = with(
        history_assigned(),
        vec![
            acknowledged(1, LEAD_UNIT),
            contacted(1, LEAD_DEPUTY),
            ItemEvent::ProgressReported {
                item_id: ITEM.into(),
                round: 1,
                summary: "s".into(),
            },
        ],
    );
    // Still assigned: it can be answered, and rated only after that.
    let events = accepted_events(history.clone(), answer(answer_data(vec![])));
    assert_eq!(events.len(), 1);
    item_test()
        .given(history)
        .when(rate(rate_data(Rating::Satisfied)))
        .then_expect_error(ItemError::RatingNeedsAnswer {
            item_id: ITEM.into(),
            status: ItemStatus::Assigned,
        });
}
