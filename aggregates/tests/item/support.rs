//! The standard item used by the rule tests, its history, and builders for its commands.
//!
//! The timeline (default rules: Asia/Shanghai, the official holiday calendar):
//!
//! - filed Friday 2024-03-01 → triage due 7 working days later: Mon 4, Tue 5, Wed 6, Thu 7,
//!   Fri 8, Mon 11, Tue 12 → 2024-03-12;
//! - accepted Monday 2024-03-04;
//! - assigned Tuesday 2024-03-05 → answer due + 3 months = Wednesday 2024-06-05 (a working day);
//!   co-view due + 1 month = Friday 2024-04-05, a 清明 holiday (April 4–6 off), so Sunday
//!   2024-04-07, a make-up working day; the urgent answer due is the same Sunday;
//! - answered Monday 2024-05-20 (on time);
//! - rated Saturday 2024-05-25 → re-handling due + 1 month = Tuesday 2024-06-25.

use aggregates::actor::{Actor, Role};
use aggregates::item::{
    AcknowledgeItem, AnswerClass, AnswerItem, AssignItem, CloseItem, Commitment, ContactChannel,
    ContactStage, DecideExtension, Deputy, FileItem, FulfilCommitment, Item, ItemAction,
    ItemCommand, ItemError, ItemEvent, ItemKind, Leader, LeaderLevel, RateAnswer, Rating,
    ReclassifyAnswer, ReconcileItem, RecordContact, ReopenItem, ReportProgress, RequestExtension,
    SubmitCoView, TriageDecision, TriageItem, WithdrawItem,
};
use aggregates::rules::Rules;
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
/// Wednesday 2024-04-10: between assignment and answer.
pub(crate) const HANDLING_AT: &str = "2024-04-10T10:00:00+08:00";
pub(crate) const HANDLING_ON: Date = date(2024, 4, 10);
/// Monday 2024-08-05: a reopening, a month after closing.
pub(crate) const REOPENED_AT: &str = "2024-08-05T09:00:00+08:00";
/// 2024-08-05 + 1 month = Thursday 2024-09-05.
pub(crate) const REOPENED_DUE: Date = date(2024, 9, 5);
pub(crate) const LEAD_UNIT: &str = "执行局";
pub(crate) const CO_UNIT: &str = "立案庭";

pub(crate) const TRIAGE_DUE: Date = date(2024, 3, 12);
pub(crate) const ASSIGNED_ON: Date = date(2024, 3, 5);
pub(crate) const ANSWER_DUE: Date = date(2024, 6, 5);
pub(crate) const CO_VIEW_DUE: Date = date(2024, 4, 7);
pub(crate) const ANSWERED_ON: Date = date(2024, 5, 20);
pub(crate) const REHANDLING_DUE: Date = date(2024, 6, 25);

/// A test framework with the default deadline rules.
pub(crate) fn item_test() -> ItemTest {
    ItemTest::with(Rules::default())
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
        facts: Default::default(),
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
        facts: Default::default(),
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

/// A test framework whose rules require a contact before the answer.
pub(crate) fn item_test_requiring_contact() -> ItemTest {
    ItemTest::with(Rules {
        require_contact_before_answer: true,
        ..Rules::default()
    })
}

pub(crate) fn acknowledge(unit: &str) -> ItemCommand {
    let data = AcknowledgeItem {
        item_id: ITEM.into(),
        unit: unit.into(),
    };
    command(
        Role::Handler,
        HANDLING_AT,
        ItemAction::AcknowledgeItem(data),
    )
}

pub(crate) fn acknowledged(round: u32, unit: &str) -> ItemEvent {
    ItemEvent::ItemAcknowledged {
        item_id: ITEM.into(),
        round,
        unit: unit.into(),
        acknowledged_on: HANDLING_ON,
    }
}

pub(crate) fn contact_data(deputy_id: &str) -> RecordContact {
    RecordContact {
        item_id: ITEM.into(),
        deputy_id: deputy_id.into(),
        channel: ContactChannel::InPerson,
        stage: ContactStage::Before,
        summary: "当面听取代表意见".into(),
    }
}

pub(crate) fn contact(role: Role, data: RecordContact) -> ItemCommand {
    command(role, HANDLING_AT, ItemAction::RecordContact(data))
}

pub(crate) fn contacted(round: u32, deputy_id: &str) -> ItemEvent {
    ItemEvent::ContactRecorded {
        item_id: ITEM.into(),
        round,
        deputy_id: deputy_id.into(),
        channel: ContactChannel::InPerson,
        stage: ContactStage::Before,
        summary: "当面听取代表意见".into(),
        contacted_on: HANDLING_ON,
    }
}

pub(crate) fn co_view(unit: &str, view: &str) -> ItemCommand {
    let data = SubmitCoView {
        item_id: ITEM.into(),
        unit: unit.into(),
        view: view.into(),
    };
    command(Role::Handler, HANDLING_AT, ItemAction::SubmitCoView(data))
}

pub(crate) fn progress(role: Role, summary: &str) -> ItemCommand {
    let data = ReportProgress {
        item_id: ITEM.into(),
        summary: summary.into(),
    };
    command(role, HANDLING_AT, ItemAction::ReportProgress(data))
}

pub(crate) fn request_extension(until: Date) -> ItemCommand {
    let data = RequestExtension {
        item_id: ITEM.into(),
        until,
        reason: "需待执行财产处置完毕后答复".into(),
    };
    command(
        Role::Leader,
        HANDLING_AT,
        ItemAction::RequestExtension(data),
    )
}

pub(crate) fn extension_requested(until: Date) -> ItemEvent {
    ItemEvent::ExtensionRequested {
        item_id: ITEM.into(),
        round: 1,
        until,
        reason: "需待执行财产处置完毕后答复".into(),
        due: ANSWER_DUE,
    }
}

pub(crate) fn decide_extension(approve: bool) -> ItemCommand {
    let data = DecideExtension {
        item_id: ITEM.into(),
        approve,
        note: String::new(),
    };
    command(
        Role::Liaison,
        HANDLING_AT,
        ItemAction::DecideExtension(data),
    )
}

pub(crate) fn extension_decided(approved: bool, until: Date) -> ItemEvent {
    ItemEvent::ExtensionDecided {
        item_id: ITEM.into(),
        round: 1,
        approved,
        until,
        note: String::new(),
        due: if approved { until } else { ANSWER_DUE },
    }
}

pub(crate) fn reclassify(class: AnswerClass) -> ItemCommand {
    let data = ReclassifyAnswer {
        item_id: ITEM.into(),
        class,
        reason: "答复内容与A类标准不符".into(),
    };
    command(Role::Liaison, LATER_AT, ItemAction::ReclassifyAnswer(data))
}

pub(crate) fn withdraw(reason: &str) -> ItemCommand {
    let data = WithdrawItem {
        item_id: ITEM.into(),
        reason: reason.into(),
    };
    command(Role::Liaison, HANDLING_AT, ItemAction::WithdrawItem(data))
}

pub(crate) fn withdrawn(reason: &str) -> ItemEvent {
    ItemEvent::ItemWithdrawn {
        item_id: ITEM.into(),
        reason: reason.into(),
    }
}

pub(crate) fn reopen(reason: &str) -> ItemCommand {
    let data = ReopenItem {
        item_id: ITEM.into(),
        reason: reason.into(),
    };
    command(Role::Liaison, REOPENED_AT, ItemAction::ReopenItem(data))
}

pub(crate) fn reopened(round: u32) -> ItemEvent {
    ItemEvent::ItemReopened {
        item_id: ITEM.into(),
        round,
        reason: "代表反映承诺未落实".into(),
        answer_due: REOPENED_DUE,
    }
}
