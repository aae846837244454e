"""What priorities cost the claim: claim + complete with a million jobs queued, on this tree (jobs
of eleven priorities, claimed through `jobs_claim` in priority order) and on a checkout without
priorities (the same jobs, claimed in run_after order), interleaved in one run.

    python -m bench.priorities BEFORE [--queued 1000000] [--jobs 20000] [--rounds 5]

BEFORE is a checkout of the commit before priorities, such as
`git worktree add --detach /tmp/jd-before 3a38127`; it is made importable as `jobdeck` the way
`bench.versus` does it. Each side fills its database once with its own code (`--queued` no-op
jobs through `submit_many`; on this tree job i gets priority i % 11 - 5), checkpoints it, and
then every round copies that file afresh and lets one in-process worker (32 slots) claim and
complete `--jobs` of them, in a process of its own. The order of the sides swaps every round;
each round gives a ratio with ÷ without, the figure is their median with the lowest and highest.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.report import plain
from bench.versus import Side, importable, run_child, say

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.90  # "within 10 % of the code without priorities"
TIMEOUT = 1800.0

# Run in the child. fill: store N queued jobs in DB (with priorities when the tree has them).
# drain: claim and complete about N of them. Prints one JSON line.
CHILD = """
import asyncio, inspect, json, sqlite3, sys, time
from pathlib import Path
import jobdeck.core
from jobdeck.core.engine import Engine
from jobdeck.storage.sqlite.schema import latest
from bench import jobdeck_runs as jd
from bench.kinds import NOOP

what, db, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])

async def fill() -> float:
    async with jd.engine_on(db) as engine:
        ranked = "priority" in inspect.signature(Engine.submit_many).parameters
        began = time.perf_counter()
        for start in range(0, n, jd.BATCH):
            stop = min(n, start + jd.BATCH)
            if not ranked:
                await engine.submit_many(NOOP, jd.payloads(start, stop))
                continue
            for p in range(11):
                group = [{"n": i} for i in range(start, stop) if i % 11 == p]
                await engine.submit_many(NOOP, group, priority=p - 5)
        return n / (time.perf_counter() - began)

async def drain() -> float:
    async with jd.engine_on(db) as engine:
        return await jd.drain_in_process(engine, stop_after=n, concurrency=32)

rate = asyncio.run(fill() if what == "fill" else drain())
conn = sqlite3.connect(db)
if what == "fill":
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
schema = conn.execute("PRAGMA user_version").fetchone()[0]
conn.close()
print(json.dumps({"rate": rate, "core": jobdeck.core.__file__, "schema": schema,
                  "latest": latest()}))
"""


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.priorities", description=__doc__.splitlines()[0]
    )
    p.add_argument("before", type=Path, help="a checkout without priorities")
    p.add_argument("--queued", type=int, default=1_000_000, help="jobs queued in each database")
    p.add_argument("--jobs", type=int, default=20_000, help="jobs claimed and completed per run")
    p.add_argument("--rounds", type=int, default=5, help="rounds (≥ 3)")
    args = p.parse_args(argv)
    if args.rounds < 3:
        p.error("--rounds must be at least 3: one pair says nothing about the spread")
    if not (args.before / "core" / "engine.py").exists():
        p.error(f"{args.before} is not a jobdeck checkout")
    if not 0 < args.jobs <= args.queued:
        p.error("--jobs must be between 1 and --queued")
    return args


def child(side: Side, what: str, db: Path, n: int) -> float:
    """jobs/s of one fill or drain in a fresh process of `side`'s jobdeck and this bench."""
    return float(run_child(side, CHILD, [what, str(db), str(n)], REPO, timeout=TIMEOUT)["rate"])


def run(args: argparse.Namespace, folder: Path) -> tuple[Side, Side]:
    without = Side("without", args.before, importable(args.before, folder / "without"))
    with_ = Side("with", REPO, importable(REPO, folder / "with"))
    filled: dict[str, Path] = {}
    for side in (without, with_):
        filled[side.name] = folder / f"{side.name}.db"
        say(f"filling {side.name}: {args.queued:,} queued jobs")
        rate = child(side, "fill", filled[side.name], args.queued)
        say(f"  {rate:,.0f} jobs/s")
    for r in range(args.rounds):
        order = (without, with_) if r % 2 == 0 else (with_, without)
        for side in order:
            copy = folder / f"run-{side.name}.db"
            shutil.copyfile(filled[side.name], copy)
            rate = child(side, "drain", copy, args.jobs)
            side.rates.setdefault("claim", []).append(rate)
            copy.unlink()
        ratio = with_.rates["claim"][-1] / without.rates["claim"][-1]
        say(
            f"round {r + 1}: without {without.rates['claim'][-1]:,.0f}, with "
            f"{with_.rates['claim'][-1]:,.0f} jobs/s ({ratio:.3f})"
        )
    return without, with_


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jobdeck-priorities-") as tmp:
        without, with_ = run(args, Path(tmp))
    ratios = [a / b for a, b in zip(with_.rates["claim"], without.rates["claim"], strict=True)]
    median = statistics.median(ratios)
    header = ("measurement", "without jobs/s", "with jobs/s", "with ÷ without", "lowest",
              "highest", "target")  # fmt: skip
    row = (
        f"claim + complete, {args.queued:,} queued",
        f"{statistics.median(without.rates['claim']):,.0f}",
        f"{statistics.median(with_.rates['claim']):,.0f}",
        f"{median:.3f}",
        f"{min(ratios):.3f}",
        f"{max(ratios):.3f}",
        f"≥ {TARGET:.2f} {'met' if median >= TARGET else 'MISSED'}",
    )
    print(f"without: {args.before}; with: {REPO}")
    print(plain(header, [row]))
    print(
        f"{args.rounds} rounds of {args.jobs:,} jobs, whole run {time.perf_counter() - began:.0f} s"
    )
    print(json.dumps({"without": without.rates["claim"], "with": with_.rates["claim"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
