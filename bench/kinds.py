"""The job kinds the benchmarks run: a no-op that returns a tiny result, and a gate that denies a
payload carrying `"deny": true` (so a filled database holds failed jobs with a reason too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobdeck.core import PASS, GateContext, Registry, Result, deny, gate

NOOP = "bench.noop"


@gate("bench_deny")
def _deny_flagged(payload: Mapping[str, Any], ctx: GateContext) -> Result:
    if payload.get("deny") is True:
        return deny("bench_deny", "bench_denied", "The payload asked to be denied.")
    return PASS


registry = Registry()


@registry.kind(NOOP, gates=[_deny_flagged], max_attempts=1)
async def noop(ctx: Any, payload: Any) -> Any:
    return {"ok": True}


__all__ = ["NOOP", "registry"]
