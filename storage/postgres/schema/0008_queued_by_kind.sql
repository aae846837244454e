-- jobdeck schema 8 (PostgreSQL): queued jobs sit in one index of their own, by kind.
--
-- `jobs_kind_queued (kind, run_after, id)` answers each kind's oldest queued job with one probe,
-- and what `jobs_ready (run_after, id)` answered (when the earliest queued job comes due, and the
-- queued jobs not yet due, soonest first) with one probe per kind that has queued jobs. A queued
-- job is then in one of these indexes instead of both, and each claim deletes one index entry
-- fewer. Building the index reads the queued jobs and holds off writes meanwhile.
DROP INDEX jobs_ready;
DROP INDEX jobs_kind_queued;
CREATE INDEX jobs_kind_queued ON jobs (kind, run_after, id) WHERE status = 'queued';
