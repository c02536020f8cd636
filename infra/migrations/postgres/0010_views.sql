-- Read models (projections). Derived state: can be dropped and rebuilt from the log at any time.
-- Each projection keeps its rows as JSON text keyed by entity, and the number of records it has folded.

CREATE TABLE projection_checkpoints (
    projection TEXT   PRIMARY KEY,
    position   BIGINT NOT NULL CHECK (position >= 0)  -- records folded so far: the next position to fold
);

CREATE TABLE projection_rows (
    projection TEXT NOT NULL,
    row_key    TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (projection, row_key)
);

-- The board as columns, for report tools and psql.
CREATE VIEW board_items AS
SELECT row_key                           AS item_id,
       body::jsonb ->> 'kind'            AS kind,
       body::jsonb ->> 'title'           AS title,
       body::jsonb ->> 'status'          AS status,
       (body::jsonb ->> 'round')::int    AS round,
       body::jsonb ->> 'lead_unit'       AS lead_unit,
       body::jsonb ->> 'leader'          AS leader,
       body::jsonb ->> 'due'             AS due,
       body::jsonb ->> 'class'           AS class,
       body::jsonb ->> 'rating'          AS rating,
       body::jsonb ->> 'last_activity_at' AS last_activity_at
FROM projection_rows
WHERE projection = 'board';
