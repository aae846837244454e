"""What the system's numbers cost the writers, and what reading them costs: claim + complete and
batch submit with a million jobs queued, on this tree (every transition also keeps kind_counts
and the rollup, and queued jobs sit in `jobs_kind_queued` instead of `jobs_ready`) and on a
checkout without them, interleaved in one run; then the reads behind `jobdeck stats` and the
monitor's Kinds view on a database of a million jobs of ten kinds with a day of rollup history.

    python -m bench.rollup BEFORE [--queued 1000000] [--jobs 20000] [--submit 50000]
                                  [--rounds 5] [--reads 30] [--only cost,read]

BEFORE is a checkout without the system's numbers: the commit before the rollup, such as
`git worktree add --detach /tmp/jd-before 3c61e8a`, or this tree with only them taken out
(`git worktree add --detach /tmp/jd-ablate HEAD && git -C /tmp/jd-ablate apply
"$PWD/bench/rollup_ablation.patch"`: no rollup or kind_counts writes, `jobs_ready` in place of
`jobs_kind_queued`; the patch follows the tree it was made on). It is made importable as
`jobdeck` the way `bench.versus` does it. Each side fills its database once with its own code
(`--queued` no-op jobs through `submit_many`) and checkpoints it; every round then copies that
file afresh twice and, in a process of its own each, lets one in-process worker (32 slots) claim
and complete `--jobs` of them, and batch-submits `--submit` more (batches of 10,000). The order
of the sides swaps every round; each round gives a ratio with ÷ without, the figure is their
median with the lowest and highest.

The read part runs on this tree only: `--queued` jobs of ten kinds, `--jobs` of them run by a
worker, then a day of rollup rows for each kind (10-second buckets for the last 5 minutes,
minute buckets before that), folded once by the store as a worker folds them (minutes older than
an hour into hours): what a busy system leaves. It times `engine.kind_stats` (the Kinds view's
read) for 15 minutes and 24 hours, `engine.throughput`, and the whole `jobdeck stats --json`
command in-process, with its default window and with `--since 24h` (parsing the arguments and
opening the database included, the interpreter's start not).
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
from typing import Any

from bench.report import plain
from bench.versus import Side, importable, run_child, say

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.95  # "the rollup costs at most 5 % of claim + complete and of batch submit"
READ_TARGET_MS = 10.0
TIMEOUT = 1800.0

# Run in the child. fill: store N queued jobs in DB. drain: claim and complete about N of them.
# submit: batch-submit N more. Prints one JSON line.
CHILD = """
import asyncio, json, sqlite3, sys, time
from pathlib import Path
import jobdeck.core
from jobdeck.storage.sqlite.schema import latest
from bench import jobdeck_runs as jd

what, db, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])

async def fill() -> float:
    async with jd.engine_on(db) as engine:
        return n / await jd.submit_many(engine, n)

async def submit() -> float:
    async with jd.engine_on(db) as engine:
        return n / await jd.submit_many(engine, n, start=10**8)

async def drain() -> float:
    async with jd.engine_on(db) as engine:
        return await jd.drain_in_process(engine, stop_after=n, concurrency=32)

cpu = time.process_time()
rate = asyncio.run({"fill": fill, "submit": submit, "drain": drain}[what]())
cpu = time.process_time() - cpu  # the whole child's run: opening and closing the store too
conn = sqlite3.connect(db)
if what == "fill":
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
schema = conn.execute("PRAGMA user_version").fetchone()[0]
conn.close()
print(json.dumps({"rate": rate, "cpu_rate": n / cpu, "core": jobdeck.core.__file__,
                  "schema": schema, "latest": latest()}))
"""

# Run in the child on this tree: build the read database and time the reads. Prints one JSON
# line of milliseconds.
READ_CHILD = """
import asyncio, contextlib, io, json, sqlite3, statistics, sys, time
from pathlib import Path
import jobdeck.core
from jobdeck.core import Engine, Registry, Worker
from jobdeck.core.system import HISTOGRAM_SIZE, bucket_of, FINE_FOR, KEEP_FOR
from jobdeck.storage import open_store
from jobdeck.storage.sqlite.schema import latest
from jobdeck.tui.cli import main as jobdeck_main
from bench import jobdeck_runs as jd

db, n, ran, reads = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
KINDS = [f"bench.k{i}" for i in range(10)]
registry = Registry()
for kind in KINDS:
    async def noop(ctx, payload):
        return {"ok": True}
    registry.kind(kind, max_attempts=1)(noop)

def history(now: float) -> list[tuple]:
    # Per kind: done, a failure code, another, retried; 10 s buckets for FINE_FOR, minutes
    # for the rest of the day.
    keys = [("done", ""), ("failed", "boom"), ("failed", "timeout"), ("retried", "flaky")]
    hist = [0] * HISTOGRAM_SIZE
    hist[5] = 3
    rows = []
    fine_from = bucket_of(now - FINE_FOR)
    for kind in KINDS:
        for outcome, code in keys:
            start = fine_from
            while start < now - 10:
                rows.append((10.0, start, kind, outcome, code, 3, 0.3, *hist))
                start += 10
            start = (now - KEEP_FOR) // 60 * 60
            while start < fine_from - 60:
                rows.append((60.0, start, kind, outcome, code, 3, 0.3, *hist))
                start += 60
    return rows

async def build() -> None:
    store = await open_store(str(db))
    engine = Engine(store, registry)
    for start in range(0, n, jd.BATCH):
        stop = min(n, start + jd.BATCH)
        for i, kind in enumerate(KINDS):
            group = [{"n": j} for j in range(start, stop) if j % len(KINDS) == i]
            await engine.submit_many(kind, group)
    worker = Worker(engine, concurrency=32)
    stop_event = asyncio.Event()
    async def watch():
        while worker.stats.done < ran:
            await asyncio.sleep(0.01)
        stop_event.set()
    await asyncio.gather(worker.run(stop_event), watch())
    await store.close()
    conn = sqlite3.connect(db)
    cols = ", ".join(["?"] * (7 + HISTOGRAM_SIZE))
    conn.executemany(f"INSERT OR IGNORE INTO rollup VALUES ({cols})", history(time.time()))
    conn.commit()
    conn.close()
    store = await open_store(str(db))
    await store.fold_rollup(time.time())
    await store.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()

# Each read's median by the wall clock and by this process's CPU time (every thread's: the
# store's queries run on aiosqlite's), which the neighbours on a shared machine disturb less.
def medians(took: list[tuple[float, float]]) -> list[float]:
    return [statistics.median(t[0] for t in took), statistics.median(t[1] for t in took)]

async def timed(fn, times: int) -> list[float]:
    took = []
    for _ in range(times):
        began, cpu = time.perf_counter(), time.process_time()
        await fn()
        took.append(((time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000))
    return medians(took)

async def measure() -> dict:
    store = await open_store(str(db), read_only=True)
    engine = Engine(store, registry)
    out = {
        "kind_stats_15m": await timed(lambda: engine.kind_stats(since=900), reads),
        "kind_stats_24h": await timed(lambda: engine.kind_stats(since=86400), reads),
        "throughput_5m": await timed(lambda: engine.throughput(), reads),
        "workers": await timed(lambda: engine.workers(), reads),
    }
    rows = await store.rollup(0)
    out["rollup_rows"] = len(rows)
    widths = sorted({r.width for r in rows})
    out["widths"] = {f"{w:g}": sum(1 for r in rows if r.width == w) for w in widths}
    out["kinds"] = len(await engine.kind_stats(since=900))
    out["jobs"] = sum((await engine.counts()).values())
    await store.close()
    return out

def command_ms(*extra: str) -> list[float]:
    took = []
    for _ in range(reads):
        sink = io.StringIO()
        began, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(sink):
            code = jobdeck_main(["--db", str(db), "stats", "--json", *extra])
        took.append(((time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000))
        assert code == 0
    return medians(took)

if sys.argv[1] == "build":
    asyncio.run(build())
    got = {}
else:
    got = asyncio.run(measure())
    got["stats_command"] = command_ms()
    got["stats_command_24h"] = command_ms("--since", "24h")
conn = sqlite3.connect(db)
schema = conn.execute("PRAGMA user_version").fetchone()[0]
conn.close()
print(json.dumps(got | {"core": jobdeck.core.__file__, "schema": schema, "latest": latest()}))
"""


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.rollup", description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path, help="a checkout without the rollup")
    p.add_argument("--queued", type=int, default=1_000_000, help="jobs queued in each database")
    p.add_argument("--jobs", type=int, default=20_000, help="jobs claimed and completed per run")
    p.add_argument("--submit", type=int, default=50_000, help="jobs batch-submitted per run")
    p.add_argument("--rounds", type=int, default=5, help="rounds (≥ 3)")
    p.add_argument("--reads", type=int, default=30, help="timed repeats of each read")
    p.add_argument("--only", default="cost,read", help="cost, read or both (comma-separated)")
    args = p.parse_args(argv)
    args.only = [m for m in args.only.split(",") if m]
    if unknown := set(args.only) - {"cost", "read"}:
        p.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.rounds < 3:
        p.error("--rounds must be at least 3: one pair says nothing about the spread")
    if not (args.before / "core" / "engine.py").exists():
        p.error(f"{args.before} is not a jobdeck checkout")
    if not 0 < args.jobs <= args.queued:
        p.error("--jobs must be between 1 and --queued")
    return args


def child(side: Side, what: str, db: Path, n: int) -> tuple[float, float]:
    """jobs/s of one fill, drain or submit in a fresh process of `side`'s jobdeck, by the wall
    clock and by the process's CPU time (steadier on a machine other work shares)."""
    got = run_child(side, CHILD, [what, str(db), str(n)], REPO, timeout=TIMEOUT)
    return float(got["rate"]), float(got["cpu_rate"])


MEASURES = {
    "drain": "claim + complete",
    "drain-cpu": "claim + complete, per CPU second",
    "submit": "batch submit (submit_many)",
    "submit-cpu": "batch submit, per CPU second",
}


def cost(args: argparse.Namespace, folder: Path) -> tuple[Side, Side]:
    without = Side("without", args.before, importable(args.before, folder / "without"))
    with_ = Side("with", REPO, importable(REPO, folder / "with"))
    filled: dict[str, Path] = {}
    for side in (without, with_):
        filled[side.name] = folder / f"{side.name}.db"
        say(f"filling {side.name}: {args.queued:,} queued jobs")
        say(f"  {child(side, 'fill', filled[side.name], args.queued)[0]:,.0f} jobs/s")
    sizes = {"drain": args.jobs, "submit": args.submit}
    for r in range(args.rounds):
        order = (without, with_) if r % 2 == 0 else (with_, without)
        for what in ("drain", "submit"):
            for side in order:
                copy = folder / f"run-{side.name}.db"
                shutil.copyfile(filled[side.name], copy)
                wall, cpu = child(side, what, copy, sizes[what])
                side.rates.setdefault(what, []).append(wall)
                side.rates.setdefault(f"{what}-cpu", []).append(cpu)
                copy.unlink()
                for extra in ("-wal", "-shm"):
                    Path(f"{copy}{extra}").unlink(missing_ok=True)
            ratio = with_.rates[what][-1] / without.rates[what][-1]
            say(
                f"round {r + 1}, {what}: without {without.rates[what][-1]:,.0f}, with "
                f"{with_.rates[what][-1]:,.0f} jobs/s ({ratio:.3f})"
            )
    return without, with_


def cost_rows(args: argparse.Namespace, without: Side, with_: Side) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for what, label in MEASURES.items():
        ratios = [a / b for a, b in zip(with_.rates[what], without.rates[what], strict=True)]
        median = statistics.median(ratios)
        rows.append(
            (
                f"{label}, {args.queued:,} queued",
                f"{statistics.median(without.rates[what]):,.0f}",
                f"{statistics.median(with_.rates[what]):,.0f}",
                f"{median:.3f}",
                f"{min(ratios):.3f}",
                f"{max(ratios):.3f}",
                f"≥ {TARGET:.2f} {'met' if median >= TARGET else 'MISSED'}",
            )
        )
    return rows


def reads(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    side = Side("with", REPO, importable(REPO, folder / "reader"))
    db = folder / "read.db"
    argv = [str(db), str(args.queued), str(args.jobs), str(args.reads)]
    say(f"building the read database: {args.queued:,} jobs of ten kinds and a day of rollup")
    run_child(side, READ_CHILD, ["build", *argv], REPO, timeout=TIMEOUT)
    say("timing the reads")
    return run_child(side, READ_CHILD, ["measure", *argv], REPO, timeout=TIMEOUT)


def read_rows(got: dict[str, Any]) -> list[tuple[str, ...]]:
    def row(label: str, key: str, target: bool) -> tuple[str, ...]:
        wall, cpu = (float(v) for v in got[key])
        verdict = f"< {READ_TARGET_MS:g} ms: wall {'met' if wall < READ_TARGET_MS else 'MISSED'}"
        verdict += f", CPU {'met' if cpu < READ_TARGET_MS else 'MISSED'}"
        return (label, f"{wall:.2f}", f"{cpu:.2f}", verdict if target else "")

    return [
        row("kind_stats, 15 min window (the Kinds view's read)", "kind_stats_15m", True),
        row("jobdeck stats --json, in-process, open to print", "stats_command", True),
        row("kind_stats, 24 h window", "kind_stats_24h", False),
        row("jobdeck stats --json --since 24h, in-process", "stats_command_24h", False),
        row("throughput, last 5 min (the strip)", "throughput_5m", False),
        row("workers", "workers", False),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    began = time.perf_counter()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="jobdeck-rollup-") as tmp:
        if "cost" in args.only:
            without, with_ = cost(args, Path(tmp))
            print(f"without: {args.before}; with: {REPO}")
            header = ("measurement", "without jobs/s", "with jobs/s", "with ÷ without",
                      "lowest", "highest", "target")  # fmt: skip
            print(plain(header, cost_rows(args, without, with_)))
            print(f"{args.rounds} rounds of {args.jobs:,} claimed and {args.submit:,} submitted")
            out |= {"without": without.rates, "with": with_.rates}
        if "read" in args.only:
            got = reads(args, Path(tmp))
            widths = ", ".join(f"{n:,} {w} s wide" for w, n in got["widths"].items())
            print(
                f"reads at {got['jobs']:,} jobs, {got['kinds']} kinds, {got['rollup_rows']:,} "
                f"rollup rows ({widths}; median of {args.reads}):"
            )
            print(plain(("read", "ms", "CPU ms", "target"), read_rows(got)))
            out["reads"] = {k: v for k, v in got.items() if k not in ("core", "schema", "latest")}
    print(f"whole run {time.perf_counter() - began:.0f} s")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
