"""What the Workers and Kinds views show, read through the engine while they are open; drawing it
is their job. The main screen's tick never calls these: a closed view costs nothing.

Each read is a handful of small queries the engine makes (`Engine.workers`, `Engine.kind_stats`,
`Engine.throughput`): the worker registry, the per-kind counts the writers keep (no scan), the
oldest queued job per kind, and the rollup over the window.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from jobdeck.core import Engine
from jobdeck.core.system import STATS_WINDOW, KindStats, WorkerState

WINDOW = 15 * 60.0  # what the Kinds view's failure rate and percentiles cover, as `jobdeck stats`
# The kind detail's throughput over time: 10-second buckets for the last 5 minutes (what the
# rollup keeps that fine), a minute's average each before that.
HISTORY = STATS_WINDOW


async def read_workers(engine: Engine) -> list[WorkerState]:
    """Every registered worker heard from within the hour, gone ones too (the view marks them)."""
    return await engine.workers()


async def read_kinds(engine: Engine, window: float = WINDOW) -> list[KindStats]:
    """Per kind: counts, rates over 1, 5 and 15 minutes, failure rate and run-time percentiles
    over `window`, the oldest queued job's wait."""
    return await engine.kind_stats(since=window)


@dataclass(frozen=True)
class KindHistory:
    """One kind's numbers and its done and failed per second, a value per 10-second bucket of
    the last `HISTORY` seconds, oldest first."""

    stats: KindStats | None  # None: the kind has no jobs and no rollup rows
    done: list[float]
    failed: list[float]


async def read_kind(engine: Engine, kind: str, window: float = WINDOW) -> KindHistory:
    stats, (done, failed) = await asyncio.gather(
        engine.kind_stats(since=window, kind=kind), engine.throughput(span=HISTORY, kind=kind)
    )
    return KindHistory(next((s for s in stats if s.kind == kind), None), done, failed)
