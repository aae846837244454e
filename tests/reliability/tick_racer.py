"""One worker process of the tick race (tests/reliability/test_tick_race.py).

    python -m tests.reliability.tick_racer DB SECONDS START ORIGIN NAME

Opens DB (a SQLite path or a postgresql:// URL) and runs a real Worker for SECONDS of real time
with a schedule that ticks every minute (catch_up=True), on a fast clock that every racer
computes alike: START + (time.time() - ORIGIN) * SPEED, so one real second is ten minutes and
the racers agree on every tick. Prints one JSON line: the worker's name and the ticks whose jobs
this process made (the compare-and-sets it won) and how many it lost.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from jobdeck.core import Engine, Job, Registry, Worker
from jobdeck.core.schedule import Schedule
from jobdeck.storage import open_store

SPEED = 600.0  # clock seconds per real second: a minute's tick every 0.1 s
SCHEDULE = "race.tick"
LEASE = 10 * 86_400.0  # in clock seconds: no heartbeat or lease recovery during a race

registry = Registry()


@registry.kind(SCHEDULE, schedule="* * * * *", catch_up=True)
async def tick(ctx: Any, payload: Any) -> dict[str, int]:
    return {"attempt": ctx.attempt}


class CountingEngine(Engine):
    """An Engine that remembers the ticks whose jobs this process made, and how many times
    another process had made them first (its compare-and-set lost)."""

    made: list[float]
    lost: int

    async def make_ticks(
        self, schedule: Schedule, last_tick: float, ticks: Sequence[float]
    ) -> list[Job] | None:
        jobs = await super().make_ticks(schedule, last_tick, ticks)
        if jobs is None:
            self.lost += 1
        else:
            self.made.extend(ticks)
        return jobs


async def race(db: str, seconds: float, start: float, origin: float, name: str) -> None:
    store = await open_store(db)
    try:
        engine = CountingEngine(
            store, registry, clock=lambda: start + (time.time() - origin) * SPEED
        )
        engine.made, engine.lost = [], 0
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        await Worker(engine, name=name, poll=0.01, lease=LEASE).run(stop)
    finally:
        await store.close()
    print(json.dumps({"name": name, "made": engine.made, "lost": engine.lost}), flush=True)


if __name__ == "__main__":
    db, seconds, start, origin, name = sys.argv[1:6]
    asyncio.run(race(db, float(seconds), float(start), float(origin), name))
