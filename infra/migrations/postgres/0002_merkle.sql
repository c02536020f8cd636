-- The Merkle tree over the records' leaf hashes (RFC 6962), kept as its complete perfect subtrees.
-- Node (level, node_index) covers leaves [node_index << level, leaf_end), leaf_end = (node_index + 1) << level.
-- Level 0 holds the leaf hashes. A node is inserted in the append transaction that completes it and is never
-- changed, so the table is append-only like the log. Proofs read at most 2·log2(n) rows; `verify` re-derives
-- every row from the records, in (leaf_end, level) order.

CREATE TABLE merkle_nodes (
    level      BIGINT NOT NULL CHECK (level >= 0 AND level <= 63),
    node_index BIGINT NOT NULL CHECK (node_index >= 0),
    leaf_end   BIGINT NOT NULL CHECK (leaf_end >= 1),
    hash       BYTEA  NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, node_index),
    CHECK (leaf_end = (node_index + 1) * (1::BIGINT << level::INT))
);

CREATE INDEX merkle_nodes_in_append_order ON merkle_nodes (leaf_end, level);

CREATE TRIGGER merkle_nodes_refuse_change BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION huiyin_refuse_change();
CREATE TRIGGER merkle_nodes_refuse_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION huiyin_refuse_change();
