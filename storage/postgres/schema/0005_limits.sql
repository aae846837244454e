-- jobdeck schema 5 (PostgreSQL): priorities, and limits a kind holds across every worker.
--
-- A job's priority (-100 to 100, higher first) orders the claim ahead of run_after and id.
-- A column with a constant default is added without rewriting the table (the CHECK reads each
-- row once). `jobs_claim` is the index a claim walks, in the order jobs are handed out;
-- building it reads the table and holds off writes meanwhile. `jobs_ready` stays for "when is
-- the next job due" and "which jobs wait for a later time", which run_after alone answers.
ALTER TABLE jobs ADD COLUMN priority integer NOT NULL DEFAULT 0
    CHECK (priority BETWEEN -100 AND 100);
CREATE INDEX jobs_claim ON jobs (priority DESC, run_after, id) WHERE status = 'queued';

-- What workers declared for a kind when they started: at most `concurrency` of its jobs
-- running at once, and at most `rate_count` claims in any window of `rate_seconds`. The last
-- worker to start replaces the row; a worker that runs the kind without limits deletes it.
-- A claim that may take jobs of a limited kind locks its row first, so claims of one limited
-- kind take turns while claims of other kinds go on.
CREATE TABLE kind_limits (
    kind         text COLLATE "C" PRIMARY KEY,
    concurrency  integer CHECK (concurrency >= 1),
    rate_count   integer CHECK (rate_count >= 1),
    rate_seconds double precision CHECK (rate_seconds > 0),
    declared_by  text NOT NULL,
    declared_at  double precision NOT NULL,
    CHECK ((rate_count IS NULL) = (rate_seconds IS NULL))
);

-- The rate's spent tokens: one row per claim that took `n` jobs of a kind at `spent_at`.
-- A token comes back `rate_seconds` after it was spent; a claim deletes the rows that came
-- back, so a kind never holds more than `rate_count` rows.
CREATE TABLE rate_spent (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind     text COLLATE "C" NOT NULL,
    spent_at double precision NOT NULL,
    n        integer NOT NULL CHECK (n >= 1)
);
CREATE INDEX rate_spent_kind ON rate_spent (kind, spent_at);
