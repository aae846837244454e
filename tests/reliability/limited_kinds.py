"""Job kinds with limits for process-level tests: load with
`jobdeck worker --handlers tests.reliability.limited_kinds:registry` from the repository root."""

from __future__ import annotations

import asyncio
from typing import Any

from jobdeck.core import AnyPayload, JobContext, Registry

registry = Registry()
CONCURRENCY = 3
RATE = "10/s"


@registry.kind("lim.capped", concurrency=CONCURRENCY)
async def capped(ctx: JobContext, payload: AnyPayload) -> Any:
    """Hold a slot a little while, so three workers of eight slots each press on the limit."""
    await asyncio.sleep(0.03)
    return None


@registry.kind("lim.metered", rate=RATE)
async def metered(ctx: JobContext, payload: AnyPayload) -> Any:
    return None


@registry.kind("lim.free")
async def free(ctx: JobContext, payload: AnyPayload) -> Any:
    return None
