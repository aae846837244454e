"""PostgreSQL throughput beside SQLite's: the same drain with 1, 2 and 4 worker processes.

    python -m bench.postgres [--jobs 3000] [--concurrency 16] [--url postgresql://...]

Each run submits `--jobs` no-op `demo.echo` jobs into a fresh database, then drains them with
worker processes (`jobdeck worker --burst`, each with its own connections, as workers on separate
hosts would be). The rate is jobs over the time from the first claim to the last completion, read
from the events log, so process start-up is not counted. Without `--url` a throwaway PostgreSQL
is started with fsync on (tests/pg_cluster.py), so the figures include real commits.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from jobdeck.core import Engine, demo_registry
from jobdeck.storage import open_store

REPO = Path(__file__).resolve().parent.parent
KIND = "demo.echo"
BATCH = 1000
WORKERS = (1, 2, 4)


async def submit(db: str, n: int) -> None:
    store = await open_store(db)
    try:
        engine = Engine(store, demo_registry())
        for i in range(0, n, BATCH):
            await engine.submit_many(KIND, [{"n": j} for j in range(i, min(n, i + BATCH))])
    finally:
        await store.close()


async def busy_seconds(db: str) -> float:
    """From the first claim to the last completion, by the events log."""
    store = await open_store(db, read_only=True)
    try:
        first = last = None
        cursor = 0
        while events := await store.events(since=cursor, limit=5000):
            for event in events:
                if event.to_status.value == "running" and first is None:
                    first = event.at
                if event.to_status.value == "done":
                    last = event.at
            cursor = events[-1].cursor
        assert first is not None and last is not None, "nothing ran"
        return last - first
    finally:
        await store.close()


def drain(db: str, workers: int, concurrency: int) -> float:
    """Run `workers` burst worker processes to the end; returns the wall seconds."""
    command = [sys.executable, "-m", "jobdeck.tui", "--db", db, "worker", "--burst",
               "--concurrency", str(concurrency)]  # fmt: skip
    began = time.perf_counter()
    procs = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE) for _ in range(workers)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed: {err.decode().strip()}")
    return time.perf_counter() - began


def run(db: str, jobs: int, workers: int, concurrency: int) -> tuple[float, float]:
    asyncio.run(submit(db, jobs))
    wall = drain(db, workers, concurrency)
    return jobs / asyncio.run(busy_seconds(db)), wall


async def create_database(server: str, name: str) -> str:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--url", help="a PostgreSQL server URL whose role may CREATE DATABASE")
    args = parser.parse_args()

    cluster = None
    server = args.url
    if server is None:
        sys.path.insert(0, str(REPO))
        from tests import pg_cluster

        cluster = pg_cluster.start(durable=True)
        server = cluster.url()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="jobdeck-bench-") as folder:
            for workers in WORKERS:
                sqlite = str(Path(folder) / f"w{workers}.db")
                postgres = asyncio.run(create_database(server, f"jobdeck_bench_w{workers}"))
                for backend, db in (("sqlite", sqlite), ("postgres", postgres)):
                    rate, wall = run(db, args.jobs, workers, args.concurrency)
                    rows.append((backend, workers, rate, wall))
                    print(f"{backend:<8} {workers} workers: {rate:8,.0f} jobs/s", file=sys.stderr)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"\n{args.jobs:,} no-op jobs, worker concurrency {args.concurrency}\n")
    print("| backend | workers | jobs/s (first claim to last done) | wall s (with start-up) |")
    print("|---|---:|---:|---:|")
    for backend, workers, rate, wall in rows:
        print(f"| {backend} | {workers} | {rate:,.0f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
