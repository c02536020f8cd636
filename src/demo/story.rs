//! The demonstration ledger's story: five years (2017–2021) of a county court's supervision work,
//! modelled on the published figures of such a court — 23 deputy suggestions on enforcement, every
//! one answered and closed; a "hundred deputies follow a hundred cases" programme (100 case
//! follows, 300 witnessed enforcement actions, 63 mediations, over ¥20 million recovered); 19
//! enforcement supervisors and 15 liaisons appointed by township; 206 visits to deputies, 22
//! inspections, 12 forums — and a current year of open items, some due soon and some overdue.
//!
//! The story is deterministic for a seed and the day it is told: the five years are fixed by the
//! seed alone; the current year is placed relative to `today`, so that its items are due soon and
//! overdue whenever the demo is run. Where an item must fall due on a given day, its assignment
//! date is worked back from that day with the deadline rules the ledger decides by, so a holiday
//! never pushes it out of the due-soon window.

use aggregates::deadline::DeadlineRules;
use jiff::civil::Date;
use jiff::{Span, ToSpan};
use projections::board::DUE_SOON_DAYS_MAX;
use serde_json::{json, Value};

/// Suggestions filed per year, 2017 to 2021: 23 in all.
const SUGGESTIONS_PER_YEAR: [(i16, u32); 5] =
    [(2017, 4), (2018, 5), (2019, 5), (2020, 4), (2021, 5)];
/// Case follows of the "hundred deputies follow a hundred cases" programme.
pub(crate) const FOLLOWS: u32 = 100;
/// Enforcement actions a deputy witnessed, per follow.
const WITNESSED_PER_FOLLOW: u32 = 3;
/// Follows with a mediation.
pub(crate) const MEDIATIONS: u32 = 63;
/// Engagements over the five years, per kind.
const ENGAGEMENTS: [(&str, u32); 4] = [
    ("visit", 206),
    ("inspection", 22),
    ("forum", 12),
    ("special_action", 5),
];
/// Enforcement supervisors, appointed by township (some townships have two).
const SUPERVISORS: usize = 19;
/// The county's townships; each has a liaison.
const TOWNSHIPS: [&str; 15] = [
    "城关镇",
    "东坝镇",
    "西河乡",
    "南山镇",
    "北湖乡",
    "青石镇",
    "柳林乡",
    "白云镇",
    "清水乡",
    "梅岭镇",
    "杨桥乡",
    "石门镇",
    "马场乡",
    "桃源镇",
    "新安乡",
];
const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
const GIVEN: [&str; 16] = [
    "芳", "建国", "敏", "伟", "秀英", "军", "丽", "强", "静", "磊", "洋", "艳", "勇", "杰", "娟",
    "涛",
];
const LEADERS: [(&str, &str, &str); 4] = [
    ("l-chen", "陈立新", "president"),
    ("l-liu", "刘振华", "vice_president"),
    ("l-zhang", "张明远", "vice_president"),
    ("l-li", "李华", "committee_member"),
];
const UNITS: [&str; 4] = ["执行局", "执行一庭", "执行二庭", "执行指挥中心"];
const TITLES: [&str; 8] = [
    "关于加快执行案款发放进度的建议",
    "关于规范失信被执行人名单管理的建议",
    "关于涉企执行案件善意文明执行的建议",
    "关于农民工工资执行案件优先办理的建议",
    "关于推行执行听证公开的建议",
    "关于加强执行联动机制建设的建议",
    "关于破解“执行难”中财产查控问题的建议",
    "关于规范执行中评估拍卖程序的建议",
];

/// SplitMix64: small, fast, and the same sequence on every platform for a seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The story's commands, in the order they happened.
struct Story {
    random: Random,
    seed: u64,
    commands: Vec<Value>,
    /// The registered deputies' names, by index (`d-000` …).
    deputies: Vec<String>,
}

impl Story {
    fn push(&mut self, part: &str, actor: &str, role: &str, kind: &str, on: Date, data: Value) {
        let command_id = format!("demo-{}-{part}-{:05}", self.seed, self.commands.len());
        let hour = 9 + self.random.below(8);
        self.commands.push(json!({
            "command_id": command_id, "actor": actor, "role": role, "type": kind,
            "at": format!("{on}T{hour:02}:00:00+08:00"), "data": data,
        }));
    }

    fn name(&mut self) -> String {
        let surname = SURNAMES[self.random.below(SURNAMES.len() as u64) as usize];
        let given = GIVEN[self.random.below(GIVEN.len() as u64) as usize];
        format!("{surname}{given}")
    }

    fn day_in(&mut self, year: i16, first_month: i8, months: i64) -> Date {
        let start = Date::new(year, first_month, 1).unwrap_or(Date::MIN);
        let days = self.random.below(months as u64 * 28) as i64;
        start.saturating_add(days.days())
    }
}

/// The whole story for `seed`, told on `today`; due dates are those `deadlines` gives (the rules
/// the demo's ledger decides by).
pub(crate) fn commands(seed: u64, today: Date, deadlines: &DeadlineRules) -> Vec<Value> {
    let mut story = Story {
        random: Random(seed),
        seed,
        commands: Vec::new(),
        deputies: Vec::new(),
    };
    people(&mut story);
    for (year, count) in SUGGESTIONS_PER_YEAR {
        for index in 0..count {
            let filed_on = story.day_in(year, 2, 3);
            let item_id = format!("{year}-JY-{:03}", index + 1);
            closed_item(&mut story, &item_id, filed_on, "h");
        }
    }
    follows(&mut story);
    engagements(&mut story);
    current_year(&mut story, today, deadlines);
    story.commands
}

/// Deputies (100, at three levels: 3 national, 12 provincial, 85 county), enforcement supervisors
/// (19, of the county congress, appointed by township) and township liaisons (one per township).
fn people(story: &mut Story) {
    let on = Date::new(2017, 1, 5).unwrap_or(Date::MIN);
    for index in 0..FOLLOWS {
        let level = match index {
            0..=2 => "national",
            3..=14 => "provincial",
            _ => "county",
        };
        let name = story.name();
        story.deputies.push(name.clone());
        story.push("h", "admin-01", "admin", "RegisterPerson", on, json!({
            "person_id": format!("d-{index:03}"), "name": name, "kind": "deputy", "level": level,
        }));
    }
    for index in 0..SUPERVISORS {
        let name = story.name();
        let township = TOWNSHIPS[index % TOWNSHIPS.len()];
        story.push("h", "admin-01", "admin", "RegisterPerson", on, json!({
            "person_id": format!("s-{index:02}"), "name": name, "kind": "supervisor", "level": "county",
            "township": township,
        }));
    }
    for (index, township) in TOWNSHIPS.iter().enumerate() {
        let name = story.name();
        story.push("h", "admin-01", "admin", "RegisterPerson", on, json!({
            "person_id": format!("lo-{index:02}"), "name": name, "kind": "liaison_officer", "township": township,
        }));
    }
}

fn deputy(story: &mut Story) -> Value {
    let index = story.random.below(u64::from(FOLLOWS)) as usize;
    let name = story.deputies.get(index).cloned().unwrap_or_default();
    json!({"id": format!("d-{index:03}"), "name": name, "lead": true})
}

fn leader(story: &mut Story) -> (&'static str, &'static str, &'static str) {
    LEADERS[story.random.below(LEADERS.len() as u64) as usize]
}

/// Files an item and takes it to triage and assignment; returns the leader and the deputy.
fn filed_and_assigned(
    story: &mut Story,
    item_id: &str,
    filed_on: Date,
    part: &str,
) -> (&'static str, String) {
    let deputy = deputy(story);
    let deputy_id = deputy["id"].as_str().unwrap_or_default().to_owned();
    let title = TITLES[story.random.below(TITLES.len() as u64) as usize];
    story.push(part, "liaison-01", "liaison", "FileItem", filed_on, json!({
        "item_id": item_id, "kind": "suggestion", "title": title,
        "body": format!("{title}。执行工作事关人民群众切身利益，建议进一步完善相关机制。"), "deputies": [deputy],
    }));
    story.push(
        part,
        "office-01",
        "court_office",
        "TriageItem",
        filed_on.saturating_add(2.days()),
        json!({"item_id": item_id, "decision": "accept", "reason": "属于执行工作范围"}),
    );
    let (leader_id, leader_name, level) = leader(story);
    let unit = UNITS[story.random.below(UNITS.len() as u64) as usize];
    story.push(
        part,
        "office-01",
        "court_office",
        "AssignItem",
        filed_on.saturating_add(ASSIGNED_AFTER_FILING_DAYS.days()),
        json!({
            "item_id": item_id, "lead_unit": unit,
            "leader": {"id": leader_id, "name": leader_name, "level": level},
        }),
    );
    (leader_id, deputy_id)
}

/// An item from filing to closing: contact, answer in time, rating, reconciliation, closing.
fn closed_item(story: &mut Story, item_id: &str, filed_on: Date, part: &str) {
    let (leader_id, deputy_id) = filed_and_assigned(story, item_id, filed_on, part);
    story.push(
        part,
        "handler-zx",
        "handler",
        "RecordContact",
        filed_on.saturating_add(20.days()),
        json!({
            "item_id": item_id, "deputy_id": deputy_id, "channel": "in_person", "stage": "before",
            "summary": "承办部门与代表面商，听取意见",
        }),
    );
    let answered_on = filed_on.saturating_add(Span::new().days(30 + story.random.below(50) as i64));
    let class = if story.random.below(5) == 0 { "B" } else { "A" };
    story.push(part, leader_id, "leader", "AnswerItem", answered_on, json!({
        "item_id": item_id, "class": class, "text": "经研究，已采纳建议并制定具体措施，纳入执行质效考核。",
    }));
    let rating = if story.random.below(6) == 0 {
        "basically_satisfied"
    } else {
        "satisfied"
    };
    story.push(
        part,
        &deputy_id,
        "deputy",
        "RateAnswer",
        answered_on.saturating_add(7.days()),
        json!({"item_id": item_id, "rating": rating, "comment": "答复具体，措施落实"}),
    );
    story.push(
        part,
        "liaison-01",
        "liaison",
        "ReconcileItem",
        answered_on.saturating_add(14.days()),
        json!({"item_id": item_id, "note": "双方对账一致"}),
    );
    story.push(
        part,
        leader_id,
        "leader",
        "CloseItem",
        answered_on.saturating_add(20.days()),
        json!({"item_id": item_id, "note": "销号"}),
    );
}

/// One hundred case follows, one per deputy, started 2019–2021: three witnessed enforcement
/// actions each (and some without the deputy), 63 mediations, a recovery each (¥200,000 and up,
/// so over ¥20 million in all), the deputy's evaluation, and the end.
fn follows(story: &mut Story) {
    for index in 0..FOLLOWS {
        let follow_id = format!("GA-{:03}", index + 1);
        let started_on = story.day_in(2019 + (index % 3) as i16, 3, 6);
        let deputy_id = format!("d-{index:03}");
        let judge = format!("法官{}", index % 12 + 1);
        story.push("h", "office-01", "court_office", "StartCaseFollow", started_on, json!({
            "follow_id": follow_id, "case_no": format!("（{}）执{}号", started_on.year(), 100 + index),
            "deputy": {"id": deputy_id, "name": story.deputies.get(index as usize).cloned().unwrap_or_default()},
            "judge": {"id": format!("j-{:02}", index % 12), "name": judge},
        }));
        let unwitnessed = story.random.below(3) as u32;
        for action in 0..WITNESSED_PER_FOLLOW + unwitnessed {
            let kind = [
                "property_investigation",
                "seizure",
                "on_site",
                "auction",
                "search",
            ][(action % 5) as usize];
            let on = started_on.saturating_add(Span::new().days(10 + 15 * i64::from(action)));
            story.push(
                "h",
                "handler-zx",
                "handler",
                "RecordEnforcementAction",
                on,
                json!({
                    "follow_id": follow_id, "kind": kind, "summary": "代表全程见证执行",
                    "deputy_present": action < WITNESSED_PER_FOLLOW,
                }),
            );
        }
        let later = started_on.saturating_add(100.days());
        if index < MEDIATIONS {
            story.push("h", "handler-zx", "handler", "RecordMediation", later, json!({
                "follow_id": follow_id, "settled": index % 3 != 0, "summary": "代表参与执行和解调解",
            }));
        }
        let yuan = 200_000 + story.random.below(8_000);
        let fen = story.random.below(100);
        story.push("h", "handler-zx", "handler", "RecordRecovery", later.saturating_add(10.days()), json!({
            "follow_id": follow_id, "amount": format!("{yuan}.{fen:02}"), "summary": "执行款到位",
        }));
        story.push(
            "h",
            &deputy_id,
            "deputy",
            "RecordFollowEvaluation",
            later.saturating_add(20.days()),
            json!({"follow_id": follow_id, "rating": "satisfied", "comment": "执行公开透明"}),
        );
        let outcome = if index < MEDIATIONS && index % 3 != 0 {
            "settled"
        } else {
            "enforced"
        };
        story.push(
            "h",
            "office-01",
            "court_office",
            "EndCaseFollow",
            later.saturating_add(30.days()),
            json!({"follow_id": follow_id, "outcome": outcome, "summary": "案件执行完毕"}),
        );
    }
}

/// Visits to deputies, inspections, forums and special actions over the five years.
fn engagements(story: &mut Story) {
    for (kind, count) in ENGAGEMENTS {
        for index in 0..count {
            let year = 2017 + (index % 5) as i16;
            let on = story.day_in(year, 1, 11);
            let deputies: Vec<String> = (0..1 + story.random.below(4))
                .map(|_| format!("d-{:03}", story.random.below(u64::from(FOLLOWS))))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let summary = match kind {
                "visit" => "走访代表，通报执行工作，听取意见建议",
                "inspection" => "邀请代表视察执行指挥中心",
                "forum" => "召开代表座谈会，征求对执行工作的意见",
                _ => "邀请代表参与集中执行专项行动",
            };
            story.push(
                "h",
                "office-01",
                "court_office",
                "RecordEngagement",
                on,
                json!({
                    "engagement_id": format!("E-{kind}-{:03}", index + 1), "kind": kind,
                    "deputies": deputies, "summary": summary,
                }),
            );
        }
    }
}

/// The current year, placed relative to `today`: two items closed, two answered and awaiting the
/// deputy's rating, two overdue, one due within days, one awaiting triage.
fn current_year(story: &mut Story, today: Date, deadlines: &DeadlineRules) {
    let part = format!("c{}", today.strftime("%Y%m%d"));
    let year = today.year();
    let id = |n: u32| format!("{year}-JY-{:03}", 100 + n);
    closed_item(story, &id(1), today.saturating_sub(160.days()), &part);
    closed_item(story, &id(2), today.saturating_sub(150.days()), &part);
    for n in [3, 4] {
        let filed_on = today.saturating_sub(100.days());
        let (leader_id, _) = filed_and_assigned(story, &id(n), filed_on, &part);
        story.push(
            &part,
            leader_id,
            "leader",
            "AnswerItem",
            filed_on.saturating_add(60.days()),
            json!({
                "item_id": id(n), "class": "A", "text": "已制定工作方案，正在推进落实。",
            }),
        );
    }
    for n in [5, 6] {
        let filed_on = today.saturating_sub(4.months()).saturating_sub(10.days());
        filed_and_assigned(story, &id(n), filed_on, &part);
    }
    // Assigned ASSIGNED_AFTER_FILING_DAYS after filing, on the day that makes it due soon.
    let due_soon_filed = assigned_for_due_soon(today, deadlines)
        .saturating_sub(Span::new().days(ASSIGNED_AFTER_FILING_DAYS));
    filed_and_assigned(story, &id(7), due_soon_filed, &part);
    let deputy = deputy(story);
    story.push(
        &part,
        "liaison-01",
        "liaison",
        "FileItem",
        today.saturating_sub(2.days()),
        json!({
            "item_id": id(8), "kind": "inspection_finding", "title": "关于推行执行听证公开的建议",
            "body": "视察中代表提出，对异议较大的执行案件推行公开听证。", "deputies": [deputy],
        }),
    );
}

/// An item is assigned this many days after it is filed (`filed_and_assigned`).
const ASSIGNED_AFTER_FILING_DAYS: i64 = 5;

/// The demo's due-soon item falls due this many days after today, or as near to it as the
/// working-day calendar allows.
const DUE_SOON_TARGET_DAYS: i64 = 4;

/// The day to assign an item on (in the past) so that its answer falls due soon after `today`
/// (within `DUE_SOON_DAYS_MAX` days, as near `DUE_SOON_TARGET_DAYS` as possible, preferring
/// working days to assign on): each candidate's due date is computed by
/// [`DeadlineRules::answer_due`], the very rule the ledger decides the assignment by, so a long
/// holiday after the target only moves the pick, never the item out of the window.
fn assigned_for_due_soon(today: Date, deadlines: &DeadlineRules) -> Date {
    let months = Span::new().months(i64::from(deadlines.answer_months));
    let first = today.saturating_sub(months).saturating_sub(
        Span::new().days(i64::from(aggregates::calendar::HOLIDAY_PERIOD_DAYS_MAX) + 7),
    );
    let best = (0..=i64::from(aggregates::calendar::HOLIDAY_PERIOD_DAYS_MAX) + 14)
        .map(|offset| first.saturating_add(offset.days()))
        .filter(|assigned| *assigned < today)
        .filter_map(|assigned| {
            let due = deadlines.answer_due(assigned, false);
            let days_left = i64::from(today.until(due).ok()?.get_days());
            (0..=DUE_SOON_DAYS_MAX).contains(&days_left).then(|| {
                let rank = (
                    (days_left - DUE_SOON_TARGET_DAYS).abs(),
                    !deadlines.calendar.is_working_day(assigned),
                    std::cmp::Reverse(assigned),
                );
                (rank, assigned)
            })
        })
        .min();
    // Some day always fits (a test walks every day the calendar covers); this fallback is the
    // plain arithmetic, for a calendar with a holiday longer than the window.
    best.map_or_else(
        || {
            today
                .saturating_sub(months)
                .saturating_add(Span::new().days(DUE_SOON_TARGET_DAYS))
        },
        |(_, assigned)| assigned,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aggregates::item::{Item, ItemCommand};
    use aggregates::rules::Rules;
    use cqrs_es::Aggregate;
    use infra::record::{Hash, Record};
    use projections::board::{BoardProjection, BoardView, Summary};
    use projections::Folded;

    use super::*;

    /// The board's counts on `today` over the items `commands` file: each item command decided by
    /// the item aggregate (`Item::decide`, as the ledger decides it) and its events folded by the
    /// board projection in memory, as the live board folds them. No store: an item refused
    /// panics, naming the command and the day.
    fn board_of(commands: &[Value], rules: &Rules, today: Date) -> Summary {
        let mut items: BTreeMap<String, (Item, u64)> = BTreeMap::new();
        let mut board = Folded::<BoardProjection>::default();
        for command in commands {
            let Some(item_id) = command["data"]["item_id"].as_str() else {
                continue;
            };
            let decided: ItemCommand = serde_json::from_value(json!({
                "actor": {"id": command["actor"], "role": command["role"]},
                "at": command["at"],
                "action": {"type": command["type"], "data": command["data"]},
            }))
            .expect("an item command");
            let (item, version) = items.entry(item_id.to_owned()).or_default();
            let events = item.decide(&decided, rules).unwrap_or_else(|refusal| {
                panic!(
                    "told on {today}, {} is refused: {refusal}",
                    command["command_id"]
                )
            });
            for event in events {
                let mut value = serde_json::to_value(&event).expect("an event is JSON");
                *version += 1;
                let text = |field: &str| command[field].as_str().unwrap_or_default().to_owned();
                let record = Record {
                    position: board.records_folded(),
                    stream: format!("item/{item_id}"),
                    version: *version,
                    event_type: value["type"].as_str().expect("a tagged event").to_owned(),
                    schema: 1,
                    at: text("at"),
                    recorded_at: text("at"),
                    actor: text("actor"),
                    role: text("role"),
                    command_id: text("command_id"),
                    data: value["data"].take(),
                    prev: Hash::ZERO,
                };
                board.apply(&record).expect("the board folds the event");
                item.apply(event);
            }
        }
        BoardView::of(
            board.rows().values(),
            board.records_folded(),
            today,
            String::new(),
        )
        .summary
    }

    /// The people and the current year of the story for `seed` told on `today` (the five fixed
    /// years left out: their items are all closed).
    fn current_year_told(seed: u64, today: Date, deadlines: &DeadlineRules) -> Vec<Value> {
        let mut story = Story {
            random: Random(seed),
            seed,
            commands: Vec::new(),
            deputies: Vec::new(),
        };
        people(&mut story);
        current_year(&mut story, today, deadlines);
        story.commands
    }

    #[test]
    fn current_year_has_a_due_soon_item_and_two_overdue_on_every_day_the_calendar_covers() {
        let rules = Rules::default();
        let years = rules.deadlines.calendar.years_covered().clone();
        let (Some(first), Some(last)) = (years.first(), years.last()) else {
            panic!("the official calendar covers some years");
        };
        let calendar = &rules.deadlines.calendar;
        let mut days = 0;
        let mut holidays = Vec::new();
        let mut wrong = Vec::new();
        let mut day = Date::new(*first, 1, 1).expect("a date");
        let end = Date::new(*last, 12, 31).expect("a date");
        while day <= end {
            let summary = board_of(
                &current_year_told(SEED_FOR_TESTS, day, &rules.deadlines),
                &rules,
                day,
            );
            // Every due date is a working day, so on the first days of a long holiday, when no
            // working day comes within DUE_SOON_DAYS_MAX days, nothing can be due soon.
            let working_day_within = (0..=DUE_SOON_DAYS_MAX)
                .any(|ahead| calendar.is_working_day(day.saturating_add(ahead.days())));
            if !working_day_within {
                holidays.push(day);
            }
            if (working_day_within && summary.due_soon < 1) || summary.overdue != 2 {
                wrong.push(format!(
                    "{day}: {} due soon, {} overdue",
                    summary.due_soon, summary.overdue
                ));
            }
            days += 1;
            day = day.tomorrow().expect("a later date");
        }
        assert!(days >= 365 * years.len(), "walked {days} days");
        assert!(wrong.is_empty(), "{} days wrong: {wrong:?}", wrong.len());
        // About one day a year: National Day 2017 (October 1–8), the Spring Festival of 2020
        // (extended to February 2), 2024 and 2026, National Day 2025 (October 1–8), …
        assert!(
            holidays.len() <= years.len() * 2,
            "{} days without a working day ahead: {holidays:?}",
            holidays.len()
        );
    }

    #[test]
    fn due_soon_item_is_assigned_so_that_the_spring_festival_does_not_push_it_away() {
        // Told on 2026-02-11, three months after an assignment four days on falls in the Spring
        // Festival break (February 15–23) and moves to the 24th: 13 days away.
        let deadlines = DeadlineRules::default();
        let today = Date::new(2026, 2, 11).expect("a date");
        let naive = today
            .saturating_sub(3.months())
            .saturating_add(DUE_SOON_TARGET_DAYS.days());
        assert_eq!(
            deadlines.answer_due(naive, false),
            Date::new(2026, 2, 24).expect("a date")
        );
        let assigned = assigned_for_due_soon(today, &deadlines);
        let due = deadlines.answer_due(assigned, false);
        let days_left = today.until(due).expect("days").get_days();
        assert!(
            (0..=DUE_SOON_DAYS_MAX).contains(&i64::from(days_left)),
            "assigned {assigned}, due {due}: {days_left} days left"
        );
        assert!(deadlines.calendar.is_working_day(assigned));
    }

    const SEED_FOR_TESTS: u64 = 2017;

    /// What the statistics count of a story: commands per type, witnessed actions, people per
    /// kind, level and township, engagements per kind, whether over ¥20 million was recovered.
    fn figures(commands: &[Value]) -> BTreeMap<String, u64> {
        let mut figures = BTreeMap::new();
        let mut count = |key: String| *figures.entry(key).or_insert(0) += 1;
        for command in commands {
            let data = &command["data"];
            // How many actions a deputy did not witness is left to chance; the witnessed are a
            // figure.
            if command["type"] != "RecordEnforcementAction" {
                count(format!(
                    "type {}",
                    command["type"].as_str().unwrap_or_default()
                ));
            }
            if data["deputy_present"] == true {
                count("witnessed".to_owned());
            }
            if command["type"] == "RegisterPerson" {
                count(format!(
                    "person {} {} {}",
                    data["kind"], data["level"], data["township"]
                ));
            }
            if command["type"] == "RecordEngagement" {
                count(format!("engagement {}", data["kind"]));
            }
        }
        let recovered_over_20_million = commands
            .iter()
            .filter_map(|command| command["data"]["amount"].as_str())
            .filter_map(|amount| amount.split('.').next()?.parse::<u64>().ok())
            .sum::<u64>()
            > 20_000_000;
        figures.insert(
            "recovered over 20 million".to_owned(),
            u64::from(recovered_over_20_million),
        );
        figures
    }

    #[test]
    fn same_seed_and_day_tell_the_same_story_and_another_seed_another_with_the_same_figures() {
        let deadlines = DeadlineRules::default();
        let today = Date::new(2026, 5, 20).expect("a date");
        let told = commands(SEED_FOR_TESTS, today, &deadlines);
        assert_eq!(told, commands(SEED_FOR_TESTS, today, &deadlines));
        let other = commands(SEED_FOR_TESTS + 1, today, &deadlines);
        assert_ne!(told, other);
        let differing = told
            .iter()
            .zip(&other)
            .filter(|(one, two)| one["data"] != two["data"] || one["at"] != two["at"])
            .count();
        assert!(
            differing > told.len() / 2,
            "another seed changes most of the story, not {differing} of {} commands",
            told.len()
        );
        assert_eq!(figures(&told), figures(&other));
        assert_eq!(figures(&told)["type FileItem"], 23 + 8);
        assert_eq!(figures(&told)["witnessed"], 300);
        assert_eq!(figures(&told)["recovered over 20 million"], 1);
        let rules = Rules::default();
        assert_eq!(
            board_of(&told, &rules, today),
            board_of(&other, &rules, today)
        );
        assert_eq!(board_of(&told, &rules, today).total, 31);
        // Another day moves only the current year.
        let later = commands(SEED_FOR_TESTS, today.saturating_add(1.days()), &deadlines);
        let current = |command: &&Value| {
            command["command_id"]
                .as_str()
                .is_some_and(|id| id.contains("-c2026"))
        };
        assert_eq!(
            told.iter()
                .filter(|command| !current(command))
                .collect::<Vec<_>>(),
            later
                .iter()
                .filter(|command| !current(command))
                .collect::<Vec<_>>()
        );
    }
}
