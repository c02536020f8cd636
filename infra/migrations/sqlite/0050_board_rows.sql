-- The board's rows as real, indexed columns (issue #7: a paged board). Derived state, like
-- projection_rows: written by the board projection in the same transaction as its JSON row and
-- checkpoint, dropped and refilled by a rebuild. The JSON body stays in projection_rows (the fold
-- reads it); these columns are what the board filters, sorts, pages and counts by.
--
-- Text compares byte by byte (BINARY), as in Rust and as PostgreSQL's COLLATE "C". A value the
-- item does not have yet (lead unit, leader, due date) is '' rather than NULL, so every sort
-- column is NOT NULL and keyset paging needs no NULL cases; '' sorts first, as `None` does in Rust.
CREATE TABLE board_rows (
    item_id          TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    lead_unit        TEXT NOT NULL,   -- '' before assignment
    leader           TEXT NOT NULL,   -- the responsible leader's name; '' before assignment
    due              TEXT NOT NULL,   -- YYYY-MM-DD in force, or ''
    awaiting_due     TEXT NOT NULL,   -- `due` while the round (or triage) awaits, else '':
                                      -- overdue and due-soon are compared with today at query time
    answered_on_time INTEGER,         -- NULL never answered, 0 late, 1 on time
    is_open          INTEGER NOT NULL, -- 1 unless closed or ended without an answer
    is_closed        INTEGER NOT NULL, -- 1 when closed (销号)
    awaits_answer    INTEGER NOT NULL, -- 1 while assigned or re-handling
    last_activity_at TEXT NOT NULL
) STRICT;
CREATE INDEX board_rows_kind ON board_rows (kind, item_id);
CREATE INDEX board_rows_status ON board_rows (status, item_id);
CREATE INDEX board_rows_lead_unit ON board_rows (lead_unit, item_id);
CREATE INDEX board_rows_leader ON board_rows (leader, item_id);
CREATE INDEX board_rows_due ON board_rows (due, item_id);
CREATE INDEX board_rows_awaiting_due ON board_rows (awaiting_due, item_id);
CREATE INDEX board_rows_last_activity_at ON board_rows (last_activity_at, item_id);

-- Which deputies an item names: a deputy's board is the items with their id here.
CREATE TABLE board_deputies (
    deputy_id TEXT NOT NULL,
    item_id   TEXT NOT NULL,
    PRIMARY KEY (deputy_id, item_id)
) STRICT;
CREATE INDEX board_deputies_item ON board_deputies (item_id);

-- An existing ledger's board gets its columns here, from the JSON rows it already has (the same
-- values the projection computes: see `BoardProjection::board_columns`); a rebuild writes them anew.
INSERT INTO board_rows
SELECT row_key,
       json_extract(body, '$.kind'),
       json_extract(body, '$.status'),
       COALESCE(json_extract(body, '$.lead_unit'), ''),
       COALESCE(json_extract(body, '$.leader'), ''),
       COALESCE(json_extract(body, '$.due'), ''),
       CASE WHEN json_extract(body, '$.awaiting') THEN COALESCE(json_extract(body, '$.due'), '') ELSE '' END,
       json_extract(body, '$.answered_on_time'),
       CASE WHEN json_extract(body, '$.status') IN ('closed', 'returned', 'redirected', 'merged', 'withdrawn') THEN 0 ELSE 1 END,
       CASE WHEN json_extract(body, '$.status') = 'closed' THEN 1 ELSE 0 END,
       CASE WHEN json_extract(body, '$.status') IN ('assigned', 'rehandling') THEN 1 ELSE 0 END,
       json_extract(body, '$.last_activity_at')
FROM projection_rows WHERE projection = 'board';

INSERT OR IGNORE INTO board_deputies (deputy_id, item_id)
SELECT deputy.value, board.row_key
FROM projection_rows AS board, json_each(board.body, '$.deputy_ids') AS deputy
WHERE board.projection = 'board';
