//! Proof for auditors, through the real binary on both backends: keys, checkpoints, witness
//! cosignatures, proofs checked offline, live tampering caught by `verify` at the right
//! position, and export → import into the other backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use futures::TryStreamExt;
use infra::merkle::CompactRange;
use infra::record::{seal, Record};
use libtest_mimic::Trial;
use serde_json::Value;

use crate::e2e::{exec, lifecycle, lines};
use crate::support::huiyin;
use crate::support::{fresh, on_both, Db, Fresh};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    macro_rules! both {
        ($name:ident) => {
            trials.extend(on_both("proof", stringify!($name), $name));
        };
    }
    both!(keygen_writes_a_secret_key_file_and_a_public_key);
    both!(checkpoint_signs_stores_and_prints_a_note_and_repeats_it_unchanged);
    both!(prove_output_verifies_offline_and_a_changed_root_does_not);
    both!(witness_cosigns_and_verify_checks_the_cosignature);
    both!(tamper_one_byte_of_a_record_is_found_at_its_position);
    both!(tamper_deleted_record_is_found_at_its_position);
    both!(tamper_swapped_records_are_found_at_the_first_position);
    both!(tamper_rewritten_chain_is_caught_only_by_the_signed_checkpoint);
    both!(tamper_truncated_tail_after_a_checkpoint_is_found);
    both!(export_imports_into_the_other_backend_with_the_same_board);
    both!(export_with_one_byte_changed_is_refused_and_appends_nothing);
    both!(a_split_view_signed_with_the_ledger_key_is_caught_by_an_auditor_holding_a_checkpoint);
    both!(the_demo_ledger_restored_into_the_other_backend_has_the_same_root_board_and_figures);
    trials
}

/// Runs `huiyin --db URL ARGS…` in `dir`.
fn run(url: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiyin"))
        .arg("--db")
        .arg(url)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("huiyin runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A folder for key and export files, and the ledger key made in it.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new(db: &Fresh) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let made = run(&db.url, dir.path(), &["keygen", "--out", "ledger"]);
        assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
        Keys { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn checkpoint(&self, db: &Fresh) -> String {
        let signed = run(
            &db.url,
            self.dir.path(),
            &["checkpoint", "--key", "ledger.key"],
        );
        assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
        stdout(&signed)
    }

    /// `verify --key ledger.pub` plus `extra`: the exit code and the JSON line.
    fn verify(&self, db: &Fresh, extra: &[&str]) -> (Option<i32>, Value) {
        let mut args = vec!["verify", "--key", "ledger.pub"];
        args.extend_from_slice(extra);
        let output = run(&db.url, self.dir.path(), &args);
        (output.status.code(), lines(&output)[0].clone())
    }
}

fn filed(db: &Fresh, item: &str) {
    let (code, results) = exec(db, &lifecycle(item));
    assert_eq!(code, Some(0), "{results:?}");
}

async fn keygen_writes_a_secret_key_file_and_a_public_key(db: Fresh) {
    use std::os::unix::fs::PermissionsExt;
    let keys = Keys::new(&db);
    let mode = std::fs::metadata(keys.path("ledger.key"))
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let secret = std::fs::read_to_string(keys.path("ledger.key")).expect("key");
    let public = std::fs::read_to_string(keys.path("ledger.pub")).expect("pub");
    assert!(secret.starts_with("PRIVATE+KEY+huiyin/default+"));
    assert!(public.starts_with("huiyin/default+"));
    // Never overwrites a key, and needs no database: a --db in a missing folder is not opened.
    let again = run(
        "/nonexistent/folder/x.db",
        keys.dir.path(),
        &["keygen", "--out", "ledger"],
    );
    assert_eq!(again.status.code(), Some(1));
    let named = run(
        "/nonexistent/folder/x.db",
        keys.dir.path(),
        &["keygen", "--name", "huiyin/county-court", "--out", "county"],
    );
    assert_eq!(named.status.code(), Some(0), "{}", stderr(&named));
    assert!(stdout(&named).starts_with("huiyin/county-court+"));
    // A key named for another ledger does not sign this one's checkpoints.
    filed(&db, "2024-S-201");
    let wrong = run(
        &db.url,
        keys.dir.path(),
        &["checkpoint", "--key", "county.key"],
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("origin huiyin/default"),
        "{}",
        stderr(&wrong)
    );
    let right = run(
        &db.url,
        keys.dir.path(),
        &[
            "--ledger",
            "county-court",
            "checkpoint",
            "--key",
            "county.key",
        ],
    );
    assert_eq!(right.status.code(), Some(0), "{}", stderr(&right));
    assert!(stdout(&right).starts_with("huiyin/county-court\n7\n"));
}

async fn checkpoint_signs_stores_and_prints_a_note_and_repeats_it_unchanged(db: Fresh) {
    let keys = Keys::new(&db);
    let empty = keys.checkpoint(&db);
    assert!(
        empty.starts_with("huiyin/default\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n")
    );
    filed(&db, "2024-S-202");
    let note = keys.checkpoint(&db);
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[0], "huiyin/default");
    assert_eq!(lines[1], "7");
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("\u{2014} huiyin/default "));
    assert_eq!(
        keys.checkpoint(&db),
        note,
        "an unchanged log gets the same checkpoint"
    );
    let (code, verified) = keys.verify(&db, &[]);
    assert_eq!(code, Some(0), "{verified}");
    assert_eq!(verified["checkpoints"], 2);
    assert_eq!(verified["checkpoint_size"], 7);
    assert_eq!(verified["signatures"], "verified");
    // The root in the note is the root `prove` reports.
    let proved = run(&db.url, keys.dir.path(), &["prove", "--index", "0"]);
    let root_hex = lines_json(&proved)["root"]
        .as_str()
        .expect("root")
        .to_owned();
    let root_base64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(hex::decode(root_hex).expect("hex"))
    };
    assert_eq!(lines[2], root_base64);
}

fn lines_json(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    lines(output)[0].clone()
}

fn hex_join(value: &Value) -> String {
    value
        .as_array()
        .expect("proof")
        .iter()
        .map(|hash| hash.as_str().expect("hex"))
        .collect::<Vec<_>>()
        .join(",")
}

async fn prove_output_verifies_offline_and_a_changed_root_does_not(db: Fresh) {
    filed(&db, "2024-S-203");
    filed(&db, "2024-S-204");
    let here = tempfile::tempdir().expect("folder");
    // Offline checks get a --db in a folder that does not exist: they must not open it.
    let offline = "/nonexistent/folder/x.db";
    let inclusion = lines_json(&run(
        &db.url,
        here.path(),
        &["prove", "--index", "5", "--size", "11"],
    ));
    assert_eq!(inclusion["index"], 5);
    assert_eq!(inclusion["size"], 11);
    let check = |root: &str| {
        run(
            offline,
            here.path(),
            &[
                "tlog",
                "verify-inclusion",
                "--leaf-hash",
                inclusion["leaf_hash"].as_str().expect("leaf"),
                "--index",
                "5",
                "--size",
                "11",
                "--root",
                root,
                "--proof",
                &hex_join(&inclusion["proof"]),
            ],
        )
    };
    let valid = check(inclusion["root"].as_str().expect("root"));
    assert_eq!(valid.status.code(), Some(0), "{}", stdout(&valid));
    assert_eq!(stdout(&valid), "valid\n");
    let invalid = check(&"ab".repeat(32));
    assert_eq!(invalid.status.code(), Some(1));
    assert!(stdout(&invalid).starts_with("invalid: the proof leads to root"));
    assert_eq!(stdout(&invalid).lines().count(), 1);
    let short = check("abcd");
    assert_eq!(short.status.code(), Some(1));
    assert!(stdout(&short).contains("32-byte"), "{}", stdout(&short));
    consistency_proof_verifies_offline(&db, here.path(), offline);
}

fn consistency_proof_verifies_offline(db: &Fresh, here: &Path, offline: &str) {
    let consistency = lines_json(&run(&db.url, here, &["prove", "--from", "3", "--to", "14"]));
    let check = |size1: &str| {
        run(
            offline,
            here,
            &[
                "tlog",
                "verify-consistency",
                "--size1",
                size1,
                "--size2",
                "14",
                "--root1",
                consistency["root1"].as_str().expect("root1"),
                "--root2",
                consistency["root2"].as_str().expect("root2"),
                "--proof",
                &hex_join(&consistency["proof"]),
            ],
        )
    };
    assert_eq!(check("3").status.code(), Some(0));
    let wrong = check("4");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stdout(&wrong).starts_with("invalid: "));
    // Requests the log cannot answer are refused with exit 1.
    let beyond = run(&db.url, here, &["prove", "--index", "14"]);
    assert_eq!(beyond.status.code(), Some(1));
    let from_empty = run(&db.url, here, &["prove", "--from", "0", "--to", "3"]);
    assert_eq!(from_empty.status.code(), Some(1));
}

async fn witness_cosigns_and_verify_checks_the_cosignature(db: Fresh) {
    let keys = Keys::new(&db);
    let dir = keys.dir.path();
    let made = run(
        &db.url,
        dir,
        &[
            "keygen",
            "--witness",
            "--name",
            "liaison.example/w1",
            "--out",
            "witness",
        ],
    );
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    filed(&db, "2024-S-205");
    let nothing_signed = run(
        &db.url,
        dir,
        &["cosign", "--key", "witness.key", "--log-key", "ledger.pub"],
    );
    assert_eq!(nothing_signed.status.code(), Some(1));
    keys.checkpoint(&db);
    let cosigned = run(
        &db.url,
        dir,
        &["cosign", "--key", "witness.key", "--log-key", "ledger.pub"],
    );
    assert_eq!(cosigned.status.code(), Some(0), "{}", stderr(&cosigned));
    assert!(stdout(&cosigned).contains("\u{2014} liaison.example/w1 "));
    let (code, verified) = keys.verify(&db, &["--witness-key", "witness.pub"]);
    assert_eq!(code, Some(0), "{verified}");
    assert_eq!(verified["witnessed_size"], 7);
    // The cosignature travels in the export's checkpoint line.
    let exported = run(&db.url, dir, &["export", "--out", "cosigned.jsonl"]);
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let checked = run(
        &db.url,
        dir,
        &[
            "verify",
            "--export",
            "cosigned.jsonl",
            "--key",
            "ledger.pub",
            "--witness-key",
            "witness.pub",
        ],
    );
    assert_eq!(lines_json(&checked)["witnessed_size"], 7);
    // The witness key cannot sign checkpoints, nor the ledger key cosign.
    let swapped = run(
        &db.url,
        dir,
        &["cosign", "--key", "ledger.key", "--log-key", "ledger.pub"],
    );
    assert_eq!(swapped.status.code(), Some(1));
    // A cosignature changed in the database is caught when the witness key is given.
    drop_triggers(&db.url, "cosignatures").await;
    raw(&db.url, "UPDATE cosignatures SET line = replace(line, 'liaison.example/w1 ', 'liaison.example/w1 A')").await;
    let (code, broken) = keys.verify(&db, &["--witness-key", "witness.pub"]);
    assert_eq!(code, Some(2), "{broken}");
    assert_eq!(broken["checkpoint_size"], 7);
}

// ---------------------------------------------------------------------------------------------
// Live tampering, as an attacker with database rights would: triggers dropped first.

async fn raw(url: &str, statement: &str) {
    crate::raw::execute(url, statement).await.expect(statement);
}

async fn drop_triggers(url: &str, table: &str) {
    if url.starts_with("postgres") {
        raw(
            url,
            &format!("DROP TRIGGER {table}_refuse_change ON {table}"),
        )
        .await;
    } else {
        raw(url, &format!("DROP TRIGGER {table}_refuse_update")).await;
        raw(url, &format!("DROP TRIGGER {table}_refuse_delete")).await;
    }
}

fn blob(url: &str, bytes: &[u8]) -> String {
    if url.starts_with("postgres") {
        format!("decode('{}', 'hex')", hex::encode(bytes))
    } else {
        format!("X'{}'", hex::encode(bytes))
    }
}

/// A ledger of one item's seven records (positions 0–6) with a signed checkpoint of all seven.
fn signed_ledger(db: &Fresh, item: &str) -> Keys {
    let keys = Keys::new(db);
    filed(db, item);
    keys.checkpoint(db);
    keys
}

async fn expect_broken_at(db: &Fresh, keys: &Keys, position: u64) -> Value {
    let (code, result) = keys.verify(db, &[]);
    assert_eq!(code, Some(2), "{result}");
    assert_eq!(result["position"], position, "{result}");
    result
}

async fn tamper_one_byte_of_a_record_is_found_at_its_position(db: Fresh) {
    let keys = signed_ledger(&db, "2024-S-301");
    drop_triggers(&db.url, "events").await;
    let statement = if db.url.starts_with("postgres") {
        r#"UPDATE events SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), '"class":"A"', '"class":"B"'), 'UTF8') WHERE position = 3"#
    } else {
        r#"UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"class":"A"', '"class":"B"') AS BLOB) WHERE position = 3"#
    };
    raw(&db.url, statement).await;
    expect_broken_at(&db, &keys, 3).await;
}

async fn tamper_deleted_record_is_found_at_its_position(db: Fresh) {
    let keys = signed_ledger(&db, "2024-S-302");
    drop_triggers(&db.url, "events").await;
    raw(&db.url, "DELETE FROM events WHERE position = 3").await;
    expect_broken_at(&db, &keys, 3).await;
}

async fn tamper_swapped_records_are_found_at_the_first_position(db: Fresh) {
    let keys = signed_ledger(&db, "2024-S-303");
    drop_triggers(&db.url, "events").await;
    raw(
        &db.url,
        "UPDATE events SET position = 1000 WHERE position = 3",
    )
    .await;
    raw(&db.url, "UPDATE events SET position = 3 WHERE position = 4").await;
    raw(
        &db.url,
        "UPDATE events SET position = 4 WHERE position = 1000",
    )
    .await;
    expect_broken_at(&db, &keys, 3).await;
}

/// Rewrites record `position`'s data and every later record (so each `prev` and hash is
/// consistent again), the head, and the Merkle nodes: all an attacker can recompute.
async fn rewrite_from(db: &Fresh, position: u64) {
    let stored: Vec<_> = db.store.read_all(0).try_collect().await.expect("records");
    let mut records: Vec<Record> = stored.iter().map(|s| s.record().expect("record")).collect();
    let class = records[position as usize].data["class"].clone();
    assert_eq!(class, "A");
    records[position as usize].data["class"] = "B".into();
    for table in ["events", "merkle_nodes"] {
        drop_triggers(&db.url, table).await;
    }
    let mut range = CompactRange::empty();
    let mut prev = infra::record::Hash::ZERO;
    raw(
        &db.url,
        &format!("DELETE FROM merkle_nodes WHERE leaf_end > {position}"),
    )
    .await;
    for mut record in records {
        record.prev = prev;
        let at = record.position;
        let sealed = seal(record).expect("seal");
        prev = sealed.hash;
        for (id, hash) in range.append(sealed.hash) {
            if id.leaf_end() > position {
                raw(&db.url, &format!(
                    "INSERT INTO merkle_nodes (level, node_index, leaf_end, hash) VALUES ({}, {}, {}, {})",
                    id.level(), id.index(), id.leaf_end(), blob(&db.url, hash.as_bytes())
                )).await;
            }
        }
        if at >= position {
            raw(
                &db.url,
                &format!(
                    "UPDATE events SET canonical = {}, hash = {}, prev = {} WHERE position = {at}",
                    blob(&db.url, &sealed.canonical),
                    blob(&db.url, sealed.hash.as_bytes()),
                    blob(&db.url, sealed.record.prev.as_bytes())
                ),
            )
            .await;
        }
    }
    raw(
        &db.url,
        &format!(
            "UPDATE ledger_head SET head_hash = {} WHERE id = 1",
            blob(&db.url, prev.as_bytes())
        ),
    )
    .await;
}

async fn tamper_rewritten_chain_is_caught_only_by_the_signed_checkpoint(db: Fresh) {
    let keys = Keys::new(&db);
    let steps = lifecycle("2024-S-304");
    let (code, _) = exec(&db, &steps[..3]);
    assert_eq!(code, Some(0));
    keys.checkpoint(&db);
    let (code, _) = exec(&db, &steps[3..]);
    assert_eq!(code, Some(0));
    let held = keys.checkpoint(&db);
    std::fs::write(keys.path("held.txt"), &held).expect("held checkpoint");
    rewrite_from(&db, 3).await;
    // The records vouched for by the checkpoint of 3 are intact; the rewrite starts at 3.
    let result = expect_broken_at(&db, &keys, 3).await;
    assert!(
        result["reason"]
            .as_str()
            .expect("reason")
            .contains("signed checkpoint"),
        "{result}"
    );
    // The ledger refuses to sign the rewritten log.
    let refused = run(
        &db.url,
        keys.dir.path(),
        &["checkpoint", "--key", "ledger.key"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not consistent"),
        "{}",
        stderr(&refused)
    );
    // Without its checkpoints the rewritten log looks intact: the chain and tree agree…
    drop_triggers(&db.url, "checkpoints").await;
    raw(&db.url, "DELETE FROM checkpoints").await;
    let (code, result) = keys.verify(&db, &[]);
    assert_eq!(code, Some(0), "{result}");
    // …but not to an auditor holding the signed checkpoint outside the database.
    let (code, result) = keys.verify(&db, &["--checkpoint", &keys.arg("held.txt")]);
    assert_eq!(code, Some(2), "{result}");
}

async fn tamper_truncated_tail_after_a_checkpoint_is_found(db: Fresh) {
    let keys = signed_ledger(&db, "2024-S-305");
    let stored: Vec<_> = db.store.read_all(0).try_collect().await.expect("records");
    for table in ["events", "merkle_nodes", "commands"] {
        drop_triggers(&db.url, table).await;
    }
    raw(&db.url, "DELETE FROM events WHERE position >= 5").await;
    raw(&db.url, "DELETE FROM merkle_nodes WHERE leaf_end > 5").await;
    raw(&db.url, "DELETE FROM commands WHERE first_position >= 5").await;
    raw(
        &db.url,
        &format!(
            "UPDATE ledger_head SET tree_size = 5, head_hash = {} WHERE id = 1",
            blob(&db.url, stored[4].hash.as_bytes())
        ),
    )
    .await;
    let result = expect_broken_at(&db, &keys, 5).await;
    assert!(
        result["reason"]
            .as_str()
            .expect("reason")
            .contains("removed"),
        "{result}"
    );
}

// ---------------------------------------------------------------------------------------------
// Export and import.

fn other(db: &Fresh) -> Db {
    if db.url.starts_with("postgres") {
        Db::Sqlite
    } else {
        Db::Postgres
    }
}

fn board(db: &Fresh) -> Value {
    let output = huiyin(
        db,
        &["board", "--format", "json", "--now", "2024-07-01"],
        "",
    );
    assert_eq!(output.status.code(), Some(0));
    serde_json::from_slice(&output.stdout).expect("board JSON")
}

/// Two items, a signed export, and the folder holding it.
fn exported(db: &Fresh) -> Keys {
    let keys = Keys::new(db);
    filed(db, "2024-S-401");
    let steps = lifecycle("2024-S-402");
    let (code, _) = exec(db, &steps[..4]);
    assert_eq!(code, Some(0));
    let output = run(
        &db.url,
        keys.dir.path(),
        &["export", "--out", "ledger.jsonl", "--key", "ledger.key"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    keys
}

async fn export_imports_into_the_other_backend_with_the_same_board(db: Fresh) {
    let keys = exported(&db);
    let export = std::fs::read_to_string(keys.path("ledger.jsonl")).expect("export");
    assert_eq!(export.lines().count(), 12);
    assert!(export
        .lines()
        .last()
        .expect("last")
        .starts_with("{\"checkpoint\":\"huiyin/default\\n11\\n"));
    // Verifying the export opens no database.
    let offline = run(
        "/nonexistent/folder/x.db",
        keys.dir.path(),
        &["verify", "--export", "ledger.jsonl", "--key", "ledger.pub"],
    );
    assert_eq!(offline.status.code(), Some(0), "{}", stdout(&offline));
    let target = fresh(other(&db)).await;
    let imported = run(
        &target.url,
        keys.dir.path(),
        &["import", "ledger.jsonl", "--key", "ledger.pub"],
    );
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}{}",
        stdout(&imported),
        stderr(&imported)
    );
    let (code, verified) = keys.verify(&target, &[]);
    assert_eq!(code, Some(0), "{verified}");
    assert_eq!(verified["tree_size"], 11);
    assert_eq!(verified["checkpoint_size"], 11);
    assert_eq!(board(&target), board(&db));
    // The idempotency table came along: the same commands again append nothing.
    let (code, again) = exec(&target, &lifecycle("2024-S-401"));
    assert_eq!(code, Some(0));
    assert!(
        again.iter().all(|result| result["replayed"] == true),
        "{again:?}"
    );
    // Import fills an empty ledger only, and the new ledger goes on signing consistently.
    let twice = run(&target.url, keys.dir.path(), &["import", "ledger.jsonl"]);
    assert_eq!(twice.status.code(), Some(1));
    let (code, _) = exec(&target, &lifecycle("2024-S-402")[4..]);
    assert_eq!(code, Some(0));
    assert!(keys.checkpoint(&target).starts_with("huiyin/default\n14\n"));
}

async fn export_with_one_byte_changed_is_refused_and_appends_nothing(db: Fresh) {
    let keys = exported(&db);
    let export = std::fs::read_to_string(keys.path("ledger.jsonl")).expect("export");
    let changes = [
        export.replacen("\"class\":\"A\"", "\"class\":\"B\"", 1),
        export.replacen("\"version\":2", "\"version\":3", 1),
        export.replacen("\\n11\\n", "\\n12\\n", 1),
    ];
    let target = fresh(other(&db)).await;
    for (number, changed) in changes.iter().enumerate() {
        assert_ne!(changed, &export);
        let name = format!("changed-{number}.jsonl");
        std::fs::write(keys.path(&name), changed).expect("write");
        let checked = run(
            &target.url,
            keys.dir.path(),
            &["verify", "--export", &name, "--key", "ledger.pub"],
        );
        assert_eq!(
            checked.status.code(),
            Some(2),
            "{name}: {}",
            stdout(&checked)
        );
        let imported = run(
            &target.url,
            keys.dir.path(),
            &["import", &name, "--key", "ledger.pub"],
        );
        assert_eq!(
            imported.status.code(),
            Some(2),
            "{name}: {}",
            stderr(&imported)
        );
        assert!(stderr(&imported).contains("nothing was appended"));
        assert_eq!(target.store.head().await.expect("head").tree_size, 0);
        assert!(target
            .store
            .latest_checkpoint()
            .await
            .expect("read")
            .is_none());
    }
    // A signature that does not verify is refused too.
    let other_keys = Keys::new(&target);
    let imported = run(
        &target.url,
        keys.dir.path(),
        &[
            "import",
            "ledger.jsonl",
            "--key",
            &other_keys.arg("ledger.pub"),
        ],
    );
    assert_eq!(imported.status.code(), Some(2), "{}", stderr(&imported));
    assert_eq!(target.store.head().await.expect("head").tree_size, 0);
}

/// The read-side JSON of `db`: the board on a fixed day, every year's figures, and one trail.
fn read_side(db: &Fresh) -> Vec<Value> {
    let reads: [&[&str]; 3] = [
        &[
            "board",
            "--format",
            "json",
            "--now",
            "2022-06-30T12:00:00+08:00",
        ],
        &[
            "stats",
            "--format",
            "json",
            "--now",
            "2022-06-30T12:00:00+08:00",
        ],
        &["trail", "2017-JY-001", "--format", "json"],
    ];
    reads
        .iter()
        .map(|args| {
            let output = huiyin(db, args, "");
            assert_eq!(
                output.status.code(),
                Some(0),
                "{args:?}: {}",
                stderr(&output)
            );
            serde_json::from_slice(&output.stdout).expect("JSON")
        })
        .collect()
}

// See: issue 8, point 5. A realistic ledger (the five-year demo), signed, exported, imported
// into a fresh database of the other backend: it verifies against the same key, has the same
// size, Merkle root and checkpoint, and the same board, figures and trails.
async fn the_demo_ledger_restored_into_the_other_backend_has_the_same_root_board_and_figures(
    db: Fresh,
) {
    let loaded = huiyin(&db, &["demo"], "");
    assert_eq!(loaded.status.code(), Some(0), "{}", stderr(&loaded));
    let keys = Keys::new(&db);
    let note = keys.checkpoint(&db);
    let exported = run(
        &db.url,
        keys.dir.path(),
        &["export", "--out", "demo.jsonl", "--key", "ledger.key"],
    );
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let target = fresh(other(&db)).await;
    let imported = run(
        &target.url,
        keys.dir.path(),
        &["import", "demo.jsonl", "--key", "ledger.pub"],
    );
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    let (code, verified) = keys.verify(&target, &[]);
    assert_eq!(code, Some(0), "{verified}");
    let source_head = db.store.head().await.expect("head");
    let target_head = target.store.head().await.expect("head");
    assert!(source_head.tree_size > 1_000, "{}", source_head.tree_size);
    assert_eq!(target_head, source_head);
    assert_eq!(
        target
            .store
            .root(target_head.tree_size)
            .await
            .expect("root"),
        db.store.root(source_head.tree_size).await.expect("root")
    );
    assert_eq!(verified["tree_size"], source_head.tree_size);
    assert_eq!(verified["checkpoint_size"], source_head.tree_size);
    let restored_note = target
        .store
        .latest_checkpoint()
        .await
        .expect("read")
        .expect("a checkpoint");
    assert_eq!(restored_note.note, note);
    for (restored, original) in read_side(&target).iter().zip(read_side(&db)) {
        // Compared whole, but shown by the first key that differs: the documents are large.
        let first_difference = original
            .as_object()
            .expect("an object")
            .iter()
            .find(|(key, value)| restored.get(key.as_str()) != Some(*value))
            .map(|(key, _)| key.clone());
        assert_eq!(
            *restored, original,
            "first difference at {first_difference:?}"
        );
    }
}

/// The root of a signed checkpoint note, as hex (its third line is the root in base64).
fn note_root(note: &str) -> String {
    use base64::Engine;
    let line = note.lines().nth(2).expect("a root line");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(line)
        .expect("base64 root");
    hex::encode(bytes)
}

fn note_size(note: &str) -> String {
    note.lines().nth(1).expect("a size line").to_owned()
}

// A server that shows different histories to different auditors: an operator holding the ledger
// key runs a second database (a fork) and signs its checkpoints too. An auditor who kept a
// checkpoint of the real log asks the fork for a consistency proof from that checkpoint; no proof
// the fork can make leads from the kept root, so the split is found offline.
async fn a_split_view_signed_with_the_ledger_key_is_caught_by_an_auditor_holding_a_checkpoint(
    db: Fresh,
) {
    let keys = Keys::new(&db);
    let dir = keys.dir.path();
    filed(&db, "2024-S-601");
    let kept = keys.checkpoint(&db);
    let fork = fresh(if db.url.starts_with("postgres") {
        Db::Postgres
    } else {
        Db::Sqlite
    })
    .await;
    filed(&fork, "2024-S-601");
    filed(&fork, "2024-S-602");
    let shown = keys.checkpoint(&fork);
    // Both notes carry a valid ledger signature: a signature alone cannot tell them apart.
    assert!(
        note_size(&shown).parse::<u64>().expect("size") > note_size(&kept).parse().expect("size")
    );
    let proof = lines_json(&run(
        &fork.url,
        dir,
        &[
            "prove",
            "--from",
            &note_size(&kept),
            "--to",
            &note_size(&shown),
        ],
    ));
    let check = |root1: &str| {
        run(
            "/nonexistent/folder/x.db",
            dir,
            &[
                "tlog",
                "verify-consistency",
                "--size1",
                &note_size(&kept),
                "--size2",
                &note_size(&shown),
                "--root1",
                root1,
                "--root2",
                &note_root(&shown),
                "--proof",
                &hex_join(&proof["proof"]),
            ],
        )
    };
    // The proof is the fork's own: it holds for the fork's old root…
    assert_eq!(proof["root2"].as_str(), Some(note_root(&shown).as_str()));
    assert_eq!(
        check(proof["root1"].as_str().expect("root1")).status.code(),
        Some(0)
    );
    // …and not for the root the auditor kept.
    assert_ne!(proof["root1"].as_str(), Some(note_root(&kept).as_str()));
    let caught = check(&note_root(&kept));
    assert_eq!(caught.status.code(), Some(1), "{}", stdout(&caught));
    assert!(
        stdout(&caught).starts_with("invalid: "),
        "{}",
        stdout(&caught)
    );
    // The fork's export, verified against the kept checkpoint, fails too.
    std::fs::write(keys.path("kept.note"), &kept).expect("write note");
    let exported = run(&fork.url, dir, &["export", "--out", "fork.jsonl"]);
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let verified = run(
        "/nonexistent/folder/x.db",
        dir,
        &[
            "verify",
            "--export",
            "fork.jsonl",
            "--checkpoint",
            "kept.note",
            "--key",
            "ledger.pub",
        ],
    );
    assert_eq!(
        verified.status.code(),
        Some(2),
        "{}{}",
        stdout(&verified),
        stderr(&verified)
    );
    // FIXME: `huiyin cosign` keeps the witness's memory (its last cosigned checkpoint) in the
    // ledger's own database, so a witness asked by each database in turn cosigns both sides of
    // the split. A witness must keep that state itself (SECURITY.md, "Gaps").
    let made = run(
        &db.url,
        dir,
        &[
            "keygen",
            "--witness",
            "--name",
            "liaison.example/w1",
            "--out",
            "witness",
        ],
    );
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    for ledger in [&db, &fork] {
        let cosigned = run(
            &ledger.url,
            dir,
            &["cosign", "--key", "witness.key", "--log-key", "ledger.pub"],
        );
        assert_eq!(cosigned.status.code(), Some(0), "{}", stderr(&cosigned));
    }
}
