"""What the main screen's throughput strip shows, and how it is collected: done and failed per
second come from the rollup the writers keep (`core.system.throughput`), the queue depth from the
counts every tick already reads, sampled here into a 5-minute ring. Drawing is the strip's job.

The rollup moves in 10-second buckets, so the feed reads it again only when a new bucket has
begun, or when jobs have finished since the last read and a few seconds have passed: never more
than once a tick, and once every 10 s on a quiet system.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobdeck.core.system import BUCKET_SECONDS, bucket_of

SPAN = 300.0  # the strip's five minutes
SLOTS = int(SPAN / BUCKET_SECONDS)
# While jobs finish, the current bucket's count is read again at most this often.
REREAD_EVERY = 2.0


@dataclass(frozen=True)
class Throughput:
    """Thirty 10-second slots, oldest first, the current (partial) one last: done and failed
    per second, and the deepest the queue was seen in each slot (None: not sampled then, the
    monitor was not open)."""

    done: list[float]
    failed: list[float]
    queued: list[float | None]
    queued_now: int

    @property
    def done_now(self) -> float:
        """The rate of the last whole slot: the current one is still filling."""
        return self.done[-2] if len(self.done) > 1 else 0.0

    @property
    def failed_now(self) -> float:
        return self.failed[-2] if len(self.failed) > 1 else 0.0


@dataclass
class DepthRing:
    """The queue depth the monitor saw, the deepest per 10-second slot, for the last 5 minutes."""

    span: float = SPAN
    _slots: dict[float, int] = field(default_factory=dict)

    def add(self, now: float, depth: int) -> None:
        start = bucket_of(now)
        self._slots[start] = max(depth, self._slots.get(start, depth))
        oldest = start - self.span
        for old in [s for s in self._slots if s <= oldest]:
            del self._slots[old]

    def series(self, now: float) -> list[float | None]:
        """One value per slot, oldest first, the current slot last."""
        last = bucket_of(now)
        slots = int(self.span / BUCKET_SECONDS)
        starts = [last - (slots - 1 - i) * BUCKET_SECONDS for i in range(slots)]
        return [None if (v := self._slots.get(s)) is None else float(v) for s in starts]


@dataclass
class RollupClock:
    """When the strip's rollup read is due: a new 10-second bucket, or finished jobs after
    `REREAD_EVERY` seconds."""

    read_at: float | None = None

    def due(self, now: float, finished_since: bool) -> bool:
        if self.read_at is None or bucket_of(now) != bucket_of(self.read_at):
            return True
        return finished_since and now - self.read_at >= REREAD_EVERY

    def read(self, now: float) -> None:
        self.read_at = now
