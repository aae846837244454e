"""The column lists both backends select, each in the order its row reader in `rows` (or
`sqlite.steps`) expects; the two schemas name their columns alike."""

from __future__ import annotations

from typing import Final

# The column order `rows.job_from_row` reads.
JOB_COLUMNS: Final = (
    "id, kind, payload, status, attempt, max_attempts, reason, result, idempotency_key, rerun_of,"
    " created_at, updated_at, run_after, lease_owner, lease_expires_at, priority, trace_context"
)
# The column order `rows.attempt_from_row` reads.
ATTEMPT_COLUMNS: Final = "job_id, n, started_at, finished_at, outcome, reason, worker"
# The column order `rows.event_from_row` reads.
EVENT_COLUMNS: Final = "cursor, job_id, from_status, to_status, attempt, reason_code, at, step"
# The column order `steps.step_from_row` reads.
STEP_COLUMNS: Final = (
    "job_id, name, seq, status, result, attempt, reason, compensable, compensation, "
    "compensation_attempts, compensation_reason, at"
)
# The column order `rows.fault_from_row` reads.
FAULT_COLUMNS: Final = "id, job_id, kind, retryable, times, remaining, reason, at_step, created_at"
# `JOB_COLUMNS` of the jobs table joined as `j`.
JOINED_JOB_COLUMNS: Final = ", ".join("j." + name.strip() for name in JOB_COLUMNS.split(","))
# The column order `rows.schedule_from_row` reads, of the schedules table joined as `s`.
SCHEDULE_COLUMNS: Final = (
    "s.name, s.kind, s.cron, s.tz, s.last_tick, s.paused, s.paused_reason, s.changed_at"
)

# The rollup's bucket widths and histogram (jobdeck.core.system's BUCKET_SECONDS, MINUTE, HOUR,
# ALL_TIME and HISTOGRAM_SIZE), repeated here because the plain-sqlite3 read path imports the
# queries and must not import pydantic; tests/storage/test_system.py checks they agree.
ROLLUP_FINE: Final = 10.0
ROLLUP_MINUTE: Final = 60.0
ROLLUP_MINUTE_INT: Final = 60
ROLLUP_HOUR: Final = 3600.0
ROLLUP_HOUR_INT: Final = 3600
# The widths a window reads (every one but ALL_TIME's), finest first.
ROLLUP_WIDTHS: Final = (ROLLUP_FINE, ROLLUP_MINUTE, ROLLUP_HOUR)
ROLLUP_ALL_TIME: Final = 0.0
HISTOGRAM_COLUMN_NAMES: Final = tuple("h" + str(i) for i in range(16))
# The histogram's columns, h0 .. h15.
HISTOGRAM_COLUMNS: Final = ", ".join(HISTOGRAM_COLUMN_NAMES)
# The columns an upsert or a fold adds up.
ROLLUP_SUMMED: Final = ("n", "run_time", *HISTOGRAM_COLUMN_NAMES)
# The column order `system.rollup_from_row` reads.
ROLLUP_COLUMNS: Final = "width, start, kind, outcome, code, n, run_time, " + HISTOGRAM_COLUMNS
