"""The monitor's costs on a filled database, measured in a process of its own so its RSS is the
monitor's alone:

    python -m bench.monitor DB [--no-paint]

Prints one JSON object:
- `first_paint_ms`: the Textual app started headless with `run_test`, from before its import to
  the first frame drawn with the data in it; `first_settled_ms`: to the app idle after that, as
  Pilot sees it (how first paint was measured before);
- `app_tick_ms`: the work of a tick with every pane reloaded, from the tick to its repaint, in
  CPU time of the whole process (reads, our code and Textual's compositor; the median), with
  its wall time beside it; `app_idle_tick_ms` the same for a tick with no new events;
- `tick_ms`: the feed's reads alone; `groups_ms`: the failure-groups read; `rss_mb`: peak RSS.

The system views (Workers, Kinds, one kind's detail) read only while open, and the main tick reads
the rollup for its throughput strip at most once a 10-second bucket (or every 2 s while jobs
finish). Their costs, each measured interleaved with the tick without them, round by round:
- `tick_strip_ms`: the feed's reads with the strip's rollup read on every tick (its worst case),
  beside `tick_plain_ms`, the same ticks with the rollup read skipped;
- `workers_ms`, `kinds_ms`, `kind_ms`: one read of each view;
- `app_<view>_tick_ms`: with that view open, a main tick (every pane reloaded) plus the view's
  tick and the repaint, in CPU time, beside `app_<view>_base_ms`, the main tick alone.
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
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from jobdeck.core.contract import Status  # noqa: E402
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


async def paint(app: Any) -> None:
    """Let the messages a tick posted be handled, then repaint now, as the screen's update
    timer would (Pilot.pause does the same after waiting for the process to look idle)."""
    for _ in range(3):
        await asyncio.sleep(0)
    app.screen._on_timer_update()


def shows_data(screen: Any, counts: dict[Status, int]) -> bool:
    """Every pane has the store's count in its title and, when it has jobs, a selected row."""
    from jobdeck.tui.widgets.job_pane import JobPane

    panes = list(screen.query(JobPane))
    return bool(panes) and all(
        str(pane.border_title).endswith(f" {counts[pane.status]:,}")
        and (counts[pane.status] == 0 or pane.selected_id is not None)
        for pane in panes
    )


async def first_paint(db: str, out: dict[str, Any]) -> None:
    from jobdeck.tui.app import JobdeckApp

    engines: list[Engine] = []
    counts: dict[Status, int] = {}

    async def factory() -> Engine:
        engine = Engine(await open_store(db, read_only=True), Registry())
        engines.append(engine)
        counts.update(await engine.counts())  # what the first frame must show
        return engine

    app = JobdeckApp(engine_factory=factory, db_label=db, read_only=True, tick=None)
    display = app._display

    def timed_display(screen: Any, renderable: Any) -> None:
        # Textual has no public hook for a drawn frame; every frame goes through _display.
        display(screen, renderable)
        if renderable is not None and "first_paint_ms" not in out and shows_data(screen, counts):
            out["first_paint_ms"] = (time.perf_counter() - BEGAN) * 1000

    app._display = timed_display  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            while "first_paint_ms" not in out:
                await pilot.pause()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            out["first_settled_ms"] = (time.perf_counter() - BEGAN) * 1000
            screen: Any = app.screen
            for name, tick in (("app_tick", screen.reload), ("app_idle_tick", screen.refresh_data)):
                cpu, wall = [], []
                for _ in range(TICKS):
                    began, began_cpu = time.perf_counter(), time.process_time()
                    tick()
                    await app.workers.wait_for_complete()
                    await paint(app)
                    cpu.append((time.process_time() - began_cpu) * 1000)
                    wall.append((time.perf_counter() - began) * 1000)
                    await pilot.pause()
                out[f"{name}_ms"] = statistics.median(cpu)
                out[f"{name}_wall_ms"] = statistics.median(wall)
            await views_open(app, pilot, out)
    finally:
        for engine in engines:
            await engine.store.close()


async def views_open(app: Any, pilot: Any, out: dict[str, Any]) -> None:
    """The app's tick with each system view open against the main tick alone, interleaved."""
    from jobdeck.tui.screens.kind_detail import KindDetailScreen
    from jobdeck.tui.screens.kinds import KindsScreen
    from jobdeck.tui.screens.workers import WorkersScreen
    from jobdeck.tui.system_feed import read_kinds

    main: Any = app.screen
    kinds = await read_kinds(app.engine)
    busiest = max(kinds, key=lambda k: sum(k.counts.values())).kind if kinds else "none"
    views: dict[str, Callable[[], Any]] = {
        "workers": WorkersScreen,
        "kinds": KindsScreen,
        "kind": lambda: KindDetailScreen(busiest),
    }
    for name, make in views.items():
        await app.push_screen(make())
        await app.workers.wait_for_complete()
        await pilot.pause()
        view: Any = app.screen
        base: list[float] = []
        both: list[float] = []
        for _ in range(TICKS):
            for times, with_view in ((base, False), (both, True)):
                began = time.process_time()
                main.reload()
                if with_view:
                    view.refresh_data()
                await app.workers.wait_for_complete()
                await paint(app)
                times.append((time.process_time() - began) * 1000)
                await pilot.pause()
        out[f"app_{name}_base_ms"] = statistics.median(base)
        out[f"app_{name}_tick_ms"] = statistics.median(both)
        app.pop_screen()
        await pilot.pause()


async def view_reads(engine: Engine, feed: Any, queries: Any, out: dict[str, Any]) -> None:
    """The strip's rollup read and the views' reads, each beside the tick without it."""
    from jobdeck.tui.system_feed import read_kind, read_kinds, read_workers
    from jobdeck.tui.throughput import RollupClock

    plain: list[float] = []
    strip: list[float] = []
    for _ in range(TICKS):
        for times, forced in ((plain, False), (strip, True)):
            feed.invalidate()
            # A fresh clock makes the rollup read due; one read just now makes it not.
            feed._rollup_clock = RollupClock(None if forced else engine.clock())
            began = time.perf_counter()
            await feed.poll(queries)
            times.append((time.perf_counter() - began) * 1000)
    out["tick_plain_ms"] = statistics.median(plain)
    out["tick_strip_ms"] = statistics.median(strip)
    kinds = await read_kinds(engine)
    busiest = max(kinds, key=lambda k: sum(k.counts.values())).kind if kinds else "none"
    for name, read in (
        ("workers", lambda: read_workers(engine)),
        ("kinds", lambda: read_kinds(engine)),
        ("kind", lambda: read_kind(engine, busiest)),
    ):
        times = []
        for _ in range(TICKS):
            began = time.perf_counter()
            await read()
            times.append((time.perf_counter() - began) * 1000)
        out[f"{name}_ms"] = statistics.median(times)


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
        await view_reads(engine, feed, queries, out)
        began = time.perf_counter()
        await store.failure_groups()
        out["groups_ms"] = (time.perf_counter() - began) * 1000
    finally:
        await store.close()


async def measure(db: str, with_paint: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_paint:
        try:
            await first_paint(db, out)
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
