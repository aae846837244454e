-- jobdeck schema 11: queued jobs sit in one index of their own, by kind.
--
-- `jobs_kind_queued (kind, run_after, id)` answers each kind's oldest queued job with one probe,
-- and what `jobs_ready (run_after, id)` answered (when the earliest queued job comes due, and the
-- queued jobs not yet due, soonest first) with one probe per kind that has queued jobs, merged.
-- A queued job is then in one of these indexes instead of both, and each claim deletes one index
-- entry fewer. Dropping an index and building the other reads the queued jobs only.
DROP INDEX jobs_ready;
DROP INDEX jobs_kind_queued;
CREATE INDEX jobs_kind_queued ON jobs (kind, run_after, id) WHERE status = 'queued';
