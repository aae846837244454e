"""Retention through the engine and real workers, once per backend: prune deletes only finished
jobs past their cutoff, with everything of theirs, keeps the counts exact, never reuses an event
cursor and never makes a reader skip or repeat an event; a rerun outlives its original; only one
worker at a time holds the retention lease, and a worker prunes on its own.

The engine's clock is a `Clock` the test moves by hand, so jobs are days old in a millisecond."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from typing import Any

import asyncpg
import pytest

from jobdeck.core import Engine, Status, Worker, demo_registry
from jobdeck.core.errors import InvalidInput, NotFound, StorageError
from jobdeck.core.retention import OFF, Retainer, Retention
from jobdeck.core.schedule import Schedule
from jobdeck.core.store import Pruned, Record, Store
from jobdeck.storage import is_postgres_url
from jobdeck.tui.render import detail_json, detail_text
from tests.engine.conftest import drain

DAY = 86_400.0
T0 = 1_790_000_000.0  # 2026-09-21: when the old jobs ran
NOW = T0 + 10 * DAY  # when the tests prune


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def engine(store: Store, clock: Clock) -> Engine:
    return Engine(store, demo_registry(), clock=clock)


async def sql(db_url: str, query: str) -> list[tuple[Any, ...]]:
    """Read the database behind the engine's back (plain sqlite3, or asyncpg)."""
    if is_postgres_url(db_url):
        conn = await asyncpg.connect(db_url)
        try:
            await conn.execute("SET search_path TO jobdeck")
            return [tuple(row) for row in await conn.fetch(query)]
        finally:
            await conn.close()
    with closing(sqlite3.connect(db_url)) as conn:
        return conn.execute(query).fetchall()


def listed(ids: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{i}'" for i in ids) + ")"  # ids are letters and digits


TABLES = ("attempts", "steps", "events", "faults", "schedule_runs")


async def rows_of(db_url: str, ids: Sequence[str]) -> dict[str, int]:
    """Rows of these jobs in jobs and in every table that points at a job."""
    found = {}
    for table in ("jobs", *TABLES):
        column = "id" if table == "jobs" else "job_id"
        query = f"SELECT count(*) FROM {table} WHERE {column} IN {listed(ids)}"
        found[table] = int((await sql(db_url, query))[0][0])
    return found


async def counts_are_exact(db_url: str) -> None:
    kept = dict(await sql(db_url, "SELECT status, n FROM counts WHERE n <> 0"))
    real = dict(await sql(db_url, "SELECT status, count(*) FROM jobs GROUP BY status"))
    assert {k: int(v) for k, v in kept.items()} == {k: int(v) for k, v in real.items()}


async def old_and_new(engine: Engine, clock: Clock) -> dict[str, list[str]]:
    """Jobs of every shape that ran at T0 (old), finished ones that ran a day before NOW (new),
    and one queued and one running job: what the prune tests start from; the clock ends at NOW."""
    shapes: dict[str, list[str]] = {"old_done": [], "old_failed": [], "new": [], "live": []}
    for n in range(3):
        shapes["old_done"].append((await engine.submit("demo.echo", {"n": n})).id)
    entry = Schedule("retention.tick", "demo.echo", "* * * * *")
    (state,) = await engine.store.declare_schedules(
        [(entry.name, entry.kind, entry.cron, "UTC")], T0
    )
    ticked = await engine.make_ticks(entry, state.last_tick, [T0])
    assert ticked is not None
    shapes["old_done"].append(ticked[0].id)  # a schedule's tick: it has a schedule run
    denied = await engine.submit("demo.charge", {"amount": 5, "currency": "EUR"})
    faulted = await engine.submit("demo.transfer", {"from": "a", "to": "b", "amount": 3})
    await engine.arm_fault(job_id=faulted.id, at_step="credit", reason="credit is down")
    shapes["old_failed"] += [denied.id, faulted.id]
    await drain(engine)
    clock.now = NOW - DAY
    shapes["new"].append((await engine.submit("demo.echo", {"n": "new"})).id)
    shapes["new"].append((await engine.submit("demo.charge", {"amount": 1, "currency": "X"})).id)
    await drain(engine)
    clock.now = NOW
    shapes["live"].append((await engine.submit("demo.sleep", {"seconds": 60})).id)
    await engine.store.claim("elsewhere", ["demo.sleep"], 1, NOW, 3600)
    shapes["live"].append((await engine.submit("demo.echo", {"n": "queued"})).id)
    return shapes


# -- what a prune deletes ------------------------------------------------------------------------
async def test_prune_deletes_finished_jobs_past_their_cutoff_with_all_their_rows(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    shapes = await old_and_new(engine, clock)
    old = shapes["old_done"] + shapes["old_failed"]
    before = await rows_of(db_url, old)
    assert all(before.values()), before  # a row in every table
    pruned = await engine.prune(done_older_than=7 * DAY, failed_older_than=7 * DAY, batch=2)
    assert pruned == Pruned(len(old), before["attempts"], before["steps"], before["events"])
    assert await rows_of(db_url, old) == dict.fromkeys(("jobs", *TABLES), 0)
    kept = shapes["new"] + shapes["live"]
    assert (await rows_of(db_url, kept))["jobs"] == len(kept)
    await counts_are_exact(db_url)


async def test_each_status_has_its_own_cutoff_and_kind_narrows_it(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    shapes = await old_and_new(engine, clock)
    assert await engine.prune(failed_older_than=30 * DAY) == Pruned()  # 10 days is not 30
    echo = await engine.prune(done_older_than=7 * DAY, kind="demo.charge")
    assert echo.jobs == 0  # the old demo.charge job failed; done ones only
    done = await engine.prune(done_older_than=7 * DAY)
    assert done.jobs == len(shapes["old_done"])
    left = await rows_of(db_url, shapes["old_failed"])
    assert left["jobs"] == len(shapes["old_failed"])
    failed = await engine.prune(failed_older_than=7 * DAY, kind="demo.charge")
    assert failed.jobs == 1
    await counts_are_exact(db_url)


async def test_prune_never_deletes_a_queued_or_running_job(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    shapes = await old_and_new(engine, clock)
    clock.now = NOW + 365 * DAY  # every job is a year old: only finished ones may go
    await engine.prune(done_older_than=0, failed_older_than=0)
    assert (await rows_of(db_url, shapes["live"]))["jobs"] == 2
    assert (await engine.get(shapes["live"][0])).status is Status.RUNNING
    assert (await engine.get(shapes["live"][1])).status is Status.QUEUED
    counts = await engine.counts()
    assert (counts[Status.QUEUED], counts[Status.RUNNING]) == (1, 1)
    await counts_are_exact(db_url)


async def test_a_dry_run_deletes_nothing_and_predicts_the_real_prune(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    shapes = await old_and_new(engine, clock)
    everything = [i for ids in shapes.values() for i in ids]
    before = await rows_of(db_url, everything)
    told = await engine.prune(done_older_than=7 * DAY, failed_older_than=DAY / 2, dry_run=True)
    assert await rows_of(db_url, everything) == before
    assert told.jobs == len(shapes["old_done"] + shapes["old_failed"]) + 1  # and the new failure
    assert await engine.prune(done_older_than=7 * DAY, failed_older_than=DAY / 2) == told


async def test_bad_cutoffs_are_refused_before_anything_is_read(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="say how old"):
        await engine.prune()
    with pytest.raises(InvalidInput, match="zero or more seconds"):
        await engine.prune(done_older_than=-DAY)
    with pytest.raises(InvalidInput, match="zero or more seconds"):
        await engine.prune(failed_older_than=float("nan"))
    with pytest.raises(InvalidInput, match="batch"):
        await engine.prune(done_older_than=DAY, batch=0)


# -- the archive callback ------------------------------------------------------------------------
async def test_the_archive_sees_each_record_before_it_is_deleted_and_only_its_ids_go(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    shapes = await old_and_new(engine, clock)
    failed_rows = await rows_of(db_url, shapes["old_failed"])
    seen: list[Record] = []

    def archive(records: Sequence[Record]) -> list[str]:
        seen.extend(records)
        return [r.job.id for r in records if r.job.status is Status.DONE]  # failed ones: no

    pruned = await engine.prune(
        done_older_than=7 * DAY, failed_older_than=7 * DAY, archive=archive, batch=2
    )
    assert sorted({r.job.id for r in seen}) == sorted(shapes["old_done"] + shapes["old_failed"])
    by_id = {r.job.id: r for r in seen}
    faulted = by_id[shapes["old_failed"][1]]
    assert faulted.attempts and faulted.steps and faulted.events  # the whole job, not the row
    assert [e.cursor for e in faulted.events] == sorted(e.cursor for e in faulted.events)
    done = [by_id[i] for i in shapes["old_done"]]
    assert pruned == Pruned(
        len(done),
        sum(len(r.attempts) for r in done),
        sum(len(r.steps) for r in done),
        sum(len(r.events) for r in done),
    )
    assert (await rows_of(db_url, shapes["old_done"]))["jobs"] == 0
    assert await rows_of(db_url, shapes["old_failed"]) == failed_rows  # not returned: kept


async def test_an_archive_that_fails_stops_the_prune_before_its_batch_is_deleted(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    shapes = await old_and_new(engine, clock)
    old = shapes["old_done"] + shapes["old_failed"]
    calls, fail_on = 0, 1

    def archive(records: Sequence[Record]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == fail_on:
            raise StorageError("the archive's disk is full.")
        return [r.job.id for r in records]

    before = await rows_of(db_url, old)
    with pytest.raises(StorageError, match="disk is full"):
        await engine.prune(done_older_than=7 * DAY, failed_older_than=7 * DAY, archive=archive)
    assert await rows_of(db_url, old) == before  # its one batch: nothing went
    calls, fail_on = 0, 2
    with pytest.raises(StorageError, match="disk is full"):
        await engine.prune(
            done_older_than=7 * DAY, failed_older_than=7 * DAY, archive=archive, batch=2
        )
    assert (await rows_of(db_url, old))["jobs"] == len(old) - 2  # the first batch of two only
    await counts_are_exact(db_url)


# -- what is left of a pruned job ----------------------------------------------------------------
async def test_a_pruned_id_says_it_was_pruned_and_an_unknown_one_does_not(
    engine: Engine, clock: Clock
) -> None:
    shapes = await old_and_new(engine, clock)
    await engine.prune(done_older_than=7 * DAY)
    gone = shapes["old_done"][0]
    with pytest.raises(NotFound, match=rf"job {gone} was pruned on 2026-10-01T\d\d:\d\d:\d\dZ"):
        await engine.get(gone)
    with pytest.raises(NotFound, match="was pruned"):
        await engine.detail(gone)
    with pytest.raises(NotFound) as unknown:
        await engine.get("0" * 26)
    assert "pruned" not in str(unknown.value)


async def test_a_rerun_outlives_its_pruned_original_and_says_original_pruned(
    engine: Engine, clock: Clock
) -> None:
    original = await engine.submit("demo.charge", {"id": "c1", "amount": 5, "currency": "EUR"})
    await drain(engine)
    clock.now = NOW - DAY
    rerun = await engine.rerun(original.id)
    await drain(engine)
    again = await engine.rerun(rerun.id)
    await drain(engine)
    clock.now = NOW
    assert (await engine.prune(done_older_than=7 * DAY)).jobs == 1
    detail = await engine.detail(rerun.id)
    assert detail.original is None and detail.lineage is not None
    assert detail.lineage.job.id == rerun.id and detail.lineage.original_pruned
    assert [n.job.id for n in detail.lineage.reruns] == [again.id]
    assert not detail.lineage.reruns[0].original_pruned  # the root only
    text = detail_text(detail)
    assert f"  → {rerun.id}  done  original pruned ({original.id})" in text.splitlines()
    assert detail_json(detail)["lineage"]["original_pruned"] is True
    assert "original_pruned" not in detail_json(detail)["lineage"]["reruns"][0]
    from_again = (await engine.detail(again.id)).lineage
    assert from_again is not None and from_again.job.id == rerun.id and from_again.original_pruned
    with pytest.raises(NotFound, match="was pruned; it has no verdict"):
        await engine.report(rerun.id)
    with pytest.raises(NotFound, match="was pruned"):
        await engine.rerun(original.id)


async def test_a_rerun_whose_original_lives_says_nothing_of_pruning(
    engine: Engine, clock: Clock
) -> None:
    original = await engine.submit("demo.echo", {"n": 1})
    await drain(engine)
    rerun = await engine.rerun(original.id)
    await drain(engine)
    detail = await engine.detail(rerun.id)
    assert detail.lineage is not None and not detail.lineage.original_pruned
    assert "pruned" not in detail_text(detail)
    assert "original_pruned" not in detail_json(detail)["lineage"]


# -- cursors ---------------------------------------------------------------------------------------
async def test_no_event_cursor_is_handed_out_twice_after_pruning_every_finished_job(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    for n in range(5):
        await engine.submit("demo.echo", {"n": n})
    await drain(engine)  # the newest event is a finished job's
    newest = await engine.store.last_cursor()
    clock.now = NOW
    pruned = await engine.prune(done_older_than=0)
    assert pruned.jobs >= 4  # SQLite keeps the job holding the newest event; PostgreSQL need not
    job = await engine.submit("demo.echo", {"n": "after"})
    (event,) = [e for e in await engine.events(0, 1000) if e.job_id == job.id]
    assert event.cursor > newest
    everything = await engine.prune(done_older_than=0)  # the first survivor may go now
    await drain(engine)
    later = await engine.submit("demo.echo", {"n": "later"})
    cursors = [e.cursor for e in await engine.events(0, 1000) if e.job_id == later.id]
    assert cursors and min(cursors) > max(newest, event.cursor)
    assert everything.jobs <= 1
    await counts_are_exact(db_url)


async def test_a_reader_following_events_across_prunes_sees_each_live_event_once(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    """The reader follows the log while every old job goes, then while jobs are submitted, run
    and pruned as soon as they finish (the newest events go again and again): no cursor comes
    twice, and every event still stored at the end was read."""
    await engine.submit_many("demo.echo", [{"n": n} for n in range(60)])
    await drain(engine)
    clock.now = NOW
    start = await engine.store.last_cursor()
    seen: list[int] = []
    writers_done = asyncio.Event()

    async def follow() -> None:
        cursor = start
        while True:
            batch = await engine.events(cursor, 7)
            seen.extend(e.cursor for e in batch)
            if batch:
                cursor = batch[-1].cursor
            elif writers_done.is_set():
                return
            await asyncio.sleep(0)

    submitted = asyncio.Event()

    async def submit() -> None:
        for n in range(20):
            await engine.submit("demo.echo", {"n": f"live {n}"})
            await engine.submit("demo.charge", {"id": f"c{n}", "amount": 1, "currency": "EUR"})
            await asyncio.sleep(0)
        submitted.set()

    async def churn() -> Pruned:
        """Prune the echo jobs as soon as they finish, until every one has finished and gone
        (SQLite may keep the one holding the newest event); the charges stay, so each of their
        events must reach the reader, even one that came right after a prune."""
        total = Pruned()

        async def echoes_left() -> int:
            echo = (await engine.store.kind_counts()).get("demo.echo", {})
            return sum(echo.values())

        while not submitted.is_set() or await echoes_left() > 1:
            clock.now += 1  # what finished a moment ago is past a cutoff of 0 s
            total += await engine.prune(done_older_than=0, kind="demo.echo", batch=2)
            await asyncio.sleep(0.001)
        return total

    reader = asyncio.create_task(follow())
    old = await engine.prune(done_older_than=7 * DAY, batch=3)
    assert old.jobs >= 59  # SQLite keeps the one holding the newest event
    stop = asyncio.Event()
    worker = asyncio.create_task(Worker(engine, poll=0.005, lease=3600, retention=OFF).run(stop))
    try:
        _, churned = await asyncio.wait_for(asyncio.gather(submit(), churn()), 20)
    finally:
        stop.set()
        await worker
        writers_done.set()  # the reader stops at the end of the log
        await asyncio.wait_for(reader, 10)
    assert churned.jobs >= 10, churned  # pruned while the reader read
    assert seen == sorted(set(seen)), "a cursor came twice or went backwards"
    stored = await sql(db_url, f"SELECT cursor FROM events WHERE cursor > {start}")
    assert len(stored) >= 20 * 3  # each charge was created, claimed and done
    assert {int(c) for (c,) in stored} <= set(seen), "an event was skipped"


# -- automatic retention ---------------------------------------------------------------------------
async def test_only_one_owner_holds_the_retention_lease_at_a_time(store: Store) -> None:
    assert await store.take_lease("retention", "a", 100.0, 10.0)
    assert not await store.take_lease("retention", "b", 105.0, 10.0)
    assert await store.take_lease("retention", "a", 105.0, 10.0)  # renewed: until 115
    assert not await store.take_lease("retention", "b", 114.0, 10.0)
    assert await store.take_lease("retention", "b", 115.5, 10.0)  # expired: taken over
    assert not await store.take_lease("retention", "a", 116.0, 10.0)
    assert await store.take_lease("other", "a", 116.0, 10.0)  # another lease is another name


async def test_two_workers_only_one_prunes_each_round(engine: Engine, clock: Clock) -> None:
    await engine.submit_many("demo.echo", [{"n": n} for n in range(10)])
    await drain(engine)
    await engine.submit("demo.echo", {"n": "later"}, delay=DAY)  # holds the newest event
    clock.now = NOW
    keep = Retention(done=7 * DAY, failed=None, every=60.0)
    first, second = Retainer(engine, "w1", keep), Retainer(engine, "w2", keep)
    rounds = await asyncio.gather(first.round(), second.round())
    assert sorted(r is None for r in rounds) == [False, True]
    assert (await engine.counts())[Status.DONE] == 0
    holder, other = (first, second) if rounds[0] is not None else (second, first)
    assert holder.pruned.jobs == 10 and other.pruned == Pruned()
    clock.now += 60
    assert await other.round() is None  # the holder's lease lasts two rounds
    assert await holder.round() == Pruned()
    clock.now += 121
    assert await other.round() == Pruned()  # the holder stopped renewing: taken over


async def test_a_worker_prunes_old_finished_jobs_by_itself(engine: Engine, clock: Clock) -> None:
    old = await engine.submit_many("demo.echo", [{"n": n} for n in range(20)])
    await drain(engine)
    held = await engine.submit("demo.echo", {"n": "later"}, delay=DAY)  # stays queued
    clock.now = T0 + 5
    keep = Retention(done=1.0, failed=1.0, every=0.1, batch=3)
    worker = Worker(engine, poll=0.01, lease=3600, retention=keep)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + 5
        while (await engine.counts())[Status.DONE]:
            assert asyncio.get_running_loop().time() < deadline, "nothing was pruned in 5 s"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert worker.retainer.pruned.jobs == len(old)
    assert (await engine.get(held.id)).status is Status.QUEUED


async def test_a_burst_worker_and_retention_off_never_prune(engine: Engine, clock: Clock) -> None:
    await engine.submit_many("demo.echo", [{"n": n} for n in range(3)])
    await drain(engine)
    clock.now = NOW
    eager = Retention(done=0.0, failed=0.0, every=0.01)
    await engine.submit("demo.sleep", {"seconds": 0.3})  # keeps the burst worker busy a while
    await Worker(engine, burst=True, poll=0.01, retention=eager).run()
    stop = asyncio.Event()
    idle = asyncio.create_task(Worker(engine, poll=0.01, retention=OFF).run(stop))
    await asyncio.sleep(0.3)
    stop.set()
    await idle
    assert (await engine.counts())[Status.DONE] == 4


async def test_a_failed_round_is_logged_once_and_the_next_round_prunes(
    engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await engine.submit_many("demo.echo", [{"n": n} for n in range(3)])
    await drain(engine)
    await engine.submit("demo.echo", {"n": "later"}, delay=DAY)
    clock.now = NOW
    retainer = Retainer(engine, "w1", Retention(done=DAY, failed=None))
    prune = engine.prune

    async def broken(**kw: Any) -> Pruned:
        raise StorageError("the database is locked.")

    monkeypatch.setattr(engine, "prune", broken)
    with caplog.at_level(logging.WARNING, logger="jobdeck.retention"):
        assert await retainer.round() is None
    assert [r.getMessage() for r in caplog.records] == [
        "retention round failed (the database is locked.); trying again in 60 s"
    ]
    monkeypatch.setattr(engine, "prune", prune)
    assert (await retainer.round()) == Pruned(3, 3, 0, 9)


async def test_a_bug_in_a_round_is_logged_with_its_traceback_and_retention_goes_on(
    engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await engine.submit_many("demo.echo", [{"n": n} for n in range(3)])
    await drain(engine)
    await engine.submit("demo.echo", {"n": "later"}, delay=DAY)
    clock.now = NOW
    retainer = Retainer(engine, "w1", Retention(done=DAY, failed=None, every=0.01))
    prune, calls, second = engine.prune, [], asyncio.Event()

    async def buggy(**kw: Any) -> Pruned:
        calls.append(kw)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        second.set()
        return await prune(**kw)

    monkeypatch.setattr(engine, "prune", buggy)
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="jobdeck.retention"):
        task = asyncio.create_task(retainer.run(stop))
        await asyncio.wait_for(second.wait(), 5)
        stop.set()  # the round under way ends first
        await asyncio.wait_for(task, 5)
    (record,) = caplog.records
    assert record.exc_info is not None and "a bug" in str(record.exc_info[1])
    assert retainer.pruned.jobs == 3


async def test_a_round_that_runs_out_of_budget_comes_again_after_a_rest(
    engine: Engine, clock: Clock
) -> None:
    old = await engine.submit_many("demo.echo", [{"n": n} for n in range(40)])
    await drain(engine)
    await engine.submit("demo.echo", {"n": "later"}, delay=DAY)
    clock.now = NOW
    # A round a minute that deletes one job per transaction for about a millisecond: only
    # rounds that come again after `rest` while behind can prune forty jobs within seconds.
    keep = Retention(done=DAY, failed=None, every=60.0, soon=60.0, batch=1, budget=0.001, rest=0.01)
    retainer = Retainer(engine, "w1", keep)
    stop = asyncio.Event()
    task = asyncio.create_task(retainer.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + 20
        # Done once every old job is gone and a round found nothing left (a full minute next).
        while retainer.pruned.jobs < len(old) or retainer.wait != keep.every:
            assert asyncio.get_running_loop().time() < deadline, retainer.pruned
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert retainer.pruned.jobs == len(old)


async def test_a_round_that_pruned_something_comes_again_soon(engine: Engine, clock: Clock) -> None:
    await engine.submit_many("demo.echo", [{"n": n} for n in range(3)])
    await drain(engine)  # finished at T0
    clock.now = T0 + 2 * DAY
    await engine.submit_many("demo.echo", [{"n": n} for n in range(3, 5)])
    await drain(engine)  # finished two days later
    await engine.submit("demo.echo", {"n": "later"}, delay=DAY)  # holds the newest event
    clock.now = T0 + 1.5 * DAY  # only the first three are older than a day
    keep = Retention(done=DAY, failed=None, every=60.0, soon=0.05)
    retainer = Retainer(engine, "w1", keep)
    stop = asyncio.Event()
    task = asyncio.create_task(retainer.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while retainer.pruned.jobs < 3:
            assert asyncio.get_running_loop().time() < deadline, retainer.pruned
            await asyncio.sleep(0.02)
        assert retainer.wait == keep.soon
        # Jobs that age past the cutoff while the worker waits go at the next round, seconds
        # later under a steady load, not a minute later.
        clock.now = NOW
        while retainer.pruned.jobs < 5:
            assert asyncio.get_running_loop().time() < deadline, retainer.pruned
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_round_that_found_nothing_waits_until_the_oldest_job_comes_of_age(
    engine: Engine, clock: Clock
) -> None:
    keep = Retention(done=DAY, failed=None, every=60.0, soon=0.05)
    retainer = Retainer(engine, "w1", keep)
    assert await retainer.round() == Pruned() and retainer.wait == keep.every  # nothing finished
    await engine.submit_many("demo.echo", [{"n": n} for n in range(3)])
    await drain(engine)  # finished at T0
    await engine.submit("demo.echo", {"n": "later"}, delay=DAY)  # holds the newest event
    clock.now = T0 + DAY - 0.3
    assert await retainer.round() == Pruned()
    assert retainer.wait == pytest.approx(0.3)  # not the minute a worker waited before
    stop = asyncio.Event()
    task = asyncio.create_task(retainer.run(stop))
    try:
        await asyncio.sleep(0.1)
        clock.now = T0 + DAY + 1  # they come of age while the worker waits
        deadline = asyncio.get_running_loop().time() + 20
        while retainer.pruned.jobs < 3:
            assert asyncio.get_running_loop().time() < deadline, retainer.pruned
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_job_that_cannot_go_does_not_make_retention_ask_every_few_seconds(
    engine: Engine, clock: Clock
) -> None:
    await engine.submit_many("demo.echo", [{"n": 1}])
    await drain(engine)
    clock.now = NOW
    retainer = Retainer(engine, "w1", Retention(done=DAY, failed=None, soon=0.05))
    pruned = await retainer.round()
    if pruned == Pruned():  # SQLite keeps the job holding the newest event
        assert retainer.wait == retainer.retention.every
    else:  # PostgreSQL never reuses a cursor, so it pruned it
        assert pruned is not None and pruned.jobs == 1
