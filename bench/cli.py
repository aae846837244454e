"""Wall time of the read commands a user types, each in a new process, beside `python -c pass`
measured the same way in the same run:

    python -m bench.cli [--db PATH] [--jobs N] [--repeat N]

The command is the console script `jobdeck` installed beside this Python (what a user types),
`python -m jobdeck.tui` only where there is none. Each command runs once untimed, so its bytecode
is cached as after any first use (in a folder of its own, even where PYTHONDONTWRITEBYTECODE is
set: without a cache every run compiles jobdeck anew), then `--repeat` times, interleaved with
the others so a burst of load on a shared machine falls on every command alike; each figure is
the median. Without --db a database of `--jobs` demo jobs is filled first, and nothing writes to
the database while it is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from jobdeck.core import Engine, Worker, demo_registry
from jobdeck.storage import open_store

BASELINE = "python -c pass"


def jobdeck_command() -> list[str]:
    script = Path(sys.executable).with_name("jobdeck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jobdeck.tui"]


def read_commands(db: Path) -> dict[str, list[str]]:
    """Each read command by the words a user types (ID for a job id), and its argv."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        # A job with attempts, a reason and a rerun lineage, when there is one.
        row = conn.execute(
            "SELECT coalesce(rerun_of, id) FROM jobs ORDER BY rerun_of IS NULL, attempt DESC"
        ).fetchone()
    job_id = row[0] if row else "0000"
    base = [*jobdeck_command(), "--db", str(db)]
    words = [
        "status",
        "list",
        "list --status failed --kind demo.charge",
        "show ID",
        "show ID --json",
        "events",
    ]
    return {w: base + [job_id if word == "ID" else word for word in w.split()] for w in words}


def measure(commands: dict[str, list[str]], repeat: int, pycache: Path) -> dict[str, float]:
    """Median wall time in ms of each command (and of `python -c pass`), run `repeat` times in
    turn after one untimed run each, bytecode cached under `pycache`. Raises RuntimeError when a
    command fails."""
    runs = {BASELINE: [sys.executable, "-c", "pass"], **commands}
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(repeat + 1):
        for name, argv in runs.items():
            began = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, env=env, check=False)
            took = (time.perf_counter() - began) * 1000
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed: {done.stderr.decode().strip()[-300:]}")
            if round_:  # the first round only caches bytecode
                times[name].append(took)
    return {name: statistics.median(ms) for name, ms in times.items()}


async def fill(db: Path, n: int) -> None:
    """About `n` demo jobs run to the end: most done, some denied (with their one reason), some
    retried before succeeding, and one rerun."""
    store = await open_store(str(db))
    engine = Engine(store, demo_registry())
    try:
        payloads: list[object] = [{"n": i} for i in range(n)]
        await engine.submit_many("demo.echo", payloads)
        for i in range(max(1, n // 50)):
            await engine.submit("demo.charge", {"amount": i + 1, "currency": "EUR"})  # denied
            await engine.submit("demo.flaky", {"fail_times": 1, "n": i})
        charge = await engine.submit("demo.charge", {"id": "c1", "amount": 5, "currency": "EUR"})
        await Worker(engine, concurrency=32, burst=True, poll=0.01).run()
        await engine.rerun(charge.id)
        await Worker(engine, concurrency=32, burst=True, poll=0.01).run()
    finally:
        await store.close()


def read_commands_ms(folder: Path, *, jobs: int, repeat: int) -> dict[str, float]:
    """Fill a database of `jobs` demo jobs in `folder`, then `measure` the read commands on it."""
    db = folder / "cli.db"
    asyncio.run(fill(db, jobs))
    return measure(read_commands(db), repeat, folder / "pycache")


def table(figures: dict[str, float]) -> str:
    width = max(len(name) for name in figures) + len("jobdeck ")
    lines = []
    for name, ms in figures.items():
        label = name if name == BASELINE else f"jobdeck {name}"
        lines.append(f"{label:<{width}}  {ms:6.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, help="an existing database (default: fill a new one)")
    p.add_argument("--jobs", type=int, default=1000, help="jobs in the database it fills")
    p.add_argument("--repeat", type=int, default=9, help="timed runs of each command")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jobdeck-cli-bench-") as tmp:
        if args.db:
            figures = measure(read_commands(args.db), args.repeat, Path(tmp) / "pycache")
        else:
            figures = read_commands_ms(Path(tmp), jobs=args.jobs, repeat=args.repeat)
    print(f"median of {args.repeat} runs each, {' '.join(jobdeck_command())}")
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
