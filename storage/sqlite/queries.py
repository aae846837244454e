"""Every SQL statement of the SQLite backend, each named for what it does. The schema itself is in
`schema/`; nothing else in jobdeck writes SQL.

Named parameters (`:name`) where a statement takes more than two; JSON arrays are passed as one
parameter and unpacked with json_each so a statement's text never depends on a list's length.
`INDEXED BY` pins the partial index a statement is built around: without statistics the planner
prefers (status, id) and sorts, which at 1 M queued jobs turns each claim into a full scan.
"""

from __future__ import annotations

from typing import Final

from jobdeck.storage.columns import (
    ATTEMPT_COLUMNS,
    EVENT_COLUMNS,
    FAULT_COLUMNS,
    JOB_COLUMNS,
    JOINED_JOB_COLUMNS,
    ROLLUP_ALL_TIME,
    ROLLUP_COLUMNS,
    ROLLUP_FINE,
    ROLLUP_HOUR,
    ROLLUP_HOUR_INT,
    ROLLUP_MINUTE,
    ROLLUP_MINUTE_INT,
    ROLLUP_SUMMED,
    ROLLUP_WIDTHS,
    SCHEDULE_COLUMNS,
    STEP_COLUMNS,
)

# -- opening -----------------------------------------------------------------------------------

# The schema version stored in the file header.
USER_VERSION: Final = "PRAGMA user_version"
# Record the schema version (inside the migration's transaction).
SET_USER_VERSION: Final = "PRAGMA user_version = {version:d}"
# Whether the file already holds tables (a foreign SQLite file is not ours to migrate).
HAS_TABLES: Final = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')"
# Connection settings for a writer; WAL lets monitors read while workers write.
PRAGMAS_WRITE: Final = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    # Checkpoints run on a thread of their own (sqlite_checkpoint); a commit checkpoints only
    # when the WAL passes 10,000 pages (40 MB), should that thread fall behind.
    "PRAGMA wal_autocheckpoint = 10000",
)
# Copy committed WAL pages back into the database file without waiting on anybody.
CHECKPOINT: Final = "PRAGMA wal_checkpoint(PASSIVE)"
# Connection settings for a read-only monitor.
PRAGMAS_READ: Final = ("PRAGMA foreign_keys = ON",)
# How long SQLite itself waits for a lock before answering busy.
SET_BUSY_TIMEOUT: Final = "PRAGMA busy_timeout = {ms:d}"
# Let SQLite refresh its planner statistics before the connection goes away.
OPTIMIZE: Final = "PRAGMA optimize"
# Open a write transaction now, so a busy wait happens here and never mid-transaction.
BEGIN_WRITE: Final = "BEGIN IMMEDIATE"
# End the write transaction.
COMMIT: Final = "COMMIT"
# Undo the write transaction after an error.
ROLLBACK: Final = "ROLLBACK"
# A nested point to undo an optimistic insert to (see tx.insert).
SAVEPOINT_FRESH: Final = "SAVEPOINT fresh"
UNDO_FRESH: Final = "ROLLBACK TO fresh"
RELEASE_FRESH: Final = "RELEASE fresh"

# -- insert ------------------------------------------------------------------------------------

# Live or done jobs already holding any of the keys (a JSON array).
SELECT_DEDUPED: Final = f"""
SELECT dedupe_key, {JOB_COLUMNS} FROM jobs INDEXED BY jobs_dedupe
WHERE dedupe_key IN (SELECT value FROM json_each(:keys)) AND dedupe_key IS NOT NULL
"""
# Store one new job; the unique partial index refuses a second live job for a key.
INSERT_JOB: Final = """
INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts, reason, reason_code, result,
                  idempotency_key, dedupe_key, rerun_of, created_at, updated_at, run_after,
                  lease_owner, lease_expires_at, priority, trace_context)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
"""
# Store one new queued job with nothing but its own fields: the constants and NULLs are in the
# text, so a batch binds 7 values a job instead of 18 (binding None costs sqlite3 an adapter
# lookup each). Values: id, kind, payload, max_attempts, idempotency key, created_at, priority.
INSERT_NEW_JOB: Final = """
INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts, idempotency_key, dedupe_key,
                  created_at, updated_at, run_after, priority)
VALUES (?1, ?2, ?3, 'queued', 0, ?4, ?5, ?5, ?6, ?6, ?6, ?7)
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
"""
# The creation event of a job stored by INSERT_NEW_JOB. Values: job id, at.
INSERT_NEW_EVENT: Final = """
INSERT INTO events (job_id, from_status, to_status, attempt, reason_code, at)
VALUES (?, NULL, 'queued', 0, NULL, ?)
"""
# Append one event to the log.
INSERT_EVENT: Final = """
INSERT INTO events (job_id, from_status, to_status, attempt, reason_code, at)
VALUES (?, ?, ?, ?, ?, ?)
"""

# Adjust the jobs-per-status count by a delta, in the transaction that moved the jobs.
ADD_TO_COUNT: Final = "UPDATE counts SET n = n + ? WHERE status = ?"

# -- claim -------------------------------------------------------------------------------------

_CLAIM: Final = """
UPDATE jobs
SET status = 'running', attempt = attempt + 1, lease_owner = :worker,
    lease_expires_at = :expires, updated_at = :now
WHERE id IN (
    SELECT id FROM jobs INDEXED BY jobs_claim
    WHERE status = 'queued' AND run_after <= :now {kinds}
      AND kind NOT IN (SELECT kind FROM paused_kinds)
    ORDER BY priority DESC, run_after, id
    LIMIT :limit
) AND status = 'queued'
RETURNING {columns}
"""
# Hand up to :limit ready queued jobs of any kind to :worker (queued -> running, lease set), the
# highest priority first, then by run_after and id: one walk of `jobs_claim` in its own order.
CLAIM_ANY: Final = _CLAIM.format(kinds="", columns=JOB_COLUMNS)
# Hand up to :limit ready queued jobs whose kind is in :kinds (a JSON array) to :worker.
CLAIM_KINDS: Final = _CLAIM.format(
    kinds="AND kind IN (SELECT value FROM json_each(:kinds))", columns=JOB_COLUMNS
)
# When a limit applies: the next :limit ready queued jobs (id, kind) in claim order, of :kinds
# (a JSON array, or NULL for any kind) and of no kind in :full (a JSON array of kinds at their
# limit). The same walk as CLAIM_ANY; the claim keeps those within their kind's allowance.
SELECT_CANDIDATES: Final = """
SELECT id, kind FROM jobs INDEXED BY jobs_claim
WHERE status = 'queued' AND run_after <= :now
  AND (:kinds IS NULL OR kind IN (SELECT value FROM json_each(:kinds)))
  AND kind NOT IN (SELECT value FROM json_each(:full))
  AND kind NOT IN (SELECT kind FROM paused_kinds)
ORDER BY priority DESC, run_after, id
LIMIT :limit
"""
# Hand the queued jobs in :ids (a JSON array) to :worker.
CLAIM_IDS: Final = f"""
UPDATE jobs
SET status = 'running', attempt = attempt + 1, lease_owner = :worker,
    lease_expires_at = :expires, updated_at = :now
WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'queued'
RETURNING {JOB_COLUMNS}
"""
# Open the attempt a claim starts.
INSERT_ATTEMPT: Final = """
INSERT INTO attempts (job_id, n, started_at, outcome, worker) VALUES (?, ?, ?, 'running', ?)
"""
# Whether any fault is armed at all (so a claim skips fault matching in the common case).
ANY_FAULT_ARMED: Final = "SELECT EXISTS (SELECT 1 FROM faults WHERE remaining > 0)"
# Use up one attempt of the best-matching armed fault: this job's before its kind's before any's.
CONSUME_FAULT: Final = f"""
UPDATE faults SET remaining = remaining - 1
WHERE id = (
    SELECT id FROM faults
    WHERE remaining > 0
      AND (job_id = :job_id OR (job_id IS NULL AND (kind IS NULL OR kind = :kind)))
    ORDER BY job_id IS NULL, kind IS NULL, id
    LIMIT 1
)
RETURNING {FAULT_COLUMNS}
"""

# -- apply -------------------------------------------------------------------------------------

_APPLY: Final = """
UPDATE jobs
SET status = ?2, attempt = ?3, reason = ?4, reason_code = ?5, result = ?6, updated_at = ?7,
    run_after = ?8, lease_owner = ?9, lease_expires_at = ?10{release}
WHERE id = ?1 AND status = ?11 AND attempt = ?12 AND lease_owner IS ?13
  AND (?14 IS NULL OR lease_expires_at = ?14){guard}
"""
# Compare-and-set one transition: the job changes only if it is still as the caller saw it.
# Values: `rows.change_row` (positional: binding a tuple is cheaper than 14 names a change).
# dedupe_key is left out of SET, so SQLite leaves the dedupe index alone.
APPLY_CHANGE: Final = _APPLY.format(release="", guard="")
# The same for a transition to failed, which also gives the idempotency key back.
APPLY_FAILURE: Final = _APPLY.format(release=", dedupe_key = NULL", guard="")
# The same for a transition back to the queue, which loses when an operator asked to cancel the
# job: a cancelled job never runs again (lease recovery then ends it as cancelled).
APPLY_REQUEUE: Final = _APPLY.format(
    release="", guard="\n  AND NOT EXISTS (SELECT 1 FROM cancels WHERE job_id = ?1)"
)
# Close the latest open attempt number n of a job. Values: finished_at, outcome, reason, job
# id, n.
CLOSE_ATTEMPT: Final = """
UPDATE attempts SET finished_at = ?, outcome = ?, reason = ?
WHERE id = (SELECT max(id) FROM attempts WHERE job_id = ? AND n = ? AND outcome = 'running')
"""

# -- limits ------------------------------------------------------------------------------------

# Record a worker's limits for one kind; the last worker to start wins.
DECLARE_LIMIT: Final = """
INSERT INTO kind_limits (kind, concurrency, rate_count, rate_seconds, declared_by, declared_at)
VALUES (:kind, :concurrency, :rate_count, :rate_seconds, :worker, :now)
ON CONFLICT (kind) DO UPDATE SET
    concurrency = excluded.concurrency, rate_count = excluded.rate_count,
    rate_seconds = excluded.rate_seconds, declared_by = excluded.declared_by,
    declared_at = excluded.declared_at
"""
# Forget the limits of a kind a worker runs without any.
DELETE_LIMIT: Final = "DELETE FROM kind_limits WHERE kind = ?"
# Whether any kind has a limit (a claim with none to obey takes CLAIM_ANY or CLAIM_KINDS).
ANY_LIMIT: Final = "SELECT kind FROM kind_limits"
# Every limit with what is in use at :now: the kind's running jobs (few: one per busy worker
# slot, found through `jobs_lease`), the tokens its rate has spent in the window that ends at
# :now, and when the oldest of them comes back.
SELECT_LIMITS: Final = """
SELECT l.kind, l.concurrency, l.rate_count, l.rate_seconds, l.declared_by, l.declared_at,
       (SELECT count(*) FROM jobs INDEXED BY jobs_lease
        WHERE status = 'running' AND lease_expires_at IS NOT NULL AND kind = l.kind),
       (SELECT coalesce(sum(n), 0) FROM rate_spent
        WHERE kind = l.kind AND spent_at > :now - l.rate_seconds),
       (SELECT min(spent_at) FROM rate_spent
        WHERE kind = l.kind AND spent_at > :now - l.rate_seconds)
FROM kind_limits AS l
ORDER BY l.kind
"""
# Spend :n tokens of a kind's rate at :now, after forgetting those spent before :since (back in
# the bucket), so a kind keeps at most its rate's count of rows.
FORGET_SPENT: Final = "DELETE FROM rate_spent WHERE kind = :kind AND spent_at <= :since"
SPEND_TOKENS: Final = "INSERT INTO rate_spent (kind, spent_at, n) VALUES (:kind, :now, :n)"

# -- leases, faults, workers -------------------------------------------------------------------

# Extend the unexpired leases :worker holds on the jobs in :ids (a JSON array).
HEARTBEAT: Final = """
UPDATE jobs SET lease_expires_at = :expires
WHERE id IN (SELECT value FROM json_each(:ids))
  AND status = 'running' AND lease_owner = :worker AND lease_expires_at >= :now
RETURNING id
"""
# Running jobs whose lease ended before :now, the longest-expired first.
SELECT_EXPIRED: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_lease
WHERE status = 'running' AND lease_expires_at < :now
ORDER BY lease_expires_at, id
LIMIT :limit
"""
# Whether a job id exists.
JOB_EXISTS: Final = "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = ?)"
# Store an armed fault.
INSERT_FAULT: Final = f"""
INSERT INTO faults (job_id, kind, retryable, times, remaining, reason, at_step, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING {FAULT_COLUMNS}
"""
# Record that a worker was seen at :now.
TOUCH_WORKER: Final = """
INSERT INTO workers (name, last_seen) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen
"""
# Forget a worker that stopped cleanly.
DELETE_WORKER: Final = "DELETE FROM workers WHERE name = ?"

# -- reads -------------------------------------------------------------------------------------

# One job by id.
SELECT_JOB: Final = f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"
# Up to two ids in [:low, :high) — jobs whose id starts with a prefix, via the primary key.
SELECT_IDS_IN_RANGE: Final = "SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2"
# Up to two ids ending with a suffix (a LIKE pattern); this one scans the id index.
SELECT_IDS_LIKE: Final = "SELECT id FROM jobs WHERE id LIKE ? ESCAPE '\\' LIMIT 2"
# The steps of one job in execution order.
SELECT_STEPS: Final = f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY seq"
# The attempts of one job, in the order they started.
SELECT_ATTEMPTS: Final = f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE job_id = ? ORDER BY id"
# The reruns of one job, oldest first.
SELECT_RERUNS: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_rerun_of
WHERE rerun_of = ? AND rerun_of IS NOT NULL
ORDER BY created_at, id
"""
# Jobs per status, from the trigger-kept table.
SELECT_COUNTS: Final = "SELECT status, n FROM counts"

_PAGE: Final = """
SELECT {columns} FROM jobs INDEXED BY jobs_status_id
WHERE status = :status AND id {op} :after
  AND (:kind IS NULL OR kind = :kind)
  AND (:pattern IS NULL
       OR kind LIKE :pattern ESCAPE '\\' OR id LIKE :pattern ESCAPE '\\'
       OR reason_code LIKE :pattern ESCAPE '\\' OR payload LIKE :pattern ESCAPE '\\')
ORDER BY id {order}
LIMIT :limit
"""
# A keyset page of one status, newest (largest id) first, ids below :after.
PAGE_NEWEST: Final = _PAGE.format(columns=JOB_COLUMNS, op="<", order="DESC")
# A keyset page of one status, oldest (smallest id) first, ids above :after.
PAGE_OLDEST: Final = _PAGE.format(columns=JOB_COLUMNS, op=">", order="ASC")
# Failed jobs per reason code, largest group first.
SELECT_FAILURE_GROUPS: Final = """
SELECT coalesce(reason_code, 'unknown'), count(*) AS n FROM jobs INDEXED BY jobs_failed_code
WHERE status = 'failed'
GROUP BY reason_code
ORDER BY n DESC, reason_code
"""
# The newest failed jobs with one reason code.
SELECT_FAILED_WITH: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_failed_code
WHERE status = 'failed' AND reason_code = ?
ORDER BY id DESC
LIMIT ?
"""
# Events after a cursor, in cursor order.
SELECT_EVENTS: Final = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?"
)
# The newest cursor, 0 for an empty log.
SELECT_LAST_CURSOR: Final = "SELECT coalesce(max(cursor), 0) FROM events"
# Armed faults with attempts left.
SELECT_ARMED_FAULTS: Final = f"SELECT {FAULT_COLUMNS} FROM faults WHERE remaining > 0 ORDER BY id"
# Workers not gone at :now: seen within two of their lease lengths (the gone rule of
# jobdeck.core.system.WorkerState), or within :within for a row that does not say its lease.
COUNT_WORKERS_SEEN: Final = """
SELECT count(*) FROM workers
WHERE last_seen >= :now - CASE WHEN lease > 0 THEN 2 * lease ELSE :within END
"""

# -- periodic schedules ------------------------------------------------------------------------

# Record a schedule a worker runs: a new one counts its ticks from :now; a known one keeps its
# last tick and pause.
DECLARE_SCHEDULE: Final = """
INSERT INTO schedules (name, kind, cron, tz, last_tick, paused, changed_at)
VALUES (:name, :kind, :cron, :tz, :now, 0, :now)
ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, cron = excluded.cron, tz = excluded.tz
"""
# Every schedule with the job of its newest tick (NULL columns when it has none left).
SELECT_SCHEDULES: Final = f"""
SELECT {SCHEDULE_COLUMNS}, {JOINED_JOB_COLUMNS}
FROM schedules AS s
LEFT JOIN schedule_runs AS r ON r.name = s.name
     AND r.tick = (SELECT max(tick) FROM schedule_runs WHERE name = s.name)
LEFT JOIN jobs AS j ON j.id = r.job_id
ORDER BY s.name
"""
# Move a schedule's last tick forward, only from the value the worker read and while unpaused.
# Values: new last tick, name, the last tick read.
ADVANCE_SCHEDULE: Final = """
UPDATE schedules SET last_tick = ? WHERE name = ? AND last_tick = ? AND paused = 0
"""
# One tick made. Values: name, tick, job id.
INSERT_SCHEDULE_RUN: Final = "INSERT INTO schedule_runs (name, tick, job_id) VALUES (?, ?, ?)"
# Pause or resume a schedule; resuming restarts its count at :now.
PAUSE_SCHEDULE: Final = """
UPDATE schedules
SET paused = :paused, paused_reason = :reason, changed_at = :now,
    last_tick = CASE WHEN :paused THEN last_tick ELSE max(last_tick, :now) END
WHERE name = :name
"""
# The jobs a schedule made, newest tick first.
SELECT_SCHEDULE_JOBS: Final = f"""
SELECT {JOINED_JOB_COLUMNS}
FROM schedule_runs AS r JOIN jobs AS j ON j.id = r.job_id
WHERE r.name = ?
ORDER BY r.tick DESC
LIMIT ?
"""
# The kinds with queued jobs: each is one probe of `jobs_kind_queued` in the reads below.
QUEUED_KINDS: Final = "SELECT kind FROM kind_counts WHERE status = 'queued' AND n > 0 ORDER BY kind"
# One kind's queued jobs not yet due, soonest first (`scheduled` merges the kinds' lists).
SELECT_SCHEDULED_OF_KIND: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_kind_queued
WHERE status = 'queued' AND kind = ? AND run_after > ?
ORDER BY run_after, id
LIMIT ?
"""
# When the earliest queued job becomes due (NULL when none is queued): each kind's earliest.
NEXT_READY: Final = """
SELECT min((SELECT min(run_after) FROM jobs INDEXED BY jobs_kind_queued
            WHERE status = 'queued' AND kind = k.kind))
FROM kind_counts AS k
WHERE k.status = 'queued' AND k.n > 0
"""

# -- retention ---------------------------------------------------------------------------------

# The job that holds the newest event: a prune keeps it, so the largest cursor never goes away
# and the next event never reuses a cursor (the cursor is a plain rowid since schema 4).
NEWEST_EVENT_JOB: Final = "SELECT job_id FROM events ORDER BY cursor DESC LIMIT 1"
_PRUNABLE: Final = """
SELECT id, updated_at FROM jobs INDEXED BY jobs_finished
WHERE status = '{status}' AND status IN ('done', 'failed') AND updated_at < :before
  AND (:kind IS NULL OR kind = :kind)
  AND id IS NOT :keep
ORDER BY updated_at
LIMIT :limit
"""
_COUNT_PRUNABLE: Final = """
SELECT count(*),
       coalesce(sum((SELECT count(*) FROM attempts AS a WHERE a.job_id = j.id)), 0),
       coalesce(sum((SELECT count(*) FROM steps AS s WHERE s.job_id = j.id)), 0),
       coalesce(sum((SELECT count(*) FROM events AS e WHERE e.job_id = j.id)), 0)
FROM jobs AS j INDEXED BY jobs_finished
WHERE j.status = '{status}' AND j.status IN ('done', 'failed') AND j.updated_at < :before
  AND (:kind IS NULL OR j.kind = :kind)
  AND j.id IS NOT :keep
"""
# Per finished status: when its oldest job was last updated (NULL for none), one index probe.
_OLDEST_FINISHED: Final = """
SELECT min(updated_at) FROM jobs INDEXED BY jobs_finished
WHERE status = '{status}' AND status IN ('done', 'failed')
"""
SELECT_OLDEST_FINISHED: Final = {s: _OLDEST_FINISHED.format(status=s) for s in ("done", "failed")}
# Per finished status (the IN repeats the partial index's own WHERE: SQLite uses the index only
# for a query that names it): jobs updated before :before (of :kind), the first finished first...
SELECT_PRUNABLE: Final = {s: _PRUNABLE.format(status=s) for s in ("done", "failed")}
# ... and what pruning all of them (without a limit) would delete.
COUNT_PRUNABLE: Final = {s: _COUNT_PRUNABLE.format(status=s) for s in ("done", "failed")}
# The events of one job, in cursor order.
SELECT_JOB_EVENTS: Final = (
    f"SELECT {EVENT_COLUMNS} FROM events INDEXED BY events_job WHERE job_id = ? ORDER BY cursor"
)
# Of the jobs in :ids (a JSON array), those still finished before their status's cutoff.
SELECT_STILL_PRUNABLE: Final = """
SELECT id, status, kind FROM jobs
WHERE id IN (SELECT value FROM json_each(:ids))
  AND ((status = 'done' AND updated_at < :done_before)
       OR (status = 'failed' AND updated_at < :failed_before))
  AND id IS NOT :keep
"""
_DELETE_OF_JOBS: Final = "DELETE FROM {table} WHERE job_id IN (SELECT value FROM json_each(:ids))"
# Delete what belongs to the jobs in :ids (a JSON array), table by table.
DELETE_JOB_ATTEMPTS: Final = _DELETE_OF_JOBS.format(table="attempts")
DELETE_JOB_STEPS: Final = _DELETE_OF_JOBS.format(table="steps")
DELETE_JOB_EVENTS: Final = _DELETE_OF_JOBS.format(table="events")
DELETE_JOB_FAULTS: Final = _DELETE_OF_JOBS.format(table="faults")
DELETE_JOB_SCHEDULE_RUNS: Final = _DELETE_OF_JOBS.format(table="schedule_runs")
# Delete the jobs in :ids (a JSON array).
DELETE_JOBS: Final = "DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(:ids))"
# Record one prune batch. Values: at, jobs, oldest id, newest id.
INSERT_PRUNE: Final = "INSERT INTO prunes (at, jobs, oldest_id, newest_id) VALUES (?, ?, ?, ?)"
# When the newest prune batch whose id range holds an id ran.
SELECT_PRUNED_AT: Final = """
SELECT at FROM prunes WHERE ? BETWEEN oldest_id AND newest_id ORDER BY id DESC LIMIT 1
"""
# Hold a named lease if it is free, expired, or already the owner's.
TAKE_LEASE: Final = """
INSERT INTO leases (name, owner, expires_at) VALUES (:name, :owner, :until)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE leases.expires_at < :now OR leases.owner = excluded.owner
"""
# Connection setting around a prune: a rerun may outlive its original, whose id its rerun_of
# keeps (schema 1 declared that column a foreign key; PostgreSQL dropped it in its schema 3).
FOREIGN_KEYS_OFF: Final = "PRAGMA foreign_keys = OFF"
FOREIGN_KEYS_ON: Final = "PRAGMA foreign_keys = ON"

# -- operator control --------------------------------------------------------------------------

# Store a cancel request while the job still runs that attempt (a second request keeps the
# first). Values: job id, attempt, reason, actor, at.
INSERT_CANCEL: Final = """
INSERT INTO cancels (job_id, attempt, reason, actor, at)
SELECT ?1, ?2, ?3, ?4, ?5 FROM jobs WHERE id = ?1 AND status = 'running' AND attempt = ?2
ON CONFLICT (job_id) DO NOTHING
"""
# Whether a job has a cancel request.
CANCEL_EXISTS: Final = "SELECT EXISTS (SELECT 1 FROM cancels WHERE job_id = ?)"
# The cancel requests of the jobs in :ids (a JSON array).
SELECT_CANCELS: Final = """
SELECT job_id, attempt, actor, at, reason FROM cancels
WHERE job_id IN (SELECT value FROM json_each(:ids))
"""
# Pause a kind (a second pause keeps the first one's reason and time). Values: kind, reason,
# actor, at.
PAUSE_KIND: Final = """
INSERT INTO paused_kinds (kind, reason, actor, at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind) DO NOTHING
"""
# Resume a kind.
RESUME_KIND: Final = "DELETE FROM paused_kinds WHERE kind = ?"
# Every paused kind, by name.
SELECT_PAUSED: Final = "SELECT kind, actor, at, reason FROM paused_kinds ORDER BY kind"
# Whether a kind has a job stored (a scan of jobs when it has none: an operator's look-up) or is
# paused.
KIND_SEEN: Final = """
SELECT EXISTS (SELECT 1 FROM paused_kinds WHERE kind = ?1)
    OR EXISTS (SELECT 1 FROM jobs WHERE kind = ?1)
"""
# Append one row to the operator trail, placed after the newest event. Values: at, actor,
# action, target, reason.
INSERT_ACTION: Final = """
INSERT INTO actions (at, actor, action, target, reason, after_cursor)
VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(cursor), 0) FROM events))
"""
# Trail rows after id :after_id written at or after event cursor :since, in id order.
SELECT_ACTIONS: Final = """
SELECT id, at, actor, action, target, reason, after_cursor FROM actions
WHERE id > :after_id AND after_cursor >= :since
ORDER BY id
LIMIT :limit
"""
# Delete the cancel requests of pruned jobs (a JSON array).
DELETE_JOB_CANCELS: Final = _DELETE_OF_JOBS.format(table="cancels")

# -- the system: workers, kind counts, the rollup ----------------------------------------------

_ADDS: Final = ", ".join(c + " = " + c + " + excluded." + c for c in ROLLUP_SUMMED)
_SUMS: Final = ", ".join("sum(" + c + ")" for c in ROLLUP_SUMMED)
_R_SUMS: Final = ", ".join("sum(r." + c + ")" for c in ROLLUP_SUMMED)
_ROLLUP_MARKS: Final = ", ".join("?" * (len(ROLLUP_SUMMED) + 4))
_ROLLUP_COLUMNS: Final = ROLLUP_COLUMNS
_ROLLUP_KEY: Final = "width, start, kind, outcome, code"

# Adjust the jobs of one kind and status by a delta, beside ADD_TO_COUNT. Values: kind, status,
# delta.
ADD_TO_KIND_COUNT: Final = """
INSERT INTO kind_counts (kind, status, n) VALUES (?, ?, ?)
ON CONFLICT (kind, status) DO UPDATE SET n = n + excluded.n
"""
# Add one transaction's sum for one key to its 10-second bucket. Values: start, kind, outcome,
# code, n, run time, then the histogram's counts.
ADD_TO_ROLLUP: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
VALUES ({ROLLUP_FINE!r}, {_ROLLUP_MARKS})
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""

# The widths a window reads, as a table: joined before the rollup, each width's buckets that
# end in a span are one range of the key (a bucket ends at start + width; a second of slack
# either side for the rounding of `lo - width`, the exact test follows).
_WIDTHS: Final = (
    "widths(w) AS (VALUES " + ", ".join("(" + repr(w) + ")" for w in ROLLUP_WIDTHS) + ")"
)
# Rows of the buckets that end after :since (of :kind, when not NULL), through the key.
SELECT_ROLLUP: Final = f"""
WITH {_WIDTHS}
SELECT {_ROLLUP_COLUMNS} FROM widths CROSS JOIN rollup
WHERE width = w AND start > :since - w - 1 AND start + width > :since
  AND (:kind IS NULL OR kind = :kind)
ORDER BY start, width, kind, outcome, code
"""
_SPAN_SUMS: Final = f"""
WITH edges AS (SELECT value AS lo, lead(value) OVER (ORDER BY value) AS hi
               FROM json_each(:edges)),
     {_WIDTHS}
SELECT e.hi - e.lo, e.lo, {{kind}}, r.outcome, r.code, {_R_SUMS}
FROM edges AS e CROSS JOIN widths CROSS JOIN rollup AS r
WHERE r.width = w AND r.start > e.lo - w - 1 AND r.start <= e.hi - w + 1
  AND r.start + r.width > e.lo AND r.start + r.width <= e.hi
  AND (:kind IS NULL OR r.kind = :kind)
GROUP BY e.lo, {{group}}r.outcome, r.code
ORDER BY e.lo, {{group}}r.outcome, r.code
"""
# The rows of the buckets that end in each span between consecutive :edges (a JSON array,
# ascending), summed per key: one row per span and key (Store.rollup_sums). Each span reads
# only the buckets that end in it, one range of the key per width: a 15-minute window is
# 40 to 50 buckets a key (the last 5 minutes fine, minutes before), a day's about 110.
SUM_ROLLUP_PER_KIND: Final = _SPAN_SUMS.format(kind="r.kind", group="r.kind, ")
# The same summed across kinds (kind '').
SUM_ROLLUP: Final = _SPAN_SUMS.format(kind="''", group="")
# Every row, the ALL_TIME ones too (of :kind, when not NULL).
SELECT_ROLLUP_ALL: Final = f"""
SELECT {_ROLLUP_COLUMNS} FROM rollup WHERE :kind IS NULL OR kind = :kind
ORDER BY start, width, kind, outcome, code
"""
# Whether anything is old enough to fold (three probes of the key; the common answer is no).
ANY_TO_FOLD: Final = f"""
SELECT EXISTS (SELECT 1 FROM rollup WHERE width = {ROLLUP_FINE!r} AND start < :fine)
    OR EXISTS (SELECT 1 FROM rollup WHERE width = {ROLLUP_MINUTE!r} AND start < :minutes)
    OR EXISTS (SELECT 1 FROM rollup WHERE width = {ROLLUP_HOUR!r} AND start < :hours)
"""
# Fold the 10-second buckets that start before :fine into their minutes, then drop them.
FOLD_FINE: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_MINUTE!r},
       (CAST(start AS INTEGER) / {ROLLUP_MINUTE_INT}) * {ROLLUP_MINUTE!r} AS minute,
       kind, outcome, code, {_SUMS}
FROM rollup WHERE width = {ROLLUP_FINE!r} AND start < :fine
GROUP BY minute, kind, outcome, code
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
DROP_FINE: Final = f"DELETE FROM rollup WHERE width = {ROLLUP_FINE!r} AND start < :fine"
# Fold the minute buckets that start before :minutes into their hours, then drop them.
FOLD_MINUTES: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_HOUR!r},
       (CAST(start AS INTEGER) / {ROLLUP_HOUR_INT}) * {ROLLUP_HOUR!r} AS hour,
       kind, outcome, code, {_SUMS}
FROM rollup WHERE width = {ROLLUP_MINUTE!r} AND start < :minutes
GROUP BY hour, kind, outcome, code
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
DROP_MINUTES: Final = f"DELETE FROM rollup WHERE width = {ROLLUP_MINUTE!r} AND start < :minutes"
# Fold the hour buckets that start before :hours into the ALL_TIME row of their key, then drop
# them: totals never shrink.
FOLD_HOURS: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_ALL_TIME!r}, {ROLLUP_ALL_TIME!r}, kind, outcome, code, {_SUMS}
FROM rollup WHERE width = {ROLLUP_HOUR!r} AND start < :hours
GROUP BY kind, outcome, code
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
DROP_HOURS: Final = f"DELETE FROM rollup WHERE width = {ROLLUP_HOUR!r} AND start < :hours"
# Jobs per kind and status.
SELECT_KIND_COUNTS: Final = "SELECT kind, status, n FROM kind_counts ORDER BY kind, status"
# Per kind with queued jobs: when its longest-waiting queued job became ready (one probe each).
SELECT_OLDEST_QUEUED: Final = """
SELECT k.kind, (SELECT min(run_after) FROM jobs INDEXED BY jobs_kind_queued
                WHERE status = 'queued' AND kind = k.kind)
FROM kind_counts AS k
WHERE k.status = 'queued' AND k.n > 0
ORDER BY k.kind
"""
_WORKER_COLUMNS: Final = (
    "name, host, pid, version, started_at, last_seen, lease, concurrency, kinds, done_5m, failed_5m"
)
# Register a worker as it starts (a name seen before is replaced whole).
REGISTER_WORKER: Final = """
INSERT INTO workers (name, last_seen, host, pid, version, started_at, lease, concurrency, kinds,
                     done_5m, failed_5m)
VALUES (:name, :now, :host, :pid, :version, :started_at, :lease, :concurrency, :kinds, 0, 0)
ON CONFLICT (name) DO UPDATE SET
    last_seen = excluded.last_seen, host = excluded.host, pid = excluded.pid,
    version = excluded.version, started_at = excluded.started_at, lease = excluded.lease,
    concurrency = excluded.concurrency, kinds = excluded.kinds, done_5m = 0, failed_5m = 0
"""
# A registered worker's heartbeat: seen at :now, with what it finished in its last 5 minutes.
BEAT_WORKER: Final = """
UPDATE workers SET last_seen = :now, done_5m = :done, failed_5m = :failed WHERE name = :name
"""
# Registered workers heard from at or after :since, by name.
SELECT_WORKERS: Final = (
    f"SELECT {_WORKER_COLUMNS} FROM workers WHERE last_seen >= :since ORDER BY name"
)
# Running jobs per lease owner (few rows: one per busy worker slot, through `jobs_lease`).
RUNNING_BY_OWNER: Final = """
SELECT lease_owner, count(*) FROM jobs INDEXED BY jobs_lease
WHERE status = 'running' AND lease_expires_at IS NOT NULL
GROUP BY lease_owner
"""
# Drop the rows of workers silent since before :before.
FORGET_SILENT_WORKERS: Final = "DELETE FROM workers WHERE last_seen < :before"
# Whether any worker has been silent since before :before.
ANY_SILENT_WORKER: Final = "SELECT EXISTS (SELECT 1 FROM workers WHERE last_seen < :before)"
