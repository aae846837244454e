"""Durable steps: memoized across retries, compensated in reverse on failure, rerun from a step."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

import pytest

from jobdeck.core import Engine, Registry, Retryable, Status, Terminal, Worker, demo_registry
from jobdeck.core.contract import CompensationStatus, StepStatus
from jobdeck.core.errors import InvalidInput
from jobdeck.core.retry import Backoff
from jobdeck.core.store import Store
from tests.engine.conftest import drain


class Book:
    """What the steps and compensations of a test did, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def note(self, what: str) -> Any:
        self.calls.append(what)
        return {"did": what}


def registry_with(book: Book, *, fail: str | None, comp_failures: int = 0) -> Registry:
    registry = demo_registry()
    left = {"n": comp_failures}

    def undo(name: str) -> Any:
        def run(result: Any) -> None:
            if left["n"] > 0:
                left["n"] -= 1
                raise ConnectionError(f"undo {name} failed")
            book.note(f"undo:{name}")

        return run

    @registry.kind("t.three", max_attempts=3, backoff=Backoff(0.01, 0.02))
    async def three(ctx: Any, payload: Any) -> Any:
        out = []
        for name in ("a", "b", "c"):
            out.append(await ctx.step(name, lambda n=name: book.note(n), compensate=undo(name)))
            if fail == f"retry_after_{name}" and ctx.attempt == 1:
                raise Retryable("again")
            if fail == f"terminal_after_{name}":
                raise Terminal("cannot go on", code="stop")
        return out

    return registry


async def test_a_completed_step_is_not_run_again_on_retry(store: Store) -> None:
    book = Book()
    engine = Engine(store, registry_with(book, fail="retry_after_b"))
    job = await engine.submit("t.three", {})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.DONE and job.attempt == 2
    assert book.calls == ["a", "b", "c"]
    steps = await store.steps(job.id)
    assert [(s.name, s.attempt) for s in steps] == [("a", 1), ("b", 1), ("c", 2)]
    assert job.result == [{"did": "a"}, {"did": "b"}, {"did": "c"}]


async def test_compensations_run_in_reverse_order_exactly_once(store: Store) -> None:
    book = Book()
    engine = Engine(store, registry_with(book, fail="terminal_after_c"))
    job = await engine.submit("t.three", {})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.reason is not None
    assert job.reason.code == "stop"  # the one reason stays the original cause
    assert book.calls == ["a", "b", "c", "undo:c", "undo:b", "undo:a"]
    events = [(e.step, e.reason_code) for e in await engine.events() if e.step]
    assert events == [("c", "compensated"), ("b", "compensated"), ("a", "compensated")]
    steps = await store.steps(job.id)
    assert all(s.compensation is CompensationStatus.DONE for s in steps)


async def test_a_failing_compensation_is_retried_on_its_own_budget(store: Store) -> None:
    book = Book()
    engine = Engine(store, registry_with(book, fail="terminal_after_a", comp_failures=2))
    job = await engine.submit("t.three", {})
    await drain(engine)
    (a,) = await store.steps(job.id)
    assert a.compensation is CompensationStatus.DONE and a.compensation_attempts == 3
    assert book.calls == ["a", "undo:a"]


async def test_a_compensation_that_keeps_failing_is_visible_not_swallowed(store: Store) -> None:
    book = Book()
    engine = Engine(store, registry_with(book, fail="terminal_after_b", comp_failures=99))
    job = await engine.submit("t.three", {})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.reason is not None and job.reason.code == "stop"
    steps = await store.steps(job.id)
    assert [s.compensation for s in steps] == [CompensationStatus.FAILED] * 2
    assert steps[0].compensation_reason is not None
    assert "undo a failed" in steps[0].compensation_reason.message
    codes = [e.reason_code for e in await engine.events() if e.step]
    assert codes == ["compensation_failed", "compensation_failed"]


async def test_a_fault_at_a_step_rolls_back_the_steps_before_it(engine: Engine) -> None:
    job = await engine.submit("demo.transfer", {"from": "x", "to": "y", "amount": 4})
    await engine.arm_fault(job_id=job.id, at_step="credit", reason="between steps")
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.reason is not None
    assert job.reason.message == "between steps"
    debit, credit = await engine.store.steps(job.id)
    assert debit.compensation is CompensationStatus.DONE
    assert credit.status is StepStatus.FAILED and credit.reason is not None


async def test_rerun_from_a_step_skips_the_steps_before_it(store: Store) -> None:
    book = Book()
    engine = Engine(store, registry_with(book, fail=None))
    job = await engine.submit("t.three", {})
    await drain(engine)
    rerun = await engine.rerun(job.id, from_step="c")
    await drain(engine)
    rerun, job = await engine.get(rerun.id), await engine.get(job.id)
    assert rerun.status is Status.DONE and rerun.result == job.result
    assert book.calls == ["a", "b", "c", "c"]
    report = await engine.report(rerun.id)
    assert report is not None and report.verdict.value == "idempotent"


async def test_rerun_from_an_unknown_step_is_refused(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"x": 1})
    await drain(engine)
    with pytest.raises(InvalidInput, match="no step 'nope'"):
        await engine.rerun(job.id, from_step="nope")


async def test_a_job_level_fault_after_stored_steps_still_compensates_them(store: Store) -> None:
    book = Book()
    retried = asyncio.Event()
    registry = registry_with(book, fail="retry_after_b")
    three = registry.get("t.three")

    async def handler(ctx: Any, payload: Any) -> Any:
        if ctx.attempt == 1:
            retried.set()
        return await three.handler(ctx, payload)

    registry = Registry()
    registry.add(replace(three, handler=handler, backoff=Backoff(1.0, 1.0)))
    # seeded so the retry waits 0.84 s: time to stop the worker and arm the fault
    engine = Engine(store, registry, rng=random.Random(0))
    job = await engine.submit("t.three", {})
    stop = asyncio.Event()
    worker = asyncio.create_task(Worker(engine, poll=0.01).run(stop))
    await asyncio.wait_for(retried.wait(), 5)
    stop.set()
    await worker
    assert (await engine.get(job.id)).status is Status.QUEUED
    await engine.arm_fault(job_id=job.id, retryable=False, reason="stop here")
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.reason is not None
    assert job.reason.message == "stop here" and job.attempt == 2
    # attempt 2 replayed a and b from the store, then the fault fired before c did any work
    assert book.calls == ["a", "b", "undo:b", "undo:a"]


async def test_lineage_lists_the_rerun_tree(engine: Engine) -> None:
    job = await engine.submit("demo.charge", {"id": "L1", "amount": 3, "currency": "EUR"})
    await drain(engine)
    first = await engine.rerun(job.id)
    second = await engine.rerun(first.id)
    await drain(engine)
    detail = await engine.detail(second.id)
    assert detail.lineage is not None and detail.lineage.job.id == job.id
    (child,) = detail.lineage.reruns
    assert child.job.id == first.id and child.verdict is not None
    assert [n.job.id for n in child.reruns] == [second.id]
