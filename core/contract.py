"""The job contract: the one shape every part of jobdeck agrees on.

`Job`, `Reason`, `Attempt`, `Event` and `Result` are frozen values. A job's status changes only
through `transition()`, whose legal moves are the `TRANSITIONS` table below and nothing else.
`CONTRACT_VERSION` changes only when a field changes meaning; `id`, `attempt` and `status` never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from jobdeck.core.derived import compensation_state
from jobdeck.core.errors import TransitionError

CONTRACT_VERSION: Final = 1
SLUG = r"^[a-z][a-z0-9_]*$"
# A job's priority: higher runs first; jobs of one priority run in run_after order.
MIN_PRIORITY: Final = -100
MAX_PRIORITY: Final = 100


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (Status.DONE, Status.FAILED)


class Category(StrEnum):
    """Why a job or an attempt failed, in one word the monitor colours by.

    The first six are final categories of a failed job. `retryable` marks an attempt that failed
    and was scheduled again; it never ends a job. `cancelled` is an operator's cancel: of a
    queued job (which never ran) or of a running one (its handler was stopped).
    """

    DENIED = "denied"
    TERMINAL = "terminal"
    RETRIES_EXHAUSTED = "retries_exhausted"
    INJECTED = "injected"
    LOST_LEASE = "lost_lease"
    CANCELLED = "cancelled"
    RETRYABLE = "retryable"


class Outcome(StrEnum):
    """How one attempt ended."""

    RUNNING = "running"
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    LOST_LEASE = "lost_lease"
    RELEASED = "released"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Reason(_Frozen):
    """The single authoritative reason a job (or one attempt) failed."""

    code: str = Field(pattern=SLUG, max_length=64)
    message: str
    category: Category
    gate: str | None = None
    retryable: bool = False
    evidence: dict[str, JsonValue] = Field(default_factory=dict)


class Job(_Frozen):
    id: str
    kind: str
    payload: dict[str, JsonValue]
    attempt: int = Field(default=0, ge=0)
    status: Status = Status.QUEUED
    reason: Reason | None = None
    result: JsonValue = None
    idempotency_key: str
    rerun_of: str | None = None
    max_attempts: int = Field(default=3, ge=1)
    created_at: float
    updated_at: float
    run_after: float
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    priority: int = Field(default=0, ge=MIN_PRIORITY, le=MAX_PRIORITY)
    # The W3C traceparent of the OpenTelemetry span that submitted the job, when one was
    # recording (jobdeck.core.tracing); each attempt's span links to it.
    trace_context: str | None = Field(default=None, max_length=512)

    @property
    def live(self) -> bool:
        return self.status in (Status.QUEUED, Status.RUNNING)


def claim_order(job: Job) -> tuple[int, float, str]:
    """The order claims hand ready jobs out in: higher priority first, then the earlier
    `run_after`, then the smaller id."""
    return (-job.priority, job.run_after, job.id)


class Attempt(_Frozen):
    job_id: str
    n: int = Field(ge=1)
    started_at: float
    finished_at: float | None = None
    outcome: Outcome = Outcome.RUNNING
    reason: Reason | None = None
    worker: str | None = None


class Event(_Frozen):
    """One row of the append-only log; `from_status` is None when the job was created.

    A compensation is logged too, as an event that keeps the status (running -> running) and
    names its `step`; its `reason_code` is `compensated` or `compensation_failed`.
    """

    cursor: int
    job_id: str
    from_status: Status | None
    to_status: Status
    attempt: int
    reason_code: str | None = None
    at: float
    step: str | None = None


class StepStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"


class CompensationStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Step(_Frozen):
    """One durable step of a job: its memoized result, and the state of its compensation.

    `compensable` says a compensation was declared; `compensation` is None until one is owed
    (the job failed) and then pending, done or failed.
    """

    job_id: str
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    seq: int = Field(ge=0)
    status: StepStatus
    result: JsonValue = None
    attempt: int = Field(ge=1)
    reason: Reason | None = None
    compensable: bool = False
    compensation: CompensationStatus | None = None
    compensation_attempts: int = 0
    compensation_reason: Reason | None = None
    at: float

    def compensation_state(self, job_status: Status) -> CompensationStatus | None:
        """How the compensation stands: as recorded, or pending when the job failed after this
        step completed and declared one that has not run (its worker died first)."""
        state = compensation_state(
            compensation=self.compensation,
            compensable=self.compensable,
            step_status=self.status,
            job_status=job_status,
        )
        return None if state is None else CompensationStatus(state)

    @property
    def memoized(self) -> bool:
        """Whether a retry returns this step's stored result instead of running it again."""
        return self.status is StepStatus.DONE and self.compensation is not CompensationStatus.DONE


class Fault(_Frozen):
    """An armed fault: the next `remaining` attempts of a job (or of a kind) fail on purpose."""

    id: int = 0
    job_id: str | None = None
    kind: str | None = None
    retryable: bool = False
    times: int = Field(default=1, ge=1)
    remaining: int = Field(default=1, ge=0)
    reason: str = "failure injected by an operator"
    at_step: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Result:
    """What a gate answers: ok, or the one reason it denies."""

    ok: bool
    reason: Reason | None = None

    @classmethod
    def deny(cls, reason: Reason) -> Result:
        return cls(False, reason)


PASS: Final = Result(True)


# -- transitions -------------------------------------------------------------------------------
# Each event below is one arrow in the graph. `transition()` is the only function that produces a
# job with a different status, and storage applies its output with a compare-and-set.


@dataclass(frozen=True, slots=True)
class Claim:
    worker: str
    lease_expires_at: float
    at: float


@dataclass(frozen=True, slots=True)
class Succeed:
    result: Any
    at: float


@dataclass(frozen=True, slots=True)
class Fail:
    reason: Reason
    at: float


@dataclass(frozen=True, slots=True)
class Requeue:
    """Back to the queue: a retry after a retryable failure, or a lost lease."""

    reason: Reason
    run_after: float
    at: float


@dataclass(frozen=True, slots=True)
class Release:
    """A worker shutting down hands an unstarted-in-effect attempt back; it does not count."""

    at: float


@dataclass(frozen=True, slots=True)
class Deny:
    reason: Reason
    at: float


TransitionEvent = Claim | Succeed | Fail | Requeue | Release | Deny

TRANSITIONS: Final[dict[tuple[Status, type], Status]] = {
    (Status.QUEUED, Claim): Status.RUNNING,
    (Status.QUEUED, Deny): Status.FAILED,
    (Status.RUNNING, Succeed): Status.DONE,
    (Status.RUNNING, Fail): Status.FAILED,
    (Status.RUNNING, Requeue): Status.QUEUED,
    (Status.RUNNING, Release): Status.QUEUED,
}


def transition(job: Job, event: TransitionEvent) -> Job:
    """Return the job after `event`, or raise TransitionError if the graph has no such arrow."""
    target = TRANSITIONS.get((job.status, type(event)))
    if target is None:
        raise TransitionError(
            f"job {job.id} is {job.status.value}; it cannot take a {type(event).__name__.lower()}."
        )
    changes: dict[str, Any] = {"status": target, "updated_at": event.at}
    match event:
        case Claim(worker=worker, lease_expires_at=expires):
            changes |= {
                "attempt": job.attempt + 1,
                "lease_owner": worker,
                "lease_expires_at": expires,
            }
        case Succeed(result=result):
            changes |= {"result": result, "reason": None} | _no_lease()
        case Fail(reason=reason) | Deny(reason=reason):
            changes |= {"reason": reason, "result": None} | _no_lease()
        case Requeue(run_after=run_after):
            changes |= {"run_after": run_after, "reason": None} | _no_lease()
        case Release():
            changes |= {"attempt": job.attempt - 1} | _no_lease()
    return job.model_copy(update=changes)


def _no_lease() -> dict[str, Any]:
    return {"lease_owner": None, "lease_expires_at": None}


def attempt_outcome(event: TransitionEvent) -> Outcome | None:
    """How the running attempt ends when `event` happens to it (None if no attempt ends)."""
    match event:
        case Succeed():
            return Outcome.DONE
        case Fail():
            return Outcome.FAILED
        case Requeue(reason=reason):
            return Outcome.LOST_LEASE if reason.category is Category.LOST_LEASE else Outcome.RETRY
        case Release():
            return Outcome.RELEASED
    return None


def event_reason(event: TransitionEvent) -> Reason | None:
    match event:
        case Fail(reason=reason) | Deny(reason=reason) | Requeue(reason=reason):
            return reason
    return None
