//! The scheduler (issue 9): a test timer moved through an item's life; the scheduler queues
//! and delivers exactly the expected notices, once each, on both backends.

use std::sync::Arc;
use std::time::Duration;

use aggregates::rules::Rules;
use async_trait::async_trait;
use commands::{Clock, Ledger, Submitted};
use huiyin::scheduler::{run, Delivery, Progress, Timer};
use infra::outbox::DeliveryState;
use infra::store::{open_stores, Stores};
use jiff::Timestamp;
use libtest_mimic::Trial;
use notify::webhook::WebhookChannel;
use notify::{Channels, RetryPolicy};
use projections::notices::{Address, NoticeKind, NoticeRules};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::e2e::lifecycle;
use crate::send::{webhook_receiver, SECRET};
use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = on_both(
        "scheduler",
        "the_scheduler_on_a_moved_clock_queues_and_delivers_each_notice_once",
        the_scheduler_on_a_moved_clock_queues_and_delivers_each_notice_once,
    );
    trials.extend(on_both(
        "scheduler",
        "huiyin_notify_delivers_a_status_notice_and_stops_on_sigterm",
        huiyin_notify_delivers_a_status_notice_and_stops_on_sigterm,
    ));
    trials
}

/// How long a test waits for the scheduler to reach a state before it fails.
const WAIT_BOUND: Duration = Duration::from_secs(60);

/// A timer the test moves; a wait returns as soon as it is moved.
pub struct TestTimer(watch::Sender<Timestamp>);

impl TestTimer {
    pub fn at(text: &str) -> Arc<Self> {
        Arc::new(TestTimer(watch::Sender::new(
            text.parse().expect("a moment"),
        )))
    }

    pub fn move_to(&self, text: &str) -> Timestamp {
        let to: Timestamp = text.parse().expect("a moment");
        assert!(to >= *self.0.borrow(), "time goes forward");
        self.0.send_replace(to);
        to
    }
}

#[async_trait]
impl Timer for TestTimer {
    fn now(&self) -> Timestamp {
        *self.0.borrow()
    }

    async fn wait_until(&self, seen: Timestamp, deadline: Timestamp) {
        let mut moved = self.0.subscribe();
        let _ = moved.wait_for(|now| *now != seen || *now >= deadline).await;
    }
}

/// The recorded time of appends; business time is on each command.
struct Epoch;

impl Clock for Epoch {
    fn now(&self) -> Timestamp {
        Timestamp::UNIX_EPOCH
    }
}

fn rules() -> NoticeRules {
    let mut rules = NoticeRules {
        liaison_office: "office-rd".to_owned(),
        ..NoticeRules::default()
    };
    rules.audiences.insert(NoticeKind::Digest, Vec::new());
    for (to, address) in [
        ("l-1", "13800000000"),
        ("d-1", "13800000001"),
        ("office-rd", "13800000002"),
    ] {
        let address = Address {
            channel: "webhook".to_owned(),
            address: address.to_owned(),
        };
        rules.addresses.insert(to.to_owned(), vec![address]);
    }
    rules
}

/// Waits until the scheduler has made a pass at `at` or later that folded `records`.
async fn passed(progress: &mut watch::Receiver<Progress>, at: Timestamp, records: u64) -> Progress {
    let reached = tokio::time::timeout(
        WAIT_BOUND,
        progress.wait_for(|done| done.at >= at && done.checkpoint >= records),
    )
    .await
    .unwrap_or_else(|_| panic!("no pass at {at} over {records} records within the bound"));
    *reached.expect("the scheduler is running")
}

/// The outbox as sorted `kind to channel state` lines.
async fn outbox(stores: &Stores) -> Vec<String> {
    let mut lines: Vec<String> = stores
        .outbox
        .list()
        .await
        .expect("list")
        .iter()
        .map(|row| {
            format!(
                "{} {} {} {}",
                row.entry.kind,
                row.entry.recipient,
                row.entry.channel,
                row.state.as_str()
            )
        })
        .collect();
    lines.sort();
    lines
}

async fn execute(ledger: &Ledger, commands: &[Value]) {
    for command in commands {
        let submitted = Submitted::parse(&command.to_string()).expect("parse");
        let id = submitted.command_id.clone().expect("id");
        ledger
            .execute(&submitted, &id, None)
            .await
            .expect("accepted");
    }
}

async fn the_scheduler_on_a_moved_clock_queues_and_delivers_each_notice_once(db: Fresh) {
    let stores = open_stores(&db.url).await.expect("open");
    // The ledger appends through the scheduler's own store, so an append wakes it on SQLite too.
    let ledger = Ledger::new(
        Arc::clone(&stores.events),
        Rules::default(),
        Arc::new(Epoch),
    );
    let (url, seen) = webhook_receiver(0).await;
    let delivery = Delivery {
        channels: Channels {
            email: None,
            webhook: Some(Arc::new(
                WebhookChannel::new(&url, SECRET.to_vec()).expect("url"),
            )),
        },
        policy: RetryPolicy::default(),
        every: Duration::from_secs(60),
    };
    let timer = TestTimer::at("2024-03-05T08:00:00+08:00");
    let (progress, mut done) = watch::channel(Progress::default());
    let (stop, stopping) = watch::channel(false);
    let scheduler = tokio::spawn(run(
        stores.clone(),
        Rules::default().deadlines.calendar,
        rules(),
        Some(delivery),
        Arc::clone(&timer) as Arc<dyn Timer>,
        progress,
        stopping,
    ));
    let steps = lifecycle("2024-S-001");
    let mut expected: Vec<String> = Vec::new();
    let mut expect = |more: &[&str]| {
        expected.extend(more.iter().map(|line| (*line).to_owned()));
        expected.sort();
        expected.clone()
    };
    // Filed, accepted and assigned on 2024-03-05 (due 2024-06-05): the deputy is told at once,
    // with no move of the clock: the append wakes the scheduler.
    let now = timer.move_to("2024-03-05T09:30:00+08:00");
    passed(&mut done, now, 0).await;
    execute(&ledger, &steps[..3]).await;
    passed(&mut done, now, 3).await;
    assert_eq!(
        outbox(&stores).await,
        expect(&["assigned d-1 webhook sent"])
    );
    // Nothing time-driven until half the time has passed, on 2024-04-20 from 08:30.
    for moment in ["2024-04-19T09:00:00+08:00", "2024-04-20T08:29:59+08:00"] {
        let now = timer.move_to(moment);
        passed(&mut done, now, 3).await;
        assert_eq!(outbox(&stores).await, expect(&[]), "at {moment}");
    }
    let now = timer.move_to("2024-04-20T08:30:00+08:00");
    passed(&mut done, now, 3).await;
    let halfway = ["halfway l-1 webhook sent", "halfway unit:执行局 none dead"];
    assert_eq!(outbox(&stores).await, expect(&halfway));
    let now = timer.move_to("2024-05-29T09:00:00+08:00");
    passed(&mut done, now, 3).await;
    let due_soon = [
        "due_soon l-1 webhook sent",
        "due_soon unit:执行局 none dead",
    ];
    assert_eq!(outbox(&stores).await, expect(&due_soon));
    // Every day from the first overdue one: the first, and a week later the next.
    for moment in [
        "2024-06-06T09:00:00+08:00",
        "2024-06-06T18:00:00+08:00",
        "2024-06-10T09:00:00+08:00",
    ] {
        let now = timer.move_to(moment);
        passed(&mut done, now, 3).await;
    }
    let overdue = ["overdue l-1 webhook sent", "overdue office-rd webhook sent"];
    assert_eq!(outbox(&stores).await, expect(&overdue));
    let now = timer.move_to("2024-06-13T09:00:00+08:00");
    passed(&mut done, now, 3).await;
    assert_eq!(
        outbox(&stores).await,
        expect(&overdue),
        "a week after the first"
    );
    // Answered late: told at once; and no reminder after it.
    let answer = json!({"command_id": "a1", "actor": "l-1", "role": "leader", "type": "AnswerItem",
        "at": "2024-06-14T09:00:00+08:00",
        "data": {"item_id": "2024-S-001", "class": "B", "text": "已制定整改方案。"}});
    let now = timer.move_to("2024-06-14T09:00:00+08:00");
    execute(&ledger, &[answer]).await;
    passed(&mut done, now, 4).await;
    assert_eq!(
        outbox(&stores).await,
        expect(&["answered d-1 webhook sent"])
    );
    let now = timer.move_to("2024-07-20T09:00:00+08:00");
    passed(&mut done, now, 4).await;
    assert_eq!(outbox(&stores).await, expect(&[]));
    let _ = stop.send(true);
    tokio::time::timeout(WAIT_BOUND, scheduler)
        .await
        .expect("the scheduler stops")
        .expect("the scheduler did not panic");
    // Each webhook notice reached the gateway exactly once.
    let rows = stores.outbox.list().await.expect("list");
    let mut delivered: Vec<String> = seen
        .lock()
        .expect("seen")
        .iter()
        .map(|got| got.id.clone())
        .collect();
    delivered.sort();
    let mut sent: Vec<String> = rows
        .iter()
        .filter(|row| row.state == DeliveryState::Sent)
        .map(|row| row.entry.id.clone())
        .collect();
    sent.sort();
    assert_eq!(sent.len(), 8);
    assert_eq!(delivered, sent);
}

async fn huiyin_notify_delivers_a_status_notice_and_stops_on_sigterm(db: Fresh) {
    let (code, _) = crate::e2e::exec(&db, &lifecycle("2024-S-001")[..3]);
    assert_eq!(code, Some(0));
    let (url, seen) = webhook_receiver(0).await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = dir.path().join("huiyin.toml");
    let text = format!(
        "[reminders.to]\ndigest = []\nhalfway = []\ndue_soon = []\noverdue = []\n\
         [reminders.addresses.d-1]\nwebhook = \"13800000001\"\n[sender.webhook]\nurl = \"{url}\"\n"
    );
    std::fs::write(&config, text).expect("write");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .arg("--db")
        .arg(&db.url)
        .arg("--config")
        .arg(&config)
        .arg("notify")
        .env(
            "HUIYIN_WEBHOOK_SECRET",
            std::str::from_utf8(SECRET).expect("ASCII"),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start huiyin notify");
    // The first pass folds the log, queues the assignment's notice and delivers it at once.
    let delivered = tokio::time::timeout(WAIT_BOUND, async {
        loop {
            if !seen.lock().expect("seen").is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    if delivered.is_err() {
        let _ = child.kill();
        panic!("huiyin notify delivered nothing within {WAIT_BOUND:?}");
    }
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(
        sent.is_ok_and(|status| status.success()),
        "kill -TERM {pid}"
    );
    let (tell, told) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tell.send(child.wait_with_output());
    });
    let output = told
        .recv_timeout(WAIT_BOUND)
        .expect("huiyin notify stops on SIGTERM within the bound")
        .expect("reaped");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = seen.lock().expect("seen").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body["kind"], "assigned");
    assert!(seen[0].signature_ok);
}
