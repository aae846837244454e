"""What `show` and the detail screen derive from a job's stored fields: the retry explanation,
the rerun comparison, and a step's owed compensation.

Written over plain values, without pydantic: statuses, categories and outcomes are compared as
their text (the contract's enums are `StrEnum`s, equal to their text), so the engine passes its
models and the plain-sqlite3 read path of `jobdeck show` (storage/peek.py) passes its rows, and
both print the same thing from one definition. Only typing is imported: the read commands pay for
every module they load (dataclasses alone brings inspect, ~15 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol


class _Reason(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def gate(self) -> str | None: ...
    @property
    def retryable(self) -> bool: ...


class _Job(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def run_after(self) -> float: ...
    @property
    def reason(self) -> _Reason | None: ...
    @property
    def result(self) -> Any: ...


class _Attempt(Protocol):
    @property
    def outcome(self) -> str: ...
    @property
    def finished_at(self) -> float | None: ...


class RetryExplanation(NamedTuple):
    """The retry decision the monitor and `show` explain: how the last attempt was classified,
    where the job is in its budget, the backoff chosen and when it runs next."""

    classification: str
    attempt: int
    max_attempts: int
    backoff: float | None = None
    next_run_at: float | None = None
    retried: bool | None = None
    sentence: str = ""


def explain(job: _Job, attempts: Sequence[_Attempt], now: float) -> RetryExplanation:
    """Where the job stands in its retry budget, and why, as data and as one sentence."""
    last = attempts[-1] if attempts else None
    n, cap = job.attempt, job.max_attempts

    def shaped(classification: str, sentence: str, **kw: Any) -> RetryExplanation:
        return RetryExplanation(classification, n, cap, sentence=sentence, **kw)

    if job.status == "done":
        return shaped("done", f"done on attempt {n} of {cap}")
    if job.status == "running":
        return shaped("running", f"running attempt {n} of {cap}")
    if job.status == "queued" and n == 0 and job.run_after > now:
        return shaped(
            "scheduled",
            f"scheduled: attempt 1 of {cap} runs in {job.run_after - now:.1f} s",
            next_run_at=job.run_after,
        )
    if job.status == "queued" and n == 0:
        return shaped("queued", f"queued, attempt 1 of {cap} not started")
    if job.status == "queued":
        lost = last is not None and last.outcome == "lost_lease"
        backoff = None
        if last is not None and last.finished_at is not None:
            backoff = max(0.0, job.run_after - last.finished_at)
        wait = max(0.0, job.run_after - now)
        words = "lease lost" if lost else "retryable"
        return shaped(
            "lost_lease" if lost else "retryable",
            f"{words}, attempt {n} of {cap} failed; attempt {n + 1} runs in {wait:.1f} s"
            + (f" (backoff {backoff:.2f} s)" if backoff is not None else ""),
            backoff=backoff,
            next_run_at=job.run_after,
            retried=True,
        )
    reason = job.reason
    category = str(reason.category) if reason else "terminal"
    if category == "denied" and reason is not None:
        sentence = f"denied by the {reason.gate} gate: never run, never retried"
    elif category == "retries_exhausted":
        sentence = f"retries exhausted after {n} of {cap} attempts: not retried again"
    elif category == "lost_lease":
        sentence = f"lease lost on the last of {cap} attempts: not retried again"
    elif reason is not None and reason.retryable:
        sentence = f"{category}: retryable, but attempt {n} of {cap} was the last"
    else:
        sentence = f"{category}: not retried"
    return shaped(category, sentence, retried=False)


def diff(a: Any, b: Any, path: str = "$") -> dict[str, Any]:
    """Paths where two JSON values differ, each with both sides: {"$.x": {"was": 1, "now": 2}}."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, Any] = {}
        for key in sorted(set(a) | set(b)):
            out |= diff(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out |= diff(x, y, f"{path}[{i}]")
        return out
    if a == b and type(a) is type(b):
        return {}
    return {path: {"was": a, "now": b}}


def rerun_changes(original: _Job, rerun: _Job) -> dict[str, Any] | None:
    """How a finished rerun's outcome differs from its original's ({} when idempotent: the same
    status and an equal result, or for failures the same reason code); None while either is
    still queued or running."""
    finished = ("done", "failed")
    if original.status not in finished or rerun.status not in finished:
        return None
    before: dict[str, Any] = {"status": str(original.status)}
    after: dict[str, Any] = {"status": str(rerun.status)}
    if original.status == rerun.status == "failed":
        before["reason_code"] = original.reason.code if original.reason else None
        after["reason_code"] = rerun.reason.code if rerun.reason else None
    else:
        before["result"] = original.result
        after["result"] = rerun.result
    return diff(before, after)


def compensation_state(
    *, compensation: str | None, compensable: bool, step_status: str, job_status: str
) -> str | None:
    """How a step's compensation stands: as recorded, or pending when the job failed after this
    step completed and declared one that has not run (its worker died first)."""
    if compensation is not None:
        return compensation
    if compensable and step_status == "done" and job_status == "failed":
        return "pending"
    return None


def pruned_sentence(job_id: str, at: float) -> str:
    """What `show` and the monitor say for the id of a job retention deleted."""
    from datetime import UTC, datetime  # imported here: the quick read path rarely needs it

    when = datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"job {job_id} was pruned on {when}: finished jobs past their retention are deleted."
