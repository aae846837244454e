"""The synchronous Client: submit and read jobs from ordinary (threaded, non-async) code.

A web request handler under Django, Flask or gunicorn threads wants one plain call, no event
loop. `Client` keeps the engine's rules (payload checks, gates, the one reason, idempotency
keys) by submitting through the same `Intake` the async `Engine` uses, and hands the prepared
jobs to a `SyncStore`: on SQLite the caller's own thread writes through sqlite3
(`jobdeck.storage.sqlite.sync`), on PostgreSQL the async store runs on a private loop thread
(`jobdeck.core.loop_thread`). Open one with `jobdeck.connect(url, registry=...)`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from jobdeck.core import tracing
from jobdeck.core.contract import Job, Status, Step
from jobdeck.core.control import (
    RACE_TRIES,
    actor,
    cancel_step,
    cancelled,
    kept_changing,
    operator_text,
    step_action,
)
from jobdeck.core.derived import pruned_sentence
from jobdeck.core.engine import Intake, log_transition
from jobdeck.core.errors import InvalidInput, NotFound, StorageError, WaitTimeout
from jobdeck.core.ids import ID_LENGTH, new_id
from jobdeck.core.registry import Registry
from jobdeck.core.steps import steps_before
from jobdeck.core.store import Action, CancelRequest, Change

# How often `wait` looks at a job: soon at first (most jobs of a web app are short), then at
# most every POLL_MAX seconds.
POLL_FIRST = 0.005
POLL_MAX = 0.1


class SyncStore(Protocol):
    """What a Client needs of a database, as blocking calls that are safe from any thread.
    Every method raises StorageError (one sentence) for database trouble, never a driver error."""

    def insert(self, jobs: Sequence[Job]) -> list[Job]:
        """Store new jobs with their creation events in one transaction; a job whose key is
        held by a live or done job comes back as that job instead."""
        ...

    def find(self, prefix: str) -> Job:
        """The job with this id or unique id fragment; raises NotFound or InvalidInput."""
        ...

    def pruned_at(self, job_id: str) -> float | None:
        """When retention deleted the range holding `job_id`, or None."""
        ...

    def counts(self) -> dict[Status, int]:
        """Jobs per status."""
        ...

    def steps(self, job_id: str) -> list[Step]:
        """The job's memoized steps, in order."""
        ...

    def insert_rerun(self, job: Job, steps: Sequence[Step]) -> Job:
        """Store a rerun that starts with the given memoized steps."""
        ...

    def cancel_queued(self, changes: Sequence[Change], action: Action | None) -> list[bool]:
        """End queued jobs cancelled (compare-and-set each) with the trail row; which took."""
        ...

    def request_cancel(
        self, requests: Sequence[CancelRequest], action: Action | None
    ) -> list[bool]:
        """Ask the workers of running jobs to stop them, with the trail row; which took."""
        ...

    def close(self) -> None:
        """Release the connections; calling it twice is harmless."""
        ...


class Client:
    """Submit jobs and read them back with blocking calls.

    One Client is meant to be shared: it is safe to call from many threads at once (concurrent
    submits share commits), and from a thread whose event loop is running (it never starts or
    needs a loop of its own there). Use it as a context manager, or call `close()`.
    """

    def __init__(
        self,
        store: SyncStore,
        registry: Registry,
        *,
        clock: Callable[[], float] = time.time,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self._store = store
        self._intake = Intake(registry, clock=clock, ids=ids)
        self._closed = threading.Event()

    @property
    def registry(self) -> Registry:
        return self._intake.registry

    # -- writing -------------------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        payload: object,
        *,
        key: str | None = None,
        max_attempts: int | None = None,
        run_at: datetime | float | None = None,
        delay: timedelta | float | None = None,
        priority: int | None = None,
    ) -> Job:
        """Store one job and return it, or the live or done job that already holds its
        idempotency key. A denied job is stored failed with its one reason and never runs.
        `run_at`, `delay` and `priority` mean what they mean to `Engine.submit`.

        Raises NotFound (unknown kind), InvalidInput (bad payload, time or priority),
        StorageError."""
        self._check_open()
        with tracing.submit_span(kind) as span:
            # prepare, not prepare_many: one payload's error names no position, and a web
            # request's one submit skips the list around it.
            job = self._intake.prepare(
                kind,
                payload,
                key=key,
                max_attempts=max_attempts,
                run_at=run_at,
                delay=delay,
                priority=priority,
                trace_context=span.traceparent,
            )
            (stored,) = self._store.insert((job,))
            span.stored((stored,))
        if stored.id == job.id:
            log_transition(stored, None, stored.status)
        return stored

    def submit_many(
        self,
        kind: str,
        payloads: Iterable[object],
        *,
        key: str | None = None,
        max_attempts: int | None = None,
        run_at: datetime | float | None = None,
        delay: timedelta | float | None = None,
        priority: int | None = None,
    ) -> list[Job]:
        """Check every payload first, then store them all in one transaction. One bad payload
        raises InvalidInput naming its position, and nothing is stored."""
        self._check_open()
        with tracing.submit_span(kind) as span:
            prepared = self._intake.prepare_many(
                kind,
                payloads,
                key=key,
                max_attempts=max_attempts,
                run_at=run_at,
                delay=delay,
                priority=priority,
                trace_context=span.traceparent,
            )
            stored = self._store_new(prepared)
            span.stored(stored)
            return stored

    def rerun(self, job_id: str, *, from_step: str | None = None) -> Job:
        """Submit the job's kind and payload again as a new job linked by rerun_of; with
        `from_step`, the steps before it keep their memoized results. Raises NotFound,
        InvalidInput (a step the original does not have)."""
        original = self.get(job_id)
        with tracing.submit_span(original.kind) as span:
            job = self._intake.prepare_rerun(original, trace_context=span.traceparent)
            if from_step is None:
                (stored,) = self._store_new([job])
            else:
                seeds = steps_before(self._store.steps(original.id), from_step)
                stored = self._store.insert_rerun(job, seeds)
                log_transition(stored, None, stored.status)
            span.stored((stored,))
        return stored

    def cancel(self, job_id: str, *, reason: str | None = None, by: str | None = None) -> Job:
        """Cancel one job by the Engine's rule (`Engine.cancel`): a queued job ends failed with
        the reason `cancelled`, a running one is stopped by its worker. Raises NotFound,
        TransitionError (already done or failed), InvalidInput (a reason that is not one line)."""
        text, who = operator_text(reason), actor(by)
        job = self.get(job_id)
        for _ in range(RACE_TRIES):  # a claim or a finish won the race: look again
            step = cancel_step(job, who, text, self._intake.clock())
            if isinstance(step, Change):
                if self._store.cancel_queued([step], step_action(step, who, text))[0]:
                    return cancelled(step, job)
            elif self._store.request_cancel([step], step_action(step, who, text))[0]:
                return cancelled(step, job)
            job = self._store.find(job.id)
        raise kept_changing(job)

    def _store_new(self, prepared: Sequence[Job]) -> list[Job]:
        if not prepared:
            return []
        stored = self._store.insert(prepared)
        for new, got in zip(prepared, stored, strict=True):
            if got.id == new.id:
                log_transition(got, None, got.status)
        return stored

    # -- reading -------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        """The job with this id (or a unique fragment of it). Raises NotFound, saying so when
        retention pruned it."""
        self._check_open()
        try:
            return self._store.find(job_id)
        except NotFound:
            at = self._store.pruned_at(job_id) if len(job_id) == ID_LENGTH else None
            if at is None:
                raise
            raise NotFound(pruned_sentence(job_id, at)) from None

    def wait(self, job_id: str, *, timeout: float | None = None) -> Job:
        """Block until the job is done or failed, and return it. Raises WaitTimeout after
        `timeout` seconds (None waits as long as it takes), InvalidInput for a negative or
        non-finite timeout, NotFound for an unknown job."""
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout < 0
        ):
            raise InvalidInput(f"a wait timeout must be zero or more seconds, not {timeout!r}.")
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = POLL_FIRST
        while True:
            job = self.get(job_id)
            if job.status.finished:
                return job
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeout(
                    f"job {job.id} is still {job.status.value} after {timeout:g} s of waiting."
                )
            # The closed flag doubles as the sleep, so `close()` ends a wait at once.
            if self._closed.wait(pause if left is None else min(pause, left)):
                self._check_open()
            pause = min(pause * 2, POLL_MAX)

    def counts(self) -> dict[Status, int]:
        """How many jobs are in each status."""
        self._check_open()
        return self._store.counts()

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the database connections; later calls raise StorageError."""
        if not self._closed.is_set():
            self._closed.set()
            self._store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise StorageError("the client is closed; connect again to use the database.")


__all__ = ["Client", "SyncStore"]
