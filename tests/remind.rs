//! Reminders and notices (issue 9): the real binary with time moved through items' lives, on
//! both backends.

use std::path::PathBuf;

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::e2e::{exec, lifecycle, lines};
use crate::support::{huiyin, on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "remind",
        "an_items_life_gives_exactly_the_expected_notices_once",
        an_items_life_gives_exactly_the_expected_notices_once,
    ));
    trials.extend(on_both(
        "remind",
        "status_notices_of_a_month_without_remind_are_queued_once_and_a_rebuild_queues_none",
        status_notices_of_a_month_without_remind_are_queued_once_and_a_rebuild_queues_none,
    ));
    trials.extend(on_both(
        "remind",
        "skip_history_passes_over_past_status_notices_and_later_events_are_told",
        skip_history_passes_over_past_status_notices_and_later_events_are_told,
    ));
    trials.extend(on_both(
        "remind",
        "a_template_override_reaches_the_outbox_and_a_bad_one_stops_remind",
        a_template_override_reaches_the_outbox_and_a_bad_one_stops_remind,
    ));
    trials.extend(on_both(
        "remind",
        "a_leader_gets_one_digest_per_working_day",
        a_leader_gets_one_digest_per_working_day,
    ));
    trials.extend(on_both(
        "remind",
        "an_approved_extension_moves_the_due_soon_reminder",
        an_approved_extension_moves_the_due_soon_reminder,
    ));
    trials
}

/// A settings file in its own folder: addresses for the leader, the deputy and the office;
/// none for the lead unit.
pub struct Settings {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn settings(extra: &str) -> Settings {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("huiyin.toml");
    let text = format!(
        r#"
[reminders]
liaison_office = "office-rd"
{extra}
[reminders.addresses.l-1]
email = "chen@court.example"
[reminders.addresses.d-1]
email = "wang@deputies.example"
webhook = "13800000001"
[reminders.addresses.office-rd]
email = "office@rd.example"
"#
    );
    std::fs::write(&path, text).expect("write settings");
    Settings { _dir: dir, path }
}

/// Runs `remind --now NOW` (with `--dry-run` when asked) and returns its lines.
pub fn remind(db: &Fresh, settings: &Settings, now: &str, dry_run: bool) -> Vec<Value> {
    let config = settings.path.display().to_string();
    let mut args = vec!["--config", config.as_str(), "remind", "--now", now];
    if dry_run {
        args.push("--dry-run");
    }
    let output = huiyin(db, &args, "");
    assert_eq!(
        output.status.code(),
        Some(0),
        "remind: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines(&output)
}

/// The notices as `kind to channel` strings, sorted.
fn summary(notices: &[Value]) -> Vec<String> {
    let mut summary: Vec<String> = notices
        .iter()
        .map(|notice| {
            format!(
                "{} {} {}",
                notice["kind"].as_str().expect("kind"),
                notice["to"].as_str().expect("to"),
                notice["channel"].as_str().expect("channel")
            )
        })
        .collect();
    summary.sort();
    summary
}

fn command(id: &str, actor: &str, role: &str, kind: &str, at: &str, data: Value) -> Value {
    json!({"command_id": id, "actor": actor, "role": role, "type": kind, "at": at, "data": data})
}

fn ok(db: &Fresh, commands: &[Value]) {
    let (code, results) = exec(db, commands);
    assert_eq!(code, Some(0), "{results:?}");
}

/// Runs `remind` at `now`, first as a dry run that must print the same, then for real, then
/// again, which must queue nothing; returns the summary.
fn step(db: &Fresh, settings: &Settings, now: &str) -> (Vec<String>, Vec<Value>) {
    let dry = remind(db, settings, now, true);
    let queued = remind(db, settings, now, false);
    assert_eq!(dry, queued, "a dry run at {now} printed something else");
    assert_eq!(
        remind(db, settings, now, false),
        Vec::<Value>::new(),
        "again at {now}"
    );
    for notice in &queued {
        assert_eq!(notice["item_id"], "2024-S-001", "{notice}");
        assert_eq!(notice["id"].as_str().map(str::len), Some(32), "{notice}");
    }
    (summary(&queued), queued)
}

async fn an_items_life_gives_exactly_the_expected_notices_once(db: Fresh) {
    let settings = settings("[reminders.to]\ndigest = []");
    let item = "2024-S-001";
    let steps = lifecycle(item);
    // Filed, accepted, assigned on 2024-03-05 to 陈立新 (l-1) and 执行局; due 2024-06-05.
    ok(&db, &steps[..3]);
    let mut all = Vec::new();
    let mut expect = |now: &str, expected: &[&str]| {
        let (summary, queued) = step(&db, &settings, now);
        assert_eq!(summary, expected, "at {now}");
        all.extend(queued);
    };
    expect(
        "2024-03-05T10:00:00+08:00",
        &["assigned d-1 email", "assigned d-1 webhook"],
    );
    expect("2024-04-19T09:00:00+08:00", &[]);
    // Half of the 92 days to 2024-06-05 have passed on 2024-04-20, but not before 08:30.
    expect("2024-04-20T08:00:00+08:00", &[]);
    expect(
        "2024-04-20T09:00:00+08:00",
        &["halfway l-1 email", "halfway unit:执行局 none"],
    );
    expect("2024-05-28T09:00:00+08:00", &[]);
    expect(
        "2024-05-29T09:00:00+08:00",
        &["due_soon l-1 email", "due_soon unit:执行局 none"],
    );
    expect("2024-06-05T09:00:00+08:00", &[]);
    expect(
        "2024-06-06T09:00:00+08:00",
        &["overdue l-1 email", "overdue office-rd email"],
    );
    expect("2024-06-12T09:00:00+08:00", &[]);
    expect(
        "2024-06-13T09:00:00+08:00",
        &["overdue l-1 email", "overdue office-rd email"],
    );
    let answer = |id: &str, at: &str| {
        command(
            id,
            "l-1",
            "leader",
            "AnswerItem",
            at,
            json!({"item_id": item, "class": "B", "text": "已制定整改方案。"}),
        )
    };
    let rate = |id: &str, at: &str, rating: &str| {
        command(
            id,
            "d-1",
            "deputy",
            "RateAnswer",
            at,
            json!({"item_id": item, "rating": rating}),
        )
    };
    ok(&db, &[answer("a1", "2024-06-14T09:00:00+08:00")]);
    expect(
        "2024-06-14T10:00:00+08:00",
        &["answered d-1 email", "answered d-1 webhook"],
    );
    // Unsatisfied: round 2, due a month later (2024-07-15).
    ok(
        &db,
        &[rate("r1", "2024-06-15T09:00:00+08:00", "unsatisfied")],
    );
    expect(
        "2024-06-15T10:00:00+08:00",
        &["rehandling d-1 email", "rehandling d-1 webhook"],
    );
    ok(
        &db,
        &[
            answer("a2", "2024-07-01T09:00:00+08:00"),
            rate("r2", "2024-07-02T09:00:00+08:00", "satisfied"),
            command(
                "rc",
                "liaison-01",
                "liaison",
                "ReconcileItem",
                "2024-07-03T09:00:00+08:00",
                json!({"item_id": item}),
            ),
            command(
                "cl",
                "l-1",
                "leader",
                "CloseItem",
                "2024-07-04T09:00:00+08:00",
                json!({"item_id": item}),
            ),
        ],
    );
    // Answered and closed within the week: both told; no halfway for the answered round.
    expect(
        "2024-07-05T10:00:00+08:00",
        &[
            "answered d-1 email",
            "answered d-1 webhook",
            "closed d-1 email",
            "closed d-1 webhook",
        ],
    );
    expect("2024-09-01T10:00:00+08:00", &[]);
    // A rebuild of every projection sends nothing again.
    let rebuilt = huiyin(&db, &["rebuild", "--quiet"], "");
    assert_eq!(rebuilt.status.code(), Some(0));
    for now in [
        "2024-03-05T10:00:00+08:00",
        "2024-06-13T09:00:00+08:00",
        "2024-07-05T10:00:00+08:00",
    ] {
        assert_eq!(
            remind(&db, &settings, now, false),
            Vec::<Value>::new(),
            "after rebuild, {now}"
        );
    }
    let mut ids: Vec<&str> = all
        .iter()
        .filter_map(|notice| notice["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 18);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 18, "every notice has its own id");
}

async fn a_leader_gets_one_digest_per_working_day(db: Fresh) {
    let settings = settings("");
    let mut first = lifecycle("2024-S-001");
    let mut second = lifecycle("2024-S-002");
    ok(
        &db,
        &first
            .drain(..3)
            .chain(second.drain(..3))
            .collect::<Vec<_>>(),
    );
    let digests = |now: &str| -> Vec<String> {
        let notices = remind(&db, &settings, now, false);
        summary(&notices)
            .into_iter()
            .filter(|line| line.starts_with("digest"))
            .collect()
    };
    // Tuesday 2024-03-05 after 08:30: one digest for both items.
    assert_eq!(digests("2024-03-05T10:00:00+08:00"), ["digest l-1 email"]);
    assert_eq!(digests("2024-03-05T18:00:00+08:00"), Vec::<String>::new());
    // Wednesday before 08:30 is still Tuesday's turn; after it, Wednesday's digest.
    assert_eq!(digests("2024-03-06T08:00:00+08:00"), Vec::<String>::new());
    assert_eq!(digests("2024-03-06T08:30:00+08:00"), ["digest l-1 email"]);
    // Saturday is not a working day.
    assert_eq!(digests("2024-03-09T10:00:00+08:00"), Vec::<String>::new());
    let queued = remind(&db, &settings, "2024-03-11T10:00:00+08:00", true);
    let digest = queued
        .iter()
        .find(|notice| notice["kind"] == "digest")
        .expect("digest");
    assert_eq!(digest["item_id"], Value::Null);
}

async fn an_approved_extension_moves_the_due_soon_reminder(db: Fresh) {
    let settings = settings("[reminders.to]\ndigest = []\nassigned = []");
    let item = "2024-S-001";
    ok(&db, &lifecycle(item)[..3]);
    let kinds = |now: &str| summary(&remind(&db, &settings, now, false));
    assert_eq!(kinds("2024-04-20T09:00:00+08:00").len(), 2);
    assert_eq!(
        kinds("2024-05-29T09:00:00+08:00"),
        ["due_soon l-1 email", "due_soon unit:执行局 none"]
    );
    ok(
        &db,
        &[
            command(
                "x1",
                "l-1",
                "leader",
                "RequestExtension",
                "2024-05-30T09:00:00+08:00",
                json!({"item_id": item, "until": "2024-07-31", "reason": "需协调多个部门"}),
            ),
            command(
                "x2",
                "liaison-01",
                "liaison",
                "DecideExtension",
                "2024-05-31T09:00:00+08:00",
                json!({"item_id": item, "approve": true, "note": "同意"}),
            ),
        ],
    );
    // The new due date is weeks away: nothing on the old due date, no overdue after it.
    assert_eq!(kinds("2024-06-06T09:00:00+08:00"), Vec::<String>::new());
    assert_eq!(
        kinds("2024-07-24T09:00:00+08:00"),
        ["due_soon l-1 email", "due_soon unit:执行局 none"]
    );
}

/// Every notice in the outbox, as `kind to channel` strings, sorted.
async fn outbox_summary(db: &Fresh) -> Vec<String> {
    let stores = infra::store::open_stores(&db.url).await.expect("open");
    let rows = stores.outbox.list().await.expect("list");
    let mut summary: Vec<String> = rows
        .iter()
        .map(|row| {
            let item = row.entry.item_id.as_deref().unwrap_or("-");
            format!(
                "{} {item} {} {}",
                row.entry.kind, row.entry.recipient, row.entry.channel
            )
        })
        .collect();
    summary.sort();
    summary
}

async fn status_notices_of_a_month_without_remind_are_queued_once_and_a_rebuild_queues_none(
    db: Fresh,
) {
    let settings = settings("[reminders.to]\ndigest = []");
    let item = "2024-S-001";
    // A whole life in March, and nobody runs `remind` until 10 April (36 days after the
    // assignment, 30 after the close): every status notice of it is still told, once.
    let mut steps = lifecycle(item);
    steps.truncate(3);
    let at = |day: u32| format!("2024-03-{day:02}T09:00:00+08:00");
    steps.extend([
        command(
            "a1",
            "l-1",
            "leader",
            "AnswerItem",
            &at(6),
            json!({"item_id": item, "class": "B", "text": "已制定整改方案。"}),
        ),
        command(
            "r1",
            "d-1",
            "deputy",
            "RateAnswer",
            &at(7),
            json!({"item_id": item, "rating": "unsatisfied"}),
        ),
        command(
            "a2",
            "l-1",
            "leader",
            "AnswerItem",
            &at(8),
            json!({"item_id": item, "class": "A", "text": "已整改完毕。"}),
        ),
        command(
            "r2",
            "d-1",
            "deputy",
            "RateAnswer",
            &at(9),
            json!({"item_id": item, "rating": "satisfied"}),
        ),
        command(
            "rc",
            "liaison-01",
            "liaison",
            "ReconcileItem",
            &at(10),
            json!({"item_id": item}),
        ),
        command(
            "cl",
            "l-1",
            "leader",
            "CloseItem",
            &at(11),
            json!({"item_id": item}),
        ),
    ]);
    ok(&db, &steps);
    let told = |kind: &str| [format!("{kind} d-1 email"), format!("{kind} d-1 webhook")];
    let mut expected: Vec<String> = ["assigned", "answered", "answered", "rehandling", "closed"]
        .iter()
        .flat_map(|kind| told(kind))
        .collect();
    expected.sort();
    let (summary_first, queued) = step(&db, &settings, "2024-04-10T10:00:00+08:00");
    assert_eq!(summary_first, expected);
    let mut ids: Vec<&str> = queued
        .iter()
        .filter_map(|notice| notice["id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10, "each its own id");
    let before_rebuild = outbox_summary(&db).await;
    assert_eq!(before_rebuild.len(), 10);
    // A second item is assigned and nobody runs `remind`; then every projection is rebuilt.
    let second = lifecycle("2024-S-002");
    ok(&db, &second[..3]);
    let rebuilt = huiyin(&db, &["rebuild", "--quiet"], "");
    assert_eq!(
        rebuilt.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert_eq!(
        outbox_summary(&db).await,
        before_rebuild,
        "a rebuild queues nothing"
    );
    // …and skips nothing: the next run tells of the second assignment, once.
    let after = remind(&db, &settings, "2024-04-10T11:00:00+08:00", false);
    assert_eq!(
        summary(&after),
        ["assigned d-1 email", "assigned d-1 webhook"]
    );
    assert!(after.iter().all(|notice| notice["item_id"] == "2024-S-002"));
    assert_eq!(
        remind(&db, &settings, "2024-04-10T11:00:00+08:00", false),
        Vec::<Value>::new()
    );
    let rebuilt = huiyin(&db, &["rebuild", "--quiet"], "");
    assert_eq!(rebuilt.status.code(), Some(0));
    assert_eq!(
        outbox_summary(&db).await.len(),
        12,
        "the second rebuild queues nothing either"
    );
    assert_eq!(
        remind(&db, &settings, "2024-04-11T10:00:00+08:00", false),
        Vec::<Value>::new()
    );
}

/// Given a ledger with a history from before notices were set up, when `remind --skip-history`
/// runs, then none of that history is told, and an event after it is told once.
async fn skip_history_passes_over_past_status_notices_and_later_events_are_told(db: Fresh) {
    let settings = settings("[reminders.to]\ndigest = []");
    let config = settings.path.display().to_string();
    // Assigned on 2024-03-05 (its assignment would be told to d-1 on two channels); on
    // 2024-04-10 no reminder is due yet (halfway is 2024-04-20).
    ok(&db, &lifecycle("2024-S-001")[..3]);
    let remind_at_ten = |extra: &[&str]| {
        let mut args = vec![
            "--config",
            config.as_str(),
            "remind",
            "--now",
            "2024-04-10T10:00:00+08:00",
            "--skip-history",
        ];
        args.extend_from_slice(extra);
        huiyin(&db, &args, "")
    };
    let refused = remind_at_ten(&["--dry-run"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a dry run writes nothing: refused"
    );
    let skipped = remind_at_ten(&[]);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert_eq!(skipped.status.code(), Some(0), "{stderr}");
    assert_eq!(
        lines(&skipped),
        Vec::<Value>::new(),
        "nothing of the history queued"
    );
    assert!(
        stderr.contains("records 0..3 (2 status notices not queued)"),
        "says what it passed over: {stderr}"
    );
    assert_eq!(outbox_summary(&db).await, Vec::<String>::new());
    // The history stays passed over; what happens next is told, once.
    ok(&db, &lifecycle("2024-S-002")[..3]);
    let told = remind(&db, &settings, "2024-04-10T11:00:00+08:00", false);
    assert_eq!(
        summary(&told),
        ["assigned d-1 email", "assigned d-1 webhook"]
    );
    assert!(
        told.iter().all(|notice| notice["item_id"] == "2024-S-002"),
        "{told:?}"
    );
    assert_eq!(
        remind(&db, &settings, "2024-04-10T11:00:00+08:00", false),
        Vec::<Value>::new()
    );
    // Time-driven reminders are not history: the first item's halfway reminder still comes.
    let halfway = remind(&db, &settings, "2024-04-21T10:00:00+08:00", false);
    assert!(
        halfway
            .iter()
            .any(|notice| notice["item_id"] == "2024-S-001" && notice["kind"] == "halfway"),
        "{halfway:?}"
    );
}

async fn a_template_override_reaches_the_outbox_and_a_bad_one_stops_remind(db: Fresh) {
    let settings = settings(
        "[reminders.to]\ndigest = []\n\
         [reminders.templates.assigned]\n\
         subject = \"Item {item_id} is assigned\"\n\
         body = \"“{title}” goes to {lead_unit}; leader {leader}, round {round}.\"\n",
    );
    ok(&db, &lifecycle("2024-S-001")[..3]);
    let queued = remind(&db, &settings, "2024-03-05T10:00:00+08:00", false);
    assert_eq!(queued.len(), 2, "{queued:?}");
    let stores = infra::store::open_stores(&db.url).await.expect("open");
    let rows = stores.outbox.list().await.expect("list");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.entry.subject, "Item 2024-S-001 is assigned");
        assert_eq!(
            row.entry.body,
            "“关于加快执行案款发放的建议” goes to 执行局; leader 陈立新, round 1."
        );
    }
    // A placeholder the message does not have stops the program before anything is queued.
    let bad =
        self::settings("[reminders.templates.overdue]\nbody = \"{title} was due {due_date}\"\n");
    let config = bad.path.display().to_string();
    let refused = huiyin(
        &db,
        &[
            "--config",
            &config,
            "remind",
            "--now",
            "2024-07-01T10:00:00+08:00",
        ],
        "",
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("[reminders.templates.overdue] body"),
        "{stderr}"
    );
    assert!(
        stderr.contains("{due_date}") && stderr.contains("{due}"),
        "{stderr}"
    );
    assert_eq!(
        stores.outbox.list().await.expect("list").len(),
        2,
        "nothing queued"
    );
}
