use aggregates::item::{AssignItem, FileItem, ItemError, ItemEvent, ItemStatus, Leader};
use aggregates::validate::{CO_UNITS_MAX, NAME_CHARS_MAX, UNIT_CHARS_MAX};
use jiff::civil::date;

use super::support::*;

#[test]
fn assign_item_records_answer_due_in_three_months_and_co_view_due_in_one() {
    // Tuesday 2024-03-05: + 3 months = Wednesday 2024-06-05; + 1 month = Friday 2024-04-05.
    item_test()
        .given(history_accepted())
        .when(assign(assign_data()))
        .then_expect_events(vec![assigned()]);
}

#[test]
fn assign_urgent_item_gives_one_month_to_answer() {
    // Urgent: Tuesday 2024-03-05 + 1 month = Friday 2024-04-05, a 清明 holiday; the next
    // working day is the make-up Sunday 2024-04-07.
    let urgent_filed = filed_from(FileItem {
        urgent: true,
        ..file_data()
    });
    item_test()
        .given(vec![urgent_filed, accepted()])
        .when(assign(assign_data()))
        .then_expect_events(vec![ItemEvent::ItemAssigned {
            item_id: ITEM.into(),
            lead_unit: "执行局".into(),
            co_units: vec!["立案庭".into()],
            leader: leader(),
            assigned_on: ASSIGNED_ON,
            answer_due: date(2024, 4, 7),
            co_view_due: Some(CO_VIEW_DUE),
        }]);
}

#[test]
fn assign_item_without_co_units_sets_no_co_view_due() {
    let data = AssignItem {
        co_units: vec![],
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_events(vec![ItemEvent::ItemAssigned {
            item_id: ITEM.into(),
            lead_unit: "执行局".into(),
            co_units: vec![],
            leader: leader(),
            assigned_on: ASSIGNED_ON,
            answer_due: ANSWER_DUE,
            co_view_due: None,
        }]);
}

#[test]
fn assign_item_due_dates_falling_on_a_weekend_move_to_monday() {
    // Friday 2024-05-31: + 3 months = Saturday 2024-08-31 → Monday 2024-09-02;
    // + 1 month clamps to Sunday 2024-06-30 → Monday 2024-07-01.
    let cmd = aggregates::item::ItemCommand {
        at: at("2024-05-31T16:00:00+08:00"),
        ..assign(assign_data())
    };
    item_test()
        .given(history_accepted())
        .when(cmd)
        .then_expect_events(vec![ItemEvent::ItemAssigned {
            item_id: ITEM.into(),
            lead_unit: "执行局".into(),
            co_units: vec!["立案庭".into()],
            leader: leader(),
            assigned_on: date(2024, 5, 31),
            answer_due: date(2024, 9, 2),
            co_view_due: Some(date(2024, 7, 1)),
        }]);
}

#[test]
fn assign_item_refused_unless_accepted() {
    let cases = [
        (vec![filed()], ItemStatus::Filed),
        (history_assigned(), ItemStatus::Assigned),
        (history_answered(vec![]), ItemStatus::Answered),
        (
            vec![
                filed(),
                ItemEvent::ItemMerged {
                    item_id: ITEM.into(),
                    target_item_id: OTHER_ITEM.into(),
                    reason: "同一事项".into(),
                },
            ],
            ItemStatus::Merged,
        ),
    ];
    for (given, status) in cases {
        item_test()
            .given(given)
            .when(assign(assign_data()))
            .then_expect_error(ItemError::AssignNeedsAccepted {
                item_id: ITEM.into(),
                status,
            });
    }
}

#[test]
fn assign_item_lead_unit_of_200_characters_accepted_and_201_refused() {
    let data = AssignItem {
        lead_unit: chars(UNIT_CHARS_MAX),
        ..assign_data()
    };
    accepted_events(history_accepted(), assign(data));
    let data = AssignItem {
        lead_unit: chars(UNIT_CHARS_MAX + 1),
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(too_long("lead_unit", 201, 200));
    let data = AssignItem {
        lead_unit: String::new(),
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(empty("lead_unit"));
}

#[test]
fn assign_item_20_co_units_accepted_and_21_refused() {
    let units = |n: usize| (0..n).map(|i| format!("第{i}庭")).collect::<Vec<_>>();
    accepted_events(
        history_accepted(),
        assign(AssignItem {
            co_units: units(CO_UNITS_MAX),
            ..assign_data()
        }),
    );
    item_test()
        .given(history_accepted())
        .when(assign(AssignItem {
            co_units: units(CO_UNITS_MAX + 1),
            ..assign_data()
        }))
        .then_expect_error(too_many("co_units", 21, 20));
}

#[test]
fn assign_item_co_unit_name_of_200_characters_accepted_and_201_refused() {
    let data = AssignItem {
        co_units: vec![chars(UNIT_CHARS_MAX)],
        ..assign_data()
    };
    accepted_events(history_accepted(), assign(data));
    let data = AssignItem {
        co_units: vec!["立案庭".into(), chars(UNIT_CHARS_MAX + 1)],
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(too_long("co_units[1]", 201, 200));
    let data = AssignItem {
        co_units: vec![" ".into()],
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(empty("co_units[0]"));
}

#[test]
fn assign_item_refuses_the_same_co_unit_twice() {
    let data = AssignItem {
        co_units: vec!["立案庭".into(), "立案庭".into()],
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(repeated("co_units", "立案庭"));
}

#[test]
fn assign_item_refuses_the_lead_unit_as_a_co_unit() {
    let data = AssignItem {
        co_units: vec!["立案庭".into(), "执行局".into()],
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(ItemError::CoUnitIsLeadUnit {
            item_id: ITEM.into(),
            unit: "执行局".into(),
        });
}

#[test]
fn assign_item_refuses_a_bad_leader_id() {
    let data = AssignItem {
        leader: Leader {
            id: "张 院长".into(),
            ..leader()
        },
        ..assign_data()
    };
    item_test()
        .given(history_accepted())
        .when(assign(data))
        .then_expect_error(bad_id("leader.id"));
}

#[test]
fn assign_item_leader_name_of_100_characters_accepted_and_101_refused() {
    let named = |name: String| AssignItem {
        leader: Leader { name, ..leader() },
        ..assign_data()
    };
    accepted_events(history_accepted(), assign(named(chars(NAME_CHARS_MAX))));
    item_test()
        .given(history_accepted())
        .when(assign(named(chars(NAME_CHARS_MAX + 1))))
        .then_expect_error(too_long("leader.name", 101, 100));
    item_test()
        .given(history_accepted())
        .when(assign(named(String::new())))
        .then_expect_error(empty("leader.name"));
}
