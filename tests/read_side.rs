//! The read side against real databases: the live tables equal a rebuild, runners never skip
//! or double-apply, a failed batch leaves nothing behind, and appends wake the runner.

use std::sync::Arc;
use std::time::Duration;

use aggregates::rules::Rules;
use commands::{Clock, Ledger, Submitted};
use futures::TryStreamExt;
use infra::store::{open_stores, Stores};
use libtest_mimic::Trial;
use projections::board::{Board, BoardProjection, BoardView};
use projections::figures::FiguresProjection;
use projections::notices::NoticeProjection;
use projections::runner::{catch_up, rebuild, rebuild_all, run, Rebuilt, REBUILD_ROWS_CACHED_MAX};
use projections::Projection;
use serde_json::{json, Value};

use crate::support::{on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    trials.extend(on_both(
        "read_side",
        "live_board_equals_a_rebuild_after_random_commands",
        live_board_equals_a_rebuild_after_random_commands,
    ));
    trials.extend(on_both(
        "read_side",
        "rebuild_with_a_small_row_cache_equals_catch_up_on_random_commands",
        rebuild_with_a_small_row_cache_equals_catch_up_on_random_commands,
    ));
    trials.extend(on_both(
        "read_side",
        "rebuild_with_a_small_row_cache_equals_catch_up_on_the_demo",
        rebuild_with_a_small_row_cache_equals_catch_up_on_the_demo,
    ));
    trials.extend(on_both(
        "read_side",
        "a_failed_rebuild_leaves_every_table_as_it_was",
        a_failed_rebuild_leaves_every_table_as_it_was,
    ));
    trials.extend(on_both(
        "read_side",
        "a_rebuild_repairs_every_row_that_differs_from_the_log",
        a_rebuild_repairs_every_row_that_differs_from_the_log,
    ));
    trials.extend(on_both(
        "read_side",
        "concurrent_runners_never_apply_a_record_twice",
        concurrent_runners_never_apply_a_record_twice,
    ));
    trials.extend(on_both(
        "read_side",
        "failed_batch_transaction_leaves_rows_and_checkpoint_untouched",
        failed_batch_transaction_leaves_rows_and_checkpoint_untouched,
    ));
    trials.extend(on_both(
        "read_side",
        "append_wakes_a_waiting_runner",
        append_wakes_a_waiting_runner,
    ));
    trials.extend(on_both(
        "read_side",
        "live_runner_follows_appends_until_shut_down",
        live_runner_follows_appends_until_shut_down,
    ));
    trials.extend(on_both(
        "read_side",
        "board_as_of_replays_only_what_the_ledger_knew",
        board_as_of_replays_only_what_the_ledger_knew,
    ));
    trials
}

/// A fixed clock: commands here always carry their own `at`.
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }
}

fn ledger(db: &Fresh) -> Ledger {
    Ledger::new(Arc::clone(&db.store), Rules::default(), Arc::new(Fixed))
}

async fn stores(db: &Fresh) -> Stores {
    open_stores(&db.url).await.expect("open stores")
}

/// SplitMix64: a small deterministic generator, so a failing sequence can be replayed by seed.
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
        self.next() % n
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len() as u64) as usize]
    }
}

/// A random item command for `item_id`; `choice` (0–14) picks its type. Many are refused.
fn random_command(random: &mut Random, item_id: &str, choice: u64, step: u64) -> Value {
    let day = 1 + step / 8;
    let at = format!(
        "2024-{:02}-{:02}T10:00:00+08:00",
        1 + (day / 28).min(11),
        1 + day % 28
    );
    let (kind, actor, role, data) = match choice {
        0 => (
            "FileItem",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "kind": random.pick(&["suggestion", "inquiry", "deputy_letter"]),
            "title": format!("建议 {item_id}"), "body": "正文", "urgent": random.below(4) == 0,
            "deputies": [{"id": "d-1", "name": "王芳", "lead": true}]}),
        ),
        1 => (
            "TriageItem",
            "office-01",
            "court_office",
            json!({"item_id": item_id,
            "decision": random.pick(&["accept", "accept", "accept", "return"]), "reason": "理由"}),
        ),
        2 => (
            "AssignItem",
            "office-01",
            "court_office",
            json!({"item_id": item_id,
            "lead_unit": random.pick(&["执行局", "执行一庭"]), "leader": {"id": "l-1", "name": "陈立新", "level": "president"}}),
        ),
        3 => (
            "AnswerItem",
            "l-1",
            "leader",
            json!({"item_id": item_id, "class": random.pick(&["A", "B", "C"]),
            "text": "答复", "commitments": if random.below(3) == 0 { json!([{"id": format!("c-{step}"), "text": "承诺", "due": "2024-12-31"}]) } else { json!([]) }}),
        ),
        4 => (
            "RateAnswer",
            "d-1",
            "deputy",
            json!({"item_id": item_id,
            "rating": random.pick(&["satisfied", "basically_satisfied", "unsatisfied"])}),
        ),
        5 => (
            "ReconcileItem",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id}),
        ),
        6 => ("CloseItem", "l-1", "leader", json!({"item_id": item_id})),
        7 => (
            "FulfilCommitment",
            "h-1",
            "handler",
            json!({"item_id": item_id, "commitment_id": format!("c-{}", random.below(step + 1))}),
        ),
        8 => (
            "RecordContact",
            "h-1",
            "handler",
            json!({"item_id": item_id, "deputy_id": "d-1", "channel": "in_person",
                   "stage": random.pick(&["before", "during", "after"]), "summary": "面商"}),
        ),
        9 => (
            "RequestExtension",
            "l-1",
            "leader",
            json!({"item_id": item_id, "reason": "需调查",
                   "until": random.pick(&["2024-06-28", "2024-07-31", "2024-08-30", "2024-09-30"])}),
        ),
        10 => (
            "DecideExtension",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "approve": random.below(3) > 0, "note": "审批"}),
        ),
        11 => (
            "ReclassifyAnswer",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "class": random.pick(&["A", "B", "C", "D"]), "reason": "核定"}),
        ),
        // Withdrawal ends an item for good, so it is rare; progress reports are common.
        12 if random.below(8) == 0 => (
            "WithdrawItem",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "reason": "代表撤回"}),
        ),
        12 => (
            "ReportProgress",
            "h-1",
            "handler",
            json!({"item_id": item_id, "summary": "正在办理"}),
        ),
        13 => (
            "ReopenItem",
            "liaison-01",
            "liaison",
            json!({"item_id": item_id, "reason": "重新办理"}),
        ),
        _ => (
            "AcknowledgeItem",
            "h-1",
            "handler",
            json!({"item_id": item_id, "unit": random.pick(&["执行局", "执行一庭"])}),
        ),
    };
    json!({"command_id": format!("rand-{step}"), "type": kind, "at": at, "actor": actor, "role": role, "data": data})
}

/// Runs `commands` random steps. Each step picks an item and tries random command types on it
/// until one is accepted (at most twelve tries), so items move along their lifecycle and every
/// step also exercises refusals.
async fn run_random_commands(
    db: &Fresh,
    seed: u64,
    commands: u64,
    mut between: impl AsyncFnMut(u64),
) {
    let ledger = ledger(db);
    let mut random = Random(seed);
    for step in 0..commands {
        let item_id = format!("R-{:03}", random.below(25));
        for attempt in 0..12 {
            let choice = random.below(15);
            let mut command = random_command(&mut random, &item_id, choice, step);
            command["command_id"] = json!(format!("rand-{step}-{attempt}"));
            let submitted = Submitted::parse(&command.to_string()).expect("parse");
            let command_id = submitted.command_id.clone().expect("id");
            match ledger.execute(&submitted, &command_id, None).await {
                Ok(_) => break,
                Err(commands::CommandError::Refused { .. }) => continue,
                Err(failure) => panic!("the ledger failed: {failure}"),
            }
        }
        between(step).await;
    }
}

async fn board_json(rows: &[projections::board::BoardRow], folded: u64) -> String {
    let today: jiff::civil::Date = "2024-06-30".parse().expect("date");
    let view = BoardView::of(rows, folded, today, "2024-06-30T12:00:00+08:00".to_owned());
    serde_json::to_string(&view).expect("json")
}

async fn snapshot_json(stores: &Stores) -> (u64, Vec<(String, String)>, String) {
    let (checkpoint, rows) = stores
        .views
        .snapshot(BoardProjection::NAME)
        .await
        .expect("snapshot");
    let parsed: Vec<_> = rows
        .iter()
        .map(|(_, body)| serde_json::from_str(body).expect("row"))
        .collect();
    let view = board_json(&parsed, checkpoint).await;
    (checkpoint, rows, view)
}

async fn live_board_equals_a_rebuild_after_random_commands(db: Fresh) {
    let stores = stores(&db).await;
    let events = Arc::clone(&stores.events);
    let views = Arc::clone(&stores.views);
    run_random_commands(&db, 7, 400, async |step| {
        if step % 37 == 0 {
            catch_up::<BoardProjection>(&*events, &*views)
                .await
                .expect("catch up");
        }
    })
    .await;
    let tree_size = stores.events.head().await.expect("head").tree_size;
    assert!(
        tree_size > 100,
        "the random sequence should get somewhere ({tree_size} records)"
    );
    assert_eq!(
        catch_up::<BoardProjection>(&*stores.events, &*stores.views)
            .await
            .expect("catch up"),
        tree_size
    );
    let live = snapshot_json(&stores).await;
    rebuild::<BoardProjection>(&*stores.events, &*stores.views, |_, _| {})
        .await
        .expect("rebuild");
    let rebuilt = snapshot_json(&stores).await;
    assert_eq!(live.0, tree_size);
    assert_eq!(live, rebuilt);
    // And both equal a fold in memory of the whole log.
    let mut board = Board::default();
    let mut records = stores.events.read_all(0);
    while let Some(stored) = records.try_next().await.expect("read") {
        board
            .apply(&stored.record().expect("record"))
            .expect("fold");
    }
    assert_eq!(board.stored_rows().expect("rows"), live.1);
    // The figures table, kept live in the same batches, equals its rebuild too.
    catch_up::<FiguresProjection>(&*stores.events, &*stores.views)
        .await
        .expect("catch up");
    let live_figures = stores
        .views
        .snapshot(FiguresProjection::NAME)
        .await
        .expect("snapshot");
    rebuild::<FiguresProjection>(&*stores.events, &*stores.views, |_, _| {})
        .await
        .expect("rebuild");
    assert_eq!(
        live_figures,
        stores
            .views
            .snapshot(FiguresProjection::NAME)
            .await
            .expect("snapshot")
    );
    assert_eq!(live_figures.0, tree_size);
}

/// Every table `rebuild_all` writes, as stored: checkpoint and `(key, body)` rows.
async fn all_tables(stores: &Stores) -> Vec<(u64, Vec<(String, String)>)> {
    let mut tables = Vec::new();
    for name in [
        BoardProjection::NAME,
        FiguresProjection::NAME,
        NoticeProjection::NAME,
    ] {
        tables.push(stores.views.snapshot(name).await.expect("snapshot"));
    }
    tables
}

async fn catch_up_all(stores: &Stores) {
    catch_up::<BoardProjection>(&*stores.events, &*stores.views)
        .await
        .expect("catch up");
    catch_up::<FiguresProjection>(&*stores.events, &*stores.views)
        .await
        .expect("catch up");
    projections::notices::catch_up(
        &*stores.events,
        &*stores.views,
        &projections::notices::NoticeRules::default(),
        0,
    )
    .await
    .expect("catch up");
}

/// Rebuilds the three projections in one read of the log, each keeping at most
/// `rows_cached_max` rows in memory.
async fn rebuild_all_cached(stores: &Stores, rows_cached_max: usize) -> u64 {
    let mut board = Rebuilt::<BoardProjection>::with_rows_cached_max(rows_cached_max);
    let mut figures = Rebuilt::<FiguresProjection>::with_rows_cached_max(rows_cached_max);
    let mut notices = Rebuilt::<NoticeProjection>::with_rows_cached_max(rows_cached_max);
    rebuild_all(
        &*stores.events,
        &*stores.views,
        &mut [&mut board, &mut figures, &mut notices],
        |_, _| {},
    )
    .await
    .expect("rebuild")
}

/// The live tables, the tables a rebuild writes with a cache far smaller than the number of
/// items (rows written out and read back many times) and with the default cache, are the same
/// bytes.
async fn rebuilt_tables_equal_caught_up_ones(stores: &Stores) {
    catch_up_all(stores).await;
    let live = all_tables(stores).await;
    let tree_size = stores.events.head().await.expect("head").tree_size;
    assert!(live.iter().all(|(checkpoint, _)| *checkpoint == tree_size));
    assert!(
        live.iter().all(|(_, rows)| rows.len() > 6),
        "the ledger should have more rows than the small cache holds"
    );
    for rows_cached_max in [1, 4, REBUILD_ROWS_CACHED_MAX] {
        assert_eq!(rebuild_all_cached(stores, rows_cached_max).await, tree_size);
        assert!(
            live == all_tables(stores).await,
            "a rebuild keeping {rows_cached_max} rows differs from the live tables"
        );
    }
}

async fn rebuild_with_a_small_row_cache_equals_catch_up_on_random_commands(db: Fresh) {
    let stores = stores(&db).await;
    run_random_commands(&db, 13, 300, async |_| {}).await;
    rebuilt_tables_equal_caught_up_ones(&stores).await;
}

async fn rebuild_with_a_small_row_cache_equals_catch_up_on_the_demo(db: Fresh) {
    let loaded = crate::support::huiyin(&db, &["demo", "--format", "json"], "");
    assert!(loaded.status.success(), "demo: {loaded:?}");
    let stores = stores(&db).await;
    rebuilt_tables_equal_caught_up_ones(&stores).await;
}

/// A rebuild that fails part-way (here on one row written near the end) changes no table and
/// no checkpoint: the rows it had written out before are rolled back with it.
async fn a_failed_rebuild_leaves_every_table_as_it_was(db: Fresh) {
    let stores = stores(&db).await;
    run_random_commands(&db, 17, 200, async |_| {}).await;
    catch_up_all(&stores).await;
    let live = all_tables(&stores).await;
    let victim = &live[0].1.last().expect("some board row").0;
    // A rebuild writes only the rows that differ from the stored ones: make the victim's row
    // differ, so the rebuild must write it.
    crate::raw::execute(
        &db.url,
        &format!(
            "UPDATE projection_rows SET body = body || ' ' \
             WHERE projection = 'notices' AND row_key = '{victim}'"
        ),
    )
    .await
    .expect("change the victim's row");
    let before = all_tables(&stores).await;
    assert!(before != live);
    let (install, remove): (Vec<String>, &str) = if db.url.starts_with("postgres") {
        (vec![
            format!("CREATE FUNCTION fail_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.row_key = '{victim}' AND NEW.projection = 'notices' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$"),
            "CREATE TRIGGER fail_rebuild BEFORE INSERT OR UPDATE ON projection_rows FOR EACH ROW EXECUTE FUNCTION fail_rebuild()".to_owned(),
        ], "DROP TRIGGER fail_rebuild ON projection_rows")
    } else {
        (vec![
            format!("CREATE TRIGGER fail_rebuild_insert BEFORE INSERT ON projection_rows WHEN NEW.row_key = '{victim}' AND NEW.projection = 'notices' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
            format!("CREATE TRIGGER fail_rebuild_update BEFORE UPDATE ON projection_rows WHEN NEW.row_key = '{victim}' AND NEW.projection = 'notices' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
        ], "DROP TRIGGER fail_rebuild_insert; DROP TRIGGER fail_rebuild_update")
    };
    for statement in &install {
        crate::raw::execute(&db.url, statement)
            .await
            .expect(statement);
    }
    let mut board = Rebuilt::<BoardProjection>::with_rows_cached_max(2);
    let mut figures = Rebuilt::<FiguresProjection>::with_rows_cached_max(2);
    let mut notices = Rebuilt::<NoticeProjection>::with_rows_cached_max(2);
    let failed = rebuild_all(
        &*stores.events,
        &*stores.views,
        &mut [&mut board, &mut figures, &mut notices],
        |_, _| {},
    )
    .await;
    assert!(failed.is_err(), "the injected failure must surface");
    assert!(
        all_tables(&stores).await == before,
        "a failed rebuild must leave nothing behind"
    );
    for statement in remove.split("; ") {
        crate::raw::execute(&db.url, statement)
            .await
            .expect(statement);
    }
    rebuild_all_cached(&stores, 2).await;
    assert!(all_tables(&stores).await == live);
}

/// The board's columns and deputies as stored, a line of text each.
async fn board_columns(url: &str) -> Vec<String> {
    let mut lines = crate::raw::texts(
        url,
        "SELECT item_id || '|' || kind || '|' || status || '|' || lead_unit || '|' || leader \
         || '|' || due || '|' || awaiting_due || '|' \
         || COALESCE(CAST(answered_on_time AS TEXT), '-') || '|' || CAST(is_open AS TEXT) \
         || '|' || CAST(is_closed AS TEXT) || '|' || CAST(awaits_answer AS TEXT) || '|' \
         || last_activity_at FROM board_rows ORDER BY item_id",
    )
    .await
    .expect("board rows");
    lines.extend(
        crate::raw::texts(
            url,
            "SELECT deputy_id || '|' || item_id FROM board_deputies ORDER BY deputy_id, item_id",
        )
        .await
        .expect("board deputies"),
    );
    lines
}

/// Rows that differ from what the log folds to — changed, missing or stray, JSON rows and the
/// board's columns alike — are what a rebuild writes; afterwards every table equals the live
/// one again.
async fn a_rebuild_repairs_every_row_that_differs_from_the_log(db: Fresh) {
    let stores = stores(&db).await;
    run_random_commands(&db, 19, 200, async |_| {}).await;
    catch_up_all(&stores).await;
    let live = (all_tables(&stores).await, board_columns(&db.url).await);
    for statement in [
        "UPDATE projection_rows SET body = body || ' ' WHERE projection = 'figures' \
         AND row_key = (SELECT MIN(row_key) FROM projection_rows WHERE projection = 'figures')",
        "DELETE FROM projection_rows WHERE projection = 'notices' \
         AND row_key = (SELECT MAX(row_key) FROM projection_rows WHERE projection = 'notices')",
        "INSERT INTO projection_rows (projection, row_key, body) VALUES ('board', 'stray', '{}')",
        "UPDATE board_rows SET status = 'stray' \
         WHERE item_id = (SELECT MIN(item_id) FROM board_rows)",
        "UPDATE board_rows SET answered_on_time = NULL WHERE item_id = \
         (SELECT MIN(item_id) FROM board_rows WHERE answered_on_time IS NOT NULL)",
        "DELETE FROM board_rows WHERE item_id = (SELECT MAX(item_id) FROM board_rows)",
        "DELETE FROM board_deputies WHERE item_id = (SELECT MIN(item_id) FROM board_deputies)",
        "INSERT INTO board_deputies (deputy_id, item_id) VALUES ('nobody', 'stray')",
    ] {
        let changed = crate::raw::execute(&db.url, statement)
            .await
            .expect(statement);
        assert!(changed >= 1, "{statement} changed nothing");
    }
    let damaged = (all_tables(&stores).await, board_columns(&db.url).await);
    assert!(damaged.0 != live.0 && damaged.1 != live.1);
    for rows_cached_max in [4, REBUILD_ROWS_CACHED_MAX] {
        rebuild_all_cached(&stores, rows_cached_max).await;
        let rebuilt = (all_tables(&stores).await, board_columns(&db.url).await);
        assert!(
            rebuilt == live,
            "a rebuild keeping {rows_cached_max} rows left a difference"
        );
    }
}

async fn concurrent_runners_never_apply_a_record_twice(db: Fresh) {
    let stores = stores(&db).await;
    let runners: Vec<_> = (0..4)
        .map(|_| {
            let stores = stores.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    catch_up::<BoardProjection>(&*stores.events, &*stores.views)
                        .await
                        .expect("catch up");
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    run_random_commands(&db, 11, 300, async |_| {}).await;
    for runner in runners {
        runner.await.expect("runner");
    }
    catch_up::<BoardProjection>(&*stores.events, &*stores.views)
        .await
        .expect("catch up");
    let live = snapshot_json(&stores).await;
    rebuild::<BoardProjection>(&*stores.events, &*stores.views, |_, _| {})
        .await
        .expect("rebuild");
    assert_eq!(live, snapshot_json(&stores).await);
}

async fn failed_batch_transaction_leaves_rows_and_checkpoint_untouched(db: Fresh) {
    let stores = stores(&db).await;
    run_random_commands(&db, 3, 200, async |_| {}).await;
    catch_up::<BoardProjection>(&*stores.events, &*stores.views)
        .await
        .expect("catch up");
    let before = snapshot_json(&stores).await;
    run_random_commands(&db, 5, 200, async |_| {}).await;
    // A trigger makes the batch's transaction fail part-way: rows are written in key order, so
    // failing on the last item the new records touch lets the others be written first.
    let new_records: Vec<_> = stores
        .events
        .read_all(before.0)
        .try_collect()
        .await
        .expect("read");
    let victim = new_records
        .iter()
        .filter_map(|record| record.stream.strip_prefix("item/"))
        .max()
        .expect("the new commands touched some item")
        .to_owned();
    let (install, remove): (Vec<String>, &str) = if db.url.starts_with("postgres") {
        (vec![
            format!("CREATE FUNCTION fail_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.row_key = '{victim}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$"),
            "CREATE TRIGGER fail_batch BEFORE INSERT OR UPDATE ON projection_rows FOR EACH ROW EXECUTE FUNCTION fail_batch()".to_owned(),
        ], "DROP TRIGGER fail_batch ON projection_rows")
    } else {
        (vec![
            format!("CREATE TRIGGER fail_batch_insert BEFORE INSERT ON projection_rows WHEN NEW.row_key = '{victim}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
            format!("CREATE TRIGGER fail_batch_update BEFORE UPDATE ON projection_rows WHEN NEW.row_key = '{victim}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
        ], "DROP TRIGGER fail_batch_insert; DROP TRIGGER fail_batch_update")
    };
    for statement in &install {
        crate::raw::execute(&db.url, statement)
            .await
            .expect(statement);
    }
    let failed = catch_up::<BoardProjection>(&*stores.events, &*stores.views).await;
    assert!(failed.is_err(), "the injected failure must surface");
    assert_eq!(
        snapshot_json(&stores).await,
        before,
        "a failed batch must leave nothing behind"
    );
    for statement in remove.split("; ") {
        crate::raw::execute(&db.url, statement)
            .await
            .expect(statement);
    }
    catch_up::<BoardProjection>(&*stores.events, &*stores.views)
        .await
        .expect("catch up");
    let recovered = snapshot_json(&stores).await;
    rebuild::<BoardProjection>(&*stores.events, &*stores.views, |_, _| {})
        .await
        .expect("rebuild");
    assert_eq!(recovered, snapshot_json(&stores).await);
}

/// A bound on waits that should end at once; reaching it fails the test instead of hanging.
const WAIT_BOUND: Duration = Duration::from_secs(60);

async fn append_wakes_a_waiting_runner(db: Fresh) {
    // On PostgreSQL a second, independent connection pool stands for another process: NOTIFY
    // reaches it. On SQLite the signal is in-process, so the waiter shares the appender's store.
    let waiter = if db.url.starts_with("postgres") {
        stores(&db).await
    } else {
        let other = stores(&db).await;
        Stores {
            events: Arc::clone(&db.store),
            views: other.views,
            credentials: other.credentials,
            outbox: other.outbox,
        }
    };
    let before = waiter.events.head().await.expect("head").tree_size;
    let waiting = tokio::spawn(async move {
        // An hour: only an append can end this wait within the test's bound.
        waiter
            .events
            .wait_for_growth(before, Duration::from_secs(3600))
            .await
    });
    tokio::task::yield_now().await;
    let command = json!({"command_id": "wake", "type": "FileItem", "at": "2024-03-01T09:00:00+08:00",
        "actor": "liaison-01", "role": "liaison", "data": {"item_id": "W-1", "kind": "suggestion",
        "title": "唤醒", "body": "", "deputies": [{"id": "d-1", "name": "王芳"}]}});
    let submitted = Submitted::parse(&command.to_string()).expect("parse");
    ledger(&db)
        .execute(&submitted, "wake", None)
        .await
        .expect("append");
    let woken = tokio::time::timeout(WAIT_BOUND, waiting).await;
    let woken = woken.map(|joined| joined.expect("waiter"));
    let grown = woken
        .expect("an append must wake the waiter")
        .expect("wait");
    assert!(grown > before);
}

async fn live_runner_follows_appends_until_shut_down(db: Fresh) {
    let stores = stores(&db).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner_stores = stores.clone();
    let runner = tokio::spawn(async move {
        run::<BoardProjection>(&*runner_stores.events, &*runner_stores.views, async {
            let _ = stopped.await;
        })
        .await
    });
    run_random_commands(&db, 13, 150, async |_| {}).await;
    let tree_size = stores.events.head().await.expect("head").tree_size;
    let caught_up = tokio::time::timeout(WAIT_BOUND, async {
        while stores
            .views
            .checkpoint(BoardProjection::NAME)
            .await
            .expect("checkpoint")
            < tree_size
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    caught_up.expect("the live runner must reach the head");
    stop.send(()).expect("stop");
    runner.await.expect("runner").expect("run");
    let live = snapshot_json(&stores).await;
    rebuild::<BoardProjection>(&*stores.events, &*stores.views, |_, _| {})
        .await
        .expect("rebuild");
    assert_eq!(live, snapshot_json(&stores).await);
}

async fn board_as_of_replays_only_what_the_ledger_knew(db: Fresh) {
    let file = json!({"command_id": "a-1", "type": "FileItem", "at": "2024-03-01T09:00:00+08:00", "actor": "liaison-01", "role": "liaison",
        "data": {"item_id": "A-1", "kind": "suggestion", "title": "按期答复", "body": "", "deputies": [{"id": "d-1", "name": "王芳"}]}});
    let ledger = ledger(&db);
    let submitted = Submitted::parse(&file.to_string()).expect("parse");
    ledger.execute(&submitted, "a-1", None).await.expect("file");
    let filed_at: jiff::Timestamp = db
        .store
        .read_all(0)
        .try_collect::<Vec<_>>()
        .await
        .expect("read")[0]
        .record()
        .expect("record")
        .recorded_at
        .parse()
        .expect("time");
    let steps = [
        json!({"type": "TriageItem", "actor": "office-01", "role": "court_office", "data": {"item_id": "A-1", "decision": "accept"}}),
        json!({"type": "AssignItem", "actor": "office-01", "role": "court_office", "data": {"item_id": "A-1", "lead_unit": "执行局", "leader": {"id": "l-1", "name": "陈立新", "level": "president"}}}),
        json!({"type": "AnswerItem", "actor": "l-1", "role": "leader", "data": {"item_id": "A-1", "class": "A", "text": "答复"}}),
    ];
    for (index, step) in steps.iter().enumerate() {
        let mut step = step.clone();
        step["at"] = json!(format!("2024-03-0{}T09:00:00+08:00", index + 2));
        let submitted = Submitted::parse(&step.to_string()).expect("parse");
        ledger
            .execute(&submitted, &format!("a-step-{index}"), None)
            .await
            .expect("step");
    }
    let huiyin = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_huiyin"))
            .arg("--db")
            .arg(&db.url)
            .args(args)
            .output()
            .expect("huiyin");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).expect("board JSON")
    };
    // Before the answer (position 3), the item is assigned and unanswered.
    let before_answer = huiyin(&["board", "--format", "json", "--as-of", "2"]);
    assert_eq!(before_answer["as_of_position"], 2);
    assert_eq!(before_answer["items"][0]["status"], "assigned");
    assert_eq!(before_answer["items"][0]["class"], Value::Null);
    assert_eq!(before_answer["summary"]["answered"], 0);
    // As of a moment before the filing was recorded, the item is absent.
    let earlier = (filed_at - jiff::SignedDuration::from_secs(1)).to_string();
    let before_filing = huiyin(&["board", "--format", "json", "--as-of", &earlier]);
    assert_eq!(before_filing["items"], json!([]));
    assert_eq!(before_filing["as_of_position"], Value::Null);
    // Now, the live board shows the answer.
    let live = huiyin(&["board", "--format", "json", "--now", "2024-03-10"]);
    assert_eq!(live["items"][0]["status"], "answered");
    assert_eq!(live["as_of_position"], 3);
}
