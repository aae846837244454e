"""The worker: claim jobs with a lease, run their handlers, classify the outcome, transition.

One asyncio task talks to the store for the jobs: it records the attempts that finished since its
last turn and claims as many jobs as there are free slots, in one transaction (one compare-and-set
and one event per job). Another renews leases, a third watches for cancel requests of the running
jobs (one query every half second on SQLite; woken by NOTIFY on PostgreSQL), and each claimed job
runs in its own task, at most `concurrency` at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from jobdeck.core import tracing
from jobdeck.core.contract import (
    Fail,
    Fault,
    Job,
    Outcome,
    Release,
    Requeue,
    Status,
    Succeed,
    attempt_outcome,
    event_reason,
    transition,
)
from jobdeck.core.control import request_reason
from jobdeck.core.engine import Engine, log_transition
from jobdeck.core.errors import JobdeckError, StoreUnavailable
from jobdeck.core.outage import Outage
from jobdeck.core.registry import Kind
from jobdeck.core.retention import DEFAULT as DEFAULT_RETENTION
from jobdeck.core.retention import Retainer, Retention
from jobdeck.core.retry import (
    DEFAULT_POLICY,
    Backoff,
    Failure,
    Terminal,
    classify,
    decide,
    injected,
)
from jobdeck.core.steps import CompensateFn, InjectedFault, LeaseLost, StepFn, StepRunner
from jobdeck.core.store import CancelRequest, Change, Claimed
from jobdeck.core.system import MINUTE, RecentCounts, WorkerInfo
from jobdeck.core.ticker import Ticker

log = logging.getLogger("jobdeck.worker")

JOB_LOG = logging.getLogger("jobdeck.job")
FLUSH_GROUP = 64
# Consecutive failed claims (about 6 s of back-off) before the worker stops; an unreachable store
# (StoreUnavailable) is not counted: it is waited out for as long as it lasts.
CLAIM_RETRIES = 6
# How often a worker with running jobs asks the store for their cancel requests, when the store
# cannot tell it (SQLite): a cancel reaches the handler within this plus one query.
CANCEL_POLL = 0.5


@dataclass
class JobContext:
    """What a handler receives beside its payload: the job, and durable steps."""

    job: Job
    worker: str
    runner: StepRunner
    log: logging.Logger = field(default_factory=lambda: JOB_LOG)

    @property
    def attempt(self) -> int:
        return self.job.attempt

    async def step(self, name: str, fn: StepFn, *, compensate: CompensateFn | None = None) -> Any:
        """Run `fn` (sync or async, returning JSON) once per job across attempts and return its
        result; on a retry the stored result comes back without running `fn` again. When the
        job ends failed, `compensate(result)` runs for each completed step, newest first."""
        return await self.runner.step(name, fn, compensate=compensate)


@dataclass
class WorkerStats:
    claimed: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0
    lost: int = 0
    released: int = 0
    cancelled: int = 0
    late: int = 0  # finished attempts refused because their lease had moved on (e.g. an outage)
    outages: int = 0  # times the store was unreachable


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(2).hex()}"


class Worker:
    """Run jobs of `kinds` (all registered kinds by default) from the engine's store.

    `lease` is the lease length in seconds; heartbeats renew it every third of it. With `burst`
    the worker returns once nothing is queued or running. `grace` bounds how long shutdown waits
    for running handlers before it cancels them and releases their jobs back to the queue.
    `retention` says which finished jobs the worker prunes while it holds the retention lease
    (see `jobdeck.core.retention`); a burst worker never prunes.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        concurrency: int = 4,
        lease: float = 30.0,
        burst: bool = False,
        kinds: Sequence[str] = (),
        name: str | None = None,
        poll: float = 0.05,
        grace: float = 10.0,
        retention: Retention = DEFAULT_RETENTION,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.engine = engine
        self.store = engine.store
        self.concurrency = concurrency
        self.lease = lease
        self.burst = burst
        self.kinds = [engine.registry.get(k).name for k in kinds]
        engine.registry.check_schedules()
        self.ticker = Ticker(
            engine,
            [e for e in engine.registry.schedules() if not self.kinds or e.kind in self.kinds],
        )
        self.name = name or worker_name()
        self.poll = poll
        self.grace = grace
        self.stats = WorkerStats()
        self.retainer = Retainer(engine, self.name, retention)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._finished: asyncio.Queue[Change] = asyncio.Queue()
        self._slot_free = asyncio.Event()
        self._lost: set[str] = set()
        self._cancelling: dict[str, CancelRequest] = {}  # asked to stop; the handler is told
        self._honoured: set[str] = set()  # stopping: compensations and the failure under way
        self._looked_at: float | None = None  # when the last claim read the queue
        self.started_at = engine.clock()  # set again when `run` starts
        self.recent = RecentCounts()  # what the heartbeat reports as done_5m / failed_5m
        self._folded_at = -math.inf  # when this worker last asked the store to fold the rollup
        self.outage = Outage()

    async def run(self, stop: asyncio.Event | None = None) -> WorkerStats:
        """Work until `stop` is set (or, with burst, until the queue is drained)."""
        stop = stop or asyncio.Event()
        self.started_at = self.engine.clock()
        await self.store.register_worker(self.info(), self.started_at)
        limits = self.engine.registry.limits(self.kinds)
        await self.store.declare_limits(self.name, limits, self.engine.clock())
        await self.ticker.start()
        beat = asyncio.create_task(self._heartbeat(stop), name="jobdeck-heartbeat")
        watch = asyncio.create_task(self._watch_cancels(), name="jobdeck-cancels")
        background = [beat, watch]
        if not self.burst and not self.retainer.retention.off:
            retain = self.retainer.run(stop)
            background.append(asyncio.create_task(retain, name="jobdeck-retention"))
        try:
            await self._claim_loop(stop)
        finally:
            for task in background[2:]:  # a prune round under way is not worth waiting for
                task.cancel()
            await self._drain()
            beat.cancel()
            watch.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self._flush_before_exit()
            try:
                await self.store.forget_worker(self.name)
            except JobdeckError as err:
                log.warning("could not deregister worker %s: %s", self.name, err)
            self.stats.outages = self.outage.count
        return self.stats

    def info(self) -> WorkerInfo:
        """What this worker registers in the database as it starts."""
        return WorkerInfo(
            name=self.name,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=jobdeck_version(),
            started_at=self.started_at,
            lease=self.lease,
            concurrency=self.concurrency,
            kinds=tuple(self.kinds or self.engine.registry.names()),
        )

    # -- claiming ------------------------------------------------------------------------------
    async def _claim_loop(self, stop: asyncio.Event) -> None:
        last_recover = time.monotonic()
        failures = 0
        while not stop.is_set():
            await self._tick()
            free = self.concurrency - len(self._running)
            finished = self._take(FLUSH_GROUP)
            claimed: list[Claimed] = []
            if free > 0 or finished:
                try:
                    self._looked_at = self.engine.clock()
                    applied, claimed = await self.outage.call(
                        self.engine.apply_and_claim(
                            finished, self.name, self.kinds, max(free, 0), self.lease
                        )
                    )
                    failures = 0
                except StoreUnavailable:
                    # The server restarts or dropped the connection: keep the finished attempts
                    # (their compare-and-set decides, once it is back, whether they still
                    # count) and try again, for as long as it takes; logged once per outage.
                    for change in finished:
                        self._finished.put_nowait(change)
                    await self.outage.pause()
                    continue
                except JobdeckError as err:
                    # Locked past the bound, or the database went away for a moment: keep the
                    # finished attempts, wait and try again; a trouble that lasts stops the
                    # worker with its sentence.
                    for change in finished:
                        self._finished.put_nowait(change)
                    failures += 1
                    if failures > CLAIM_RETRIES:
                        raise
                    log.warning("claim failed (%s); trying again", err)
                    await asyncio.sleep(min(5.0, self.poll * 2**failures))
                    continue
                self._count_late(finished, applied)
                for c in claimed:
                    self._start(c)
            if claimed or not self._finished.empty():
                continue
            if free > 0:
                if time.monotonic() - last_recover >= min(1.0, self.lease / 3):
                    last_recover = time.monotonic()
                    await self._recover()
                if self.burst and not self._running and await self._drained():
                    return
            await self._wait(stop, free > 0)

    async def _tick(self) -> None:
        """Make the jobs of the schedules' due ticks; trouble is logged and tried again."""
        try:
            # Not through `outage.call`: a turn with nothing due reads nothing, so its success
            # would not mean the store is back.
            await self.ticker.run_due(self.engine.clock())
        except StoreUnavailable as err:
            self.outage.failed(err)  # logged once per outage; the next turn tries again
        except JobdeckError as err:
            log.warning("could not make the jobs of due schedules (%s); trying again", err)

    async def _wait(self, stop: asyncio.Event, idle: bool) -> None:
        """Sleep until a slot frees, a local submit happens, `stop` is set, the poll ends, the
        earliest queued job becomes due, or a schedule's next tick comes."""
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._slot_free.wait()),
        ]
        timeout = self.poll
        now = self.engine.clock()
        if idle:
            waiters.append(asyncio.ensure_future(self.engine.submitted.wait()))
            if self.store.notifies:
                # The store hears of new jobs (LISTEN/NOTIFY): wait long instead of polling.
                timeout = max(self.poll, min(1.0, self.lease / 3))
            if self.ticker.next_due is not None:
                timeout = max(0.0, min(timeout, self.ticker.next_due - now))
            # Returns early when a job scheduled for later becomes due within the timeout.
            hint = self.store.wait_for_jobs(now, timeout, looked_at=self._looked_at)
            waiters.append(asyncio.ensure_future(hint))
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        self._slot_free.clear()
        self.engine.submitted.clear()

    async def _recover(self) -> None:
        """Requeue the jobs whose leases ran out; trouble is logged and tried next time."""
        try:
            await self.outage.call(self.engine.recover())
        except StoreUnavailable:
            pass  # logged once per outage
        except JobdeckError as err:
            log.warning("could not recover expired leases (%s); trying again", err)

    async def _drained(self) -> bool:
        """Whether nothing this worker could run is queued or running (burst mode's exit); the
        queued jobs of a paused kind do not count. False while the store is unreachable."""
        try:
            return await self.outage.call(self._nothing_left())
        except StoreUnavailable:
            await self.outage.pause()
            return False

    async def _nothing_left(self) -> bool:
        if not await self._flush_all():
            raise StoreUnavailable("the finished attempts could not be recorded yet.")
        paused = {p.kind for p in await self.store.paused_kinds()}
        if not self.kinds and not paused:
            counts = await self.store.counts()
            return not any(counts[s] for s in counts if not s.finished)
        if not self.kinds and (await self.store.counts())[Status.RUNNING]:
            return False
        kinds = [k for k in self.kinds or self.engine.registry.names() if k not in paused]
        for status in (Status.QUEUED, Status.RUNNING):
            for kind in kinds:
                if (await self.store.page(status, kind=kind, limit=1)).jobs:
                    return False
        return True

    # -- running -------------------------------------------------------------------------------
    def _start(self, claimed: Claimed) -> None:
        job = claimed.job
        self.stats.claimed += 1
        log_transition(job, Status.QUEUED, Status.RUNNING)
        task = asyncio.create_task(self._run(claimed), name=f"jobdeck-job-{job.id}")
        self._running[job.id] = task

    async def _run(self, claimed: Claimed) -> None:
        with tracing.attempt_span(claimed.job):
            await self._attempt(claimed)

    async def _attempt(self, claimed: Claimed) -> None:
        job = claimed.job
        kind: Kind | None = None
        runner: StepRunner | None = None
        try:
            kind = self.engine.registry.get(job.kind)
            runner = await self._runner(job, claimed.fault)
            if claimed.fault is not None and runner.fault is None:
                failure: Failure | None = injected(claimed.fault)
                result: Any = None
            else:
                result, failure = await self._call(kind, job, runner)
            if job.id in self._cancelling:
                # The handler caught the cancel and returned (or raised something else): the
                # operator's cancel still decides the outcome.
                await self._cancelled(job, kind, runner)
                return
            await self._finish(job, kind, result, failure, runner)
        except asyncio.CancelledError:
            if job.id in self._cancelling and job.id not in self._lost:
                await self._cancelled(job, kind, runner)
                return
            if job.id in self._lost:
                self.stats.lost += 1
                tracing.attempt_ended(Outcome.LOST_LEASE, None)
                log.warning(
                    "job %s: lease lost on attempt %d, handler cancelled", job.id, job.attempt
                )
            else:
                self._queue(job, Release(self.engine.clock()))
                self.stats.released += 1
            raise
        except LeaseLost as err:
            self.stats.lost += 1
            tracing.attempt_ended(Outcome.LOST_LEASE, None)
            log.warning("%s", err)
        except StoreUnavailable as err:
            # Its steps or compensations could not be read or recorded: the attempt is left to
            # its lease, whose recovery runs it again (at least once, as after a crash).
            self.outage.failed(err)
            self.stats.lost += 1
            log.info("job %s: attempt %d abandoned, the store is unreachable", job.id, job.attempt)
        except JobdeckError as err:  # e.g. the kind is not registered in this worker
            failure = classify(Terminal(str(err), code="unknown_kind"))
            await self._finish(job, None, None, failure, None)
        except Exception:
            # A bug of jobdeck's own: say so loudly; the lease expires and recovery retries it.
            log.exception("job %s: the worker failed to finish attempt %d", job.id, job.attempt)
        finally:
            self._running.pop(job.id, None)
            self._cancelling.pop(job.id, None)
            self._honoured.discard(job.id)
            self._slot_free.set()

    async def _runner(self, job: Job, fault: Fault | None) -> StepRunner:
        """The attempt's step context. Only a retry or a rerun can have stored steps, so a
        first attempt of a new job costs no read."""
        memo = {}
        if job.attempt > 1 or job.rerun_of is not None:
            memo = {s.name: s for s in await self.store.steps(job.id)}
        # A fault at a named step, or one arriving after steps already ran, fires inside the
        # handler so the steps before it register their compensations; any other fires now.
        deferred = fault is not None and (fault.at_step is not None or bool(memo))
        return StepRunner(
            job=job,
            store=self.store,
            clock=self.engine.clock,
            to_json=to_json,
            memo=memo,
            fault=fault if deferred else None,
        )

    async def _call(self, kind: Kind, job: Job, runner: StepRunner) -> tuple[Any, Failure | None]:
        ctx = JobContext(job=job, worker=self.name, runner=runner)
        deadline = asyncio.timeout(kind.timeout)
        try:
            payload = kind.payload.model_validate(job.payload)
            async with deadline:
                result = await kind.handler(ctx, payload)
            runner.before_return()
            return to_json(result), None
        except (LeaseLost, StoreUnavailable):
            raise  # a step could not be recorded: not the handler's failure
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the worker is cancelling this attempt (shutdown or a lost lease)
            # The handler raised CancelledError itself: a failure like any other, not a release.
            failure = classify(Terminal("the handler raised CancelledError", code="cancelled"))
            return None, failure
        except InjectedFault as exc:
            return None, injected(exc.fault)
        except ValidationError as exc:
            return None, classify(Terminal(f"the payload no longer validates: {exc}"), kind.policy)
        except BaseException as exc:  # noqa: BLE001 - a handler's failure is data, never fatal
            if isinstance(exc, TimeoutError) and deadline.expired():
                message = f"The handler ran past its {kind.timeout:g} s timeout."
                return None, Failure("timeout", message, True, evidence={"timeout": kind.timeout})
            return None, classify(exc, kind.policy)

    async def _finish(
        self,
        job: Job,
        kind: Kind | None,
        result: Any,
        failure: Failure | None,
        runner: StepRunner | None,
    ) -> None:
        now = self.engine.clock()
        if failure is None:
            self.stats.done += 1
            self._queue(job, Succeed(result, now))
            return
        backoff = kind.backoff if kind else Backoff()
        decision = decide(job, failure, now=now, backoff=backoff, rng=self.engine.rng)
        if decision.retry:
            self.stats.retried += 1
            self._queue(job, Requeue(decision.reason, decision.run_after or now, now))
            return
        if runner is not None and any(fn for _, fn in runner.completed):
            # Undo what the completed steps did before the failure becomes final; the job's
            # reason stays the original cause, each compensation is recorded beside it.
            await runner.compensate(self.engine.rng, kind.policy if kind else DEFAULT_POLICY)
        self.stats.failed += 1
        self._queue(job, Fail(decision.reason, self.engine.clock()))

    async def _cancelled(self, job: Job, kind: Kind | None, runner: StepRunner | None) -> None:
        """End a job an operator cancelled: compensate its completed steps, newest first, then
        record it failed with the cancel as its one reason."""
        self._honoured.add(job.id)  # the watcher stops cancelling this task
        task = asyncio.current_task()
        while task is not None and task.cancelling():
            task.uncancel()  # the cancel is handled here; the compensations must be able to run
        reason = request_reason(self._cancelling[job.id])
        try:
            if runner is not None and any(fn for _, fn in runner.completed):
                await runner.compensate(self.engine.rng, kind.policy if kind else DEFAULT_POLICY)
        except LeaseLost as err:
            self.stats.lost += 1
            log.warning("%s", err)
            return
        except JobdeckError as err:  # the lease runs out and recovery records the cancel
            log.error("job %s: could not compensate the cancelled attempt: %s", job.id, err)
            return
        self.stats.failed += 1
        self.stats.cancelled += 1
        log.info("job %s: cancelled on attempt %d", job.id, job.attempt)
        self._queue(job, Fail(reason, self.engine.clock()))

    def _queue(self, job: Job, event: Succeed | Fail | Requeue | Release) -> None:
        if isinstance(event, Succeed | Fail):
            self.recent.add(event.at, failed=isinstance(event, Fail))
        change = Change(job, transition(job, event), attempt_outcome(event), event_reason(event))
        tracing.attempt_ended(change.outcome, change.reason)
        self._finished.put_nowait(change)

    # -- leases --------------------------------------------------------------------------------
    async def _heartbeat(self, stop: asyncio.Event) -> None:
        period = self.lease / 3
        while True:
            await asyncio.sleep(period)
            now = self.engine.clock()
            ids = list(self._running)
            try:
                held = await self.outage.call(self._beat(ids, now))
            except StoreUnavailable:
                continue  # logged once per outage; leases that end meanwhile are lost
            except JobdeckError as err:
                log.warning("heartbeat failed: %s", err)
                continue
            for job_id in set(ids) - held:
                task = self._running.get(job_id)
                if task is not None:
                    self._lost.add(job_id)
                    task.cancel()

    async def _beat(self, ids: list[str], now: float) -> set[str]:
        """Tell the registry this worker lives, with what it finished in the last 5 minutes
        (registering again when its row was dropped), once a minute let the store fold the
        rollup's old buckets, recover expired leases, renew this worker's; returns the ids whose
        leases it still holds."""
        done, failed = self.recent.totals(now)
        if not await self.store.beat_worker(self.name, now, done, failed):
            await self.store.register_worker(self.info(), now)
        if now - self._folded_at >= MINUTE:
            self._folded_at = now
            await self.store.fold_rollup(now)
        await self.engine.recover()
        if not ids:
            return set()
        return await self.store.heartbeat(self.name, ids, now + self.lease, now)

    # -- cancel requests -----------------------------------------------------------------------
    async def _watch_cancels(self) -> None:
        """Cancel the handler of each running job an operator asked to stop: every CANCEL_POLL
        seconds one query for all of them, or at once when the store hears of a request
        (PostgreSQL). A handler that swallows the cancel is cancelled again at each look."""
        within = CANCEL_POLL if not self.store.notifies else max(CANCEL_POLL, self.lease / 3)
        while True:
            await self.store.wait_for_cancels(within)
            ids = [job_id for job_id in self._running if job_id not in self._honoured]
            if not ids:
                continue
            try:
                requests = await self.outage.call(self.store.cancel_requests(ids))
            except StoreUnavailable:
                continue  # logged once per outage
            except JobdeckError as err:
                log.warning("could not read cancel requests: %s", err)
                continue
            for request in requests:
                task = self._running.get(request.job_id)
                if task is None or request.job_id in self._honoured:
                    continue
                self._cancelling[request.job_id] = request
                task.cancel()

    # -- recording finished attempts outside the claim loop ------------------------------------
    async def _flush_all(self) -> bool:
        """Record every finished attempt; False (they are kept) when the store is unreachable."""
        while group := self._take(FLUSH_GROUP):
            if not await self._flush(group):
                return False
        return True

    async def _flush_before_exit(self) -> None:
        """Record the finished attempts before the worker stops, waiting up to `grace` for an
        unreachable store; what is left then is run again after its lease ends."""
        deadline = time.monotonic() + self.grace
        while not await self._flush_all() and time.monotonic() < deadline:
            await self.outage.pause()
        if left := self._take(self._finished.qsize()):
            log.error(
                "could not record %d finished attempts before stopping: the store is "
                "unreachable; their jobs run again once their leases end",
                len(left),
            )

    def _take(self, n: int) -> list[Change]:
        out: list[Change] = []
        while len(out) < n and not self._finished.empty():
            out.append(self._finished.get_nowait())
        return out

    async def _flush(self, changes: list[Change]) -> bool:
        try:
            applied = await self.outage.call(self.engine.apply(changes))
        except StoreUnavailable:
            for change in changes:  # kept for the next try; the compare-and-set decides then
                self._finished.put_nowait(change)
            return False
        except JobdeckError as err:
            # The lease will expire and recovery will requeue these jobs: at-least-once holds.
            log.error("could not record %d finished attempts: %s", len(changes), err)
            return True
        self._count_late(changes, applied)
        return True

    def _count_late(self, changes: Sequence[Change], applied: Sequence[bool]) -> None:
        """Count and log (one line) the finished attempts whose compare-and-set lost: their
        lease had moved on, as after an outage longer than the lease."""
        late = [c for c, ok in zip(changes, applied, strict=True) if not ok]
        if not late:
            return
        self.stats.late += len(late)
        shown = ", ".join(f"{c.before.id} attempt {c.before.attempt}" for c in late[:3])
        more = f" and {len(late) - 3} more" if len(late) > 3 else ""
        log.warning(
            "%d finished attempt(s) not recorded, their leases had moved on: %s%s",
            len(late),
            shown,
            more,
        )

    async def _drain(self) -> None:
        """Let running handlers finish within `grace`, recording each as it ends, then cancel
        and release the rest."""
        pending = set(self._running.values())
        deadline = asyncio.get_running_loop().time() + self.grace
        while pending:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            _, pending = await asyncio.wait(
                pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            await self._flush_all()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def jobdeck_version() -> str:
    """The installed jobdeck's version, or "unknown" when it is not installed (a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jobdeck")
    except PackageNotFoundError:
        return "unknown"


def to_json(result: Any) -> Any:
    """A handler's result as plain JSON data; raises Terminal when it is not JSON."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    copied = _plain_copy(result)
    if copied is not _NOT_PLAIN:
        return copied  # what the round trip returns, without it: most results are small
    try:
        return json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise Terminal(
            f"the handler returned a value that is not JSON: {err}",
            code="non_json_result",
            result_type=type(result).__name__,
        ) from None


_SCALARS = (str, int, bool, type(None))
_NOT_PLAIN = object()


def _plain_copy(value: Any, depth: int = 0) -> Any:
    """A copy of small JSON data made of exact dicts with text keys, lists, text, ints, finite
    floats, booleans and None (what the round trip would return), else _NOT_PLAIN. A copy, so a
    handler that changes its result object later cannot change what gets recorded."""
    kind = type(value)
    if kind in _SCALARS or (kind is float and math.isfinite(value)):
        return value
    if depth >= 4 or kind not in (dict, list) or len(value) > 32:
        return _NOT_PLAIN
    if kind is list:
        items = [_plain_copy(v, depth + 1) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    out = {}
    for k, v in value.items():
        copied = _plain_copy(v, depth + 1)
        if type(k) is not str or copied is _NOT_PLAIN:
            return _NOT_PLAIN
        out[k] = copied
    return out


__all__ = ["JobContext", "Worker", "WorkerStats", "to_json"]
