-- jobdeck schema 3 (PostgreSQL): retention. Finished jobs are found by when they finished, per
-- status, through a partial index that holds only done and failed jobs. `prunes` keeps one row
-- per prune batch (when, how many, the range of ids it deleted) so an id that is gone can be told
-- from a typo, and `leases` lets one worker at a time run automatic retention. A rerun may
-- outlive its original, so `rerun_of` stops being a foreign key: it names a job that may have
-- been pruned.

CREATE INDEX jobs_finished ON jobs (status, updated_at) WHERE status IN ('done', 'failed');
-- A pruned job's events are found (and deleted) through this index, not by reading the log.
CREATE INDEX events_job ON events (job_id);

ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_rerun_of_fkey;

CREATE TABLE prunes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        double precision NOT NULL,
    jobs      integer NOT NULL,
    oldest_id text COLLATE "C" NOT NULL,
    newest_id text COLLATE "C" NOT NULL
);

CREATE TABLE leases (
    name       text PRIMARY KEY,
    owner      text NOT NULL,
    expires_at double precision NOT NULL
);
