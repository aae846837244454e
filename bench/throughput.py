"""End-to-end throughput: batch-submit N no-op jobs, then drain them with worker processes.

    python -m bench.throughput [--jobs N] [--workers W] [--concurrency C]

Prints jobs/s for the batch submit and for the drain (submit excluded), and the raw sqlite3
executemany insert rate of the same rows as the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jobdeck.core import Engine, demo_registry
from jobdeck.storage import open_store


async def submit(db: str, n: int) -> float:
    store = await open_store(db)
    engine = Engine(store, demo_registry())
    start = time.perf_counter()
    for i in range(0, n, 10_000):
        await engine.submit_many("demo.echo", [{"n": j} for j in range(i, min(n, i + 10_000))])
    took = time.perf_counter() - start
    await store.close()
    return took


def drain(db: str, workers: int, concurrency: int) -> float:
    cmd = [sys.executable, "-m", "jobdeck.tui", "--db", db, "worker", "--burst"]
    cmd += ["--concurrency", str(concurrency)]
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, stderr=subprocess.DEVNULL) for _ in range(workers)]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"a worker exited with {p.returncode}")
    return time.perf_counter() - start


def raw_insert(db: str, n: int) -> float:
    """The floor: rows of the same shape with executemany and no gates, one transaction."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT, payload TEXT, status TEXT)")
    rows = [(f"{i:026d}", "demo.echo", json.dumps({"n": i}), "queued") for i in range(n)]
    start = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    took = time.perf_counter() - start
    con.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        t_submit = asyncio.run(submit(db, args.jobs))
        t_drain = drain(db, args.workers, args.concurrency)
        t_raw = raw_insert(str(Path(tmp) / "raw.db"), args.jobs)
    n = args.jobs
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"batch submit through gates : {n / t_submit:>10,.0f} jobs/s")
    print(
        f"raw executemany (no gates) : {n / t_raw:>10,.0f} jobs/s  (ratio {t_raw / t_submit:.2f})"
    )
    print(f"drain, {args.workers} worker processes   : {n / t_drain:>10,.0f} jobs/s")


if __name__ == "__main__":
    main()
