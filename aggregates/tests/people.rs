//! Engagements and people, given / when / then.

use aggregates::actor::{Actor, Role};
use aggregates::command::Command;
use aggregates::engagement::{
    Engagement, EngagementAction, EngagementError, EngagementEvent, EngagementKind,
    RecordEngagement, ENGAGEMENT_DEPUTIES_MAX,
};
use aggregates::error::{ErrorCode, Refusal};
use aggregates::person::{
    AccessChange, Person, PersonAction, PersonError, PersonEvent, PersonKind, PersonLevel,
    RegisterPerson,
};
use aggregates::rules::Rules;
use aggregates::validate::FieldError;
use cqrs_es::test::TestFramework;
use jiff::civil::date;

const AT: &str = "2024-04-10T10:00:00+08:00";

fn by<A>(role: Role, action: A) -> Command<A> {
    Command {
        actor: Actor {
            id: "someone-01".into(),
            role,
        },
        at: AT.parse().expect("a time"),
        action,
    }
}

fn record(deputies: Vec<String>) -> EngagementAction {
    EngagementAction::RecordEngagement(RecordEngagement {
        engagement_id: "2024-E-001".into(),
        kind: EngagementKind::Forum,
        deputies,
        summary: "召开代表座谈会".into(),
    })
}

fn engagements() -> TestFramework<Engagement> {
    TestFramework::with(Rules::default())
}

fn recorded() -> EngagementEvent {
    EngagementEvent::EngagementRecorded {
        engagement_id: "2024-E-001".into(),
        kind: EngagementKind::Forum,
        deputies: vec!["d-1".into(), "d-2".into()],
        summary: "召开代表座谈会".into(),
        held_on: date(2024, 4, 10),
    }
}

#[test]
fn record_engagement_by_court_office_or_liaison() {
    for role in [Role::CourtOffice, Role::Liaison] {
        engagements()
            .given_no_previous_events()
            .when(by(role, record(vec!["d-1".into(), "d-2".into()])))
            .then_expect_events(vec![recorded()]);
    }
}

#[test]
fn record_engagement_forbidden_to_other_roles() {
    for role in [
        Role::Handler,
        Role::Leader,
        Role::Deputy,
        Role::Auditor,
        Role::Admin,
    ] {
        engagements()
            .given_no_previous_events()
            .when(by(role, record(vec!["d-1".into()])))
            .then_expect_error(EngagementError::RoleNotAllowed {
                engagement_id: "2024-E-001".into(),
                action: "RecordEngagement",
                role,
            });
    }
}

#[test]
fn record_engagement_refused_twice() {
    engagements()
        .given(vec![recorded()])
        .when(by(Role::Liaison, record(vec!["d-1".into()])))
        .then_expect_error(EngagementError::AlreadyRecorded {
            engagement_id: "2024-E-001".into(),
        });
}

#[test]
fn record_engagement_checks_its_deputies() {
    let invalid = |error| EngagementError::InvalidField {
        engagement_id: "2024-E-001".into(),
        error,
    };
    let cases = [
        (
            vec![],
            FieldError::Empty {
                field: "deputies".into(),
            },
        ),
        (
            vec!["d-1".into(), "d-1".into()],
            FieldError::Repeated {
                field: "deputies".into(),
                value: "d-1".into(),
            },
        ),
        (
            vec!["王芳".into()],
            FieldError::BadId {
                field: "deputies[0]".into(),
            },
        ),
        (
            (0..=ENGAGEMENT_DEPUTIES_MAX)
                .map(|n| format!("d-{n}"))
                .collect(),
            FieldError::TooMany {
                field: "deputies".into(),
                count: ENGAGEMENT_DEPUTIES_MAX + 1,
                count_max: ENGAGEMENT_DEPUTIES_MAX,
            },
        ),
    ];
    for (deputies, error) in cases {
        engagements()
            .given_no_previous_events()
            .when(by(Role::Liaison, record(deputies)))
            .then_expect_error(invalid(error));
    }
}

fn people() -> TestFramework<Person> {
    TestFramework::with(Rules::default())
}

fn register(kind: PersonKind, level: Option<PersonLevel>) -> PersonAction {
    PersonAction::RegisterPerson(RegisterPerson {
        person_id: "d-wangfang".into(),
        name: "王芳".into(),
        kind,
        level,
        township: Some("城关镇".into()),
    })
}

fn registered() -> PersonEvent {
    PersonEvent::PersonRegistered {
        person_id: "d-wangfang".into(),
        name: "王芳".into(),
        kind: PersonKind::Deputy,
        level: Some(PersonLevel::County),
        township: Some("城关镇".into()),
    }
}

fn grant(role: Role) -> PersonAction {
    PersonAction::GrantAccess(AccessChange {
        person_id: "d-wangfang".into(),
        role,
    })
}

fn revoke(role: Role) -> PersonAction {
    PersonAction::RevokeAccess(AccessChange {
        person_id: "d-wangfang".into(),
        role,
    })
}

#[test]
fn register_person_by_admin_only() {
    people()
        .given_no_previous_events()
        .when(by(
            Role::Admin,
            register(PersonKind::Deputy, Some(PersonLevel::County)),
        ))
        .then_expect_events(vec![registered()]);
    for role in [Role::Liaison, Role::CourtOffice, Role::Auditor] {
        let error = people()
            .given_no_previous_events()
            .when(by(role, register(PersonKind::Deputy, None)))
            .inspect_result()
            .expect_err("only admins manage people");
        assert_eq!(error.code(), ErrorCode::Forbidden);
    }
}

#[test]
fn register_person_refused_twice_and_level_only_for_deputies_and_supervisors() {
    people()
        .given(vec![registered()])
        .when(by(Role::Admin, register(PersonKind::Deputy, None)))
        .then_expect_error(PersonError::AlreadyRegistered {
            person_id: "d-wangfang".into(),
        });
    people()
        .given_no_previous_events()
        .when(by(
            Role::Admin,
            register(PersonKind::Staff, Some(PersonLevel::County)),
        ))
        .then_expect_error(PersonError::LevelNotForKind {
            person_id: "d-wangfang".into(),
        });
}

#[test]
fn grant_and_revoke_access_are_recorded_and_checked_against_the_roles_held() {
    people()
        .given(vec![registered()])
        .when(by(Role::Admin, grant(Role::Deputy)))
        .then_expect_events(vec![PersonEvent::AccessGranted {
            person_id: "d-wangfang".into(),
            role: Role::Deputy,
        }]);
    let granted = PersonEvent::AccessGranted {
        person_id: "d-wangfang".into(),
        role: Role::Deputy,
    };
    people()
        .given(vec![registered(), granted.clone()])
        .when(by(Role::Admin, grant(Role::Deputy)))
        .then_expect_error(PersonError::RoleAlreadyHeld {
            person_id: "d-wangfang".into(),
            role: Role::Deputy,
        });
    people()
        .given(vec![registered(), granted])
        .when(by(Role::Admin, revoke(Role::Deputy)))
        .then_expect_events(vec![PersonEvent::AccessRevoked {
            person_id: "d-wangfang".into(),
            role: Role::Deputy,
        }]);
    people()
        .given(vec![registered()])
        .when(by(Role::Admin, revoke(Role::Leader)))
        .then_expect_error(PersonError::RoleNotHeld {
            person_id: "d-wangfang".into(),
            role: Role::Leader,
        });
}

#[test]
fn access_for_a_person_never_registered_is_not_found() {
    let error = people()
        .given_no_previous_events()
        .when(by(Role::Admin, grant(Role::Deputy)))
        .inspect_result()
        .expect_err("not registered");
    assert_eq!(
        error,
        PersonError::NotRegistered {
            person_id: "d-wangfang".into()
        }
    );
    assert_eq!(error.code(), ErrorCode::NotFound);
    assert!(error.message_zh().contains("尚未登记"));
}

#[test]
fn record_engagement_needs_a_summary() {
    let EngagementAction::RecordEngagement(mut data) = record(vec!["d-1".into()]);
    data.summary = " ".into();
    engagements()
        .given_no_previous_events()
        .when(by(Role::Liaison, EngagementAction::RecordEngagement(data)))
        .then_expect_error(EngagementError::InvalidField {
            engagement_id: "2024-E-001".into(),
            error: FieldError::Empty {
                field: "summary".into(),
            },
        });
}

#[test]
fn register_person_checks_its_fields() {
    let invalid = |error| PersonError::InvalidField {
        person_id: "d-wangfang".into(),
        error,
    };
    let PersonAction::RegisterPerson(data) = register(PersonKind::Deputy, None) else {
        panic!("a registration");
    };
    let nameless = RegisterPerson {
        name: String::new(),
        ..data.clone()
    };
    people()
        .given_no_previous_events()
        .when(by(Role::Admin, PersonAction::RegisterPerson(nameless)))
        .then_expect_error(invalid(FieldError::Empty {
            field: "name".into(),
        }));
    let blank_township = RegisterPerson {
        township: Some(" ".into()),
        ..data
    };
    people()
        .given_no_previous_events()
        .when(by(
            Role::Admin,
            PersonAction::RegisterPerson(blank_township),
        ))
        .then_expect_error(invalid(FieldError::Empty {
            field: "township".into(),
        }));
}
