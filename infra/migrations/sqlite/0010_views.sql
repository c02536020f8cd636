-- Read models (projections). Derived state: can be dropped and rebuilt from the log at any time.
-- Each projection keeps its rows as JSON text keyed by entity, and the number of records it has folded.

CREATE TABLE projection_checkpoints (
    projection TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL CHECK (position >= 0)  -- records folded so far: the next position to fold
) STRICT;

CREATE TABLE projection_rows (
    projection TEXT NOT NULL,
    row_key    TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (projection, row_key)
) STRICT;

-- The board as columns, for report tools and the sqlite3 shell.
CREATE VIEW board_items AS
SELECT row_key                              AS item_id,
       json_extract(body, '$.kind')         AS kind,
       json_extract(body, '$.title')        AS title,
       json_extract(body, '$.status')       AS status,
       json_extract(body, '$.round')        AS round,
       json_extract(body, '$.lead_unit')    AS lead_unit,
       json_extract(body, '$.leader')       AS leader,
       json_extract(body, '$.due')          AS due,
       json_extract(body, '$.class')        AS class,
       json_extract(body, '$.rating')       AS rating,
       json_extract(body, '$.last_activity_at') AS last_activity_at
FROM projection_rows
WHERE projection = 'board';
