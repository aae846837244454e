-- jobdeck schema 8: priorities, and limits a kind holds across every worker.
--
-- A job's priority (-100 to 100, higher first) orders the claim ahead of run_after and id.
-- The column has a constant default, so adding it rewrites no row (the CHECK reads each row
-- once). `jobs_claim` is the index a claim walks, in the order jobs are handed out; building
-- it reads the queued jobs only. `jobs_ready` stays for what asks "when is the
-- next job due" and "which jobs wait for a later time", which run_after alone answers.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0
    CHECK (priority BETWEEN -100 AND 100);
CREATE INDEX jobs_claim ON jobs (priority DESC, run_after, id) WHERE status = 'queued';

-- What workers declared for a kind when they started: at most `concurrency` of its jobs
-- running at once, and at most `rate_count` claims in any window of `rate_seconds`. The last
-- worker to start replaces the row; a worker that runs the kind without limits deletes it.
CREATE TABLE kind_limits (
    kind         TEXT PRIMARY KEY,
    concurrency  INTEGER CHECK (concurrency >= 1),
    rate_count   INTEGER CHECK (rate_count >= 1),
    rate_seconds REAL CHECK (rate_seconds > 0),
    declared_by  TEXT NOT NULL,
    declared_at  REAL NOT NULL,
    CHECK ((rate_count IS NULL) = (rate_seconds IS NULL))
) WITHOUT ROWID;

-- The rate's spent tokens: one row per claim that took `n` jobs of a kind at `spent_at`.
-- A token comes back `rate_seconds` after it was spent; a claim deletes the rows that came
-- back, so a kind never holds more than `rate_count` rows.
CREATE TABLE rate_spent (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    spent_at REAL NOT NULL,
    n        INTEGER NOT NULL CHECK (n >= 1)
);
CREATE INDEX rate_spent_kind ON rate_spent (kind, spent_at);
