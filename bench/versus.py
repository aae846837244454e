"""The same benchmarks on two checkouts of jobdeck, interleaved in one process tree: what a change
costs.

    python -m bench.versus BEFORE AFTER [--rounds 6] [--jobs 50000] [--e2e-jobs 20000]
                           [--bench TREE] [--only claim,batch,e2e]

BEFORE and AFTER are checkouts, such as `git worktree add --detach /tmp/jd-before abb09d4`. Each
is made importable as `jobdeck` the way the package installs it (jobdeck.core, jobdeck.storage
and jobdeck.tui map to core/, storage/ and tui/): a folder holding jobdeck/ with three symlinks,
first on PYTHONPATH. The benchmark code is one tree's bench/ (`--bench`, BEFORE's by default),
the same for both sides, so only the engine differs. Each measurement runs in a process of its
own (`python -c`, the bench tree as its working directory), and reports where jobdeck.core and
bench were loaded from and the schema version of the file it measured, which are checked against
the side it stands for (a worker process of the wrong tree would migrate or refuse the file).

The measurements are bench.jobdeck_runs': claim + complete of `--jobs` queued no-op jobs by one
in-process worker, batch submit of `--jobs` jobs, and end to end (`--e2e-jobs` submitted, then
drained by two `jobdeck worker --burst` processes). One untimed round of small runs first, so
both trees have their bytecode cached; then each round runs every measurement on both sides, one
after the other, the order swapped every round. Each round gives a ratio after ÷ before; the
figure is their median, the lowest and highest beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import plain

MEASURES = {
    "claim": "claim + complete, 1 process",
    "batch": "batch submit (submit_many)",
    "e2e": "end to end, 2 worker processes",
}
WARM_JOBS = 1_000
TIMEOUT = 900.0  # seconds one measurement may take

# Run in the child: one measurement, then where things came from, as one JSON line.
CHILD = """
import asyncio, json, sqlite3, sys, tempfile
from pathlib import Path
import jobdeck.core
from jobdeck.storage.sqlite.schema import latest
from bench import jobdeck_runs as jd

what, n = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory(prefix="jobdeck-versus-") as tmp:
    folder = Path(tmp)
    if what == "claim":
        rate, db = asyncio.run(jd.claim_complete_rate(folder, n, 32)), "claim.db"
    elif what == "batch":
        rate, db = asyncio.run(jd.batch_submit_rate(folder, n)), "batch.db"
    else:
        rate, db = jd.end_to_end_rate(folder, n, 2, 32), "e2e.db"
    conn = sqlite3.connect(folder / db)
    schema = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
print(json.dumps({"rate": rate, "core": jobdeck.core.__file__, "bench": jd.__file__,
                  "schema": schema, "latest": latest()}))
"""


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path, help="the checkout without the change")
    p.add_argument("after", type=Path, help="the checkout with it")
    p.add_argument("--bench", type=Path, help="the tree whose bench/ runs (default: BEFORE)")
    p.add_argument("--rounds", type=int, default=6, help="rounds of every measurement (≥ 3)")
    p.add_argument("--jobs", type=int, default=50_000, help="jobs per claim and batch run")
    p.add_argument("--e2e-jobs", type=int, default=20_000, help="jobs per end-to-end run")
    p.add_argument("--only", default=",".join(MEASURES), help="which, comma-separated")
    args = p.parse_args(argv)
    args.bench = args.bench or args.before
    args.only = [m for m in args.only.split(",") if m]
    if unknown := set(args.only) - set(MEASURES):
        p.error(f"unknown measurements: {', '.join(sorted(unknown))}")
    if args.rounds < 3:
        p.error("--rounds must be at least 3: one pair says nothing about the spread")
    for tree in (args.before, args.after, args.bench):
        if not (tree / "core" / "engine.py").exists():
            p.error(f"{tree} is not a jobdeck checkout")
    return args


def say(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def importable(tree: Path, folder: Path) -> Path:
    """A folder whose jobdeck/ maps jobdeck.core, .storage and .tui to `tree`'s folders."""
    package = folder / "jobdeck"
    package.mkdir(parents=True)
    for name in ("core", "storage", "tui"):
        (package / name).symlink_to(tree.resolve() / name, target_is_directory=True)
    for module in sorted((tree / "api").glob("*.py")):  # jobdeck itself, in trees that have it
        (package / module.name).symlink_to(module.resolve())
    return folder


@dataclass
class Side:
    name: str
    tree: Path
    path: Path  # what goes first on PYTHONPATH
    rates: dict[str, list[float]] = field(default_factory=dict)


def run_child(
    side: Side, script: str, argv: list[str], bench: Path, *, timeout: float = TIMEOUT
) -> dict[str, Any]:
    """Run `script` in a fresh process of `side`'s jobdeck and the bench at `bench`; its last
    output line, a JSON object. Raises RuntimeError when it fails, loaded jobdeck or bench from
    anywhere but where it should have, or left the schema behind its tree's."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(side.path), str(bench)])
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        cwd=bench,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    what = argv[0]
    if done.returncode != 0:
        raise RuntimeError(f"{what} on {side.name} failed: {done.stderr.strip()[-800:]}")
    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    core = Path(os.path.realpath(got["core"]))
    if not core.is_relative_to(side.tree.resolve()):
        raise RuntimeError(f"{side.name} loaded jobdeck.core from {core}, not {side.tree}")
    if "bench" in got and not Path(got["bench"]).resolve().is_relative_to(bench.resolve()):
        raise RuntimeError(f"{side.name} loaded bench from {got['bench']}, not {bench}")
    if got["schema"] != got["latest"]:
        raise RuntimeError(
            f"{what} on {side.name} left schema {got['schema']}; its tree writes {got['latest']}"
        )
    return got


def measure(side: Side, what: str, n: int, bench: Path) -> float:
    """jobs/s of one run in a fresh process (see `run_child`)."""
    return float(run_child(side, CHILD, [what, str(n)], bench)["rate"])


def run(args: argparse.Namespace, folder: Path) -> tuple[Side, Side]:
    before = Side("before", args.before, importable(args.before, folder / "before"))
    after = Side("after", args.after, importable(args.after, folder / "after"))
    sizes = {"claim": args.jobs, "batch": args.jobs, "e2e": args.e2e_jobs}
    say("warming up: one small run of each on both sides (bytecode, page cache)")
    for what in args.only:
        for side in (before, after):
            measure(side, what, WARM_JOBS, args.bench)
    for r in range(args.rounds):
        order = (before, after) if r % 2 == 0 else (after, before)
        for what in args.only:
            for side in order:
                side.rates.setdefault(what, []).append(measure(side, what, sizes[what], args.bench))
            ratio = after.rates[what][-1] / before.rates[what][-1]
            say(
                f"round {r + 1}, {what}: before {before.rates[what][-1]:,.0f}, after "
                f"{after.rates[what][-1]:,.0f} jobs/s ({ratio:.3f})"
            )
    return before, after


HEADER = ("measurement", "before jobs/s", "after jobs/s", "after ÷ before", "lowest", "highest",
          "every round")  # fmt: skip


def cells(before: Side, after: Side) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for what, rates in before.rates.items():
        ratios = [a / b for a, b in zip(after.rates[what], rates, strict=True)]
        rows.append(
            (
                MEASURES[what],
                f"{statistics.median(rates):,.0f}",
                f"{statistics.median(after.rates[what]):,.0f}",
                f"{statistics.median(ratios):.3f}",
                f"{min(ratios):.3f}",
                f"{max(ratios):.3f}",
                ", ".join(f"{r:.3f}" for r in ratios),
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jobdeck-versus-") as tmp:
        before, after = run(args, Path(tmp))
    print(f"before: {args.before}; after: {args.after}; bench: {args.bench}/bench")
    print(plain(HEADER, cells(before, after)))
    print(f"{args.rounds} rounds, whole run {time.perf_counter() - began:.0f} s")
    print(json.dumps({"before": before.rates, "after": after.rates}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
