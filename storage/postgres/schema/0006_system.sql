-- jobdeck PostgreSQL schema 6: the system around the jobs (jobdeck.core.system); SQLite's
-- schema 9.
--
-- Each worker registers what it is when it starts and refreshes `last_seen` with the counts of
-- its last 5 minutes on its heartbeat. Rows written before this schema keep the defaults: a
-- lease of 0 means "not known" (the monitor then counts it alive for its own window).
ALTER TABLE workers
    ADD COLUMN host text NOT NULL DEFAULT '',
    ADD COLUMN pid bigint NOT NULL DEFAULT 0,
    ADD COLUMN version text NOT NULL DEFAULT '',
    ADD COLUMN started_at double precision NOT NULL DEFAULT 0,
    ADD COLUMN lease double precision NOT NULL DEFAULT 0,
    ADD COLUMN concurrency integer NOT NULL DEFAULT 0,
    ADD COLUMN kinds json NOT NULL DEFAULT '[]',
    ADD COLUMN done_5m integer NOT NULL DEFAULT 0,
    ADD COLUMN failed_5m integer NOT NULL DEFAULT 0;

-- Jobs per kind and status, kept exact by the statement that keeps `counts` (APPEND_EVENTS,
-- under the events lock). Filled once here from the jobs themselves.
CREATE TABLE kind_counts (
    kind   text COLLATE "C" NOT NULL,
    status text NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (kind, status)
);
INSERT INTO kind_counts (kind, status, n)
SELECT kind, status, count(*) FROM jobs GROUP BY kind, status;

-- Per kind, outcome and reason code, per bucket (10 s wide, folded into 60 s ones after 15
-- minutes and into one 0-wide row at start 0 after a day): how many jobs ended so, the sum of
-- their attempts' run times and a histogram of them (h0 .. h15: jobdeck.core.system's
-- RUN_TIME_BOUNDS, one integer column each so an upsert only adds). Written under the events
-- lock by the statement that appends the events of the moves it counts, one row per key per
-- transaction. Keyed by width first, so the fine buckets to fold and the buckets a window
-- reads are each one range of the key.
CREATE TABLE rollup (
    width    double precision NOT NULL,
    start    double precision NOT NULL,
    kind     text COLLATE "C" NOT NULL,
    outcome  text NOT NULL,
    code     text COLLATE "C" NOT NULL,
    n        bigint NOT NULL,
    run_time double precision NOT NULL,
    h0 bigint NOT NULL DEFAULT 0,
    h1 bigint NOT NULL DEFAULT 0,
    h2 bigint NOT NULL DEFAULT 0,
    h3 bigint NOT NULL DEFAULT 0,
    h4 bigint NOT NULL DEFAULT 0,
    h5 bigint NOT NULL DEFAULT 0,
    h6 bigint NOT NULL DEFAULT 0,
    h7 bigint NOT NULL DEFAULT 0,
    h8 bigint NOT NULL DEFAULT 0,
    h9 bigint NOT NULL DEFAULT 0,
    h10 bigint NOT NULL DEFAULT 0,
    h11 bigint NOT NULL DEFAULT 0,
    h12 bigint NOT NULL DEFAULT 0,
    h13 bigint NOT NULL DEFAULT 0,
    h14 bigint NOT NULL DEFAULT 0,
    h15 bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (width, start, kind, outcome, code)
);

-- The oldest queued job of each kind, one index probe per kind.
CREATE INDEX jobs_kind_queued ON jobs (kind, run_after) WHERE status = 'queued';
