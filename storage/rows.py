"""Contract values to SQLite rows and back. JSON columns are written canonically (sorted keys, no
spaces) so equal values are equal text; rows are read back through pydantic validation, which is
as fast as `model_construct` here and never trusts the file blindly."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from pydantic_core import from_json

from jobdeck.core.contract import Attempt, Event, Fault, Job, Reason, Status
from jobdeck.core.store import Action, Change, Page, ScheduleState

Row = tuple[Any, ...]

_encoder: Final = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)
encode_json: Final = _encoder.encode


def decode_json(text: str) -> Any:
    """A JSON column back to Python values, through pydantic-core's parser: a tenth of the time of
    `json.loads` on a small object, and the same values. It refuses a lone surrogate escape,
    which `json.loads` keeps, so that text goes to `json.loads`."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def encode_reason(reason: Reason | None) -> str | None:
    return None if reason is None else encode_json(reason.model_dump(mode="json"))


def job_row(job: Job) -> Row:
    """The values of `queries.INSERT_JOB` for a new job."""
    reason = job.reason
    return (
        job.id,
        job.kind,
        encode_json(job.payload),
        job.status.value,
        job.attempt,
        job.max_attempts,
        encode_reason(reason),
        None if reason is None else reason.code,
        None if job.result is None else encode_json(job.result),
        job.idempotency_key,
        dedupe_key(job),
        job.rerun_of,
        job.created_at,
        job.updated_at,
        job.run_after,
        job.lease_owner,
        job.lease_expires_at,
        job.priority,
        job.trace_context,
    )


def change_row(change: Change) -> Row:
    """The values of a compare-and-set transition, in the order both backends bind them: the
    job after it (id, status, attempt, reason, reason code, result, updated_at, run_after, lease
    owner, lease end), then what it must still be (status, attempt, lease owner, lease end)."""
    before, after = change.before, change.after
    reason = after.reason
    return (
        after.id,
        after.status.value,
        after.attempt,
        encode_reason(reason),
        None if reason is None else reason.code,
        None if after.result is None else encode_json(after.result),
        after.updated_at,
        after.run_after,
        after.lease_owner,
        after.lease_expires_at,
        before.status.value,
        before.attempt,
        before.lease_owner,
        change.lease_ended_at,
    )


def dedupe_key(job: Job) -> str | None:
    """The key the unique index holds: a rerun claims none and a failed job has given its back."""
    if job.rerun_of is not None or job.status is Status.FAILED:
        return None
    return job.idempotency_key


def is_plain_new(job: Job) -> bool:
    """Whether `queries.INSERT_NEW_JOB` stores this job exactly: queued, never run, no rerun, and
    created, updated and runnable at the same moment (what `Engine.prepare` makes)."""
    return (
        job.status is Status.QUEUED
        and job.attempt == 0
        and job.rerun_of is None
        and job.reason is None
        and job.result is None
        and job.lease_owner is None
        and job.lease_expires_at is None
        and job.created_at == job.updated_at == job.run_after
        and job.trace_context is None
    )


def new_job_row(job: Job) -> Row:
    """The values of `queries.INSERT_NEW_JOB` for a job `is_plain_new` accepts."""
    return (
        job.id,
        job.kind,
        encode_json(job.payload),
        job.max_attempts,
        job.idempotency_key,
        job.created_at,
        job.priority,
    )


def job_from_row(row: Row) -> Job:
    """A job from the columns of `queries.JOB_COLUMNS`, in that order."""
    reason = row[6]
    result = row[7]
    return Job.model_validate(
        {
            "id": row[0],
            "kind": row[1],
            "payload": decode_json(row[2]),
            "status": row[3],
            "attempt": row[4],
            "max_attempts": row[5],
            "reason": None if reason is None else decode_json(reason),
            "result": None if result is None else decode_json(result),
            "idempotency_key": row[8],
            "rerun_of": row[9],
            "created_at": row[10],
            "updated_at": row[11],
            "run_after": row[12],
            "lease_owner": row[13],
            "lease_expires_at": row[14],
            "priority": row[15],
            "trace_context": row[16],
        }
    )


def attempt_from_row(row: Row) -> Attempt:
    """An attempt from the columns of `queries.ATTEMPT_COLUMNS`."""
    reason = row[5]
    return Attempt.model_validate(
        {
            "job_id": row[0],
            "n": row[1],
            "started_at": row[2],
            "finished_at": row[3],
            "outcome": row[4],
            "reason": None if reason is None else decode_json(reason),
            "worker": row[6],
        }
    )


def event_from_row(row: Row) -> Event:
    """An event from the columns of `queries.EVENT_COLUMNS`."""
    return Event.model_validate(
        {
            "cursor": row[0],
            "job_id": row[1],
            "from_status": row[2],
            "to_status": row[3],
            "attempt": row[4],
            "reason_code": row[5],
            "at": row[6],
            "step": row[7],
        }
    )


def fault_row(fault: Fault) -> Row:
    """The values of `queries.INSERT_FAULT`."""
    return (
        fault.job_id,
        fault.kind,
        int(fault.retryable),
        fault.times,
        fault.remaining,
        fault.reason,
        fault.at_step,
        fault.created_at,
    )


def fault_from_row(row: Row) -> Fault:
    """A fault from the columns of `queries.FAULT_COLUMNS`."""
    return Fault.model_validate(
        {
            "id": row[0],
            "job_id": row[1],
            "kind": row[2],
            "retryable": bool(row[3]),
            "times": row[4],
            "remaining": row[5],
            "reason": row[6],
            "at_step": row[7],
            "created_at": row[8],
        }
    )


def schedule_from_row(row: Row) -> ScheduleState:
    """A schedule from `SCHEDULE_COLUMNS` followed by the `JOB_COLUMNS` of its newest tick's
    job (all NULL when it has none)."""
    job = row[8:]
    return ScheduleState(
        name=row[0],
        kind=row[1],
        cron=row[2],
        tz=row[3],
        last_tick=float(row[4]),
        paused=bool(row[5]),
        paused_reason=row[6],
        changed_at=float(row[7]),
        last_job=job_from_row(job) if job and job[0] is not None else None,
    )


def counts_from(rows: Iterable[Sequence[Any]]) -> dict[Status, int]:
    """Jobs per status from `(status, n)` rows of the counts table; a status with no row has 0."""
    counted = {status: 0 for status in Status}
    for status, n in rows:
        counted[Status(status)] = int(n)
    return counted


def page_from(rows: Sequence[Sequence[Any]], limit: int) -> Page:
    """A keyset page from the `limit + 1` rows its query asked for: the extra row, when it came,
    says there is a next page, which starts after the last job shown."""
    jobs = [job_from_row(tuple(row)) for row in rows[:limit]]
    return Page(jobs, jobs[-1].id if len(rows) > limit else None)


def action_from_row(row: Row) -> Action:
    """An operator trail row: id, at, actor, action, target, reason, after_cursor."""
    id_, at, actor, action, target, reason, after_cursor = row
    return Action(
        at=float(at),
        actor=str(actor),
        action=str(action),
        target=str(target),
        reason=reason,
        id=int(id_),
        after_cursor=int(after_cursor),
    )
