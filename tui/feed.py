"""What the main screen shows, read from the engine each tick; drawing it is the screen's job.

The feed follows the events log by cursor: a tick with no new events reads the last cursor, the
four counts (a prune deletes rows without an event), the worker count and the paused kinds (a
pause writes no event) and nothing else; a
tick with events reloads counts and only the visible page of the panes whose statuses those
events touched; a tick that finds more events than it would read
(a busy engine) skips them and reloads every pane. Nothing here loads all the rows of a status.

The throughput strip's numbers ride on the same tick: the queue depth is sampled from the counts
it reads anyway, and the rollup is read again only when its 10-second bucket moved or jobs
finished a while ago (see `jobdeck.tui.throughput`).

Filtered by a worker (Enter in the Workers view), the Running pane shows the jobs whose lease that
worker holds; the other panes show none: a queued job has no worker, and which worker ran a
finished job is written only in its attempts, which no index serves by worker.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from jobdeck.core import Engine, Job, Status
from jobdeck.core.limits import LimitState
from jobdeck.tui.throughput import SPAN, DepthRing, RollupClock, Throughput

T = TypeVar("T")

# Workers refresh their row every lease/3 (10 s for the default 30 s lease): a worker seen in the
# last 15 s is alive.
WORKER_SEEN_WITHIN = 15.0
RATE_WINDOW = 5.0
EVENTS_PER_TICK = 500
PANE_ORDER = (Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED)
# Filtered by a worker, the Running pane reads this many running jobs and keeps that worker's
# (a worker runs its concurrency's worth at most; the running jobs of all workers rarely reach it).
WORKER_PAGE = 1000


async def _same(value: T) -> T:
    """A read that is not needed this tick, in the shape of one."""
    return value


@dataclass(frozen=True)
class Snapshot:
    """One tick's view. `pages` holds only the panes that were reloaded this tick."""

    now: float
    counts: dict[Status, int]
    pages: dict[Status, list[Job]]
    workers: int
    rate: float
    groups: list[tuple[str, int]] | None = None
    paused: tuple[str, ...] = ()  # the paused kinds, by name
    limits: list[LimitState] = field(default_factory=list)
    throughput: Throughput | None = None
    worker_running: int = 0  # filtered by a worker: how many running jobs it holds


@dataclass
class PaneQuery:
    """What one pane asks for: how many rows fit and the order they come in."""

    limit: int
    newest_first: bool


@dataclass
class Feed:
    engine: Engine
    text: str = ""
    groups_wanted: bool = False
    cursor: int | None = None
    counts: dict[Status, int] = field(default_factory=dict)
    _stale: bool = True  # every pane is read on the next poll
    worker: str | None = None  # the worker the panes are filtered by
    _finished: deque[tuple[float, int]] = field(default_factory=deque)
    depth: DepthRing = field(default_factory=DepthRing)
    _rollup_clock: RollupClock = field(default_factory=RollupClock)
    _rates: tuple[list[float], list[float]] = ([], [])  # done and failed a second, per slot
    _finished_since: bool = False  # jobs finished since the rollup was last read
    _worker_running: int = 0

    def invalidate(self) -> None:
        """Read every pane on the next poll (the filter or the pane sizes changed), even when a
        poll under way as this is called ends first: it may have read with the old filter."""
        self._stale = True

    async def poll(self, queries: Mapping[Status, PaneQuery]) -> Snapshot:
        """Read what changed since the last poll. Raises JobdeckError (e.g. StorageError)."""
        engine = self.engine
        now = engine.clock()
        stale, self._stale = self._stale, False
        try:
            return await self._read(queries, now, stale)
        except BaseException:
            self._stale = self._stale or stale  # a failed read leaves the panes to reload
            raise

    async def _read(self, queries: Mapping[Status, PaneQuery], now: float, stale: bool) -> Snapshot:
        engine = self.engine
        touched: set[Status] = set()
        last = await engine.store.last_cursor()
        if stale or self.cursor is None or last - self.cursor >= EVENTS_PER_TICK:
            # Stale, or far behind: skip to the end rather than replay; every pane reloads.
            self.cursor = last
            touched = set(PANE_ORDER)
        elif last != self.cursor:
            events = await engine.events(since=self.cursor, limit=EVENTS_PER_TICK)
            for event in events:
                touched.add(event.to_status)
                if event.from_status is not None:
                    touched.add(event.from_status)
            if events:
                self.cursor = events[-1].cursor
        if touched & {Status.DONE, Status.FAILED}:
            self._finished_since = True
        counted = None
        if not touched and self.counts:
            # Retention deletes finished jobs without an event: the four counts (a tiny read)
            # tell a quiet tick that the Done or Failed pane lost rows.
            counted = await engine.counts()
            touched = {status for status in PANE_ORDER if counted[status] != self.counts[status]}
        # The reads below do not depend on each other: asked together, they queue on the
        # store's connection at once instead of one wake-up of this loop after each.
        wanted = [status for status in PANE_ORDER if status in touched and status in queries]
        pages_read = asyncio.gather(*(self._page(status, queries[status]) for status in wanted))
        read_rollup = self._rollup_clock.due(now, self._finished_since)
        counts_read = engine.counts() if counted is None else _same(counted)
        rates_read = engine.throughput(span=SPAN) if read_rollup else _same(self._rates)
        (counts, rates), workers, limits, groups, pages, paused = await asyncio.gather(
            asyncio.gather(counts_read, rates_read),
            engine.store.workers_alive(now, WORKER_SEEN_WITHIN),
            engine.store.limits(now),
            engine.store.failure_groups()
            if self.groups_wanted and Status.FAILED in touched
            else _same(None),
            pages_read,
            engine.paused(),  # a small table: the header and the Queued pane mark them
        )
        self.counts = counts
        if read_rollup:
            self._rollup_clock.read(now)
            self._rates, self._finished_since = rates, False
        jobs = dict(zip(wanted, pages, strict=True))
        kinds = tuple(p.kind for p in paused)
        return Snapshot(
            now,
            dict(counts),
            jobs,
            workers,
            self._rate(now),
            groups,
            kinds,
            limits,
            self._throughput(now, counts[Status.QUEUED]),
            self._worker_running,
        )

    def _throughput(self, now: float, queued: int) -> Throughput:
        self.depth.add(now, queued)
        done, failed = self._rates
        return Throughput(done, failed, self.depth.series(now), queued)

    async def _page(self, status: Status, query: PaneQuery) -> list[Job]:
        if self.worker is not None:
            return await self._worker_page(status, query)
        page = await self.engine.page(
            status,
            limit=max(1, query.limit),
            text=self.text or None,
            newest_first=query.newest_first,
        )
        return page.jobs

    def _rate(self, now: float) -> float:
        """Jobs finished (done or failed) per second over the last few seconds."""
        finished = self.counts.get(Status.DONE, 0) + self.counts.get(Status.FAILED, 0)
        samples = self._finished
        if samples and finished < samples[-1][1]:
            samples.clear()  # a prune took finished jobs away: start the window again
        samples.append((now, finished))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        first_at, first = samples[0]
        elapsed = now - first_at
        return (finished - first) / elapsed if elapsed > 0 else 0.0

    async def _worker_page(self, status: Status, query: PaneQuery) -> list[Job]:
        """The running jobs whose lease the filtered worker holds; none in the other panes."""
        if status is not Status.RUNNING:
            return []
        page = await self.engine.page(
            status, limit=WORKER_PAGE, text=self.text or None, newest_first=query.newest_first
        )
        mine = [job for job in page.jobs if job.lease_owner == self.worker]
        self._worker_running = len(mine)
        return mine[: max(1, query.limit)]
