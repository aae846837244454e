"""The rollup summed over all time, per kind, outcome and reason code, kept up to date by reading
only the newest buckets: what Prometheus counters need on every scrape.

A day of steady traffic leaves thousands of minute buckets; reading them all on every scrape
would cost a second where a scrape should cost milliseconds. But a bucket that starts before
a minute boundary `upto` never takes mass from one that starts at or after it: new moves land
in the bucket of their own moment (now), 10-second buckets fold into the minute they start in,
minutes into the hour they start in, hours into the all-time row at start 0, so mass only ever
moves to an earlier start.
So the sum of the buckets before `upto` grows only by what was written late (stamped before
`upto` by a process that recorded it afterwards); `Totals` keeps that sum, moves `upto` along
behind the clock, and reads the buckets from `upto` on at each scrape.

A move recorded more than `BEHIND` seconds after its stamp (a worker whose clock runs slow, a
write that waited out a long lock) is missed until the next full read, at most `FULL_EVERY`
later: a counter is late then, never wrong the other way and never lower.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from jobdeck.core.store import Store
from jobdeck.core.system import ALL_TIME, HISTOGRAM_SIZE, MINUTE, Outcome, RollupRow

BEHIND = 120.0  # how far behind the clock the kept sum ends (then down to the minute)
FULL_EVERY = 3600.0  # how often every bucket is read again (late moves, and none older than a day)

Key = tuple[str, Outcome, str]  # kind, outcome, reason code


@dataclass
class _Sum:
    n: int = 0
    run_time: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_SIZE)

    def add(self, row: RollupRow) -> None:
        self.n += row.n
        self.run_time += row.run_time
        for i, count in enumerate(row.histogram):
            self.histogram[i] += count


class Totals:
    """The all-time sums of one store's rollup, for one reader (a metrics endpoint)."""

    def __init__(self) -> None:
        self._kept: dict[Key, _Sum] = {}  # every bucket that starts before `_upto`
        self._upto: float | None = None
        self._full_at = -math.inf
        self._lock: asyncio.Lock | None = None

    async def rows(self, store: Store, now: float) -> list[RollupRow]:
        """One row per key with everything counted up to now (start ALL_TIME, width 0), then
        the newest buckets as they are. Reads every bucket on the first call and each
        `FULL_EVERY` seconds, else only those from a few minutes ago on."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # two scrapes at once must not both keep the same buckets
            full = self._upto is None or now - self._full_at >= FULL_EVERY
            upto = math.floor((now - BEHIND) / MINUTE) * MINUTE
            if full:
                fresh = await store.rollup(0)
                self._kept, self._full_at = {}, now
            else:
                assert self._upto is not None
                fresh = await store.rollup(self._upto)
                upto = max(upto, self._upto)
            recent = self._keep((row for row in fresh if row.start < upto), fresh, upto)
            self._upto = upto
            return self._summed() + recent

    def _keep(
        self, older: Iterable[RollupRow], fresh: list[RollupRow], upto: float
    ) -> list[RollupRow]:
        for row in older:
            self._kept.setdefault((row.kind, row.outcome, row.code), _Sum()).add(row)
        return [row for row in fresh if row.start >= upto]

    def _summed(self) -> list[RollupRow]:
        return [
            RollupRow(ALL_TIME, 0.0, kind, outcome, code, s.n, tuple(s.histogram), s.run_time)
            for (kind, outcome, code), s in sorted(self._kept.items())
        ]


__all__ = ["BEHIND", "FULL_EVERY", "Totals"]
