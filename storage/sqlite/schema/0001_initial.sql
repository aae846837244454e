-- jobdeck schema 1: jobs, their attempts and events, armed faults, per-status counts, workers.
-- Status and outcome values are the contract's enums (jobdeck.core.contract).

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,            -- JSON object
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempt          INTEGER NOT NULL CHECK (attempt >= 0),
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    reason           TEXT,                     -- JSON Reason, NULL unless failed
    reason_code      TEXT,                     -- reason's code, kept beside it for cheap grouping
    result           TEXT,                     -- JSON value, NULL until done
    idempotency_key  TEXT NOT NULL,
    dedupe_key       TEXT,                     -- idempotency_key, or NULL for a rerun
    rerun_of         TEXT REFERENCES jobs (id),
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL,
    run_after        REAL NOT NULL,
    lease_owner      TEXT,
    lease_expires_at REAL
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
    id          INTEGER PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs (id),
    n           INTEGER NOT NULL,              -- not unique: a released attempt's n is reused
    started_at  REAL NOT NULL,
    finished_at REAL,
    outcome     TEXT NOT NULL,
    reason      TEXT,                          -- JSON Reason
    worker      TEXT
);
CREATE INDEX attempts_job ON attempts (job_id, n);

-- Append-only; the cursor is never reused, so a monitor reads only what changed.
CREATE TABLE events (
    cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT NOT NULL REFERENCES jobs (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    reason_code TEXT,
    at          REAL NOT NULL
);

CREATE TABLE faults (
    id         INTEGER PRIMARY KEY,
    job_id     TEXT REFERENCES jobs (id),
    kind       TEXT,
    retryable  INTEGER NOT NULL,
    times      INTEGER NOT NULL CHECK (times >= 1),
    remaining  INTEGER NOT NULL CHECK (remaining >= 0),
    reason     TEXT NOT NULL,
    at_step    TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX faults_armed ON faults (id) WHERE remaining > 0;

-- Jobs per status, so reading them never scans jobs. Every statement that inserts, deletes or
-- changes the status of jobs adjusts these rows in its own transaction (storage/sqlite.py,
-- `_count`). Per-row triggers did the same at ~30% of the cost of an insert or a transition.
CREATE TABLE counts (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counts (status, n) VALUES ('queued', 0), ('running', 0), ('done', 0), ('failed', 0);

CREATE TABLE workers (
    name      TEXT PRIMARY KEY,
    last_seen REAL NOT NULL
) WITHOUT ROWID;
