-- The board's rows as real, indexed columns (issue #7: a paged board). Derived state, like
-- projection_rows: written by the board projection in the same transaction as its JSON row and
-- checkpoint, dropped and refilled by a rebuild. The JSON body stays in projection_rows (the fold
-- reads it); these columns are what the board filters, sorts, pages and counts by.
--
-- Text columns are COLLATE "C" (byte order), so PostgreSQL orders them as SQLite and Rust do.
-- A value the item does not have yet (lead unit, leader, due date) is '' rather than NULL, so
-- every sort column is NOT NULL and keyset paging needs no NULL cases; '' sorts first, as `None`
-- does in Rust.
CREATE TABLE board_rows (
    item_id          TEXT COLLATE "C" PRIMARY KEY,
    kind             TEXT COLLATE "C" NOT NULL,
    status           TEXT COLLATE "C" NOT NULL,
    lead_unit        TEXT COLLATE "C" NOT NULL,  -- '' before assignment
    leader           TEXT COLLATE "C" NOT NULL,  -- the responsible leader's name; '' before assignment
    due              TEXT COLLATE "C" NOT NULL,  -- YYYY-MM-DD in force, or ''
    awaiting_due     TEXT COLLATE "C" NOT NULL,  -- `due` while the round (or triage) awaits, else '':
                                                 -- overdue and due-soon are compared with today at query time
    answered_on_time INTEGER,                    -- NULL never answered, 0 late, 1 on time
    is_open          INTEGER NOT NULL,           -- 1 unless closed or ended without an answer
    is_closed        INTEGER NOT NULL,           -- 1 when closed (销号)
    awaits_answer    INTEGER NOT NULL,           -- 1 while assigned or re-handling
    last_activity_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX board_rows_kind ON board_rows (kind, item_id);
CREATE INDEX board_rows_status ON board_rows (status, item_id);
CREATE INDEX board_rows_lead_unit ON board_rows (lead_unit, item_id);
CREATE INDEX board_rows_leader ON board_rows (leader, item_id);
CREATE INDEX board_rows_due ON board_rows (due, item_id);
CREATE INDEX board_rows_awaiting_due ON board_rows (awaiting_due, item_id);
CREATE INDEX board_rows_last_activity_at ON board_rows (last_activity_at, item_id);

-- Which deputies an item names: a deputy's board is the items with their id here.
CREATE TABLE board_deputies (
    deputy_id TEXT COLLATE "C" NOT NULL,
    item_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (deputy_id, item_id)
);
CREATE INDEX board_deputies_item ON board_deputies (item_id);

-- An existing ledger's board gets its columns here, from the JSON rows it already has (the same
-- values the projection computes: see `BoardProjection::board_columns`); a rebuild writes them anew.
INSERT INTO board_rows
SELECT row_key,
       b ->> 'kind',
       b ->> 'status',
       COALESCE(b ->> 'lead_unit', ''),
       COALESCE(b ->> 'leader', ''),
       COALESCE(b ->> 'due', ''),
       CASE WHEN (b ->> 'awaiting')::boolean THEN COALESCE(b ->> 'due', '') ELSE '' END,
       CASE b ->> 'answered_on_time' WHEN 'true' THEN 1 WHEN 'false' THEN 0 END,
       CASE WHEN b ->> 'status' IN ('closed', 'returned', 'redirected', 'merged', 'withdrawn') THEN 0 ELSE 1 END,
       CASE WHEN b ->> 'status' = 'closed' THEN 1 ELSE 0 END,
       CASE WHEN b ->> 'status' IN ('assigned', 'rehandling') THEN 1 ELSE 0 END,
       b ->> 'last_activity_at'
FROM (SELECT row_key, body::jsonb AS b FROM projection_rows WHERE projection = 'board') AS board;

INSERT INTO board_deputies (deputy_id, item_id)
SELECT DISTINCT deputy.id, board.row_key
FROM (SELECT row_key, body::jsonb AS b FROM projection_rows WHERE projection = 'board') AS board,
     jsonb_array_elements_text(COALESCE(board.b -> 'deputy_ids', '[]'::jsonb)) AS deputy(id);
