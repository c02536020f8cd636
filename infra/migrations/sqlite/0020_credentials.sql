-- Credentials: password hashes, bearer tokens and login sessions. They are kept outside the ledger
-- (DESIGN.md §4): nothing here is ever part of a record, and no secret is stored, only its hash.
-- Times are UTC, written as YYYY-MM-DDTHH:MM:SS.sssZ, so they compare as text.

CREATE TABLE passwords (
    person_id  TEXT PRIMARY KEY,
    phc        TEXT NOT NULL,  -- the argon2id hash as a PHC string (algorithm, parameters, salt, hash)
    roles      TEXT NOT NULL,  -- the roles the person may log in as: role ids separated by spaces
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_tokens (
    token_id    TEXT PRIMARY KEY,  -- a public handle, printed at issue, for revoking
    secret_hash BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),  -- SHA-256 of the token
    person_id   TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

CREATE TABLE sessions (
    secret_hash BLOB PRIMARY KEY CHECK (length(secret_hash) = 32),  -- SHA-256 of the cookie value
    person_id   TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_by_person ON sessions (person_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
