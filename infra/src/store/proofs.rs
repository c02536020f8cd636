//! Roots and proofs from stored perfect subtrees, for every backend: plan which nodes are
//! needed ([`ProofPlan`]), fetch them in one query, fold the ephemeral right-border nodes, and
//! check the answer with the same verifier an auditor uses before handing it out.

use std::collections::HashMap;

use super::{
    to_i64, ConsistencyEvidence, EventStore, InclusionEvidence, StoreError, NODES_PER_QUERY_MAX,
};
use crate::merkle::{
    verify_consistency, verify_inclusion, ConsistencyProof, InclusionProof, NodeId, ProofError,
    ProofPlan, EMPTY_ROOT,
};
use crate::record::Hash;

/// Refuses sizes beyond the log.
async fn check_size<S: EventStore + ?Sized>(store: &S, size: u64) -> Result<(), StoreError> {
    let tree_size = store.head().await?.tree_size;
    if !(size <= tree_size) {
        return Err(ProofError::BeyondTree { size, tree_size }.into());
    }
    Ok(())
}

/// Fetches every node the plans need, in one query.
async fn fetch<S: EventStore + ?Sized>(
    store: &S,
    plans: &[&ProofPlan],
    extra: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, StoreError> {
    let mut ids: Vec<NodeId> = plans.iter().flat_map(|plan| plan.node_ids()).collect();
    ids.extend_from_slice(extra);
    ids.sort_unstable();
    ids.dedup();
    assert!(ids.len() <= NODES_PER_QUERY_MAX);
    let hashes = store.merkle_nodes(&ids).await?;
    assert_eq!(hashes.len(), ids.len());
    Ok(ids.into_iter().zip(hashes).collect())
}

fn assemble(plan: &ProofPlan, nodes: &HashMap<NodeId, Hash>) -> Result<Vec<Hash>, StoreError> {
    plan.assemble(|id| nodes.get(&id).copied())
        .map_err(|id| StoreError::Corrupt {
            position: to_i64(id.leaf_end() - 1),
            reason: format!("Merkle node ({}, {}) is missing", id.level(), id.index()),
        })
}

fn root_from(plan: &ProofPlan, nodes: &HashMap<NodeId, Hash>) -> Result<Hash, StoreError> {
    if plan.is_empty() {
        return Ok(EMPTY_ROOT);
    }
    let hashes = assemble(plan, nodes)?;
    assert_eq!(hashes.len(), 1);
    Ok(hashes[0])
}

/// The stored nodes disagree with each other: a proof built from them does not verify.
fn inconsistent(position: u64, error: &ProofError) -> StoreError {
    StoreError::Corrupt {
        position: to_i64(position),
        reason: format!("the stored Merkle nodes do not form one tree: {error}"),
    }
}

pub(super) async fn root<S: EventStore + ?Sized>(
    store: &S,
    tree_size: u64,
) -> Result<Hash, StoreError> {
    check_size(store, tree_size).await?;
    let plan = ProofPlan::root(tree_size);
    let nodes = fetch(store, &[&plan], &[]).await?;
    root_from(&plan, &nodes)
}

pub(super) async fn prove_inclusion<S: EventStore + ?Sized>(
    store: &S,
    leaf_index: u64,
    tree_size: u64,
) -> Result<InclusionEvidence, StoreError> {
    check_size(store, tree_size).await?;
    let path = ProofPlan::inclusion(leaf_index, tree_size)?;
    let root_plan = ProofPlan::root(tree_size);
    let leaf = NodeId::leaf(leaf_index);
    let nodes = fetch(store, &[&path, &root_plan], &[leaf]).await?;
    let evidence = InclusionEvidence {
        proof: InclusionProof {
            leaf_index,
            tree_size,
            hashes: assemble(&path, &nodes)?,
        },
        leaf_hash: nodes[&leaf],
        root: root_from(&root_plan, &nodes)?,
    };
    verify_inclusion(&evidence.proof, &evidence.leaf_hash, &evidence.root)
        .map_err(|error| inconsistent(leaf_index, &error))?;
    Ok(evidence)
}

pub(super) async fn prove_consistency<S: EventStore + ?Sized>(
    store: &S,
    size1: u64,
    size2: u64,
) -> Result<ConsistencyEvidence, StoreError> {
    let plan = ProofPlan::consistency(size1, size2)?;
    check_size(store, size2).await?;
    let root1_plan = ProofPlan::root(size1);
    let root2_plan = ProofPlan::root(size2);
    let nodes = fetch(store, &[&plan, &root1_plan, &root2_plan], &[]).await?;
    let evidence = ConsistencyEvidence {
        proof: ConsistencyProof {
            size1,
            size2,
            hashes: assemble(&plan, &nodes)?,
        },
        root1: root_from(&root1_plan, &nodes)?,
        root2: root_from(&root2_plan, &nodes)?,
    };
    verify_consistency(&evidence.proof, &evidence.root1, &evidence.root2)
        .map_err(|error| inconsistent(size1, &error))?;
    Ok(evidence)
}
