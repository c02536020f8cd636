//! The bodies of the fuzz targets of `fuzz/` that concern bytes and proofs, kept here so that
//! the stable test suite replays every file of the checked-in corpus through the very same
//! functions (`tests/fuzz_corpus.rs`). Each takes arbitrary bytes, and panics only when a
//! property the ledger depends on does not hold.
//!
//! - [`canonical_round_trip`]: any JSON the canonicaliser accepts comes back from it as JSON that
//!   means the same, and canonicalising that again gives the same bytes (a fixed point).
//! - [`proof_verifiers`]: [`verify_inclusion`] and [`verify_consistency`] never panic on any
//!   input, agree with an independent transcription of RFC 9162 §2.1.3.2 and §2.1.4.2, and, against
//!   the true root of a small tree, accept no proof that the recursive RFC 6962 §2.1 definitions do
//!   not produce.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::to_canonical_bytes;
use crate::merkle::{verify_consistency, verify_inclusion, ConsistencyProof, InclusionProof};
use crate::record::{leaf_hash, Hash};

/// Leaves of the small trees whose every proof [`proof_verifiers`] can check against the
/// recursive definitions; the number of subtree hashes it offers grows with the square of this.
pub const SMALL_TREE_LEAVES_MAX: usize = 16;

/// JSON → canonical bytes → JSON → canonical bytes: never panics; when the canonicaliser accepts
/// the value, its bytes parse back to the same value and canonicalise to the same bytes.
///
/// # Panics
/// When canonical bytes are not JSON, do not mean the value they came from, or are not a fixed
/// point.
pub fn canonical_round_trip(input: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(input) else {
        return;
    };
    let Ok(first) = to_canonical_bytes(&value) else {
        return;
    };
    let reparsed: Value = serde_json::from_slice(&first).expect("canonical bytes are JSON");
    assert_eq!(reparsed, value, "canonical bytes mean what they came from");
    let second = to_canonical_bytes(&reparsed).expect("canonical JSON canonicalises");
    assert_eq!(first, second, "canonicalisation is a fixed point");
}

/// Reads fuzz bytes as the parts of a proof, front to back; missing bytes read as zero.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let Some((first, rest)) = self.bytes.split_first() else {
            return 0;
        };
        self.bytes = rest;
        *first
    }

    fn number(&mut self) -> u64 {
        let mut value = [0u8; 8];
        for slot in &mut value {
            *slot = self.byte();
        }
        u64::from_le_bytes(value)
    }

    fn hash(&mut self) -> Hash {
        let mut value = [0u8; 32];
        for slot in &mut value {
            *slot = self.byte();
        }
        Hash::from_bytes(value)
    }
}

/// Inclusion and consistency proofs built from arbitrary bytes: the first byte chooses between
/// raw values (sizes, hashes and proofs anywhere in their ranges: neither verifier panics, and
/// both agree with the RFC 9162 transcription) and a small tree, where every hash is chosen from
/// the tree's own subtree hashes so that valid proofs are within reach: the verifiers accept
/// against a tree's true root only the leaves, paths and old roots the recursive definitions
/// produce.
///
/// # Panics
/// When a verifier panics, disagrees with the RFC 9162 transcription, or accepts a proof of a
/// small tree that is not the one the definitions give.
pub fn proof_verifiers(input: &[u8]) {
    let mut reader = Reader { bytes: input };
    if reader.byte() & 1 == 0 {
        raw_proofs(&mut reader);
    } else {
        small_tree_proofs(&mut reader);
    }
}

fn raw_proofs(reader: &mut Reader<'_>) {
    let (first, second) = (reader.number(), reader.number());
    let (leaf, root1, root2) = (reader.hash(), reader.hash(), reader.hash());
    let count = usize::from(reader.byte() % 140);
    let hashes: Vec<Hash> = (0..count).map(|_| reader.hash()).collect();
    check_inclusion(first, second, &hashes, &leaf, &root2);
    check_consistency(first, second, &hashes, &root1, &root2);
}

fn small_tree_proofs(reader: &mut Reader<'_>) {
    let leaves_count = 1 + usize::from(reader.byte()) % SMALL_TREE_LEAVES_MAX;
    let leaves: Vec<Hash> = (0..leaves_count)
        .map(|index| leaf_hash(&[index as u8]))
        .collect();
    // Every subtree hash MTH(D[a:b]): the leaves, every node and every root of every size, and
    // ranges that are none of those.
    let mut palette = Vec::new();
    for begin in 0..leaves_count {
        for end in begin + 1..=leaves_count {
            palette.push(reference_root(&leaves[begin..end]));
        }
    }
    let pick = |reader: &mut Reader<'_>| palette[usize::from(reader.byte()) % palette.len()];
    let first = u64::from(reader.byte()) % (leaves_count as u64 + 2);
    let second = u64::from(reader.byte()) % (leaves_count as u64 + 2);
    let (leaf, root1, root2) = (pick(reader), pick(reader), pick(reader));
    let count = usize::from(reader.byte() % 12);
    let hashes: Vec<Hash> = (0..count).map(|_| pick(reader)).collect();
    // A verifier relates the hashes it is given; it cannot know whose tree they are. What must
    // hold is that against the true root of a tree no other leaf, path or old root is accepted.
    let true_root = |size: u64| {
        let size = usize::try_from(size)
            .ok()
            .filter(|size| *size <= leaves_count)?;
        Some(reference_root(&leaves[..size]))
    };
    let inclusion_accepted = check_inclusion(first, second, &hashes, &leaf, &root2);
    if inclusion_accepted && true_root(second) == Some(root2) {
        let (index, size) = (first as usize, second as usize);
        assert_eq!(leaf, leaves[index], "only the tree's leaf is included");
        let path = reference_path(index, &leaves[..size]);
        assert_eq!(hashes, path, "only RFC 6962's path is accepted");
    }
    let consistency_accepted = check_consistency(first, second, &hashes, &root1, &root2);
    if consistency_accepted && first < second && true_root(second) == Some(root2) {
        let (size1, size2) = (first as usize, second as usize);
        let old_root = true_root(first);
        assert_eq!(
            Some(root1),
            old_root,
            "only the old tree's root is consistent"
        );
        let proof = reference_subproof(size1, &leaves[..size2], true);
        assert_eq!(hashes, proof, "only RFC 6962's proof is accepted");
    }
    if consistency_accepted && first == second {
        assert!(
            hashes.is_empty() && root1 == root2,
            "equal sizes: equal roots, no proof"
        );
    }
}

/// `verify_inclusion` against the RFC 9162 transcription; whether it accepted.
fn check_inclusion(index: u64, size: u64, hashes: &[Hash], leaf: &Hash, root: &Hash) -> bool {
    let proof = InclusionProof {
        leaf_index: index,
        tree_size: size,
        hashes: hashes.to_vec(),
    };
    let accepted = verify_inclusion(&proof, leaf, root).is_ok();
    let expected = rfc9162_inclusion(index, size, hashes, leaf, root);
    assert_eq!(
        accepted, expected,
        "inclusion {index} in {size}: infra and RFC 9162 differ"
    );
    accepted
}

/// `verify_consistency` against the RFC 9162 transcription; whether it accepted.
fn check_consistency(size1: u64, size2: u64, hashes: &[Hash], root1: &Hash, root2: &Hash) -> bool {
    let proof = ConsistencyProof {
        size1,
        size2,
        hashes: hashes.to_vec(),
    };
    let accepted = verify_consistency(&proof, root1, root2).is_ok();
    let expected = rfc9162_consistency(size1, size2, hashes, root1, root2);
    assert_eq!(
        accepted, expected,
        "consistency {size1} → {size2}: infra and RFC 9162 differ"
    );
    accepted
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.as_bytes());
    hasher.update(right.as_bytes());
    Hash::from_bytes(hasher.finalize().into())
}

/// RFC 9162 §2.1.3.2, step by step, with no length check of its own.
fn rfc9162_inclusion(index: u64, size: u64, path: &[Hash], leaf: &Hash, root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2, step by step. Sizes the RFC leaves to the caller follow the ledger's
/// policy: from the empty tree nothing is proved; equal sizes need an empty proof and equal roots.
fn rfc9162_consistency(
    first: u64,
    second: u64,
    path: &[Hash],
    first_hash: &Hash,
    second_hash: &Hash,
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return path.is_empty() && first_hash == second_hash;
    }
    if path.is_empty() {
        return false;
    }
    let mut path = path.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_hash);
    }
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node(c, &fr);
            sr = node(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *first_hash && sr == *second_hash && sn == 0
}

/// The largest power of two smaller than `n` (RFC 6962 §2.1's k), for `n > 1`.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]), RFC 6962 §2.1, recursively.
fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::from_bytes(Sha256::digest([]).into()),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]), RFC 6962 §2.1.1.
fn reference_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut path = reference_path(m, &leaves[..k]);
        path.push(reference_root(&leaves[k..]));
        path
    } else {
        let mut path = reference_path(m - k, &leaves[k..]);
        path.push(reference_root(&leaves[..k]));
        path
    }
}

/// SUBPROOF(m, D[n], b), RFC 6962 §2.1.2.
fn reference_subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![reference_root(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = reference_subproof(m, &leaves[..k], whole);
        proof.push(reference_root(&leaves[k..]));
        proof
    } else {
        let mut proof = reference_subproof(m - k, &leaves[k..], false);
        proof.push(reference_root(&leaves[..k]));
        proof
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_valid_proof_of_a_small_tree_is_accepted_by_both_verifiers() {
        let leaves: Vec<Hash> = (0..9u8).map(|index| leaf_hash(&[index])).collect();
        for size in 1..=leaves.len() {
            let tree = &leaves[..size];
            let root = reference_root(tree);
            for (index, leaf) in tree.iter().enumerate() {
                let path = reference_path(index, tree);
                assert!(check_inclusion(
                    index as u64,
                    size as u64,
                    &path,
                    leaf,
                    &root
                ));
            }
            for size1 in 1..size {
                let proof = reference_subproof(size1, tree, true);
                let root1 = reference_root(&leaves[..size1]);
                assert!(check_consistency(
                    size1 as u64,
                    size as u64,
                    &proof,
                    &root1,
                    &root
                ));
            }
        }
    }

    #[test]
    fn the_round_trip_holds_for_a_record_and_ignores_what_is_not_json() {
        canonical_round_trip(
            br#"{"b":[1,"\u00e9",{"a":null}],"a":true,"\ud83d\ude00":-9007199254740991}"#,
        );
        canonical_round_trip(b"{\"a\":");
        canonical_round_trip(b"1.5");
        proof_verifiers(&[]);
        proof_verifiers(&[1; 64]);
    }
}
