-- jobdeck PostgreSQL schema 1: the same tables as SQLite's schemas 1 and 2, in the `jobdeck`
-- schema (so they never collide with an application's own tables in a shared database).
-- Status and outcome values are the contract's enums (jobdeck.core.contract). Ids and kinds use
-- the "C" collation: keyset pages and prefix lookups order them by code point, as SQLite does.
-- JSON columns are `json`, not `jsonb`: nothing queries inside them, and `json` keeps the
-- canonical text jobdeck writes, so a text search and a float round trip behave as on SQLite.

CREATE TABLE jobs (
    id               text COLLATE "C" PRIMARY KEY,
    kind             text COLLATE "C" NOT NULL,
    payload          json NOT NULL,
    status           text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempt          integer NOT NULL CHECK (attempt >= 0),
    max_attempts     integer NOT NULL CHECK (max_attempts >= 1),
    reason           json,                      -- Reason, NULL unless failed
    reason_code      text COLLATE "C",          -- reason's code, kept beside it for grouping
    result           json,                      -- NULL until done
    idempotency_key  text NOT NULL,
    dedupe_key       text,                      -- idempotency_key, or NULL for a rerun
    rerun_of         text COLLATE "C" REFERENCES jobs (id),
    created_at       double precision NOT NULL,
    updated_at       double precision NOT NULL,
    run_after        double precision NOT NULL,
    lease_owner      text,
    lease_expires_at double precision
);

-- Keyset pages of one status pane.
CREATE INDEX jobs_status_id ON jobs (status, id);
-- What claim walks: ready queued jobs in the order they are handed out.
CREATE INDEX jobs_ready ON jobs (run_after, id) WHERE status = 'queued';
-- What lease recovery walks.
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
-- Invariant 6: one key never yields two live (or a live and a done) jobs.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key)
    WHERE status IN ('queued', 'running', 'done');
CREATE INDEX jobs_rerun_of ON jobs (rerun_of) WHERE rerun_of IS NOT NULL;
-- Failure groups and the jobs of one group.
CREATE INDEX jobs_failed_code ON jobs (reason_code, id) WHERE status = 'failed';

CREATE TABLE attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      text COLLATE "C" NOT NULL REFERENCES jobs (id),
    n           integer NOT NULL,               -- not unique: a released attempt's n is reused
    started_at  double precision NOT NULL,
    finished_at double precision,
    outcome     text NOT NULL,
    reason      json,
    worker      text
);
CREATE INDEX attempts_job ON attempts (job_id, n);

-- Append-only; the cursor is never reused. Writers append under one transaction-level advisory
-- lock held to commit, so cursors become visible in order and a monitor reading "after cursor
-- c" never skips an event that commits late (a sequence alone hands out numbers out of order).
CREATE TABLE events (
    cursor      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      text COLLATE "C" NOT NULL REFERENCES jobs (id),
    from_status text,
    to_status   text NOT NULL,
    attempt     integer NOT NULL,
    reason_code text,
    at          double precision NOT NULL,
    step        text                            -- a compensation's step; NULL for transitions
);

CREATE TABLE faults (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id     text COLLATE "C" REFERENCES jobs (id),
    kind       text COLLATE "C",
    retryable  boolean NOT NULL,
    times      integer NOT NULL CHECK (times >= 1),
    remaining  integer NOT NULL CHECK (remaining >= 0),
    reason     text NOT NULL,
    at_step    text,
    created_at double precision NOT NULL
);
CREATE INDEX faults_armed ON faults (id) WHERE remaining > 0;

-- Jobs per status, so reading them never scans jobs; every write that adds jobs or moves them
-- between statuses adjusts these rows in its own transaction.
CREATE TABLE counts (
    status text PRIMARY KEY,
    n      bigint NOT NULL
);
INSERT INTO counts (status, n) VALUES ('queued', 0), ('running', 0), ('done', 0), ('failed', 0);

CREATE TABLE workers (
    name      text PRIMARY KEY,
    last_seen double precision NOT NULL
);

CREATE TABLE steps (
    job_id                text COLLATE "C" NOT NULL REFERENCES jobs (id),
    name                  text NOT NULL,
    seq                   integer NOT NULL,     -- execution order within the job
    status                text NOT NULL CHECK (status IN ('done', 'failed')),
    result                json,                 -- the memoized result of a done step
    attempt               integer NOT NULL,     -- the attempt that last ran it
    reason                json,                 -- Reason of a failed step
    compensable           boolean NOT NULL DEFAULT false,
    compensation          text CHECK (compensation IN ('pending', 'done', 'failed')),
    compensation_attempts integer NOT NULL DEFAULT 0,
    compensation_reason   json,                 -- Reason of a failed compensation
    at                    double precision NOT NULL,
    PRIMARY KEY (job_id, name)
);
