"""SyncSqlite: the synchronous Client's store on one SQLite file, written from the caller's thread.

No event loop and no hop to another thread: a submit runs its transaction through sqlite3 on
the thread that called it, with the very statements and transaction bodies the async store runs
on aiosqlite's thread (`tx`, `queries`, `lookup`). Concurrent callers share commits through
`ThreadGroupCommit`. Reads run on a connection per calling thread, so a reader never waits for
a writer (WAL).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Final, TypeVar

from jobdeck.core.contract import Job, Status, Step
from jobdeck.core.errors import StorageError
from jobdeck.core.store import Action, CancelRequest, Change
from jobdeck.storage import checks, lookup
from jobdeck.storage.rows import Row, counts_from, job_from_row
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite import steps as steps_sql
from jobdeck.storage.sqlite import tx
from jobdeck.storage.sqlite.checkpoint import Checkpointer
from jobdeck.storage.sqlite.connection import prepare
from jobdeck.storage.sqlite.errors import (
    LOCK_RETRIES,
    MIN_LOCK_WAIT,
    not_storable,
    retry_pause,
    storage_error,
)
from jobdeck.storage.sqlite.files import MEMORY, check_path, create_file
from jobdeck.storage.sqlite.group_commit import ThreadGroupCommit

T = TypeVar("T")
CACHED_STATEMENTS: Final = 256
FORKED: Final = (
    "this client was connected in a parent process; call jobdeck.connect again in each "
    "process (with gunicorn --preload, after the fork)."
)


def _connect(path: str) -> sqlite3.Connection:
    """Autocommit (transactions are explicit), usable from whichever thread holds it."""
    return sqlite3.connect(
        path, isolation_level=None, cached_statements=CACHED_STATEMENTS, check_same_thread=False
    )


class SyncSqlite:
    """Jobs in one SQLite file, through blocking calls that any thread may make at once.

    Open it with `SyncSqlite.open(path)` (or `jobdeck.connect`). Every method raises
    StorageError with one sentence for database trouble; none leaks an sqlite3 error.
    """

    def __init__(self, writer: sqlite3.Connection, path: str, *, busy_timeout: float) -> None:
        self.path = path
        self._writer = writer
        self._lock_wait = max(busy_timeout, MIN_LOCK_WAIT)
        self._busy_ms = max(0, int(busy_timeout * 1000))
        # One transaction at a time on the writer; an in-memory database has only this one
        # connection, so its reads take the lock too.
        self._write_lock = threading.Lock()
        self._shared = path == MEMORY
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._inserts: ThreadGroupCommit[Job, Job | Row] = ThreadGroupCommit(self._insert_now)
        self._checkpoints = None if self._shared else Checkpointer(path)
        self._closed = False
        self._pid = os.getpid()

    @classmethod
    def open(cls, path: str, *, busy_timeout: float = 5.0) -> SyncSqlite:
        """Open (creating and migrating) the database at `path`. Raises StorageError when the
        folder is missing, the file is no jobdeck database or has a newer schema, or it stays
        locked."""
        if check_path(path, read_only=False, create=True):
            create_file(path)
        try:
            writer = _connect(path)
        except sqlite3.Error as exc:
            raise storage_error(exc, path) from exc
        store = cls(writer, path, busy_timeout=busy_timeout)
        body = partial(prepare, path=path, read_only=False, busy_ms=store._busy_ms)
        try:
            store._retrying(writer, body)
        except BaseException:
            writer.close()
            raise
        return store

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            if os.getpid() != self._pid:
                return  # the parent's connections are the parent's to close
            if self._checkpoints is not None:
                self._checkpoints.close_blocking()
            with contextlib.suppress(sqlite3.Error):  # only planner statistics, refreshed later
                self._writer.execute(q.OPTIMIZE)
            for conn in [self._writer, *self._readers]:
                conn.close()

    # -- plumbing ------------------------------------------------------------------------------
    def _retrying(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn`, again while the database is busy (the async store's rule), then one
        StorageError."""
        started = time.monotonic()
        for retry in range(LOCK_RETRIES + 1):
            try:
                return fn(conn)
            except (OverflowError, UnicodeEncodeError) as exc:
                raise not_storable(exc) from None
            except sqlite3.Error as exc:
                waited = time.monotonic() - started
                pause = retry_pause(
                    exc,
                    self.path,
                    retry=retry,
                    retries=LOCK_RETRIES,
                    waited=waited,
                    lock_wait=self._lock_wait,
                )
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` as one write transaction on the writer connection."""
        with self._write_lock:
            self._check_open()
            result = self._retrying(
                self._writer, partial(tx.in_transaction, fn, wait=self._lock_wait)
            )
            if self._checkpoints is not None:
                self._checkpoints.wrote_blocking()
            return result

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._shared:
            with self._write_lock:
                self._check_open()
                return self._retrying(self._writer, fn)
        self._check_open()
        return self._retrying(self._reader(), fn)

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection, opened on its first read."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = _connect(self.path)
                conn.execute(q.SET_BUSY_TIMEOUT.format(ms=self._busy_ms))
                for pragma in q.PRAGMAS_READ:
                    conn.execute(pragma)
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from exc
            with self._write_lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"the database {self.path} is already closed.")
        if os.getpid() != self._pid:  # an SQLite connection must not cross a fork
            raise StorageError(FORKED)

    # -- the SyncStore calls -------------------------------------------------------------------
    def insert(self, jobs: Sequence[Job]) -> list[Job]:
        checks.new_jobs(jobs)
        if not jobs:
            return []
        stored = self._inserts(jobs)
        return [job if isinstance(job, Job) else job_from_row(job) for job in stored]

    def _insert_now(self, jobs: Sequence[Job]) -> list[Job | Row]:
        return self._write(partial(tx.insert, jobs=jobs))

    def insert_rerun(self, job: Job, steps: Sequence[Step]) -> Job:
        checks.new_rerun(job)
        (stored,) = self._write(partial(steps_sql.insert_with_steps, job=job, steps=steps))
        return stored if isinstance(stored, Job) else job_from_row(stored)

    def cancel_queued(self, changes: Sequence[Change], action: Action | None) -> list[bool]:
        checks.changes(changes)
        return self._write(partial(tx.cancel_queued, planned=tx.plan(changes), action=action))

    def request_cancel(
        self, requests: Sequence[CancelRequest], action: Action | None
    ) -> list[bool]:
        return self._write(partial(tx.request_cancel, requests=requests, action=action))

    def find(self, prefix: str) -> Job:
        lookup.check_fragment(prefix)
        found = self._read(partial(lookup.find_row, text=prefix))
        if isinstance(found, tuple):
            return job_from_row(found)
        lookup.not_one(prefix, found)

    def pruned_at(self, job_id: str) -> float | None:
        row = self._read(lambda conn: conn.execute(q.SELECT_PRUNED_AT, (job_id,)).fetchone())
        return None if row is None else float(row[0])

    def counts(self) -> dict[Status, int]:
        return counts_from(self._read(lambda conn: conn.execute(q.SELECT_COUNTS).fetchall()))

    def steps(self, job_id: str) -> list[Step]:
        rows = self._read(lambda conn: steps_sql.select_steps(conn, job_id))
        return [steps_sql.step_from_row(row) for row in rows]


__all__ = ["SyncSqlite"]
