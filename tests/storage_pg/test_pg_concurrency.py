"""What only a server shared by many processes can get wrong: two claimers, two inserters of one
key, a reader of the events log while writers commit out of order, and wake-ups by NOTIFY."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from jobdeck.core.contract import Fail, Status, Succeed
from jobdeck.storage.postgres.store import PostgresStore
from jobdeck.storage.sqlite.store import SqliteStore
from tests.storage.conftest import NOW, change, make_job, make_reason

from .conftest import sql


async def test_two_stores_never_claim_the_same_job(store: PostgresStore, pg_url: str) -> None:
    await store.insert([make_job(i) for i in range(300)])
    other = await PostgresStore.open(pg_url)

    async def drain(s: PostgresStore, name: str) -> list[str]:
        got: list[str] = []
        while claimed := await s.claim(name, [], 7, NOW, 30):
            got += [c.job.id for c in claimed]
        return got

    try:
        a, b = await asyncio.gather(drain(store, "a"), drain(other, "b"))
    finally:
        await other.close()
    assert a and b, "both claimers got work: a claim skips locked rows instead of waiting"
    assert not set(a) & set(b)
    assert sorted(a + b) == [make_job(i).id for i in range(300)]
    rows = await sql(pg_url, "SELECT count(*), count(DISTINCT job_id) FROM attempts")
    assert tuple(rows[0]) == (300, 300)


async def test_concurrent_inserts_of_one_key_yield_one_job(
    store: PostgresStore, pg_url: str
) -> None:
    others = [await PostgresStore.open(pg_url) for _ in range(3)]
    try:
        for round_ in range(10):
            jobs = [make_job(100 * round_ + i, key=f"k{round_}") for i in range(4)]
            stored = await asyncio.gather(
                *(s.insert([job]) for s, job in zip([store, *others], jobs, strict=True))
            )
            assert len({got.id for (got,) in stored}) == 1
    finally:
        for other in others:
            await other.close()
    assert (await store.counts())[Status.QUEUED] == 10
    assert len(await store.events()) == 10


async def test_the_database_refuses_two_live_jobs_for_one_key(
    store: PostgresStore, pg_url: str
) -> None:
    await store.insert([make_job(1, key="k")])
    with pytest.raises(asyncpg.UniqueViolationError):
        await sql(
            pg_url,
            "INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts,"
            " idempotency_key, dedupe_key, created_at, updated_at, run_after)"
            " VALUES ('x', 'email', '{}', 'running', 1, 3, 'k', 'k', 0, 0, 0)",
        )


async def test_counts_stay_exact_under_concurrent_writers(
    store: PostgresStore, pg_url: str
) -> None:
    await store.insert([make_job(i) for i in range(200)])
    others = [await PostgresStore.open(pg_url) for _ in range(3)]

    async def work(s: PostgresStore, name: str) -> None:
        n = 0
        while claimed := await s.claim(name, [], 5, NOW, 30):
            n += 1
            event = Succeed(1, NOW) if n % 2 else Fail(make_reason(), NOW)
            assert all(await s.apply([change(c.job, event) for c in claimed]))

    try:
        await asyncio.gather(*(work(s, f"w{i}") for i, s in enumerate([store, *others])))
    finally:
        for other in others:
            await other.close()
    rows = await sql(pg_url, "SELECT status, count(*) FROM jobs GROUP BY status")
    counted = {status: 0 for status in Status} | {Status(s): n for s, n in rows}
    assert await store.counts() == counted
    assert counted[Status.DONE] + counted[Status.FAILED] == 200


async def test_a_reader_following_the_cursor_never_skips_an_event(
    store: PostgresStore, pg_url: str
) -> None:
    writers = [await PostgresStore.open(pg_url) for _ in range(4)]
    seen: list[int] = []
    done = asyncio.Event()

    async def write(s: PostgresStore, w: int) -> None:
        for i in range(25):
            await s.insert([make_job(1000 * w + i)])

    async def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            events = await store.events(since=cursor)
            seen.extend(e.cursor for e in events)
            cursor = events[-1].cursor if events else cursor
            if finished and not events:
                return
            await asyncio.sleep(0)

    reader = asyncio.create_task(follow())
    try:
        await asyncio.gather(*(write(s, w) for w, s in enumerate(writers)))
    finally:
        done.set()
        await reader
        for writer in writers:
            await writer.close()
    assert seen == list(range(1, 101))


async def test_an_idle_waiter_wakes_when_another_process_queues_a_job(
    store: PostgresStore, pg_url: str
) -> None:
    assert store.notifies
    await store.wait_for_jobs(NOW, 0.01)  # the first call starts listening and returns
    other = await PostgresStore.open(pg_url)
    try:
        started = time.monotonic()
        waiting = asyncio.create_task(store.wait_for_jobs(NOW, 10.0))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await other.insert([make_job(1)])
        await asyncio.wait_for(waiting, 5)
        assert time.monotonic() - started < 2
    finally:
        await other.close()


async def test_an_idle_waiter_wakes_when_a_delayed_job_becomes_ready(
    store: PostgresStore,
) -> None:
    await store.wait_for_jobs(NOW, 0.01)
    await store.insert([make_job(1, run_after=NOW + 0.3)])
    await store.wait_for_jobs(NOW, 0.01)  # consume the insert's own notice
    started = time.monotonic()
    await store.wait_for_jobs(NOW, 10.0)
    assert 0.2 < time.monotonic() - started < 2


async def test_sqlite_has_no_notices_and_just_sleeps(tmp_path: object) -> None:
    sqlite = await SqliteStore.open(str(tmp_path) + "/jobs.db")
    try:
        assert not sqlite.notifies
        started = time.monotonic()
        await sqlite.wait_for_jobs(NOW, 0.05)
        assert time.monotonic() - started >= 0.04
    finally:
        await sqlite.close()


async def test_a_batch_naming_one_job_twice_applies_in_order(store: PostgresStore) -> None:
    await store.insert([make_job(1)])
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    first = change(claimed.job, Fail(make_reason(), NOW))
    late = change(claimed.job, Succeed("late", NOW))
    assert await store.apply([first, late]) == [True, False]
    assert (await store.get(claimed.job.id)).status is Status.FAILED
    assert (await store.counts())[Status.FAILED] == 1
