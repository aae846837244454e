"""Job kinds for process-level tests: each run appends `job_id attempt pid` to $JOBDECK_TEST_LOG.

Load with `jobdeck worker --handlers tests.reliability.kinds:registry` from the repository root.
One `os.write` of one short line to an O_APPEND file is atomic on Linux, so lines written by
several worker processes never interleave.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jobdeck.core import AnyPayload, JobContext, Registry

registry = Registry()


def record(ctx: JobContext) -> None:
    line = f"{ctx.job.id} {ctx.attempt} {os.getpid()}\n".encode()
    fd = os.open(os.environ["JOBDECK_TEST_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@registry.kind("rel.record", max_attempts=3)
async def record_kind(ctx: JobContext, payload: AnyPayload) -> Any:
    """Record, optionally sleep `seconds` (to keep several workers busy at once), return."""
    record(ctx)
    seconds = (payload.model_extra or {}).get("seconds", 0)
    if seconds:
        await asyncio.sleep(float(seconds))
    return {"attempt": ctx.attempt}


@registry.kind("rel.hang_first", max_attempts=3, timeout=120)
async def hang_first(ctx: JobContext, payload: AnyPayload) -> Any:
    """Record; hang on the first attempt (long enough to be killed), return on later ones."""
    record(ctx)
    if ctx.attempt == 1:
        await asyncio.sleep(60)
    return {"attempt": ctx.attempt}


def read_log(path: str | os.PathLike[str]) -> list[tuple[str, int, int]]:
    """The log as (job_id, attempt, pid) tuples, in the order they were written."""
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return [(job, int(attempt), int(pid)) for job, attempt, pid in map(str.split, file)]


def mark(tag: str) -> None:
    """Append one `tag pid` line to $JOBDECK_TEST_LOG (a step's side effect, made visible)."""
    line = f"{tag} {os.getpid()}\n".encode()
    fd = os.open(os.environ["JOBDECK_TEST_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@registry.kind("rel.step_then_hang", max_attempts=3, timeout=120)
async def step_then_hang(ctx: JobContext, payload: AnyPayload) -> Any:
    """Step `charge` completes (and is stored); attempt 1 then hangs, to be killed before the job
    completes. A retry must get `charge` back from the store, not run it again."""
    charged = await ctx.step("charge", lambda: mark(f"charge:{ctx.job.id}") or {"charged": 1})
    if ctx.attempt == 1:
        mark(f"hanging:{ctx.job.id}")
        await asyncio.sleep(60)
    return {"charged": charged, "attempt": ctx.attempt}


@registry.kind("rel.hang_in_step", max_attempts=3, timeout=120)
async def hang_in_step(ctx: JobContext, payload: AnyPayload) -> Any:
    """Attempt 1 is killed inside the step, before its result is stored: the step runs again."""

    async def work() -> dict[str, int]:
        mark(f"step:{ctx.job.id}")
        if ctx.attempt == 1:
            await asyncio.sleep(60)
        return {"attempt": ctx.attempt}

    return await ctx.step("work", work)


def read_marks(path: str | os.PathLike[str]) -> list[str]:
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return [line.split()[0] for line in file]
