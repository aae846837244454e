"""`jobdeck check`: the verification checklist, run against a fresh store with the demo kinds.

Each check drives the real engine and worker and then reads back what was stored; none of them
trusts a return value alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jobdeck.core.contract import Category, CompensationStatus, Status, StepStatus
from jobdeck.core.engine import Engine
from jobdeck.core.registry import Registry
from jobdeck.core.rerun import Verdict
from jobdeck.core.system import Outcome
from jobdeck.core.worker import Worker


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def _drain(engine: Engine) -> None:
    await Worker(engine, concurrency=4, burst=True, poll=0.01, lease=10).run()


async def one_success(engine: Engine) -> Check:
    job = await engine.submit("demo.echo", {"check": "success"})
    await _drain(engine)
    job = await engine.get(job.id)
    ok = job.status is Status.DONE and job.result == {"check": "success"} and job.attempt == 1
    return Check("one success", ok, f"demo.echo {job.status.value} on attempt {job.attempt}")


async def forced_failure(engine: Engine) -> Check:
    job = await engine.submit("demo.charge", {"id": "chk_forced", "amount": 5, "currency": "EUR"})
    await engine.arm_fault(job_id=job.id, retryable=False, reason="checklist forced failure")
    await _drain(engine)
    job = await engine.get(job.id)
    reason = job.reason
    ok = (
        job.status is Status.FAILED
        and reason is not None
        and reason.category is Category.INJECTED
        and reason.message == "checklist forced failure"
        and job.attempt == 1
    )
    got = f"{reason.code} ({reason.category.value})" if reason else "no reason"
    return Check("one forced failure", ok, f"failed with {got} after {job.attempt} attempt")


async def one_reason_per_denial(engine: Engine) -> Check:
    capture = _Capture()
    logger = logging.getLogger("jobdeck")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        job = await engine.submit("demo.charge", {"amount": 10, "currency": "EUR"})
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
        logger.propagate = propagate
    events = [e for e in await engine.events(0, 10_000) if e.job_id == job.id]
    logged = [line for line in capture.lines if job.id in line]
    attempts = await engine.store.attempts(job.id)
    ok = (
        job.status is Status.FAILED
        and job.reason is not None
        and job.reason.code == "missing_id"
        and len(events) == 1
        and events[0].reason_code == "missing_id"
        and len(logged) == 1
        and not attempts
    )
    code = job.reason.code if job.reason else "none"
    return Check(
        "one reason per denial",
        ok,
        f"{code}: {len(events)} event, {len(logged)} log line, {len(attempts)} attempts",
    )


async def same_input_twice(engine: Engine) -> Check:
    payload = {"id": "chk_idem", "amount": 42, "currency": "USD"}
    first = await engine.submit("demo.charge", payload)
    second = await engine.submit("demo.charge", payload)
    await _drain(engine)
    rerun = await engine.rerun(first.id)
    await _drain(engine)
    report = await engine.report(rerun.id)
    ok = (
        first.id == second.id
        and report is not None
        and report.verdict is Verdict.IDEMPOTENT
        and rerun.id != first.id
    )
    verdict = report.verdict.value if report else "unfinished"
    return Check(
        "the same input twice stays idempotent",
        ok,
        f"second submit returned the same job; rerun verdict {verdict}",
    )


async def retry_policy(engine: Engine) -> Check:
    flaky = await engine.submit("demo.flaky", {"fail_times": 2})
    terminal = await engine.submit("demo.echo", {"check": "terminal"}, max_attempts=3)
    await engine.arm_fault(job_id=terminal.id, retryable=False, reason="checklist terminal")
    await _drain(engine)
    flaky = await engine.get(flaky.id)
    terminal = await engine.get(terminal.id)
    ok = (
        flaky.status is Status.DONE
        and flaky.attempt == 3
        and terminal.status is Status.FAILED
        and terminal.attempt == 1
    )
    return Check(
        "a retryable error is retried, a terminal one is not",
        ok,
        f"flaky done on attempt {flaky.attempt}; terminal failed after {terminal.attempt} attempt",
    )


async def rollback(engine: Engine) -> Check:
    job = await engine.submit("demo.transfer", {"from": "chk_a", "to": "chk_b", "amount": 7})
    await engine.arm_fault(job_id=job.id, at_step="credit", reason="checklist rollback")
    await _drain(engine)
    job = await engine.get(job.id)
    steps = {s.name: s for s in await engine.store.steps(job.id)}
    debit, credit = steps.get("debit"), steps.get("credit")
    undone = [e.step for e in await engine.events(0, 10_000) if e.job_id == job.id and e.step]
    ok = (
        job.status is Status.FAILED
        and job.reason is not None
        and job.reason.category is Category.INJECTED
        and debit is not None
        and debit.compensation is CompensationStatus.DONE
        and credit is not None
        and credit.status is StepStatus.FAILED
        and undone == ["debit"]
    )
    state = debit.compensation.value if debit and debit.compensation else "not compensated"
    return Check(
        "a failure between steps is rolled back",
        ok,
        f"debit {state}, credit never ran, reason stays {job.reason.code if job.reason else '-'}",
    )


async def delayed_start(engine: Engine) -> Check:
    delay = 0.3
    job = await engine.submit("demo.echo", {"check": "delayed"}, delay=delay)
    await _drain(engine)  # a burst worker waits for the job to become due, then runs it
    job = await engine.get(job.id)
    attempts = await engine.store.attempts(job.id)
    started = attempts[0].started_at if attempts else None
    early = None if started is None else started - job.run_after
    ok = (
        job.status is Status.DONE
        and job.attempt == 1
        and early is not None
        and early >= 0
        and abs(job.run_after - (job.created_at + delay)) < 1e-6
    )
    when = f"started {early * 1000:.0f} ms after its time" if early is not None else "never started"
    return Check(
        "a delayed job does not start before its time",
        ok,
        f"submitted with a {delay * 1000:.0f} ms delay; {when}",
    )


async def cancel_rolls_back(engine: Engine) -> Check:
    held = asyncio.Event()
    seen: list[str] = []
    own = Registry()

    @own.kind("check.hold", max_attempts=3)
    async def hold(ctx: Any, payload: Any) -> Any:
        await ctx.step("reserve", lambda: seen.append("reserve"), compensate=release)
        held.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("stopped")
            raise

    def release(_: Any) -> None:
        seen.append("release")

    checker = Engine(
        engine.store, engine.registry.merge(own), clock=engine.clock, ids=engine.ids, rng=engine.rng
    )
    job = await checker.submit("check.hold", {})
    stop = asyncio.Event()
    worker = asyncio.create_task(Worker(checker, concurrency=1, poll=0.01, lease=10).run(stop))
    elapsed = None
    try:
        async with asyncio.timeout(20):
            await held.wait()
            began = time.monotonic()
            await checker.cancel(job.id, reason="checklist cancel", by="jobdeck check")
            job = await checker.wait(job.id, poll=0.01)
            elapsed = time.monotonic() - began
    except TimeoutError:
        job = await checker.get(job.id)
    finally:
        stop.set()
        await worker
    steps = {s.name: s for s in await engine.store.steps(job.id)}
    reserve = steps.get("reserve")
    ok = (
        job.status is Status.FAILED
        and job.reason is not None
        and job.reason.category is Category.CANCELLED
        and reserve is not None
        and reserve.compensation is CompensationStatus.DONE
        and seen == ["reserve", "stopped", "release"]
    )
    state = reserve.compensation.value if reserve and reserve.compensation else "not compensated"
    when = f"{elapsed * 1000:.0f} ms after the cancel" if elapsed is not None else "never"
    return Check(
        "a cancelled running job rolls back its steps",
        ok,
        f"handler stopped and recorded {when}; reserve {state}",
    )


async def pause_holds_a_kind(engine: Engine) -> Check:
    await engine.pause("demo.random", reason="checklist pause", by="jobdeck check")
    try:
        job = await engine.submit("demo.random", {"check": "paused"})
        await _drain(engine)  # a burst worker leaves the paused kind queued and stops
        held = (await engine.get(job.id)).status
    finally:
        await engine.resume("demo.random", by="jobdeck check")
    await _drain(engine)
    after = (await engine.get(job.id)).status
    ok = held is Status.QUEUED and after is Status.DONE
    return Check(
        "a paused kind waits until it is resumed",
        ok,
        f"{held.value} while paused, {after.value} after resume",
    )


async def priority_order(engine: Engine) -> Check:
    levels = (-5, 0, 50)
    jobs = [
        await engine.submit("demo.echo", {"check": "priority", "level": p}, priority=p)
        for p in levels
    ]
    await Worker(engine, concurrency=1, burst=True, poll=0.01, lease=10).run()
    started = {}
    for job in jobs:
        attempts = await engine.store.attempts(job.id)
        started[job.priority] = attempts[0].started_at if attempts else float("inf")
    order = sorted(started, key=lambda p: started[p])
    ok = order == sorted(levels, reverse=True)
    return Check(
        "the highest priority runs first",
        ok,
        "priorities "
        + ", ".join(f"{p:+d}" for p in levels)
        + " ran in the order "
        + ", ".join(f"{p:+d}" for p in order),
    )


async def rollup_counts(engine: Engine) -> Check:
    """The rollup, written in the transactions of the moves it counts, sees one more success
    and one more forced failure, and the per-kind counts add up to the per-status ones."""

    async def echo_totals() -> tuple[int, int]:
        rows = await engine.store.rollup(0, "demo.echo")
        done = sum(r.n for r in rows if r.outcome is Outcome.DONE)
        return done, sum(r.n for r in rows if r.outcome is Outcome.FAILED)

    done_before, failed_before = await echo_totals()
    await engine.submit("demo.echo", {"check": "rollup success"})
    doomed = await engine.submit("demo.echo", {"check": "rollup failure"})
    await engine.arm_fault(job_id=doomed.id, retryable=False, reason="checklist rollup failure")
    await _drain(engine)
    done, failed = await echo_totals()
    kinds = await engine.store.kind_counts()
    per_status = {s: sum(counts[s] for counts in kinds.values()) for s in Status}
    ok = (done - done_before, failed - failed_before) == (1, 1)
    ok = ok and per_status == await engine.counts()
    return Check(
        "the rollup counts one success and one forced failure",
        ok,
        f"demo.echo +{done - done_before} done, +{failed - failed_before} failed; kind counts "
        f"{'match' if per_status == await engine.counts() else 'DO NOT match'} the status counts",
    )


CHECKS: list[Callable[[Engine], Awaitable[Check]]] = [
    one_success,
    forced_failure,
    one_reason_per_denial,
    same_input_twice,
    retry_policy,
    rollback,
    delayed_start,
    cancel_rolls_back,
    pause_holds_a_kind,
    priority_order,
    rollup_counts,
]


async def run_checks(engine: Engine) -> list[Check]:
    """Run every check in order on `engine` (which should sit on a fresh store)."""
    return [await check(engine) for check in CHECKS]
