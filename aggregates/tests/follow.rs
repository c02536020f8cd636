//! Case follows (一人一案), given / when / then.

use aggregates::actor::{Actor, Role};
use aggregates::command::Command;
use aggregates::error::{ErrorCode, Refusal};
use aggregates::follow::{
    EndCaseFollow, EnforcementActionKind, Follow, FollowAction, FollowError, FollowEvent,
    FollowOutcome, PersonRef, RecordEnforcementAction, RecordFollowEvaluation, RecordMediation,
    RecordRecovery, StartCaseFollow,
};
use aggregates::item::Rating;
use aggregates::rules::Rules;
use aggregates::validate::FieldError;
use cqrs_es::test::TestFramework;
use jiff::civil::{date, Date};

const FOLLOW: &str = "2024-F-001";
const DEPUTY: &str = "d-001";
const AT: &str = "2024-04-10T10:00:00+08:00";
const ON: Date = date(2024, 4, 10);

fn test() -> TestFramework<Follow> {
    TestFramework::with(Rules::default())
}

fn by(actor: &str, role: Role, action: FollowAction) -> Command<FollowAction> {
    Command {
        actor: Actor {
            id: actor.into(),
            role,
        },
        at: AT.parse().expect("a time"),
        action,
    }
}

fn start_data() -> StartCaseFollow {
    StartCaseFollow {
        follow_id: FOLLOW.into(),
        case_no: "(2024)粤0101执123号".into(),
        deputy: PersonRef {
            id: DEPUTY.into(),
            name: "王芳".into(),
        },
        judge: PersonRef {
            id: "j-01".into(),
            name: "李法官".into(),
        },
    }
}

fn started() -> FollowEvent {
    let data = start_data();
    FollowEvent::CaseFollowStarted {
        follow_id: data.follow_id,
        case_no: data.case_no,
        deputy: data.deputy,
        judge: data.judge,
        started_on: ON,
    }
}

fn action(kind: EnforcementActionKind, deputy_present: bool) -> FollowAction {
    FollowAction::RecordEnforcementAction(RecordEnforcementAction {
        follow_id: FOLLOW.into(),
        kind,
        summary: "查封被执行人房产一处".into(),
        deputy_present,
    })
}

fn recovery(amount: &str) -> FollowAction {
    FollowAction::RecordRecovery(RecordRecovery {
        follow_id: FOLLOW.into(),
        amount: amount.into(),
        summary: "执行款到账".into(),
    })
}

fn evaluation() -> FollowAction {
    FollowAction::RecordFollowEvaluation(RecordFollowEvaluation {
        follow_id: FOLLOW.into(),
        rating: Rating::Satisfied,
        comment: "执行规范".into(),
    })
}

fn end() -> FollowAction {
    FollowAction::EndCaseFollow(EndCaseFollow {
        follow_id: FOLLOW.into(),
        outcome: FollowOutcome::Enforced,
        summary: "执行完毕".into(),
    })
}

fn ended() -> FollowEvent {
    FollowEvent::CaseFollowEnded {
        follow_id: FOLLOW.into(),
        outcome: FollowOutcome::Enforced,
        summary: "执行完毕".into(),
        ended_on: ON,
    }
}

fn invalid(error: FieldError) -> FollowError {
    FollowError::InvalidField {
        follow_id: FOLLOW.into(),
        error,
    }
}

#[test]
fn start_case_follow_by_court_office_or_liaison() {
    for role in [Role::CourtOffice, Role::Liaison] {
        test()
            .given_no_previous_events()
            .when(by("o-1", role, FollowAction::StartCaseFollow(start_data())))
            .then_expect_events(vec![started()]);
    }
}

#[test]
fn every_follow_command_is_forbidden_to_the_roles_the_table_leaves_out() {
    let ready: Vec<(Vec<FollowEvent>, FollowAction)> = vec![
        (vec![], FollowAction::StartCaseFollow(start_data())),
        (
            vec![started()],
            action(EnforcementActionKind::Seizure, true),
        ),
        (vec![started()], recovery("1")),
        (vec![started()], evaluation()),
        (vec![started()], end()),
    ];
    for (given, follow_action) in ready {
        let name = follow_action.type_name();
        let allowed = aggregates::access::allowed_roles(name);
        for role in Role::ALL {
            let result = test()
                .given(given.clone())
                .when(by(DEPUTY, role, follow_action.clone()))
                .inspect_result();
            if allowed.contains(&role) {
                assert!(result.is_ok(), "{role} may {name}: {result:?}");
            } else {
                assert_eq!(
                    result,
                    Err(FollowError::RoleNotAllowed {
                        follow_id: FOLLOW.into(),
                        action: name,
                        role
                    })
                );
            }
        }
    }
}

#[test]
fn start_case_follow_refused_when_already_started_and_with_bad_fields() {
    test()
        .given(vec![started()])
        .when(by(
            "o-1",
            Role::CourtOffice,
            FollowAction::StartCaseFollow(start_data()),
        ))
        .then_expect_error(FollowError::AlreadyStarted {
            follow_id: FOLLOW.into(),
        });
    let mut data = start_data();
    data.judge.id = "李 法官".into();
    test()
        .given_no_previous_events()
        .when(by(
            "o-1",
            Role::CourtOffice,
            FollowAction::StartCaseFollow(data),
        ))
        .then_expect_error(invalid(FieldError::BadId {
            field: "judge.id".into(),
        }));
    let data = StartCaseFollow {
        case_no: String::new(),
        ..start_data()
    };
    test()
        .given_no_previous_events()
        .when(by(
            "o-1",
            Role::CourtOffice,
            FollowAction::StartCaseFollow(data),
        ))
        .then_expect_error(invalid(FieldError::Empty {
            field: "case_no".into(),
        }));
}

#[test]
fn enforcement_action_with_the_deputy_present_is_a_witnessed_action() {
    test()
        .given(vec![started()])
        .when(by(
            "h-1",
            Role::Handler,
            action(EnforcementActionKind::OnSite, true),
        ))
        .then_expect_events(vec![FollowEvent::EnforcementActionRecorded {
            follow_id: FOLLOW.into(),
            kind: EnforcementActionKind::OnSite,
            summary: "查封被执行人房产一处".into(),
            deputy_present: true,
            acted_on: ON,
        }]);
}

#[test]
fn commands_on_a_follow_never_started_are_not_found() {
    for follow_action in [
        action(EnforcementActionKind::Search, false),
        recovery("1"),
        end(),
    ] {
        let role = aggregates::access::allowed_roles(follow_action.type_name())[0];
        test()
            .given_no_previous_events()
            .when(by("x-1", role, follow_action))
            .then_expect_error(FollowError::NotStarted {
                follow_id: FOLLOW.into(),
            });
    }
}

#[test]
fn mediation_is_logged_settled_or_not() {
    for settled in [true, false] {
        let mediation = FollowAction::RecordMediation(RecordMediation {
            follow_id: FOLLOW.into(),
            settled,
            summary: "组织双方调解".into(),
        });
        test()
            .given(vec![started()])
            .when(by("h-1", Role::Handler, mediation))
            .then_expect_events(vec![FollowEvent::MediationRecorded {
                follow_id: FOLLOW.into(),
                settled,
                summary: "组织双方调解".into(),
                mediated_on: ON,
            }]);
    }
}

#[test]
fn recovery_keeps_the_amount_in_fen_and_adds_up_the_total() {
    let first = test()
        .given(vec![started()])
        .when(by("h-1", Role::Handler, recovery("20000000")))
        .inspect_result()
        .expect("recorded");
    let FollowEvent::RecoveryRecorded {
        amount,
        recovered_total,
        ..
    } = &first[0]
    else {
        panic!("a recovery: {first:?}");
    };
    assert_eq!(amount.to_string(), "20000000.00");
    assert_eq!(recovered_total.fen(), 2_000_000_000);
    let second = test()
        .given(vec![started(), first[0].clone()])
        .when(by("h-1", Role::Handler, recovery("0.5")))
        .inspect_result()
        .expect("recorded");
    let FollowEvent::RecoveryRecorded {
        recovered_total, ..
    } = &second[0]
    else {
        panic!("a recovery: {second:?}");
    };
    assert_eq!(recovered_total.to_string(), "20000000.50");
    let json = serde_json::to_value(&second[0]).expect("serialises");
    assert_eq!(json["data"]["amount"], "0.50", "money is a decimal string");
}

#[test]
fn recovery_refuses_negative_zero_float_and_over_precise_amounts() {
    for bad in ["-100", "0", "1.234", "1e5", "12,000", ""] {
        test()
            .given(vec![started()])
            .when(by("h-1", Role::Handler, recovery(bad)))
            .then_expect_error(invalid(FieldError::BadAmount {
                field: "amount".into(),
                value: bad.into(),
            }));
    }
}

#[test]
fn recovery_refused_when_the_total_would_pass_the_limit() {
    let big = test()
        .given(vec![started()])
        .when(by("h-1", Role::Handler, recovery("100000000000")))
        .inspect_result()
        .expect("the limit itself is allowed");
    let error = test()
        .given(vec![started(), big[0].clone()])
        .when(by("h-1", Role::Handler, recovery("0.01")))
        .inspect_result()
        .expect_err("over the limit");
    assert!(matches!(error, FollowError::RecoveredTotalTooLarge { .. }));
    assert_eq!(error.code(), ErrorCode::Invalid);
}

#[test]
fn evaluation_by_the_following_deputy_or_by_the_liaison_on_their_behalf() {
    test()
        .given(vec![started()])
        .when(by(DEPUTY, Role::Deputy, evaluation()))
        .then_expect_events(vec![FollowEvent::FollowEvaluated {
            follow_id: FOLLOW.into(),
            rating: Rating::Satisfied,
            comment: "执行规范".into(),
            deputy_id: DEPUTY.into(),
            on_behalf: false,
        }]);
    test()
        .given(vec![started(), ended()])
        .when(by("liaison-01", Role::Liaison, evaluation()))
        .then_expect_events(vec![FollowEvent::FollowEvaluated {
            follow_id: FOLLOW.into(),
            rating: Rating::Satisfied,
            comment: "执行规范".into(),
            deputy_id: DEPUTY.into(),
            on_behalf: true,
        }]);
}

#[test]
fn evaluation_refused_for_another_deputy() {
    test()
        .given(vec![started()])
        .when(by("d-999", Role::Deputy, evaluation()))
        .then_expect_error(FollowError::NotFollowDeputy {
            follow_id: FOLLOW.into(),
            deputy_id: "d-999".into(),
        });
}

#[test]
fn an_ended_follow_takes_no_more_actions_and_cannot_end_twice() {
    for follow_action in [
        action(EnforcementActionKind::Auction, false),
        recovery("1"),
        end(),
    ] {
        let name = follow_action.type_name();
        let role = aggregates::access::allowed_roles(name)[0];
        test()
            .given(vec![started(), ended()])
            .when(by("x-1", role, follow_action))
            .then_expect_error(FollowError::FollowEnded {
                follow_id: FOLLOW.into(),
                action: name,
            });
    }
}

#[test]
fn end_case_follow_records_its_outcome_and_needs_a_summary() {
    test()
        .given(vec![started()])
        .when(by("o-1", Role::CourtOffice, end()))
        .then_expect_events(vec![ended()]);
    let blank = FollowAction::EndCaseFollow(EndCaseFollow {
        follow_id: FOLLOW.into(),
        outcome: FollowOutcome::Settled,
        summary: " ".into(),
    });
    test()
        .given(vec![started()])
        .when(by("o-1", Role::CourtOffice, blank))
        .then_expect_error(invalid(FieldError::Empty {
            field: "summary".into(),
        }));
}

#[test]
fn a_command_naming_another_follow_is_invalid() {
    let other = FollowAction::EndCaseFollow(EndCaseFollow {
        follow_id: "2024-F-002".into(),
        outcome: FollowOutcome::Other,
        summary: "x".into(),
    });
    test()
        .given(vec![started()])
        .when(by("o-1", Role::CourtOffice, other))
        .then_expect_error(FollowError::FollowIdMismatch {
            follow_id: FOLLOW.into(),
            command_follow_id: "2024-F-002".into(),
        });
}

#[test]
fn follow_errors_have_codes_and_chinese_messages() {
    let error = FollowError::FollowEnded {
        follow_id: FOLLOW.into(),
        action: "RecordRecovery",
    };
    assert_eq!(error.code(), ErrorCode::WrongState);
    assert!(error.message_zh().contains("已结束"));
    assert!(error.to_string().contains("has ended"));
}

#[test]
fn evaluation_refuses_a_comment_over_the_limit() {
    use aggregates::validate::TEXT_CHARS_MAX;
    let long = FollowAction::RecordFollowEvaluation(RecordFollowEvaluation {
        follow_id: FOLLOW.into(),
        rating: Rating::Unsatisfied,
        comment: "回".repeat(TEXT_CHARS_MAX + 1),
    });
    test()
        .given(vec![started()])
        .when(by(DEPUTY, Role::Deputy, long))
        .then_expect_error(invalid(FieldError::TooLong {
            field: "comment".into(),
            chars: TEXT_CHARS_MAX + 1,
            chars_max: TEXT_CHARS_MAX,
        }));
}

#[test]
fn enforcement_action_and_mediation_need_a_summary() {
    let blank_action = FollowAction::RecordEnforcementAction(RecordEnforcementAction {
        follow_id: FOLLOW.into(),
        kind: EnforcementActionKind::Other,
        summary: String::new(),
        deputy_present: false,
    });
    let blank_mediation = FollowAction::RecordMediation(RecordMediation {
        follow_id: FOLLOW.into(),
        settled: false,
        summary: String::new(),
    });
    for follow_action in [blank_action, blank_mediation] {
        test()
            .given(vec![started()])
            .when(by("h-1", Role::Handler, follow_action))
            .then_expect_error(invalid(FieldError::Empty {
                field: "summary".into(),
            }));
    }
}
