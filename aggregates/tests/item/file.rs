use aggregates::actor::Role;
use aggregates::deadline::{DeadlineRules, WorkingCalendar};
use aggregates::item::{Deputy, FileItem, ItemAction, ItemError, ItemKind, ItemStatus, LinkedItem};
use aggregates::validate::{
    FieldError, CASES_MAX, CASE_NO_CHARS_MAX, DEPUTIES_MAX, ID_CHARS_MAX, NAME_CHARS_MAX,
    TEXT_CHARS_MAX, TITLE_CHARS_MAX,
};
use jiff::civil::date;

use super::support::*;

#[test]
fn file_item_records_item_filed_with_triage_due_seven_working_days_later() {
    // Friday 2024-03-01 + 7 working days = Tuesday 2024-03-12 (see support.rs).
    item_test()
        .given_no_previous_events()
        .when(file(file_data()))
        .then_expect_events(vec![filed()]);
}

#[test]
fn file_item_triage_due_counts_from_the_local_date_in_the_ledger_time_zone() {
    // 2024-03-03T17:00Z is Monday 2024-03-04 01:00 in Shanghai (it is still Sunday in UTC).
    // Monday + 7 working days: Tue 5 … Fri 8 (4), Mon 11 (5), Tue 12 (6), Wed 13 (7).
    let cmd = command(
        Role::Liaison,
        "2024-03-03T17:00:00Z",
        ItemAction::FileItem(file_data()),
    );
    let mut expected = filed();
    if let aggregates::item::ItemEvent::ItemFiled { triage_due, .. } = &mut expected {
        *triage_due = date(2024, 3, 13);
    }
    item_test()
        .given_no_previous_events()
        .when(cmd)
        .then_expect_events(vec![expected]);
}

#[test]
fn file_item_triage_due_skips_a_holiday_week_and_counts_make_up_days() {
    // The 2024 National Day arrangement: October 1–7 off, Sunday 9-29 and Saturday 10-12 worked.
    // Filed Friday 2024-09-27: Sun 29 (1), Mon 30 (2), Tue 8 (3), Wed 9 (4), Thu 10 (5),
    // Fri 11 (6), Sat 12 (7) → 2024-10-12.
    let holidays = (1..=7).map(|day| date(2024, 10, day)).collect();
    let make_up_days = [date(2024, 9, 29), date(2024, 10, 12)]
        .into_iter()
        .collect();
    let rules = DeadlineRules {
        calendar: WorkingCalendar::new(holidays, make_up_days),
        ..DeadlineRules::default()
    };
    let cmd = command(
        Role::Liaison,
        "2024-09-27T09:00:00+08:00",
        ItemAction::FileItem(file_data()),
    );
    let mut expected = filed();
    if let aggregates::item::ItemEvent::ItemFiled { triage_due, .. } = &mut expected {
        *triage_due = date(2024, 10, 12);
    }
    let rules = aggregates::rules::Rules {
        deadlines: rules,
        ..Default::default()
    };
    ItemTest::with(rules)
        .given_no_previous_events()
        .when(cmd)
        .then_expect_events(vec![expected]);
}

#[test]
fn file_item_keeps_urgent_cases_and_parent() {
    let data = FileItem {
        urgent: true,
        cases: vec!["(2024)粤0101执1号".into(), "(2024)粤0101执2号".into()],
        parent_id: Some("2024-D-007".into()),
        ..file_data()
    };
    let mut cmd = file(data.clone());
    cmd.facts.parent = Some(LinkedItem {
        kind: ItemKind::DeliberationOpinion,
        status: ItemStatus::Assigned,
    });
    item_test()
        .given_no_previous_events()
        .when(cmd)
        .then_expect_events(vec![filed_from(data)]);
}

#[test]
fn file_item_refused_when_the_item_is_already_filed() {
    item_test()
        .given(vec![filed()])
        .when(file(file_data()))
        .then_expect_error(ItemError::AlreadyFiled {
            item_id: ITEM.into(),
            status: ItemStatus::Filed,
        });
    item_test()
        .given(history_closed())
        .when(file(file_data()))
        .then_expect_error(ItemError::AlreadyFiled {
            item_id: ITEM.into(),
            status: ItemStatus::Closed,
        });
}

#[test]
fn file_item_refuses_a_bad_item_id() {
    let long_id = "x".repeat(ID_CHARS_MAX);
    let data = FileItem {
        item_id: long_id.clone(),
        ..file_data()
    };
    let events = accepted_events(vec![], file(data));
    assert_eq!(
        events.len(),
        1,
        "an id of {ID_CHARS_MAX} characters is accepted"
    );

    let too_long_id = "x".repeat(ID_CHARS_MAX + 1);
    let data = FileItem {
        item_id: too_long_id.clone(),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(ItemError::InvalidField {
            item_id: too_long_id,
            error: FieldError::TooLong {
                field: "item_id".into(),
                chars: 65,
                chars_max: 64,
            },
        });
    let data = FileItem {
        item_id: "2024 S 001".into(),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(ItemError::InvalidField {
            item_id: "2024 S 001".into(),
            error: FieldError::BadId {
                field: "item_id".into(),
            },
        });
    let data = FileItem {
        item_id: String::new(),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(ItemError::InvalidField {
            item_id: String::new(),
            error: FieldError::Empty {
                field: "item_id".into(),
            },
        });
}

#[test]
fn file_item_title_of_200_characters_accepted_and_201_refused() {
    let data = FileItem {
        title: chars(TITLE_CHARS_MAX),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data.clone()))
        .then_expect_events(vec![filed_from(data)]);
    let data = FileItem {
        title: chars(TITLE_CHARS_MAX + 1),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(too_long("title", 201, 200));
}

#[test]
fn file_item_refuses_an_empty_or_blank_title() {
    for title in ["", "  \u{3000} "] {
        let data = FileItem {
            title: title.into(),
            ..file_data()
        };
        item_test()
            .given_no_previous_events()
            .when(file(data))
            .then_expect_error(empty("title"));
    }
}

#[test]
fn file_item_body_of_20000_characters_accepted_and_20001_refused() {
    let data = FileItem {
        body: chars(TEXT_CHARS_MAX),
        ..file_data()
    };
    accepted_events(vec![], file(data));
    let data = FileItem {
        body: String::new(),
        ..file_data()
    };
    accepted_events(vec![], file(data));
    let data = FileItem {
        body: chars(TEXT_CHARS_MAX + 1),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(too_long("body", 20_001, 20_000));
}

fn many_deputies(n: usize) -> Vec<Deputy> {
    (0..n)
        .map(|i| Deputy {
            id: format!("d-{i:03}"),
            name: format!("代表{i}"),
            lead: i == 0,
        })
        .collect()
}

#[test]
fn file_item_needs_at_least_one_deputy() {
    let data = FileItem {
        deputies: vec![],
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(empty("deputies"));
    let data = FileItem {
        deputies: many_deputies(1),
        ..file_data()
    };
    accepted_events(vec![], file(data));
}

#[test]
fn file_item_50_deputies_accepted_and_51_refused() {
    let data = FileItem {
        deputies: many_deputies(DEPUTIES_MAX),
        ..file_data()
    };
    accepted_events(vec![], file(data));
    let data = FileItem {
        deputies: many_deputies(DEPUTIES_MAX + 1),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(too_many("deputies", 51, 50));
}

#[test]
fn file_item_refuses_a_bad_deputy_id() {
    let mut list = deputies();
    list[1].id = "李秀英".into();
    let data = FileItem {
        deputies: list,
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(bad_id("deputies[1].id"));
}

#[test]
fn file_item_deputy_name_of_100_characters_accepted_and_101_refused() {
    let mut list = deputies();
    list[0].name = chars(NAME_CHARS_MAX);
    accepted_events(
        vec![],
        file(FileItem {
            deputies: list.clone(),
            ..file_data()
        }),
    );
    list[0].name = chars(NAME_CHARS_MAX + 1);
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            deputies: list.clone(),
            ..file_data()
        }))
        .then_expect_error(too_long("deputies[0].name", 101, 100));
    list[0].name = " ".into();
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            deputies: list,
            ..file_data()
        }))
        .then_expect_error(empty("deputies[0].name"));
}

#[test]
fn file_item_refuses_the_same_deputy_twice() {
    let mut list = deputies();
    list[1].id = LEAD_DEPUTY.into();
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            deputies: list,
            ..file_data()
        }))
        .then_expect_error(repeated("deputies[].id", LEAD_DEPUTY));
}

#[test]
fn file_item_refuses_two_lead_deputies() {
    let mut list = deputies();
    list[1].lead = true;
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            deputies: list,
            ..file_data()
        }))
        .then_expect_error(ItemError::SeveralLeadDeputies {
            item_id: ITEM.into(),
            deputy_ids: vec![LEAD_DEPUTY.into(), SECOND_DEPUTY.into()],
        });
}

#[test]
fn file_item_without_a_lead_deputy_is_accepted() {
    let mut list = deputies();
    list[0].lead = false;
    accepted_events(
        vec![],
        file(FileItem {
            deputies: list,
            ..file_data()
        }),
    );
}

#[test]
fn file_item_50_cases_accepted_and_51_refused() {
    let cases = |n: usize| {
        (0..n)
            .map(|i| format!("(2024)粤0101执{i}号"))
            .collect::<Vec<_>>()
    };
    accepted_events(
        vec![],
        file(FileItem {
            cases: cases(CASES_MAX),
            ..file_data()
        }),
    );
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            cases: cases(CASES_MAX + 1),
            ..file_data()
        }))
        .then_expect_error(too_many("cases", 51, 50));
}

#[test]
fn file_item_case_number_of_100_characters_accepted_and_101_refused() {
    accepted_events(
        vec![],
        file(FileItem {
            cases: vec![chars(CASE_NO_CHARS_MAX)],
            ..file_data()
        }),
    );
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            cases: vec![chars(CASE_NO_CHARS_MAX + 1)],
            ..file_data()
        }))
        .then_expect_error(too_long("cases[0]", 101, 100));
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            cases: vec![String::new()],
            ..file_data()
        }))
        .then_expect_error(empty("cases[0]"));
}

#[test]
fn file_item_refuses_the_same_case_twice() {
    let cases = vec!["(2024)粤0101执1号".into(), "(2024)粤0101执1号".into()];
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            cases,
            ..file_data()
        }))
        .then_expect_error(repeated("cases", "(2024)粤0101执1号"));
}

#[test]
fn file_item_refuses_a_bad_parent_id() {
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            parent_id: Some("父 件".into()),
            ..file_data()
        }))
        .then_expect_error(bad_id("parent_id"));
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            parent_id: Some(String::new()),
            ..file_data()
        }))
        .then_expect_error(empty("parent_id"));
}

#[test]
fn file_item_refuses_the_item_as_its_own_parent() {
    item_test()
        .given_no_previous_events()
        .when(file(FileItem {
            parent_id: Some(ITEM.into()),
            ..file_data()
        }))
        .then_expect_error(ItemError::ParentIsItself {
            item_id: ITEM.into(),
        });
}

#[test]
fn file_item_refuses_a_bad_actor_id() {
    let cmd = command_by(
        "联络员",
        Role::Liaison,
        FILED_AT,
        ItemAction::FileItem(file_data()),
    );
    item_test()
        .given_no_previous_events()
        .when(cmd)
        .then_expect_error(bad_id("actor.id"));
}

#[test]
fn file_item_refuses_a_time_outside_the_accepted_years() {
    let cmd = command(
        Role::Liaison,
        "9001-01-01T09:00:00+08:00",
        ItemAction::FileItem(file_data()),
    );
    item_test()
        .given_no_previous_events()
        .when(cmd)
        .then_expect_error(invalid(FieldError::YearOutOfRange {
            field: "at".into(),
            year: 9001,
            year_min: 1970,
            year_max: 9000,
        }));
    let cmd = command(
        Role::Liaison,
        "1969-12-31T09:00:00+08:00",
        ItemAction::FileItem(file_data()),
    );
    item_test()
        .given_no_previous_events()
        .when(cmd)
        .then_expect_error(invalid(FieldError::YearOutOfRange {
            field: "at".into(),
            year: 1969,
            year_min: 1970,
            year_max: 9000,
        }));
    let cmd = command(
        Role::Liaison,
        "9000-12-31T09:00:00+08:00",
        ItemAction::FileItem(file_data()),
    );
    accepted_events(vec![], cmd);
}

fn child_of(status: ItemStatus, kind: ItemKind) -> aggregates::item::ItemCommand {
    let mut cmd = file(FileItem {
        parent_id: Some("2024-D-007".into()),
        ..file_data()
    });
    cmd.facts.parent = Some(LinkedItem { kind, status });
    cmd
}

#[test]
fn file_item_with_a_parent_refused_when_the_parent_was_never_filed() {
    let data = FileItem {
        parent_id: Some("2024-D-007".into()),
        ..file_data()
    };
    item_test()
        .given_no_previous_events()
        .when(file(data))
        .then_expect_error(ItemError::ParentNotFound {
            item_id: ITEM.into(),
            parent_id: "2024-D-007".into(),
        });
}

#[test]
fn file_item_with_a_parent_refused_unless_the_parent_is_a_deliberation_opinion() {
    item_test()
        .given_no_previous_events()
        .when(child_of(ItemStatus::Assigned, ItemKind::Suggestion))
        .then_expect_error(ItemError::ParentNotDeliberation {
            item_id: ITEM.into(),
            parent_id: "2024-D-007".into(),
            kind: ItemKind::Suggestion,
        });
}

#[test]
fn file_item_with_a_parent_refused_when_the_parent_is_closed_or_ended() {
    for status in [
        ItemStatus::Closed,
        ItemStatus::Withdrawn,
        ItemStatus::Merged,
    ] {
        item_test()
            .given_no_previous_events()
            .when(child_of(status, ItemKind::DeliberationOpinion))
            .then_expect_error(ItemError::ParentFinished {
                item_id: ITEM.into(),
                parent_id: "2024-D-007".into(),
                status,
            });
    }
}

#[test]
fn file_item_with_an_open_deliberation_parent_is_filed_in_every_open_status() {
    for status in [
        ItemStatus::Filed,
        ItemStatus::Rehandling,
        ItemStatus::Reconciled,
    ] {
        let events = accepted_events(vec![], child_of(status, ItemKind::DeliberationOpinion));
        assert_eq!(events.len(), 1);
    }
}
