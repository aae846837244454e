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
    everybody waiting; callers arriving meanwhile wait. When its write ends and others are
    waiting, it writes their group too, up to TURNS groups in all, and then wakes the first
    waiting caller to go on: waking a thread takes longer on a busy machine than a commit does,
    so the writer that is already running keeps the commits coming, and no caller writes for
    others for long. A lone caller never waits for anybody."""

    TURNS = 4

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
        # The first group holds this caller's own items: its errors are this caller's too.
        more = self._write_group(last=self.TURNS == 1)
        turn = 1
        while more:
            turn += 1
            try:
                more = self._write_group(last=turn >= self.TURNS)
            except Exception:  # noqa: BLE001 -- already handed to that group's callers
                more = False
        return slot.answer()

    def _write_group(self, *, last: bool) -> bool:
        """Write everything waiting; answers whether this caller keeps writing (others waited
        meanwhile and it has turns left)."""
        with self._lock:
            group, self._waiting = self._waiting, []
        failed = False
        try:
            try:
                results = self._write([item for slot in group for item in slot.items])
            except JobdeckError:
                if len(group) == 1:
                    raise
                self._one_by_one(group)
            else:
                start = 0
                for slot in group:
                    slot.results = results[start : start + len(slot.items)]
                    start += len(slot.items)
        except BaseException as err:  # jobdeck's error, an interrupt or a bug: all hear of it
            failed = True
            for slot in group:
                if slot.results is None and slot.error is None:
                    slot.error = err
            raise
        finally:
            keep = self._hand_on(group, keep=not (last or failed))
        return keep

    def _one_by_one(self, group: list[_Slot[Item, Out]]) -> None:
        for slot in group:
            try:
                slot.results = self._write(list(slot.items))
            except JobdeckError as err:
                slot.error = err

    def _hand_on(self, group: list[_Slot[Item, Out]], *, keep: bool) -> bool:
        """Answer the group; when callers are waiting, either keep writing (answer True) or
        wake the first of them to write the next group."""
        nxt = None
        with self._lock:
            if not self._waiting:
                self._writing = False
                keep = False
            elif not keep:
                nxt = self._waiting[0]
                nxt.lead = True
        for slot in group:
            if slot.done is not None:
                slot.done.set()
        if nxt is not None and nxt.done is not None:
            nxt.done.set()
        return keep
