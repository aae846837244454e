"""An async Store behind blocking calls: the synchronous Client's way to PostgreSQL.

The store runs on an event loop of its own, on a daemon thread this module starts; each call
hands one coroutine to that loop and blocks the calling thread until it finishes. So the Client
works from any thread, including one whose own event loop is running (it never calls
`asyncio.run` there), and PostgreSQL needs no second driver: the same asyncpg store, the same
SQL, the same connection pool the async Engine uses.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from jobdeck.core.contract import Job, Status, Step
from jobdeck.core.errors import StorageError
from jobdeck.core.store import Action, CancelRequest, Change, Store

T = TypeVar("T")


class LoopThread:
    """A private event loop running on a daemon thread until `stop()`."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jobdeck-client-loop", daemon=True
        )
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the private loop and wait for its answer (or its exception)."""
        if self.forked:
            work.close()
            raise StorageError(
                "this client was connected in a parent process; call jobdeck.connect again in "
                "each process (with gunicorn --preload, after the fork)."
            )
        if threading.current_thread() is self._thread:
            work.close()
            raise StorageError("a blocking jobdeck call was made from the client's own loop.")
        if self._loop.is_closed():
            work.close()
            raise StorageError("the client is closed; connect again to use the database.")
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    @property
    def forked(self) -> bool:
        """Whether this is a child process of the one that started the loop (whose thread did
        not survive the fork)."""
        return os.getpid() != self._pid

    def stop(self) -> None:
        if self._loop.is_closed() or self.forked:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class LoopedStore:
    """The Client's SyncStore over any async Store, run on a LoopThread."""

    def __init__(self, store: Store, loop: LoopThread) -> None:
        self._store = store
        self._loop = loop

    @classmethod
    def open(cls, opener: Callable[[], Awaitable[Store]]) -> LoopedStore:
        """Start the loop and open the store on it; raises what the opener raises."""
        loop = LoopThread()

        async def opened() -> Store:
            return await opener()

        try:
            store = loop.run(opened())
        except BaseException:
            loop.stop()
            raise
        return cls(store, loop)

    def insert(self, jobs: Sequence[Job]) -> list[Job]:
        return self._loop.run(self._store.insert(jobs))

    def find(self, prefix: str) -> Job:
        return self._loop.run(self._store.find(prefix))

    def pruned_at(self, job_id: str) -> float | None:
        return self._loop.run(self._store.pruned_at(job_id))

    def counts(self) -> dict[Status, int]:
        return self._loop.run(self._store.counts())

    def steps(self, job_id: str) -> list[Step]:
        return self._loop.run(self._store.steps(job_id))

    def insert_rerun(self, job: Job, steps: Sequence[Step]) -> Job:
        return self._loop.run(self._store.insert_rerun(job, steps))

    def cancel_queued(self, changes: Sequence[Change], action: Action | None) -> list[bool]:
        return self._loop.run(self._store.cancel_queued(changes, action))

    def request_cancel(
        self, requests: Sequence[CancelRequest], action: Action | None
    ) -> list[bool]:
        return self._loop.run(self._store.request_cancel(requests, action))

    def close(self) -> None:
        if self._loop.forked:
            return  # the parent's pool is the parent's to close
        try:
            self._loop.run(self._store.close())
        finally:
            self._loop.stop()


__all__ = ["LoopThread", "LoopedStore"]
