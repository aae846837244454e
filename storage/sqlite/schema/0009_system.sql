-- jobdeck schema 9: the system around the jobs (jobdeck.core.system).
--
-- Each worker registers what it is when it starts and refreshes `last_seen` with the counts of
-- its last 5 minutes on its heartbeat. Rows written before this schema keep the defaults: a
-- lease of 0 means "not known" (the monitor then counts it alive for its own window).
ALTER TABLE workers ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN version TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN started_at REAL NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN lease REAL NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN kinds TEXT NOT NULL DEFAULT '[]';  -- JSON array of kind names
ALTER TABLE workers ADD COLUMN done_5m INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN failed_5m INTEGER NOT NULL DEFAULT 0;

-- Jobs per kind and status, kept exact by the same statements of the same transactions that
-- keep `counts` (storage/sqlite/tx.py, `count`). Filled once here from the jobs themselves.
CREATE TABLE kind_counts (
    kind   TEXT NOT NULL,
    status TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (kind, status)
) WITHOUT ROWID;
INSERT INTO kind_counts (kind, status, n)
SELECT kind, status, count(*) FROM jobs GROUP BY kind, status;

-- Per kind, outcome and reason code, per bucket (10 s wide, folded into 60 s ones after 15
-- minutes and into one 0-wide row at start 0 after a day): how many jobs ended so, the sum of
-- their attempts' run times and a histogram of them (h0 .. h15: jobdeck.core.system's
-- RUN_TIME_BOUNDS, one integer column each so an upsert only adds). Written in the transaction
-- of the moves it counts, one upsert per key per transaction. Keyed by width first, so the
-- fine buckets to fold and the buckets a window reads are each one range of the key.
CREATE TABLE rollup (
    width    REAL NOT NULL,
    start    REAL NOT NULL,
    kind     TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    code     TEXT NOT NULL,
    n        INTEGER NOT NULL,
    run_time REAL NOT NULL,
    h0 INTEGER NOT NULL DEFAULT 0, h1 INTEGER NOT NULL DEFAULT 0,
    h2 INTEGER NOT NULL DEFAULT 0, h3 INTEGER NOT NULL DEFAULT 0,
    h4 INTEGER NOT NULL DEFAULT 0, h5 INTEGER NOT NULL DEFAULT 0,
    h6 INTEGER NOT NULL DEFAULT 0, h7 INTEGER NOT NULL DEFAULT 0,
    h8 INTEGER NOT NULL DEFAULT 0, h9 INTEGER NOT NULL DEFAULT 0,
    h10 INTEGER NOT NULL DEFAULT 0, h11 INTEGER NOT NULL DEFAULT 0,
    h12 INTEGER NOT NULL DEFAULT 0, h13 INTEGER NOT NULL DEFAULT 0,
    h14 INTEGER NOT NULL DEFAULT 0, h15 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (width, start, kind, outcome, code)
) WITHOUT ROWID;

-- The oldest queued job of each kind, one index probe per kind.
CREATE INDEX jobs_kind_queued ON jobs (kind, run_after) WHERE status = 'queued';
