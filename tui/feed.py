"""What the main screen shows, read from the engine each tick; drawing it is the screen's job.

The feed follows the events log by cursor: a tick with no new events reads the last cursor, the
four counts (a prune deletes rows without an event), the worker count and the paused kinds (a
pause writes no event) and nothing else; a
tick with events reloads counts and only the visible page of the panes whose statuses those
events touched; a tick that finds more events than it would read
(a busy engine) skips them and reloads every pane. Nothing here loads all the rows of a status.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from jobdeck.core import Engine, Job, Status
from jobdeck.core.limits import LimitState

T = TypeVar("T")

# Workers refresh their row every lease/3 (10 s for the default 30 s lease): a worker seen in the
# last 15 s is alive.
WORKER_SEEN_WITHIN = 15.0
RATE_WINDOW = 5.0
EVENTS_PER_TICK = 500
PANE_ORDER = (Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED)


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
    _finished: deque[tuple[float, int]] = field(default_factory=deque)

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
        counts, workers, limits, groups, pages, paused = await asyncio.gather(
            engine.counts() if counted is None else _same(counted),
            engine.store.workers_alive(now, WORKER_SEEN_WITHIN),
            engine.store.limits(now),
            engine.store.failure_groups()
            if self.groups_wanted and Status.FAILED in touched
            else _same(None),
            pages_read,
            engine.paused(),  # a small table: the header and the Queued pane mark them
        )
        self.counts = counts
        jobs = dict(zip(wanted, pages, strict=True))
        kinds = tuple(p.kind for p in paused)
        return Snapshot(now, dict(counts), jobs, workers, self._rate(now), groups, kinds, limits)

    async def _page(self, status: Status, query: PaneQuery) -> list[Job]:
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
