"""The synchronous Client beside its floor: what one submit costs a web request.

    python -m bench.client [--jobs 5000] [--rounds 3] [--threads 8]

Each round measures, one after the other on fresh files: plain sqlite3 committing each job into
jobdeck's tables (bench.raw's floor), one caller's `Client.submit`, `--threads` threads sharing
one Client, one thread through the same kind of Client, and the async `engine.submit` of one
caller; then the floors of the threads figure, plain sqlite3 committing ready-made rows from
`--threads` threads (each under a lock, and sharing commits) and from one, and the share of one
caller's submit that holds the GIL. The figure of each is its median over the rounds. Then what
one submit's commit writes: the WAL frames (pages) of one job's transaction, by the B-tree they
belong to.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sqlite3
import statistics
import struct
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, cast

import jobdeck
from bench import jobdeck_runs as jd
from bench import raw
from bench.kinds import NOOP, registry
from bench.report import Report, Row
from jobdeck.core.engine import Intake
from jobdeck.core.ids import new_id
from jobdeck.storage.rows import new_job_row
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite import tx
from jobdeck.storage.sqlite.sync import SyncSqlite

WAL_HEADER, FRAME_HEADER = 32, 24


def one_caller_rate(folder: Path, n: int) -> float:
    """jobs/s of one thread calling `Client.submit` with a new payload each time."""
    with jobdeck.connect(str(folder / "client-one.db"), registry=registry) as client:
        began = time.perf_counter()
        for i in range(n):
            client.submit(NOOP, {"n": i})
        return n / (time.perf_counter() - began)


def prepared_floor_rate(folder: Path, n: int) -> float:
    """jobs/s of plain sqlite3 committing each job as the floor does, but each job first built
    by `Intake.prepare` (payload checks, gates, key, the pydantic Job) and its row taken from
    it: what a submit costs with the rules and none of the Client's layers around them."""
    conn = raw._jobdeck_schema(folder / "prepared-floor.db")
    intake = Intake(registry)
    try:
        began = time.perf_counter()
        for i in range(n):
            _commit_alone(conn, new_job_row(intake.prepare(NOOP, {"n": i})))
        return n / (time.perf_counter() - began)
    finally:
        conn.close()


def threads_rate(folder: Path, n: int, threads: int) -> float:
    """jobs/s of `threads` threads submitting through one shared Client (a threaded web server's
    request handlers), n jobs in all."""
    with jobdeck.connect(str(folder / f"client-{threads}.db"), registry=registry) as client:
        return _threaded_rate(n, threads, lambda i: client.submit(NOOP, {"n": i}))


def _threaded_rate(n: int, threads: int, call: Callable[[int], object]) -> float:
    """jobs/s of `threads` threads calling `call(i)` for i in 0..n-1 between them, timed from
    the moment all of them are ready to the last one's end."""
    start = threading.Barrier(threads + 1)

    def caller(c: int) -> None:
        start.wait()
        for i in range(c, n, threads):
            call(i)

    pool = [threading.Thread(target=caller, args=(c,)) for c in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return n / (time.perf_counter() - began)


def _plain_rows(n: int) -> list[tuple[object, ...]]:
    rows = raw._new_job_rows(n, time.time())
    return [(new_id(), *row[1:]) for row in rows]


def _commit_alone(conn: sqlite3.Connection, row: tuple[object, ...]) -> None:
    conn.execute(q.BEGIN_WRITE)
    conn.execute(q.INSERT_NEW_JOB, row)
    conn.execute(q.INSERT_NEW_EVENT, (row[0], row[5]))
    conn.execute(q.ADD_TO_COUNT, (1, "queued"))
    conn.execute(q.COMMIT)


class _PlainGroups:
    """The least a group commit can be in plain sqlite3: rows arriving while one transaction is
    written wait and go together in the next, written by the caller that finds nobody writing
    (executemany, one count update, one COMMIT); each caller returns once its row committed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.waiting: list[tuple[tuple[object, ...], threading.Event | None]] = []
        self.writing = False

    def __call__(self, row: tuple[object, ...]) -> None:
        with self.lock:
            done = threading.Event() if self.writing else None
            self.waiting.append((row, done))
            self.writing = True
        if done is not None:
            done.wait()
            return
        while True:
            with self.lock:
                group, self.waiting = self.waiting, []
                if not group:
                    self.writing = False
                    return
            rows = [r for r, _ in group]
            self.conn.execute(q.BEGIN_WRITE)
            self.conn.executemany(q.INSERT_NEW_JOB, rows)
            self.conn.executemany(q.INSERT_NEW_EVENT, [(r[0], r[5]) for r in rows])
            self.conn.execute(q.ADD_TO_COUNT, (len(rows), "queued"))
            self.conn.execute(q.COMMIT)
            for _, waiter in group:
                if waiter is not None:
                    waiter.set()


def plain_threads_rate(folder: Path, n: int, threads: int, arrangement: str) -> float:
    """jobs/s of `threads` threads committing ready-made rows (no Python objects, no checks)
    into jobdeck's tables through one plain sqlite3 connection: each its own transaction under
    a lock ("lock"), or sharing transactions as `_PlainGroups` does ("groups"). Against the
    same with one thread, the most any arrangement of threads gets out of one SQLite writer
    here: the honest floor for the Client's threads figure."""
    path = folder / f"plain-{arrangement}-{threads}.db"
    raw._jobdeck_schema(path).close()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in q.PRAGMAS_WRITE:
        conn.execute(pragma)
    rows = _plain_rows(n)
    lock = threading.Lock()

    def alone(row: tuple[object, ...]) -> None:
        with lock:
            _commit_alone(conn, row)

    commit = alone if arrangement == "lock" else _PlainGroups(conn)
    try:
        return _threaded_rate(n, threads, lambda i: commit(rows[i]))
    finally:
        conn.close()


class _TimedConnection:
    """The Client's writer connection, adding up the time spent inside its calls: the time
    sqlite3 runs SQLite with the GIL released. The rest of a submit holds the GIL."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.inside = 0.0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        began = time.perf_counter()
        try:
            return self.conn.execute(sql, *args)
        finally:
            self.inside += time.perf_counter() - began

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        began = time.perf_counter()
        try:
            return self.conn.executemany(sql, rows)
        finally:
            self.inside += time.perf_counter() - began

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def gil_share(folder: Path, n: int) -> float:
    """The share of one caller's `Client.submit` time spent holding the GIL (Python), as
    opposed to inside SQLite, which sqlite3 runs with the GIL released. With perfect sharing
    of commits, threads can at most divide the GIL half: 1 / share is their ceiling."""
    with jobdeck.connect(str(folder / "client-gil.db"), registry=registry) as client:
        store = cast(SyncSqlite, client._store)
        timed = _TimedConnection(store._writer)
        store._writer = cast(sqlite3.Connection, timed)
        try:
            began = time.perf_counter()
            for i in range(n):
                client.submit(NOOP, {"n": i})
            spent = time.perf_counter() - began
        finally:
            store._writer = timed.conn
    return 1 - timed.inside / spent


def _frames(wal: Path, page_size: int) -> list[int]:
    """The page number of every frame in a WAL file, in order."""
    data = wal.read_bytes()[WAL_HEADER:]
    step = FRAME_HEADER + page_size
    return [struct.unpack(">I", data[i : i + 4])[0] for i in range(0, len(data), step)]


def pages_per_commit(
    folder: Path, name: str, commit: Callable[[sqlite3.Connection, int], None], n: int = 200
) -> tuple[float, dict[str, float]]:
    """WAL frames one commit writes, on average over `n` commits into a database that already
    holds a few thousand jobs, and how many of them belong to each table or index."""
    path = folder / f"pages-{name}.db"
    conn = raw._jobdeck_schema(path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # the WAL keeps every frame for counting
    for i in range(2_000):
        commit(conn, -1 - i)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    for i in range(n):
        commit(conn, i)
    frames = _frames(Path(f"{path}-wal"), page_size)
    owner = dict(conn.execute("SELECT pageno, name FROM dbstat"))
    by_tree = Counter(owner.get(page, "(free list or header)") for page in frames)
    conn.close()
    return len(frames) / n, {tree: count / n for tree, count in by_tree.most_common()}


def _raw_commit(conn: sqlite3.Connection, i: int) -> None:
    """The floor's commit (bench.raw.single_submit_rate): the row, its event, the count."""
    (row,) = raw._new_job_rows(1, time.time())
    key = "auto:" + hashlib.sha256(str(i).encode()).hexdigest()[:32]
    row = (f"{i:+026d}", *row[1:4], key, *row[5:])
    conn.execute(q.BEGIN_WRITE)
    conn.execute(q.INSERT_NEW_JOB, row)
    conn.execute(q.INSERT_NEW_EVENT, (row[0], row[5]))
    conn.execute(q.ADD_TO_COUNT, (1, "queued"))
    conn.execute(q.COMMIT)


_INTAKE = Intake(registry)


def _client_commit(conn: sqlite3.Connection, i: int) -> None:
    """What one `Client.submit` runs: the store's own insert transaction for one prepared job."""
    job = _INTAKE.prepare(NOOP, {"n": i})
    tx.in_transaction(partial(tx.insert, jobs=[job]), conn)


def _runs(here: Path, n: int, threads: int) -> dict[str, Callable[[], float]]:
    """Each figure of one round, in the order they run."""
    return {
        "floor": lambda: raw.single_submit_rate(here, n),
        "prepared": lambda: prepared_floor_rate(here, n),
        "one": lambda: one_caller_rate(here, n),
        "many": lambda: threads_rate(here, n, threads),
        "single": lambda: threads_rate(here, n, 1),
        "async": lambda: asyncio.run(jd.single_submit_rate(here, n)),
        "lock-many": lambda: plain_threads_rate(here, n, threads, "lock"),
        "groups-many": lambda: plain_threads_rate(here, n, threads, "groups"),
        "plain-single": lambda: plain_threads_rate(here, n, 1, "lock"),
        "gil": lambda: gil_share(here, n),
    }


def measure(folder: Path, n: int, rounds: int, threads: int) -> dict[str, float]:
    runs: dict[str, list[float]] = {}
    for r in range(rounds):
        here = folder / f"round-{r}"
        here.mkdir()
        for name, run in _runs(here, n, threads).items():
            runs.setdefault(name, []).append(run())
    return {name: statistics.median(values) for name, values in runs.items()}


def add_to(report: Report, folder: Path, *, jobs: int, rounds: int, threads: int = 8) -> None:
    """The Client rows of the table (see the module's docstring)."""
    got = measure(folder, jobs, rounds, threads)
    report.add(Row("Client.submit, one caller (sync, SQLite)", "jobs/s", got["one"],
                   raw=got["floor"], target="≥ 0.8× raw"))  # fmt: skip
    report.add(Row("  the same against plain sqlite3 with Intake.prepare per job", "jobs/s",
                   got["one"], raw=got["prepared"]))  # fmt: skip
    report.add(Row(f"  same, {threads} threads sharing one Client (raw = 1 thread)", "jobs/s",
                   got["many"], raw=got["single"], target="≥ 2× raw"))  # fmt: skip
    report.add(Row(f"  plain sqlite3, {threads} threads sharing commits (raw = 1 thread)",
                   "jobs/s", got["groups-many"], raw=got["plain-single"]))  # fmt: skip
    report.add(Row("  engine.submit, one caller (async), beside it", "jobs/s", got["async"],
                   raw=got["floor"]))  # fmt: skip
    floor_pages, _ = pages_per_commit(folder, "floor", _raw_commit)
    client_pages, _ = pages_per_commit(folder, "client", _client_commit)
    report.add(Row("pages written by one submit's commit", "pages", client_pages,
                   raw=floor_pages, higher_better=False))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.client", description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=5_000, help="jobs per measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=8)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jobdeck-bench-client-") as tmp:
        folder = Path(tmp)
        got = measure(folder, args.jobs, args.rounds, args.threads)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds of {args.jobs:,} jobs")
        print(f"plain sqlite3, a commit per job   {got['floor']:>9,.0f} jobs/s")
        print(f"same, each job from Intake.prepare {got['prepared']:>8,.0f} jobs/s  "
              f"{got['prepared'] / got['floor']:.2f}× the floor")  # fmt: skip
        print(f"Client.submit, one caller         {got['one']:>9,.0f} jobs/s  "
              f"{got['one'] / got['floor']:.2f}× the floor, "
              f"{got['one'] / got['prepared']:.2f}× the prepared floor")  # fmt: skip
        print(f"Client.submit, {args.threads} threads, one Client {got['many']:>9,.0f} jobs/s  "
              f"{got['many'] / got['single']:.2f}× one thread ({got['single']:,.0f})")  # fmt: skip
        print(f"plain sqlite3, {args.threads} threads, a lock "
              f"     {got['lock-many']:>9,.0f} jobs/s  "
              f"{got['lock-many'] / got['plain-single']:.2f}× one thread "
              f"({got['plain-single']:,.0f})")  # fmt: skip
        print(f"plain sqlite3, {args.threads} threads, groups "
              f"   {got['groups-many']:>9,.0f} jobs/s  "
              f"{got['groups-many'] / got['plain-single']:.2f}× one thread")  # fmt: skip
        print(f"one caller's submit holds the GIL {got['gil']:.0%} of its time: threads can "
              f"at most reach {1 / got['gil']:.1f}× one")  # fmt: skip
        print(f"engine.submit, one caller (async) {got['async']:>9,.0f} jobs/s  "
              f"{got['async'] / got['floor']:.2f}× the floor")  # fmt: skip
        for name, commit in (("floor", _raw_commit), ("client", _client_commit)):
            pages, by_tree = pages_per_commit(folder, name, commit)
            trees = ", ".join(f"{tree} {count:.2f}" for tree, count in by_tree.items())
            print(f"pages per one-job commit, {name}: {pages:.2f} ({trees})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
