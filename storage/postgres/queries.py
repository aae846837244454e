"""Every SQL statement of the PostgreSQL backend, each named for what it does. The schema itself is
in `schema/`; nothing else in jobdeck writes SQL for PostgreSQL.

A batch travels as one array per column and is unpacked with `unnest`, so a statement's text
never depends on a batch's length and a batch of 64 transitions is one statement, not 64.
Connections run with `search_path = jobdeck`, so table names are unqualified as on SQLite.
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
    ROLLUP_MINUTE,
    ROLLUP_SUMMED,
    ROLLUP_WIDTHS,
    SCHEDULE_COLUMNS,
    STEP_COLUMNS,
)

SCHEMA: Final = "jobdeck"
# The channel a write that queues jobs notifies; idle workers LISTEN on it.
CHANNEL: Final = "jobdeck_queued"
# The channel a cancel request notifies; workers with running jobs LISTEN on it.
CANCEL_CHANNEL: Final = "jobdeck_cancel"
# Advisory-lock keys (any two constants no other program is likely to pick).
MIGRATE_LOCK: Final = 0x6A6F6264_00000001
EVENTS_LOCK: Final = 0x6A6F6264_00000002
# The class of the per-job advisory locks that order a cancel request against a change of the
# same job back to the queue (an int4: the two-key form of the lock).
CANCEL_LOCK: Final = 0x6A640003

# -- opening -----------------------------------------------------------------------------------

# Whether the version table exists (a database jobdeck never opened has none).
HAS_VERSION: Final = "SELECT to_regclass('jobdeck.schema_version') IS NOT NULL"
# The applied schema version.
SCHEMA_VERSION: Final = "SELECT max(version) FROM jobdeck.schema_version"
# Whether the jobdeck schema holds any table (one without a version table is not ours).
HAS_TABLES: Final = """
SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'jobdeck')
"""
# Serialize migrations between processes opening one database at once. A session lock, taken
# before the transaction: one that began before another process committed the schema could
# still see the catalog as it was.
LOCK_MIGRATIONS: Final = f"SELECT pg_advisory_lock({MIGRATE_LOCK})"
UNLOCK_MIGRATIONS: Final = f"SELECT pg_advisory_unlock({MIGRATE_LOCK})"
# Create the schema and the version table a first migration needs.
CREATE_SCHEMA: Final = """
CREATE SCHEMA IF NOT EXISTS jobdeck;
CREATE TABLE IF NOT EXISTS jobdeck.schema_version (version integer NOT NULL);
"""
# Record the schema version (inside the migration's transaction).
SET_VERSION: Final = """
DELETE FROM jobdeck.schema_version;
INSERT INTO jobdeck.schema_version (version) VALUES ({version:d});
"""

# -- the events lock ---------------------------------------------------------------------------

_ROLLUP_COLUMNS: Final = ROLLUP_COLUMNS
_ROLLUP_KEY: Final = "width, start, kind, outcome, code"
_ROLLUP_TYPES: Final = (
    ("float8", "text", "text", "text")
    + ("bigint", "float8")
    + ("bigint",) * (len(ROLLUP_SUMMED) - 2)
)
# The rollup's rows as arrays $13, $14 ...: start, kind, outcome, code, then the summed columns.
_ROLLUP_ARRAYS: Final = ", ".join(
    "$" + str(13 + i) + "::" + t + "[]" for i, t in enumerate(_ROLLUP_TYPES)
)
# APPEND_EVENTS' last parameter: whether to wake the listening workers.
_NOTIFY_ARG: Final = "$" + str(13 + len(_ROLLUP_TYPES))
_ADDS: Final = ", ".join(c + " = rollup." + c + " + excluded." + c for c in ROLLUP_SUMMED)
_SUMS: Final = ", ".join("sum(" + c + ")" for c in ROLLUP_SUMMED)
_R_SUMS: Final = ", ".join("sum(r." + c + ")" for c in ROLLUP_SUMMED)

# Append events (one array per column, in array order), adjust counts by status deltas
# ($8, $9), kind_counts by (kind, status) deltas ($10..$12) and add to the rollup's 10-second
# buckets ($13..: start, kind, outcome, code, n, run time, the histogram's counts; one row per
# key, see jobdeck.storage.system), under a transaction-level advisory lock taken before the
# first event gets its cursor and held to commit: cursors then become visible in order (see
# schema/0001_initial.sql). Everything a transaction does after it touches only events, counts
# and the rollup, so waiting for it never closes a cycle with a job-row lock. (Every part joins
# `locked`, so none writes before it is held.)
APPEND_EVENTS: Final = f"""
WITH locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock({EVENTS_LOCK}),
           CASE WHEN {_NOTIFY_ARG}::bool THEN pg_notify('{CHANNEL}', '') END
), appended AS (
    INSERT INTO events (job_id, from_status, to_status, attempt, reason_code, at, step)
    SELECT e.job_id, e.from_status, e.to_status, e.attempt, e.reason_code, e.at, e.step
    FROM locked,
         unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::float8[],
                $7::text[]) WITH ORDINALITY
         AS e(job_id, from_status, to_status, attempt, reason_code, at, step, n)
    ORDER BY e.n
    RETURNING 1
), counted AS (
    UPDATE counts SET n = counts.n + d.delta
    FROM locked, unnest($8::text[], $9::bigint[]) AS d(status, delta)
    WHERE counts.status = d.status
), kinds AS (
    INSERT INTO kind_counts (kind, status, n)
    SELECT k.kind, k.status, k.delta
    FROM locked, unnest($10::text[], $11::text[], $12::bigint[]) AS k(kind, status, delta)
    ON CONFLICT (kind, status) DO UPDATE SET n = kind_counts.n + excluded.n
)
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_FINE!r}, r.*
FROM locked, unnest({_ROLLUP_ARRAYS}) AS r
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
# Wake the workers listening (delivered when the transaction commits); APPEND_EVENTS does the
# same with its last argument true, saving a round trip.
NOTIFY_QUEUED: Final = f"NOTIFY {CHANNEL}"

# -- insert ------------------------------------------------------------------------------------

# Live or done jobs already holding any of the keys.
SELECT_DEDUPED: Final = f"""
SELECT dedupe_key, {JOB_COLUMNS} FROM jobs
WHERE dedupe_key = ANY($1::text[]) AND status IN ('queued', 'running', 'done')
"""
# Store new jobs; the unique partial index skips one whose key another transaction just took.
INSERT_JOBS: Final = """
INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts, reason, reason_code, result,
                  idempotency_key, dedupe_key, rerun_of, created_at, updated_at, run_after,
                  lease_owner, lease_expires_at, priority, trace_context)
SELECT * FROM unnest($1::text[], $2::text[], $3::json[], $4::text[], $5::int[], $6::int[],
                     $7::json[], $8::text[], $9::json[], $10::text[], $11::text[], $12::text[],
                     $13::float8[], $14::float8[], $15::float8[], $16::text[], $17::float8[],
                     $18::int[], $19::text[])
ON CONFLICT (dedupe_key) WHERE status IN ('queued', 'running', 'done') DO NOTHING
RETURNING id
"""

# Store new queued jobs as INSERT_JOBS does and, under the events lock, append their events, add
# them to counts and kind_counts and wake the listening workers: one autocommit statement, one
# round trip (the events lock ends with its commit). Returns the ids stored; a job whose key was
# already held is not, and its caller reads the holder.
INSERT_QUEUED: Final = f"""
WITH inserted AS (
    INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts, reason, reason_code,
                      result, idempotency_key, dedupe_key, rerun_of, created_at, updated_at,
                      run_after, lease_owner, lease_expires_at, priority, trace_context)
    SELECT * FROM unnest($1::text[], $2::text[], $3::json[], $4::text[], $5::int[], $6::int[],
                         $7::json[], $8::text[], $9::json[], $10::text[], $11::text[],
                         $12::text[], $13::float8[], $14::float8[], $15::float8[], $16::text[],
                         $17::float8[], $18::int[], $19::text[])
    ON CONFLICT (dedupe_key) WHERE status IN ('queued', 'running', 'done') DO NOTHING
    RETURNING id, kind, attempt, created_at
), locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock({EVENTS_LOCK}), pg_notify('{CHANNEL}', '')
    FROM (SELECT count(*) AS n FROM inserted) AS everything
    WHERE everything.n > 0
), appended AS (
    INSERT INTO events (job_id, from_status, to_status, attempt, reason_code, at, step)
    SELECT i.id, NULL, 'queued', i.attempt, NULL, i.created_at, NULL
    FROM locked, inserted AS i JOIN unnest($1::text[]) WITH ORDINALITY AS o(id, n) USING (id)
    ORDER BY o.n
), counted AS (
    UPDATE counts SET n = counts.n + d.n
    FROM locked, (SELECT count(*) AS n FROM inserted) AS d
    WHERE counts.status = 'queued'
), kinds AS (
    INSERT INTO kind_counts (kind, status, n)
    SELECT i.kind, 'queued', count(*) FROM locked, inserted AS i GROUP BY i.kind ORDER BY i.kind
    ON CONFLICT (kind, status) DO UPDATE SET n = kind_counts.n + excluded.n
)
SELECT id FROM inserted
"""

# -- claim -------------------------------------------------------------------------------------


def _claim_update(
    worker: str, expires: str, now: str, limit: str, kinds: str, *, unarmed: bool = False
) -> str:
    """The claim's UPDATE, its values the parameters named: the next `limit` ready queued jobs
    (of the kinds in `kinds`, or any kind when "") in one walk of `jobs_claim`, skipping rows
    other claims hold and taking none while a kind in reach has a limit (or, with `unarmed`,
    while a fault is armed); returns their JOB_COLUMNS."""
    of_kinds = f"AND kind = ANY({kinds}::text[])" if kinds else ""
    limited = f"WHERE kind = ANY({kinds}::text[])" if kinds else ""
    fault = (
        "\n          AND NOT EXISTS (SELECT 1 FROM faults WHERE remaining > 0)" if unarmed else ""
    )
    return f"""
    UPDATE jobs
    SET status = 'running', attempt = attempt + 1, lease_owner = {worker},
        lease_expires_at = {expires}, updated_at = {now}
    WHERE id = ANY(ARRAY(
        SELECT id FROM jobs
        WHERE status = 'queued' AND run_after <= {now} {of_kinds}
          AND kind NOT IN (SELECT kind FROM paused_kinds)
          AND NOT EXISTS (SELECT 1 FROM kind_limits {limited}){fault}
        ORDER BY priority DESC, run_after, id
        LIMIT {limit}
        FOR UPDATE SKIP LOCKED
    ))
    RETURNING {JOB_COLUMNS}"""


def _close_attempts(won: str) -> str:
    """The UPDATE that closes, for each job in the subquery `won`, its latest open attempt
    number n ($15..$19: job id, n, finished_at, outcome, reason; one row per change that ends
    an attempt)."""
    return f"""
    UPDATE attempts SET finished_at = a.finished_at, outcome = a.outcome, reason = a.reason
    FROM unnest($15::text[], $16::int[], $17::float8[], $18::text[], $19::json[])
         AS a(job_id, n, finished_at, outcome, reason)
    WHERE a.job_id IN ({won})
      AND attempts.id = (
          SELECT max(x.id) FROM attempts x
          WHERE x.job_id = a.job_id AND x.n = a.n AND x.outcome = 'running'
      )"""


def _claim(kinds: str) -> str:
    return f"""
WITH claimed AS ({_claim_update("$1", "$2", "$3", "$4", kinds)}
), opened AS (
    INSERT INTO attempts (job_id, n, started_at, outcome, worker)
    SELECT id, attempt, $3, 'running', $1 FROM claimed
)
SELECT *, EXISTS (SELECT 1 FROM faults WHERE remaining > 0) FROM claimed
"""


# Hand up to $4 ready queued jobs of any kind to worker $1 (queued -> running, lease until $2),
# the highest priority first, then by run_after and id (one walk of `jobs_claim` in its own
# order), each with its attempt row, and whether any fault is armed (the last column; when none
# is, a claim skips fault matching). Rows another claimer holds are skipped, never waited for.
# It claims nothing while a kind it could take has a limit: then the claim obeys the limits
# through SELECT_CANDIDATES and CLAIM_IDS instead.
CLAIM_ANY: Final = _claim("")
# The same, for jobs whose kind is in $5.
CLAIM_KINDS: Final = _claim("$5")
# The limited kinds a claim of the kinds in $1 (or of any kind, when NULL) may take.
LIMITED_KINDS: Final = """
SELECT kind FROM kind_limits WHERE $1::text[] IS NULL OR kind = ANY($1::text[]) ORDER BY kind
"""
# Lock the limits of the kinds in $1, in kind order, until the claim commits: the claims of one
# limited kind take turns, so none counts running jobs or tokens another is about to use.
LOCK_LIMITS: Final = """
SELECT kind FROM kind_limits WHERE kind = ANY($1::text[]) ORDER BY kind FOR UPDATE
"""
# When a limit applies: the next $4 ready queued jobs (id, kind) in claim order, of the kinds in
# $2 (or any kind, when NULL) and of no kind in $3 (kinds at their limit), locked; the claim
# keeps those within their kind's allowance.
SELECT_CANDIDATES: Final = """
SELECT id, kind FROM jobs
WHERE status = 'queued' AND run_after <= $1
  AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
  AND kind <> ALL($3::text[])
  AND kind NOT IN (SELECT kind FROM paused_kinds)
ORDER BY priority DESC, run_after, id
LIMIT $4
FOR UPDATE SKIP LOCKED
"""
# Hand the queued jobs in $4 to worker $1 (lease until $2, at $3), as CLAIM_ANY does.
CLAIM_IDS: Final = f"""
WITH claimed AS (
    UPDATE jobs
    SET status = 'running', attempt = attempt + 1, lease_owner = $1, lease_expires_at = $2,
        updated_at = $3
    WHERE id = ANY($4::text[]) AND status = 'queued'
    RETURNING {JOB_COLUMNS}
), opened AS (
    INSERT INTO attempts (job_id, n, started_at, outcome, worker)
    SELECT id, attempt, $3, 'running', $1 FROM claimed
)
SELECT *, EXISTS (SELECT 1 FROM faults WHERE remaining > 0) FROM claimed
"""
# Use up one attempt of the best-matching armed fault: this job's before its kind's before any's.
CONSUME_FAULT: Final = f"""
UPDATE faults SET remaining = remaining - 1
WHERE id = (
    SELECT id FROM faults
    WHERE remaining > 0 AND (job_id = $1 OR (job_id IS NULL AND (kind IS NULL OR kind = $2)))
    ORDER BY job_id IS NULL, kind IS NULL, id
    LIMIT 1
) AND remaining > 0
RETURNING {FAULT_COLUMNS}
"""

# -- apply -------------------------------------------------------------------------------------

# Compare-and-set a batch of transitions: a job changes only if it is still as its caller saw it
# (status, attempt, lease owner, and for a recovery the lease end), and a job an operator asked
# to cancel never goes back to the queue (lease recovery ends it as cancelled); for each job that
# changed, close its latest open attempt number n ($15..$19, one row per change that ends an
# attempt).
# Returns the ids that changed.
APPLY_CHANGES: Final = f"""
WITH won AS (
    UPDATE jobs
    SET status = c.status, attempt = c.attempt, reason = c.reason, reason_code = c.reason_code,
        result = c.result, updated_at = c.updated_at, run_after = c.run_after,
        lease_owner = c.lease_owner, lease_expires_at = c.lease_expires_at
    FROM unnest($1::text[], $2::text[], $3::int[], $4::json[], $5::text[], $6::json[],
                $7::float8[], $8::float8[], $9::text[], $10::float8[], $11::text[], $12::int[],
                $13::text[], $14::float8[])
         AS c(id, status, attempt, reason, reason_code, result, updated_at, run_after,
              lease_owner, lease_expires_at, was_status, was_attempt, was_lease_owner,
              lease_ended_at)
    WHERE jobs.id = c.id AND jobs.status = c.was_status AND jobs.attempt = c.was_attempt
      AND jobs.lease_owner IS NOT DISTINCT FROM c.was_lease_owner
      AND (c.lease_ended_at IS NULL OR jobs.lease_expires_at = c.lease_ended_at)
      AND (c.status <> 'queued' OR NOT EXISTS (SELECT 1 FROM cancels k WHERE k.job_id = c.id))
    RETURNING jobs.id
), closed AS ({_close_attempts("SELECT id FROM won")}
)
SELECT id FROM won
"""

# -- finish and claim in one statement -----------------------------------------------------------

# A worker's usual turn as one autocommit statement, one round trip: compare-and-set the attempts
# it finished (each ending done or failed: none goes back to the queue, so no cancel request and
# no listening worker is concerned), close their attempts, claim up to $30 ready jobs as
# CLAIM_ANY does (of the kinds in $31, or any kind when NULL), then, under the events lock, append
# the events of what changed and add to counts, kind_counts and the rollup. Every job row it
# locks is locked before the events lock (`locked` reads `moved`, which reads both updates to
# their end), and the lock ends with the statement's own commit, not a round trip later.
#
# Per change (in batch order, $1..$14 as APPLY_CHANGES, then): kind $20, the event's reason code
# $21, and its rollup key and run time ($22 start, NULL when the rollup does not count it;
# $23 outcome, $24 code, $25 run time, $26 histogram slot); $15..$19 close attempts as in
# APPLY_CHANGES. The claim takes nothing while a fault is armed or a kind in reach has a limit;
# the caller then claims in a transaction of its own (`claim`).
#
# One row at least: the batch positions that changed ($1's ordinals), whether a fault is armed,
# whether a kind in reach has a limit, then the claimed job's columns (NULL when none was).
_FINISH_AND_CLAIM: Final = """
WITH c AS MATERIALIZED (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::json[], $5::text[], $6::json[],
                         $7::float8[], $8::float8[], $9::text[], $10::float8[], $11::text[],
                         $12::int[], $13::text[], $14::float8[], $20::text[], $21::text[],
                         $22::float8[], $23::text[], $24::text[], $25::float8[], $26::int[])
         WITH ORDINALITY
         AS c(id, status, attempt, reason, reason_code, result, updated_at, run_after,
              lease_owner, lease_expires_at, was_status, was_attempt, was_lease_owner,
              lease_ended_at, kind, event_code, r_start, r_outcome, r_code, r_run_time, r_slot,
              n)
), won AS (
    UPDATE jobs
    SET status = c.status, attempt = c.attempt, reason = c.reason, reason_code = c.reason_code,
        result = c.result, updated_at = c.updated_at, run_after = c.run_after,
        lease_owner = c.lease_owner, lease_expires_at = c.lease_expires_at
    FROM c
    WHERE jobs.id = c.id AND jobs.status = c.was_status AND jobs.attempt = c.was_attempt
      AND jobs.lease_owner IS NOT DISTINCT FROM c.was_lease_owner
      AND (c.lease_ended_at IS NULL OR jobs.lease_expires_at = c.lease_ended_at)
    RETURNING c.n
), closed AS ({closed}
), picked AS ({picked}
), opened AS (
    INSERT INTO attempts (job_id, n, started_at, outcome, worker)
    SELECT id, attempt, $29, 'running', $27 FROM picked
), moved AS (
    SELECT c.n AS ord, c.id, c.kind, c.was_status AS was, c.status AS becomes,
           c.was_attempt AS attempt, c.event_code AS code, c.updated_at AS at
    FROM c JOIN won USING (n)
    UNION ALL
    SELECT (SELECT count(*) FROM c) + row_number() OVER (ORDER BY p.priority DESC, p.run_after,
           p.id), p.id, p.kind, 'queued', 'running', p.attempt, NULL, $29
    FROM picked AS p
), locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock({lock}) FROM (SELECT count(*) AS n FROM moved) AS everything
    WHERE everything.n > 0  -- a turn that changed nothing leaves the lock to the others
), appended AS (
    INSERT INTO events (job_id, from_status, to_status, attempt, reason_code, at, step)
    SELECT m.id, m.was, m.becomes, m.attempt, m.code, m.at, NULL
    FROM locked, moved AS m
    ORDER BY m.ord
), deltas AS (
    SELECT kind, status, sum(d) AS delta
    FROM (SELECT kind, was AS status, -1 AS d FROM moved
          UNION ALL SELECT kind, becomes, 1 FROM moved) AS x
    GROUP BY kind, status
    HAVING sum(d) <> 0
), counted AS (
    UPDATE counts SET n = counts.n + d.delta
    FROM locked, (SELECT status, sum(delta) AS delta FROM deltas GROUP BY status) AS d
    WHERE counts.status = d.status
), kinds AS (
    INSERT INTO kind_counts (kind, status, n)
    SELECT d.kind, d.status, d.delta FROM locked, deltas AS d ORDER BY d.kind, d.status
    ON CONFLICT (kind, status) DO UPDATE SET n = kind_counts.n + excluded.n
), rolled AS (
    INSERT INTO rollup ({rollup})
    SELECT {fine}, c.r_start, c.kind, c.r_outcome, c.r_code, count(*),
           coalesce(sum(c.r_run_time), 0), {slots}
    FROM locked, c JOIN won USING (n)
    WHERE c.r_start IS NOT NULL
    GROUP BY c.r_start, c.kind, c.r_outcome, c.r_code
    ORDER BY c.r_start, c.kind, c.r_outcome, c.r_code
    ON CONFLICT ({key}) DO UPDATE SET {adds}
)
SELECT (SELECT array_agg(n) FROM won),
       EXISTS (SELECT 1 FROM faults WHERE remaining > 0),
       EXISTS (SELECT 1 FROM kind_limits {limited}),
       p.*
FROM (VALUES (1)) AS one LEFT JOIN picked AS p ON true
"""
_SLOTS: Final = ", ".join(
    "count(*) FILTER (WHERE c.r_slot = " + str(i) + ")" for i in range(len(ROLLUP_SUMMED) - 2)
)


def _finish_and_claim(kinds: str) -> str:
    return _FINISH_AND_CLAIM.format(
        closed=_close_attempts("SELECT c.id FROM c JOIN won USING (n)"),
        picked=_claim_update("$27", "$28", "$29", "$30", kinds, unarmed=True),
        limited=f"WHERE kind = ANY({kinds}::text[])" if kinds else "", lock=EVENTS_LOCK,
        rollup=_ROLLUP_COLUMNS, fine=repr(ROLLUP_FINE), slots=_SLOTS, key=_ROLLUP_KEY, adds=_ADDS,
    )  # fmt: skip


FINISH_AND_CLAIM_ANY: Final = _finish_and_claim("")
# The same, claiming only jobs whose kind is in $31.
FINISH_AND_CLAIM_KINDS: Final = _finish_and_claim("$31")

# -- limits ------------------------------------------------------------------------------------

# Record a worker's limits for kinds, one array per column; the last worker to start wins.
# Values: kinds, concurrency, rate counts, rate seconds, worker, now.
DECLARE_LIMITS: Final = """
INSERT INTO kind_limits (kind, concurrency, rate_count, rate_seconds, declared_by, declared_at)
SELECT k, c, rc, rs, $5, $6
FROM unnest($1::text[], $2::int[], $3::int[], $4::float8[]) AS d(k, c, rc, rs)
ON CONFLICT (kind) DO UPDATE SET
    concurrency = excluded.concurrency, rate_count = excluded.rate_count,
    rate_seconds = excluded.rate_seconds, declared_by = excluded.declared_by,
    declared_at = excluded.declared_at
"""
# Forget the limits of kinds a worker runs without any.
DELETE_LIMITS: Final = "DELETE FROM kind_limits WHERE kind = ANY($1::text[])"
# Every limit with what is in use at $1: the kind's running jobs, the tokens its rate has spent
# in the window that ends at $1, and when the oldest of them comes back.
SELECT_LIMITS: Final = """
SELECT l.kind, l.concurrency, l.rate_count, l.rate_seconds, l.declared_by, l.declared_at,
       (SELECT count(*) FROM jobs WHERE status = 'running' AND kind = l.kind),
       (SELECT coalesce(sum(n), 0) FROM rate_spent
        WHERE kind = l.kind AND spent_at > $1 - l.rate_seconds),
       (SELECT min(spent_at) FROM rate_spent
        WHERE kind = l.kind AND spent_at > $1 - l.rate_seconds)
FROM kind_limits AS l
ORDER BY l.kind
"""
# Spend tokens of kinds' rates at $4 (one row per kind: kinds $1, tokens $2), after forgetting
# those spent at or before each kind's window start ($3), so a kind keeps at most its rate's
# count of rows.
SPEND_TOKENS: Final = """
WITH forgotten AS (
    DELETE FROM rate_spent AS r
    USING unnest($1::text[], $3::float8[]) AS f(kind, since)
    WHERE r.kind = f.kind AND r.spent_at <= f.since
)
INSERT INTO rate_spent (kind, spent_at, n)
SELECT kind, $4, n FROM unnest($1::text[], $2::int[]) AS s(kind, n)
"""

# -- leases, faults, workers -------------------------------------------------------------------

# Extend the unexpired leases worker $2 holds on the jobs in $1 until $3 ($4 is now).
HEARTBEAT: Final = """
UPDATE jobs SET lease_expires_at = $3
WHERE id = ANY($1::text[]) AND status = 'running' AND lease_owner = $2
  AND lease_expires_at >= $4
RETURNING id
"""
# Running jobs whose lease ended before $1, the longest-expired first.
SELECT_EXPIRED: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs
WHERE status = 'running' AND lease_expires_at < $1
ORDER BY lease_expires_at, id
LIMIT $2
"""
# How many rows the planner believes `jobs` holds (-1 before its first ANALYZE or VACUUM).
JOBS_COUNTED: Final = "SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass"
# Count `jobs` again for the planner (a sample of it; never blocks readers or writers).
ANALYZE_JOBS: Final = "ANALYZE jobs"
# When the next queued job becomes ready (what an idle worker waits for besides a notice).
NEXT_READY: Final = """
SELECT min((SELECT min(run_after) FROM jobs WHERE status = 'queued' AND kind = k.kind))
FROM kind_counts AS k
WHERE k.status = 'queued' AND k.n > 0
"""
# Whether a job id exists.
JOB_EXISTS: Final = "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)"
# Store an armed fault.
INSERT_FAULT: Final = f"""
INSERT INTO faults (job_id, kind, retryable, times, remaining, reason, at_step, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING {FAULT_COLUMNS}
"""
# Record that a worker was seen at $2.
TOUCH_WORKER: Final = """
INSERT INTO workers (name, last_seen) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen
"""
# Forget a worker that stopped cleanly.
DELETE_WORKER: Final = "DELETE FROM workers WHERE name = $1"

# -- reads -------------------------------------------------------------------------------------

# One job by id.
SELECT_JOB: Final = f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"
# Up to two ids in [$1, $2) — jobs whose id starts with a prefix, via the primary key.
SELECT_IDS_IN_RANGE: Final = "SELECT id FROM jobs WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 2"
# Up to two ids ending with a suffix (a LIKE pattern); this one scans the id index.
SELECT_IDS_LIKE: Final = "SELECT id FROM jobs WHERE id LIKE $1 ESCAPE '\\' LIMIT 2"
# The attempts of one job, in the order they started.
SELECT_ATTEMPTS: Final = f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE job_id = $1 ORDER BY id"
# The reruns of one job, oldest first.
SELECT_RERUNS: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs
WHERE rerun_of = $1
ORDER BY created_at, id
"""
# Jobs per status, from the table every write keeps exact.
SELECT_COUNTS: Final = "SELECT status, n FROM counts"

_PAGE: Final = """
SELECT {columns} FROM jobs
WHERE status = $1 AND id {op} $2
  AND ($3::text IS NULL OR kind = $3)
  AND ($4::text IS NULL
       OR kind LIKE $4 ESCAPE '\\' OR id LIKE $4 ESCAPE '\\'
       OR reason_code LIKE $4 ESCAPE '\\' OR payload::text LIKE $4 ESCAPE '\\')
ORDER BY id {order}
LIMIT $5
"""
# A keyset page of one status, newest (largest id) first, ids below $2.
PAGE_NEWEST: Final = _PAGE.format(columns=JOB_COLUMNS, op="<", order="DESC")
# A keyset page of one status, oldest (smallest id) first, ids above $2.
PAGE_OLDEST: Final = _PAGE.format(columns=JOB_COLUMNS, op=">", order="ASC")
# Failed jobs per reason code, largest group first.
SELECT_FAILURE_GROUPS: Final = """
SELECT coalesce(reason_code, 'unknown'), count(*) AS n FROM jobs
WHERE status = 'failed'
GROUP BY reason_code
ORDER BY n DESC, reason_code
"""
# The newest failed jobs with one reason code.
SELECT_FAILED_WITH: Final = f"""
SELECT {JOB_COLUMNS} FROM jobs
WHERE status = 'failed' AND reason_code = $1
ORDER BY id DESC
LIMIT $2
"""
# Events after a cursor, in cursor order.
SELECT_EVENTS: Final = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE cursor > $1 ORDER BY cursor LIMIT $2"
)
# The newest cursor, 0 for an empty log.
SELECT_LAST_CURSOR: Final = "SELECT coalesce(max(cursor), 0) FROM events"
# Armed faults with attempts left.
SELECT_ARMED_FAULTS: Final = f"SELECT {FAULT_COLUMNS} FROM faults WHERE remaining > 0 ORDER BY id"
# Workers seen at or after a time.
# Workers not gone at $1: seen within two of their lease lengths (the gone rule of
# jobdeck.core.system.WorkerState), or within $2 seconds for a row that does not say its lease.
COUNT_WORKERS_SEEN: Final = """
SELECT count(*) FROM workers
WHERE last_seen >= $1 - CASE WHEN lease > 0 THEN 2 * lease ELSE $2 END
"""

# -- durable steps -----------------------------------------------------------------------------

# The steps of one job in execution order.
SELECT_STEPS: Final = f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = $1 ORDER BY seq"
# Whether the job still runs this attempt under this worker's lease; the row stays share-locked
# to commit, so a transition cannot slip between this check and the step's write.
HOLDS_LEASE: Final = """
SELECT 1 FROM jobs WHERE id = $1 AND status = 'running' AND attempt = $2 AND lease_owner = $3
FOR SHARE
"""
# Record steps' outcomes (a step that ran again replaces its earlier row, keeping its place).
UPSERT_STEPS: Final = f"""
INSERT INTO steps ({STEP_COLUMNS})
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::json[], $6::int[],
                     $7::json[], $8::bool[], $9::text[], $10::int[], $11::json[], $12::float8[])
ON CONFLICT (job_id, name) DO UPDATE SET
    status = excluded.status, result = excluded.result, attempt = excluded.attempt,
    reason = excluded.reason, compensable = excluded.compensable,
    compensation = NULL, compensation_attempts = 0, compensation_reason = NULL, at = excluded.at
"""
# Record how a step's compensation went.
SET_COMPENSATION: Final = """
UPDATE steps SET compensation = $1, compensation_attempts = $2, compensation_reason = $3, at = $4
WHERE job_id = $5 AND name = $6
"""

# -- periodic schedules ------------------------------------------------------------------------

# Record a schedule a worker runs: a new one counts its ticks from $5; a known one keeps its last
# tick and pause. Values: name, kind, cron, tz, now.
DECLARE_SCHEDULE: Final = """
INSERT INTO schedules (name, kind, cron, tz, last_tick, paused, changed_at)
VALUES ($1, $2, $3, $4, $5, false, $5)
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
UPDATE schedules SET last_tick = $1 WHERE name = $2 AND last_tick = $3 AND NOT paused
"""
# The ticks made, one array per column. Values: names, ticks, job ids.
INSERT_SCHEDULE_RUNS: Final = """
INSERT INTO schedule_runs (name, tick, job_id)
SELECT * FROM unnest($1::text[], $2::double precision[], $3::text[])
"""
# Pause or resume a schedule; resuming restarts its count at $4. Values: name, paused, reason,
# now.
PAUSE_SCHEDULE: Final = """
UPDATE schedules
SET paused = $2, paused_reason = $3, changed_at = $4,
    last_tick = CASE WHEN $2 THEN last_tick ELSE greatest(last_tick, $4) END
WHERE name = $1
"""
# The jobs a schedule made, newest tick first.
SELECT_SCHEDULE_JOBS: Final = f"""
SELECT {JOINED_JOB_COLUMNS}
FROM schedule_runs AS r JOIN jobs AS j ON j.id = r.job_id
WHERE r.name = $1
ORDER BY r.tick DESC
LIMIT $2
"""
# Queued jobs not yet due, soonest first: each kind's soonest (one walk of `jobs_kind_queued`
# per kind with queued jobs), merged.
SELECT_SCHEDULED: Final = f"""
SELECT {JOINED_JOB_COLUMNS}
FROM kind_counts AS k
CROSS JOIN LATERAL (
    SELECT {JOB_COLUMNS} FROM jobs
    WHERE status = 'queued' AND kind = k.kind AND run_after > $1
    ORDER BY run_after, id
    LIMIT $2
) AS j
WHERE k.status = 'queued' AND k.n > 0
ORDER BY j.run_after, j.id
LIMIT $2
"""

# -- retention ---------------------------------------------------------------------------------

# Jobs of one finished status updated before $2 (of kind $3, if not NULL), those finished first
# first, at most $4. (Cursors come from an identity column here and are never reused, so no job
# need be kept for the newest event's sake.)
# When the oldest job of status $1 was last updated (NULL for none), one index probe.
SELECT_OLDEST_FINISHED: Final = "SELECT min(updated_at) FROM jobs WHERE status = $1"
SELECT_PRUNABLE: Final = """
SELECT id, updated_at FROM jobs
WHERE status = $1 AND updated_at < $2 AND ($3::text IS NULL OR kind = $3)
ORDER BY updated_at
LIMIT $4
"""
# What pruning every job SELECT_PRUNABLE finds (without a limit) would delete.
COUNT_PRUNABLE: Final = """
SELECT count(*),
       coalesce(sum((SELECT count(*) FROM attempts AS a WHERE a.job_id = j.id)), 0),
       coalesce(sum((SELECT count(*) FROM steps AS s WHERE s.job_id = j.id)), 0),
       coalesce(sum((SELECT count(*) FROM events AS e WHERE e.job_id = j.id)), 0)
FROM jobs AS j
WHERE j.status = $1 AND j.updated_at < $2 AND ($3::text IS NULL OR j.kind = $3)
"""
# The events of one job, in cursor order.
SELECT_JOB_EVENTS: Final = f"SELECT {EVENT_COLUMNS} FROM events WHERE job_id = $1 ORDER BY cursor"
# Of the jobs in $1, those still finished before their status's cutoff ($2 done, $3 failed),
# locked until the prune commits.
SELECT_STILL_PRUNABLE: Final = """
SELECT id, status, kind FROM jobs
WHERE id = ANY($1::text[])
  AND ((status = 'done' AND updated_at < $2) OR (status = 'failed' AND updated_at < $3))
ORDER BY id
FOR UPDATE
"""
_DELETE_OF_JOBS: Final = "DELETE FROM {table} WHERE job_id = ANY($1::text[])"
# Delete what belongs to the jobs in $1, table by table, before the jobs themselves.
DELETE_JOB_ATTEMPTS: Final = _DELETE_OF_JOBS.format(table="attempts")
DELETE_JOB_STEPS: Final = _DELETE_OF_JOBS.format(table="steps")
DELETE_JOB_EVENTS: Final = _DELETE_OF_JOBS.format(table="events")
DELETE_JOB_FAULTS: Final = _DELETE_OF_JOBS.format(table="faults")
DELETE_JOB_SCHEDULE_RUNS: Final = _DELETE_OF_JOBS.format(table="schedule_runs")
# Delete the jobs in $1.
DELETE_JOBS: Final = "DELETE FROM jobs WHERE id = ANY($1::text[])"
# Record one prune batch. Values: at, jobs, oldest id, newest id.
INSERT_PRUNE: Final = "INSERT INTO prunes (at, jobs, oldest_id, newest_id) VALUES ($1, $2, $3, $4)"
# When the newest prune batch whose id range holds an id ran.
SELECT_PRUNED_AT: Final = """
SELECT at FROM prunes WHERE $1 BETWEEN oldest_id AND newest_id ORDER BY id DESC LIMIT 1
"""
# Hold a named lease if it is free, expired, or already the owner's. Values: name, owner,
# until, now.
TAKE_LEASE: Final = """
INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE leases.expires_at < $4 OR leases.owner = excluded.owner
"""

# -- operator control --------------------------------------------------------------------------

# Take the cancel lock of each job in $1, in id order, until the transaction ends. A cancel
# request and a change back to the queue both take it before they read: otherwise, under read
# committed, each could miss the other's uncommitted row and a cancelled job be requeued.
LOCK_CANCELS: Final = f"""
SELECT pg_advisory_xact_lock({CANCEL_LOCK}, hashtext(s.id))
FROM (SELECT DISTINCT id FROM unnest($1::text[]) AS u(id) ORDER BY id) AS s
"""
# Store a cancel request while the job still runs attempt $2 (a second request keeps the
# first); returns the job id when it is stored or was already.
INSERT_CANCEL: Final = """
WITH stored AS (
    INSERT INTO cancels (job_id, attempt, reason, actor, at)
    SELECT $1, $2, $3, $4, $5 FROM jobs WHERE id = $1 AND status = 'running' AND attempt = $2
    ON CONFLICT (job_id) DO NOTHING
    RETURNING job_id
)
SELECT job_id FROM stored UNION ALL SELECT job_id FROM cancels WHERE job_id = $1
"""
# Wake the workers that run jobs: a cancel request is stored (delivered at commit).
NOTIFY_CANCEL: Final = f"NOTIFY {CANCEL_CHANNEL}"
# The cancel requests of the jobs in $1.
SELECT_CANCELS: Final = """
SELECT job_id, attempt, actor, at, reason FROM cancels WHERE job_id = ANY($1::text[])
"""
# Pause a kind (a second pause keeps the first one's reason and time).
PAUSE_KIND: Final = """
INSERT INTO paused_kinds (kind, reason, actor, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (kind) DO NOTHING
"""
# Resume a kind.
RESUME_KIND: Final = "DELETE FROM paused_kinds WHERE kind = $1"
# Every paused kind, by name.
SELECT_PAUSED: Final = "SELECT kind, actor, at, reason FROM paused_kinds ORDER BY kind"
# Whether a kind has a job stored (a scan of jobs when it has none: an operator's look-up) or is
# paused.
KIND_SEEN: Final = """
SELECT EXISTS (SELECT 1 FROM paused_kinds WHERE kind = $1)
    OR EXISTS (SELECT 1 FROM jobs WHERE kind = $1)
"""
# Append one row to the operator trail, placed after the newest event.
INSERT_ACTION: Final = """
INSERT INTO actions (at, actor, action, target, reason, after_cursor)
VALUES ($1, $2, $3, $4, $5, (SELECT coalesce(max(cursor), 0) FROM events))
"""
# Trail rows after id $1 written at or after event cursor $2, in id order.
SELECT_ACTIONS: Final = """
SELECT id, at, actor, action, target, reason, after_cursor FROM actions
WHERE id > $1 AND after_cursor >= $2
ORDER BY id
LIMIT $3
"""
# Delete the cancel requests of pruned jobs.
DELETE_JOB_CANCELS: Final = "DELETE FROM cancels WHERE job_id = ANY($1::text[])"

# -- the system: workers, kind counts, the rollup ----------------------------------------------

# The widths a window reads, as a table: joined before the rollup, each width's buckets that
# end in a span are one range of the key (a bucket ends at start + width; a second of slack
# either side for the rounding of `lo - width`, the exact test follows).
_WIDTHS: Final = (
    "widths(w) AS (VALUES " + ", ".join("(" + repr(w) + "::float8)" for w in ROLLUP_WIDTHS) + ")"
)
# Rows of the buckets that end after $1 (of kind $2, when not NULL), through the key.
SELECT_ROLLUP: Final = f"""
WITH {_WIDTHS}
SELECT {_ROLLUP_COLUMNS} FROM widths CROSS JOIN rollup
WHERE width = w AND start > $1 - w - 1 AND start + width > $1
  AND ($2::text IS NULL OR kind = $2)
ORDER BY start, width, kind, outcome, code
"""
_SPAN_SUMS: Final = f"""
WITH edges AS (SELECT lo, lead(lo) OVER (ORDER BY lo) AS hi FROM unnest($1::float8[]) AS lo),
     {_WIDTHS}
SELECT e.hi - e.lo, e.lo, {{kind}}, r.outcome, r.code, {_R_SUMS}
FROM edges AS e CROSS JOIN widths CROSS JOIN rollup AS r
WHERE r.width = w AND r.start > e.lo - w - 1 AND r.start <= e.hi - w + 1
  AND r.start + r.width > e.lo AND r.start + r.width <= e.hi
  AND ($2::text IS NULL OR r.kind = $2)
GROUP BY e.lo, e.hi, {{group}}r.outcome, r.code
ORDER BY e.lo, {{group}}r.outcome, r.code
"""
# The rows of the buckets that end in each span between consecutive edges ($1, ascending),
# summed per key: one row per span and key (Store.rollup_sums). Each span reads only the
# buckets that end in it, one range of the key per width.
SUM_ROLLUP_PER_KIND: Final = _SPAN_SUMS.format(kind="r.kind", group="r.kind, ")
# The same summed across kinds (kind '').
SUM_ROLLUP: Final = _SPAN_SUMS.format(kind="''", group="")
# Every row, the ALL_TIME ones too (of kind $1, when not NULL).
SELECT_ROLLUP_ALL: Final = f"""
SELECT {_ROLLUP_COLUMNS} FROM rollup WHERE $1::text IS NULL OR kind = $1
ORDER BY start, width, kind, outcome, code
"""
# Whether anything is old enough to fold ($1 fine cutoff, $2 minute cutoff, $3 hour cutoff) or
# a worker has been silent since before $4 (probes of keys; the common answer is no).
NEEDS_FOLD: Final = f"""
SELECT EXISTS (SELECT 1 FROM rollup WHERE width = {ROLLUP_FINE!r} AND start < $1)
    OR EXISTS (SELECT 1 FROM rollup WHERE width = {ROLLUP_MINUTE!r} AND start < $2)
    OR EXISTS (SELECT 1 FROM rollup WHERE width = {ROLLUP_HOUR!r} AND start < $3)
    OR EXISTS (SELECT 1 FROM workers WHERE last_seen < $4)
"""
# Folding takes the events lock: no writer adds to the rollup meanwhile, and two folds never
# both read the same buckets.
LOCK_EVENTS: Final = f"SELECT pg_advisory_xact_lock({EVENTS_LOCK})"
# Fold the 10-second buckets that start before $1 into their minutes, then drop them.
FOLD_FINE: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_MINUTE!r}, floor(start / {ROLLUP_MINUTE!r}) * {ROLLUP_MINUTE!r} AS minute,
       kind, outcome, code, {_SUMS}
FROM rollup WHERE width = {ROLLUP_FINE!r} AND start < $1
GROUP BY minute, kind, outcome, code
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
DROP_FINE: Final = f"DELETE FROM rollup WHERE width = {ROLLUP_FINE!r} AND start < $1"
# Fold the minute buckets that start before $1 into their hours, then drop them.
FOLD_MINUTES: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_HOUR!r}, floor(start / {ROLLUP_HOUR!r}) * {ROLLUP_HOUR!r} AS hour,
       kind, outcome, code, {_SUMS}
FROM rollup WHERE width = {ROLLUP_MINUTE!r} AND start < $1
GROUP BY hour, kind, outcome, code
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
DROP_MINUTES: Final = f"DELETE FROM rollup WHERE width = {ROLLUP_MINUTE!r} AND start < $1"
# Fold the hour buckets that start before $1 into the ALL_TIME row of their key, then drop
# them: totals never shrink.
FOLD_HOURS: Final = f"""
INSERT INTO rollup ({_ROLLUP_COLUMNS})
SELECT {ROLLUP_ALL_TIME!r}, {ROLLUP_ALL_TIME!r}, kind, outcome, code, {_SUMS}
FROM rollup WHERE width = {ROLLUP_HOUR!r} AND start < $1
GROUP BY kind, outcome, code
ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ADDS}
"""
DROP_HOURS: Final = f"DELETE FROM rollup WHERE width = {ROLLUP_HOUR!r} AND start < $1"
# Jobs per kind and status.
SELECT_KIND_COUNTS: Final = "SELECT kind, status, n FROM kind_counts ORDER BY kind, status"
# Per kind with queued jobs: when its longest-waiting queued job became ready (one probe each).
SELECT_OLDEST_QUEUED: Final = """
SELECT k.kind, (SELECT min(run_after) FROM jobs WHERE status = 'queued' AND kind = k.kind)
FROM kind_counts AS k
WHERE k.status = 'queued' AND k.n > 0
ORDER BY k.kind
"""
# Register a worker as it starts (a name seen before is replaced whole). Values: name, now,
# host, pid, version, started_at, lease, concurrency, kinds (JSON).
REGISTER_WORKER: Final = """
INSERT INTO workers (name, last_seen, host, pid, version, started_at, lease, concurrency, kinds,
                     done_5m, failed_5m)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, 0, 0)
ON CONFLICT (name) DO UPDATE SET
    last_seen = excluded.last_seen, host = excluded.host, pid = excluded.pid,
    version = excluded.version, started_at = excluded.started_at, lease = excluded.lease,
    concurrency = excluded.concurrency, kinds = excluded.kinds, done_5m = 0, failed_5m = 0
"""
# A registered worker's heartbeat. Values: name, now, done in 5 minutes, failed in 5 minutes.
BEAT_WORKER: Final = """
UPDATE workers SET last_seen = $2, done_5m = $3, failed_5m = $4 WHERE name = $1
"""
# Registered workers heard from at or after $1, by name, each with its running jobs.
SELECT_WORKERS: Final = """
SELECT w.name, w.host, w.pid, w.version, w.started_at, w.last_seen, w.lease, w.concurrency,
       w.kinds::text, w.done_5m, w.failed_5m, coalesce(r.n, 0)
FROM workers AS w
LEFT JOIN (SELECT lease_owner, count(*) AS n FROM jobs WHERE status = 'running'
           GROUP BY lease_owner) AS r ON r.lease_owner = w.name
WHERE w.last_seen >= $1
ORDER BY w.name
"""
# Drop the rows of workers silent since before $1.
FORGET_SILENT_WORKERS: Final = "DELETE FROM workers WHERE last_seen < $1"
