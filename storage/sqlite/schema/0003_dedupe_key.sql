-- jobdeck schema 3: a failed job gives its idempotency key back by clearing dedupe_key, so the
-- unique index no longer mentions status. An index whose definition names status is rewritten
-- by every transition; this one holds hashes, so each rewrite dirtied a random page of its own.

DROP INDEX jobs_dedupe;
UPDATE jobs SET dedupe_key = NULL WHERE status = 'failed';
-- Invariant 6: one key never yields two live (or a live and a done) jobs.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;
