"""What the main screen shows, read from the engine each tick; drawing it is the screen's job.

The feed follows the events log by cursor: a tick with no new events reads nothing but the
worker count, and a tick with events reloads counts and only the visible page of the panes whose
statuses those events touched. Nothing here loads all the rows of a status.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from jobdeck.core import Engine, Job, Status

# Workers refresh their row every lease/3 (10 s for the default 30 s lease): a worker seen in the
# last 15 s is alive.
WORKER_SEEN_WITHIN = 15.0
RATE_WINDOW = 5.0
EVENTS_PER_TICK = 500
PANE_ORDER = (Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED)


@dataclass(frozen=True)
class Snapshot:
    """One tick's view. `pages` holds only the panes that were reloaded this tick."""

    now: float
    counts: dict[Status, int]
    pages: dict[Status, list[Job]]
    workers: int
    rate: float
    groups: list[tuple[str, int]] | None = None


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
    _finished: deque[tuple[float, int]] = field(default_factory=deque)

    def invalidate(self) -> None:
        """Reload every pane on the next poll (the filter or the pane sizes changed)."""
        self.cursor = None

    async def poll(self, queries: Mapping[Status, PaneQuery]) -> Snapshot:
        """Read what changed since the last poll. Raises JobdeckError (e.g. StorageError)."""
        engine = self.engine
        now = engine.clock()
        touched: set[Status]
        if self.cursor is None:
            self.cursor = await engine.store.last_cursor()
            touched = set(PANE_ORDER)
        else:
            events = await engine.events(since=self.cursor, limit=EVENTS_PER_TICK)
            touched = set()
            for event in events:
                touched.add(event.to_status)
                if event.from_status is not None:
                    touched.add(event.from_status)
            if events:
                self.cursor = events[-1].cursor
            if len(events) == EVENTS_PER_TICK:
                # Far behind: skip to the end rather than replay; every pane reloads anyway.
                self.cursor = await engine.store.last_cursor()
                touched = set(PANE_ORDER)
        if touched or not self.counts:
            self.counts = await engine.counts()
        pages: dict[Status, list[Job]] = {}
        for status in PANE_ORDER:
            query = queries.get(status)
            if status in touched and query is not None:
                page = await engine.page(
                    status,
                    limit=max(1, query.limit),
                    text=self.text or None,
                    newest_first=query.newest_first,
                )
                pages[status] = page.jobs
        groups = None
        if self.groups_wanted and Status.FAILED in touched:
            groups = await engine.store.failure_groups()
        workers = await engine.store.workers_alive(now, WORKER_SEEN_WITHIN)
        return Snapshot(now, dict(self.counts), pages, workers, self._rate(now), groups)

    def _rate(self, now: float) -> float:
        """Jobs finished (done or failed) per second over the last few seconds."""
        finished = self.counts.get(Status.DONE, 0) + self.counts.get(Status.FAILED, 0)
        samples = self._finished
        samples.append((now, finished))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        first_at, first = samples[0]
        elapsed = now - first_at
        return (finished - first) / elapsed if elapsed > 0 else 0.0
