"""Run every benchmark in one process tree on files in a temporary folder, print one table and
write it to docs/BENCHMARKS.md:

    python -m bench [--quick] [--jobs N] [--sizes 10000,100000,1000000] [--out PATH]

`--quick` runs small sizes (a smoke run, not figures to quote). See docs/BENCHMARKS.md for what
each row measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import cli, client, huey_runs, keepup, metrics, raw, scheduled, tracing
from bench import jobdeck_runs as jd
from bench.report import Report, Row, machine, text, write_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
CLI_JOBS = 1_000  # jobs in the database the read commands are timed on
CALLERS = 64  # tasks submitting one job at a time, together (a web app's request handlers)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    p.add_argument("--jobs", type=int, help="jobs per throughput run (default 20000, quick 2000)")
    p.add_argument("--sizes", help="database sizes for the growth runs, comma-separated")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=32, help="handlers per worker")
    p.add_argument("--no-huey", action="store_true", help="skip the huey comparison")
    p.add_argument("--no-paint", action="store_true", help="skip the Textual first paint")
    p.add_argument("--out", type=Path, default=DOCS, help="where to write the markdown table")
    args = p.parse_args(argv)
    args.jobs = args.jobs or (2_000 if args.quick else 20_000)
    if args.sizes:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    else:
        args.sizes = [args.jobs, 10 * args.jobs] if args.quick else [10_000, 100_000, 1_000_000]
    args.samples = 20 if args.quick else 200
    return args


def step(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def monitor(db: Path, *, paint: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.monitor", str(db)] + ([] if paint else ["--no-paint"])
    done = subprocess.run(
        cmd, cwd=jd.REPO, env=jd.child_env(), capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"the monitor run failed: {done.stderr.strip()[-500:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


async def grow(folder: Path, size: int, concurrency: int) -> tuple[Path, dict[str, float]]:
    """Fill a database with `size` jobs (1 in 20 denied), then measure a further batch submit
    and claim+complete of a fixed slice at that size."""
    db = folder / f"grow-{size}.db"
    figures: dict[str, float] = {}
    async with jd.engine_on(db) as engine:
        await jd.submit_many(engine, size, deny_every=20)
        extra = max(100, min(10_000, size // 10))
        figures["submit_many"] = extra / await jd.submit_many(engine, extra, start=size)
        figures["claim_complete"] = await jd.drain_in_process(
            engine, stop_after=max(100, min(5_000, size // 4)), concurrency=concurrency
        )
    return db, figures


def run(args: argparse.Namespace) -> Report:
    report = Report()
    n = args.jobs
    with tempfile.TemporaryDirectory(prefix="jobdeck-bench-") as tmp:
        folder = Path(tmp)
        # Child processes (workers, the monitor, the CLI) cache their bytecode in the temp folder,
        # as a user's install would beside the code, even where PYTHONDONTWRITEBYTECODE is set.
        os.environ["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        use_huey = not args.no_huey and huey_runs.available()

        step(f"end to end: submit {n:,} and drain with {args.workers} worker processes")
        e2e = jd.end_to_end_rate(folder, n, args.workers, args.concurrency)
        hf = huey_runs.run(folder, n, args.workers) if use_huey else None
        report.add(Row(f"end to end, {args.workers} worker processes", "jobs/s", e2e,
                       huey=hf.end_to_end if hf else None, target="≥ 3× huey"))  # fmt: skip

        step("claim + complete in one process, and the raw sqlite3 floor")
        cc = asyncio.run(jd.claim_complete_rate(folder, n, args.concurrency))
        floor = raw.claim_complete_rate(folder, min(n, 20_000))
        report.add(Row("claim + complete, 1 process", "jobs/s", cc, raw=floor,
                       target="≥ 0.6× raw"))  # fmt: skip

        step("submits: single and batch, and raw executemany")
        batch = asyncio.run(jd.batch_submit_rate(folder, n))
        report.add(Row("batch submit (submit_many), gates", "jobs/s", batch,
                       raw=raw.executemany_rate(folder, n), target="≥ 100,000 jobs/s"))  # fmt: skip
        report.add(Row("  same, vs executemany on jobdeck's schema", "jobs/s", batch,
                       raw=raw.schema_executemany_rate(folder, n)))  # fmt: skip
        singles = min(n, 5_000)
        single = asyncio.run(jd.single_submit_rate(folder, singles))
        report.add(Row("single submit, Python API", "jobs/s", single,
                       huey=hf.enqueue if hf else None, target="≥ 3× huey enqueue"))  # fmt: skip
        report.add(Row("  same, vs plain sqlite3 committing each job", "jobs/s", single,
                       raw=raw.single_submit_rate(folder, singles)))  # fmt: skip
        together = asyncio.run(jd.concurrent_submit_rate(folder, singles, CALLERS))
        report.add(Row(f"  same, {CALLERS} tasks submitting at once", "jobs/s", together,
                       huey=hf.enqueue if hf else None))  # fmt: skip

        step("the synchronous Client: one caller, threads, the async engine and the floor")
        client.add_to(report, folder, jobs=singles, rounds=1 if args.quick else 3)

        step(f"submit-to-start latency, {args.samples} jobs each")
        p50, p99 = asyncio.run(jd.latency_in_process(folder, args.samples))
        x50, x99 = asyncio.run(jd.latency_cross_process(folder, args.samples))
        for label, value in (("in-process p50", p50), ("in-process p99", p99),
                             ("cross-process p50", x50), ("cross-process p99", x99)):  # fmt: skip
            report.add(Row(f"submit→start latency, {label}", "ms", value, higher_better=False))
        step("scheduled jobs: the ready path beside jobs due later, and how late due jobs start")
        timing = ["--jobs", str(n), "--samples", str(args.samples),
                  "--concurrency", str(args.concurrency)]  # fmt: skip
        # Five pairs, not bench.scheduled's seven: the million jobs take most of a minute to store.
        timing += ["--quick"] if args.quick else ["--rounds", "5"]
        scheduled.add_to(report, folder, scheduled.parse(timing))
        step("read commands, each in a new process, beside python -c pass")
        took = cli.read_commands_ms(folder, jobs=CLI_JOBS, repeat=3 if args.quick else 9)
        start = took.pop(cli.BASELINE)  # the "raw floor" of a command: Python's own start-up
        for words, ms in took.items():
            report.add(Row(f"CLI `jobdeck {words}`", "ms", ms, raw=start, target="< 150 ms",
                           higher_better=False))  # fmt: skip

        largest: dict[str, Any] = {}
        for size in args.sizes:
            step(f"growth at {size:,} jobs: fill, submit, claim + complete, monitor")
            db, figures = asyncio.run(grow(folder, size, args.concurrency))
            seen = monitor(db, paint=not args.no_paint)
            figures |= {k: float(seen[k]) for k in ("tick_ms", "groups_ms", "rss_mb") if k in seen}
            report.growth.append((size, dict(figures)))
            largest = seen
            db.unlink()
        at = f"at {args.sizes[-1]:,} jobs"
        if "paint_error" in largest:
            report.notes.append(f"first paint not measured: {largest['paint_error']}")
        report.add(Row(f"monitor first paint {at}", "ms", largest.get("first_paint_ms"),
                       target="< 1000 ms", higher_better=False))  # fmt: skip
        report.add(Row(f"  same, until the app is idle {at}", "ms",
                       largest.get("first_settled_ms"), higher_better=False))  # fmt: skip
        report.add(Row(f"monitor tick {at}, every pane reloaded", "ms",
                       largest.get("app_tick_ms"), target="< 25 ms",
                       higher_better=False))  # fmt: skip
        report.add(Row(f"monitor tick {at}, no new events", "ms",
                       largest.get("app_idle_tick_ms"), target="< 25 ms",
                       higher_better=False))  # fmt: skip
        report.add(Row(f"monitor tick {at}, reads only", "ms", largest.get("tick_ms"),
                       target="< 25 ms", higher_better=False))  # fmt: skip
        report.add(Row(f"monitor peak RSS {at}", "MB", largest.get("rss_mb"),
                       target="< 200 MB", higher_better=False))  # fmt: skip
        keep_up(folder, report, quick=args.quick)
        step(f"a /metrics scrape at {args.sizes[-1]:,} jobs with a day of rollup rows")
        metrics.add_to(report, folder, jobs=args.sizes[-1], scrapes=20 if args.quick else 50)
        step("claim + complete with OpenTelemetry hidden, its API alone, and its SDK recording")
        tracing.add_to(
            report, folder, jobs=n, rounds=1 if args.quick else 5, concurrency=args.concurrency
        )
    judge(report)
    return report


def keep_up(folder: Path, report: Report, *, quick: bool) -> None:
    """The monitor in a real terminal while about 1,000 jobs/s finish (bench.keepup)."""
    if quick or shutil.which("tmux") is None:
        why = "a --quick run" if quick else "tmux is not installed"
        report.notes.append(f"monitor keep-up at 1,000 jobs/s not measured: {why}.")
        return
    step("monitor keep-up: the real monitor in tmux while about 1,000 jobs/s finish")
    args = keepup.parse([])
    out = asyncio.run(keepup.measure(folder / "keepup.db", args))
    report.add(Row("monitor CPU while ~1,000 jobs/s finish", "% of a core",
                   100 * out["monitor_cpu_share"], target="< 30 %",
                   higher_better=False))  # fmt: skip
    report.add(Row("monitor counts, oldest shown behind the store", "s", out["max_lag_s"],
                   target=f"< {args.tick + keepup.SLACK:g} s", higher_better=False))  # fmt: skip
    match = "equal" if out["final"]["match"] else "NOT equal"
    report.notes.append(
        f"keep-up: {out['rate_finished']:,.0f} jobs/s finished over {out['window_s']:.0f} s; "
        f"after the drain the counts on screen were {match} to `jobdeck status`."
    )


def judge(report: Report) -> None:
    for row in report.rows:
        value = row.jobdeck
        if value is None or not row.target:
            continue
        if "huey" in row.target:
            row.met = None if row.vs_huey is None else row.vs_huey >= 3
        elif "× raw" in row.target:  # "≥ 0.6× raw": at least that fraction of the raw figure
            factor = float(row.target.split()[1].rstrip("×"))
            row.met = None if row.vs_raw is None else row.vs_raw >= factor
        elif row.target.startswith("≥"):
            row.met = value >= float(row.target.split()[1].replace(",", ""))
        elif row.target.startswith("<"):
            row.met = value < float(row.target.split()[1].replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    machine_line = machine()
    began = time.perf_counter()
    report = run(args)
    report.notes.append(
        f"jobs per throughput run: {args.jobs:,}; growth sizes: "
        + ", ".join(f"{s:,}" for s in args.sizes)
        + f"; whole run {time.perf_counter() - began:.0f} s."
    )
    print(machine_line)
    print(text(report))
    command = "python -m bench" + (" --quick" if args.quick else "")
    write_markdown(report, args.out, command=command, machine_line=machine_line)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
