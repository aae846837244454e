"""Retention under a steady load: does the file stop growing, and do claims and completions stay
as fast at the end as at the start?

    python -m bench.soak [--quick] [--minutes 10] [--rate 500] [--retention 60]
                         [--pruner worker|bench] [--prune-every 5] [--burst 5000] [--markdown]

This process submits `--rate` no-op jobs a second (one in 20 denied by a gate, so failed jobs
age out too), in ten batches a second on a fixed schedule. A `jobdeck worker` process runs them:
that is how the engine is deployed, its event loop and its share of the GIL are not the
submitter's, and its CPU time is its own to read from /proc. With `--pruner worker` (the default
where the worker has `--retention`, but for `--quick`) that worker also prunes, started with
`--retention done=60s,failed=60s`: automatic retention as shipped (a round 5 s after one that
pruned something, at once after one that ran out of budget, a minute after one that found
nothing). With
`--pruner bench` a task here holds the store's `retention` lease and every `--prune-every`
seconds calls `Engine.prune` on done and failed jobs older than `--retention` seconds, 500 a
transaction (the issue's "every few seconds", and the only pruner before workers had retention).
Either way the jobs pruned each minute are read from the store's `prunes` table, a row per
batch.

At the end of each minute the submitter pauses and the worker drains what is queued; then we
record the file (database plus WAL), its free pages, the rows in the jobs and events tables, the
worker's CPU time per stream job since the last minute's bursts ended (while they run, other
workers share the cores) and its resident memory, and copy the database page for page (SQLite's
backup API: its free pages and layout as the churn left them). The submitter resumes (catching
up at twice its rate) and the pruner never pauses, so the load on the file stays steady: the WAL
keeps the high-water mark of the largest rush of writes, and a pause followed by a rush would be
the instrument growing what it measures.

The claim + complete rate is taken on that copy and, in turn with it, on a fresh copy of minute
1's: each gets a worker process of its own and `--bursts` bursts of `--burst` jobs, each
submitted with one `submit_many` once the one before has drained, the two files alternating
(now, minute 1, minute 1, now, ...). A burst's rate is its jobs over the time from its first
claim to its last completion (the events' own times, so neither the worker's start, its poll nor
our polling is in it). A burst is the same work at every minute, on the database as that minute
left it, so its rate against the minute-1 file's is the cost of the churn in between, and taking
them in turn makes whatever else the shared machine does at that moment fall on both (the rate
the stream finishes at is only ever the rate it is submitted at). At minute 1 the two files are
the same: that ratio is the noise.

After the last minute the load stops, the worker drains and exits, and `jobdeck vacuum --json`
runs on the file; then every finished job is pruned and it runs again. Prints a table a minute
and one JSON line; `--quick` runs four 15-second "minutes" at small rates (a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack, closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypedDict

from bench import jobdeck_runs as jd
from bench.keepup import cpu_seconds
from bench.kinds import NOOP
from bench.report import HEADER, Report, Row, machine, markdown, plain, table_cells, text
from jobdeck.core.contract import Status
from jobdeck.core.engine import Engine
from jobdeck.core.store import Pruned

LEASE = "retention"  # the name automatic retention's lease goes by: one pruner at a time
LEASE_MISSES = 3  # prunes in a row that find the lease held by another before the run stops
PRUNE_BATCH = 500  # jobs per transaction of the bench's own pruner
ROUND_GAP = 1.0  # seconds between two prune batches that start a new round
BATCHES_PER_SECOND = 10
DENY_EVERY = 20  # one submitted job in 20 is denied by the gate and stored failed
SIZE_TARGET = 1.10  # the file at the last minute ÷ the middle one
RATE_TARGET = 0.90  # the burst at the last minute ÷ the first
TIMEOUT = 120.0  # seconds a drain may take before the run gives up
MB = 1_000_000


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="four 15 s minutes at small rates")
    p.add_argument("--minutes", type=int, help="how long to run (default 10, quick 4)")
    p.add_argument("--rate", type=int, help="jobs submitted a second (default 500, quick 200)")
    p.add_argument("--retention", type=float, help="seconds a finished job is kept (default 60)")
    p.add_argument(
        "--pruner",
        choices=("worker", "bench"),
        help="who prunes: the worker's own retention (the default where `jobdeck worker "
        "--retention` exists) or a task here calling Engine.prune every --prune-every seconds",
    )
    p.add_argument("--prune-every", type=float, help="the bench pruner's period (default 5)")
    p.add_argument("--burst", type=int, help="jobs in each burst (default 5000, quick 1000)")
    p.add_argument("--bursts", type=int, default=3, help="bursts a minute, the median taken")
    p.add_argument("--concurrency", type=int, default=32, help="handlers in the worker")
    p.add_argument("--markdown", action="store_true", help="print the tables as markdown too")
    args = p.parse_args(argv)
    quick = args.quick
    args.minute = 15.0 if quick else 60.0  # seconds in a "minute"
    args.minutes = args.minutes or (4 if quick else 10)
    args.rate = args.rate or (200 if quick else 500)
    args.retention = args.retention if args.retention is not None else (15.0 if quick else 60.0)
    args.prune_every = args.prune_every or (2.0 if quick else 5.0)
    args.burst = args.burst or (1_000 if quick else 5_000)
    # The worker's rounds are a minute apart: a quick run would see none, so it prunes itself.
    args.pruner = args.pruner or ("worker" if worker_has_retention() and not quick else "bench")
    if args.pruner == "worker" and not worker_has_retention():
        p.error("this jobdeck's worker has no --retention: use --pruner bench")
    if args.minutes < 2:
        p.error("--minutes must be at least 2: the first minute is what the last is held to")
    return args


def say(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


@dataclass
class Mark:
    """The end of one minute, before its burst."""

    minute: int
    db_bytes: int
    wal_bytes: int
    free_pages: int
    page_size: int
    jobs: int  # rows in the jobs table
    events: int  # rows in the events table
    backlog: int  # queued or running when the minute ended
    pruned: int  # jobs pruned during the minute
    largest_round: int  # jobs deleted by the minute's largest prune round
    cpu_ms_per_job: float | None  # the worker's CPU per stream job since the last bursts
    worker_rss_mb: float  # the worker's resident memory
    burst_rate: float  # jobs/s, the median of the minute's bursts
    burst_rates: list[float]  # jobs/s of each burst, its first claim to its last completion
    base_rates: list[float]  # the same on minute 1's file, taken in turn with them
    burst_ratio: float  # the median of burst ÷ the minute-1 burst taken beside it

    @property
    def size(self) -> int:
        return self.db_bytes + self.wal_bytes


class FileStats(TypedDict):
    db_bytes: int
    wal_bytes: int
    free_pages: int
    page_size: int
    jobs: int
    events: int


def file_stats(db: Path) -> FileStats:
    """Sizes on disk and row counts, read on a connection of its own."""
    wal = Path(f"{db}-wal")
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        row = conn.execute(
            "SELECT (SELECT freelist_count FROM pragma_freelist_count),"
            " (SELECT page_size FROM pragma_page_size),"
            " (SELECT count(*) FROM jobs), (SELECT count(*) FROM events)"
        ).fetchone()
    return {
        "db_bytes": db.stat().st_size,
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        "free_pages": int(row[0]),
        "page_size": int(row[1]),
        "jobs": int(row[2]),
        "events": int(row[3]),
    }


def prunes_between(db: Path, since: float, until: float) -> tuple[int, int]:
    """Jobs pruned between two moments, whoever pruned them (the store records every batch in
    its `prunes` table), and the most of them one round deleted: batches less than ROUND_GAP
    seconds apart are one round."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        rows = conn.execute(
            "SELECT at, jobs FROM prunes WHERE at > ? AND at <= ? ORDER BY at", (since, until)
        ).fetchall()
    rounds: list[int] = []
    last = float("-inf")
    for at, jobs in rows:
        if at - last >= ROUND_GAP:
            rounds.append(0)
        rounds[-1] += int(jobs)
        last = at
    return sum(rounds), max(rounds, default=0)


class Soak:
    """The submitter, the pruner and the minute marks, around one engine and one worker."""

    def __init__(self, engine: Engine, db: Path, args: argparse.Namespace, worker: int) -> None:
        self.engine = engine
        self.db = db
        self.args = args
        self.worker = worker
        self.feeding = asyncio.Lock()  # held by each batch the submitter sends, and by a mark
        self.sent = 0  # stream jobs submitted
        self.ran = 0  # of them, those the worker runs (not denied)
        self.pruned = Pruned()
        self.prune_s = 0.0
        self.longest_prune_s = 0.0
        self._at = time.time()  # the clock at the last mark, for the prunes table
        self._cpu_since = (cpu_seconds(worker), 0)  # the worker's CPU and `ran` after the bursts

    async def feed(self, stop: asyncio.Event) -> None:
        """Submit `rate` jobs a second in BATCHES_PER_SECOND batches, on schedule, until
        `stop`; after a pause it catches up at twice the rate, not all at once (a rush of
        writes would set the WAL's high-water mark)."""
        batch = max(1, self.args.rate // BATCHES_PER_SECOND)
        period = batch / self.args.rate
        began = time.monotonic()
        batches = 0
        while not stop.is_set():
            async with self.feeding:
                start = self.sent
                await self.engine.submit_many(
                    NOOP, jd.payloads(start, start + batch, deny_every=DENY_EVERY)
                )
                self.sent += batch
                self.ran += sum(1 for i in range(start, start + batch) if i % DENY_EVERY)
            batches += 1
            await asyncio.sleep(max(began + batches * period - time.monotonic(), period / 2))

    async def prune(self, stop: asyncio.Event) -> None:
        """Every `prune_every` seconds, while holding the lease, delete done and failed jobs
        older than `retention` seconds. Raises RuntimeError when another process holds the
        lease LEASE_MISSES times in a row."""
        owner = f"bench.soak:{os.getpid()}"
        every = self.args.prune_every
        misses = 0
        while not stop.is_set():
            await asyncio.sleep(every)
            if stop.is_set():
                break
            held = await self.engine.store.take_lease(LEASE, owner, self.engine.clock(), 3 * every)
            misses = 0 if held else misses + 1
            if misses >= LEASE_MISSES:
                raise RuntimeError("another process holds the retention lease")
            if not held:
                continue
            began = time.perf_counter()
            done = await self.engine.prune(
                done_older_than=self.args.retention,
                failed_older_than=self.args.retention,
                batch=PRUNE_BATCH,
                budget=every,
            )
            took = time.perf_counter() - began
            self.pruned += done
            self.prune_s += took
            self.longest_prune_s = max(self.longest_prune_s, took)

    async def mark(self, minute: int) -> Mark:
        """Record the minute, then time its bursts on a copy of the file. The submitter pauses
        until the worker has drained the queue and the copy is taken (so the copy holds no
        queued job); the pruner goes on."""
        async with self.feeding:
            backlog = await unfinished(self.engine)
            await until_idle(self.engine)
            cpu, ran = self._cpu_since
            jobs = self.ran - ran
            per_job = 1000 * (cpu_seconds(self.worker) - cpu) / jobs if jobs else None
            since, self._at = self._at, time.time()
            pruned, largest = await asyncio.to_thread(prunes_between, self.db, since, self._at)
            stats = await asyncio.to_thread(file_stats, self.db)
            rss = rss_mb(self.worker)
            now, first = self.db.with_name("now.db"), self.db.with_name("minute-1.db")
            await asyncio.to_thread(snapshot, self.db, now)
        if minute == 1:
            await asyncio.to_thread(snapshot, now, first)
        base = self.db.with_name("base.db")
        await asyncio.to_thread(snapshot, first, base)
        rates, base_rates = await time_bursts(now, base, minute, self.args)
        # The worker's CPU per job is counted from here: the bursts' worker shares the cores.
        self._cpu_since = (cpu_seconds(self.worker), self.ran)
        return Mark(
            minute=minute,
            backlog=backlog,
            pruned=pruned,
            largest_round=largest,
            cpu_ms_per_job=per_job,
            worker_rss_mb=rss,
            burst_rate=statistics.median(rates),
            burst_rates=rates,
            base_rates=base_rates,
            burst_ratio=statistics.median(a / b for a, b in zip(rates, base_rates, strict=True)),
            **stats,
        )


async def unfinished(engine: Engine) -> int:
    counts = await engine.counts()
    return counts[Status.QUEUED] + counts[Status.RUNNING]


async def until_idle(engine: Engine) -> None:
    """Wait until the workers have finished everything queued; raises RuntimeError after
    TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while await unfinished(engine):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not drain the queue within {TIMEOUT:g} s")
        await asyncio.sleep(0.01)


def snapshot(db: Path, copy: Path) -> None:
    """`db` copied page for page to `copy` (SQLite's backup API): its free pages and the layout
    the churn left, as they are."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)


async def time_bursts(
    now: Path, base: Path, minute: int, args: argparse.Namespace
) -> tuple[list[float], list[float]]:
    """jobs/s of `args.bursts` bursts of `args.burst` jobs on `now` and as many on `base`, taken
    in turn (now base, base now, ...), each file with a `jobdeck worker` process of its own:
    whatever else the machine does at that moment falls on both alike."""
    flags = worker_flags(args, prunes=False)
    rates: dict[Path, list[float]] = {now: [], base: []}
    async with AsyncExitStack() as stack:
        engines = {}
        for path in (now, base):
            engines[path] = engine = await stack.enter_async_context(jd.engine_on(path))
            await stack.enter_async_context(jd.worker_process(engine, path, *flags))
        for i in range(args.bursts):
            for path in (now, base) if i % 2 == 0 else (base, now):
                rates[path].append(await burst(engines[path], args.burst, minute, i))
    return rates[now], rates[base]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def burst(engine: Engine, n: int, minute: int, nth: int) -> float:
    """jobs/s of the worker on `n` jobs submitted at once: from the first one's claim to the
    last one's completion, by the events' times. Raises RuntimeError unless every one finished
    done."""
    since = await engine.store.last_cursor()
    payloads = [{"burst": minute, "n": n * nth + i} for i in range(n)]
    ids = {job.id for job in await engine.submit_many(NOOP, payloads)}
    await until_idle(engine)
    claimed: list[float] = []
    done: list[float] = []
    while events := await engine.events(since, 5_000):
        since = events[-1].cursor
        for e in events:
            if e.job_id not in ids:
                continue
            if e.to_status is Status.RUNNING:
                claimed.append(e.at)
            elif e.to_status is Status.DONE:
                done.append(e.at)
    if len(ids) != n or len(done) != n:
        raise RuntimeError(f"of a burst of {n} jobs, {len(done)} finished done")
    return n / (max(done) - min(claimed))


async def until(moment: float, tasks: Sequence[asyncio.Task[None]]) -> None:
    """Sleep until the monotonic `moment`, raising at once what a task failed with."""
    done, _ = await asyncio.wait(tasks, timeout=max(0.0, moment - time.monotonic()))
    for task in done:
        task.result()
    if done:
        raise RuntimeError("the submitter or the pruner stopped early")


async def load(db: Path, args: argparse.Namespace) -> tuple[list[Mark], dict[str, Any]]:
    """The soak itself: the marks of every minute, and totals."""
    marks: list[Mark] = []
    flags = worker_flags(args, prunes=args.pruner == "worker")
    async with jd.engine_on(db) as engine, jd.worker_process(engine, db, *flags) as worker:
        soak = Soak(engine, db, args, worker.pid)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(soak.feed(stop))]
        if args.pruner == "bench":
            tasks.append(asyncio.create_task(soak.prune(stop)))
        began = time.monotonic()
        try:
            for minute in range(1, args.minutes + 1):
                await until(began + minute * args.minute, tasks)
                marks.append(await soak.mark(minute))
                say(minute_line(marks[-1]))
        finally:
            stop.set()
            ended = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in ended:
            if isinstance(outcome, BaseException):
                raise outcome
        seconds = time.monotonic() - began
        await until_idle(engine)
    totals = {
        "seconds": seconds,
        "submitted": soak.sent,
        "submit_rate": soak.sent / seconds,
        "bursts": 2 * args.burst * args.bursts * args.minutes,  # on the two copies
        "pruned_jobs": sum(m.pruned for m in marks),
        "prune_s": soak.prune_s,  # the bench pruner's; the worker's is inside its CPU time
        "longest_prune_s": soak.longest_prune_s,
    }
    return marks, totals


def worker_flags(args: argparse.Namespace, *, prunes: bool) -> list[str]:
    """A worker's flags: the soak's retention when it `prunes`, else none (a worker of this
    jobdeck that has retention would otherwise prune, and take the lease, at its defaults)."""
    flags = ["--concurrency", str(args.concurrency)]
    if prunes:
        age = f"{args.retention:g}s"
        return [*flags, "--retention", f"done={age},failed={age}"]
    return flags + (["--retention", "off"] if worker_has_retention() else [])


@functools.cache
def worker_has_retention() -> bool:
    """Whether `jobdeck worker` prunes on its own (and so takes the retention lease)."""
    cmd = [sys.executable, "-m", "jobdeck.tui", "worker", "--help"]
    done = subprocess.run(
        cmd, cwd=jd.REPO, env=jd.child_env(), capture_output=True, text=True, timeout=60
    )
    return "--retention" in done.stdout


def minute_line(m: Mark) -> str:
    return (
        f"minute {m.minute}: {m.size / MB:.1f} MB ({m.free_pages} free pages), {m.jobs:,} jobs, "
        "bursts "
        + ", ".join(f"{r:,.0f}" for r in m.burst_rates)
        + " jobs/s, on minute 1's "
        + ", ".join(f"{r:,.0f}" for r in m.base_rates)
        + f" (÷ {m.burst_ratio:.2f})"
    )


def vacuum(db: Path) -> dict[str, Any]:
    """`jobdeck vacuum --json` on `db`, as a user runs it: its answer, and what the database
    and its WAL took on disk just before (its own "before" follows the checkpoint that
    empties the WAL)."""
    wal = Path(f"{db}-wal")
    on_disk = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    cmd = [sys.executable, "-m", "jobdeck.tui", "--db", str(db), "vacuum", "--json"]
    done = subprocess.run(
        cmd, cwd=jd.REPO, env=jd.child_env(), capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"jobdeck vacuum exited {done.returncode}: {done.stderr.strip()}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer | {"on_disk_bytes": on_disk}


async def prune_everything(db: Path) -> Pruned:
    async with jd.engine_on(db) as engine:
        return await engine.prune(done_older_than=0, failed_older_than=0, batch=PRUNE_BATCH)


def auto_vacuum(db: Path) -> int:
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])


# -- the tables ----------------------------------------------------------------------------------
MINUTE_HEADER = ("minute", "file MB", "db MB", "WAL MB", "free pages", "jobs", "events",
                 "pruned", "largest prune", "worker CPU ms/job", "worker RSS MB",
                 "burst jobs/s", "÷ minute 1's file")  # fmt: skip


def minute_cells(marks: Sequence[Mark]) -> list[tuple[str, ...]]:
    return [
        (
            str(m.minute),
            f"{m.size / MB:.1f}",
            f"{m.db_bytes / MB:.1f}",
            f"{m.wal_bytes / MB:.1f}",
            f"{m.free_pages:,}",
            f"{m.jobs:,}",
            f"{m.events:,}",
            f"{m.pruned:,}",
            f"{m.largest_round:,}",
            "n/a" if m.cpu_ms_per_job is None else f"{m.cpu_ms_per_job:.3f}",
            f"{m.worker_rss_mb:.1f}",
            f"{m.burst_rate:,.0f}",
            f"{m.burst_ratio:.2f}",
        )
        for m in marks
    ]


def summary(marks: Sequence[Mark], totals: dict[str, Any], vacuums: dict[str, Any]) -> Report:
    first, middle, last = marks[0], marks[len(marks) // 2 - 1], marks[-1]
    grew = last.size / middle.size
    kept = last.burst_ratio
    others = [m.burst_ratio for m in marks[1:]]
    report = Report()
    report.rows += [
        Row(f"file at minute {last.minute} ÷ minute {middle.minute}", "×", grew,
            target=f"≤ {SIZE_TARGET:.2f}", met=grew <= SIZE_TARGET),
        Row(f"claim + complete burst on minute {last.minute}'s file ÷ minute 1's, in turn", "×",
            kept, target=f"≥ {RATE_TARGET:.2f}", met=kept >= RATE_TARGET),
        Row("  same, minute 1's file ÷ a copy of itself (the noise)", "×", first.burst_ratio),
        Row("  same, every later minute: the lowest", "×", min(others)),
        Row("  same, the median", "×", statistics.median(others)),
        Row("  same, the highest", "×", max(others)),
        Row("  burst at minute 1, the median", "jobs/s", first.burst_rate),
        Row(f"  burst at minute {last.minute}, the median", "jobs/s", last.burst_rate),
        Row("  the same two ÷ each other (minutes apart, not in turn)", "×",
            last.burst_rate / first.burst_rate),
        Row("worker RSS at minute 1", "MB", first.worker_rss_mb),
        Row(f"  at minute {last.minute}", "MB", last.worker_rss_mb),
        Row("stream submitted, on average", "jobs/s", totals["submit_rate"]),
        Row(f"file at minute {last.minute} (database + WAL)", "MB", last.size / MB),
    ]  # fmt: skip
    for when, label in (("end", "when the load stopped"),
                        ("emptied", "after pruning every finished job")):  # fmt: skip
        v = vacuums[when]
        report.rows += [
            Row(f"vacuum {label}: database + WAL on disk", "MB", v["on_disk_bytes"] / MB),
            Row("  vacuum's before (its checkpoint emptied the WAL)", "MB", v["before_bytes"] / MB),
            Row("  freed, as vacuum says", "MB", v["freed_bytes"] / MB),
            Row("  after", "MB", v["after_bytes"] / MB),
        ]
    cpu = [m.cpu_ms_per_job for m in (first, last)]
    if cpu[0] and cpu[1]:
        report.rows.insert(
            9, Row(f"worker CPU a job, minute {last.minute} ÷ minute 1", "×", cpu[1] / cpu[0])
        )
    return report


async def measure(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    db = folder / "soak.db"
    pruner = (
        "by the worker's own retention"
        if args.pruner == "worker"
        else f"every {args.prune_every:g} s by a task here"
    )
    say(
        f"{args.minutes} × {args.minute:g} s at {args.rate} jobs/s, jobs older than "
        f"{args.retention:g} s pruned {pruner}, bursts of {args.burst:,}"
    )
    marks, totals = await load(db, args)
    say("load stopped; jobdeck vacuum")
    vacuums = {"auto_vacuum": auto_vacuum(db), "end": vacuum(db)}
    emptied = await prune_everything(db)
    say(f"pruned the {emptied.jobs:,} finished jobs left; jobdeck vacuum again")
    vacuums["emptied"] = vacuum(db) | {"pruned_jobs": emptied.jobs}
    return {"marks": marks, "totals": totals, "vacuums": vacuums}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    machine_line = machine()
    with tempfile.TemporaryDirectory(prefix="jobdeck-soak-") as tmp:
        out = asyncio.run(measure(Path(tmp), args))
    marks, totals, vacuums = out["marks"], out["totals"], out["vacuums"]
    report = summary(marks, totals, vacuums)
    print(machine_line)
    print(plain(MINUTE_HEADER, minute_cells(marks)))
    print()
    print(text(report))
    spent = (
        f" in {totals['prune_s']:.1f} s of pruning (the longest pass "
        f"{totals['longest_prune_s']:.2f} s)"
        if args.pruner == "bench"
        else " by the worker"
    )
    print(
        f"whole load {totals['seconds']:.0f} s: {totals['submitted']:,} jobs streamed and "
        f"{totals['bursts']:,} in bursts on copies; {totals['pruned_jobs']:,} pruned{spent}; "
        f"auto_vacuum = {vacuums['auto_vacuum']}"
    )
    if args.markdown:
        print()
        print(markdown(MINUTE_HEADER, minute_cells(marks)))
        print()
        print(markdown(HEADER, table_cells(report)))
    shaped = {"args": vars(args), "marks": [asdict(m) for m in marks], "totals": totals}
    print(json.dumps(shaped | {"vacuums": vacuums}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
