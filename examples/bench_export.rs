//! Writes a synthetic, signed export of N records for measuring `verify` (see
//! `scripts/bench-verify`): `cargo run --release --example bench_export -- N DIR`.
//!
//! Each record is one filed item of about 500 bytes, chained and hashed by the same `infra` code
//! the ledger uses; the export ends with a checkpoint signed by a key written to DIR/bench.key
//! (verifier key DIR/bench.pub, origin `huiyin/bench`).

use std::io::Write;

use infra::checkpoint::{origin_for, Checkpoint};
use infra::merkle::CompactRange;
use infra::note::{KeyType, SignerKey};
use infra::record::{leaf_hash, seal, Hash, Record};
use serde_json::json;

fn record(position: u64, prev: Hash) -> Record {
    let item_id = format!("2026-B-{position:06}");
    Record {
        position,
        stream: format!("item/{item_id}"),
        version: 1,
        event_type: "ItemFiled".to_owned(),
        schema: 1,
        at: "2026-03-02T09:30:00+08:00".to_owned(),
        recorded_at: "2026-03-02T01:30:00.000Z".to_owned(),
        actor: "liaison-01".to_owned(),
        role: "liaison".to_owned(),
        command_id: format!("bench-{position}"),
        data: json!({
            "item_id": item_id, "kind": "suggestion", "urgent": false, "cases": [],
            "parent_id": null, "triage_due": "2026-03-11",
            "title": "关于加快执行案款发放进度的建议",
            "body": "部分执行案款到账后发放周期较长，建议建立案款到账提醒和限时发放机制。",
            "deputies": [{"id": "d-wangfang", "lead": true, "name": "王芳"}],
        }),
        prev,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().ok_or("usage: bench_export N DIR")?.parse()?;
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: bench_export N DIR")?);
    std::fs::create_dir_all(&dir)?;
    let signer = SignerKey::generate(&origin_for("bench"), KeyType::Ed25519)?;
    std::fs::write(
        dir.join("bench.key"),
        format!("{}\n", signer.to_key_string()),
    )?;
    std::fs::write(dir.join("bench.pub"), format!("{}\n", signer.verifier()))?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("bench.jsonl"))?);
    let mut tree = CompactRange::empty();
    let mut prev = Hash::ZERO;
    for position in 0..count {
        let sealed = seal(record(position, prev))?;
        let request_hash = leaf_hash(sealed.record.command_id.as_bytes());
        out.write_all(b"{\"record\":")?;
        out.write_all(&sealed.canonical)?;
        writeln!(
            out,
            ",\"hash\":\"{}\",\"request_hash\":\"{request_hash}\"}}",
            sealed.hash
        )?;
        tree.append(sealed.hash);
        prev = sealed.hash;
    }
    let checkpoint = Checkpoint {
        origin: origin_for("bench"),
        tree_size: count,
        root: tree.root(),
    };
    let note = checkpoint.sign(&signer)?.to_string();
    writeln!(out, "{}", json!({ "checkpoint": note }))?;
    out.flush()?;
    Ok(())
}
