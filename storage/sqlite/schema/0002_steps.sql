-- jobdeck schema 2: durable steps (memoized results and compensations) and step-tagged events.

CREATE TABLE steps (
    job_id                TEXT NOT NULL REFERENCES jobs (id),
    name                  TEXT NOT NULL,
    seq                   INTEGER NOT NULL,     -- execution order within the job
    status                TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    result                TEXT,                 -- JSON, the memoized result of a done step
    attempt               INTEGER NOT NULL,     -- the attempt that last ran it
    reason                TEXT,                 -- JSON Reason of a failed step
    compensable           INTEGER NOT NULL DEFAULT 0,
    compensation          TEXT CHECK (compensation IN ('pending', 'done', 'failed')),
    compensation_attempts INTEGER NOT NULL DEFAULT 0,
    compensation_reason   TEXT,                 -- JSON Reason of a failed compensation
    at                    REAL NOT NULL,
    PRIMARY KEY (job_id, name)
) WITHOUT ROWID;

-- A compensation's event names its step; transitions leave it NULL.
ALTER TABLE events ADD COLUMN step TEXT;
