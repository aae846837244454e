"""jobdeck on PostgreSQL beside procrastinate and PgQueuer: the same server, the same run,
interleaved, with every worker reaching the server over a link with about 1 ms round trip.

    python -m bench.pg_peers [--jobs 20000] [--rounds 3] [--singles 1000] [--samples 200]
                             [--workers 2] [--concurrency 32] [--delay-ms 0.5] [--url URL]

One throwaway server with fsync on (tests/pg_cluster.py), or `--url` (a role that may CREATE
DATABASE). Two delaying proxies (bench.delay_proxy) stand in for the network: one between the
worker processes and the server, one between the submitting process and the server. Each round
gives each queue a fresh database (the order rotates every round) and measures, in this order:

1. single-caller submit: `--singles` jobs, one enqueue call each, awaited, no workers running;
2. `--workers` worker processes of the queue's own kind are started; they drain those jobs;
3. submit-to-start latency with the workers idle and listening: `--samples` jobs, one every
   `--spacing-ms`, the time taken just before the enqueue call, the start recorded by the task;
4. end to end: `--jobs` no-op jobs through the queue's bulk enqueue (10,000 a call), from the first
   enqueue until the queue is empty (polled every 20 ms on a direct connection), with the round
   trips each link carried.

Every queue has at most `--concurrency` jobs in flight per worker process (PgQueuer: that many as
`max_concurrent_tasks`, half of it a dequeue). `pgqueuer-uncapped` is PgQueuer as it runs by
default, with no cap: each dequeue takes `--concurrency` jobs however many are still running.

Needs the bench extra (procrastinate, PgQueuer); without it, `--only jobdeck` still runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg

from bench.jobdeck_runs import REPO, percentiles
from bench.pg_sides import SIDES, Side, start_workers, stop_workers
from bench.postgres import create_database
from bench.report import plain

POLL = 0.02  # seconds between the bench's looks at what is left
PEERS = ("procrastinate", "pgqueuer", "pgqueuer-uncapped")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.pg_peers", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=20_000, help="jobs per end-to-end run")
    p.add_argument("--rounds", type=int, default=3, help="rounds of every measurement (≥ 1)")
    p.add_argument("--singles", type=int, default=1_000, help="jobs submitted one call each")
    p.add_argument("--samples", type=int, default=200, help="jobs timed submit to start")
    p.add_argument("--spacing-ms", type=float, default=20.0, help="between latency samples")
    p.add_argument("--workers", type=int, default=2, help="worker processes per queue")
    p.add_argument("--concurrency", type=int, default=32, help="jobs in flight per worker")
    p.add_argument("--delay-ms", type=float, default=0.5, help="link delay each way")
    p.add_argument("--only", default=",".join(SIDES), help="which queues, comma-separated")
    p.add_argument("--url", help="a PostgreSQL server URL whose role may CREATE DATABASE")
    args = p.parse_args(argv)
    args.only = [s for s in args.only.split(",") if s]
    if unknown := set(args.only) - set(SIDES):
        p.error(f"unknown queues: {', '.join(sorted(unknown))}")
    for name in ("jobs", "rounds", "singles", "samples", "workers", "concurrency"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.delay_ms < 0 or args.spacing_ms < 0:
        p.error("--delay-ms and --spacing-ms cannot be negative")
    return args


def say(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


class Link:
    """A bench.delay_proxy process in front of the server; `url` reaches a database through it,
    `turns()` reads its round-trip count."""

    def __init__(self, server_port: int, delay_ms: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.delay_proxy", "--target", f"127.0.0.1:{server_port}",
             "--delay-ms", str(delay_ms)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.port = int(self._out.readline())

    @property
    def _out(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def url(self, server: str, database: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(server)
        netloc = (
            f"{parts.username}@127.0.0.1:{self.port}"
            if parts.username
            else f"127.0.0.1:{self.port}"
        )
        return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))

    def counters(self) -> dict[str, int]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        got: dict[str, int] = json.loads(self._out.readline())
        return got

    def turns(self) -> int:
        return self.counters()["turns"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Figures:
    """One queue's figures, a value per round."""

    e2e: list[float] = field(default_factory=list)  # jobs/s
    single: list[float] = field(default_factory=list)  # jobs/s
    p50: list[float] = field(default_factory=list)  # ms
    p99: list[float] = field(default_factory=list)  # ms
    worker_trips: list[float] = field(default_factory=list)  # round trips per job, worker link
    client_trips: list[float] = field(default_factory=list)  # per job, client link, bulk
    submit_trips: list[float] = field(default_factory=list)  # per single submit
    worker_cpu: list[float] = field(default_factory=list)  # ms of worker-process CPU per job
    server_cpu: list[float] = field(default_factory=list)  # ms of server-backend CPU per job


async def ping_ms(url: str, times: int = 200) -> float:
    """Median milliseconds of `SELECT 1` on one connection to `url`."""
    conn = await asyncpg.connect(url)
    try:
        took = []
        for _ in range(times):
            began = time.perf_counter()
            await conn.fetchval("SELECT 1")
            took.append((time.perf_counter() - began) * 1000)
        return statistics.median(took)
    finally:
        await conn.close()


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (none for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return used


async def backend_cpu(side: Side) -> dict[int, float]:
    """CPU seconds of each server process serving the side's database now, the bench's own
    observer aside."""
    rows = await side.observer.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    return cpu_seconds([int(row["pid"]) for row in rows])


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """Seconds used between the two readings by the processes alive at the second (one that
    ended in between drops out, so the figure is a floor)."""
    return sum(at - before.get(pid, 0.0) for pid, at in after.items())


async def wait_empty(
    side: Side, procs: Sequence[subprocess.Popen[bytes]], limit: float, log: Path
) -> None:
    """Return once nothing is queued or running; RuntimeError when a worker died or `limit`
    seconds passed."""
    deadline = time.monotonic() + limit
    while await side.left():
        if any(proc.poll() is not None for proc in procs):
            tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-1500:]
            raise RuntimeError(f"a {side.name} worker exited; the end of its log:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{side.name} left {await side.left()} jobs after {limit:.0f} s")
        await asyncio.sleep(POLL)


async def measure(side: Side, args: argparse.Namespace, client: Link, worker: Link,
                  log: Path, into: Figures) -> None:  # fmt: skip
    await side.prepare()
    await side.open()
    try:
        before = client.turns()
        began = time.perf_counter()
        for n in range(args.singles):
            await side.submit_one(n)
        into.single.append(args.singles / (time.perf_counter() - began))
        into.submit_trips.append((client.turns() - before) / args.singles)

        procs = start_workers(side, args.workers, args.concurrency, log)
        try:
            await wait_empty(side, procs, 300, log)  # the singles: the workers are up and warm
            await asyncio.sleep(1.0)
            submitted: dict[int, float] = {}
            for k in range(args.samples):
                n = args.singles + k
                submitted[n] = time.time()
                await side.submit_one(n, stamp=True)
                await asyncio.sleep(args.spacing_ms / 1000)
            await wait_empty(side, procs, 300, log)
            starts = await side.starts()
            if missing := set(submitted) - set(starts):
                raise RuntimeError(f"{side.name}: {len(missing)} stamp jobs recorded no start")
            p50, p99 = percentiles([(starts[n] - at) * 1000 for n, at in submitted.items()])
            into.p50.append(p50)
            into.p99.append(p99)

            first = args.singles + args.samples
            w0, c0 = worker.turns(), client.turns()
            cpu0 = cpu_seconds([p.pid for p in procs]), await backend_cpu(side)
            began_at = time.perf_counter()
            await side.submit_bulk(range(first, first + args.jobs))
            await wait_empty(side, procs, max(300.0, args.jobs / 50), log)
            took = time.perf_counter() - began_at
            w1, c1 = worker.turns(), client.turns()
            cpu1 = cpu_seconds([p.pid for p in procs]), await backend_cpu(side)
        finally:
            await asyncio.to_thread(stop_workers, procs)
        total = first + args.jobs
        if (ran := await side.finished()) != total:
            raise RuntimeError(f"{side.name} finished {ran} jobs of {total}")
        into.e2e.append(args.jobs / took)
        into.worker_trips.append((w1 - w0) / args.jobs)
        into.worker_cpu.append(1000 * cpu_used(cpu0[0], cpu1[0]) / args.jobs)
        into.server_cpu.append(1000 * cpu_used(cpu0[1], cpu1[1]) / args.jobs)
        into.client_trips.append((c1 - c0) / args.jobs)
    finally:
        await side.close()


async def run(
    args: argparse.Namespace, server: str, folder: Path
) -> tuple[dict[str, Figures], dict[str, float]]:
    port = int(server.rsplit(":", 1)[1].split("/")[0])
    client, worker = Link(port, args.delay_ms), Link(port, args.delay_ms)
    try:
        pings = {
            "direct": await ping_ms(server),
            "link": await ping_ms(worker.url(server, "postgres")),
        }
        say(
            f"SELECT 1 round trip: direct {pings['direct']:.2f} ms, "
            f"through a link {pings['link']:.2f} ms"
        )
        figures = {name: Figures() for name in args.only}
        for r in range(args.rounds):
            order = args.only[r % len(args.only) :] + args.only[: r % len(args.only)]
            for name in order:
                db = f"jdpeers_{name.replace('-', '_')}_{r}"
                direct = await create_database(server, db)
                side = SIDES[name](direct, client.url(server, db), worker.url(server, db), folder)
                await measure(
                    side, args, client, worker, folder / f"{name}-workers.log", figures[name]
                )
                f = figures[name]
                say(
                    f"round {r + 1}, {name}: end to end {f.e2e[-1]:,.0f} jobs/s "
                    f"({f.worker_trips[-1]:.2f} + {f.client_trips[-1]:.3f} round trips a job), "
                    f"single {f.single[-1]:,.0f} jobs/s ({f.submit_trips[-1]:.1f} a submit), "
                    f"latency p50 {f.p50[-1]:.1f} ms p99 {f.p99[-1]:.1f} ms"
                )
        return figures, pings
    finally:
        client.close()
        worker.close()


def spread(values: Sequence[float], fmt: str) -> str:
    """Median, and the lowest and highest when there is more than one value."""
    mid = format(statistics.median(values), fmt)
    if len(values) < 2:
        return mid
    return f"{mid} ({format(min(values), fmt)}–{format(max(values), fmt)})"


ROWS = (
    ("end to end, jobs/s", "e2e", ",.0f", True),
    ("single-caller submit, jobs/s", "single", ",.0f", True),
    ("submit→start p50, ms", "p50", ".1f", False),
    ("submit→start p99, ms", "p99", ".1f", False),
    ("round trips a job, workers (end to end)", "worker_trips", ".2f", False),
    ("round trips a job, submitter (bulk)", "client_trips", ".3f", False),
    ("round trips a single submit", "submit_trips", ".1f", False),
    ("worker-process CPU a job, ms", "worker_cpu", ".3f", False),
    ("server-backend CPU a job, ms", "server_cpu", ".3f", False),
)


def table(figures: dict[str, Figures]) -> str:
    names = list(figures)
    header = ["measurement", *names]
    peers = [p for p in PEERS if p in figures and "jobdeck" in figures]
    header += [f"jobdeck ÷ {p}" for p in peers]
    rows: list[tuple[str, ...]] = []
    for label, attr, fmt, higher in ROWS:
        cells = [label] + [spread(getattr(figures[n], attr), fmt) for n in names]
        for p in peers:
            mine, theirs = getattr(figures["jobdeck"], attr), getattr(figures[p], attr)
            if attr in ("e2e", "single", "p50", "p99"):
                ratios = [
                    (m / t if higher else t / m)
                    for m, t in zip(mine, theirs, strict=True)
                    if m and t
                ]
                cells.append(spread(ratios, ".2f") + "×" if ratios else "")
            else:
                cells.append("")
        rows.append(tuple(cells))
    return plain(tuple(header), rows)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cluster = None
    server = args.url
    began = time.perf_counter()
    if server is None:
        sys.path.insert(0, str(REPO))
        from tests import pg_cluster

        cluster = pg_cluster.start(durable=True)
        server = cluster.url()
    try:
        with tempfile.TemporaryDirectory(prefix="jobdeck-pg-peers-") as tmp:
            figures, pings = asyncio.run(run(args, server, Path(tmp)))
    finally:
        if cluster is not None:
            cluster.stop()
    print(
        f"{args.jobs:,} jobs end to end, {args.workers} worker processes × {args.concurrency}; "
        f"{args.singles:,} single submits; {args.samples} latency samples {args.spacing_ms:g} ms "
        f"apart; link {args.delay_ms:g} ms each way (SELECT 1: {pings['link']:.2f} ms through it, "
        f"{pings['direct']:.2f} ms direct); {args.rounds} rounds"
    )
    print(table(figures))
    print("ratios: per round, then median (lowest–highest); for latency, the peer's ms ÷ jobdeck's")
    print(f"whole run {time.perf_counter() - began:.0f} s")
    raw: dict[str, Any] = {name: vars(f) for name, f in figures.items()}
    print(json.dumps(raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
