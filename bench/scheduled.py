"""Time in the engine: jobs scheduled for later must not slow the ready path, and a job that comes
due must start on time.

    python -m bench.scheduled [--quick] [--jobs 50000] [--scheduled 1000000] [--rounds 7]
                              [--samples 200] [--cross-samples 100]

1. claim + complete of `--jobs` ready no-op jobs by one in-process worker (the claim + complete
   row of `python -m bench`) on (a) a database holding only them and (b) the same database plus
   `--scheduled` queued jobs due a day ahead (stored with `submit_many(..., delay=)`). Each
   database is built once, checkpointed, and copied afresh for every run, so every run starts
   from the same file; the runs alternate a b, b a, a b ... so a burst of load on a shared
   machine falls on both alike. Each round gives the ratio b / a; the figure is their median,
   with the lowest and highest beside it.
2. How late a job submitted with `delay=0.2` starts: the moment its handler is entered
   (`time.time()`, returned as its result) minus its `run_after`, with an idle worker at its
   default settings (poll 0.05 s) in this process, then in another process. Jobs are submitted
   one at a time about 50 ms apart, so about four wait at once.

`--quick` runs small sizes (a smoke run, not figures to quote).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from bench import jobdeck_runs as jd
from bench.kinds import NOOP, STAMP
from bench.report import Report, Row, machine, text
from jobdeck.core.contract import Status
from jobdeck.core.engine import Engine
from jobdeck.core.worker import Worker

AHEAD = 86_400.0  # seconds: how far ahead the scheduled jobs are due
SCHEDULE_BATCH = 50_000  # jobs per submit_many call while filling
DELAY = 0.2  # seconds: the delay of each job whose lateness is measured
GAP = 0.05  # seconds between those submits, on average (so DELAY / GAP wait at once)
RATIO_TARGET = 0.90  # "within 10 % of the same run with none scheduled"
LATE_TARGET_MS = 50.0  # p99 in process; across processes the worker's 50 ms poll
SLEPT_A_POLL_MS = 40.0  # claimed this late: the worker slept (most of) a 50 ms poll past due
TIMEOUT = 120.0  # seconds any one wait for jobs to finish may take before the run gives up


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.scheduled", description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    p.add_argument("--jobs", type=int, help="ready jobs per run (default 50000, quick 2000)")
    p.add_argument("--scheduled", type=int, help="jobs due later (default 1000000, quick 20000)")
    p.add_argument("--rounds", type=int, default=7, help="runs of each database (at least 3)")
    p.add_argument("--samples", type=int, help="delayed jobs timed in process (default 200)")
    p.add_argument("--cross-samples", type=int, help="the same across processes (default 100)")
    p.add_argument("--concurrency", type=int, default=32, help="handlers of the draining worker")
    p.add_argument("--seed", type=int, default=1, help="of the gaps between delayed submits")
    args = p.parse_args(argv)
    args.jobs = args.jobs or (2_000 if args.quick else 50_000)
    args.scheduled = args.scheduled if args.scheduled is not None else (
        20_000 if args.quick else 1_000_000
    )  # fmt: skip
    args.samples = args.samples or (20 if args.quick else 200)
    args.cross_samples = args.cross_samples or max(10, args.samples // 2)
    if args.rounds < 3:
        p.error("--rounds must be at least 3: one pair says nothing about the spread")
    return args


def say(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


# -- 1. the ready path beside a million jobs due later -------------------------------------------
@dataclass
class Pairs:
    """jobs/s of each run: `none` on the ready jobs alone, `ahead` with the scheduled jobs too;
    the i-th of each ran in the same round."""

    none: list[float] = field(default_factory=list)
    ahead: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [b / a for a, b in zip(self.none, self.ahead, strict=True)]


def checkpoint(db: Path) -> None:
    """Copy the whole WAL into the database file and empty it, so a copy of the file (and of
    the empty WAL) is the whole database. Raises RuntimeError when a reader holds it back."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise RuntimeError(f"could not checkpoint {db.name}: the database was busy")


def fresh_copy(template: Path, to: Path) -> None:
    """`template` (and its WAL) copied to `to` and written to disk before the run, so no run
    shares the disk with the write-back of its own copy."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{to}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal"):
        source = Path(f"{template}{suffix}")
        if source.exists():
            target = Path(f"{to}{suffix}")
            shutil.copyfile(source, target)
            with open(target, "rb+") as copied:
                os.fsync(copied.fileno())


async def fill(db: Path, *, jobs: int, scheduled: int) -> None:
    """Add `jobs` ready no-op jobs to `db`, or with `scheduled` that many due AHEAD seconds on
    (their payloads numbered after the ready ones, so no idempotency key repeats)."""
    async with jd.engine_on(db) as engine:
        if not scheduled:
            await jd.submit_many(engine, jobs)
            return
        for i in range(jobs, jobs + scheduled, SCHEDULE_BATCH):
            stop = min(jobs + scheduled, i + SCHEDULE_BATCH)
            await engine.submit_many(NOOP, jd.payloads(i, stop), delay=AHEAD)


async def drain(db: Path, *, jobs: int, scheduled: int, concurrency: int) -> float:
    """jobs/s of one in-process worker claiming and completing the `jobs` ready jobs of `db`;
    raises RuntimeError unless exactly those finished and the `scheduled` ones still wait."""
    async with jd.engine_on(db) as engine:
        rate = await jd.drain_in_process(engine, stop_after=jobs, concurrency=concurrency)
        counts = await engine.counts()
    if counts[Status.DONE] != jobs or counts[Status.QUEUED] != scheduled:
        raise RuntimeError(f"the run left {counts}: {jobs} done and {scheduled} queued expected")
    return rate


def ready_path(folder: Path, args: argparse.Namespace) -> Pairs:
    """Build both databases once, then run each `args.rounds` times, alternating."""
    only = folder / "ready.db"
    both = folder / "ready-and-scheduled.db"
    say(f"building {args.jobs:,} ready jobs, then a copy with {args.scheduled:,} due a day on")
    asyncio.run(fill(only, jobs=args.jobs, scheduled=0))
    checkpoint(only)
    fresh_copy(only, both)
    began = time.perf_counter()
    asyncio.run(fill(both, jobs=args.jobs, scheduled=args.scheduled))
    checkpoint(both)
    say(f"  {args.scheduled:,} scheduled in {time.perf_counter() - began:.0f} s")
    pairs = Pairs()
    run = folder / "run.db"
    for round_ in range(args.rounds):
        order = [(only, 0), (both, args.scheduled)]
        for template, scheduled in order if round_ % 2 == 0 else order[::-1]:
            fresh_copy(template, run)
            rate = asyncio.run(
                drain(run, jobs=args.jobs, scheduled=scheduled, concurrency=args.concurrency)
            )
            (pairs.ahead if scheduled else pairs.none).append(rate)
        say(f"  round {round_ + 1}: {pairs.none[-1]:,.0f} vs {pairs.ahead[-1]:,.0f} jobs/s")
    for path in (only, both, run):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return pairs


# -- 2. a job due in 200 ms starts on time ------------------------------------------------------
@dataclass
class Lateness:
    """ms after its `run_after` that each delayed job was claimed (the worker's clock as it
    claimed) and that its handler was entered."""

    claimed: list[float]
    started: list[float]


async def until_done(engine: Engine, n: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while (await engine.counts())[Status.DONE] < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {n} jobs finished within {TIMEOUT:g} s")
        await asyncio.sleep(0.02)


async def submit_ahead(engine: Engine, samples: int, rng: random.Random) -> list[str]:
    """Submit one STAMP job due in DELAY seconds, then another after about GAP (never in step
    with the worker's poll), `samples` times; their ids. One job first, not counted, so the
    worker's first claim (and its process's first imports) is not a sample."""
    await engine.submit(STAMP, {"warm": True})
    await until_done(engine, 1)
    ids = []
    for i in range(samples):
        ids.append((await engine.submit(STAMP, {"n": i}, delay=DELAY)).id)
        await asyncio.sleep(rng.uniform(0.5, 1.5) * GAP)
    await until_done(engine, samples + 1)
    return ids


async def lateness_of(engine: Engine, ids: list[str]) -> Lateness:
    claimed_at: dict[str, float] = {}
    since = 0
    while events := await engine.events(since, 1000):
        since = events[-1].cursor
        for e in events:
            if e.to_status is Status.RUNNING:
                claimed_at.setdefault(e.job_id, e.at)
    late = Lateness([], [])
    for job_id in ids:
        job = await engine.get(job_id)
        started = job.result.get("started_at") if isinstance(job.result, dict) else None
        if job.status is not Status.DONE or not isinstance(started, float):
            raise RuntimeError(f"job {job_id} ended {job.status.value} with {job.result!r}")
        late.claimed.append((claimed_at[job_id] - job.run_after) * 1000)
        late.started.append((started - job.run_after) * 1000)
    return late


async def in_process(db: Path, samples: int, rng: random.Random) -> Lateness:
    """A Worker at its default settings in this process, sharing the engine that submits."""
    async with jd.engine_on(db) as engine:
        stop = asyncio.Event()
        running = asyncio.create_task(Worker(engine).run(stop))
        try:
            ids = await submit_ahead(engine, samples, rng)
        finally:
            stop.set()
            await running
        return await lateness_of(engine, ids)


async def cross_process(db: Path, samples: int, rng: random.Random) -> Lateness:
    """`jobdeck worker` at its default settings in a process of its own: nothing wakes it but
    its poll and the hint of when the next queued job comes due."""
    async with jd.engine_on(db) as engine:
        async with jd.worker_process(engine, db):
            ids = await submit_ahead(engine, samples, rng)
        return await lateness_of(engine, ids)


# -- the rows ------------------------------------------------------------------------------------
def ratio_rows(pairs: Pairs, scheduled: int) -> list[Row]:
    ratios = pairs.ratios
    median = statistics.median(ratios)
    ahead = f"{scheduled:,} scheduled a day on"
    return [
        Row(f"claim + complete beside {ahead} ÷ none, median of {len(ratios)} pairs", "×",
            median, target=f"≥ {RATIO_TARGET:.2f}", met=median >= RATIO_TARGET),
        Row("  same, the lowest pair", "×", min(ratios)),
        Row("  same, the highest pair", "×", max(ratios)),
        Row("  claim + complete, none scheduled (median)", "jobs/s",
            statistics.median(pairs.none)),
        Row(f"  claim + complete, {ahead} (median)", "jobs/s",
            statistics.median(pairs.ahead)),
    ]  # fmt: skip


def lateness_rows(where: str, late: Lateness) -> list[Row]:
    p50, p99 = jd.percentiles(late.started)
    n = len(late.started)
    return [
        Row(f"start of a job due in 200 ms, {where}, p50 late", "ms", p50, higher_better=False),
        Row(f"  same, p99 of {n}", "ms", p99, target=f"< {LATE_TARGET_MS:g} ms",
            met=p99 < LATE_TARGET_MS, higher_better=False),
        Row("  same, the latest", "ms", max(late.started), higher_better=False),
    ]  # fmt: skip


def where_it_goes(where: str, late: Lateness) -> str:
    """The lateness in its two parts, and how many jobs waited most of a poll to be claimed."""
    claimed50, claimed99 = jd.percentiles(late.claimed)
    gap = [s - c for s, c in zip(late.started, late.claimed, strict=True)]
    gap50, gap99 = jd.percentiles(gap)
    slept = sum(1 for ms in late.claimed if ms >= SLEPT_A_POLL_MS)
    return (
        f"{where}: due to claimed (the worker waking and reading its clock) p50 "
        f"{claimed50:.1f} ms, p99 {claimed99:.1f} ms, the latest {max(late.claimed):.1f} ms; "
        f"claimed to handler entered (the claim transaction, the task start) p50 {gap50:.1f} "
        f"ms, p99 {gap99:.1f} ms, the latest {max(gap):.1f} ms; {slept} of {len(gap)} claimed "
        f"{SLEPT_A_POLL_MS:g} ms or more after they were due."
    )


def add_to(report: Report, folder: Path, args: argparse.Namespace) -> None:
    """Measure both and add their rows (and notes of the spread and the parts) to `report`."""
    pairs = ready_path(folder, args)
    report.rows.extend(ratio_rows(pairs, args.scheduled))
    report.notes.append(
        f"scheduled: ratio of each pair (with {args.scheduled:,} ÷ without), in round order: "
        + ", ".join(f"{r:.3f}" for r in pairs.ratios)
        + f"; {args.jobs:,} ready jobs a run."
    )
    rng = random.Random(args.seed)
    say(f"lateness of {args.samples} jobs due in {DELAY * 1000:g} ms, worker in this process")
    near = asyncio.run(in_process(folder / "late-in.db", args.samples, rng))
    say(f"  the same for {args.cross_samples}, worker in another process")
    far = asyncio.run(cross_process(folder / "late-x.db", args.cross_samples, rng))
    report.rows.extend(lateness_rows("worker in process", near))
    report.rows.extend(lateness_rows("worker in another process", far))
    report.notes.append(where_it_goes("scheduled, in process", near))
    report.notes.append(where_it_goes("scheduled, another process", far))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    machine_line = machine()
    began = time.perf_counter()
    report = Report()
    with tempfile.TemporaryDirectory(prefix="jobdeck-scheduled-") as tmp:
        add_to(report, Path(tmp), args)
    print(machine_line)
    print(text(report))
    print("\n".join(f"- {note}" for note in report.notes))
    print(f"whole run {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
