//! The standard item used by the rule tests, its history, and builders for its commands.
//!
//! The timeline (default rules: Asia/Shanghai, weekends-only calendar):
//!
//! - filed Friday 2024-03-01 → triage due 7 working days later: Mon 4, Tue 5, Wed 6, Thu 7,
//!   Fri 8, Mon 11, Tue 12 → 2024-03-12;
//! - accepted Monday 2024-03-04;
//! - assigned Tuesday 2024-03-05 → answer due + 3 months = Wednesday 2024-06-05 (a working day);
//!   co-view due + 1 month = Friday 2024-04-05; urgent answer due also Friday 2024-04-05;
//! - answered Monday 2024-05-20 (on time);
//! - rated Saturday 2024-05-25 → re-handling due + 1 month = Tuesday 2024-06-25.

use aggregates::actor::{Actor, Role};
use aggregates::deadline::DeadlineRules;
use aggregates::item::{
    AnswerClass, AnswerItem, AssignItem, CloseItem, Commitment, Deputy, FileItem, FulfilCommitment,
    Item, ItemAction, ItemCommand, ItemError, ItemEvent, ItemKind, Leader, LeaderLevel, RateAnswer,
    Rating, ReconcileItem, TriageDecision, TriageItem,
};
use aggregates::time::BusinessTime;
use aggregates::validate::FieldError;
use cqrs_es::test::TestFramework;
use jiff::civil::{date, Date};

pub(crate) type ItemTest = TestFramework<Item>;

pub(crate) const ITEM: &str = "2024-S-001";
pub(crate) const OTHER_ITEM: &str = "2024-S-002";
pub(crate) const LEAD_DEPUTY: &str = "d-001";
pub(crate) const SECOND_DEPUTY: &str = "d-002";
pub(crate) const STRANGER_DEPUTY: &str = "d-999";

pub(crate) const FILED_AT: &str = "2024-03-01T09:00:00+08:00";
pub(crate) const TRIAGED_AT: &str = "2024-03-04T10:00:00+08:00";
pub(crate) const ASSIGNED_AT: &str = "2024-03-05T10:00:00+08:00";
pub(crate) const ANSWERED_AT: &str = "2024-05-20T15:00:00+08:00";
pub(crate) const RATED_AT: &str = "2024-05-25T09:00:00+08:00";
pub(crate) const LATER_AT: &str = "2024-07-01T09:00:00+08:00";

pub(crate) const TRIAGE_DUE: Date = date(2024, 3, 12);
pub(crate) const ASSIGNED_ON: Date = date(2024, 3, 5);
pub(crate) const ANSWER_DUE: Date = date(2024, 6, 5);
pub(crate) const CO_VIEW_DUE: Date = date(2024, 4, 5);
pub(crate) const ANSWERED_ON: Date = date(2024, 5, 20);
pub(crate) const REHANDLING_DUE: Date = date(2024, 6, 25);

/// A test framework with the default deadline rules.
pub(crate) fn item_test() -> ItemTest {
    ItemTest::with(DeadlineRules::default())
}

pub(crate) fn at(text: &str) -> BusinessTime {
    text.parse()
        .unwrap_or_else(|error| panic!("test time {text}: {error}"))
}

/// The id the tests give an actor in `role`; a deputy is the item's lead deputy.
pub(crate) fn actor_id(role: Role) -> &'static str {
    match role {
        Role::Liaison => "liaison-01",
        Role::CourtOffice => "court-01",
        Role::Handler => "handler-01",
        Role::Leader => "leader-01",
        Role::Deputy => LEAD_DEPUTY,
        Role::Auditor => "auditor-01",
        Role::Admin => "admin-01",
    }
}

pub(crate) fn command(role: Role, at_text: &str, action: ItemAction) -> ItemCommand {
    ItemCommand {
        actor: Actor {
            id: actor_id(role).to_owned(),
            role,
        },
        at: at(at_text),
        action,
    }
}

pub(crate) fn command_by(
    actor: &str,
    role: Role,
    at_text: &str,
    action: ItemAction,
) -> ItemCommand {
    ItemCommand {
        actor: Actor {
            id: actor.to_owned(),
            role,
        },
        at: at(at_text),
        action,
    }
}

pub(crate) fn deputies() -> Vec<Deputy> {
    vec![
        Deputy {
            id: LEAD_DEPUTY.into(),
            name: "王建国".into(),
            lead: true,
        },
        Deputy {
            id: SECOND_DEPUTY.into(),
            name: "李秀英".into(),
            lead: false,
        },
    ]
}

pub(crate) fn file_data() -> FileItem {
    FileItem {
        item_id: ITEM.into(),
        kind: ItemKind::Suggestion,
        title: "关于加大涉民生案件执行力度的建议".into(),
        body: "建议法院对拖欠农民工工资案件开辟绿色通道。".into(),
        deputies: deputies(),
        urgent: false,
        cases: vec!["(2024)粤0101执123号".into()],
        parent_id: None,
    }
}

pub(crate) fn file(data: FileItem) -> ItemCommand {
    command(Role::Liaison, FILED_AT, ItemAction::FileItem(data))
}

/// The `ItemFiled` that `FileItem` with `data`, filed on 2024-03-01, records.
pub(crate) fn filed_from(data: FileItem) -> ItemEvent {
    ItemEvent::ItemFiled {
        item_id: data.item_id,
        kind: data.kind,
        title: data.title,
        body: data.body,
        deputies: data.deputies,
        urgent: data.urgent,
        cases: data.cases,
        parent_id: data.parent_id,
        triage_due: TRIAGE_DUE,
    }
}

pub(crate) fn filed() -> ItemEvent {
    filed_from(file_data())
}

pub(crate) fn triage_data(decision: TriageDecision) -> TriageItem {
    TriageItem {
        item_id: ITEM.into(),
        decision,
        reason: String::new(),
        target_item_id: None,
        redirect_to: None,
    }
}

pub(crate) fn triage(data: TriageItem) -> ItemCommand {
    command(Role::CourtOffice, TRIAGED_AT, ItemAction::TriageItem(data))
}

pub(crate) fn accepted() -> ItemEvent {
    ItemEvent::ItemAccepted {
        item_id: ITEM.into(),
        reason: String::new(),
    }
}

pub(crate) fn leader() -> Leader {
    Leader {
        id: "leader-01".into(),
        name: "张副院长".into(),
        level: LeaderLevel::VicePresident,
    }
}

pub(crate) fn assign_data() -> AssignItem {
    AssignItem {
        item_id: ITEM.into(),
        lead_unit: "执行局".into(),
        co_units: vec!["立案庭".into()],
        leader: leader(),
    }
}

pub(crate) fn assign(data: AssignItem) -> ItemCommand {
    command(Role::CourtOffice, ASSIGNED_AT, ItemAction::AssignItem(data))
}

pub(crate) fn assigned() -> ItemEvent {
    ItemEvent::ItemAssigned {
        item_id: ITEM.into(),
        lead_unit: "执行局".into(),
        co_units: vec!["立案庭".into()],
        leader: leader(),
        assigned_on: ASSIGNED_ON,
        answer_due: ANSWER_DUE,
        co_view_due: Some(CO_VIEW_DUE),
    }
}

pub(crate) fn commitment(id: &str) -> Commitment {
    Commitment {
        id: id.into(),
        text: "六个月内完成专项执行行动".into(),
        due: date(2024, 11, 30),
    }
}

pub(crate) fn answer_data(commitments: Vec<Commitment>) -> AnswerItem {
    AnswerItem {
        item_id: ITEM.into(),
        class: AnswerClass::A,
        text: "已开辟涉民生案件绿色通道，专人专办。".into(),
        doc_no: Some("粤执〔2024〕12号".into()),
        public: true,
        commitments,
    }
}

pub(crate) fn answer(data: AnswerItem) -> ItemCommand {
    command(Role::Leader, ANSWERED_AT, ItemAction::AnswerItem(data))
}

/// The round-1 `ItemAnswered` that `answer(answer_data(commitments))` records.
pub(crate) fn answered(commitments: Vec<Commitment>) -> ItemEvent {
    answered_from(answer_data(commitments), 1, ANSWERED_ON, ANSWER_DUE)
}

pub(crate) fn answered_from(
    data: AnswerItem,
    round: u32,
    answered_on: Date,
    due: Date,
) -> ItemEvent {
    ItemEvent::ItemAnswered {
        item_id: data.item_id,
        round,
        class: data.class,
        text: data.text,
        doc_no: data.doc_no,
        public: data.public,
        commitments: data.commitments,
        answered_on,
        due,
        on_time: answered_on <= due,
    }
}

pub(crate) fn rate_data(rating: Rating) -> RateAnswer {
    RateAnswer {
        item_id: ITEM.into(),
        rating,
        comment: String::new(),
        deputy_id: None,
    }
}

/// `RateAnswer` by the lead deputy in person.
pub(crate) fn rate(data: RateAnswer) -> ItemCommand {
    command(Role::Deputy, RATED_AT, ItemAction::RateAnswer(data))
}

pub(crate) fn rated(round: u32, rating: Rating) -> ItemEvent {
    ItemEvent::AnswerRated {
        item_id: ITEM.into(),
        round,
        rating,
        comment: String::new(),
        deputy_id: LEAD_DEPUTY.into(),
        on_behalf: false,
    }
}

pub(crate) fn rehandling_started(round: u32, answer_due: Date) -> ItemEvent {
    ItemEvent::RehandlingStarted {
        item_id: ITEM.into(),
        round,
        answer_due,
    }
}

pub(crate) fn fulfil(commitment_id: &str) -> ItemCommand {
    let data = FulfilCommitment {
        item_id: ITEM.into(),
        commitment_id: commitment_id.into(),
        note: String::new(),
    };
    command(Role::Handler, LATER_AT, ItemAction::FulfilCommitment(data))
}

pub(crate) fn fulfilled(commitment_id: &str) -> ItemEvent {
    ItemEvent::CommitmentFulfilled {
        item_id: ITEM.into(),
        commitment_id: commitment_id.into(),
        note: String::new(),
    }
}

pub(crate) fn reconcile(note: &str) -> ItemCommand {
    let data = ReconcileItem {
        item_id: ITEM.into(),
        note: note.into(),
    };
    command(Role::Liaison, LATER_AT, ItemAction::ReconcileItem(data))
}

pub(crate) fn reconciled() -> ItemEvent {
    ItemEvent::ItemReconciled {
        item_id: ITEM.into(),
        note: String::new(),
    }
}

pub(crate) fn close(note: &str) -> ItemCommand {
    let data = CloseItem {
        item_id: ITEM.into(),
        note: note.into(),
    };
    command(Role::Leader, LATER_AT, ItemAction::CloseItem(data))
}

pub(crate) fn closed() -> ItemEvent {
    ItemEvent::ItemClosed {
        item_id: ITEM.into(),
        note: String::new(),
    }
}

/// Histories of the standard item, one step further each.
pub(crate) fn history_accepted() -> Vec<ItemEvent> {
    vec![filed(), accepted()]
}

pub(crate) fn history_assigned() -> Vec<ItemEvent> {
    vec![filed(), accepted(), assigned()]
}

pub(crate) fn history_answered(commitments: Vec<Commitment>) -> Vec<ItemEvent> {
    vec![filed(), accepted(), assigned(), answered(commitments)]
}

pub(crate) fn history_rated() -> Vec<ItemEvent> {
    let mut history = history_answered(vec![]);
    history.push(rated(1, Rating::Satisfied));
    history
}

pub(crate) fn history_rehandling() -> Vec<ItemEvent> {
    let mut history = history_answered(vec![]);
    history.push(rated(1, Rating::Unsatisfied));
    history.push(rehandling_started(2, REHANDLING_DUE));
    history
}

pub(crate) fn history_reconciled() -> Vec<ItemEvent> {
    let mut history = history_rated();
    history.push(reconciled());
    history
}

pub(crate) fn history_closed() -> Vec<ItemEvent> {
    let mut history = history_reconciled();
    history.push(closed());
    history
}

/// The `InvalidField` error for the standard item.
pub(crate) fn invalid(error: FieldError) -> ItemError {
    ItemError::InvalidField {
        item_id: ITEM.into(),
        error,
    }
}

pub(crate) fn empty(field: &str) -> ItemError {
    invalid(FieldError::Empty {
        field: field.into(),
    })
}

pub(crate) fn too_long(field: &str, chars: usize, chars_max: usize) -> ItemError {
    invalid(FieldError::TooLong {
        field: field.into(),
        chars,
        chars_max,
    })
}

pub(crate) fn too_many(field: &str, count: usize, count_max: usize) -> ItemError {
    invalid(FieldError::TooMany {
        field: field.into(),
        count,
        count_max,
    })
}

pub(crate) fn bad_id(field: &str) -> ItemError {
    invalid(FieldError::BadId {
        field: field.into(),
    })
}

pub(crate) fn repeated(field: &str, value: &str) -> ItemError {
    invalid(FieldError::Repeated {
        field: field.into(),
        value: value.into(),
    })
}

/// Runs `command` after `given` and returns the events, failing the test if it was refused.
pub(crate) fn accepted_events(given: Vec<ItemEvent>, command: ItemCommand) -> Vec<ItemEvent> {
    item_test()
        .given(given)
        .when(command)
        .inspect_result()
        .unwrap_or_else(|error| panic!("expected the command to be accepted, got: {error}"))
}

/// `n` characters of text.
pub(crate) fn chars(n: usize) -> String {
    "回".repeat(n)
}
