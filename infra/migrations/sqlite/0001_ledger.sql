-- The ledger: one append-only table of records, the head it is appended under, and the
-- idempotency keys of the commands that wrote them.

CREATE TABLE events (
    position    INTEGER PRIMARY KEY CHECK (position >= 0),
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    event_type  TEXT    NOT NULL,
    command_id  TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    canonical   BLOB    NOT NULL,
    hash        BLOB    NOT NULL CHECK (length(hash) = 32),
    prev        BLOB    NOT NULL CHECK (length(prev) = 32),
    UNIQUE (stream, version)
) STRICT;

CREATE INDEX events_by_command ON events (command_id);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the events table is append-only; UPDATE refused');
END;

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the events table is append-only; DELETE refused');
END;

CREATE TABLE commands (
    command_id     TEXT    PRIMARY KEY,
    request_hash   BLOB    NOT NULL CHECK (length(request_hash) = 32),
    stream         TEXT    NOT NULL,
    first_position INTEGER NOT NULL,
    event_count    INTEGER NOT NULL CHECK (event_count >= 1)
) STRICT;

CREATE TRIGGER commands_refuse_update BEFORE UPDATE ON commands
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the commands table is append-only; UPDATE refused');
END;

CREATE TRIGGER commands_refuse_delete BEFORE DELETE ON commands
BEGIN
    SELECT RAISE(ABORT, 'huiyin: the commands table is append-only; DELETE refused');
END;

-- The one row appends lock and advance. It is a cache of the last record; verify checks it.
CREATE TABLE ledger_head (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    tree_size        INTEGER NOT NULL CHECK (tree_size >= 0),
    head_hash        BLOB    NOT NULL CHECK (length(head_hash) = 32),
    recorded_at_last TEXT    NOT NULL
) STRICT;

INSERT INTO ledger_head (id, tree_size, head_hash, recorded_at_last)
VALUES (1, 0, zeroblob(32), '');
