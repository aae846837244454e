"""What the OpenTelemetry hooks cost a worker: claim + complete of no-op jobs in one process, with
`opentelemetry-api` importable but no SDK configured (spans are the API's non-recording ones),
against the same run with OpenTelemetry hidden (nothing of it imported), and with the SDK
recording every span to an exporter that drops them.

    python -m bench.tracing [--jobs 20000] [--rounds 5] [--concurrency 32]

Each run is a child process of its own (a module once imported stays imported); the modes take
turns, round after round, so the machine's noise falls on each alike. Prints the median and the
range of each mode's rate, by the wall clock and by CPU time, and of its ratio to the hidden
run of the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Report, Row

MODES = ("hidden", "api", "sdk")


def child(mode: str, db: Path, jobs: int, concurrency: int) -> dict[str, float]:
    """In a fresh process: store `jobs` no-op jobs, then claim and complete them all; jobs/s
    of the drain by the wall clock and by this process's CPU time (which the other programs on
    a shared machine disturb less)."""
    if mode == "hidden":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]  # as if not installed
    elif mode == "sdk":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(SpanExporter()))  # drops every span
        trace.set_tracer_provider(provider)

    from bench import jobdeck_runs as jd

    async def run() -> dict[str, float]:
        async with jd.engine_on(db) as engine:
            await jd.submit_many(engine, jobs)
            cpu = time.process_time()
            wall = await jd.drain_in_process(engine, stop_after=None, concurrency=concurrency)
            return {"wall": wall, "cpu": jobs / (time.process_time() - cpu)}

    return asyncio.run(run())


def measure(
    folder: Path, jobs: int, rounds: int, concurrency: int
) -> dict[str, dict[str, list[float]]]:
    """jobs/s of each mode in each round (by wall clock and by CPU time), the modes in turn."""
    from bench import jobdeck_runs as jd

    rates: dict[str, dict[str, list[float]]] = {m: {"wall": [], "cpu": []} for m in MODES}
    for r in range(rounds):
        for mode in MODES:
            db = folder / f"tracing-{mode}-{r}.db"
            cmd = [sys.executable, "-m", "bench.tracing", "--child", mode]
            cmd += [str(db), str(jobs), str(concurrency)]
            done = subprocess.run(
                cmd, cwd=jd.REPO, env=jd.child_env(), capture_output=True, text=True, timeout=600
            )
            if done.returncode != 0:
                raise RuntimeError(f"the {mode} run failed: {done.stderr.strip()[-500:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            for clock in ("wall", "cpu"):
                rates[mode][clock].append(float(figures[clock]))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    return rates


def ratios(rates: dict[str, dict[str, list[float]]], mode: str, clock: str) -> list[float]:
    """Each round's rate of `mode` over the hidden run's of the same round."""
    return [a / b for a, b in zip(rates[mode][clock], rates["hidden"][clock], strict=True)]


def add_to(report: Report, folder: Path, *, jobs: int, rounds: int, concurrency: int) -> None:
    rates = measure(folder, jobs, rounds, concurrency)
    hidden = statistics.median(rates["hidden"]["wall"])
    report.add(Row("claim + complete, OpenTelemetry not installed", "jobs/s", hidden))
    for mode, label in (("api", "API, no SDK"), ("sdk", "SDK recording every span")):
        ratio = statistics.median(ratios(rates, mode, "cpu"))
        name = f"  same, OpenTelemetry {label} (× of not installed, CPU time)"
        report.add(Row(name, "×", ratio, target="≥ 0.9" if mode == "api" else ""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--child", nargs=4, metavar=("MODE", "DB", "JOBS", "CONCURRENCY"))
    args = p.parse_args(argv)
    if args.child:
        mode, db, jobs, concurrency = args.child
        print(json.dumps(child(mode, Path(db), int(jobs), int(concurrency))))
        return 0
    with tempfile.TemporaryDirectory(prefix="jobdeck-bench-") as tmp:
        rates = measure(Path(tmp), args.jobs, args.rounds, args.concurrency)
    for clock in ("wall", "cpu"):
        print(f"by {clock} clock:")
        for mode in MODES:
            values = rates[mode][clock]
            line = f"  {mode:>6}: median {statistics.median(values):>8,.0f} jobs/s"
            line += f"  range {min(values):,.0f}..{max(values):,.0f}"
            if mode != "hidden":
                r = ratios(rates, mode, clock)
                line += f"  × hidden: median {statistics.median(r):.3f}"
                line += f" range {min(r):.3f}..{max(r):.3f}"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
