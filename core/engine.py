"""The engine facade: the one set of operations the CLI, the monitor and user programs call.

The engine decides (gates, transitions, retry decisions, verdicts) with pure functions and hands
the results to a `Store`, which applies them with compare-and-set. It never builds SQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from jobdeck.core import tracing
from jobdeck.core.contract import (
    Attempt,
    Deny,
    Event,
    Fail,
    Fault,
    Job,
    Reason,
    Requeue,
    Status,
    Step,
    attempt_outcome,
    event_reason,
    transition,
)
from jobdeck.core.control import ActionName, Control, actor, operator_text, request_reason
from jobdeck.core.derived import RetryExplanation, explain, pruned_sentence
from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.core.gates import GateContext, first_failure
from jobdeck.core.ids import ID_LENGTH, new_id
from jobdeck.core.limits import LimitState, check_priority
from jobdeck.core.registry import Registry
from jobdeck.core.rerun import RerunReport, verdict
from jobdeck.core.retention import BATCH as PRUNE_BATCH
from jobdeck.core.retry import Backoff, lost_lease
from jobdeck.core.schedule import Schedule, run_after, tick_key
from jobdeck.core.steps import STEP_NAME, steps_before
from jobdeck.core.store import Change, Claimed, Page, Pruned, Record, ScheduleState, Store
from jobdeck.core.system import (
    STATS_WINDOW,
    KindStats,
    WorkerState,
    kind_stats,
    stats_edges,
    throughput,
    throughput_edges,
)

log = logging.getLogger("jobdeck")

MAX_PAYLOAD_BYTES = 1_048_576
MAX_PAYLOAD_DEPTH = 32


# One encoder for every payload: `json.dumps` with options builds a new one per call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, and no NaN or Infinity (they are not JSON)."""
    return _CANONICAL.encode(value)


def default_key(kind: str, payload: Mapping[str, Any], canonical: str | None = None) -> str:
    """The idempotency key of a submit that names none: a hash of kind and canonical payload."""
    text = canonical if canonical is not None else canonical_json(payload)
    digest = hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()
    return f"auto:{digest[:32]}"


def check_payload(payload: object) -> dict[str, Any]:
    """Reject what is not a JSON object within the documented limits; raises InvalidInput."""
    return _checked(payload)[0]


def _checked(payload: object) -> tuple[dict[str, Any], str]:
    """The payload and its canonical JSON text, or InvalidInput."""
    if not isinstance(payload, dict):
        raise InvalidInput(f"a payload must be a JSON object, not {_json_type(payload)}.")
    try:
        text = _CANONICAL.encode(payload)
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"the payload is not plain JSON data: {err}.") from None
    if text.isascii():  # one byte a character, no surrogate: nothing to encode to know
        size, utf8 = len(text), True
    else:
        try:
            size, utf8 = len(text.encode("utf-8")), True
        except UnicodeEncodeError:
            size, utf8 = len(text.encode("utf-8", "surrogatepass")), False
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidInput(
            f"the payload is {size:,} bytes; the limit is {MAX_PAYLOAD_BYTES:,} bytes."
        )
    # The text shows when the walk can find nothing: a NUL anywhere is escaped as \u0000 in it,
    # a lone surrogate makes it fail to encode, and nesting deeper than the limit needs more
    # brackets than the limit. Only then walk the payload for the exact complaint.
    if (
        not utf8
        or "\\u0000" in text
        or (len(text) > MAX_PAYLOAD_DEPTH and text.count("{") + text.count("[") > MAX_PAYLOAD_DEPTH)
    ):
        _check_tree(payload)
    return payload, text


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "that value")


def _check_tree(value: object) -> None:
    """Walk the payload level by level: bounded depth, and no NUL or invalid UTF-8 in any text."""
    depth, level = 0, [value]
    while level:
        depth += 1
        if depth > MAX_PAYLOAD_DEPTH + 1:
            raise InvalidInput(f"the payload nests deeper than {MAX_PAYLOAD_DEPTH} levels.")
        nxt: list[object] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
                nxt.extend(item.keys())
            elif isinstance(item, list):
                nxt.extend(item)
            elif isinstance(item, str):
                _check_text(item)
        level = nxt


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise InvalidInput("the payload contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("the payload contains text that is not valid UTF-8.") from None


@dataclass(frozen=True)
class LineageNode:
    """A job in a rerun tree, its verdict against its parent, and its own reruns.
    `original_pruned` is set on the root only: it is a rerun whose original retention pruned."""

    job: Job
    verdict: RerunReport | None
    reruns: list[LineageNode] = field(default_factory=list)
    original_pruned: bool = False


@dataclass(frozen=True)
class JobDetail:
    """Everything the detail screen and `show` need about one job."""

    job: Job
    attempts: list[Attempt]
    reruns: list[tuple[Job, RerunReport | None]] = field(default_factory=list)
    original: Job | None = None
    verdict: RerunReport | None = None
    retry: RetryExplanation | None = None
    steps: list[Step] = field(default_factory=list)
    lineage: LineageNode | None = None

    @property
    def explanation(self) -> str:
        """The retry decision as one sentence."""
        return self.retry.sentence if self.retry else ""


class Intake:
    """The pure half of submitting: a kind and payloads become the jobs a store should hold
    (queued, or failed with the first gate's reason). The async `Engine` and the synchronous
    `Client` both submit through it, so the rules are written once.

    `clock`, `ids` and `rng` are injectable so tests and screenshots are deterministic.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        clock: Callable[[], float] = time.time,
        ids: Callable[[], str] = new_id,
        rng: random.Random | None = None,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.ids = ids
        self.rng = rng or random.Random()

    # -- writing -------------------------------------------------------------------------------
    def prepare(
        self,
        kind: str,
        payload: object,
        *,
        key: str | None = None,
        max_attempts: int | None = None,
        rerun_of: str | None = None,
        run_at: datetime | float | None = None,
        delay: timedelta | float | None = None,
        priority: int | None = None,
        trace_context: str | None = None,
    ) -> Job:
        """Build the job a submit would store: queued, or failed with the first gate's reason.

        Pure apart from the clock and id source. With `run_at` or `delay` the job stays queued
        until then (see `schedule.run_after`); `priority` (default: the kind's) orders it
        among ready jobs; `trace_context` is the submit span's traceparent (`core.tracing`).
        Raises NotFound for an unknown kind and InvalidInput for a payload that is not a JSON
        object within the limits, a bad time or a bad priority.
        """
        spec = self.registry.get(kind)
        body, canonical = _checked(payload)
        level = spec.priority if priority is None else check_priority(priority)
        if max_attempts is not None and not 1 <= max_attempts <= 1000:
            raise InvalidInput(f"max attempts must be between 1 and 1000, not {max_attempts}.")
        if key is not None and not 0 < len(key) <= 200:
            raise InvalidInput("an idempotency key must be 1 to 200 characters long.")
        now = self.clock()
        due = (
            now if run_at is None and delay is None else run_after(now, run_at=run_at, delay=delay)
        )
        try:
            job = Job(
                id=self.ids(),
                kind=kind,
                payload=body,
                idempotency_key=key or default_key(kind, body, canonical),
                rerun_of=rerun_of,
                max_attempts=max_attempts or spec.max_attempts,
                created_at=now,
                updated_at=now,
                run_after=due,
                priority=level,
                trace_context=trace_context,
            )
        except ValidationError as err:  # e.g. a key that is not a string: JSON keys are text
            first = err.errors()[0]
            raise InvalidInput(f"the payload is not plain JSON data: {first['msg']}.") from None
        verdict_ = first_failure(spec.gates, body, GateContext(kind=kind, now=now))
        if not verdict_.ok and verdict_.reason is not None:
            return transition(job, Deny(verdict_.reason, now))
        return job

    def prepare_many(
        self,
        kind: str,
        payloads: Iterable[object],
        *,
        key: str | None = None,
        max_attempts: int | None = None,
        run_at: datetime | float | None = None,
        delay: timedelta | float | None = None,
        priority: int | None = None,
        trace_context: str | None = None,
    ) -> list[Job]:
        """`prepare` each payload; one bad payload raises InvalidInput naming its position."""
        items = list(payloads)
        prepared: list[Job] = []
        if run_at is not None or delay is not None:
            run_after(self.clock(), run_at=run_at, delay=delay)  # a bad time names no payload
        if priority is not None:
            check_priority(priority)  # nor does a bad priority
        for i, payload in enumerate(items, start=1):
            try:
                prepared.append(
                    self.prepare(
                        kind,
                        payload,
                        key=key,
                        max_attempts=max_attempts,
                        run_at=run_at,
                        delay=delay,
                        priority=priority,
                        trace_context=trace_context,
                    )
                )
            except InvalidInput as err:
                if len(items) == 1:
                    raise
                raise InvalidInput(f"payload {i}: {err}") from None
        return prepared

    def prepare_rerun(self, original: Job, *, trace_context: str | None = None) -> Job:
        """The new job a rerun of `original` stores: same kind, payload, key and attempts,
        linked by rerun_of (a rerun is never deduplicated against its original), at its
        priority; `trace_context` is the rerun's own submit span's, never the original's."""
        return self.prepare(
            original.kind,
            original.payload,
            key=original.idempotency_key,
            max_attempts=original.max_attempts,
            rerun_of=original.id,
            priority=original.priority,
            trace_context=trace_context,
        )


class Engine(Intake, Control):
    """Submit, rerun, arm faults, cancel, pause and read jobs over one store with one registry."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        clock: Callable[[], float] = time.time,
        ids: Callable[[], str] = new_id,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(registry, clock=clock, ids=ids, rng=rng)
        self.store = store
        self.submitted = asyncio.Event()

    async def submit(
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
        """Store one job and return it, or the existing live/done job with the same key.

        A denied job is stored failed with its one reason and never runs. `run_at` (an aware
        datetime or epoch seconds) or `delay` (a timedelta or seconds) keeps it queued until
        then; a time in the past runs as soon as a worker is free. `priority` (-100 to 100,
        default: the kind's, else 0) puts it ahead of ready jobs of lower priority.
        Raises NotFound (unknown kind), InvalidInput (bad payload, time or priority),
        StorageError.
        """
        (job,) = await self.submit_many(
            kind,
            [payload],
            key=key,
            max_attempts=max_attempts,
            run_at=run_at,
            delay=delay,
            priority=priority,
        )
        return job

    async def submit_many(
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
        """Validate every payload first, then store them all in one transaction; `run_at`,
        `delay` and `priority` apply to each (see `submit`).

        One bad payload raises InvalidInput (naming its position) and stores nothing.
        """
        with tracing.submit_span(kind) as span:
            prepared = self.prepare_many(
                kind,
                payloads,
                key=key,
                max_attempts=max_attempts,
                run_at=run_at,
                delay=delay,
                priority=priority,
                trace_context=span.traceparent,
            )
            stored = await self._store_new(prepared)
            span.stored(stored)
            return stored

    async def _store_new(self, prepared: Sequence[Job]) -> list[Job]:
        if not prepared:
            return []
        stored = await self.store.insert(prepared)
        for new, got in zip(prepared, stored, strict=True):
            if got.id == new.id:
                log_transition(got, None, got.status)
        self.submitted.set()
        return stored

    async def rerun(self, job_id: str, *, from_step: str | None = None) -> Job:
        """Submit the same kind and payload again as a new job linked by rerun_of (no dedupe).

        With `from_step`, the rerun starts with the original's memoized results of the steps
        before that one, so only that step and the ones after it run. Raises NotFound for an
        unknown job and InvalidInput for a step the original does not have.
        """
        original = await self.get(job_id)
        with tracing.submit_span(original.kind) as span:
            job = self.prepare_rerun(original, trace_context=span.traceparent)
            if from_step is None:
                (stored,) = await self._store_new([job])
            else:
                seeds = steps_before(await self.store.steps(original.id), from_step)
                stored = await self.store.insert_rerun(job, seeds)
                log_transition(stored, None, stored.status)
                self.submitted.set()
            span.stored((stored,))
        return stored

    async def retry_group(self, reason_code: str, *, limit: int = 1000) -> list[Job]:
        """Rerun every failed job whose reason has this code (up to `limit`)."""
        failed = await self.store.failed_with(reason_code, limit)
        if not failed:
            raise NotFound(f"no failed job has the reason {reason_code!r}.")
        return [await self.rerun(job.id) for job in failed]

    async def arm_fault(
        self,
        *,
        job_id: str | None = None,
        kind: str | None = None,
        retryable: bool = False,
        times: int = 1,
        reason: str | None = None,
        at_step: str | None = None,
    ) -> Fault:
        """Make the next `times` attempts of a job (or of every job of a kind) fail on purpose.

        The failure is tagged `injected`. Raises NotFound for an unknown job or kind and
        InvalidInput when neither or both are named, or when the job already finished.
        """
        if (job_id is None) == (kind is None):
            raise InvalidInput("name either a job id or a kind to arm a fault on.")
        if not 1 <= times <= 1000:
            raise InvalidInput(f"a fault fires 1 to 1000 times, not {times}.")
        if job_id is not None:
            job = await self.store.find(job_id)
            if job.status.finished:
                raise InvalidInput(f"job {job.id} is already {job.status.value}; rerun it instead.")
            job_id = job.id
        if kind is not None:
            self.registry.get(kind)
        if at_step is not None and not STEP_NAME.match(at_step):
            raise InvalidInput(f"{at_step!r} is not a step name (letters, digits, _ . : -).")
        text = (reason or "").strip() or "failure injected by an operator"
        if len(text) > 500 or any(ord(c) < 32 for c in text):
            raise InvalidInput("a fault reason is one line of at most 500 characters.")
        fault = Fault(
            job_id=job_id,
            kind=kind,
            retryable=retryable,
            times=times,
            remaining=times,
            reason=text,
            at_step=at_step,
            created_at=self.clock(),
        )
        return await self.store.arm_fault(fault)

    async def apply(self, changes: Sequence[Change]) -> list[bool]:
        """Apply transitions through the store and log each one that landed."""
        applied = await self.store.apply(changes)
        _log_applied(changes, applied)
        return applied

    async def apply_and_claim(
        self,
        changes: Sequence[Change],
        worker: str,
        kinds: Sequence[str],
        limit: int,
        lease_seconds: float,
    ) -> tuple[list[bool], list[Claimed]]:
        """`apply(changes)` and claim up to `limit` jobs for `worker` in one store transaction."""
        applied, claimed = await self.store.apply_and_claim(
            changes, worker, kinds, limit, self.clock(), lease_seconds
        )
        _log_applied(changes, applied)
        return applied, claimed

    async def recover(self, *, limit: int = 100) -> int:
        """Return jobs whose worker stopped renewing its lease to the queue (or fail them when
        their attempts are spent). Any process may call this; the CAS makes it safe."""
        now = self.clock()
        expired = await self.store.expired(now, limit)
        # A job an operator asked to cancel ends cancelled, never back in the queue.
        cancels = {r.job_id: r for r in await self.store.cancel_requests([j.id for j in expired])}
        changes = []
        for job in expired:
            if job.id in cancels:
                event: Requeue | Fail = Fail(request_reason(cancels[job.id]), now)
                changes.append(
                    Change(
                        job,
                        transition(job, event),
                        attempt_outcome(event),
                        event_reason(event),
                        lease_ended_at=job.lease_expires_at,
                    )
                )
                continue
            backoff = (
                self.registry.get(job.kind).backoff if job.kind in self.registry else Backoff()
            )
            decision = lost_lease(job, now=now, backoff=backoff, rng=self.rng)
            event = (
                Requeue(decision.reason, decision.run_after or now, now)
                if decision.retry
                else Fail(decision.reason, now)
            )
            changes.append(
                Change(
                    job,
                    transition(job, event),
                    attempt_outcome(event),
                    event_reason(event),
                    lease_ended_at=job.lease_expires_at,
                )
            )
        if not changes:
            return 0
        return sum(await self.apply(changes))

    # -- time ----------------------------------------------------------------------------------
    async def make_ticks(
        self, schedule: Schedule, last_tick: float, ticks: Sequence[float]
    ) -> list[Job] | None:
        """Make one job of `schedule` for each tick, keyed by the schedule and the tick's
        instant, if the schedule's last tick in the store is still `last_tick` (None when
        another worker made them first, or the schedule is paused)."""
        prepared = [
            (
                tick,
                self.prepare(
                    schedule.kind, dict(schedule.payload), key=tick_key(schedule.name, tick)
                ),
            )
            for tick in ticks
        ]
        stored = await self.store.make_ticks(schedule.name, last_tick, prepared)
        if stored:
            for (_, new), got in zip(prepared, stored, strict=True):
                if got.id == new.id:
                    log_transition(got, None, got.status)
            self.submitted.set()
        return stored

    async def schedules(self) -> list[ScheduleView]:
        """Every periodic schedule: the ones the database knows (declared by a worker) and the
        ones this registry declares that no worker has run yet, by name, each with its next tick
        at the engine's clock."""
        now = self.clock()
        stored = {state.name: state for state in await self.store.schedules()}
        declared = {entry.name: entry for entry in self.registry.schedules()}
        views = []
        for name in sorted(stored.keys() | declared.keys()):
            state, entry = stored.get(name), declared.get(name)
            if entry is None and state is not None:
                try:
                    entry = Schedule(name, state.kind, state.cron, state.tz)
                except InvalidInput:  # declared by a newer jobdeck: show it, plan nothing
                    entry = None
            after = max(now, state.last_tick) if state is not None else now
            next_tick = None
            if entry is not None and not (state is not None and state.paused):
                next_tick = entry.next_after(after)
            views.append(ScheduleView(name, entry, state, next_tick))
        return views

    async def pause_schedule(
        self, name: str, *, reason: str | None = None, by: str | None = None
    ) -> ScheduleState:
        """Stop one schedule making jobs, for every worker, and log it on the operator trail.
        Raises NotFound (a schedule no worker has declared yet cannot be paused) and
        InvalidInput for a bad reason."""
        text, who = operator_text(reason), actor(by)  # both checked before anything is written
        state = await self.store.pause_schedule(name, paused=True, reason=text, now=self.clock())
        await self.record_action(ActionName.SCHEDULE_PAUSE, name, reason=text, by=who)
        return state

    async def resume_schedule(self, name: str, *, by: str | None = None) -> ScheduleState:
        """Let a paused schedule make jobs again from now on; the ticks that fell while it was
        paused are not made up. Logged on the operator trail. Raises NotFound."""
        who = actor(by)
        state = await self.store.pause_schedule(name, paused=False, reason=None, now=self.clock())
        await self.record_action(ActionName.SCHEDULE_RESUME, name, by=who)
        return state

    async def schedule_jobs(self, name: str, *, limit: int = 50) -> list[Job]:
        """The jobs one schedule made, newest tick first."""
        return await self.store.schedule_jobs(name, limit)

    async def limits(self) -> list[LimitState]:
        """Each kind's stored concurrency and rate limit with what is in use now, by kind."""
        return await self.store.limits(self.clock())

    async def scheduled(self, *, limit: int = 50) -> list[Job]:
        """Queued jobs not yet due, soonest first."""
        return await self.store.scheduled(self.clock(), limit)

    # -- retention -----------------------------------------------------------------------------
    async def prune(
        self,
        *,
        done_older_than: float | None = None,
        failed_older_than: float | None = None,
        kind: str | None = None,
        dry_run: bool = False,
        batch: int = PRUNE_BATCH,
        archive: Callable[[Sequence[Record]], Sequence[str]] | None = None,
        budget: float | None = None,
    ) -> Pruned:
        """Delete done jobs that finished more than `done_older_than` seconds ago and failed
        ones past `failed_older_than` (of `kind`, if given), with their attempts, steps and
        events, in transactions of at most `batch` jobs. Never a queued or running job.

        `archive` is handed each batch's records before anything is deleted and answers the
        ids it wrote and flushed; only those are deleted. `budget` (seconds) stops after the
        batch that crosses it. `dry_run` deletes nothing and answers what would go.
        Raises InvalidInput for no cutoff or a negative one, StorageError.
        """
        cutoffs = retention_cutoffs(self.clock(), done_older_than, failed_older_than)
        if not 1 <= batch <= 10_000:
            raise InvalidInput(f"a prune batch is 1 to 10000 jobs, not {batch}.")
        if dry_run:
            return await self.store.count_prunable(cutoffs, kind)
        began = time.monotonic()
        total = Pruned()
        while budget is None or time.monotonic() - began < budget:
            ids = await self.store.prunable(cutoffs, kind, batch)
            if not ids:
                break
            if archive is not None:
                ids = list(archive(await self.store.records(ids)))
            done = await self.store.prune(ids, cutoffs, self.clock())
            total += done
            if done.jobs == 0:  # nothing that was found could go: do not look again
                break
            await asyncio.sleep(0)  # let the claims of this process in between batches
        if total.jobs:
            log.info(
                "pruned %d jobs, %d attempts, %d events", total.jobs, total.attempts, total.events
            )
        return total

    # -- reading -------------------------------------------------------------------------------
    async def get(self, job_id: str) -> Job:
        """The job with this id (or unique id suffix); raises NotFound, saying so when the id
        falls in a range retention pruned."""
        try:
            return await self.store.find(job_id)
        except NotFound:
            at = await self.store.pruned_at(job_id) if len(job_id) == ID_LENGTH else None
            if at is None:
                raise
            raise NotFound(pruned_sentence(job_id, at)) from None

    async def counts(self) -> dict[Status, int]:
        return await self.store.counts()

    async def page(self, status: Status, **filters: Any) -> Page:
        return await self.store.page(status, **filters)

    async def events(self, since: int = 0, limit: int = 500) -> list[Event]:
        return await self.store.events(since, limit)

    # -- the system ------------------------------------------------------------------------------
    async def workers(self, now: float | None = None) -> list[WorkerState]:
        """Every registered worker heard from within the hour, by name (see
        `WorkerState.gone` for the ones silent past two leases)."""
        return await self.store.workers(self.clock() if now is None else now)

    async def kind_stats(
        self, *, since: float = STATS_WINDOW, kind: str | None = None
    ) -> list[KindStats]:
        """Per kind, by name: jobs per status, done and failed a minute over the last 1, 5 and
        15 minutes, the failure rate and run-time percentiles over the last `since` seconds,
        and the oldest queued job's wait. Read from the rollup and the kind counts, never from
        attempts. Raises InvalidInput for a window that is not above 0 and at most a day (the
        rollup keeps no detail past that)."""
        now = self.clock()
        # The database sums the buckets over the few spans kind_stats tells apart (the rate
        # windows and the window asked for): a handful of rows per kind, however long the window.
        rows = await self.store.rollup_sums(stats_edges(now, since), kind)
        counts = await self.store.kind_counts()
        oldest = await self.store.oldest_queued()
        return kind_stats(rows, counts, oldest, now=now, since=now - since, kind=kind)

    async def throughput(
        self, *, span: float = 300.0, kind: str | None = None
    ) -> tuple[list[float], list[float]]:
        """Done and failed a second in each 10-second bucket of the last `span` seconds (at
        most 15 minutes), oldest first, of one kind or all: the buckets the rollup still keeps
        10 seconds wide as they are, the older ones a minute's average each."""
        span = min(span, STATS_WINDOW)
        now = self.clock()
        edges = throughput_edges(now, span)
        rows = await self.store.rollup_sums(edges, kind, per_kind=False)
        return throughput(rows, now=now, span=span)

    async def report(self, job_id: str) -> RerunReport | None:
        """The verdict of a rerun against its original, or None while either is live."""
        job = await self.get(job_id)
        if job.rerun_of is None:
            raise InvalidInput(f"job {job.id} is not a rerun.")
        try:
            original = await self.store.get(job.rerun_of)
        except NotFound:
            raise NotFound(f"the original of job {job.id} was pruned; it has no verdict.") from None
        return verdict(original, job)

    async def detail(self, job_id: str) -> JobDetail:
        """The job, every attempt, its rerun lineage with verdicts, and the retry explanation."""
        job = await self.get(job_id)
        attempts = await self.store.attempts(job.id)
        reruns = [(r, verdict(job, r)) for r in await self.store.reruns(job.id)]
        original = await self._original(job)
        return JobDetail(
            job=job,
            attempts=attempts,
            reruns=reruns,
            original=original,
            verdict=verdict(original, job) if original else None,
            retry=explain(job, attempts, self.clock()),
            steps=await self.store.steps(job.id),
            lineage=await self.lineage(job),
        )

    async def lineage(self, job: Job, *, limit: int = 200) -> LineageNode:
        """The rerun tree that `job` belongs to, from its first original down (at most `limit`
        jobs)."""
        root, pruned = job, False
        for _ in range(limit):
            if root.rerun_of is None:
                break
            original = await self._original(root)
            if original is None:  # the oldest original retention left
                pruned = True
                break
            root = original
        seen = 0

        async def grow(node: Job, parent: Job | None) -> LineageNode:
            nonlocal seen
            seen += 1
            children = []
            for child in await self.store.reruns(node.id):
                if seen >= limit:
                    break
                children.append(await grow(child, node))
            return LineageNode(node, verdict(parent, node) if parent else None, children)

        tree = await grow(root, None)
        return replace(tree, original_pruned=True) if pruned else tree

    async def _original(self, job: Job) -> Job | None:
        """The job `job` reran, or None when it is no rerun or retention pruned its original."""
        if job.rerun_of is None:
            return None
        try:
            return await self.store.get(job.rerun_of)
        except NotFound:
            return None

    async def wait(self, job_id: str, *, poll: float = 0.05) -> Job:
        """Poll until the job is done or failed (wrap in asyncio.timeout to bound it)."""
        while True:
            job = await self.store.find(job_id)
            if job.status.finished:
                return job
            await asyncio.sleep(poll)


@dataclass(frozen=True)
class ScheduleView:
    """One periodic schedule as `jobdeck schedules` and the monitor show it: its declaration
    (None when only the database knows it and it cannot be read), what the database holds
    (None until a worker runs it) and its next tick (None while paused)."""

    name: str
    entry: Schedule | None
    state: ScheduleState | None
    next_tick: float | None


def retention_cutoffs(
    now: float, done_older_than: float | None, failed_older_than: float | None
) -> dict[Status, float]:
    """The `updated_at` before which done and failed jobs go; raises InvalidInput for neither
    age given, or one that is negative or not finite."""
    ages = {Status.DONE: done_older_than, Status.FAILED: failed_older_than}
    cutoffs = {}
    for status, age in ages.items():
        if age is None:
            continue
        if not math.isfinite(age) or age < 0:
            raise InvalidInput(f"a retention age must be zero or more seconds, not {age:g}.")
        cutoffs[status] = now - age
    if not cutoffs:
        raise InvalidInput("say how old a done or failed job must be to be pruned.")
    return cutoffs


def _log_applied(changes: Sequence[Change], applied: Sequence[bool]) -> None:
    for change, ok in zip(changes, applied, strict=True):
        if ok:
            log_transition(change.after, change.before.status, change.after.status, change.reason)


def log_transition(
    job: Job, before: Status | None, after: Status, reason: Reason | None = None
) -> None:
    """One structured line per transition; a denial logs its one reason here, once."""
    if not log.isEnabledFor(logging.INFO):
        return
    reason = reason or job.reason
    code = reason.code if reason else "-"
    log.info(
        "transition id=%s kind=%s attempt=%d %s->%s reason=%s",
        job.id,
        job.kind,
        job.attempt,
        before.value if before else "new",
        after.value,
        code,
    )


__all__ = [
    "Engine",
    "Intake",
    "JobDetail",
    "LineageNode",
    "NotFound",
    "RetryExplanation",
    "ScheduleView",
    "canonical_json",
    "check_payload",
    "default_key",
    "explain",
]
