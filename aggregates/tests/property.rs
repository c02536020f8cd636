//! Random command sequences against the item aggregate (proptest), checking the invariants:
//! a closed item was reconciled and its last round answered and not rated unsatisfied; every
//! due date is a working day; a refused command emits no event and changes nothing; replaying
//! the emitted events rebuilds the same state.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use aggregates::actor::{Actor, Role};
use aggregates::item::{
    AcknowledgeItem, AnswerClass, AnswerItem, AssignItem, CloseItem, Commitment, ContactChannel,
    ContactStage, DecideExtension, Deputy, FileItem, FulfilCommitment, Item, ItemAction,
    ItemCommand, ItemEvent, ItemFacts, ItemKind, ItemStatus, Leader, LeaderLevel, LinkedItem,
    RateAnswer, Rating, ReclassifyAnswer, ReconcileItem, RecordContact, ReopenItem, ReportProgress,
    RequestExtension, SubmitCoView, TriageDecision, TriageItem, WithdrawItem,
};
use aggregates::rules::Rules;
use aggregates::time::BusinessTime;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use jiff::civil::{date, Date};
use jiff::ToSpan;
use proptest::prelude::*;

const ITEM: &str = "2024-P-001";
const UNITS: [&str; 3] = ["执行局", "立案庭", "审管办"];
const DEPUTIES: [&str; 3] = ["d-001", "d-002", "d-999"];

/// One step of a random history: what is asked, by whom, and how many days later.
#[derive(Debug, Clone)]
struct Step {
    op: Op,
    /// Index into the action's allowed roles (mostly), or into every role.
    role_pick: usize,
    any_role: bool,
    days_later: i64,
}

#[derive(Debug, Clone)]
enum Op {
    File {
        deliberation: bool,
        urgent: bool,
    },
    Triage {
        decision: usize,
        target_open: Option<bool>,
    },
    Assign {
        with_co_unit: bool,
    },
    Acknowledge {
        unit: usize,
    },
    Contact {
        deputy: usize,
    },
    CoView {
        unit: usize,
    },
    Progress,
    RequestExtension {
        days_after_due: i64,
    },
    DecideExtension {
        approve: bool,
    },
    Answer {
        class: usize,
        commitment: Option<u8>,
    },
    Reclassify {
        class: usize,
    },
    Rate {
        rating: usize,
        deputy: usize,
    },
    Fulfil {
        commitment: u8,
    },
    Reconcile,
    Close {
        open_child: bool,
    },
    Withdraw,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (any::<bool>(), any::<bool>())
            .prop_map(|(deliberation, urgent)| Op::File { deliberation, urgent }),
        1 => (0..4usize, proptest::option::of(any::<bool>()))
            .prop_map(|(decision, target_open)| Op::Triage { decision, target_open }),
        3 => Just(Op::Triage { decision: 0, target_open: None }),
        3 => any::<bool>().prop_map(|with_co_unit| Op::Assign { with_co_unit }),
        1 => (0..3usize).prop_map(|unit| Op::Acknowledge { unit }),
        1 => (0..3usize).prop_map(|deputy| Op::Contact { deputy }),
        1 => (0..3usize).prop_map(|unit| Op::CoView { unit }),
        1 => Just(Op::Progress),
        1 => (-5..200i64).prop_map(|days_after_due| Op::RequestExtension { days_after_due }),
        1 => any::<bool>().prop_map(|approve| Op::DecideExtension { approve }),
        4 => ((0..4usize), proptest::option::of(0..3u8))
            .prop_map(|(class, commitment)| Op::Answer { class, commitment }),
        1 => (0..4usize).prop_map(|class| Op::Reclassify { class }),
        4 => ((0..4usize), (0..3usize)).prop_map(|(rating, deputy)| Op::Rate { rating, deputy }),
        1 => (0..3u8).prop_map(|commitment| Op::Fulfil { commitment }),
        3 => Just(Op::Reconcile),
        3 => any::<bool>().prop_map(|open_child| Op::Close { open_child }),
        1 => Just(Op::Withdraw),
        1 => Just(Op::Reopen),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (op(), 0..3usize, prop::bool::weighted(0.1), 0..25i64).prop_map(
        |(op, role_pick, any_role, days_later)| Step {
            op,
            role_pick,
            any_role,
            days_later,
        },
    )
}

const CLASSES: [AnswerClass; 4] = [
    AnswerClass::A,
    AnswerClass::B,
    AnswerClass::C,
    AnswerClass::D,
];
const RATINGS: [Rating; 4] = [
    Rating::Satisfied,
    Rating::BasicallySatisfied,
    Rating::Unsatisfied,
    Rating::NoResponse,
];

fn text(value: &str) -> String {
    value.to_owned()
}

/// The action and facts of `op`, for an item whose due date in force is `due`.
fn action_of(op: &Op, due: Option<Date>, answers: usize) -> (ItemAction, ItemFacts) {
    let id = || ITEM.to_owned();
    let mut facts = ItemFacts::default();
    let action = match op {
        Op::File {
            deliberation,
            urgent,
        } => ItemAction::FileItem(FileItem {
            item_id: id(),
            kind: if *deliberation {
                ItemKind::DeliberationOpinion
            } else {
                ItemKind::Suggestion
            },
            title: text("关于执行工作的建议"),
            body: text("正文"),
            deputies: vec![
                Deputy {
                    id: text(DEPUTIES[0]),
                    name: text("王芳"),
                    lead: true,
                },
                Deputy {
                    id: text(DEPUTIES[1]),
                    name: text("李建国"),
                    lead: false,
                },
            ],
            urgent: *urgent,
            cases: vec![],
            parent_id: None,
        }),
        Op::Triage {
            decision,
            target_open,
        } => {
            let decision = [
                TriageDecision::Accept,
                TriageDecision::Return,
                TriageDecision::Redirect,
                TriageDecision::Merge,
            ][*decision];
            facts.merge_target = target_open.map(|open| LinkedItem {
                kind: ItemKind::Suggestion,
                status: if open {
                    ItemStatus::Assigned
                } else {
                    ItemStatus::Closed
                },
            });
            ItemAction::TriageItem(TriageItem {
                item_id: id(),
                decision,
                reason: text("理由"),
                target_item_id: (decision == TriageDecision::Merge).then(|| text("2024-P-002")),
                redirect_to: (decision == TriageDecision::Redirect).then(|| text("区政府")),
            })
        }
        Op::Assign { with_co_unit } => ItemAction::AssignItem(AssignItem {
            item_id: id(),
            lead_unit: text(UNITS[0]),
            co_units: if *with_co_unit {
                vec![text(UNITS[1])]
            } else {
                vec![]
            },
            leader: Leader {
                id: text("l-1"),
                name: text("陈立新"),
                level: LeaderLevel::President,
            },
        }),
        Op::Acknowledge { unit } => ItemAction::AcknowledgeItem(AcknowledgeItem {
            item_id: id(),
            unit: text(UNITS[*unit]),
        }),
        Op::Contact { deputy } => ItemAction::RecordContact(RecordContact {
            item_id: id(),
            deputy_id: text(DEPUTIES[*deputy]),
            channel: ContactChannel::InPerson,
            stage: ContactStage::During,
            summary: text("面商"),
        }),
        Op::CoView { unit } => ItemAction::SubmitCoView(SubmitCoView {
            item_id: id(),
            unit: text(UNITS[*unit]),
            view: text("意见"),
        }),
        Op::Progress => ItemAction::ReportProgress(ReportProgress {
            item_id: id(),
            summary: text("进展"),
        }),
        Op::RequestExtension { days_after_due } => {
            let base = due.unwrap_or(date(2024, 1, 1));
            ItemAction::RequestExtension(RequestExtension {
                item_id: id(),
                until: base.checked_add(days_after_due.days()).unwrap_or(base),
                reason: text("理由"),
            })
        }
        Op::DecideExtension { approve } => ItemAction::DecideExtension(DecideExtension {
            item_id: id(),
            approve: *approve,
            note: String::new(),
        }),
        Op::Answer { class, commitment } => ItemAction::AnswerItem(AnswerItem {
            item_id: id(),
            class: CLASSES[*class],
            text: text("答复"),
            doc_no: None,
            public: true,
            commitments: commitment
                .map(|_| Commitment {
                    id: format!("c-{answers}"),
                    text: text("承诺"),
                    due: date(2025, 6, 30),
                })
                .into_iter()
                .collect(),
        }),
        Op::Reclassify { class } => ItemAction::ReclassifyAnswer(ReclassifyAnswer {
            item_id: id(),
            class: CLASSES[*class],
            reason: text("理由"),
        }),
        Op::Rate { rating, .. } => ItemAction::RateAnswer(RateAnswer {
            item_id: id(),
            rating: RATINGS[*rating],
            comment: String::new(),
            deputy_id: None,
        }),
        Op::Fulfil { commitment } => ItemAction::FulfilCommitment(FulfilCommitment {
            item_id: id(),
            commitment_id: format!("c-{commitment}"),
            note: String::new(),
        }),
        Op::Reconcile => ItemAction::ReconcileItem(ReconcileItem {
            item_id: id(),
            note: String::new(),
        }),
        Op::Close { open_child } => {
            if *open_child {
                facts.open_child_ids = vec![text("2024-P-009")];
            }
            ItemAction::CloseItem(CloseItem {
                item_id: id(),
                note: String::new(),
            })
        }
        Op::Withdraw => ItemAction::WithdrawItem(WithdrawItem {
            item_id: id(),
            reason: text("撤回"),
        }),
        Op::Reopen => ItemAction::ReopenItem(ReopenItem {
            item_id: id(),
            reason: text("重启"),
        }),
    };
    (action, facts)
}

/// Runs a future that never waits (the event sink's lock is never contended here).
fn run_now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("handle waited on something"),
    }
}

fn actor_for(step: &Step, action: &ItemAction) -> Actor {
    let allowed = aggregates::access::allowed_roles(action.type_name());
    let role = if step.any_role {
        Role::ALL[step.role_pick * 2 % Role::ALL.len()]
    } else {
        allowed[step.role_pick % allowed.len()]
    };
    let id = match (&step.op, role) {
        (Op::Rate { deputy, .. }, Role::Deputy) => DEPUTIES[*deputy],
        (_, Role::Deputy) => DEPUTIES[0],
        _ => "staff-01",
    };
    Actor {
        id: id.to_owned(),
        role,
    }
}

/// Checks what a closed item's history must show.
fn check_closed(history: &[ItemEvent], round: u32) -> Result<(), TestCaseError> {
    let last_answer = history.iter().rposition(|event| {
        matches!(event, ItemEvent::ItemAnswered { round: answered, .. } if *answered == round)
    });
    prop_assert!(
        last_answer.is_some(),
        "closed without an answer in round {round}"
    );
    let last_answer = last_answer.unwrap_or_default();
    let rating = history.iter().rev().find_map(|event| match event {
        ItemEvent::AnswerRated {
            round: rated,
            rating,
            ..
        } if *rated == round => Some(*rating),
        _ => None,
    });
    prop_assert!(rating.is_some(), "closed without a rating in round {round}");
    prop_assert_ne!(rating, Some(Rating::Unsatisfied));
    let reconciled = history[last_answer..]
        .iter()
        .any(|event| matches!(event, ItemEvent::ItemReconciled { .. }));
    prop_assert!(
        reconciled,
        "closed without reconciliation after the last answer"
    );
    Ok(())
}

fn replay(history: &[ItemEvent]) -> Item {
    let mut item = Item::default();
    for event in history {
        item.apply(event.clone());
    }
    item
}

fn check_sequence(
    start: Date,
    require_contact: bool,
    steps: Vec<Step>,
) -> Result<(), TestCaseError> {
    let rules = Rules {
        require_contact_before_answer: require_contact,
        ..Rules::default()
    };
    let calendar = &rules.deadlines.calendar;
    let mut item = Item::default();
    let mut history: Vec<ItemEvent> = Vec::new();
    let mut today = start;
    let mut answers = 0;
    for step in steps {
        today = today.checked_add(step.days_later.days()).unwrap_or(today);
        let (action, facts) = action_of(&step.op, item.due(), answers);
        let at: BusinessTime = format!("{today}T10:00:00+08:00").parse().expect("a time");
        let command = ItemCommand {
            actor: actor_for(&step, &action),
            at,
            action,
            facts,
        };
        let decided = item.decide(&command, &rules);
        let before = item.clone();
        let sink = EventSink::default();
        let handled = run_now(item.handle(command, &rules, &sink));
        let emitted = run_now(sink.collect());
        match handled {
            Err(error) => {
                prop_assert!(
                    emitted.is_empty(),
                    "refused ({error}) yet emitted {emitted:?}"
                );
                prop_assert_eq!(&item, &before, "a refusal changed the state");
                prop_assert_eq!(decided, Err(error));
            }
            Ok(()) => {
                prop_assert!(!emitted.is_empty());
                prop_assert_eq!(decided, Ok(emitted.clone()));
                for due in emitted.iter().flat_map(ItemEvent::due_dates) {
                    prop_assert!(calendar.is_working_day(due), "due {due} is a day off");
                }
                answers += emitted
                    .iter()
                    .filter(|event| matches!(event, ItemEvent::ItemAnswered { .. }))
                    .count();
                history.extend(emitted);
            }
        }
        if item.status() == Some(ItemStatus::Closed) {
            check_closed(&history, item.round())?;
        }
        prop_assert_eq!(&replay(&history), &item, "replay differs");
    }
    Ok(())
}

/// The orderly spine of a random history.
const LIFECYCLE: [Op; 14] = [
    Op::Triage {
        decision: 0,
        target_open: None,
    },
    Op::Assign { with_co_unit: true },
    Op::Contact { deputy: 0 },
    Op::Answer {
        class: 1,
        commitment: None,
    },
    Op::Rate {
        rating: 0,
        deputy: 0,
    },
    Op::Answer {
        class: 0,
        commitment: None,
    },
    Op::Rate {
        rating: 0,
        deputy: 1,
    },
    Op::Reconcile,
    Op::Close { open_child: false },
    Op::Reopen,
    Op::Answer {
        class: 2,
        commitment: None,
    },
    Op::Rate {
        rating: 0,
        deputy: 0,
    },
    Op::Reconcile,
    Op::Close { open_child: false },
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_keep_the_item_invariants(
        start_day in 0..3000i64,
        require_contact in any::<bool>(),
        noise in prop::collection::vec(prop::collection::vec(step(), 0..3), LIFECYCLE.len()),
        ratings in prop::collection::vec(0..4usize, LIFECYCLE.len()),
    ) {
        let start = date(2017, 1, 1).checked_add(start_day.days()).expect("within range");
        // Most histories start with filing, so that the later commands have an item to act on.
        let file = Step {
            op: Op::File { deliberation: start_day % 3 == 0, urgent: start_day % 4 == 0 },
            role_pick: 0,
            any_role: false,
            days_later: 0,
        };
        // The lifecycle's steps, each followed by a few random ones: random enough to break the
        // rules in every way, orderly enough to reach closing (and reopening) often.
        let mut steps = vec![file];
        for ((op, extra), rating) in LIFECYCLE.iter().zip(noise).zip(ratings) {
            let op = match op {
                Op::Rate { deputy, .. } => Op::Rate { rating, deputy: *deputy },
                other => other.clone(),
            };
            steps.push(Step { op, role_pick: rating, any_role: false, days_later: 5 });
            steps.extend(extra);
        }
        check_sequence(start, require_contact, steps)?;
    }
}

#[test]
fn a_directed_sequence_reaches_closing_so_the_invariant_is_exercised() {
    let plain = |op| Step {
        op,
        role_pick: 0,
        any_role: false,
        days_later: 3,
    };
    let steps = vec![
        plain(Op::File {
            deliberation: false,
            urgent: false,
        }),
        plain(Op::Triage {
            decision: 0,
            target_open: None,
        }),
        plain(Op::Assign { with_co_unit: true }),
        plain(Op::Answer {
            class: 1,
            commitment: None,
        }),
        plain(Op::Rate {
            rating: 2,
            deputy: 0,
        }),
        plain(Op::Answer {
            class: 0,
            commitment: None,
        }),
        plain(Op::Rate {
            rating: 0,
            deputy: 0,
        }),
        plain(Op::Reconcile),
        plain(Op::Close { open_child: false }),
    ];
    let mut steps_with_leader = steps;
    // Closing needs the leader: the second allowed role pick is still the leader.
    steps_with_leader
        .iter_mut()
        .for_each(|step| step.role_pick = 0);
    check_sequence(date(2024, 3, 1), false, steps_with_leader).expect("invariants hold");
}

mod follows {
    //! Random command sequences against a case follow: refusals emit and change nothing,
    //! replay rebuilds the state, the running total is the sum of the recoveries, and nothing
    //! but evaluations follows the end.

    use aggregates::actor::{Actor, Role};
    use aggregates::command::Command;
    use aggregates::follow::{
        EndCaseFollow, EnforcementActionKind, Follow, FollowAction, FollowEvent, FollowOutcome,
        PersonRef, RecordEnforcementAction, RecordFollowEvaluation, RecordMediation,
        RecordRecovery, StartCaseFollow,
    };
    use aggregates::item::Rating;
    use aggregates::rules::Rules;
    use cqrs_es::event_sink::EventSink;
    use cqrs_es::Aggregate;
    use proptest::prelude::*;

    use super::run_now;

    const FOLLOW: &str = "2024-F-001";

    fn action(pick: u8, amount: &str) -> FollowAction {
        let id = || FOLLOW.to_owned();
        match pick % 6 {
            0 => FollowAction::StartCaseFollow(StartCaseFollow {
                follow_id: id(),
                case_no: "(2024)执1号".into(),
                deputy: PersonRef {
                    id: "d-1".into(),
                    name: "王芳".into(),
                },
                judge: PersonRef {
                    id: "j-1".into(),
                    name: "李法官".into(),
                },
            }),
            1 => FollowAction::RecordEnforcementAction(RecordEnforcementAction {
                follow_id: id(),
                kind: EnforcementActionKind::Seizure,
                summary: "查封".into(),
                deputy_present: pick % 2 == 0,
            }),
            2 => FollowAction::RecordMediation(RecordMediation {
                follow_id: id(),
                settled: pick % 2 == 0,
                summary: "调解".into(),
            }),
            3 => FollowAction::RecordRecovery(RecordRecovery {
                follow_id: id(),
                amount: amount.to_owned(),
                summary: "执行款".into(),
            }),
            4 => FollowAction::RecordFollowEvaluation(RecordFollowEvaluation {
                follow_id: id(),
                rating: Rating::Satisfied,
                comment: String::new(),
            }),
            _ => FollowAction::EndCaseFollow(EndCaseFollow {
                follow_id: id(),
                outcome: FollowOutcome::Enforced,
                summary: "结束".into(),
            }),
        }
    }

    fn amount() -> impl Strategy<Value = String> {
        prop_oneof![
            (1..100_000_000u64).prop_map(|fen| format!("{}.{:02}", fen / 100, fen % 100)),
            Just("-1".to_owned()),
            Just("1.234".to_owned()),
            Just("100000000000".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_follow_sequences_keep_the_follow_invariants(
            steps in prop::collection::vec((0..6u8, amount(), 0..7usize), 1..40),
        ) {
            let rules = Rules::default();
            let mut follow = Follow::default();
            let mut history: Vec<FollowEvent> = Vec::new();
            let mut recovered_fen: u64 = 0;
            for (pick, amount, role) in steps {
                let command = Command {
                    actor: Actor { id: "d-1".into(), role: Role::ALL[role] },
                    at: "2024-04-10T10:00:00+08:00".parse().expect("a time"),
                    action: action(pick, &amount),
                };
                let ended_before = follow.ended() == Some(true);
                let before = follow.clone();
                let sink = EventSink::default();
                let handled = run_now(follow.handle(command, &rules, &sink));
                let emitted = run_now(sink.collect());
                match handled {
                    Err(_) => {
                        prop_assert!(emitted.is_empty());
                        prop_assert_eq!(&follow, &before);
                    }
                    Ok(()) => {
                        for event in &emitted {
                            if ended_before {
                                let evaluation = matches!(event, FollowEvent::FollowEvaluated { .. });
                                prop_assert!(evaluation, "{event:?} after the end");
                            }
                            if let FollowEvent::RecoveryRecorded { amount, recovered_total, .. } = event {
                                recovered_fen += amount.fen();
                                prop_assert_eq!(recovered_total.fen(), recovered_fen);
                            }
                        }
                        history.extend(emitted);
                    }
                }
                let mut replayed = Follow::default();
                for event in &history {
                    replayed.apply(event.clone());
                }
                prop_assert_eq!(&replayed, &follow);
            }
        }
    }
}
