"""A deterministic database for the monitor's tests, snapshots and screenshots: a fixed clock, a
counter for ids, and jobs in every pane and every failure category that a test can reach."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path

from jobdeck.core import Engine, Registry, Status, Worker, demo_registry
from jobdeck.core.demo import FLAKY_SCHEDULE, add_demo_schedules
from jobdeck.storage import open_store

START = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Ids:
    """Ids that sort like real ones and differ in their last characters: J000…0001, J000…0002."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self) -> str:
        return f"J{next(self._n):025d}"


def job_id(n: int) -> str:
    return f"J{n:025d}"


async def open_engine(
    path: Path,
    clock: Clock,
    ids: Ids,
    *,
    read_only: bool = False,
    registry: Registry | None = None,
) -> Engine:
    store = await open_store(str(path), read_only=read_only)
    return Engine(store, registry or demo_registry(), clock=clock, ids=ids)


def scheduled_registry() -> Registry:
    """The demo kinds with the demo's schedules, as `jobdeck demo` runs them."""
    registry = demo_registry()
    add_demo_schedules(registry)
    return registry


async def run_all(engine: Engine) -> None:
    await Worker(engine, burst=True, concurrency=4).run()


# The ids the filled database gives its jobs, by what they show.
ECHO_DONE = job_id(1)
CHARGE_DONE = job_id(2)
DENIED_MISSING_ID = job_id(3)
DENIED_OVER_LIMIT = job_id(4)
RANDOM_DONE = job_id(5)
FLAKY_DONE = job_id(6)
INJECTED = job_id(7)
SLEEP_DONE = job_id(8)
QUEUED_ECHO = job_id(9)
RUNNING_SLEEP = job_id(10)
QUEUED_CHARGE = job_id(11)


async def fill(engine: Engine, clock: Clock) -> None:
    """Jobs in every pane: done, denied twice, an injected failure, queued and running."""
    await engine.submit("demo.echo", {"n": 1, "msg": "hello"})
    await engine.submit("demo.charge", {"id": "ch_00001", "amount": 120, "currency": "EUR"})
    await engine.submit("demo.charge", {"amount": 250, "currency": "USD"})
    await engine.submit("demo.charge", {"id": "ch_00002", "amount": 20000, "currency": "EUR"})
    await engine.submit("demo.random", {"n": 7})
    await engine.submit("demo.flaky", {"fail_times": 0, "n": 1})
    injected = await engine.submit("demo.echo", {"n": 2, "msg": "fail me"})
    await engine.arm_fault(job_id=injected.id, reason="disk full, on purpose")
    clock.advance(1.5)
    await engine.submit("demo.sleep", {"seconds": 0})
    await run_all(engine)
    clock.advance(30)
    await engine.submit("demo.echo", {"n": 3, "msg": "later"})
    await engine.submit("demo.sleep", {"seconds": 0.2})
    await engine.submit("demo.charge", {"id": "ch_00003", "amount": 990, "currency": "EUR"})
    clock.advance(4)
    await engine.store.touch_worker("worker-a", clock())
    claimed = await engine.store.claim("worker-a", ["demo.sleep"], 1, clock(), 30)
    assert [c.job.id for c in claimed] == [RUNNING_SLEEP]
    clock.advance(8)
    counts = await engine.counts()
    assert counts == {Status.QUEUED: 2, Status.RUNNING: 1, Status.DONE: 5, Status.FAILED: 3}


async def filled_db(path: Path) -> tuple[Clock, Ids]:
    """Fill a fresh database at `path`; returns the clock and ids to open it again with."""
    clock, ids = Clock(), Ids()
    engine = await open_engine(path, clock, ids)
    try:
        await fill(engine, clock)
    finally:
        await engine.store.close()
    return clock, ids


def factory(
    path: Path, clock: Clock, ids: Ids, *, read_only: bool = False, registry: Registry | None = None
) -> Callable[[], Awaitable[Engine]]:
    return lambda: open_engine(path, clock, ids, read_only=read_only, registry=registry)


# The jobs the schedules of the scheduled database made, by tick.
DIGEST_AT_1 = job_id(1)
DIGEST_AT_5 = job_id(2)
FLAKY_AT_5 = job_id(3)


async def fill_schedules(engine: Engine, clock: Clock) -> None:
    """The demo's two schedules five minutes in: demo.digest ran at 00:01 and 00:05 (done, the
    ticks between were missed while no worker ran), demo.flaky-5m ran at 00:05 and failed on an
    injected fault, and was then paused. The clock stops at 00:05:21, 39 s before the next
    digest."""

    async def work() -> None:
        await Worker(engine, burst=True, concurrency=1, name="scene").run()

    await work()  # declares both schedules at 00:00
    clock.advance(61)
    await work()
    clock.advance(240)
    await engine.arm_fault(kind="demo.flaky", reason="payment provider down")
    await work()
    clock.advance(9)
    await engine.pause_schedule(FLAKY_SCHEDULE, reason="provider maintenance until 02:00")
    clock.advance(11)


async def scheduled_db(path: Path) -> tuple[Clock, Ids]:
    """Fill a fresh database at `path` with the schedules' scene; returns its clock and ids."""
    clock, ids = Clock(), Ids()
    engine = await open_engine(path, clock, ids, registry=scheduled_registry())
    try:
        await fill_schedules(engine, clock)
    finally:
        await engine.store.close()
    return clock, ids


async def finish_all(engine: Engine, clock: Clock) -> None:
    """Run everything to the end: the lease on the running job expires and it runs again."""
    clock.advance(60)
    await engine.recover()  # the lease ran out: back to the queue after a short backoff
    clock.advance(60)
    await run_all(engine)
