"""The job kinds the benchmarks run: a no-op that returns a tiny result, a gate that denies a
payload carrying `"deny": true` (so a filled database holds failed jobs with a reason too), and a
stamp that returns the moment its handler was entered (how late a scheduled job started)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from jobdeck.core import PASS, GateContext, Registry, Result, deny, gate

NOOP = "bench.noop"
STAMP = "bench.stamp"


@gate("bench_deny")
def _deny_flagged(payload: Mapping[str, Any], ctx: GateContext) -> Result:
    if payload.get("deny") is True:
        return deny("bench_deny", "bench_denied", "The payload asked to be denied.")
    return PASS


registry = Registry()


@registry.kind(NOOP, gates=[_deny_flagged], max_attempts=1)
async def noop(ctx: Any, payload: Any) -> Any:
    return {"ok": True}


@registry.kind(STAMP, max_attempts=1)
async def stamp(ctx: Any, payload: Any) -> Any:
    # Read first thing: the result carries the start across processes, in the job's own row.
    return {"started_at": time.time()}


__all__ = ["NOOP", "STAMP", "registry"]
