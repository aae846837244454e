-- jobdeck schema 6: retention. Finished jobs are found by when they finished, per status, so a
-- prune reads a range instead of every done job: the partial index holds only done and failed
-- jobs, and a completion appends to its end. `prunes` keeps one row per prune batch (when, how
-- many, the range of ids it deleted) so an id that is gone can be told from a typo, and
-- `leases` lets one worker at a time run automatic retention.

CREATE INDEX jobs_finished ON jobs (status, updated_at) WHERE status IN ('done', 'failed');
-- A pruned job's events are found (and deleted) through this index, not by reading the log.
CREATE INDEX events_job ON events (job_id);

CREATE TABLE prunes (
    id        INTEGER PRIMARY KEY,
    at        REAL NOT NULL,
    jobs      INTEGER NOT NULL,
    oldest_id TEXT NOT NULL,
    newest_id TEXT NOT NULL
);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
