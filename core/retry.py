"""Failure classification and the retry decision. Pure: same input, same answer.

A handler signals intent by raising `Retryable` or `Terminal`. Anything else is classified by a
`Policy`: programming errors are terminal, I/O and timeouts are retryable, unknown errors terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from jobdeck.core.contract import Category, Fault, Job, Reason


class Retryable(Exception):
    """Raise from a handler: this attempt failed, another attempt may succeed."""

    def __init__(self, message: str, *, code: str = "retryable_error", **evidence: Any) -> None:
        super().__init__(message)
        self.code = code
        self.evidence = evidence


class Terminal(Exception):
    """Raise from a handler: this job cannot succeed; do not retry it."""

    def __init__(self, message: str, *, code: str = "terminal_error", **evidence: Any) -> None:
        super().__init__(message)
        self.code = code
        self.evidence = evidence


@dataclass(frozen=True, slots=True)
class Failure:
    """One attempt's failure, classified."""

    code: str
    message: str
    retryable: bool
    injected: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Policy:
    """How exceptions that are neither Retryable nor Terminal are classified."""

    retryable: tuple[type[BaseException], ...] = (
        TimeoutError,
        asyncio.TimeoutError,
        ConnectionError,
        OSError,
    )
    terminal: tuple[type[BaseException], ...] = (
        TypeError,
        KeyError,
        ValueError,
        AttributeError,
        NameError,
        IndexError,
        AssertionError,
    )
    unknown_is_retryable: bool = False


DEFAULT_POLICY = Policy()
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(name: str) -> str:
    """A reason code from any text: lowercase ASCII snake case, at most 64 characters."""
    text = _NOT_SLUG.sub("_", _CAMEL.sub("_", name).lower()).strip("_")[:64].rstrip("_")
    if not text or not text[0].isalpha():
        text = f"error_{text}"[:64].rstrip("_")
    return text


def _json_safe(evidence: dict[str, Any]) -> dict[str, Any]:
    """Evidence as plain JSON; what is not JSON is kept as its repr."""
    safe: dict[str, Any] = json.loads(json.dumps(evidence, default=repr, allow_nan=False))
    return safe


def classify(exc: BaseException, policy: Policy = DEFAULT_POLICY) -> Failure:
    """Classify what a handler raised. Terminal wins over retryable when a type is in both."""
    message = str(exc) or type(exc).__name__
    evidence: dict[str, Any] = {"exception": type(exc).__name__}
    if isinstance(exc, Retryable | Terminal):
        with contextlib.suppress(ValueError):  # NaN or a cycle: keep what is certainly JSON
            evidence = _json_safe(evidence | exc.evidence)
        return Failure(_slug(exc.code), message, isinstance(exc, Retryable), evidence=evidence)
    if isinstance(exc, policy.terminal):
        return Failure(_slug(type(exc).__name__), message, False, evidence=evidence)
    if isinstance(exc, policy.retryable):
        return Failure(_slug(type(exc).__name__), message, True, evidence=evidence)
    return Failure(
        _slug(type(exc).__name__), message, policy.unknown_is_retryable, evidence=evidence
    )


def injected(fault: Fault) -> Failure:
    """The failure an armed fault stands for."""
    return Failure(
        "injected_retryable" if fault.retryable else "injected_terminal",
        fault.reason,
        fault.retryable,
        injected=True,
        evidence={"fault_id": fault.id},
    )


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: a delay drawn from [0, min(cap, base * 2**(n-1)))."""

    base: float = 0.5
    cap: float = 60.0

    def ceiling(self, attempt: int) -> float:
        return float(min(self.cap, self.base * 2.0 ** max(attempt - 1, 0)))

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, self.ceiling(attempt))


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens after a failed attempt: retry at `run_after`, or fail with `reason`."""

    retry: bool
    reason: Reason
    run_after: float | None = None
    delay: float | None = None

    def explain(self, job: Job) -> str:
        """The sentence the monitor shows beside the reason."""
        if self.retry and self.delay is not None:
            return (
                f"retryable, attempt {job.attempt} of {job.max_attempts}, "
                f"next run in {self.delay:.1f} s"
            )
        if self.reason.category is Category.RETRIES_EXHAUSTED:
            return f"retries exhausted after {job.attempt} of {job.max_attempts} attempts"
        return "terminal: not retried"


def decide(
    job: Job, failure: Failure, *, now: float, backoff: Backoff, rng: random.Random
) -> Decision:
    """Retry a retryable failure while attempts remain; never retry a terminal one."""
    if failure.retryable and job.attempt < job.max_attempts:
        delay = backoff.delay(job.attempt, rng)
        category = Category.INJECTED if failure.injected else Category.RETRYABLE
        reason = Reason(
            code=failure.code,
            message=failure.message,
            category=category,
            retryable=True,
            evidence=failure.evidence,
        )
        return Decision(True, reason, run_after=now + delay, delay=delay)
    if failure.injected:
        category = Category.INJECTED
    elif failure.retryable:
        category = Category.RETRIES_EXHAUSTED
    else:
        category = Category.TERMINAL
    evidence = dict(failure.evidence)
    code, message = failure.code, failure.message
    if category is Category.RETRIES_EXHAUSTED:
        evidence |= {"last_code": failure.code, "last_message": failure.message}
        code = "retries_exhausted"
        message = f"Gave up after {job.attempt} attempts; the last said: {failure.message}"
    return Decision(
        False,
        Reason(
            code=code,
            message=message,
            category=category,
            retryable=failure.retryable,
            evidence=evidence,
        ),
    )


def lost_lease(job: Job, *, now: float, backoff: Backoff, rng: random.Random) -> Decision:
    """A worker stopped heartbeating: the attempt is lost; retry if attempts remain."""
    reason = Reason(
        code="lost_lease",
        message=(
            f"The worker {job.lease_owner} stopped renewing its lease on attempt {job.attempt}."
        ),
        category=Category.LOST_LEASE,
        retryable=job.attempt < job.max_attempts,
        evidence={"worker": job.lease_owner, "lease_expired_at": job.lease_expires_at},
    )
    if job.attempt < job.max_attempts:
        delay = backoff.delay(job.attempt, rng)
        return Decision(True, reason, run_after=now + delay, delay=delay)
    return Decision(False, reason)
