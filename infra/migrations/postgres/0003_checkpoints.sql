-- Signed checkpoints (C2SP tlog-checkpoint notes) and the witnesses' cosignatures on them. Both are
-- append-only. checkpoint_id counts 1, 2, 3… in signing order, so two signers racing collide on the key.
-- The columns tree_size and root repeat what the signed note says, for queries; verify checks they agree.

CREATE TABLE checkpoints (
    checkpoint_id BIGINT PRIMARY KEY CHECK (checkpoint_id >= 1),
    tree_size     BIGINT NOT NULL CHECK (tree_size >= 0),
    root          BYTEA  NOT NULL CHECK (length(root) = 32),
    note          TEXT   NOT NULL,
    recorded_at   TEXT   NOT NULL
);

CREATE INDEX checkpoints_by_tree_size ON checkpoints (tree_size, checkpoint_id);

CREATE TABLE cosignatures (
    checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (checkpoint_id),
    witness       TEXT   NOT NULL,
    key_id        BIGINT NOT NULL CHECK (key_id >= 0 AND key_id < 4294967296),
    cosigned_at   BIGINT NOT NULL CHECK (cosigned_at >= 0),
    line          TEXT   NOT NULL,
    PRIMARY KEY (checkpoint_id, witness, key_id)
);

CREATE TRIGGER checkpoints_refuse_change BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION huiyin_refuse_change();
CREATE TRIGGER checkpoints_refuse_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION huiyin_refuse_change();
CREATE TRIGGER cosignatures_refuse_change BEFORE UPDATE OR DELETE ON cosignatures
    FOR EACH ROW EXECUTE FUNCTION huiyin_refuse_change();
CREATE TRIGGER cosignatures_refuse_truncate BEFORE TRUNCATE ON cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION huiyin_refuse_change();
