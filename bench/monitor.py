"""The monitor's costs on a filled database, measured in a process of its own so its RSS is the
monitor's alone:

    python -m bench.monitor DB [--no-paint]

Prints one JSON object: first paint (the Textual app started headless with `run_test`, from
before its import to the first data drawn), a tick with every pane reloaded (the app's and the
feed's reads alone), the failure-groups read, and the peak RSS.
"""

from __future__ import annotations

import time

BEGAN = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from jobdeck.core.engine import Engine  # noqa: E402
from jobdeck.core.registry import Registry  # noqa: E402
from jobdeck.storage import open_store  # noqa: E402

TICKS = 15
PANE_ROWS = 40


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def paint(db: str, out: dict[str, Any]) -> None:
    from jobdeck.tui.app import JobdeckApp

    engines: list[Engine] = []

    async def factory() -> Engine:
        engine = Engine(await open_store(db, read_only=True), Registry())
        engines.append(engine)
        return engine

    app = JobdeckApp(engine_factory=factory, db_label=db, read_only=True, tick=None)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            out["first_paint_ms"] = (time.perf_counter() - BEGAN) * 1000
            screen: Any = app.screen
            times = []
            for _ in range(TICKS):
                began = time.perf_counter()
                screen.reload()
                await app.workers.wait_for_complete()
                await pilot.pause()
                times.append((time.perf_counter() - began) * 1000)
            out["app_tick_ms"] = statistics.median(times)
    finally:
        for engine in engines:
            await engine.store.close()


async def reads(db: str, out: dict[str, Any]) -> None:
    from jobdeck.tui.feed import PANE_ORDER, Feed, PaneQuery

    store = await open_store(db, read_only=True)
    try:
        engine = Engine(store, Registry())
        feed = Feed(engine)
        queries = {status: PaneQuery(PANE_ROWS, True) for status in PANE_ORDER}
        began = time.perf_counter()
        await feed.poll(queries)
        out["first_poll_ms"] = (time.perf_counter() - began) * 1000
        times = []
        for _ in range(TICKS):
            feed.invalidate()
            began = time.perf_counter()
            await feed.poll(queries)
            times.append((time.perf_counter() - began) * 1000)
        out["tick_ms"] = statistics.median(times)
        began = time.perf_counter()
        await store.failure_groups()
        out["groups_ms"] = (time.perf_counter() - began) * 1000
    finally:
        await store.close()


async def measure(db: str, with_paint: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_paint:
        try:
            await paint(db, out)
        except Exception as err:  # noqa: BLE001 - the app belongs to another room; report, go on
            out["paint_error"] = f"{type(err).__name__}: {err}"
    await reads(db, out)
    out["rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--no-paint", action="store_true")
    args = parser.parse_args()
    out = asyncio.run(measure(args.db, not args.no_paint))
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # never wait on a thread a half-closed app left behind


if __name__ == "__main__":
    main()
