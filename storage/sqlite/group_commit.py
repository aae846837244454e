"""Group commit: inserts that arrive while one is being written go together in the next
transaction, so many concurrent `submit` calls share commits instead of queueing for one each.

A lone caller waits for nobody: its write starts at once. Each caller still gets only its own
results, and only after the transaction holding its jobs has committed. When a shared write
fails with jobdeck's own error (a value the database cannot store, a full disk), each caller's
jobs are written again on their own, so one caller's bad input never becomes another's error.
"""

from __future__ import annotations

import asyncio
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
