"""SQL for durable steps: memoized results, compensations, and reruns seeded with steps.

Each function is the body of one SqliteStore call, run whole on the connection's thread inside
one write transaction. A step is written only while its job is still running the attempt, under
the lease, that produced it: the same compare-and-set a transition makes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Final

from jobdeck.core.contract import CompensationStatus, Job, Reason, Step
from jobdeck.storage.columns import STEP_COLUMNS
from jobdeck.storage.rows import Row, encode_json, encode_reason
from jobdeck.storage.sqlite import tx
from jobdeck.storage.sqlite.queries import SELECT_STEPS

# Whether the job is still running this attempt under this worker's lease.
HOLDS_LEASE: Final = """
SELECT 1 FROM jobs WHERE id = :id AND status = 'running' AND attempt = :attempt
  AND lease_owner = :owner
"""
# Record a step's outcome (a step that ran again replaces its earlier row, keeping its place).
UPSERT_STEP: Final = f"""
INSERT INTO steps ({STEP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (job_id, name) DO UPDATE SET
    status = excluded.status, result = excluded.result, attempt = excluded.attempt,
    reason = excluded.reason, compensable = excluded.compensable,
    compensation = NULL, compensation_attempts = 0, compensation_reason = NULL, at = excluded.at
"""
# Record how a step's compensation went.
SET_COMPENSATION: Final = """
UPDATE steps SET compensation = ?, compensation_attempts = ?, compensation_reason = ?, at = ?
WHERE job_id = ? AND name = ?
"""
# Log a compensation as an event that keeps the job's status and names the step.
INSERT_STEP_EVENT: Final = """
INSERT INTO events (job_id, from_status, to_status, attempt, reason_code, at, step)
VALUES (?, 'running', 'running', ?, ?, ?, ?)
"""


def step_row(step: Step) -> Row:
    return (
        step.job_id,
        step.name,
        step.seq,
        step.status.value,
        None if step.result is None else encode_json(step.result),
        step.attempt,
        encode_reason(step.reason),
        int(step.compensable),
        None if step.compensation is None else step.compensation.value,
        step.compensation_attempts,
        encode_reason(step.compensation_reason),
        step.at,
    )


def step_from_row(row: Row) -> Step:
    return Step.model_validate(
        {
            "job_id": row[0],
            "name": row[1],
            "seq": row[2],
            "status": row[3],
            "result": None if row[4] is None else json.loads(row[4]),
            "attempt": row[5],
            "reason": None if row[6] is None else json.loads(row[6]),
            "compensable": bool(row[7]),
            "compensation": row[8],
            "compensation_attempts": row[9],
            "compensation_reason": None if row[10] is None else json.loads(row[10]),
            "at": row[11],
        }
    )


def _holds(conn: sqlite3.Connection, job: Job) -> bool:
    params = {"id": job.id, "attempt": job.attempt, "owner": job.lease_owner}
    return conn.execute(HOLDS_LEASE, params).fetchone() is not None


def record_step(conn: sqlite3.Connection, *, job: Job, step: Step) -> bool:
    """Store a step's outcome if `job` still runs this attempt under this lease."""
    if not _holds(conn, job):
        return False
    conn.execute(UPSERT_STEP, step_row(step))
    return True


def record_compensation(
    conn: sqlite3.Connection,
    *,
    job: Job,
    name: str,
    status: CompensationStatus,
    attempts: int,
    reason: Reason | None,
    at: float,
) -> bool:
    """Store a compensation's outcome and log it, if `job` still runs under this lease."""
    if not _holds(conn, job):
        return False
    conn.execute(
        SET_COMPENSATION, (status.value, attempts, encode_reason(reason), at, job.id, name)
    )
    if status is not CompensationStatus.PENDING:
        code = "compensated" if status is CompensationStatus.DONE else "compensation_failed"
        conn.execute(INSERT_STEP_EVENT, (job.id, job.attempt, code, at, name))
    return True


def insert_with_steps(
    conn: sqlite3.Connection, *, job: Job, steps: Sequence[Step]
) -> list[Job | Row]:
    """A rerun and the memoized steps it starts from, in one transaction."""
    stored = tx.insert(conn, jobs=[job])
    conn.executemany(
        UPSERT_STEP, [step_row(s.model_copy(update={"job_id": job.id})) for s in steps]
    )
    return stored


def select_steps(conn: sqlite3.Connection, job_id: str) -> list[Row]:
    return conn.execute(SELECT_STEPS, (job_id,)).fetchall()
