"""Automatic retention: a worker that holds the retention lease prunes finished jobs past their
age now and then, in small transactions, so the database stops growing on its own.

Every long-running worker tries the lease each round; the one that holds it prunes for at most
`budget` seconds, a batch of jobs per transaction, and keeps the lease by taking it again the
next round. When it stops, the lease runs out (two rounds) and another worker takes it over.

How soon the next round comes depends on what this one found. A round that spent its whole
budget and still found jobs is behind: the next comes after `rest` seconds. One that pruned
something comes again after `soon` seconds, so under a steady load each round deletes a few
seconds' worth of jobs (a small rush of writes, a small WAL). One that found nothing waits
until the oldest finished job ages past its cutoff, `soon` seconds at least and `every` at most:
a worker that starts beside young jobs prunes the first of them seconds after they come of age,
not up to a minute later in one rush, and an idle database is asked once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jobdeck.core.contract import Status
from jobdeck.core.errors import JobdeckError
from jobdeck.core.store import Pruned

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine

log = logging.getLogger("jobdeck.retention")

DAY = 86_400.0
LEASE = "retention"
# Jobs deleted per transaction. On a SQLite file of 100,000 finished jobs one batch of 100 took
# 2-3 ms (at most 4.5 ms) and one of 500 took 8 ms with outliers past 50 ms; a claim waits for
# at most one batch, so 100.
BATCH = 100


@dataclass(frozen=True, slots=True)
class Retention:
    """How old a done or failed job gets before a worker prunes it (None: kept forever), how
    often the worker tries (`every` seconds; `soon` after a round that pruned something, `rest`
    after one that ran out of budget), and how much one round may do: `batch` jobs per
    transaction for at most `budget` seconds."""

    done: float | None = 7 * DAY
    failed: float | None = 30 * DAY
    every: float = 60.0
    batch: int = BATCH
    budget: float = 1.0
    soon: float = 5.0
    rest: float = 0.25

    @property
    def off(self) -> bool:
        """Whether nothing is ever pruned."""
        return self.done is None and self.failed is None


DEFAULT = Retention()
OFF = Retention(done=None, failed=None)


class Retainer:
    """One worker's part in automatic retention (see the module's text)."""

    def __init__(self, engine: Engine, owner: str, retention: Retention) -> None:
        self.engine = engine
        self.owner = owner
        self.retention = retention
        self.pruned = Pruned()
        self.wait = retention.every  # before the next round (see the module's text)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop` is set, the first now, each after the wait the last one set."""
        while not stop.is_set():
            try:
                await self.round()
            except Exception:  # a bug of jobdeck's own: say so loudly, and keep the worker
                self.wait = self.retention.every
                log.exception("retention round failed; trying again in %g s", self.wait)
            with suppress(TimeoutError):  # the round's wait is over; stop was not set
                await asyncio.wait_for(stop.wait(), self.wait)

    async def round(self) -> Pruned | None:
        """Take the lease and prune for at most the budget; what was pruned, or None when
        another worker holds the lease or the round failed (logged once, tried next round)."""
        r = self.retention
        self.wait = r.every
        try:
            held = await self.engine.store.take_lease(
                LEASE, self.owner, self.engine.clock(), 2 * r.every
            )
            if not held:
                return None
            began = time.monotonic()
            done = await self.engine.prune(
                done_older_than=r.done,
                failed_older_than=r.failed,
                batch=r.batch,
                budget=r.budget,
            )
        except JobdeckError as err:
            log.warning("retention round failed (%s); trying again in %g s", err, r.every)
            return None
        self.pruned += done
        if done.jobs:
            self.wait = r.rest if time.monotonic() - began >= r.budget else r.soon
        else:
            self.wait = await self._until_next()
        return done

    async def _until_next(self) -> float:
        """Seconds until the oldest done or failed job ages past its cutoff, within
        [`soon`, `every`]. `every` when there is none, it cannot be read, or it is past its
        cutoff already (this round found it and could not prune it: it holds the newest event)."""
        r = self.retention
        ages = {Status.DONE: r.done, Status.FAILED: r.failed}
        try:
            oldest = await self.engine.store.oldest_finished()
        except JobdeckError:
            return r.every
        due = [at + age for s, at in oldest.items() if (age := ages.get(s)) is not None]
        left = min(due) - self.engine.clock() if due else 0.0
        return min(r.every, max(r.soon, left)) if left > 0 else r.every


__all__ = ["DEFAULT", "OFF", "Retainer", "Retention"]
