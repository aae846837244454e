"""Group commit: inserts that arrive while one is being written go together in the next
transaction, so many concurrent `submit` calls share commits instead of queueing for one each.

A lone caller waits for nobody: its write starts at once. Each caller still gets only its own
results, and only after the transaction holding its jobs has committed. When a shared write
fails with jobdeck's own error (a value the database cannot store, a full disk), each caller's
jobs are written again on their own, so one caller's bad input never becomes another's error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from jobdeck.core.errors import JobdeckError

Item = TypeVar("Item")
Out = TypeVar("Out")


class GroupCommit(Generic[Item, Out]):
    """Call `write(items)` for the items of every caller waiting at the time, in one call."""

    def __init__(self, write: Callable[[list[Item]], Awaitable[list[Out]]]) -> None:
        self._write = write
        self._waiting: list[tuple[Sequence[Item], asyncio.Future[list[Out]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, items: Sequence[Item]) -> list[Out]:
        done: asyncio.Future[list[Out]] = asyncio.get_running_loop().create_future()
        self._waiting.append((items, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="jobdeck-group-commit")
        return await done

    async def _write_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                results = await self._write([item for items, _ in group for item in items])
            except JobdeckError as err:
                if len(group) == 1:
                    _fail(group[0][1], err)
                else:
                    await self._one_by_one(group)
                continue
            except BaseException as err:  # cancelled, or a bug: nobody may wait forever
                for _, done in [*group, *self._waiting]:
                    _fail(done, err)
                self._waiting = []
                raise
            start = 0
            for items, done in group:
                if not done.done():
                    done.set_result(results[start : start + len(items)])
                start += len(items)

    async def _one_by_one(
        self, group: list[tuple[Sequence[Item], asyncio.Future[list[Out]]]]
    ) -> None:
        for i, (items, done) in enumerate(group):
            try:
                results = await self._write(list(items))
            except JobdeckError as err:
                _fail(done, err)
                continue
            except BaseException as err:
                for _, rest in group[i:]:
                    _fail(rest, err)
                raise
            if not done.done():
                done.set_result(results)


def _fail(done: asyncio.Future[list[Out]], err: BaseException) -> None:
    if not done.done():
        done.set_exception(err)


class _Slot(Generic[Item, Out]):
    """One caller's items waiting in a ThreadGroupCommit, and what came of them."""

    __slots__ = ("done", "error", "items", "lead", "results")

    def __init__(self, items: Sequence[Item]) -> None:
        self.items = items
        self.done: threading.Event | None = None  # only a caller that waits needs one
        self.lead = False  # woken to write the next group rather than with a result
        self.results: list[Out] | None = None
        self.error: BaseException | None = None

    def answer(self) -> list[Out]:
        if self.error is not None:
            raise self.error
        assert self.results is not None
        return self.results


class ThreadGroupCommit(Generic[Item, Out]):
    """The same sharing for blocking callers on many threads (the synchronous Client): no event
    loop and no writer thread. The caller that finds nobody writing writes at once, itself, for
    everybody waiting; callers arriving meanwhile wait, and when that write ends the first of
    them is woken to write the next group (its own among them). So each caller writes at most
    one group, and a lone caller never waits for anybody."""

    def __init__(self, write: Callable[[list[Item]], list[Out]]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._waiting: list[_Slot[Item, Out]] = []
        self._writing = False

    def __call__(self, items: Sequence[Item]) -> list[Out]:
        slot: _Slot[Item, Out] = _Slot(items)
        with self._lock:
            self._waiting.append(slot)
            lead = not self._writing
            self._writing = True
            if not lead:
                slot.done = done = threading.Event()
        if not lead:
            done.wait()
            if not slot.lead:
                return slot.answer()
        self._write_group()
        return slot.answer()

    def _write_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            try:
                results = self._write([item for slot in group for item in slot.items])
            except JobdeckError:
                if len(group) > 1:
                    self._one_by_one(group)
                    return
                raise
            start = 0
            for slot in group:
                slot.results = results[start : start + len(slot.items)]
                start += len(slot.items)
        except BaseException as err:  # jobdeck's error, an interrupt or a bug: all hear of it
            for slot in group:
                if slot.results is None and slot.error is None:
                    slot.error = err
            raise  # the writing caller's own items were in the group: the error is its too
        finally:
            self._hand_on(group)

    def _one_by_one(self, group: list[_Slot[Item, Out]]) -> None:
        for slot in group:
            try:
                slot.results = self._write(list(slot.items))
            except JobdeckError as err:
                slot.error = err

    def _hand_on(self, group: list[_Slot[Item, Out]]) -> None:
        """Answer the group, and wake the first waiting caller to write the next one."""
        with self._lock:
            if self._waiting:
                nxt = self._waiting[0]
                nxt.lead = True
            else:
                nxt = None
                self._writing = False
        for slot in group:
            if slot.done is not None:
                slot.done.set()
        if nxt is not None and nxt.done is not None:
            nxt.done.set()
