"""The jobdeck side: submits, the end-to-end drain with worker processes, claim+complete in one
process, submit-to-start latency, and filling a database for the growth runs."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bench.kinds import NOOP, registry
from jobdeck.core.contract import Status
from jobdeck.core.engine import Engine
from jobdeck.core.worker import Worker
from jobdeck.storage import open_store

BATCH = 10_000
REPO = Path(__file__).resolve().parent.parent
HANDLERS = "bench.kinds:registry"


@asynccontextmanager
async def engine_on(path: Path) -> AsyncIterator[Engine]:
    store = await open_store(str(path))
    try:
        yield Engine(store, registry)
    finally:
        await store.close()


def payloads(start: int, stop: int, *, deny_every: int = 0) -> list[dict[str, object]]:
    if not deny_every:
        return [{"n": i} for i in range(start, stop)]
    return [{"n": i, "deny": i % deny_every == 0} for i in range(start, stop)]


async def submit_many(engine: Engine, n: int, *, start: int = 0, deny_every: int = 0) -> float:
    """Seconds to store jobs start..start+n in batches of BATCH through the gates."""
    began = time.perf_counter()
    for i in range(start, start + n, BATCH):
        await engine.submit_many(
            NOOP, payloads(i, min(start + n, i + BATCH), deny_every=deny_every)
        )
    return time.perf_counter() - began


async def single_submit_rate(folder: Path, n: int) -> float:
    async with engine_on(folder / "single.db") as engine:
        began = time.perf_counter()
        for i in range(n):
            await engine.submit(NOOP, {"n": i})
        return n / (time.perf_counter() - began)


async def concurrent_submit_rate(folder: Path, n: int, callers: int) -> float:
    """jobs/s of `callers` tasks each awaiting `engine.submit` in a loop (a web app's request
    handlers, say): on SQLite, submits that arrive together share a commit."""
    async with engine_on(folder / "concurrent.db") as engine:

        async def caller(c: int) -> None:
            for i in range(c, n, callers):
                await engine.submit(NOOP, {"n": i})

        began = time.perf_counter()
        await asyncio.gather(*(caller(c) for c in range(callers)))
        return n / (time.perf_counter() - began)


async def batch_submit_rate(folder: Path, n: int) -> float:
    async with engine_on(folder / "batch.db") as engine:
        return n / await submit_many(engine, n)


def worker_command(db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "jobdeck.tui", "--db", str(db), "--handlers", HANDLERS,
            "worker", *extra]  # fmt: skip


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def end_to_end_rate(folder: Path, n: int, workers: int, concurrency: int) -> float:
    """Submit n jobs (one batch call per 10,000), then drain them with `workers` worker
    processes in burst mode; jobs/s from the first submit to the last worker's exit."""
    db = folder / "e2e.db"
    began = time.perf_counter()

    async def fill() -> None:
        async with engine_on(db) as engine:
            await submit_many(engine, n)

    asyncio.run(fill())
    cmd = worker_command(db, "--burst", "--concurrency", str(concurrency))
    procs = [
        subprocess.Popen(cmd, cwd=REPO, env=child_env(), stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a jobdeck worker exited with {proc.returncode}: {err.strip()}")
    took = time.perf_counter() - began

    async def check() -> None:
        async with engine_on(db) as engine:
            counts = await engine.counts()
            if counts[Status.DONE] != n:
                raise RuntimeError(f"the drain left {counts}, not {n} done")

    asyncio.run(check())
    return n / took


async def drain_in_process(engine: Engine, *, stop_after: int | None, concurrency: int) -> float:
    """jobs/s of one in-process worker claiming and completing queued no-op jobs (all of them,
    or about `stop_after`)."""
    worker = Worker(engine, concurrency=concurrency, burst=stop_after is None)
    stop = asyncio.Event()

    async def watch(enough: int) -> None:
        # The worker has no "n done" signal to wait on; a 2 ms poll is a small error on seconds.
        while worker.stats.done < enough:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        stop.set()

    watcher = None if stop_after is None else asyncio.create_task(watch(stop_after))
    began = time.perf_counter()
    stats = await worker.run(stop)
    took = time.perf_counter() - began
    if watcher is not None:
        watcher.cancel()
    return stats.done / took


async def claim_complete_rate(folder: Path, n: int, concurrency: int) -> float:
    async with engine_on(folder / "claim.db") as engine:
        await submit_many(engine, n)
        return await drain_in_process(engine, stop_after=None, concurrency=concurrency)


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


async def submit_to_start(engine: Engine, since: int) -> list[float]:
    """ms from each job's creation event to its claim event, for events after `since`."""
    created: dict[str, float] = {}
    started: dict[str, float] = {}
    while True:
        events = await engine.events(since, 500)
        if not events:
            break
        since = events[-1].cursor
        for e in events:
            if e.from_status is None:
                created[e.job_id] = e.at
            elif e.to_status is Status.RUNNING:
                started.setdefault(e.job_id, e.at)
    return [(started[j] - at) * 1000 for j, at in created.items() if j in started]


async def latency_in_process(folder: Path, k: int) -> tuple[float, float]:
    """p50/p99 submit-to-start with an idle worker in the submitting process."""
    async with engine_on(folder / "latency-in.db") as engine:
        worker = Worker(engine, concurrency=4)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.1)
        for i in range(k):
            await engine.submit(NOOP, {"n": i})
            await asyncio.sleep(0.005)
        while worker.stats.done < k:  # noqa: ASYNC110 - nothing to wait on but the count
            await asyncio.sleep(0.01)
        stop.set()
        await running
        return percentiles(await submit_to_start(engine, 0))


async def latency_cross_process(folder: Path, k: int) -> tuple[float, float]:
    """p50/p99 submit-to-start with an idle worker in another process (it polls)."""
    db = folder / "latency-x.db"
    async with engine_on(db) as engine:
        async with worker_process(engine, db, "--concurrency", "4"):
            await asyncio.sleep(0.2)
            for i in range(k):
                await engine.submit(NOOP, {"n": i})
                await asyncio.sleep(0.011)  # off the worker's 50 ms poll rhythm
            while (await engine.counts())[Status.DONE] < k:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.02)
        return percentiles(await submit_to_start(engine, 0))


@asynccontextmanager
async def worker_process(
    engine: Engine, db: Path, *extra: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A `jobdeck worker` process on `db` (with `extra` flags), entered once it has registered
    in the store (as the process, whose pid its CPU time is read by) and sent SIGTERM on the
    way out. Raises RuntimeError when it does not start within 30 s."""
    proc = await asyncio.create_subprocess_exec(
        *worker_command(db, *extra),
        cwd=REPO,
        env=child_env(),
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not await engine.store.workers_alive(time.time(), 60):
            if time.monotonic() > deadline or proc.returncode is not None:
                raise RuntimeError("the worker process did not start")
            await asyncio.sleep(0.05)
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
