//! The demonstration ledger's story: five years (2017–2021) of a county court's supervision work,
//! modelled on the published figures of such a court — 23 deputy suggestions on enforcement, every
//! one answered and closed; a "hundred deputies follow a hundred cases" programme (100 case
//! follows, 300 witnessed enforcement actions, 63 mediations, over ¥20 million recovered); 19
//! enforcement supervisors and 15 liaisons appointed by township; 206 visits to deputies, 22
//! inspections, 12 forums — and a current year of open items, some due soon and some overdue.
//!
//! The story is deterministic for a seed and the day it is told: the five years are fixed by the
//! seed alone; the current year is placed relative to `today`, so that its items are due soon and
//! overdue whenever the demo is run.

use jiff::civil::Date;
use jiff::{Span, ToSpan};
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

/// The whole story for `seed`, told on `today`.
pub(crate) fn commands(seed: u64, today: Date) -> Vec<Value> {
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
    current_year(&mut story, today);
    story.commands
}

/// Deputies (100, at three levels), enforcement supervisors (19) and township liaisons (15).
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
    for index in 0..19 {
        let name = story.name();
        story.push("h", "admin-01", "admin", "RegisterPerson", on, json!({
            "person_id": format!("s-{index:02}"), "name": name, "kind": "supervisor", "level": "county",
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
        filed_on.saturating_add(5.days()),
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
fn current_year(story: &mut Story, today: Date) {
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
    // Assigned five days after filing: due three months later, a few days from today.
    let due_soon_filed = today
        .saturating_sub(3.months())
        .saturating_add(Span::new().days(4 - 5));
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
