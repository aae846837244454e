"""What a paused kind costs the claim of the other kinds: claim + complete of `--jobs` queued
no-op jobs by one in-process worker (the claim + complete row of `python -m bench`), with no kind
paused and with one unrelated kind paused, alternating the order each round in one run.

    python -m bench.paused [--rounds 5] [--jobs 20000]

Each round gives the ratio paused / none; the figure is their median, lowest and highest beside
it. (What the claim statement's paused-kind filter costs against a tree without it is
`python -m bench.versus BEFORE AFTER --only claim`.)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from bench import jobdeck_runs as jd
from jobdeck.core.store import Action


async def rate(paused: bool, n: int) -> float:
    with tempfile.TemporaryDirectory(prefix="jobdeck-paused-") as tmp:
        async with jd.engine_on(Path(tmp) / "claim.db") as engine:
            await jd.submit_many(engine, n)
            if paused:
                action = Action(0.0, "bench", "pause", "other.kind")
                await engine.store.pause_kind("other.kind", paused=True, reason=None, action=action)
            return await jd.drain_in_process(engine, stop_after=None, concurrency=32)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.paused")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=20_000)
    args = p.parse_args()
    ratios = []
    for r in range(args.rounds):
        order = [False, True] if r % 2 == 0 else [True, False]
        got = {paused: asyncio.run(rate(paused, args.jobs)) for paused in order}
        ratios.append(got[True] / got[False])
        print(
            f"· round {r + 1}: none paused {got[False]:,.0f}, one paused {got[True]:,.0f} "
            f"jobs/s ({ratios[-1]:.3f})"
        )
    print(
        f"claim + complete with one unrelated kind paused ÷ none: "
        f"{statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
