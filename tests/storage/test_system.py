"""The system tables on both backends: kind counts kept exact, the rollup written in the
transaction of each move it counts, folded without losing a job, and the worker registry."""

from __future__ import annotations

import asyncio
import math
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jobdeck.core.contract import Category, Deny, Fail, Release, Requeue, Status, Succeed
from jobdeck.core.store import Store
from jobdeck.core.system import (
    ALL_TIME,
    BUCKET_SECONDS,
    HISTOGRAM_SIZE,
    HOUR,
    KEEP_FOR,
    MINUTE,
    Outcome,
    RollupRow,
    WorkerInfo,
    bucket_of,
    fold_cutoffs,
    histogram_slot,
)
from jobdeck.storage import open_store
from tests.storage.conftest import T0, change, denied, make_job, make_reason

CLAIMED = T0 + 100.0  # a bucket start: 10-second buckets are aligned to multiples of 10


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    s = await open_store(db_url)
    yield s
    await s.close()


def totals(rows: list[RollupRow]) -> dict[tuple[str, Outcome, str], int]:
    found: dict[tuple[str, Outcome, str], int] = {}
    for row in rows:
        key = (row.kind, row.outcome, row.code)
        found[key] = found.get(key, 0) + row.n
    return found


async def test_kind_counts_follow_every_insert_claim_transition_and_prune(store: Store) -> None:
    await store.insert([make_job(1), make_job(2), make_job(3, kind="sms"), denied(4, kind="sms")])
    assert await store.kind_counts() == {
        "email": {Status.QUEUED: 2, Status.RUNNING: 0, Status.DONE: 0, Status.FAILED: 0},
        "sms": {Status.QUEUED: 1, Status.RUNNING: 0, Status.DONE: 0, Status.FAILED: 1},
    }
    claimed = await store.claim("w1", ["email"], 2, CLAIMED, 30)
    assert (await store.kind_counts())["email"][Status.RUNNING] == 2
    await store.apply([change(c.job, Succeed(None, CLAIMED + 1)) for c in claimed])
    counts = await store.kind_counts()
    assert counts["email"] == {
        Status.QUEUED: 0,
        Status.RUNNING: 0,
        Status.DONE: 2,
        Status.FAILED: 0,
    }
    pruned = await store.prune([c.job.id for c in claimed], {Status.DONE: CLAIMED + 2}, CLAIMED + 3)
    assert pruned.jobs >= 1  # SQLite keeps the job that holds the newest event
    left = (await store.kind_counts()).get("email", {}).get(Status.DONE, 0)
    assert left == 2 - pruned.jobs
    kinds = await store.kind_counts()
    per_status = {s: sum(kinds[k][s] for k in kinds) for s in Status}
    assert per_status == await store.counts()


async def test_the_rollup_counts_each_outcome_with_its_run_time(store: Store) -> None:
    await store.insert([make_job(i) for i in range(1, 6)] + [denied(9, code="too_big")])
    jobs = {c.job.id: c.job for c in await store.claim("w1", [], 5, CLAIMED, 30)}
    a, b, c, d, e = (jobs[make_job(i).id] for i in range(1, 6))
    boom = make_reason("boom")
    flaky = make_reason("flaky", Category.RETRYABLE)
    cancel = make_reason("cancelled", Category.CANCELLED)
    await store.apply(
        [
            change(a, Succeed(None, CLAIMED + 0.004)),
            change(b, Succeed(None, CLAIMED + 2.0)),
            change(c, Fail(boom, CLAIMED + 0.5)),
            change(d, Requeue(flaky, CLAIMED + 60, CLAIMED + 0.02)),
            change(e, Fail(cancel, CLAIMED + 1)),
        ]
    )
    rows = await store.rollup(CLAIMED - 1)
    assert totals(rows) == {
        ("email", Outcome.DONE, ""): 2,
        ("email", Outcome.FAILED, "boom"): 1,
        ("email", Outcome.RETRIED, "flaky"): 1,
        ("email", Outcome.CANCELLED, "cancelled"): 1,
    }  # the denial happened at T0, before the window
    done = next(row for row in rows if row.outcome is Outcome.DONE)
    assert done.start == CLAIMED and done.width == 10.0
    assert done.run_time == pytest.approx(2.004)
    expected = [0] * HISTOGRAM_SIZE
    expected[histogram_slot(0.004)] += 1
    expected[histogram_slot(2.0)] += 1
    assert list(done.histogram) == expected
    assert totals(await store.rollup(T0 - 1))[("email", Outcome.DENIED, "too_big")] == 1
    assert totals(await store.rollup(CLAIMED - 1, kind="sms")) == {}


async def test_cancels_and_lease_recovery_count_but_a_release_does_not(store: Store) -> None:
    await store.insert([make_job(1), make_job(2), make_job(3)])
    (claimed,) = await store.claim("w1", [], 1, CLAIMED, 30)
    await store.apply([change(claimed.job, Release(CLAIMED + 1))])
    queued = await store.get(make_job(2).id)
    cancel = make_reason("cancelled", Category.CANCELLED)
    await store.cancel_queued([change(queued, Deny(cancel, CLAIMED + 2))], None)
    (again,) = await store.claim("w1", [], 1, CLAIMED + 3, 30)
    lost = make_reason("lost_lease", Category.LOST_LEASE)
    await store.apply([change(again.job, Requeue(lost, CLAIMED + 40, CLAIMED + 40))])
    assert totals(await store.rollup(CLAIMED - 1)) == {
        ("email", Outcome.CANCELLED, "cancelled"): 1,
        ("email", Outcome.RETRIED, "lost_lease"): 1,
    }
    cancelled = next(r for r in await store.rollup(CLAIMED - 1) if r.outcome is Outcome.CANCELLED)
    assert sum(cancelled.histogram) == 0 and cancelled.run_time == 0  # it never ran


async def test_one_transaction_writes_one_row_per_key(store: Store) -> None:
    await store.insert([make_job(i) for i in range(1, 41)])
    claimed = await store.claim("w1", [], 40, CLAIMED, 30)
    await store.apply([change(c.job, Succeed(None, CLAIMED + 1)) for c in claimed])
    rows = await store.rollup(CLAIMED - 1)
    assert [(r.outcome, r.n) for r in rows] == [(Outcome.DONE, 40)]


async def test_folding_keeps_totals_and_moves_old_buckets_to_coarser_rows(store: Store) -> None:
    await store.insert([make_job(i) for i in range(1, 5)])
    claimed = await store.claim("w1", [], 4, CLAIMED, 30)
    # Two jobs end in one minute's two 10-second buckets, two a day and more later.
    ends = [CLAIMED + 1, CLAIMED + 12, CLAIMED + KEEP_FOR + 500, CLAIMED + KEEP_FOR + 505]
    for c, at in zip(claimed, ends, strict=True):
        await store.apply([change(c.job, Succeed(None, at))])
    before = totals(await store.rollup(0))
    assert await store.fold_rollup(CLAIMED + 20 * 60)  # the first minute is 20 minutes old
    assert not await store.fold_rollup(CLAIMED + 20 * 60)  # nothing left to fold
    rows = await store.rollup(0)
    assert totals(rows) == before
    assert sorted((r.width, r.n) for r in rows) == [(10.0, 2), (60.0, 2)]
    assert await store.fold_rollup(CLAIMED + KEEP_FOR + 3600)
    rows = await store.rollup(0)
    assert totals(rows) == before
    assert [(r.start, r.width, r.n) for r in rows if r.start == ALL_TIME] == [(0.0, 0.0, 2)]
    assert {r.width for r in await store.rollup(-1)} == {0.0, 60.0}
    assert all(r.start != ALL_TIME for r in await store.rollup(CLAIMED))
    # A window that starts after the folded ones sees only the recent minute.
    recent = await store.rollup(CLAIMED + KEEP_FOR)
    assert sum(r.n for r in recent) == 2
    # Past an hour the minute goes into its hour, which a day's window still reads.
    later = CLAIMED + KEEP_FOR + 500 + 2 * HOUR
    assert await store.fold_rollup(later)
    rows = await store.rollup(0)
    assert totals(rows) == before
    hour = math.floor((CLAIMED + KEEP_FOR + 500) / HOUR) * HOUR
    assert sorted((r.width, r.start, r.n) for r in rows) == [(0.0, 0.0, 2), (HOUR, hour, 2)]
    assert sum(r.n for r in await store.rollup(later - KEEP_FOR)) == 2
    day = await store.rollup_sums([later - KEEP_FOR, later])
    assert [(r.outcome, r.n) for r in day] == [(Outcome.DONE, 2)]


async def test_oldest_queued_is_the_earliest_ready_time_per_kind(store: Store) -> None:
    await store.insert(
        [
            make_job(1, run_after=T0 + 5),
            make_job(2, run_after=T0 + 1),
            make_job(3, kind="sms", run_after=T0 + 7),
        ]
    )
    assert await store.oldest_queued() == {"email": T0 + 1, "sms": T0 + 7}
    await store.claim("w1", ["sms"], 1, T0 + 10, 30)
    assert await store.oldest_queued() == {"email": T0 + 1}


def info(name: str, *, lease: float = 30.0, host: str = "box") -> WorkerInfo:
    return WorkerInfo(name, host, 4242, "0.1.0", T0, lease, 4, ("email", "sms"))


async def test_workers_register_beat_run_jobs_and_go(store: Store) -> None:
    await store.register_worker(info("w1"), T0)
    await store.register_worker(info("w2", lease=5.0, host="other\x1b[31m"), T0)
    await store.insert([make_job(1), make_job(2)])
    await store.claim("w1", [], 2, T0 + 1, 30)
    assert await store.beat_worker("w1", T0 + 20, 7, 1)
    assert not await store.beat_worker("w9", T0 + 20, 0, 0)  # never registered
    found = {w.name: w for w in await store.workers(T0 + 20)}
    assert found["w1"].running == 2 and found["w1"].done_5m == 7 and found["w1"].failed_5m == 1
    assert found["w1"].kinds == ("email", "sms") and found["w1"].pid == 4242
    assert found["w2"].host == "other\x1b[31m"  # stored as written; shown escaped
    assert not found["w1"].gone(T0 + 20) and found["w2"].gone(T0 + 20)
    assert await store.workers_alive(T0 + 20, 15.0) == 1  # w2 is silent past two leases
    assert await store.fold_rollup(T0 + 20 + 3601)  # both silent for over an hour: dropped
    assert await store.workers(T0 + 20 + 3601) == []


async def test_a_worker_row_a_newer_jobdeck_wrote_reads_without_error(tmp_path: Path) -> None:
    import sqlite3

    path = str(tmp_path / "jobs.db")
    s = await open_store(path)
    await s.register_worker(info("w1"), T0)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE workers SET kinds = '{\"not\": 1}', pid = 'many', version = '9.0'")
    (w,) = await s.workers(T0)
    assert (w.kinds, w.pid, w.version) == ((), 0, "9.0")
    await s.close()


# -- the rollup's totals are the jobs that finished ----------------------------------------------

ENDINGS = st.lists(
    st.tuples(st.sampled_from(["ok", "fail", "retry", "release"]), st.floats(0, 3 * HOUR)),
    min_size=1,
    max_size=12,
)


def folded_bucket(at: float, folds: list[float]) -> tuple[float, float]:
    """(width, start) of the bucket a move at `at` sits in after folds at each of `folds` (in
    order): its 10-second bucket, its minute, its hour or the ALL_TIME row, by the cutoffs."""
    width, start = BUCKET_SECONDS, bucket_of(at)
    for now in folds:
        fine, minutes, hours = fold_cutoffs(now)
        if width == BUCKET_SECONDS and start < fine:
            width, start = MINUTE, math.floor(start / MINUTE) * MINUTE
        if width == MINUTE and start < minutes:
            width, start = HOUR, math.floor(start / HOUR) * HOUR
        if width == HOUR and start < hours:
            width, start = ALL_TIME, ALL_TIME
    return width, start


@hsettings(max_examples=25)
@given(
    endings=ENDINGS,
    folds=st.lists(st.floats(0, 2 * KEEP_FOR), max_size=3),
    window=st.floats(1, KEEP_FOR),
)
def test_rollup_totals_equal_the_jobs_that_finished_and_folding_keeps_them(
    endings: list[tuple[str, float]], folds: list[float], window: float
) -> None:
    asyncio.run(_finish_and_fold(endings, sorted(folds), window))


async def _finish_and_fold(
    endings: list[tuple[str, float]], folds: list[float], window: float
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(str(Path(folder) / "jobs.db"))
        try:
            await store.insert([make_job(i) for i in range(len(endings))])
            claimed = await store.claim("w1", [], len(endings), CLAIMED, 4 * HOUR)
            flaky = make_reason("flaky", Category.RETRYABLE)
            events = {
                "ok": lambda at: Succeed(None, at),
                "fail": lambda at: Fail(make_reason("boom"), at),
                "retry": lambda at: Requeue(flaky, at, at),
                "release": lambda at: Release(at),
            }
            changes = [
                change(c.job, events[what](CLAIMED + after))
                for c, (what, after) in zip(claimed, endings, strict=True)
            ]
            await store.apply(changes)
            done = sum(1 for what, _ in endings if what == "ok")
            failed = sum(1 for what, _ in endings if what == "fail")
            retried = sum(1 for what, _ in endings if what == "retry")
            expected = {Outcome.DONE: done, Outcome.FAILED: failed, Outcome.RETRIED: retried}
            counts = await store.counts()
            assert counts[Status.DONE] == done and counts[Status.FAILED] == failed

            def by_outcome(rows: list[RollupRow]) -> dict[Outcome, int]:
                found = dict.fromkeys(expected, 0)
                for row in rows:
                    found[row.outcome] += row.n
                return found

            assert by_outcome(await store.rollup(0)) == expected
            ran = [after for what, after in endings if what in ("ok", "fail", "retry")]
            rows = await store.rollup(0)
            assert sum(sum(r.histogram) for r in rows) == len(ran)
            for i, after in enumerate(folds):
                await store.fold_rollup(CLAIMED + after)
                rows = await store.rollup(0)
                assert by_outcome(rows) == expected  # totals never shrink nor grow
                # Each move's bucket is exactly where the fold rules put it: 10 s for 15
                # minutes, then its minute for an hour, its hour for a day, then ALL_TIME.
                model: dict[tuple[float, float], int] = {}
                for what, at in endings:
                    if what != "release":
                        bucket = folded_bucket(CLAIMED + at, [CLAIMED + f for f in folds[: i + 1]])
                        model[bucket] = model.get(bucket, 0) + 1
                found: dict[tuple[float, float], int] = {}
                for row in rows:
                    found[(row.width, row.start)] = found.get((row.width, row.start), 0) + row.n
                assert found == model
            assert sum(r.run_time for r in await store.rollup(0)) == pytest.approx(
                sum(ran), abs=1e-6 * len(ran)
            )  # times near 1.7e9 s
            # A window of up to a day counts every bucket that ends inside it: exact to the
            # bucket's width, whatever level each bucket is at, through both reads.
            now = CLAIMED + (folds[-1] if folds else 3 * HOUR)
            since = now - window
            rows = await store.rollup(0)
            inside = sum(r.n for r in rows if r.width > 0 and r.start + r.width > since)
            assert sum(r.n for r in await store.rollup(since)) == inside
            sums = await store.rollup_sums([since, now + BUCKET_SECONDS])
            assert sum(r.n for r in sums) == sum(
                r.n for r in rows if r.width > 0 and since < r.start + r.width <= now + 10
            )
        finally:
            await store.close()


# -- a real worker registers, reports and is counted --------------------------------------------


async def test_a_worker_registers_reports_its_recent_jobs_and_forgets_itself(store: Store) -> None:
    from jobdeck.core import Engine, Worker, demo_registry

    engine = Engine(store, demo_registry())
    await engine.submit_many("demo.echo", [{"n": i} for i in range(5)])
    await engine.submit("demo.flaky", {"fail_times": 9}, max_attempts=1)
    worker = Worker(engine, concurrency=2, poll=0.01, lease=9.0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(30):
        found = await engine.workers()
        counts = await engine.counts()
        while not found or counts[Status.DONE] + counts[Status.FAILED] < 6:
            found = found or await engine.workers()
            counts = await engine.counts()
            await asyncio.wait([running], timeout=0.01)
    stop.set()
    await running
    (registered,) = found
    assert registered.name == worker.name and registered.lease == 9.0
    assert registered.concurrency == 2 and "demo.echo" in registered.kinds
    assert worker.recent.totals(engine.clock()) == (5, 1)
    assert await engine.workers() == []  # a clean stop forgets its row
    stats = {s.kind: s for s in await engine.kind_stats(since=600)}
    assert stats["demo.echo"].counts[Status.DONE] == 5
    assert stats["demo.echo"].done_per_min[1] == 5.0
    assert stats["demo.flaky"].failure_rate == 1.0
    assert stats["demo.echo"].p50 is not None
    done, failed = await engine.throughput()
    assert sum(done) * 10 == 5 and sum(failed) * 10 == 1


async def test_sums_in_the_database_give_the_same_stats_as_every_bucket(store: Store) -> None:
    from jobdeck.core import Engine, Registry
    from jobdeck.core.system import kind_stats, throughput

    now = CLAIMED + 1000.0
    await store.insert([make_job(i, kind=("email", "sms")[i % 2]) for i in range(1, 31)])
    claimed = await store.claim("w1", [], 30, CLAIMED, 3600)
    boom = make_reason("boom")
    for i, c in enumerate(claimed):  # endings spread over the 15 minutes before `now`
        at = CLAIMED + 100 + i * 29.5
        event = Fail(boom, at) if i % 4 == 0 else Succeed(None, at)
        await store.apply([change(c.job, event)])
    engine = Engine(store, Registry(), clock=lambda: now)
    rows = await store.rollup(now - 900)
    counts, oldest = await store.kind_counts(), await store.oldest_queued()
    for since in (300.0, 600.0, 900.0):
        expected = kind_stats(rows, counts, oldest, now=now, since=now - since)
        assert await engine.kind_stats(since=since) == expected
    assert await engine.throughput() == throughput(rows, now=now)
    assert await engine.throughput(kind="sms") == throughput(rows, now=now, kind="sms")


async def test_schema_9_fills_kind_counts_and_keeps_old_worker_rows(tmp_path: Path) -> None:
    import sqlite3

    from tests.storage.test_sqlite_open import at_schema, insert_job

    path = str(tmp_path / "old.db")
    with sqlite3.connect(path) as conn:
        at_schema(conn, 8)
        for n, status in enumerate(["queued", "queued", "done", "failed"]):
            insert_job(conn, f"J{n}", status, f"key{n}")
        conn.execute("INSERT INTO workers (name, last_seen) VALUES ('old', ?)", (T0,))
    s = await open_store(path)
    try:
        assert await s.kind_counts() == {
            "k": {Status.QUEUED: 2, Status.RUNNING: 0, Status.DONE: 1, Status.FAILED: 1}
        }
        assert await s.oldest_queued() == {"k": 0.0}
        (old,) = await s.workers(T0)
        assert (old.name, old.lease, old.kinds, old.running) == ("old", 0.0, (), 0)
        assert await s.workers_alive(T0 + 5, 15.0) == 1  # no lease stored: the caller's window
        assert await s.workers_alive(T0 + 20, 15.0) == 0
    finally:
        await s.close()


def test_the_queries_repeat_the_rollup_constants_of_core_system() -> None:
    from jobdeck.core import system
    from jobdeck.storage import columns

    assert columns.ROLLUP_FINE == system.BUCKET_SECONDS
    assert columns.ROLLUP_MINUTE == columns.ROLLUP_MINUTE_INT == system.MINUTE
    assert columns.ROLLUP_HOUR == columns.ROLLUP_HOUR_INT == system.HOUR
    assert columns.ROLLUP_WIDTHS == system.WIDTHS
    assert columns.ROLLUP_ALL_TIME == system.ALL_TIME
    assert len(columns.HISTOGRAM_COLUMN_NAMES) == system.HISTOGRAM_SIZE
