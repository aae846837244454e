"""What one Prometheus scrape of `/metrics` costs on a large database, against the 10 ms target
and against reading the jobs-per-status counts alone (what `jobdeck status` reads).

    python -m bench.metrics [--jobs 1000000] [--scrapes 50] [--day]

Fills a SQLite database with --jobs jobs through `submit_many` (1 in 20 denied by a gate), runs
a slice of them, then times scrapes over HTTP (the endpoint `jobdeck metrics` serves: the reads
on the store's loop, the text built by prometheus-client) taking turns with the store reads of
a scrape alone and with reads of `counts()`. The first scrape reads every rollup row; the later
ones read the newest buckets (`jobdeck.core.totals`). With --day the rollup also holds what a
day of steady traffic leaves in it: for four kinds and four outcome keys each, 90 ten-second
buckets and 1,440 minute buckets.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import jobdeck_runs as jd
from bench.report import Report, Row
from jobdeck.core.metrics import read, serve
from jobdeck.core.system import BUCKET_SECONDS, HISTOGRAM_SIZE, MINUTE, bucket_of
from jobdeck.core.totals import Totals

TARGET_MS = 10.0
DAY_KINDS = ("day.mail", "day.resize", "day.report", "day.sync")
DAY_KEYS = (("done", ""), ("failed", "timeout"), ("retried", "busy"), ("denied", "bad_input"))


def seed_day(db: Path, now: float) -> int:
    """Rollup rows of a day of steady traffic, written behind the store's back; how many."""
    rows = []
    fine_from = bucket_of(now) - 90 * BUCKET_SECONDS
    minutes_from = (fine_from // MINUTE) * MINUTE - 1440 * MINUTE
    starts = [(BUCKET_SECONDS, fine_from + i * BUCKET_SECONDS) for i in range(90)]
    starts += [(MINUTE, minutes_from + i * MINUTE) for i in range(1440)]
    for width, start in starts:
        for kind in DAY_KINDS:
            for outcome, code in DAY_KEYS:
                histogram = [0] * HISTOGRAM_SIZE
                if outcome != "denied":
                    histogram[3], histogram[6] = 40, 2
                ran = sum(histogram)
                rows.append((width, start, kind, outcome, code, 42, 0.03 * ran, *histogram))
    marks = ", ".join("?" * (7 + HISTOGRAM_SIZE))
    columns = ", ".join(f"h{i}" for i in range(HISTOGRAM_SIZE))
    with sqlite3.connect(db, timeout=30) as conn:
        conn.executemany(
            f"INSERT INTO rollup (width, start, kind, outcome, code, n, run_time, {columns}) "
            f"VALUES ({marks})",
            rows,
        )
    return len(rows)


def scrape(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return len(answer.read())


async def timings(db: Path, scrapes: int) -> dict[str, list[float]]:
    """ms of the first scrape over HTTP (it reads every rollup row), of each later one (the
    newest buckets only), of the store reads such a scrape makes, and of `counts()`, taking
    turns."""
    took: dict[str, list[float]] = {"first": [], "scrape": [], "reads": [], "counts": []}
    async with jd.engine_on(db) as engine:
        store = engine.store
        server = serve(store, asyncio.get_running_loop(), "127.0.0.1", 0)
        totals = Totals()
        try:
            began = time.perf_counter()
            await asyncio.to_thread(scrape, server.url)
            took["first"].append((time.perf_counter() - began) * 1000)
            await read(store, time.time(), totals)
            for _ in range(scrapes):
                began = time.perf_counter()
                await asyncio.to_thread(scrape, server.url)
                took["scrape"].append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                await read(store, time.time(), totals)
                took["reads"].append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                await store.counts()
                took["counts"].append((time.perf_counter() - began) * 1000)
        finally:
            await asyncio.to_thread(server.close)
    return took


async def fill(db: Path, jobs: int) -> None:
    async with jd.engine_on(db) as engine:
        await jd.submit_many(engine, jobs, deny_every=20)
        await jd.drain_in_process(engine, stop_after=min(jobs // 10, 20_000), concurrency=32)


def measure(folder: Path, jobs: int, scrapes: int, day: bool) -> tuple[dict[str, list[float]], int]:
    db = folder / "metrics.db"
    asyncio.run(fill(db, jobs))
    seeded = seed_day(db, time.time()) if day else 0
    return asyncio.run(timings(db, scrapes)), seeded


def add_to(report: Report, folder: Path, *, jobs: int, scrapes: int) -> None:
    took, _ = measure(folder, jobs, scrapes, day=True)
    report.add(
        Row(
            f"/metrics scrape at {jobs:,} jobs and a day of rollup",
            "ms",
            statistics.median(took["scrape"]),
            raw=statistics.median(took["counts"]),
            target=f"< {TARGET_MS:g} ms",
            higher_better=False,
        )
    )
    report.add(
        Row(
            "  same, the first scrape (every rollup row)",
            "ms",
            took["first"][0],
            higher_better=False,
        )
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=1_000_000)
    p.add_argument("--scrapes", type=int, default=50)
    p.add_argument("--day", action="store_true", help="also a day of rollup rows")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jobdeck-bench-") as tmp:
        took, seeded = measure(Path(tmp), args.jobs, args.scrapes, args.day)
    print(f"{args.jobs:,} jobs, {seeded:,} rollup rows seeded, {args.scrapes} scrapes")
    counts = statistics.median(took["counts"])
    for what, values in took.items():
        median = statistics.median(values)
        line = f"{what:>7}: median {median:7.2f} ms  range {min(values):.2f}..{max(values):.2f}"
        line += f"  × {TARGET_MS:g} ms target: {median / TARGET_MS:.2f}"
        line += f"  × counts(): {median / counts:.1f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
