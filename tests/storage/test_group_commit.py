"""Group commit: concurrent inserts share a write, each caller gets its own results, and one
caller's bad input fails that caller alone."""

from __future__ import annotations

import asyncio

import pytest

from jobdeck.core import Engine, demo_registry
from jobdeck.core.errors import InvalidInput
from jobdeck.storage import SqliteStore
from jobdeck.storage.sqlite.group_commit import GroupCommit


class Recorder:
    def __init__(self) -> None:
        self.writes: list[list[int]] = []

    async def __call__(self, items: list[int]) -> list[int]:
        self.writes.append(list(items))
        await asyncio.sleep(0.001)
        if any(i < 0 for i in items):
            raise InvalidInput("negative")
        return [i * 10 for i in items]


async def test_callers_arriving_together_share_one_write() -> None:
    write = Recorder()
    group = GroupCommit(write)
    results = await asyncio.gather(*(group([i, i + 100]) for i in range(5)))
    assert results == [[i * 10, (i + 100) * 10] for i in range(5)]
    assert write.writes == [[0, 100, 1, 101, 2, 102, 3, 103, 4, 104]]


async def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    write = Recorder()
    group = GroupCommit(write)
    first = asyncio.create_task(group([0]))
    await asyncio.sleep(0)  # its write has started
    later = [asyncio.create_task(group([i])) for i in (1, 2, 3)]
    assert await first == [0]
    assert await asyncio.gather(*later) == [[10], [20], [30]]
    assert write.writes == [[0], [1, 2, 3]]


async def test_a_lone_caller_writes_at_once() -> None:
    write = Recorder()
    group = GroupCommit(write)
    assert await group([7]) == [70]
    assert await group([8]) == [80]
    assert write.writes == [[7], [8]]


async def test_one_callers_bad_input_fails_that_caller_alone() -> None:
    write = Recorder()
    group = GroupCommit(write)
    first = asyncio.create_task(group([1]))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group(items)) for items in ([2], [-3], [4])]
    assert await first == [10]
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert outcomes[0] == [20] and outcomes[2] == [40]
    assert isinstance(outcomes[1], InvalidInput)


async def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    write = Recorder()
    group = GroupCommit(write)
    first = asyncio.create_task(group([1]))
    await asyncio.sleep(0)
    gone = asyncio.create_task(group([2]))
    kept = asyncio.create_task(group([3]))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == [10]
    assert await kept == [30]
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_concurrent_submits_on_sqlite_keep_idempotency(store: SqliteStore) -> None:
    engine = Engine(store, demo_registry())
    jobs = await asyncio.gather(*(engine.submit("demo.echo", {"n": i % 10}) for i in range(50)))
    assert len({job.id for job in jobs}) == 10
    for i, job in enumerate(jobs):
        assert job.payload == {"n": i % 10}
    assert sum((await engine.counts()).values()) == 10
    assert len(await engine.events()) == 10
