//! The RFC 6962 (RFC 9162 §2.1) Merkle tree over the records' leaf hashes, in position order.
//!
//! The tree is kept as its **perfect subtrees**: a [`NodeId`] `(level, index)` names the subtree
//! of `2^level` leaves starting at leaf `index << level`. Once the log holds all of a perfect
//! subtree's leaves its hash never changes, so the store keeps every complete one (the
//! `merkle_nodes` table) and never rewrites it. Everything else is derived:
//!
//! - the **compact range** of a tree of `tree_size` leaves is its decomposition into at most
//!   `log2(tree_size) + 1` perfect subtrees ([`range_nodes`]`(0, tree_size)`, tallest first);
//!   appending a leaf needs only those ([`CompactRange::append`]), so an append costs O(log n);
//! - the root at any size, and every hash of an inclusion or consistency proof, is either a
//!   stored perfect subtree or an **ephemeral** node on the right border, the right fold of at
//!   most `log2(n)` stored ones ([`ProofPlan`]). No proof ever loads the whole tree.
//!
//! Proofs are checked by [`verify_inclusion`] and [`verify_consistency`], the RFC 9162
//! §2.1.3.2 and §2.1.4.2 algorithms; the CLI, `checkpoint`, `verify` and the tests all use
//! these two functions.
//!
//! **Invariants** (asserted below): a compact range of `tree_size` leaves has exactly
//! `tree_size.count_ones()` peaks; a node's leaves end at or before the tree size it belongs
//! to; an ephemeral node is only ever a right-border range whose start is aligned to a power of
//! two at least as large as its length (otherwise the right fold would not be its RFC hash).

use sha2::{Digest, Sha256};

use crate::record::Hash;

pub use crate::record::leaf_hash;

/// The tallest perfect subtree a `u64`-indexed log can hold: `2^63` leaves.
pub const LEVEL_MAX: u32 = u64::BITS - 1;

/// No proof is longer than this: an inclusion proof has at most one hash per level, a
/// consistency proof at most one more. Longer input is refused before any hashing.
pub const PROOF_HASHES_MAX: usize = 2 * u64::BITS as usize;

const _: () = assert!(LEVEL_MAX + 1 == u64::BITS);
const _: () = assert!(PROOF_HASHES_MAX > LEVEL_MAX as usize + 1);

/// The root of the empty tree: `SHA-256("")` (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = Hash::from_bytes([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// An interior node: `SHA-256(0x01 || left || right)`.
pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.as_bytes());
    hasher.update(right.as_bytes());
    Hash::from_bytes(hasher.finalize().into())
}

/// A perfect subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    level: u32,
    index: u64,
}

impl NodeId {
    /// The subtree at `level` with `index` among that level's subtrees.
    ///
    /// # Panics
    /// When `level` exceeds [`LEVEL_MAX`] or the subtree would end past `u64::MAX` leaves.
    pub fn new(level: u32, index: u64) -> Self {
        assert!(level <= LEVEL_MAX);
        assert!(index < u64::MAX >> level);
        NodeId { level, index }
    }

    /// The leaf at `leaf_index` (level 0).
    pub fn leaf(leaf_index: u64) -> Self {
        NodeId::new(0, leaf_index)
    }

    /// Height above the leaves (0 for a leaf).
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Position among the subtrees of the same level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The first leaf it covers.
    pub fn leaf_begin(&self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf it covers: the tree size at which it became complete.
    pub fn leaf_end(&self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// `floor(log2(value))`; `value` is at least 1.
fn log2_floor(value: u64) -> u32 {
    assert!(value > 0);
    LEVEL_MAX - value.leading_zeros()
}

/// The largest power of two strictly below `value` (RFC 6962's `k`); `value` is at least 2.
fn split_point(value: u64) -> u64 {
    assert!(value >= 2);
    1 << log2_floor(value - 1)
}

/// Number of significant bits.
fn bit_length(value: u64) -> u32 {
    u64::BITS - value.leading_zeros()
}

/// Decomposes leaves `[begin, end)` into maximal aligned perfect subtrees, left to right.
/// For `[0, tree_size)` these are the compact range's peaks, tallest first.
pub fn range_nodes(begin: u64, end: u64) -> Vec<NodeId> {
    assert!(begin <= end);
    let mut nodes = Vec::with_capacity(bit_length(end - begin) as usize);
    let mut next = begin;
    while next < end {
        let aligned = if next == 0 {
            LEVEL_MAX
        } else {
            next.trailing_zeros()
        };
        let level = aligned.min(log2_floor(end - next));
        nodes.push(NodeId::new(level, next >> level));
        next += 1 << level;
    }
    assert!(nodes.len() <= u64::BITS as usize);
    nodes
}

/// The hash of a run of adjacent subtrees that together form one RFC 6962 subtree: the right
/// fold `h0 · (h1 · (… · hk))`. `hashes` is not empty.
pub fn fold_right(hashes: &[Hash]) -> Hash {
    let (last, rest) = hashes
        .split_last()
        .expect("a subtree has at least one node");
    rest.iter()
        .rev()
        .fold(*last, |right, left| hash_children(left, &right))
}

/// The nodes whose right fold is the RFC hash of leaves `[begin, end)`, a subtree of an RFC
/// tree: one stored node when it is perfect, else the ephemeral right-border decomposition.
fn subtree_nodes(begin: u64, end: u64) -> Vec<NodeId> {
    assert!(begin < end);
    // An RFC subtree starts at a multiple of the smallest power of two covering its length.
    let span = (end - begin).next_power_of_two();
    assert_eq!(begin % span, 0);
    range_nodes(begin, end)
}

/// The right border of a tree: the hashes of its compact range, tallest subtree first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactRange {
    tree_size: u64,
    peaks: Vec<Hash>,
}

impl Default for CompactRange {
    fn default() -> Self {
        CompactRange::empty()
    }
}

impl CompactRange {
    /// The empty tree.
    pub fn empty() -> Self {
        CompactRange {
            tree_size: 0,
            peaks: Vec::new(),
        }
    }

    /// A tree of `tree_size` leaves given the hashes of [`range_nodes`]`(0, tree_size)`.
    ///
    /// # Panics
    /// When `peaks` does not hold one hash per node of the compact range.
    pub fn from_peaks(tree_size: u64, peaks: Vec<Hash>) -> Self {
        assert_eq!(peaks.len(), tree_size.count_ones() as usize);
        CompactRange { tree_size, peaks }
    }

    /// Number of leaves.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// Appends one leaf; returns every perfect subtree this completes, the leaf first and the
    /// tallest last. These are what the store inserts.
    pub fn append(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let leaf_index = self.tree_size;
        let mut completed = vec![(NodeId::leaf(leaf_index), leaf)];
        let mut hash = leaf;
        let mut index = leaf_index;
        let mut level = 0;
        // A node with an odd index is a right child: its left sibling is the last peak.
        while index & 1 == 1 {
            let left = self
                .peaks
                .pop()
                .expect("a right child has a left sibling peak");
            hash = hash_children(&left, &hash);
            index >>= 1;
            level += 1;
            completed.push((NodeId::new(level, index), hash));
        }
        self.peaks.push(hash);
        self.tree_size += 1;
        assert_eq!(self.peaks.len(), self.tree_size.count_ones() as usize);
        assert_eq!(completed.len() as u32, leaf_index.trailing_ones() + 1);
        completed
    }

    /// The RFC 6962 root (`MTH`) of the tree.
    pub fn root(&self) -> Hash {
        if self.peaks.is_empty() {
            EMPTY_ROOT
        } else {
            fold_right(&self.peaks)
        }
    }
}

/// Which perfect subtrees a root or proof needs, and how to combine them: each entry is one
/// hash of the result, the right fold of its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    parts: Vec<Vec<NodeId>>,
}

impl ProofPlan {
    fn from_ranges(ranges: &[(u64, u64)]) -> Self {
        ProofPlan {
            parts: ranges
                .iter()
                .map(|&(begin, end)| subtree_nodes(begin, end))
                .collect(),
        }
    }

    /// The plan for the root of the first `tree_size` leaves: one part (none for size 0).
    pub fn root(tree_size: u64) -> Self {
        if tree_size == 0 {
            ProofPlan { parts: Vec::new() }
        } else {
            ProofPlan::from_ranges(&[(0, tree_size)])
        }
    }

    /// The plan for the RFC 9162 inclusion proof of `leaf_index` in a tree of `tree_size`.
    ///
    /// # Errors
    /// [`ProofError::LeafIndexOutOfRange`] unless `leaf_index < tree_size`.
    pub fn inclusion(leaf_index: u64, tree_size: u64) -> Result<Self, ProofError> {
        if !(leaf_index < tree_size) {
            return Err(ProofError::LeafIndexOutOfRange {
                leaf_index,
                tree_size,
            });
        }
        // RFC 6962 PATH(m, D[lo:hi]), unrolled; the siblings come top-down, the proof bottom-up.
        let mut ranges = Vec::new();
        let (mut begin, mut end) = (0, tree_size);
        while end - begin > 1 {
            let middle = begin + split_point(end - begin);
            if leaf_index < middle {
                ranges.push((middle, end));
                end = middle;
            } else {
                ranges.push((begin, middle));
                begin = middle;
            }
        }
        ranges.reverse();
        let plan = ProofPlan::from_ranges(&ranges);
        assert_eq!(plan.parts.len(), inclusion_proof_len(leaf_index, tree_size));
        Ok(plan)
    }

    /// The plan for the RFC 9162 consistency proof from `size1` to `size2`.
    ///
    /// # Errors
    /// [`ProofError::FromEmptyTree`] when `size1` is 0; [`ProofError::SizesOutOfOrder`] when
    /// `size1 > size2`.
    pub fn consistency(size1: u64, size2: u64) -> Result<Self, ProofError> {
        check_consistency_sizes(size1, size2)?;
        // RFC 6962 SUBPROOF(m, D[lo:hi], b), unrolled.
        let mut ranges = Vec::new();
        let (mut begin, mut end, mut whole) = (0, size2, true);
        while size1 != end {
            let middle = begin + split_point(end - begin);
            if size1 <= middle {
                ranges.push((middle, end));
                end = middle;
            } else {
                ranges.push((begin, middle));
                begin = middle;
                whole = false;
            }
        }
        if !whole {
            ranges.push((begin, end));
        }
        ranges.reverse();
        let plan = ProofPlan::from_ranges(&ranges);
        assert_eq!(plan.parts.len(), consistency_proof_len(size1, size2));
        Ok(plan)
    }

    /// Every stored node the plan reads, sorted and without repeats.
    pub fn node_ids(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self.parts.iter().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Number of hashes the plan produces.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// True when the plan produces no hash (the root of the empty tree, or a proof between
    /// equal sizes).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Builds the hashes from stored nodes.
    ///
    /// # Errors
    /// The first node `lookup` does not have.
    pub fn assemble<F>(&self, lookup: F) -> Result<Vec<Hash>, NodeId>
    where
        F: Fn(NodeId) -> Option<Hash>,
    {
        self.parts
            .iter()
            .map(|part| {
                let hashes = part
                    .iter()
                    .map(|&id| lookup(id).ok_or(id))
                    .collect::<Result<Vec<Hash>, NodeId>>()?;
                Ok(fold_right(&hashes))
            })
            .collect()
    }
}

/// An inclusion proof (RFC 9162 §2.1.3): the sibling hashes from the leaf up to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index (the record's position).
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The audit path, bottom-up.
    pub hashes: Vec<Hash>,
}

/// A consistency proof (RFC 9162 §2.1.4) that the tree of `size1` leaves is a prefix of the
/// tree of `size2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older, smaller size (at least 1).
    pub size1: u64,
    /// The newer size.
    pub size2: u64,
    /// The proof hashes.
    pub hashes: Vec<Hash>,
}

/// Why a proof was refused, or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf is not in a tree that small.
    #[error("leaf index {leaf_index} is not below the tree size {tree_size}")]
    LeafIndexOutOfRange {
        /// The index asked about.
        leaf_index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// A consistency proof from the empty tree proves nothing, so none is made or accepted.
    #[error("a consistency proof starts at a tree size of at least 1")]
    FromEmptyTree,
    /// The older tree is larger than the newer one.
    #[error("size1 {size1} is larger than size2 {size2}")]
    SizesOutOfOrder {
        /// The claimed older size.
        size1: u64,
        /// The claimed newer size.
        size2: u64,
    },
    /// The proof has the wrong number of hashes for its sizes.
    #[error("the proof has {actual} hashes, but a proof for these sizes has {expected}")]
    WrongLength {
        /// The length the sizes call for.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The proof leads to another root than the one given (inclusion), or to another new root
    /// (consistency).
    #[error("the proof leads to root {computed_root}, not to the root given, {expected_root}")]
    RootMismatch {
        /// The root given.
        expected_root: Hash,
        /// The root the proof leads to.
        computed_root: Hash,
    },
    /// A consistency proof leads to another old root than the one given.
    #[error("the proof leads to old root {computed_root}, not to root1 as given, {expected_root}")]
    Root1Mismatch {
        /// `root1` as given.
        expected_root: Hash,
        /// The old root the proof leads to.
        computed_root: Hash,
    },
    /// A size beyond the tree the store holds was asked for.
    #[error("tree size {size} is beyond the log's {tree_size} records")]
    BeyondTree {
        /// The size asked for.
        size: u64,
        /// The log's size.
        tree_size: u64,
    },
}

fn check_consistency_sizes(size1: u64, size2: u64) -> Result<(), ProofError> {
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if !(size1 <= size2) {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    Ok(())
}

/// The length of an inclusion proof: the inner part below the point where the paths to the
/// leaf and to the last leaf split, plus the border part above it.
fn inclusion_proof_len(leaf_index: u64, tree_size: u64) -> usize {
    assert!(leaf_index < tree_size);
    let inner = bit_length(leaf_index ^ (tree_size - 1));
    let border = leaf_index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The length of a consistency proof between `0 < size1 < size2` (0 for equal sizes).
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    assert!(0 < size1 && size1 <= size2);
    if size1 == size2 {
        return 0;
    }
    // The proof is the inclusion proof of the old tree's last perfect subtree in the new tree,
    // seen from that subtree's level, plus that subtree itself unless it is the whole old tree.
    let level = size1.trailing_zeros();
    let index = (size1 - 1) >> level;
    let seed = usize::from(!size1.is_power_of_two());
    seed + inclusion_proof_len(index, ((size2 - 1) >> level) + 1)
}

/// Checks that `leaf_hash` is the leaf at `proof.leaf_index` of the tree of `proof.tree_size`
/// whose root is `root` (RFC 9162 §2.1.3.2).
///
/// # Errors
/// [`ProofError`] naming why the proof does not hold.
pub fn verify_inclusion(
    proof: &InclusionProof,
    leaf_hash: &Hash,
    root: &Hash,
) -> Result<(), ProofError> {
    let computed_root = root_from_inclusion(proof, leaf_hash)?;
    if computed_root != *root {
        return Err(ProofError::RootMismatch {
            expected_root: *root,
            computed_root,
        });
    }
    Ok(())
}

/// The root an inclusion proof leads to from `leaf_hash`.
///
/// # Errors
/// [`ProofError::LeafIndexOutOfRange`] or [`ProofError::WrongLength`].
pub fn root_from_inclusion(proof: &InclusionProof, leaf_hash: &Hash) -> Result<Hash, ProofError> {
    let InclusionProof {
        leaf_index,
        tree_size,
        ref hashes,
    } = *proof;
    if !(leaf_index < tree_size) {
        return Err(ProofError::LeafIndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    let expected = inclusion_proof_len(leaf_index, tree_size);
    if hashes.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            actual: hashes.len(),
        });
    }
    let (mut node_index, mut last_index) = (leaf_index, tree_size - 1);
    let mut computed = *leaf_hash;
    for sibling in hashes {
        assert!(last_index > 0);
        if node_index & 1 == 1 || node_index == last_index {
            computed = hash_children(sibling, &computed);
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_index >>= 1;
            }
        } else {
            computed = hash_children(&computed, sibling);
        }
        node_index >>= 1;
        last_index >>= 1;
    }
    assert_eq!(last_index, 0);
    Ok(computed)
}

/// Checks that the tree of `proof.size1` leaves with root `root1` is a prefix of the tree of
/// `proof.size2` leaves with root `root2` (RFC 9162 §2.1.4.2).
///
/// # Errors
/// [`ProofError`] naming why the proof does not hold. A proof from size 0 is refused, even
/// 0 → 0, because it proves nothing.
pub fn verify_consistency(
    proof: &ConsistencyProof,
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    let ConsistencyProof {
        size1,
        size2,
        ref hashes,
    } = *proof;
    check_consistency_sizes(size1, size2)?;
    let expected = consistency_proof_len(size1, size2);
    if hashes.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            actual: hashes.len(),
        });
    }
    let (computed_root1, computed_root2) = if size1 == size2 {
        (*root1, *root1)
    } else {
        roots_from_consistency(size1, size2, hashes, root1)
    };
    if computed_root1 != *root1 {
        return Err(ProofError::Root1Mismatch {
            expected_root: *root1,
            computed_root: computed_root1,
        });
    }
    if computed_root2 != *root2 {
        return Err(ProofError::RootMismatch {
            expected_root: *root2,
            computed_root: computed_root2,
        });
    }
    Ok(())
}

/// The old and new roots a consistency proof of the right length leads to.
fn roots_from_consistency(size1: u64, size2: u64, hashes: &[Hash], root1: &Hash) -> (Hash, Hash) {
    assert!(0 < size1 && size1 < size2);
    // When the old tree is perfect it is itself the first node of the path.
    let mut path = Vec::with_capacity(hashes.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(hashes);
    let (mut node_index, mut last_index) = (size1 - 1, size2 - 1);
    while node_index & 1 == 1 {
        node_index >>= 1;
        last_index >>= 1;
    }
    let (first, rest) = path.split_first().expect("a consistency path is not empty");
    let (mut old_root, mut new_root) = (*first, *first);
    for node in rest {
        assert!(last_index > 0);
        if node_index & 1 == 1 || node_index == last_index {
            old_root = hash_children(node, &old_root);
            new_root = hash_children(node, &new_root);
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_index >>= 1;
            }
        } else {
            new_root = hash_children(&new_root, node);
        }
        node_index >>= 1;
        last_index >>= 1;
    }
    assert_eq!(last_index, 0);
    (old_root, new_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let digest: [u8; 32] = Sha256::digest(b"").into();
        assert_eq!(EMPTY_ROOT, Hash::from_bytes(digest));
        assert_eq!(CompactRange::empty().root(), EMPTY_ROOT);
    }

    #[test]
    fn range_nodes_of_a_tree_are_its_peaks_tallest_first() {
        let peaks = range_nodes(0, 13);
        assert_eq!(
            peaks,
            [NodeId::new(3, 0), NodeId::new(2, 2), NodeId::new(0, 12)]
        );
        assert_eq!(range_nodes(8, 13), [NodeId::new(2, 2), NodeId::new(0, 12)]);
        assert!(range_nodes(5, 5).is_empty());
    }

    #[test]
    fn appending_completes_the_leaf_and_every_subtree_it_closes() {
        let mut range = CompactRange::empty();
        for leaf_index in 0..7 {
            range.append(leaf_hash(&[leaf_index as u8]));
        }
        let completed = range.append(leaf_hash(b"7"));
        let ids: Vec<NodeId> = completed.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids,
            [
                NodeId::new(0, 7),
                NodeId::new(1, 3),
                NodeId::new(2, 1),
                NodeId::new(3, 0)
            ]
        );
        assert_eq!(completed[3].1, range.root());
    }

    #[test]
    fn proof_lengths_match_the_plans_for_small_trees() {
        for tree_size in 1..64 {
            for leaf_index in 0..tree_size {
                let plan = ProofPlan::inclusion(leaf_index, tree_size).expect("plan");
                assert_eq!(plan.len(), inclusion_proof_len(leaf_index, tree_size));
            }
            for size1 in 1..=tree_size {
                let plan = ProofPlan::consistency(size1, tree_size).expect("plan");
                assert_eq!(plan.len(), consistency_proof_len(size1, tree_size));
            }
        }
    }

    #[test]
    fn plans_refuse_impossible_requests() {
        assert_eq!(
            ProofPlan::inclusion(3, 3),
            Err(ProofError::LeafIndexOutOfRange {
                leaf_index: 3,
                tree_size: 3
            })
        );
        assert_eq!(ProofPlan::consistency(0, 0), Err(ProofError::FromEmptyTree));
        assert_eq!(
            ProofPlan::consistency(4, 3),
            Err(ProofError::SizesOutOfOrder { size1: 4, size2: 3 })
        );
    }

    #[test]
    fn huge_sizes_do_not_overflow() {
        let tree_size = u64::MAX;
        let plan = ProofPlan::inclusion(tree_size - 1, tree_size).expect("plan");
        assert_eq!(plan.len(), inclusion_proof_len(tree_size - 1, tree_size));
        let plan = ProofPlan::consistency(tree_size - 1, tree_size).expect("plan");
        assert!(plan.len() <= PROOF_HASHES_MAX);
    }
}
