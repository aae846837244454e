"""The feed behind the main screen: what a tick reads, by what changed since the last one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from monitor_scenario import Clock, Ids, open_engine

from jobdeck.core import Engine, Status
from jobdeck.tui import feed as feed_module
from jobdeck.tui.feed import PANE_ORDER, Feed, PaneQuery

QUERIES = {status: PaneQuery(10, newest_first=True) for status in PANE_ORDER}


@pytest.fixture
async def engine(scene: tuple[Path, Clock, Ids]) -> AsyncIterator[Engine]:
    engine = await open_engine(*scene)
    try:
        yield engine
    finally:
        await engine.store.close()


async def test_the_first_poll_reads_every_pane(engine: Engine) -> None:
    snapshot = await Feed(engine).poll(QUERIES)
    assert set(snapshot.pages) == set(PANE_ORDER)
    assert snapshot.counts == {
        Status.QUEUED: 2,
        Status.RUNNING: 1,
        Status.DONE: 5,
        Status.FAILED: 3,
    }


async def test_a_tick_without_events_reads_no_page(engine: Engine) -> None:
    feed = Feed(engine)
    await feed.poll(QUERIES)
    snapshot = await feed.poll(QUERIES)
    assert snapshot.pages == {}
    assert snapshot.counts[Status.DONE] == 5


async def test_a_prune_without_events_reloads_the_panes_it_emptied(engine: Engine) -> None:
    feed = Feed(engine)
    first = await feed.poll(QUERIES)
    assert len(first.pages[Status.DONE]) == 5
    pruned = await engine.prune(done_older_than=0)
    assert pruned.jobs > 0
    snapshot = await feed.poll(QUERIES)
    assert set(snapshot.pages) == {Status.DONE}
    assert len(snapshot.pages[Status.DONE]) == 5 - pruned.jobs
    assert snapshot.counts[Status.DONE] == 5 - pruned.jobs
    assert snapshot.rate >= 0  # fewer finished jobs than a moment ago is no negative rate


async def test_a_tick_reads_the_panes_its_events_touched(engine: Engine) -> None:
    feed = Feed(engine)
    await feed.poll(QUERIES)
    await engine.submit("demo.echo", {"n": 42})
    snapshot = await feed.poll(QUERIES)
    assert set(snapshot.pages) == {Status.QUEUED}
    assert snapshot.counts[Status.QUEUED] == 3


async def test_a_tick_far_behind_skips_the_events_and_reads_every_pane(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = Feed(engine)
    await feed.poll(QUERIES)
    monkeypatch.setattr(feed_module, "EVENTS_PER_TICK", 2)

    async def no_events(since: int = 0, limit: int = 500) -> list[object]:
        raise AssertionError("a tick far behind reads no events")

    monkeypatch.setattr(engine, "events", no_events)
    for n in range(3):
        await engine.submit("demo.echo", {"n": 100 + n})
    snapshot = await feed.poll(QUERIES)
    assert set(snapshot.pages) == set(PANE_ORDER)
    assert feed.cursor == await engine.store.last_cursor()


async def test_filtered_by_a_worker_only_its_running_jobs_are_read(engine: Engine) -> None:
    from monitor_scenario import RUNNING_SLEEP

    snapshot = await Feed(engine, worker="worker-a").poll(QUERIES)
    assert [job.id for job in snapshot.pages[Status.RUNNING]] == [RUNNING_SLEEP]
    assert snapshot.worker_running == 1
    assert all(snapshot.pages[s] == [] for s in (Status.QUEUED, Status.DONE, Status.FAILED))
    other = await Feed(engine, worker="worker-b").poll(QUERIES)
    assert other.pages[Status.RUNNING] == [] and other.worker_running == 0


async def test_the_strip_samples_the_queue_depth_and_reads_the_rollup_once_a_bucket(
    engine: Engine, scene: tuple[Path, Clock, Ids], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = scene[1]
    reads: list[float] = []
    throughput = engine.throughput

    async def counted(**kw: Any) -> tuple[list[float], list[float]]:
        reads.append(clock())
        return await throughput(**kw)

    monkeypatch.setattr(engine, "throughput", counted)
    feed = Feed(engine)
    first = await feed.poll(QUERIES)
    assert first.throughput is not None and first.throughput.queued_now == 2
    assert sum(first.throughput.done) > 0  # the scene's jobs finished within 5 minutes
    await feed.poll(QUERIES)
    assert len(reads) == 1  # same bucket, nothing finished
    clock.advance(10)
    await engine.submit("demo.echo", {"n": 77})
    later = await feed.poll(QUERIES)
    assert len(reads) == 2
    assert later.throughput is not None and later.throughput.queued[-2:] == [2.0, 3.0]
