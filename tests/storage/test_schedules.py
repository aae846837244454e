"""The storage side of time, as a contract both backends keep (tests/storage_pg runs the same
class on PostgreSQL): a schedule's last tick moves only by compare-and-set, and a tick's job, its
`schedule_runs` row and the move are one transaction or nothing; pause and resume; the queued
jobs not yet due.

Each backend's module gives two fixtures: `raw(sql)`, rows read behind the store's back, and
`other_store`, a second store on the same database (another worker)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import closing
from typing import Any

import pytest

from jobdeck.core.contract import Job, Status
from jobdeck.core.errors import NotFound
from jobdeck.core.schedule import tick_key
from jobdeck.core.store import Store
from jobdeck.storage import open_store
from tests.storage.conftest import NOW, denied, make_job

Raw = Callable[[str], Awaitable[list[tuple[Any, ...]]]]

NAME = "nightly"
DECLARED = (NAME, "email", "30 2 * * *", "Europe/Paris")
T1, T2, T3 = NOW + 60, NOW + 120, NOW + 180


def tick_job(i: int, tick: float, name: str = NAME) -> tuple[float, Job]:
    return tick, make_job(i, key=tick_key(name, tick))


async def written(store: Store, raw: Raw) -> tuple[Any, ...]:
    """Everything a make_ticks could write: the schedules, their runs, jobs, events, counts."""
    return (
        [(s.name, s.last_tick, s.paused) for s in await store.schedules()],
        await raw("SELECT name, tick, job_id FROM schedule_runs ORDER BY name, tick"),
        await raw("SELECT id, idempotency_key FROM jobs ORDER BY id"),
        len(await store.events()),
        await store.counts(),
    )


class ScheduleContract:
    """Collected by TestSqliteSchedules here and TestPgSchedules in tests/storage_pg."""

    # -- declaring ---------------------------------------------------------------------------
    async def test_a_new_schedule_counts_from_when_it_is_first_declared(self, store: Store) -> None:
        (state,) = await store.declare_schedules([DECLARED], NOW)
        assert (state.name, state.kind, state.cron, state.tz) == DECLARED
        assert (state.last_tick, state.paused, state.paused_reason) == (NOW, False, None)
        assert state.changed_at == NOW and state.last_job is None

    async def test_declaring_again_keeps_the_last_tick_and_the_pause_and_takes_the_new_cron(
        self, store: Store
    ) -> None:
        await store.declare_schedules([DECLARED], NOW)
        await store.make_ticks(NAME, NOW, [tick_job(1, T1)])
        await store.pause_schedule(NAME, paused=True, reason="deploy", now=T1 + 5)
        states = await store.declare_schedules(
            [(NAME, "email", "0 3 * * *", "UTC"), ("another", "sms", "* * * * *", "UTC")], T3
        )
        assert [s.name for s in states] == ["another", NAME]  # every schedule, by name
        another, nightly = states
        assert (nightly.cron, nightly.tz, nightly.last_tick) == ("0 3 * * *", "UTC", T1)
        assert (nightly.paused, nightly.paused_reason) == (True, "deploy")
        assert another.last_tick == T3 and not another.paused

    # -- making ticks --------------------------------------------------------------------------
    async def test_make_ticks_records_each_tick_with_its_job_and_moves_the_last_tick(
        self, store: Store, raw: Raw
    ) -> None:
        await store.declare_schedules([DECLARED], NOW)
        ticks = [tick_job(1, T1), tick_job(2, T2)]
        made = await store.make_ticks(NAME, NOW, ticks)
        assert made is not None
        assert [job.id for job in made] == [job.id for _, job in ticks]
        assert [job.idempotency_key for job in made] == [tick_key(NAME, T1), tick_key(NAME, T2)]
        assert all(job.status is Status.QUEUED for job in made)
        runs = await raw("SELECT name, tick, job_id FROM schedule_runs ORDER BY tick")
        assert [tuple(r) for r in runs] == [(NAME, T1, made[0].id), (NAME, T2, made[1].id)]
        (state,) = await store.schedules()
        assert state.last_tick == T2
        assert state.last_job is not None and state.last_job.id == made[1].id
        assert [job.id for job in await store.schedule_jobs(NAME, 10)] == [
            made[1].id,
            made[0].id,
        ]
        assert (await store.counts())[Status.QUEUED] == 2
        assert [(e.job_id, e.to_status) for e in await store.events()] == [
            (made[0].id, Status.QUEUED),
            (made[1].id, Status.QUEUED),
        ]

    async def test_a_stale_last_tick_returns_none_and_writes_nothing(
        self, store: Store, raw: Raw
    ) -> None:
        await store.declare_schedules([DECLARED], NOW)
        assert await store.make_ticks(NAME, NOW, [tick_job(1, T1)]) is not None
        before = await written(store, raw)
        # A worker that still believes the last tick is NOW lost the race for T1 and T2.
        assert await store.make_ticks(NAME, NOW, [tick_job(2, T1), tick_job(3, T2)]) is None
        assert await written(store, raw) == before
        assert await store.make_ticks(NAME, NOW - 1, [tick_job(4, T2)]) is None
        assert await written(store, raw) == before

    async def test_a_paused_schedule_returns_none_and_writes_nothing(
        self, store: Store, raw: Raw
    ) -> None:
        await store.declare_schedules([DECLARED], NOW)
        await store.pause_schedule(NAME, paused=True, reason=None, now=NOW + 1)
        before = await written(store, raw)
        assert await store.make_ticks(NAME, NOW, [tick_job(1, T1)]) is None
        assert await written(store, raw) == before
        (state,) = await store.schedules()
        assert state.last_tick == NOW and state.last_job is None

    async def test_of_two_workers_racing_for_the_same_ticks_exactly_one_makes_them(
        self, store: Store, other_store: Store, raw: Raw
    ) -> None:
        await store.declare_schedules([DECLARED], NOW)
        last = NOW
        for round_ in range(10):
            tick = last + 60
            got = await asyncio.gather(
                store.make_ticks(NAME, last, [tick_job(2 * round_, tick)]),
                other_store.make_ticks(NAME, last, [tick_job(2 * round_ + 1, tick)]),
            )
            assert sorted(g is None for g in got) == [False, True], got
            last = tick
        runs = await raw("SELECT tick FROM schedule_runs ORDER BY tick")
        assert [r[0] for r in runs] == [NOW + 60 * n for n in range(1, 11)]
        keys = await raw("SELECT idempotency_key FROM jobs ORDER BY idempotency_key")
        assert [k[0] for k in keys] == sorted(tick_key(NAME, NOW + 60 * n) for n in range(1, 11))

    async def test_no_ticks_make_nothing_and_touch_nothing(self, store: Store, raw: Raw) -> None:
        await store.declare_schedules([DECLARED], NOW)
        before = await written(store, raw)
        assert await store.make_ticks(NAME, NOW, []) == []
        assert await written(store, raw) == before

    # -- pause and resume ----------------------------------------------------------------------
    async def test_pausing_an_unknown_schedule_raises_not_found_naming_the_known_ones(
        self, store: Store, raw: Raw
    ) -> None:
        with pytest.raises(NotFound, match=r"no schedule called 'ghost' \(known schedules: none\)"):
            await store.pause_schedule("ghost", paused=True, reason=None, now=NOW)
        await store.declare_schedules([DECLARED, ("hourly", "sms", "0 * * * *", "UTC")], NOW)
        before = await written(store, raw)
        for paused in (True, False):
            with pytest.raises(NotFound, match=r"known schedules: hourly, nightly\)"):
                await store.pause_schedule("ghost", paused=paused, reason="x", now=NOW)
        assert await written(store, raw) == before

    async def test_pause_keeps_its_reason_and_resume_restarts_the_count_at_now(
        self, store: Store
    ) -> None:
        await store.declare_schedules([DECLARED], NOW)
        await store.make_ticks(NAME, NOW, [tick_job(1, T1)])
        paused = await store.pause_schedule(NAME, paused=True, reason="deploy", now=T1 + 1)
        assert (paused.paused, paused.paused_reason, paused.changed_at) == (True, "deploy", T1 + 1)
        assert paused.last_tick == T1  # pausing does not move the count
        assert paused.last_job is not None and paused.last_job.idempotency_key == tick_key(NAME, T1)
        resumed = await store.pause_schedule(NAME, paused=False, reason=None, now=T3 + 30)
        assert (resumed.paused, resumed.paused_reason) == (False, None)
        assert resumed.last_tick == T3 + 30  # the ticks while paused are not made up
        assert await store.make_ticks(NAME, T1, [tick_job(2, T2)]) is None
        assert await store.make_ticks(NAME, T3 + 30, [tick_job(3, T3 + 60)]) is not None

    async def test_resuming_never_moves_the_last_tick_back(self, store: Store) -> None:
        await store.declare_schedules([DECLARED], T3)
        await store.pause_schedule(NAME, paused=True, reason=None, now=T3)
        resumed = await store.pause_schedule(NAME, paused=False, reason=None, now=NOW)
        assert resumed.last_tick == T3

    async def test_schedule_jobs_lists_one_schedules_jobs_newest_tick_first(
        self, store: Store
    ) -> None:
        other = ("hourly", "sms", "0 * * * *", "UTC")
        await store.declare_schedules([DECLARED, other], NOW)
        await store.make_ticks(NAME, NOW, [tick_job(1, T1), tick_job(2, T2), tick_job(3, T3)])
        await store.make_ticks("hourly", NOW, [tick_job(4, T1, "hourly")])
        assert [j.id for j in await store.schedule_jobs(NAME, 2)] == [
            make_job(3).id,
            make_job(2).id,
        ]
        assert [j.id for j in await store.schedule_jobs("hourly", 10)] == [make_job(4).id]
        assert await store.schedule_jobs("ghost", 10) == []

    # -- jobs not yet due ----------------------------------------------------------------------
    async def test_scheduled_lists_queued_jobs_not_yet_due_soonest_first(
        self, store: Store
    ) -> None:
        await store.insert(
            [
                make_job(1, run_after=NOW + 30),
                make_job(2, run_after=NOW + 10),
                make_job(3, run_after=NOW - 5),  # due already
                make_job(4, run_after=NOW + 20),
                make_job(5, run_after=NOW),  # due now
                denied(6, run_after=NOW + 40),  # failed, never runs
            ]
        )
        ids = [j.id for j in await store.scheduled(NOW, 10)]
        assert ids == [make_job(n).id for n in (2, 4, 1)]
        assert [j.id for j in await store.scheduled(NOW, 2)] == ids[:2]
        assert [j.id for j in await store.scheduled(NOW + 25, 10)] == [make_job(1).id]

    async def test_scheduled_merges_the_kinds_in_one_order(self, store: Store) -> None:
        """Each kind's queued jobs sit in their own run of the index: the list interleaves them
        by run_after, then id, and `limit` counts across kinds."""
        await store.insert(
            [
                make_job(1, kind="sms", run_after=NOW + 20),
                make_job(2, kind="email", run_after=NOW + 20),  # ties with 1: the id decides
                make_job(3, kind="zip", run_after=NOW + 5),
                make_job(4, kind="email", run_after=NOW + 50),
                make_job(5, kind="sms", run_after=NOW + 10),
                make_job(6, kind="zip", run_after=NOW - 1),  # due
                make_job(7, kind="zip", run_after=NOW + 40),
            ]
        )
        expected = [make_job(n).id for n in (3, 5, 1, 2, 7, 4)]
        assert [j.id for j in await store.scheduled(NOW, 10)] == expected
        for limit in range(1, 7):
            assert [j.id for j in await store.scheduled(NOW, limit)] == expected[:limit]
        await store.claim("w", [], 1, NOW, 30)  # zip's due job: zip still has jobs queued
        assert [j.id for j in await store.scheduled(NOW + 15, 3)] == expected[2:5]

    async def test_a_job_is_not_claimed_before_its_run_after(self, store: Store) -> None:
        (job,) = await store.insert([make_job(1, run_after=NOW + 60)])
        assert await store.claim("w", [], 10, NOW + 59.999, 30) == []
        assert await store.scheduled(NOW, 10) == [job]
        (claimed,) = await store.claim("w", [], 10, NOW + 60, 30)
        assert claimed.job.id == job.id and claimed.job.status is Status.RUNNING
        assert await store.scheduled(NOW, 10) == []

    async def test_an_idle_wait_ends_when_the_earliest_queued_job_becomes_due(
        self, store: Store
    ) -> None:
        """The earliest of every kind's earliest, whichever kind holds it."""
        await store.insert(
            [
                make_job(1, kind="email", run_after=NOW + 30),
                make_job(2, kind="sms", run_after=NOW + 0.3),
                make_job(3, kind="zip", run_after=NOW + 60),
            ]
        )
        for _ in range(2):  # PostgreSQL starts listening, or hands over the insert's notice
            await store.wait_for_jobs(NOW, 0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await store.wait_for_jobs(NOW, 10.0)
        assert 0.2 <= loop.time() - started < 3.0


class TestSqliteSchedules(ScheduleContract):
    pass


@pytest.fixture
def raw(db_path: str) -> Raw:
    async def read(sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            rows: Sequence[tuple[Any, ...]] = conn.execute(sql).fetchall()
        return [tuple(r) for r in rows]

    return read


@pytest.fixture
async def other_store(db_path: str, store: Store) -> AsyncIterator[Store]:
    other = await open_store(db_path)
    yield other
    await other.close()
