"""How the CLI prints jobs: the stable JSON shapes scripts rely on, and the human text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jobdeck.core.contract import Attempt, Event, Job, Reason, Status
from jobdeck.core.rerun import RerunReport


def iso(ts: float | None) -> str | None:
    """A timestamp as ISO 8601 UTC with milliseconds, or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reason_json(reason: Reason | None) -> dict[str, Any] | None:
    if reason is None:
        return None
    return {
        "code": reason.code,
        "message": reason.message,
        "category": reason.category.value,
        "gate": reason.gate,
        "retryable": reason.retryable,
        "evidence": reason.evidence,
    }


def job_json(job: Job) -> dict[str, Any]:
    """The `list` shape; `show` adds "attempts"."""
    return {
        "id": job.id,
        "kind": job.kind,
        "payload": job.payload,
        "status": job.status.value,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "reason": reason_json(job.reason),
        "result": job.result,
        "idempotency_key": job.idempotency_key,
        "rerun_of": job.rerun_of,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
    }


def attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "n": a.n,
        "started_at": iso(a.started_at),
        "finished_at": iso(a.finished_at),
        "outcome": a.outcome.value,
        "reason": reason_json(a.reason),
    }


def event_json(e: Event) -> dict[str, Any]:
    return {
        "cursor": e.cursor,
        "job_id": e.job_id,
        "from": e.from_status.value if e.from_status else None,
        "to": e.to_status.value,
        "attempt": e.attempt,
        "reason_code": e.reason_code,
        "at": iso(e.at),
    }


def report_json(r: RerunReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "rerun_of": r.rerun_of,
        "status": r.status.value,
        "verdict": r.verdict.value,
        "diff": r.diff,
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def reason_line(reason: Reason) -> str:
    where = f" by the {reason.gate} gate" if reason.gate else ""
    return f"{reason.code} ({reason.category.value}{where}): {reason.message}"


def job_line(job: Job) -> str:
    """One row of `list`."""
    tail = f"  {reason_line(job.reason)}" if job.reason else ""
    return (
        f"{job.id}  {job.status.value:<7}  {job.kind:<14}  "
        f"attempt {job.attempt}/{job.max_attempts}{tail}"
    )


def job_text(job: Job, attempts: list[Attempt], explanation: str) -> str:
    """The human form of `show`."""
    lines = [
        f"job       {job.id}",
        f"kind      {job.kind}",
        f"status    {job.status.value}  (attempt {job.attempt} of {job.max_attempts})",
        f"created   {iso(job.created_at)}   updated {iso(job.updated_at)}",
        f"key       {job.idempotency_key}",
    ]
    if job.rerun_of:
        lines.append(f"rerun of  {job.rerun_of}")
    if job.reason:
        lines.append(f"reason    {reason_line(job.reason)}")
        if job.reason.evidence:
            lines.append(f"evidence  {dumps(job.reason.evidence)}")
    lines.append(f"retry     {explanation}")
    lines.append(f"payload   {dumps(job.payload)}")
    if job.status is Status.DONE:
        lines.append(f"result    {dumps(job.result)}")
    lines.append("attempts" if attempts else "attempts  none yet")
    for a in attempts:
        took = f"{a.finished_at - a.started_at:.3f} s" if a.finished_at else "running"
        why = f"  {reason_line(a.reason)}" if a.reason else ""
        lines.append(f"  #{a.n}  {iso(a.started_at)}  {took:>10}  {a.outcome.value}{why}")
    return "\n".join(lines)


def event_line(e: Event) -> str:
    src = e.from_status.value if e.from_status else "new"
    code = f"  {e.reason_code}" if e.reason_code else ""
    return f"{e.cursor:>8}  {iso(e.at)}  {e.job_id}  {src}->{e.to_status.value}  #{e.attempt}{code}"
