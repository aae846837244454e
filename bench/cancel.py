"""How long a cancel takes to stop a running job: from `engine.cancel` returning to the job
stored failed/cancelled, with a worker at its default settings (30 s lease, so a heartbeat comes
every 10 s) in this process. SQLite, and PostgreSQL when `--pg URL` is given.

    python -m bench.cancel [--samples 20] [--pg postgresql://...]

On SQLite the worker looks for cancel requests every 0.5 s (one query for all its running jobs),
so the latency is spread over 0..0.5 s plus a transaction; on PostgreSQL the request's NOTIFY
wakes it at once. The handler waits in `asyncio.sleep`, so what is measured is the engine's part.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import plain
from jobdeck.core import Engine, Registry, Worker
from jobdeck.storage import open_store


def _registry(started: asyncio.Queue[str]) -> Registry:
    registry = Registry()

    @registry.kind("bench.hold", max_attempts=1, timeout=3600)
    async def hold(ctx: Any, payload: Any) -> Any:
        await ctx.step("a", lambda: None, compensate=lambda _: None)
        started.put_nowait(ctx.job.id)
        await asyncio.sleep(3600)

    return registry


async def latencies(url: str, samples: int) -> list[float]:
    """Seconds from each cancel to its job stored failed, one running job at a time."""
    store = await open_store(url)
    started: asyncio.Queue[str] = asyncio.Queue()
    engine = Engine(store, _registry(started))
    stop = asyncio.Event()
    worker = asyncio.create_task(Worker(engine, concurrency=1).run(stop))
    out = []
    try:
        for n in range(samples):
            job = await engine.submit("bench.hold", {"n": n})
            async with asyncio.timeout(30):
                while await started.get() != job.id:
                    pass
                await asyncio.sleep(0.05 + 0.5 * (n % 10) / 10)  # spread over the poll
                await engine.cancel(job.id)
                began = time.monotonic()
                await engine.wait(job.id, poll=0.002)
            out.append(time.monotonic() - began)
    finally:
        stop.set()
        await worker
        await store.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.cancel")
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--pg", metavar="URL", help="also measure on this PostgreSQL database")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="jobdeck-cancel-") as tmp:
        targets = [("SQLite", str(Path(tmp) / "cancel.db"))]
        if args.pg:
            targets.append(("PostgreSQL", args.pg))
        for name, url in targets:
            got = sorted(asyncio.run(latencies(url, args.samples)))
            rows.append(
                [
                    name,
                    f"{statistics.median(got) * 1000:.0f}",
                    f"{got[int(len(got) * 0.9) - 1] * 1000:.0f}",
                    f"{got[-1] * 1000:.0f}",
                ]
            )
    print(plain(["backend", "median ms", "p90 ms", "max ms"], rows))


if __name__ == "__main__":
    main()
