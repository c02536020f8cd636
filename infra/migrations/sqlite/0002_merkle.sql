-- The Merkle tree over the records' leaf hashes (RFC 6962), kept as its complete perfect subtrees.
-- Node (level, node_index) covers leaves [node_index << level, leaf_end), leaf_end = (node_index + 1) << level.
-- Level 0 holds the leaf hashes. A node is inserted in the append transaction that completes it and is never
-- changed, so the table is append-only like the log. Proofs read at most 2·log2(n) rows; `verify` re-derives
-- every row from the records, in (leaf_end, level) order.

CREATE TABLE merkle_nodes (
    level      INTEGER NOT NULL CHECK (level >= 0 AND level <= 63),
    node_index INTEGER NOT NULL CHECK (node_index >= 0),
    leaf_end   INTEGER NOT NULL CHECK (leaf_end >= 1),
    hash       BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, node_index),
    CHECK (leaf_end = (node_index + 1) << level)
) STRICT, WITHOUT ROWID;

CREATE INDEX merkle_nodes_in_append_order ON merkle_nodes (leaf_end, level);

CREATE TRIGGER merkle_nodes_refuse_update BEFORE UPDATE ON merkle_nodes
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the merkle_nodes table is append-only; UPDATE refused');
END;

CREATE TRIGGER merkle_nodes_refuse_delete BEFORE DELETE ON merkle_nodes
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the merkle_nodes table is append-only; DELETE refused');
END;
