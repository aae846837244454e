"""One process's view of whether its store can be reached, shared by every loop that calls it.

A worker's claim loop, heartbeat, cancel watcher and schedule ticker all call the store; when the
server restarts or drops its connections each of them finds out on its own. `Outage` turns that
into two lines: one warning when the first call fails ("store unreachable: ...; retrying") and
one info line when a call succeeds again, with how long it lasted. The traceback of the call
that found it unreachable is logged only at debug level (`jobdeck --debug`). Between tries the
callers wait `delay`: 0.1 s, doubling to at most 2 s.

A call that was sent before the store came back and fails after it (it was in flight on a
connection the restart broke) belongs to the outage already reported, not to a new one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from jobdeck.core.errors import StoreUnavailable

T = TypeVar("T")

log = logging.getLogger("jobdeck.outage")

FIRST_DELAY = 0.1
MAX_DELAY = 2.0


class Outage:
    """Whether the store is out of reach, since when, and how many outages were seen."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.since: float | None = None  # when the outage under way was first seen
        self.count = 0  # outages seen so far
        self._ended = -math.inf  # when the last one ended
        self._tries = 0  # failed calls in the outage under way

    @property
    def active(self) -> bool:
        return self.since is not None

    @property
    def delay(self) -> float:
        """Seconds to wait before the next try: FIRST_DELAY doubling to MAX_DELAY."""
        return min(MAX_DELAY, FIRST_DELAY * 2.0 ** max(0, self._tries - 1))

    async def pause(self) -> None:
        await asyncio.sleep(self.delay)

    async def call(self, work: Awaitable[T]) -> T:
        """Await `work` and note what it says about the store. Raises what `work` raises; a
        StoreUnavailable is noted (and logged once per outage) before it propagates."""
        started = self._clock()
        try:
            result = await work
        except StoreUnavailable as err:
            self.failed(err, started)
            raise
        self.reached(started)
        return result

    def failed(self, err: StoreUnavailable, started: float | None = None) -> None:
        """A call begun at `started` (default: now) found the store unreachable."""
        started = self._clock() if started is None else started
        self._tries += 1
        if self.since is not None or started < self._ended:
            return  # reported already, or sent before the store came back
        self.since = self._clock()
        self.count += 1
        log.warning("store unreachable: %s; retrying", " ".join(str(err).split()).rstrip("."))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("the call that found the store unreachable", exc_info=err)

    def reached(self, started: float | None = None) -> None:
        """A call begun at `started` (default: now) succeeded: the outage, if any, is over."""
        started = self._clock() if started is None else started
        if self.since is None:
            self._tries = 0
            return
        if started < self.since:
            return  # sent before the outage began: it says nothing about now
        now = self._clock()
        log.info("store reachable again after %.1f s", now - self.since)
        self.since = None
        self._ended = now
        self._tries = 0


__all__ = ["Outage"]
