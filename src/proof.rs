//! `prove`, `tlog verify-*`, `checkpoint` and `cosign`: the auditor's proofs and the signatures
//! that make them worth something.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use infra::merkle::{verify_consistency, verify_inclusion, ConsistencyProof, InclusionProof};
use infra::merkle::{ProofError, PROOF_HASHES_MAX};
use infra::record::Hash;
use infra::signing::{cosign_checkpoint, sign_checkpoint};
use infra::store::EventStore;
use serde_json::json;

use crate::cli::{
    CheckpointArgs, CosignArgs, ExportArgs, ImportArgs, ProveArgs, TlogCommand,
    VerifyConsistencyArgs, VerifyInclusionArgs,
};
use crate::keys::{read_signer, read_verifier};
use crate::output;

fn hex_list(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_hex).collect()
}

pub(crate) async fn prove(store: Arc<dyn EventStore>, args: ProveArgs) -> anyhow::Result<ExitCode> {
    let tree_size = store.head().await?.tree_size;
    if let Some(leaf_index) = args.index {
        let size = args.size.unwrap_or(tree_size);
        let evidence = store.prove_inclusion(leaf_index, size).await?;
        output::json_line(&json!({
            "index": leaf_index,
            "size": size,
            "leaf_hash": evidence.leaf_hash.to_hex(),
            "root": evidence.root.to_hex(),
            "proof": hex_list(&evidence.proof.hashes),
        }))?;
    } else {
        let size1 = args.from.context("--from is required")?;
        let size2 = args.to.unwrap_or(tree_size);
        let evidence = store.prove_consistency(size1, size2).await?;
        output::json_line(&json!({
            "size1": size1,
            "size2": size2,
            "root1": evidence.root1.to_hex(),
            "root2": evidence.root2.to_hex(),
            "proof": hex_list(&evidence.proof.hashes),
        }))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Why offline input was not even a proof.
#[derive(Debug)]
struct BadInput(String);

fn parse_hash(flag: &str, text: &str) -> Result<Hash, BadInput> {
    text.trim()
        .parse()
        .map_err(|_| BadInput(format!("{flag} is not a 32-byte hash in 64 hex characters")))
}

fn parse_proof(text: &str) -> Result<Vec<Hash>, BadInput> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > PROOF_HASHES_MAX {
        return Err(BadInput(format!(
            "--proof has {} hashes; no proof has more than {PROOF_HASHES_MAX}",
            parts.len()
        )));
    }
    parts
        .iter()
        .enumerate()
        .map(|(offset, part)| parse_hash(&format!("--proof hash {}", offset + 1), part))
        .collect()
}

fn check_inclusion(args: &VerifyInclusionArgs) -> Result<Result<(), ProofError>, BadInput> {
    let leaf_hash = parse_hash("--leaf-hash", &args.leaf_hash)?;
    let root = parse_hash("--root", &args.root)?;
    let proof = InclusionProof {
        leaf_index: args.index,
        tree_size: args.size,
        hashes: parse_proof(&args.proof)?,
    };
    Ok(verify_inclusion(&proof, &leaf_hash, &root))
}

fn check_consistency(args: &VerifyConsistencyArgs) -> Result<Result<(), ProofError>, BadInput> {
    let root1 = parse_hash("--root1", &args.root1)?;
    let root2 = parse_hash("--root2", &args.root2)?;
    let proof = ConsistencyProof {
        size1: args.size1,
        size2: args.size2,
        hashes: parse_proof(&args.proof)?,
    };
    Ok(verify_consistency(&proof, &root1, &root2))
}

/// Offline checks: exit 0 and `valid`, or exit 1 and `invalid: <reason>` on one line.
pub(crate) fn tlog(command: TlogCommand) -> anyhow::Result<ExitCode> {
    let verdict = match &command {
        TlogCommand::VerifyInclusion(args) => check_inclusion(args),
        TlogCommand::VerifyConsistency(args) => check_consistency(args),
    };
    let reason = match verdict {
        Ok(Ok(())) => {
            output::text("valid")?;
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Err(error)) => error.to_string(),
        Err(BadInput(reason)) => reason,
    };
    output::text(&format!("invalid: {reason}"))?;
    Ok(ExitCode::from(1))
}

pub(crate) async fn checkpoint(
    store: Arc<dyn EventStore>,
    args: CheckpointArgs,
    origin: &str,
) -> anyhow::Result<ExitCode> {
    let signer = read_signer(&args.key)?;
    let signed = sign_checkpoint(&*store, &signer, origin).await?;
    if !signed.fresh {
        eprintln!(
            "huiyin checkpoint: the log has not grown since checkpoint {}; printing it again",
            signed.stored.checkpoint_id
        );
    }
    output::text(&signed.stored.note)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn cosign(
    store: Arc<dyn EventStore>,
    args: CosignArgs,
) -> anyhow::Result<ExitCode> {
    let witness = read_signer(&args.key)?;
    let log_key = read_verifier(&args.log_key)?;
    let now =
        u64::try_from(jiff::Timestamp::now().as_second()).context("the clock is before 1970")?;
    let (cosigned, fresh) = cosign_checkpoint(&*store, &witness, &log_key, now).await?;
    if !fresh {
        eprintln!(
            "huiyin cosign: {} had already cosigned checkpoint {}",
            witness.name(),
            cosigned.checkpoint_id
        );
    }
    output::text(&cosigned.cosigned_note())?;
    Ok(ExitCode::SUCCESS)
}

/// `export --out FILE`: with `--key`, a fresh checkpoint of the whole log is signed (and stored)
/// and the export ends with it; without, the export ends at the latest stored checkpoint. The
/// file is written beside its final name and renamed only once all of it verified.
pub(crate) async fn export(
    store: Arc<dyn EventStore>,
    args: ExportArgs,
    origin: &str,
) -> anyhow::Result<ExitCode> {
    let checkpoint = match &args.key {
        Some(path) => {
            sign_checkpoint(&*store, &read_signer(path)?, origin)
                .await?
                .stored
        }
        None => store.latest_checkpoint().await?.context(
            "the ledger has no checkpoint yet: give --key to sign one, or run checkpoint first",
        )?,
    };
    if args.out.exists() {
        anyhow::bail!("{} already exists", args.out.display());
    }
    let mut partial = args.out.clone().into_os_string();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let written = infra::export::write_export(&*store, &checkpoint, &mut writer).await;
    drop(writer);
    let verified = match written {
        Ok(verified) => verified,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            anyhow::bail!("export refused: the log does not verify: {error}");
        }
    };
    std::fs::rename(&partial, &args.out)?;
    let left_out = store.head().await?.tree_size - verified.tree_size;
    output::json_line(&json!({
        "ok": true,
        "out": args.out.display().to_string(),
        "tree_size": verified.tree_size,
        "root": verified.root.to_hex(),
        "left_out": left_out,
    }))?;
    if left_out > 0 {
        eprintln!("huiyin export: {left_out} records after the latest checkpoint were left out; give --key to include them");
    }
    Ok(ExitCode::SUCCESS)
}

/// `import FILE`: verifies every line and restores it into an empty ledger in one transaction.
/// Exit 2 (nothing appended) when the export does not verify.
pub(crate) async fn import(
    store: Arc<dyn EventStore>,
    args: ImportArgs,
) -> anyhow::Result<ExitCode> {
    let options = infra::verify::VerifyOptions {
        key: args.key.as_deref().map(read_verifier).transpose()?,
        ..Default::default()
    };
    if options.key.is_none() {
        eprintln!("huiyin import: no --key: the checkpoint's signature is not checked");
    }
    let reader = crate::read::export_reader(&args.file)?;
    match store.restore(reader, &options).await {
        Ok(verified) => crate::read::report(Ok(verified)),
        Err(infra::export::RestoreError::Verify(error)) => {
            eprintln!("huiyin import: refused, nothing was appended");
            crate::read::report(Err(error))
        }
        Err(error) => Err(anyhow::anyhow!("import refused: {error}")),
    }
}
