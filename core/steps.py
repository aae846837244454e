"""Durable steps: `ctx.step(name, fn, compensate=...)` runs `fn` once per job across attempts.

A step's JSON result is stored under the job's lease before the handler goes on, and a retry gets
it back from the store instead of running `fn` again. The rule is at least once: a step whose
worker died after `fn` finished but before its result was stored runs again on the next attempt.

When a job ends failed, the compensations of the steps it completed run in reverse order, each
with its own small retry budget, each recorded; the job's reason stays the original cause.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobdeck.core import tracing
from jobdeck.core.contract import (
    Category,
    CompensationStatus,
    Fault,
    Job,
    Reason,
    Step,
    StepStatus,
)
from jobdeck.core.errors import InvalidInput
from jobdeck.core.retry import Backoff, Policy, Terminal, classify
from jobdeck.core.store import Store

StepFn = Callable[[], Any]
CompensateFn = Callable[[Any], Any]
STEP_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
COMPENSATION_ATTEMPTS = 3
COMPENSATION_BACKOFF = Backoff(base=0.05, cap=1.0)


class InjectedFault(Exception):
    """Raised inside a handler when an armed fault fires at a step."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.reason)
        self.fault = fault


class LeaseLost(Exception):
    """The worker no longer holds the job's lease; the attempt must stop."""


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    value = fn(*args)
    if inspect.isawaitable(value):
        value = await value
    return value


@dataclass
class StepRunner:
    """The steps of one attempt: memo lookups, recording, and the compensations it owes.

    `fault` is an armed fault consumed by this attempt. With `at_step` it fires just before that
    step; without, it fires at the first step that would do new work (or before the handler
    returns), so the memoized steps before it have registered their compensations.
    """

    job: Job
    store: Store
    clock: Callable[[], float]
    to_json: Callable[[Any], Any]
    memo: dict[str, Step]
    fault: Fault | None = None
    completed: list[tuple[Step, CompensateFn | None]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    async def step(self, name: str, fn: StepFn, *, compensate: CompensateFn | None = None) -> Any:
        """Run `fn` once per job and return its JSON result (from the store on a retry)."""
        with tracing.step_span(self.job, name):
            return await self._step(name, fn, compensate)

    async def _step(self, name: str, fn: StepFn, compensate: CompensateFn | None) -> Any:
        if not STEP_NAME.match(name):
            raise Terminal(f"{name!r} is not a step name (letters, digits, _ . : -).")
        if name in self._seen:
            raise Terminal(f"the step {name!r} runs twice in one attempt.", code="duplicate_step")
        self._seen.add(name)
        cached = self.memo.get(name)
        await self._maybe_fire(name, cached)
        if cached is not None and cached.memoized:
            self.completed.append((cached, compensate))
            return cached.result
        seq = cached.seq if cached else self._next_seq()
        try:
            result = self.to_json(await _call(fn))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failure = classify(exc)
            reason = Reason(
                code=failure.code,
                message=failure.message,
                category=Category.RETRYABLE if failure.retryable else Category.TERMINAL,
                retryable=failure.retryable,
                evidence=failure.evidence,
            )
            await self._record(name, seq, StepStatus.FAILED, None, reason, compensate)
            raise
        step = await self._record(name, seq, StepStatus.DONE, result, None, compensate)
        self.completed.append((step, compensate))
        return result

    def before_return(self) -> None:
        """A job-level fault not yet fired fires now, before the handler's result is kept."""
        if self.fault is not None and self.fault.at_step is None:
            fault, self.fault = self.fault, None
            raise InjectedFault(fault)

    async def _maybe_fire(self, name: str, cached: Step | None) -> None:
        fault = self.fault
        if fault is None:
            return
        memo_hit = cached is not None and cached.memoized
        if fault.at_step == name or (fault.at_step is None and not memo_hit):
            self.fault = None
            # The step is recorded as failed by the fault, so `show` lists where it struck and
            # a rerun can start from it.
            reason = Reason(
                code="injected_retryable" if fault.retryable else "injected_terminal",
                message=fault.reason,
                category=Category.INJECTED,
                retryable=fault.retryable,
                evidence={"fault_id": fault.id},
            )
            seq = cached.seq if cached else self._next_seq()
            await self._record(name, seq, StepStatus.FAILED, None, reason, None)
            raise InjectedFault(fault)

    def _next_seq(self) -> int:
        used = [s.seq for s in self.memo.values()] + [s.seq for s, _ in self.completed]
        return max(used, default=-1) + 1

    async def _record(
        self,
        name: str,
        seq: int,
        status: StepStatus,
        result: Any,
        reason: Reason | None,
        compensate: CompensateFn | None,
    ) -> Step:
        step = Step(
            job_id=self.job.id,
            name=name,
            seq=seq,
            status=status,
            result=result,
            attempt=self.job.attempt,
            reason=reason,
            compensable=compensate is not None,
            at=self.clock(),
        )
        if not await self.store.record_step(self.job, step):
            raise LeaseLost(f"job {self.job.id} lost its lease during step {name!r}.")
        self.memo[name] = step
        return step

    async def compensate(self, rng: random.Random, policy: Policy) -> list[Step]:
        """Run the owed compensations in reverse order; returns the steps with their outcome."""
        out: list[Step] = []
        for step, fn in reversed(self.completed):
            if fn is None:
                continue
            status, attempts, reason = await self._compensate_one(step, fn, rng, policy)
            ok = await self.store.record_compensation(
                self.job, step.name, status, attempts, reason, self.clock()
            )
            if not ok:
                raise LeaseLost(f"job {self.job.id} lost its lease while compensating.")
            out.append(
                step.model_copy(
                    update={
                        "compensation": status,
                        "compensation_attempts": attempts,
                        "compensation_reason": reason,
                    }
                )
            )
        return out

    async def _compensate_one(
        self, step: Step, fn: CompensateFn, rng: random.Random, policy: Policy
    ) -> tuple[CompensationStatus, int, Reason | None]:
        reason: Reason | None = None
        for attempt in range(1, COMPENSATION_ATTEMPTS + 1):
            try:
                await _call(fn, step.result)
                return CompensationStatus.DONE, attempt, None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed compensation is recorded
                failure = classify(exc, policy)
                reason = Reason(
                    code=failure.code,
                    message=f"Compensating {step.name} failed: {failure.message}",
                    category=Category.TERMINAL,
                    retryable=failure.retryable,
                    evidence=failure.evidence | {"step": step.name, "attempt": attempt},
                )
                if attempt < COMPENSATION_ATTEMPTS:
                    await asyncio.sleep(COMPENSATION_BACKOFF.delay(attempt, rng))
        return CompensationStatus.FAILED, COMPENSATION_ATTEMPTS, reason


def steps_before(steps: list[Step], name: str) -> list[Step]:
    """The memoized steps that ran before `name`, for a rerun from that step."""
    names = [s.name for s in steps]
    if name not in names:
        known = ", ".join(names) or "none"
        raise InvalidInput(f"the job has no step {name!r} (its steps: {known}).")
    limit = next(s.seq for s in steps if s.name == name)
    return [s for s in steps if s.seq < limit and s.memoized]
