//! The figures on a hand-built fixture: every number below was worked out by hand from the
//! events in `fixture()`, not by running the code.

use aggregates::engagement::{EngagementEvent, EngagementKind};
use aggregates::follow::{EnforcementActionKind, FollowEvent, FollowOutcome, PersonRef};
use aggregates::item::{
    AnswerClass, ContactChannel, ContactStage, Deputy, ItemEvent, ItemKind, Leader, LeaderLevel,
    Rating,
};
use aggregates::money::Yuan;
use aggregates::person::{PersonEvent, PersonKind};
use infra::record::{Hash, Record};
use jiff::civil::{date, Date};
use projections::figures::{Facts, Figures, FiguresProjection};
use projections::Folded;
use serde::Serialize;

struct Fixture {
    records: Vec<Record>,
}

impl Fixture {
    fn push(&mut self, at: &str, event: ItemEvent) {
        let stream = format!("item/{}", event.item_id());
        self.push_to(&stream, at, &event);
    }

    fn push_to<E: Serialize>(&mut self, stream: &str, at: &str, event: &E) {
        let value = serde_json::to_value(event).expect("event");
        self.records.push(Record {
            position: self.records.len() as u64,
            stream: stream.to_owned(),
            version: 1,
            event_type: value["type"].as_str().expect("type").to_owned(),
            schema: 1,
            at: format!("{at}T10:00:00+08:00"),
            recorded_at: "2025-01-01T00:00:00.000Z".to_owned(),
            actor: "tester".to_owned(),
            role: "liaison".to_owned(),
            command_id: format!("c-{}", self.records.len()),
            data: value["data"].clone(),
            prev: Hash::ZERO,
        });
    }

    fn filed(&mut self, at: &str, item: &str) {
        self.push(
            at,
            ItemEvent::ItemFiled {
                item_id: item.into(),
                kind: ItemKind::Suggestion,
                title: format!("建议 {item}"),
                body: String::new(),
                deputies: vec![Deputy {
                    id: "d-1".into(),
                    name: "王芳".into(),
                    lead: true,
                }],
                urgent: false,
                cases: vec![],
                parent_id: None,
                triage_due: day(at).saturating_add(jiff::Span::new().days(9)),
            },
        );
        self.push(
            at,
            ItemEvent::ItemAccepted {
                item_id: item.into(),
                reason: String::new(),
            },
        );
    }

    fn assigned(&mut self, at: &str, item: &str, leader: &str, unit: &str, answer_due: &str) {
        self.push(
            at,
            ItemEvent::ItemAssigned {
                item_id: item.into(),
                lead_unit: unit.into(),
                co_units: vec![],
                leader: Leader {
                    id: leader.into(),
                    name: leader.into(),
                    level: LeaderLevel::VicePresident,
                },
                assigned_on: day(at),
                answer_due: day(answer_due),
                co_view_due: None,
            },
        );
    }

    fn answered(&mut self, at: &str, item: &str, round: u32, class: AnswerClass, due: &str) {
        self.push(
            at,
            ItemEvent::ItemAnswered {
                item_id: item.into(),
                round,
                class,
                text: "答复".into(),
                doc_no: None,
                public: true,
                commitments: vec![],
                answered_on: day(at),
                due: day(due),
                on_time: day(at) <= day(due),
            },
        );
    }

    fn rated(&mut self, at: &str, item: &str, round: u32, rating: Rating) {
        self.push(
            at,
            ItemEvent::AnswerRated {
                item_id: item.into(),
                round,
                rating,
                comment: String::new(),
                deputy_id: "d-1".into(),
                on_behalf: false,
            },
        );
    }
}

fn day(text: &str) -> Date {
    text.parse().expect("date")
}

/// Six items, one case follow, four engagements and three people:
/// - F-1 (2024): answered on time (A), satisfied, reconciled and closed;
/// - F-2 (2024): answered late (B), basically satisfied;
/// - F-1 also has a contact with the deputy before its answer;
/// - F-3 (2024): assigned, never answered, due 2024-05-06, extended (approved) to 2024-08-06:
///   overdue on 2024-12-31;
/// - F-4 (2024): answered on time (C), unsatisfied, re-handled, answered on time (A), satisfied;
/// - F-5 (2024): assigned 2024-12-23, due 2025-03-24: not yet due on 2024-12-31;
/// - F-6 (2023): answered on time (A), the deputy did not respond (no_response).
fn fixture() -> Vec<Record> {
    let mut f = Fixture {
        records: Vec::new(),
    };
    f.filed("2024-01-02", "F-1");
    f.assigned("2024-01-08", "F-1", "陈立新", "执行局", "2024-04-08");
    f.push(
        "2024-02-20",
        ItemEvent::ContactRecorded {
            item_id: "F-1".into(),
            round: 1,
            deputy_id: "d-1".into(),
            channel: ContactChannel::InPerson,
            stage: ContactStage::Before,
            summary: "面商".into(),
            contacted_on: day("2024-02-20"),
        },
    );
    f.answered("2024-03-01", "F-1", 1, AnswerClass::A, "2024-04-08");
    f.rated("2024-03-05", "F-1", 1, Rating::Satisfied);
    f.push(
        "2024-03-10",
        ItemEvent::ItemReconciled {
            item_id: "F-1".into(),
            note: String::new(),
        },
    );
    f.push(
        "2024-03-12",
        ItemEvent::ItemClosed {
            item_id: "F-1".into(),
            note: String::new(),
        },
    );
    f.filed("2024-01-03", "F-2");
    f.assigned("2024-01-10", "F-2", "刘振华", "执行一庭", "2024-04-10");
    f.answered("2024-05-06", "F-2", 1, AnswerClass::B, "2024-04-10");
    f.rated("2024-05-10", "F-2", 1, Rating::BasicallySatisfied);
    f.filed("2024-02-01", "F-3");
    f.assigned("2024-02-05", "F-3", "刘振华", "执行一庭", "2024-05-06");
    f.push(
        "2024-04-20",
        ItemEvent::ExtensionRequested {
            item_id: "F-3".into(),
            round: 1,
            until: day("2024-08-06"),
            reason: "需调查".into(),
            due: day("2024-05-06"),
        },
    );
    f.push(
        "2024-04-22",
        ItemEvent::ExtensionDecided {
            item_id: "F-3".into(),
            round: 1,
            approved: true,
            until: day("2024-08-06"),
            note: String::new(),
            due: day("2024-08-06"),
        },
    );
    f.filed("2024-03-01", "F-4");
    f.assigned("2024-03-04", "F-4", "陈立新", "执行局", "2024-06-04");
    f.answered("2024-05-20", "F-4", 1, AnswerClass::C, "2024-06-04");
    f.rated("2024-05-25", "F-4", 1, Rating::Unsatisfied);
    f.push(
        "2024-05-25",
        ItemEvent::RehandlingStarted {
            item_id: "F-4".into(),
            round: 2,
            answer_due: day("2024-06-25"),
        },
    );
    f.answered("2024-06-20", "F-4", 2, AnswerClass::A, "2024-06-25");
    f.rated("2024-06-28", "F-4", 2, Rating::Satisfied);
    f.filed("2024-12-20", "F-5");
    f.assigned("2024-12-23", "F-5", "陈立新", "执行局", "2025-03-24");
    f.filed("2023-06-01", "F-6");
    f.assigned("2023-06-05", "F-6", "陈立新", "执行局", "2023-09-05");
    f.answered("2023-08-01", "F-6", 1, AnswerClass::A, "2023-09-05");
    f.rated("2023-08-05", "F-6", 1, Rating::NoResponse);
    follow(&mut f);
    for (id, at, kind) in [
        ("E-1", "2024-04-01", EngagementKind::Visit),
        ("E-2", "2024-05-01", EngagementKind::Visit),
        ("E-3", "2024-06-01", EngagementKind::Forum),
        ("E-4", "2023-06-01", EngagementKind::Visit),
    ] {
        let event = EngagementEvent::EngagementRecorded {
            engagement_id: id.into(),
            kind,
            deputies: vec!["d-1".into()],
            summary: "走访".into(),
            held_on: day(at),
        };
        f.push_to(&format!("engagement/{id}"), at, &event);
    }
    for (id, kind) in [
        ("d-1", PersonKind::Deputy),
        ("d-2", PersonKind::Deputy),
        ("s-1", PersonKind::Supervisor),
    ] {
        let event = PersonEvent::PersonRegistered {
            person_id: id.into(),
            name: id.into(),
            kind,
            level: None,
            township: None,
        };
        f.push_to(&format!("person/{id}"), "2024-01-01", &event);
    }
    f.records
}

/// Case follow K-1 (2024): three enforcement actions, two witnessed by the deputy; two
/// mediations, one settled; recoveries of 1,000.50 and 2,000.25 yuan; ended.
fn follow(f: &mut Fixture) {
    let stream = "follow/K-1";
    let started = FollowEvent::CaseFollowStarted {
        follow_id: "K-1".into(),
        case_no: "（2024）执1号".into(),
        deputy: PersonRef {
            id: "d-1".into(),
            name: "王芳".into(),
        },
        judge: PersonRef {
            id: "j-1".into(),
            name: "赵法官".into(),
        },
        started_on: day("2024-02-01"),
    };
    f.push_to(stream, "2024-02-01", &started);
    for present in [true, false, true] {
        let action = FollowEvent::EnforcementActionRecorded {
            follow_id: "K-1".into(),
            kind: EnforcementActionKind::Seizure,
            summary: "查封".into(),
            deputy_present: present,
            acted_on: day("2024-02-10"),
        };
        f.push_to(stream, "2024-02-10", &action);
    }
    for settled in [false, true] {
        let mediation = FollowEvent::MediationRecorded {
            follow_id: "K-1".into(),
            settled,
            summary: "调解".into(),
            mediated_on: day("2024-03-01"),
        };
        f.push_to(stream, "2024-03-01", &mediation);
    }
    let mut total = 0;
    for amount in ["1000.50", "2000.25"] {
        let amount: Yuan = amount.parse().expect("yuan");
        total += amount.fen();
        let recovery = FollowEvent::RecoveryRecorded {
            follow_id: "K-1".into(),
            amount,
            summary: "执行到位".into(),
            recovered_on: day("2024-03-15"),
            recovered_total: Yuan::from_fen(total).expect("yuan"),
        };
        f.push_to(stream, "2024-03-15", &recovery);
    }
    let ended = FollowEvent::CaseFollowEnded {
        follow_id: "K-1".into(),
        outcome: FollowOutcome::Enforced,
        summary: "执行完毕".into(),
        ended_on: day("2024-04-01"),
    };
    f.push_to(stream, "2024-04-01", &ended);
}

fn figures(year: Option<i16>) -> Figures {
    let mut folded = Folded::<FiguresProjection>::default();
    for record in fixture() {
        folded.apply(&record).expect("fold");
    }
    let facts: Vec<&Facts> = folded.rows().values().collect();
    Figures::of(
        facts,
        folded.records_folded(),
        date(2024, 12, 31),
        "2024-12-31".into(),
        year,
    )
}

fn close(value: Option<f64>, expected: f64) -> bool {
    value.is_some_and(|value| (value - expected).abs() < 1e-9)
}

#[test]
fn figures_over_all_years_match_the_hand_computed_counts_and_rates() {
    let all = figures(None).items;
    assert_eq!(all.total, 6);
    // Answered: F-1, F-2, F-4, F-6. Due: those four and the overdue F-3 (F-5 is not yet due).
    assert_eq!(all.answered, 4);
    assert_eq!(all.due, 5);
    assert_eq!(all.overdue_unanswered, 1);
    assert_eq!(
        (all.rates.answer_rate.count, all.rates.answer_rate.n),
        (4, 5)
    );
    assert!(close(all.rates.answer_rate.value, 0.8));
    // First answers on time: F-1, F-4 (round 1), F-6; F-2 was late. Over answered 4 + overdue 1.
    assert_eq!(all.answered_on_time, 3);
    assert_eq!(
        (all.rates.on_time_rate.count, all.rates.on_time_rate.n),
        (3, 5)
    );
    assert!(close(all.rates.on_time_rate.value, 0.6));
    // Latest ratings: satisfied (F-1, F-4), basically (F-2); F-6's no_response is not a rating.
    assert_eq!(
        (
            all.rates.satisfaction_rate.count,
            all.rates.satisfaction_rate.n
        ),
        (2, 3)
    );
    assert!(close(all.rates.satisfaction_rate.value, 2.0 / 3.0));
    assert_eq!(
        (
            all.rates.satisfied_or_basic_rate.count,
            all.rates.satisfied_or_basic_rate.n
        ),
        (3, 3)
    );
    assert_eq!(all.unsatisfied_then_satisfied, 1);
    // Of the four answered items, only F-1 had a contact before its first answer.
    assert_eq!(
        (all.rates.contact_rate.count, all.rates.contact_rate.n),
        (1, 4)
    );
    // F-3's approved extension is counted; it moved the due date, but F-3 is still overdue.
    assert_eq!(all.extensions, 1);
    // Latest classes: A (F-1), B (F-2), A (F-4 round 2), A (F-6).
    let classes: Vec<(&str, u64)> = all.classes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(classes, [("A", 3), ("B", 1), ("C", 0), ("D", 0)]);
    assert_eq!(all.closed, 1);
    // Days from filing to first answer: 59 (F-1, 2024 is a leap year), 124 (F-2), 80 (F-4),
    // 61 (F-6); the median of 59, 61, 80, 124 is 70.5.
    assert_eq!(all.median_handling_days, Some(70.5));
}

#[test]
fn figures_for_one_year_count_only_items_filed_that_year() {
    let report = figures(Some(2024));
    let year = &report.items;
    assert_eq!(year.total, 5);
    assert_eq!(
        (year.rates.answer_rate.count, year.rates.answer_rate.n),
        (3, 4)
    );
    assert_eq!(
        (year.rates.on_time_rate.count, year.rates.on_time_rate.n),
        (2, 4)
    );
    assert_eq!(report.by_year.keys().copied().collect::<Vec<_>>(), [2024]);
    let all = figures(None);
    assert_eq!(all.by_year[&2023].total, 1);
    assert_eq!(all.by_year[&2024], report.items);
}

#[test]
fn figures_per_leader_and_lead_unit_split_the_items() {
    let report = figures(None);
    // 陈立新: F-1, F-4, F-5, F-6 (all answered on time or not yet due); 刘振华: F-2 (late), F-3 (overdue).
    let chen = &report.by_leader["陈立新"];
    assert_eq!((chen.total, chen.answered, chen.due), (4, 3, 3));
    assert!(close(chen.rates.on_time_rate.value, 1.0));
    let liu = &report.by_leader["刘振华"];
    assert_eq!((liu.total, liu.answered, liu.due), (2, 1, 2));
    assert_eq!(
        (liu.rates.on_time_rate.count, liu.rates.on_time_rate.n),
        (0, 2)
    );
    assert_eq!(report.by_lead_unit["执行一庭"], *liu);
}

#[test]
fn figures_count_case_follows_engagements_and_people() {
    let all = figures(None);
    let follows = &all.follows;
    assert_eq!((follows.total, follows.ended), (1, 1));
    assert_eq!((follows.actions, follows.witnessed_actions), (3, 2));
    assert_eq!((follows.mediations, follows.settled_mediations), (2, 1));
    assert_eq!(follows.recovered_yuan, "3000.75");
    let engagements: Vec<(&str, u64)> = all
        .engagements
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(engagements, [("forum", 1), ("visit", 3)]);
    let people: Vec<(&str, u64)> = all.people.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(people, [("deputy", 2), ("supervisor", 1)]);
    // Engagements and follows are counted in the year they happened; people whatever the year.
    let year = figures(Some(2023));
    assert_eq!(
        year.engagements
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [("visit", 1)]
    );
    assert_eq!(year.follows.total, 0);
    assert_eq!(year.follows.recovered_yuan, "0.00");
    assert_eq!(year.people.len(), 2);
}
