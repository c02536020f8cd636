-- Signed checkpoints (C2SP tlog-checkpoint notes) and the witnesses' cosignatures on them. Both are
-- append-only. checkpoint_id counts 1, 2, 3… in signing order, so two signers racing collide on the key.
-- The columns tree_size and root repeat what the signed note says, for queries; verify checks they agree.

CREATE TABLE checkpoints (
    checkpoint_id INTEGER PRIMARY KEY CHECK (checkpoint_id >= 1),
    tree_size     INTEGER NOT NULL CHECK (tree_size >= 0),
    root          BLOB    NOT NULL CHECK (length(root) = 32),
    note          TEXT    NOT NULL,
    recorded_at   TEXT    NOT NULL
) STRICT;

CREATE INDEX checkpoints_by_tree_size ON checkpoints (tree_size, checkpoint_id);

CREATE TABLE cosignatures (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (checkpoint_id),
    witness       TEXT    NOT NULL,
    key_id        INTEGER NOT NULL CHECK (key_id >= 0 AND key_id < 4294967296),
    cosigned_at   INTEGER NOT NULL CHECK (cosigned_at >= 0),
    line          TEXT    NOT NULL,
    PRIMARY KEY (checkpoint_id, witness, key_id)
) STRICT;

CREATE TRIGGER checkpoints_refuse_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the checkpoints table is append-only; UPDATE refused');
END;

CREATE TRIGGER checkpoints_refuse_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the checkpoints table is append-only; DELETE refused');
END;

CREATE TRIGGER cosignatures_refuse_update BEFORE UPDATE ON cosignatures
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the cosignatures table is append-only; UPDATE refused');
END;

CREATE TRIGGER cosignatures_refuse_delete BEFORE DELETE ON cosignatures
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the cosignatures table is append-only; DELETE refused');
END;
