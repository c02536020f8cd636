-- The outbox: notifications decided from the log and the passing of time, waiting to be sent.
-- Not part of the ledger and not a projection: a rebuild never touches it, so a notice queued
-- once is never queued again (its id is a hash of what it is about; see projections::notices).

CREATE TABLE outbox (
    id              TEXT    PRIMARY KEY,          -- deterministic: kind, item, round, recipient, channel, day
    kind            TEXT    NOT NULL,             -- halfway, due_soon, overdue, assigned, answered, rehandling, closed, digest
    item_id         TEXT,                         -- none for a digest
    recipient       TEXT    NOT NULL,             -- a person id, unit:NAME or the liaison office's id
    channel         TEXT    NOT NULL,             -- email, webhook, or none (no address known)
    address         TEXT,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    queued_at       BIGINT  NOT NULL,             -- Unix seconds of the run that queued it
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        BIGINT  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT  NOT NULL              -- Unix seconds: not to be tried before
);

CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);

-- Every delivery attempt, kept.
CREATE TABLE outbox_attempts (
    id          TEXT    NOT NULL REFERENCES outbox (id),
    attempt     BIGINT  NOT NULL CHECK (attempt >= 1),
    at          BIGINT  NOT NULL,                 -- Unix seconds
    outcome     TEXT    NOT NULL CHECK (outcome IN ('sent', 'failed', 'dead')),
    error       TEXT,
    PRIMARY KEY (id, attempt)
);
