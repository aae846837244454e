"""Automatic retention: a worker that holds the retention lease prunes finished jobs past their
age now and then, in small transactions, so the database stops growing on its own.

Every long-running worker tries the lease each round; the one that holds it prunes for at most
`budget` seconds, a batch of jobs per transaction, and keeps the lease by taking it again the
next round. When it stops, the lease runs out (two rounds) and another worker takes it over.

A round that spent its whole budget and still found jobs to prune is behind: the next round
comes after `rest` seconds, not `every`, until a round ends with nothing left. So a worker
keeps up with any rate the database can delete at, and an idle one asks once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    often the worker tries (`every` seconds), how much one round may do (`batch` jobs per
    transaction for at most `budget` seconds), and how soon a round that is behind comes
    again (`rest` seconds)."""

    done: float | None = 7 * DAY
    failed: float | None = 30 * DAY
    every: float = 60.0
    batch: int = BATCH
    budget: float = 1.0
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
        self.behind = False  # the last round ran out of budget with jobs still to prune

    async def run(self, stop: asyncio.Event) -> None:
        """A round now and then every `every` seconds (`rest` while behind) until `stop`."""
        while not stop.is_set():
            try:
                await self.round()
            except Exception:  # a bug of jobdeck's own: say so loudly, and keep the worker
                self.behind = False
                log.exception("retention round failed; trying again in %g s", self.retention.every)
            wait = self.retention.rest if self.behind else self.retention.every
            with suppress(TimeoutError):  # the round's wait is over; stop was not set
                await asyncio.wait_for(stop.wait(), wait)

    async def round(self) -> Pruned | None:
        """Take the lease and prune for at most the budget; what was pruned, or None when
        another worker holds the lease or the round failed (logged once, tried next round)."""
        r = self.retention
        self.behind = False
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
        self.behind = done.jobs > 0 and time.monotonic() - began >= r.budget
        return done


__all__ = ["DEFAULT", "OFF", "Retainer", "Retention"]
