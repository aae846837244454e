"""The part of a worker that makes the jobs of periodic schedules.

Every worker that loads a registry with schedules runs a Ticker; they coordinate through the
store alone. A tick's job is made only by the worker whose compare-and-set moves the schedule's
last tick forward from the value it read, in the transaction that inserts the job, so each tick
becomes exactly one job whatever the number of workers and hosts. A worker that loses the race
(or finds the schedule paused) reads the schedules again and plans from what it finds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from jobdeck.core.schedule import Schedule
from jobdeck.core.store import ScheduleState

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine

log = logging.getLogger("jobdeck.ticker")


class Ticker:
    """Plans the next tick of each schedule and makes the due ones (see the module's text)."""

    def __init__(self, engine: Engine, schedules: Sequence[Schedule]) -> None:
        self.engine = engine
        self.schedules = {entry.name: entry for entry in schedules}
        self._last: dict[str, float] = {}  # each schedule's last tick, as last read
        self._after: dict[str, float] = {}  # count ticks after this (later while paused)
        self._due: dict[str, float] = {}
        self.next_due: float | None = None  # the earliest planned tick of any schedule

    async def start(self) -> None:
        """Declare this worker's schedules in the store and plan their next ticks."""
        if self.schedules:
            await self._read(self.engine.clock())

    async def run_due(self, now: float) -> int:
        """Make the jobs of every tick due at `now`; returns how many jobs this worker made."""
        if self.next_due is None or now < self.next_due:
            return 0
        made, stale = 0, False
        for name, due in self._due.items():
            if due > now:
                continue
            entry = self.schedules[name]
            ticks = entry.ticks(self._after[name], now)
            if not ticks:  # never expected; planning past it keeps a disagreement from spinning
                log.warning("schedule %s: no tick found at its planned instant %s", name, due)
                self._after[name] = due
                continue
            jobs = await self.engine.make_ticks(entry, self._last[name], ticks)
            if jobs is None:  # another worker made them, or an operator paused the schedule
                stale = True
                continue
            made += len(jobs)
            self._last[name] = self._after[name] = ticks[-1]
            log.info("schedule %s made %d job(s), last tick %s", name, len(jobs), ticks[-1])
        if stale:
            await self._read(now)
        else:
            self._plan()
        return made

    async def _read(self, now: float) -> None:
        # An upsert that keeps every last tick and pause: it also brings back a schedule row
        # that went missing, so a lost compare-and-set cannot repeat forever.
        entries = [(e.name, e.kind, e.cron, e.tz) for e in self.schedules.values()]
        self._take(await self.engine.store.declare_schedules(entries, now), now)

    def _take(self, states: Sequence[ScheduleState], now: float) -> None:
        for state in states:
            if state.name in self.schedules:
                self._last[state.name] = state.last_tick
                # While paused, plan from now: the ticks it skips are not made up later.
                self._after[state.name] = (
                    max(now, state.last_tick) if state.paused else (state.last_tick)
                )
        self._plan()

    def _plan(self) -> None:
        self._due = {
            name: self.schedules[name].next_after(after) for name, after in self._after.items()
        }
        self.next_due = min(self._due.values(), default=None)
