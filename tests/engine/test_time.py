"""Time through the engine and real workers, once per backend: delayed jobs wait for their time,
a schedule makes one job per tick, pause and resume reach every worker, catch-up after downtime,
and bad times never reach storage.

The engine's clock is a `Clock` the test moves by hand, so a minute passes in a few milliseconds
and every tick is at a known instant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobdeck.core import Engine, Registry, Status, Worker
from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.core.schedule import MAX_CATCH_UP, iso_utc, tick_key, tick_of
from jobdeck.core.store import Store
from jobdeck.storage import open_store

MINUTE = 60.0
DAY = 86_400.0  # a lease no test outlives, so no heartbeat or recovery runs on the fast clock
BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()  # a whole minute
TICKING = "time.tick"


def minute(n: int) -> float:
    """The n-th whole minute after BASE: the schedules below tick on each."""
    return BASE + n * MINUTE


class Clock:
    """The engine's clock: stands still until the test moves it. Moving it wakes the idle
    workers of the engines in `wakes`, as reaching the end of their wait would (an idle worker
    on PostgreSQL otherwise sleeps up to a second of real time, which this clock does not
    count)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.wakes: list[Engine] = []

    def __call__(self) -> float:
        return self.now

    def set(self, now: float) -> None:
        self.now = now
        for engine in self.wakes:
            engine.submitted.set()


def registry(
    *, catch_up: bool = False, schedule: str | None = "* * * * *", tz: str = "UTC"
) -> Registry:
    """`time.echo` (no schedule) and `time.tick`, made each minute by its schedule."""
    reg = Registry()

    @reg.kind("time.echo", max_attempts=1)
    async def echo(ctx: Any, payload: Any) -> Any:
        return payload.model_dump()

    @reg.kind(
        TICKING, schedule=schedule, tz=tz, catch_up=catch_up, schedule_payload={"from": "cron"}
    )
    async def tick(ctx: Any, payload: Any) -> Any:
        return {"tick": tick_of(ctx.job.idempotency_key)}

    return reg


def worker(engine: Engine) -> Worker:
    if isinstance(engine.clock, Clock):
        engine.clock.wakes.append(engine)
    return Worker(engine, poll=0.01, lease=DAY)


@asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    """Run the workers in the background until the block ends, then stop them (bounded)."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"waited {within} s for {what}")
        await asyncio.sleep(0.005)


async def made(engine: Engine) -> list[str]:
    """The instants (ISO, UTC) of the ticks whose jobs the schedule made, oldest first."""
    jobs = await engine.schedule_jobs(TICKING, limit=1000)
    instants = []
    for job in reversed(jobs):
        tick = tick_of(job.idempotency_key)
        assert tick is not None and tick[0] == TICKING, job.idempotency_key
        instants.append(tick[1])
    return instants


def at(*minutes: int) -> list[str]:
    return [iso_utc(minute(n)) for n in minutes]


async def has_ticks(engine: Engine, n: int) -> bool:
    return len(await made(engine)) >= n


async def declared(engine: Engine) -> bool:
    return bool(await engine.store.schedules())


async def jobs_stored(engine: Engine) -> int:
    return sum((await engine.counts()).values())


# -- delayed jobs --------------------------------------------------------------------------------
async def test_a_delayed_job_is_not_claimed_before_its_time_and_is_after(store: Store) -> None:
    clock = Clock(minute(0))
    engine = Engine(store, registry(schedule=None), clock=clock)
    job = await engine.submit("time.echo", {"n": 1}, delay=90)
    assert (job.status, job.run_after) == (Status.QUEUED, minute(0) + 90)
    clock.now = minute(0) + 89.999
    assert await engine.apply_and_claim([], "w", [], 10, 30) == ([], [])
    clock.now = minute(0) + 90
    _, claimed = await engine.apply_and_claim([], "w", [], 10, 30)
    assert [c.job.id for c in claimed] == [job.id]


async def test_run_at_takes_an_aware_datetime_in_any_zone(store: Store) -> None:
    clock = Clock(minute(0))
    engine = Engine(store, registry(schedule=None), clock=clock)
    when = datetime(2026, 3, 2, 11, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 10:30 UTC
    job = await engine.submit("time.echo", {"n": 1}, run_at=when)
    assert job.run_after == minute(90)
    clock.now = minute(89)
    assert (await engine.apply_and_claim([], "w", [], 10, 30))[1] == []
    clock.now = minute(90)
    assert len((await engine.apply_and_claim([], "w", [], 10, 30))[1]) == 1


async def test_scheduled_lists_jobs_not_yet_due_soonest_first(store: Store) -> None:
    clock = Clock(minute(0))
    engine = Engine(store, registry(schedule=None), clock=clock)
    late = await engine.submit("time.echo", {"n": 1}, delay=timedelta(minutes=30))
    now = await engine.submit("time.echo", {"n": 2})
    soon = await engine.submit("time.echo", {"n": 3}, delay=60)
    past = await engine.submit("time.echo", {"n": 4}, run_at=minute(-5))
    middle = await engine.submit_many("time.echo", [{"n": 5}, {"n": 6}], run_at=minute(10))
    assert past.run_after == now.run_after == minute(0)  # a time in the past runs now
    expected = [soon.id, *sorted(j.id for j in middle), late.id]
    assert [j.id for j in await engine.scheduled()] == expected
    assert [j.id for j in await engine.scheduled(limit=1)] == [soon.id]
    clock.now = minute(10)
    assert [j.id for j in await engine.scheduled()] == [late.id]


async def test_a_scheduled_job_keeps_its_idempotency_key(store: Store) -> None:
    engine = Engine(store, registry(schedule=None), clock=Clock(minute(0)))
    first = await engine.submit("time.echo", {"x": 1}, delay=600)
    again = await engine.submit("time.echo", {"x": 1}, delay=60)
    now = await engine.submit("time.echo", {"x": 1})
    assert first.id == again.id == now.id
    assert (await engine.get(first.id)).run_after == minute(10)  # the first one's time stands
    assert [j.id for j in await engine.scheduled()] == [first.id]
    assert (await engine.counts())[Status.QUEUED] == 1
    other = await engine.submit("time.echo", {"x": 1}, key="mine", delay=60)
    assert other.id != first.id


async def test_an_idle_worker_wakes_when_a_delayed_job_becomes_due(store: Store) -> None:
    # Real time: the job comes due 0.4 s after the worker starts; its poll is 10 s, so only the
    # wait that ends at the earliest run_after can run it in time.
    engine = Engine(store, registry(schedule=None))
    job = await engine.submit("time.echo", {"n": 1}, delay=0.4)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with running(Worker(engine, poll=10.0)):
        await asyncio.sleep(0.1)
        assert (await engine.get(job.id)).status is Status.QUEUED
        await until(lambda: _is_done(engine, job.id), "the delayed job to run", within=3.0)
    assert loop.time() - started < 3.5
    (attempt,) = await engine.store.attempts(job.id)
    assert attempt.started_at >= job.run_after


async def _is_done(engine: Engine, job_id: str) -> bool:
    return (await engine.get(job_id)).status is Status.DONE


# -- bad times never reach storage -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "complaint"),
    [
        ({"run_at": datetime(2030, 1, 1, 9, 0)}, "needs a time zone"),
        ({"delay": -5}, "zero or more seconds"),
        ({"delay": timedelta(seconds=-1)}, "zero or more seconds"),
        ({"delay": float("nan")}, "zero or more seconds"),
        ({"run_at": minute(10), "delay": 5}, "not both"),
        ({"run_at": 1e12}, "past the year 9999"),
    ],
    ids=["naive", "negative", "negative-timedelta", "nan", "both", "year-10000"],
)
async def test_a_bad_time_is_refused_and_nothing_is_stored(
    store: Store, when: dict[str, Any], complaint: str
) -> None:
    engine = Engine(store, registry(schedule=None), clock=Clock(minute(0)))
    with pytest.raises(InvalidInput, match=complaint):
        await engine.submit("time.echo", {"n": 1}, **when)
    with pytest.raises(InvalidInput, match=complaint):
        await engine.submit_many("time.echo", [{"n": 1}, {"n": 2}], **when)
    assert await engine.events() == []
    assert await jobs_stored(engine) == 0
    assert await engine.scheduled() == []


# -- schedules -----------------------------------------------------------------------------------
async def test_a_worker_makes_one_job_per_tick(store: Store) -> None:
    clock = Clock(minute(0) + 1)
    engine = Engine(store, registry(), clock=clock)
    async with running(worker(engine)):
        await until(lambda: declared(engine), "the worker to declare its schedule")
        for n in range(1, 6):
            clock.set(minute(n) - 0.5)
            await asyncio.sleep(0.05)
            assert await made(engine) == at(*range(1, n)), "a tick was made early"
            clock.set(minute(n) + 20)
            await until(lambda n=n: has_ticks(engine, n), f"tick {n}")
            clock.set(minute(n) + 40)
            await asyncio.sleep(0.03)
            assert await made(engine) == at(*range(1, n + 1)), "a tick was made twice"
        await until(lambda: _all_done(engine, 5), "the five tick jobs to run")
    jobs = await engine.schedule_jobs(TICKING)
    assert [j.idempotency_key for j in jobs] == [
        tick_key(TICKING, minute(n)) for n in (5, 4, 3, 2, 1)
    ]
    assert {j.kind for j in jobs} == {TICKING}
    assert all(j.payload == {"from": "cron"} and j.status is Status.DONE for j in jobs)
    assert await jobs_stored(engine) == 5


async def _all_done(engine: Engine, n: int) -> bool:
    return (await engine.counts())[Status.DONE] == n


async def test_pause_stops_every_worker_and_resume_restarts_from_now(
    store: Store, db_url: str
) -> None:
    clock = Clock(minute(0) + 1)
    reg = registry()
    engine = Engine(store, reg, clock=clock)
    other_store = await open_store(db_url)
    other = Engine(other_store, reg, clock=clock)
    try:
        async with running(worker(engine), worker(other)):
            await until(lambda: declared(engine), "the workers to declare the schedule")
            for n in (1, 2):
                clock.set(minute(n) + 1)
                await until(lambda n=n: has_ticks(engine, n), f"tick {n}")
            clock.set(minute(2) + 10)
            state = await engine.pause_schedule(TICKING, reason="database upgrade")
            assert (state.paused, state.paused_reason) == (True, "database upgrade")
            for n in range(3, 8):  # five minutes paused; both workers see each tick come due
                clock.set(minute(n) + 1)
                await asyncio.sleep(0.06)
            assert await made(engine) == at(1, 2)
            clock.set(minute(7) + 10)
            resumed = await other.resume_schedule(TICKING)
            assert (resumed.paused, resumed.last_tick) == (False, minute(7) + 10)
            await asyncio.sleep(0.06)
            assert await made(engine) == at(1, 2), "a paused tick was made up on resume"
            clock.set(minute(8) + 1)
            await until(lambda: has_ticks(engine, 3), "the first tick after resume")
            await asyncio.sleep(0.05)
    finally:
        await other_store.close()
    assert await made(engine) == at(1, 2, 8)
    assert await jobs_stored(engine) == 3


@pytest.mark.parametrize(
    ("catch_up", "after_downtime"),
    [(True, [2, 3, 4, 5, 6]), (False, [6])],
    ids=["catch-up", "latest-only"],
)
async def test_after_downtime_catch_up_makes_every_missed_tick_and_the_default_the_latest(
    store: Store, catch_up: bool, after_downtime: list[int]
) -> None:
    clock = Clock(minute(0) + 1)
    engine = Engine(store, registry(catch_up=catch_up), clock=clock)
    async with running(worker(engine)):
        await until(lambda: declared(engine), "the worker to declare its schedule")
        clock.set(minute(1) + 1)
        await until(lambda: has_ticks(engine, 1), "tick 1")
    clock.set(minute(6) + 30)  # five ticks fell while no worker ran
    async with running(worker(engine)):
        await until(lambda: has_ticks(engine, 2), "the ticks missed while down")
        await asyncio.sleep(0.05)
    assert await made(engine) == at(1, *after_downtime)
    assert await jobs_stored(engine) == 1 + len(after_downtime)


async def test_catch_up_makes_at_most_the_newest_hundred_missed_ticks(store: Store) -> None:
    clock = Clock(minute(0) + 1)
    engine = Engine(store, registry(catch_up=True), clock=clock)
    await engine.store.declare_schedules([(TICKING, TICKING, "* * * * *", "UTC")], clock())
    clock.set(minute(250) + 1)
    async with running(worker(engine)):
        await until(lambda: has_ticks(engine, MAX_CATCH_UP), "the missed ticks")
        await asyncio.sleep(0.05)
    assert await made(engine) == at(*range(151, 251))


async def test_schedules_shows_declared_paused_and_next_ticks(store: Store) -> None:
    clock = Clock(minute(0) + 1)
    engine = Engine(store, registry(), clock=clock)
    (view,) = await engine.schedules()
    assert (view.name, view.state, view.next_tick) == (TICKING, None, minute(1))
    assert view.entry is not None and view.entry.cron == "* * * * *"
    with pytest.raises(NotFound, match="known schedules: none"):
        await engine.pause_schedule(TICKING)
    await engine.store.declare_schedules([(TICKING, TICKING, "* * * * *", "UTC")], clock())
    with pytest.raises(InvalidInput, match="one line"):
        await engine.pause_schedule(TICKING, reason="two\nlines")
    await engine.pause_schedule(TICKING, reason="  ")
    (view,) = await engine.schedules()
    assert view.state is not None and view.state.paused and view.state.paused_reason is None
    assert view.next_tick is None
    clock.now = minute(3) + 1
    await engine.resume_schedule(TICKING)
    (view,) = await engine.schedules()
    assert view.next_tick == minute(4)
    with pytest.raises(NotFound, match=f"known schedules: {TICKING}"):
        await engine.resume_schedule("ghost")


# -- daylight saving: the night Paris falls back (2026-10-25, 02:00-02:59 happens twice) ---------
def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


async def test_an_hourly_schedule_in_paris_makes_both_2am_ticks_of_the_fall_back_night(
    store: Store,
) -> None:
    clock = Clock(utc("2026-10-24T23:30:00"))
    engine = Engine(store, registry(schedule="0 * * * *", tz="Europe/Paris"), clock=clock)
    async with running(worker(engine)):
        await until(lambda: declared(engine), "the worker to declare its schedule")
        clock.set(utc("2026-10-25T00:00:30"))  # 02:00:30 CEST
        await until(lambda: has_ticks(engine, 1), "the 02:00 CEST tick")
        clock.set(utc("2026-10-25T01:00:30"))  # 02:00:30 CET, an hour later
        await until(lambda: has_ticks(engine, 2), "the 02:00 CET tick", within=2.0)
    assert await made(engine) == ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"]


async def test_a_daily_schedule_declared_in_the_repeated_hour_waits_without_spinning(
    store: Store,
) -> None:
    clock = Clock(utc("2026-10-25T01:10:00"))  # 02:10 CET: today's 02:30 CEST tick has passed
    engine = Engine(store, registry(schedule="30 2 * * *", tz="Europe/Paris"), clock=clock)
    turns = 0
    claim = engine.apply_and_claim

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal turns
        turns += 1
        return await claim(*args, **kwargs)

    engine.apply_and_claim = counted  # type: ignore[method-assign]
    async with running(Worker(engine, poll=0.05, lease=DAY)):
        await until(lambda: declared(engine), "the worker to declare its schedule")
        turns = 0
        await asyncio.sleep(0.5)
    assert await made(engine) == []
    assert turns < 40, f"{turns} claim turns in 0.5 s with a 0.05 s poll: the worker spins"
    (view,) = await engine.schedules()
    assert view.next_tick == utc("2026-10-26T01:30:00")  # 02:30 CET the next day


# -- declaring schedules -------------------------------------------------------------------------
async def test_a_schedule_of_an_unregistered_kind_stops_the_worker_at_start(
    tmp_path: Path,
) -> None:
    reg = registry(schedule=None)
    reg.every("reports.weekly", "0 6 * * MON", name="weekly-report")
    store = await open_store(str(tmp_path / "jobs.db"))
    try:
        engine = Engine(store, reg)
        with pytest.raises(InvalidInput, match=r"'weekly-report' makes jobs of 'reports\.weekly'"):
            Worker(engine)
        with pytest.raises(InvalidInput, match="not a registered kind"):
            Worker(engine, kinds=["time.echo"])
        assert await store.schedules() == []
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"schedule": "61 * * * *"}, "not a valid cron expression"),
        ({"schedule": "@hourly"}, "five standard cron fields"),
        ({"schedule": "0 3 * * *", "tz": "Europe/Atlantis"}, "not a time zone"),
    ],
)
def test_an_invalid_schedule_on_a_kind_is_refused_naming_the_kind(
    options: dict[str, Any], complaint: str
) -> None:
    reg = Registry()
    with pytest.raises(InvalidInput, match=complaint) as caught:

        @reg.kind("billing.nightly", **options)
        async def nightly(ctx: Any, payload: Any) -> None: ...

    assert "'billing.nightly'" in str(caught.value)
    assert "billing.nightly" not in reg and reg.schedules() == []


def test_a_schedule_declared_twice_is_refused() -> None:
    reg = registry()
    with pytest.raises(InvalidInput, match=f"'{TICKING}' is declared twice"):
        reg.every(TICKING, "0 * * * *")
