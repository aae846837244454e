"""How the CLI prints jobs: the stable JSON shapes scripts rely on, and the human text.

Every function reads fields by name only, so it prints the contract's models (what the engine
answers) and the plain rows `jobdeck.storage.sqlite.peek` reads (what the quick read commands
answer) alike; the type aliases below name both. A status, category or outcome is a `StrEnum` in
one and its text in the other, so it is printed through `str()`, which gives the text for both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, TypeAlias, cast

if TYPE_CHECKING:
    from jobdeck.core import contract, store
    from jobdeck.core.contract import Status
    from jobdeck.core.derived import RetryExplanation
    from jobdeck.core.engine import JobDetail, LineageNode
    from jobdeck.core.limits import LimitState
    from jobdeck.core.rerun import RerunReport
    from jobdeck.storage.sqlite import peek

    Reason: TypeAlias = contract.Reason | peek.Reason
    Job: TypeAlias = contract.Job | peek.Job
    Attempt: TypeAlias = contract.Attempt | peek.Attempt
    Event: TypeAlias = contract.Event | peek.Event
    Action: TypeAlias = store.Action | peek.Action
    Step: TypeAlias = contract.Step | peek.Step
    Retry: TypeAlias = RetryExplanation
    Lineage: TypeAlias = LineageNode | peek.Lineage
    Detail: TypeAlias = JobDetail | peek.Detail


def iso(ts: float | None) -> str | None:
    """A timestamp as ISO 8601 UTC with milliseconds, or None."""
    if ts is None:
        return None
    # As datetime.fromtimestamp reads it: microseconds rounded half to even, then cut to ms.
    fraction, whole = math.modf(ts)
    us = round(fraction * 1_000_000)
    second, us = int(whole) + us // 1_000_000, us % 1_000_000
    return f"{_iso_second(second)}.{us // 1000:03d}Z"


@lru_cache(maxsize=1024)
def _iso_second(second: int) -> str:
    # The events of a busy log share their seconds; formatting each second once halves `events`.
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def reason_json(reason: Reason | None) -> dict[str, Any] | None:
    if reason is None:
        return None
    return {
        "code": reason.code,
        "message": reason.message,
        "category": str(reason.category),
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
        "status": str(job.status),
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "reason": reason_json(job.reason),
        "result": job.result,
        "idempotency_key": job.idempotency_key,
        "rerun_of": job.rerun_of,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "run_after": iso(job.run_after),
        "priority": job.priority,
    }


def attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "n": a.n,
        "started_at": iso(a.started_at),
        "finished_at": iso(a.finished_at),
        "outcome": str(a.outcome),
        "reason": reason_json(a.reason),
    }


def event_json_line(e: Event) -> str:
    """An event as one line of JSON: cursor, job_id, from, to, attempt, reason_code, at (and step
    when it has one). Written out directly rather than through the encoder: `events` prints one
    per event of the log, and the encoder's per-call set-up was most of the command's time."""
    text = _json_text
    line = (
        f'{{"cursor":{int(e.cursor)},"job_id":{text(e.job_id)},'
        f'"from":{text(str(e.from_status) if e.from_status else None)},'
        f'"to":{text(str(e.to_status))},"attempt":{int(e.attempt)},'
        f'"reason_code":{text(e.reason_code)},"at":{text(iso(e.at))}'
    )
    return line + (f',"step":{text(e.step)}}}' if e.step is not None else "}")


def action_json_line(a: Action) -> str:
    """A row of the operator trail as one line of JSON: action, target, actor, reason, at and
    after_cursor (the event it follows). It has no `cursor`: `--since` takes event cursors."""
    return dumps(
        {
            "action": str(a.action),
            "target": a.target,
            "actor": a.actor,
            "reason": a.reason,
            "at": iso(a.at),
            "after_cursor": int(a.after_cursor),
        }
    )


def action_line(a: Action) -> str:
    """A row of the operator trail in `events`' text: where a cursor would be, `operator`."""
    why = f"  ({a.reason})" if a.reason else ""
    return f"{'operator':>8}  {iso(a.at)}  {a.actor}  {a.action} {a.target}{why}"


def _json_text(value: str | None) -> str:
    # The string escaper the encoder itself uses when ensure_ascii is off.
    return "null" if value is None else encode_basestring(value)


def step_json(step: Step, job: Job) -> dict[str, Any]:
    """A step as `show --json` lists it; a compensation owed by a failed job is `pending`."""
    compensation: dict[str, Any] | None = None
    # Each kind of step takes the status of its own kind of job (a Status is its text).
    state = step.compensation_state(cast("Status", job.status))
    if state is not None:
        compensation = {"status": str(state), "attempts": step.compensation_attempts}
        if step.compensation_reason is not None:
            compensation["reason"] = reason_json(step.compensation_reason)
    return {
        "name": step.name,
        "status": str(step.status),
        "result": step.result,
        "attempt": step.attempt,
        "reason": reason_json(step.reason),
        "compensation": compensation,
    }


def retry_json(r: Retry) -> dict[str, Any]:
    return {
        "classification": r.classification,
        "attempt": r.attempt,
        "max_attempts": r.max_attempts,
        "retried": r.retried,
        "backoff_seconds": r.backoff,
        "next_run_at": iso(r.next_run_at),
        "explanation": r.sentence,
    }


def lineage_json(node: Lineage) -> dict[str, Any]:
    """A rerun tree; its root says `"original_pruned": true` when retention pruned the job
    it reran (the key is absent otherwise)."""
    shaped = {
        "id": node.job.id,
        "status": str(node.job.status),
        "verdict": str(node.verdict.verdict) if node.verdict else None,
        "reruns": [lineage_json(child) for child in node.reruns],
    }
    return shaped | {"original_pruned": True} if node.original_pruned else shaped


def detail_json(d: Detail) -> dict[str, Any]:
    """The `show --json` document: the job, every attempt, steps, retry decision, lineage."""
    return job_json(d.job) | {
        "attempts": [attempt_json(a) for a in d.attempts],
        "steps": [step_json(s, d.job) for s in d.steps],
        "retry": retry_json(d.retry) if d.retry else None,
        "lineage": lineage_json(d.lineage) if d.lineage else None,
    }


def lineage_lines(node: Lineage, focus: str, depth: int = 0) -> list[str]:
    """The rerun tree as indented lines, the job being shown marked with an arrow."""
    mark = "→" if node.job.id == focus else " "
    verdict = f"  {node.verdict.verdict}" if node.verdict else ""
    if node.original_pruned:
        verdict = f"  original pruned ({node.job.rerun_of})"
    line = f"  {mark} {'  ' * depth}{node.job.id}  {node.job.status}{verdict}"
    out = [line]
    for child in node.reruns:
        out += lineage_lines(child, focus, depth + 1)
    return out


def detail_text(d: Detail) -> str:
    """The human form of `show`."""
    lines = [job_text(d.job, d.attempts, d.explanation)]
    if d.steps:
        lines.append("steps")
        for step in d.steps:
            shaped = step_json(step, d.job)
            comp = shaped["compensation"]
            undo = f"  compensation {comp['status']} ({comp['attempts']} tries)" if comp else ""
            why = f"  {reason_line(step.reason)}" if step.reason else ""
            lines.append(f"  {step.name:<12} {step.status:<6} attempt {step.attempt}{undo}{why}")
    root = d.lineage
    if root and (root.reruns or root.job.id != d.job.id or root.original_pruned):
        lines.append("lineage")
        lines += lineage_lines(root, d.job.id)
    return "\n".join(lines)


def report_json(r: RerunReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "rerun_of": r.rerun_of,
        "status": str(r.status),
        "verdict": str(r.verdict),
        "diff": r.diff,
    }


# One encoder for every line: `json.dumps` with options builds a new one per call, which is a
# third of the time `events` takes to print a long log.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    return _COMPACT.encode(value)


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def reason_line(reason: Reason) -> str:
    where = f" by the {reason.gate} gate" if reason.gate else ""
    return f"{reason.code} ({reason.category}{where}): {reason.message}"


def job_line(job: Job) -> str:
    """One row of `list`."""
    tail = f"  {reason_line(job.reason)}" if job.reason else ""
    return (
        f"{job.id}  {job.status:<7}  {job.kind:<14}  attempt {job.attempt}/{job.max_attempts}{tail}"
    )


def job_text(job: Job, attempts: Sequence[Attempt], explanation: str) -> str:
    """The human form of `show`."""
    lines = [
        f"job       {job.id}",
        f"kind      {job.kind}",
        f"status    {job.status}  (attempt {job.attempt} of {job.max_attempts})",
        f"created   {iso(job.created_at)}   updated {iso(job.updated_at)}",
        f"key       {job.idempotency_key}",
    ]
    if str(job.status) == "queued" and job.run_after > job.created_at:
        lines.append(f"run after {iso(job.run_after)}")
    if job.priority:
        lines.append(f"priority  {job.priority:+d}")
    if job.idempotency_key.startswith("schedule:"):
        from jobdeck.core.schedule import tick_of

        made = tick_of(job.idempotency_key)
        if made is not None:
            lines.append(f"schedule  {made[0]}, tick {made[1]}")
    if job.rerun_of:
        lines.append(f"rerun of  {job.rerun_of}")
    if job.reason:
        lines.append(f"reason    {reason_line(job.reason)}")
        if job.reason.evidence:
            lines.append(f"evidence  {dumps(job.reason.evidence)}")
    lines.append(f"retry     {explanation}")
    lines.append(f"payload   {dumps(job.payload)}")
    if job.status == "done":
        lines.append(f"result    {dumps(job.result)}")
    lines.append("attempts" if attempts else "attempts  none yet")
    for a in attempts:
        took = f"{a.finished_at - a.started_at:.3f} s" if a.finished_at else "running"
        why = f"  {reason_line(a.reason)}" if a.reason else ""
        lines.append(f"  #{a.n}  {iso(a.started_at)}  {took:>10}  {a.outcome}{why}")
    return "\n".join(lines)


def event_line(e: Event) -> str:
    src = e.from_status or "new"
    code = f"  {e.reason_code}" if e.reason_code else ""
    return f"{e.cursor:>8}  {iso(e.at)}  {e.job_id}  {src}->{e.to_status}  #{e.attempt}{code}"


def limit_json(state: LimitState) -> dict[str, Any]:
    """One kind's limits as `limits --json` prints them."""
    rate = state.rate
    return {
        "kind": state.kind,
        "concurrency": state.concurrency,
        "running": state.running,
        "rate": None if rate is None else str(rate),
        "rate_count": None if rate is None else rate.count,
        "rate_seconds": None if rate is None else rate.seconds,
        "tokens": state.tokens,
        "next_token_at": iso(state.next_token_at),
        "full": state.full,
        "declared_by": state.declared_by,
        "declared_at": iso(state.declared_at),
    }


def limit_use(state: LimitState) -> str:
    """What a kind's limits allow and use, short: `2/2 running · 0/100 per minute left`."""
    parts = []
    if state.concurrency is not None:
        parts.append(f"{state.running}/{state.concurrency} running")
    if state.rate is not None and state.tokens is not None:
        parts.append(f"{state.tokens}/{state.rate.count} per {state.rate.per} left")
    return " · ".join(parts) + ("  (at its limit)" if state.full else "")


def limits_text(states: Sequence[LimitState], now: float) -> str:
    """The human form of `limits`: one kind a line, then who declared the limits."""
    if not states:
        return (
            "no kind has a limit (workers record their kinds' concurrency and rate limits "
            "when they start)."
        )
    width = max(len(s.kind) for s in states)
    lines = []
    for s in states:
        line = f"{s.kind:<{width}}  {limit_use(s)}"
        if s.next_token_at is not None and s.tokens == 0:
            line += f"  next token in {max(0.0, s.next_token_at - now):.1f} s"
        lines.append(line)
    lines.append("")
    for s in states:
        lines.append(f"{s.kind:<{width}}  declared by {s.declared_by} at {iso(s.declared_at)}")
    return "\n".join(lines)
