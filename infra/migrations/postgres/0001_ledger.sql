-- The ledger: one append-only table of records, the head it is appended under, and the
-- idempotency keys of the commands that wrote them.

CREATE TABLE events (
    position    BIGINT PRIMARY KEY CHECK (position >= 0),
    stream      TEXT   NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 1),
    event_type  TEXT   NOT NULL,
    command_id  TEXT   NOT NULL,
    recorded_at TEXT   NOT NULL,
    canonical   BYTEA  NOT NULL,
    hash        BYTEA  NOT NULL CHECK (length(hash) = 32),
    prev        BYTEA  NOT NULL CHECK (length(prev) = 32),
    UNIQUE (stream, version)
);

CREATE INDEX events_by_command ON events (command_id);

CREATE FUNCTION huiyin_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'huiyin: the % table is append-only; % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION huiyin_refuse_change();
CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION huiyin_refuse_change();

CREATE TABLE commands (
    command_id     TEXT   PRIMARY KEY,
    request_hash   BYTEA  NOT NULL CHECK (length(request_hash) = 32),
    stream         TEXT   NOT NULL,
    first_position BIGINT NOT NULL,
    event_count    INT    NOT NULL CHECK (event_count >= 1)
);

CREATE TRIGGER commands_refuse_change BEFORE UPDATE OR DELETE ON commands
    FOR EACH ROW EXECUTE FUNCTION huiyin_refuse_change();
CREATE TRIGGER commands_refuse_truncate BEFORE TRUNCATE ON commands
    FOR EACH STATEMENT EXECUTE FUNCTION huiyin_refuse_change();

-- The one row appends lock and advance. It is a cache of the last record; verify checks it.
CREATE TABLE ledger_head (
    id               SMALLINT PRIMARY KEY CHECK (id = 1),
    tree_size        BIGINT   NOT NULL CHECK (tree_size >= 0),
    head_hash        BYTEA    NOT NULL CHECK (length(head_hash) = 32),
    recorded_at_last TEXT     NOT NULL
);

INSERT INTO ledger_head (id, tree_size, head_hash, recorded_at_last)
VALUES (1, 0, decode(repeat('00', 32), 'hex'), '');
