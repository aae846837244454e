"""WAL checkpoints off the commit path.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages: that
commit copies every page back into the database file and syncs both files, so one submit in a
few hundred paid for all of them. A writable store instead sets the automatic threshold high
(`queries.PRAGMAS_WRITE`, a backstop should this thread fall behind) and runs a PASSIVE
checkpoint on a connection and thread of its own, at most one at a time and a few times a
second while it writes. PASSIVE never takes a lock that writers or readers wait for; a
checkpoint another process is running makes this one give way until the next.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from typing import Final

from jobdeck.storage.sqlite import queries as q

log = logging.getLogger(__name__)

# Seconds between the end of one checkpoint and the start of the next, while writes go on.
PERIOD: Final = 0.25


class Checkpointer:
    """Call `wrote()` after each committed write; checkpoints follow in the background."""

    def __init__(self, path: str, *, period: float = PERIOD) -> None:
        self.path = path
        self.period = period
        self.runs = 0
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._last = time.monotonic()
        self._closed = False

    def wrote(self) -> None:
        """Start a checkpoint unless one is running or the last ended under `period` ago."""
        if self._closed or (self._task is not None and not self._task.done()):
            return
        if time.monotonic() - self._last >= self.period:
            self._task = asyncio.create_task(self._run(), name="jobdeck-checkpoint")

    def wrote_blocking(self) -> None:
        """`wrote()` for a caller without an event loop (the synchronous Client): the
        checkpoint runs on a short-lived thread instead of a task."""
        if self._closed or (self._thread is not None and self._thread.is_alive()):
            return
        if time.monotonic() - self._last >= self.period:
            self._last = time.monotonic()  # one thread, even if two callers get here together
            self._thread = threading.Thread(
                target=self._run_blocking, name="jobdeck-checkpoint", daemon=True
            )
            self._thread.start()

    def _run_blocking(self) -> None:
        try:
            self._checkpoint()
        finally:
            self._last = time.monotonic()

    def close_blocking(self) -> None:
        """`close()` without an event loop."""
        self._closed = True
        if self._thread is not None:
            self._thread.join()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint)
        finally:
            self._last = time.monotonic()

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
            self._conn.execute(q.CHECKPOINT).fetchall()
            self.runs += 1
        except sqlite3.Error as exc:  # busy, or the file went away: the backstop still holds
            log.info("skipped a checkpoint of %s: %s", self.path, exc)

    async def close(self) -> None:
        """Wait for a running checkpoint, then close its connection."""
        self._closed = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
