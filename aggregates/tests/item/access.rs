use aggregates::actor::Role;
use aggregates::item::{
    AnswerClass, CloseItem, FileItem, FulfilCommitment, ItemAction, ItemError, ItemEvent, Rating,
    ReconcileItem, TriageDecision,
};
use jiff::civil::date;

use super::support::*;

/// Each command in a state where it would be accepted, for the item `item_id`.
fn ready_commands(item_id: &str) -> Vec<(Vec<ItemEvent>, ItemAction)> {
    let id = || item_id.to_owned();
    vec![
        (
            vec![],
            ItemAction::FileItem(FileItem {
                item_id: id(),
                ..file_data()
            }),
        ),
        (
            vec![filed()],
            ItemAction::TriageItem({
                let mut data = triage_data(TriageDecision::Accept);
                data.item_id = id();
                data
            }),
        ),
        (
            history_accepted(),
            ItemAction::AssignItem({
                let mut data = assign_data();
                data.item_id = id();
                data
            }),
        ),
        (
            history_assigned(),
            action_of(acknowledge(LEAD_UNIT), item_id),
        ),
        (
            history_assigned(),
            action_of(contact(Role::Handler, contact_data(LEAD_DEPUTY)), item_id),
        ),
        (
            history_assigned(),
            action_of(co_view(CO_UNIT, "同意"), item_id),
        ),
        (
            history_assigned(),
            action_of(progress(Role::Handler, "已约谈"), item_id),
        ),
        (
            history_assigned(),
            action_of(request_extension(date(2024, 8, 1)), item_id),
        ),
        (
            with(history_assigned(), extension_requested(date(2024, 8, 1))),
            action_of(decide_extension(true), item_id),
        ),
        (
            history_assigned(),
            ItemAction::AnswerItem({
                let mut data = answer_data(vec![]);
                data.item_id = id();
                data
            }),
        ),
        (
            history_answered(vec![]),
            action_of(reclassify(AnswerClass::B), item_id),
        ),
        (
            history_answered(vec![]),
            ItemAction::RateAnswer({
                let mut data = rate_data(Rating::Satisfied);
                data.item_id = id();
                data
            }),
        ),
        (
            history_answered(vec![commitment("c-1")]),
            ItemAction::FulfilCommitment(FulfilCommitment {
                item_id: id(),
                commitment_id: "c-1".into(),
                note: String::new(),
            }),
        ),
        (
            history_rated(),
            ItemAction::ReconcileItem(ReconcileItem {
                item_id: id(),
                note: String::new(),
            }),
        ),
        (
            history_reconciled(),
            ItemAction::CloseItem(CloseItem {
                item_id: id(),
                note: String::new(),
            }),
        ),
        (history_assigned(), action_of(withdraw("代表撤回"), item_id)),
        (
            history_closed(),
            action_of(reopen("代表反映未落实"), item_id),
        ),
    ]
}

/// The action of a standard command, renamed to `item_id`.
fn action_of(command: aggregates::item::ItemCommand, item_id: &str) -> ItemAction {
    let mut value = serde_json::to_value(command.action).expect("serialises");
    value["data"]["item_id"] = item_id.into();
    serde_json::from_value(value).expect("deserialises")
}

fn with(mut history: Vec<ItemEvent>, event: ItemEvent) -> Vec<ItemEvent> {
    history.push(event);
    history
}

/// DESIGN.md §4: who may issue each command. Written out here, not taken from the crate, so the
/// test checks the crate against the design.
fn roles_allowed(type_name: &str) -> Vec<Role> {
    match type_name {
        "FileItem" => vec![Role::Liaison],
        "TriageItem" | "AssignItem" => vec![Role::CourtOffice],
        "AcknowledgeItem" | "SubmitCoView" => vec![Role::Handler],
        "RecordContact" | "ReportProgress" | "RequestExtension" => {
            vec![Role::Handler, Role::Leader]
        }
        "DecideExtension" | "ReclassifyAnswer" | "WithdrawItem" | "ReopenItem" => {
            vec![Role::Liaison]
        }
        "AnswerItem" => vec![Role::Leader],
        "RateAnswer" => vec![Role::Deputy, Role::Liaison],
        "FulfilCommitment" => vec![Role::Handler, Role::Leader],
        "ReconcileItem" => vec![Role::Liaison],
        "CloseItem" => vec![Role::Leader],
        other => panic!("no roles written down for {other}"),
    }
}

#[test]
fn ready_commands_cover_every_item_action() {
    let names: Vec<&str> = ready_commands(ITEM)
        .iter()
        .map(|(_, action)| action.type_name())
        .collect();
    assert_eq!(names, ItemAction::TYPES);
}

#[test]
fn every_command_is_accepted_from_its_allowed_roles_and_forbidden_to_every_other_role() {
    for (given, action) in ready_commands(ITEM) {
        let type_name = action.type_name();
        let allowed = roles_allowed(type_name);
        assert_eq!(ItemAction::allowed_roles(type_name), allowed.as_slice());
        for role in Role::ALL {
            let validator =
                item_test()
                    .given(given.clone())
                    .when(command(role, LATER_AT, action.clone()));
            if allowed.contains(&role) {
                let result = validator.inspect_result();
                assert!(
                    result.is_ok(),
                    "{role} should be allowed to {type_name}: {result:?}"
                );
            } else {
                validator.then_expect_error(ItemError::RoleNotAllowed {
                    item_id: ITEM.into(),
                    action: type_name,
                    role,
                });
            }
        }
    }
}

#[test]
fn auditor_and_admin_may_issue_no_item_command() {
    for (given, action) in ready_commands(ITEM) {
        for role in [Role::Auditor, Role::Admin] {
            let error = item_test()
                .given(given.clone())
                .when(command(role, LATER_AT, action.clone()))
                .inspect_result()
                .expect_err("auditors and admins change nothing");
            assert_eq!(error.code(), aggregates::error::ErrorCode::Forbidden);
        }
    }
}

#[test]
fn role_is_checked_before_the_item_exists() {
    let action = ItemAction::CloseItem(CloseItem {
        item_id: ITEM.into(),
        note: String::new(),
    });
    item_test()
        .given_no_previous_events()
        .when(command(Role::Auditor, LATER_AT, action))
        .then_expect_error(ItemError::RoleNotAllowed {
            item_id: ITEM.into(),
            action: "CloseItem",
            role: Role::Auditor,
        });
}

#[test]
fn every_command_but_file_item_on_an_unfiled_item_is_not_found() {
    for (_, action) in ready_commands(ITEM).into_iter().skip(1) {
        let role = roles_allowed(action.type_name())[0];
        item_test()
            .given_no_previous_events()
            .when(command(role, LATER_AT, action))
            .then_expect_error(ItemError::NotFiled {
                item_id: ITEM.into(),
            });
    }
}

#[test]
fn every_command_naming_another_item_is_refused_as_invalid() {
    for ((given, _), (_, action)) in ready_commands(ITEM)
        .into_iter()
        .zip(ready_commands(OTHER_ITEM))
    {
        let role = roles_allowed(action.type_name())[0];
        // FileItem is ready on an unfiled item; it can only name the wrong item once filed.
        let given = if given.is_empty() {
            vec![filed()]
        } else {
            given
        };
        item_test()
            .given(given)
            .when(command(role, LATER_AT, action))
            .then_expect_error(ItemError::ItemIdMismatch {
                item_id: ITEM.into(),
                command_item_id: OTHER_ITEM.into(),
            });
    }
}
