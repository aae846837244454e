"""Contention: workers, a monitor and submitters on one file. No `database is locked` ever
reaches a person: busy answers are retried inside storage, for a bound (the busy timeout, 5 s),
and past it the command says so in one sentence and exits 5."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from jobdeck.core import Engine, Status, demo_registry
from jobdeck.storage import open_store
from jobdeck.tui.feed import Feed, PaneQuery
from tests.cli.harness import (
    REPO,
    assert_one_error,
    command,
    finish,
    query,
    reaped,
    run_env,
    snapshot,
)
from tests.reliability.conftest import Rig
from tests.reliability.test_crash_and_log import replay

LOCKED = "database is locked"
# Submits one job per transaction, as fast as it can, for the seconds given; prints how many.
HAMMER = """
import asyncio, sys, time
from jobdeck.core import Engine, demo_registry
from jobdeck.storage import open_store

async def main(db, seconds):
    store = await open_store(db)
    engine = Engine(store, demo_registry())
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        await engine.submit("demo.echo", {"hammer": sys.argv[3], "n": n})
        n += 1
    await store.close()
    print(n)

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


def hammer(db: Path, seconds: float, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", HAMMER, str(db), str(seconds), name],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=run_env(),
    )


async def monitor(db: Path, stop: threading.Event, seen: list[str]) -> int:
    """What the monitor does each tick (tui/feed.py), every 50 ms; returns the ticks it made."""
    store = await open_store(str(db))
    feed = Feed(Engine(store, demo_registry()), text="echo", groups_wanted=True)
    queries = {s: PaneQuery(limit=20, newest_first=True) for s in Status}
    ticks, cursor = 0, 0
    try:
        while not stop.is_set():
            snap = await feed.poll(queries)
            assert feed.cursor is not None and feed.cursor >= cursor, "the cursor went back"
            cursor = feed.cursor
            seen.extend(job.id for jobs in snap.pages.values() for job in jobs)
            await store.events(since=max(0, cursor - 50), limit=50)
            ticks += 1
            await asyncio.sleep(0.05)
    finally:
        await store.close()
    return ticks


def test_workers_a_monitor_and_submitters_never_show_a_lock_error(rig: Rig) -> None:
    assert rig.run("submit", "demo.echo", '{"first": true}').code == 0  # create the file
    workers = [rig.spawn("worker", "--concurrency", "8", "--lease", "2") for _ in range(2)]
    hammers = [hammer(rig.db, 3.0, name) for name in "ab"]
    stop, seen, ticks = threading.Event(), [], [0]
    reader = threading.Thread(
        target=lambda: ticks.__setitem__(0, asyncio.run(monitor(rig.db, stop, seen)))
    )
    clis = []
    with reaped(*workers, *hammers):
        reader.start()
        try:
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:  # the CLI's own reads and writes, meanwhile
                clis.append(rig.run("status", "--json"))
                clis.append(rig.run("submit", "demo.echo", f'{{"cli": {len(clis)}}}'))
            pushed = [finish(h, timeout=30) for h in hammers]
            until = time.monotonic() + 30
            while query(rig.db, "SELECT n FROM counts WHERE status = 'queued'")[0][0]:
                assert time.monotonic() < until, "the workers did not drain the queue"
                time.sleep(0.05)
        finally:
            stop.set()
            reader.join(30)
        for w in workers:
            w.send_signal(signal.SIGTERM)
        stopped = [finish(w, timeout=30) for w in workers]
    everything = [*pushed, *stopped, *clis]
    for ran in everything:
        assert LOCKED not in ran.out + ran.err and "Traceback" not in ran.err, ran.err
        assert ran.code == 0, ran.err
    assert ticks[0] >= 10 and seen, "the monitor did not keep reading"
    submitted = sum(int(p.out) for p in pushed)
    assert submitted >= 50, "the submitters were starved"
    statuses = dict(tuple(r) for r in query(rig.db, "SELECT status, count(*) FROM jobs GROUP BY 1"))
    assert statuses == {"done": submitted + len(clis) // 2 + 1}
    replay(rig.db)


def test_processes_racing_to_create_one_database_all_succeed(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    procs = [
        subprocess.Popen(
            command(db, "submit", "demo.echo", f'{{"racer": {n}}}'),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=run_env(),
        )
        for n in range(4)
    ]
    with reaped(*procs):
        ran = [finish(p) for p in procs]
    assert [r.code for r in ran] == [0] * 4, [r.err for r in ran]
    assert query(db, "SELECT count(*) FROM jobs")[0][0] == 4
    assert query(db, "PRAGMA user_version")[0][0] >= 1


@contextmanager
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock on `db` from a plain sqlite3 connection."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")


def test_a_lock_held_briefly_is_waited_out(rig: Rig) -> None:
    assert rig.run("submit", "demo.echo", "{}").code == 0
    with write_lock(rig.db) as conn:
        submit = rig.spawn("submit", "demo.echo", '{"after": "the lock"}')
        with reaped(submit):
            time.sleep(1.5)
            assert submit.poll() is None, "the submit gave up on a lock held 1.5 s"
            conn.execute("ROLLBACK")
            ran = finish(submit)
    assert ran.code == 0 and ran.err == "", ran.err
    assert query(rig.db, "SELECT count(*) FROM jobs")[0][0] == 2


def test_a_lock_held_past_the_bound_is_one_sentence_and_exit_5(rig: Rig) -> None:
    assert rig.run("submit", "demo.echo", "{}").code == 0
    before = snapshot(rig.db)
    with write_lock(rig.db):
        started = time.monotonic()
        ran = rig.run("submit", "demo.echo", '{"blocked": true}', timeout=20)
        took = time.monotonic() - started
        reading = rig.run("status", "--json")  # readers are never blocked by a writer
    line = assert_one_error(ran, 5)
    assert "stayed locked for 5." in line and "another process" in line, line
    assert LOCKED not in line
    assert 5 <= took < 10, took
    assert reading.code == 0 and reading.json()["queued"] == 1
    assert snapshot(rig.db) == before
