"""Job kinds for process-level tests: each run appends `job_id attempt pid` to $JOBDECK_TEST_LOG.

Load with `jobdeck worker --handlers tests.reliability.kinds:registry` from the repository root.
One `os.write` of one short line to an O_APPEND file is atomic on Linux, so lines written by
several worker processes never interleave.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from jobdeck.core import (
    PASS,
    AnyPayload,
    Backoff,
    GateContext,
    JobContext,
    Registry,
    Result,
    Retryable,
    Terminal,
    deny,
    gate,
)

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


# -- the crash campaign (scripts/campaign.py) and handler faults ------------------------------
# A campaign run appends `job_id attempt pid phase time` to $JOBDECK_CAMPAIGN_LOG: `start` when
# the handler begins, then `end` (it returned), `raise` (it failed) or `cancel` (its worker
# cancelled it). A run with no closing line was cut short by a SIGKILL.


def run_mark(ctx: JobContext, phase: str) -> None:
    line = f"{ctx.job.id} {ctx.attempt} {os.getpid()} {phase} {time.time():.6f}\n".encode()
    fd = os.open(os.environ["JOBDECK_CAMPAIGN_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@gate("campaign_deny")
def campaign_deny(payload: Mapping[str, Any], ctx: GateContext) -> Result:
    if payload.get("deny"):
        return deny("campaign_deny", "campaign_denied", "The campaign asked for a denial.")
    return PASS


@registry.kind(
    "rel.campaign",
    gates=[campaign_deny],
    max_attempts=3,
    timeout=30,
    backoff=Backoff(base=0.05, cap=0.2),
)
async def campaign(ctx: JobContext, payload: AnyPayload) -> Any:
    """Sleep `seconds`, then: `mode` "retry_once" fails retryably on attempt 1, "retry_always"
    on every attempt, "terminal" fails terminally; anything else returns."""
    extra = payload.model_extra or {}
    run_mark(ctx, "start")
    try:
        await asyncio.sleep(float(extra.get("seconds", 0)))
        mode = extra.get("mode")
        if mode == "retry_always" or (mode == "retry_once" and ctx.attempt == 1):
            raise Retryable("The campaign asked for a retry.", code="campaign_retry")
        if mode == "terminal":
            raise Terminal("The campaign asked for a terminal failure.", code="campaign_terminal")
    except asyncio.CancelledError:
        run_mark(ctx, "cancel")
        raise
    except Exception:
        run_mark(ctx, "raise")
        raise
    run_mark(ctx, "end")
    return {"attempt": ctx.attempt, "n": extra.get("n")}


class CustomStop(BaseException):
    """A BaseException that is not one of Python's own."""


@registry.kind("rel.fault", max_attempts=2, timeout=10)
async def fault(ctx: JobContext, payload: AnyPayload) -> Any:
    """Misbehave as `how` says: print megabytes, raise GeneratorExit or a custom BaseException."""
    how = (payload.model_extra or {}).get("how")
    if how == "print_megabytes":
        chunk = "x" * 1023 + "\n"
        for _ in range(5 * 1024):  # 5 MiB on stdout, then 5 MiB on stderr
            sys.stdout.write(chunk)
        sys.stdout.flush()
        sys.stderr.write(chunk * 5 * 1024)
        sys.stderr.flush()
        return {"printed": 10 * 1024 * 1024}
    if how == "generator_exit":
        raise GeneratorExit("a handler raised GeneratorExit")
    if how == "custom_base_exception":
        raise CustomStop("a handler raised a custom BaseException")
    return {"how": how}


def _note(ctx: JobContext, what: str) -> None:
    """Append `job_id what pid` to $JOBDECK_TEST_LOG.steps (steps and their compensations)."""
    line = f"{ctx.job.id} {what} {os.getpid()}\n".encode()
    path = os.environ["JOBDECK_TEST_LOG"] + ".steps"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_notes(log: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """The steps log as (job_id, what) pairs, in the order they were written."""
    path = f"{os.fspath(log)}.steps"
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [(job, what) for job, what, _ in (line.split() for line in f)]


@registry.kind("rel.steps_then_wait", max_attempts=3, timeout=600)
async def steps_then_wait(ctx: JobContext, payload: AnyPayload) -> Any:
    """Two compensable steps, then record and wait (for an operator to cancel it)."""
    await ctx.step(
        "debit", lambda: _note(ctx, "debit"), compensate=lambda _: _note(ctx, "undo:debit")
    )
    await ctx.step("hold", lambda: _note(ctx, "hold"), compensate=lambda _: _note(ctx, "undo:hold"))
    record(ctx)
    await asyncio.sleep(300)
    return {"attempt": ctx.attempt}
