"""Each tick becomes exactly one job whatever the number of workers: three worker processes race
on one schedule for about sixty ticks, on SQLite and on PostgreSQL, on a fast clock they share
(tests/reliability/tick_racer.py), and the ticks recorded are every minute once, no gap."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from jobdeck.core.schedule import tick_key
from tests.cli.harness import REPO, finish, query, reaped, run_env
from tests.reliability.tick_racer import SCHEDULE, SPEED
from tests.storage_pg.conftest import sql

RACERS = 3
SECONDS = 6.0  # of real time per racer: about sixty ticks
MINUTE = 60.0
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a whole minute
RUNS = "SELECT tick, job_id FROM schedule_runs WHERE name = '" + SCHEDULE + "' ORDER BY tick"
JOBS = "SELECT id, idempotency_key, status FROM jobs ORDER BY id"


def racer(db: str, origin: float, name: str) -> subprocess.Popen[bytes]:
    args = [db, str(SECONDS), repr(START), repr(origin), name]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.tick_racer", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=run_env(),
    )


def race(db: str) -> tuple[dict[str, list[float]], int, float]:
    """Start the racers at once; returns the ticks each made, how many compare-and-sets they
    lost in all, and the clock when all stopped."""
    origin = time.time()
    procs = [racer(db, origin, f"racer-{n}") for n in range(RACERS)]
    with reaped(*procs):
        ran = [finish(p, timeout=SECONDS + 20) for p in procs]
    ended = START + (time.time() - origin) * SPEED
    assert [r.code for r in ran] == [0] * RACERS, [r.err for r in ran]
    made, lost = {}, 0
    for r in ran:
        line = json.loads(r.lines[-1])
        made[line["name"]] = line["made"]
        lost += line["lost"]
    return made, lost, ended


def check(
    made: dict[str, list[float]],
    lost: int,
    ended: float,
    runs: list[tuple[Any, ...]],
    jobs: list[tuple[Any, ...]],
) -> None:
    ticks = [float(tick) for tick, _ in runs]
    assert len(ticks) >= 40, f"only {len(ticks)} ticks in {SECONDS} s of racing"
    first = ticks[0]
    assert START < first <= START + 3 * SPEED, "the schedule started late"
    # Every minute from the first tick to the last, once: no gap, no duplicate.
    assert ticks == [first + MINUTE * n for n in range(len(ticks))]
    assert ticks[-1] >= ended - 3 * SPEED, "the racers stopped making ticks early"
    # Exactly one job per tick, keyed by the tick, and no other job.
    assert len({job_id for _, job_id in runs}) == len(runs)
    keys = {job_id: key for job_id, key, _ in jobs}
    assert sorted(keys) == sorted(job_id for _, job_id in runs)
    assert [keys[job_id] for _, job_id in runs] == [tick_key(SCHEDULE, t) for t in ticks]
    # Each tick was made by exactly one racer, and more than one racer made some: a real race.
    by_racer = Counter(tick for ticks_made in made.values() for tick in ticks_made)
    assert sorted(by_racer) == ticks and set(by_racer.values()) == {1}
    winners = {name: len(t) for name, t in made.items() if t}
    assert len(winners) > 1, f"one racer made every tick: {winners}"
    assert lost > 0, "no racer ever lost a compare-and-set: they never raced"


def test_three_worker_processes_on_sqlite_make_each_tick_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    made, lost, ended = race(str(db))
    runs = [tuple(r) for r in query(db, RUNS)]
    jobs = [tuple(r) for r in query(db, JOBS)]
    check(made, lost, ended, runs, jobs)


def test_three_worker_processes_on_postgresql_make_each_tick_exactly_once(pg_url: str) -> None:
    made, lost, ended = race(pg_url)
    runs = [tuple(r) for r in asyncio.run(sql(pg_url, RUNS))]
    jobs = [tuple(r) for r in asyncio.run(sql(pg_url, JOBS))]
    check(made, lost, ended, runs, jobs)
