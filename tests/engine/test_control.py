"""Operator control on both backends: cancel a queued or running job, pause and resume a kind,
and the operator trail those actions leave."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jobdeck.core import Engine, Registry, Status, Worker, demo_registry
from jobdeck.core.contract import Category, CompensationStatus, Fail, transition
from jobdeck.core.control import ActionName
from jobdeck.core.errors import InvalidInput, NotFound, TransitionError
from jobdeck.core.store import Change, Store
from tests.engine.conftest import drain


class Gate:
    """Lets a test know when a handler reached a point, and what it did."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.calls: list[str] = []


def control_registry(gate: Gate) -> Registry:
    registry = demo_registry()

    @registry.kind("t.block", max_attempts=3)
    async def block(ctx: Any, payload: Any) -> Any:
        await ctx.step("a", lambda: gate.calls.append("a"), compensate=lambda _: undo("a"))
        await ctx.step("b", lambda: gate.calls.append("b"), compensate=lambda _: undo("b"))
        gate.started.set()
        await asyncio.sleep(3600)

    @registry.kind("t.stubborn", max_attempts=3)
    async def stubborn(ctx: Any, payload: Any) -> Any:
        gate.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            gate.calls.append("swallowed")
        return {"ok": True}  # a handler that swallows the cancel still ends cancelled

    def undo(name: str) -> None:
        gate.calls.append(f"undo:{name}")

    return registry


async def _run_until(worker: Worker, job_id: str, engine: Engine) -> Any:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(30):
            job = await engine.wait(job_id, poll=0.02)
    finally:
        stop.set()
        await task
    return job


async def test_cancelling_a_queued_job_fails_it_with_one_cancelled_reason(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 1}, key="k1")
    after = await engine.cancel(job.id, reason="wrong payload", by="alice")
    assert after.status is Status.FAILED
    stored = await engine.get(job.id)
    assert stored.status is Status.FAILED and stored.reason is not None
    assert stored.reason.code == "cancelled"
    assert stored.reason.category is Category.CANCELLED
    assert stored.reason.evidence["reason"] == "wrong payload"
    assert stored.reason.evidence["by"] == "alice"
    assert stored.reason.evidence["running"] is False
    assert stored.attempt == 0  # it never ran
    events = [e for e in await engine.events() if e.job_id == job.id]
    assert [(e.from_status, e.to_status, e.reason_code) for e in events][-1] == (
        Status.QUEUED,
        Status.FAILED,
        "cancelled",
    )
    # The key is free again, as for every failed job.
    again = await engine.submit("demo.echo", {"n": 1}, key="k1")
    assert again.id != job.id and again.status is Status.QUEUED


async def test_a_cancelled_queued_job_never_runs(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 2})
    await engine.cancel(job.id)
    await drain(engine)
    stored = await engine.get(job.id)
    assert stored.status is Status.FAILED and stored.attempt == 0
    assert stored.reason is not None and stored.reason.code == "cancelled"


async def test_cancelling_a_finished_job_is_a_transition_error(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 3})
    await drain(engine)
    with pytest.raises(TransitionError, match="already done"):
        await engine.cancel(job.id)
    cancelled = await engine.submit("demo.echo", {"n": 4})
    await engine.cancel(cancelled.id)
    with pytest.raises(TransitionError, match="already failed"):
        await engine.cancel(cancelled.id)


async def test_cancelling_an_unknown_job_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        await engine.cancel("0000000000000000nothere")


async def test_a_bad_reason_or_actor_writes_nothing(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 5})
    with pytest.raises(InvalidInput):
        await engine.cancel(job.id, reason="two\nlines")
    with pytest.raises(InvalidInput):
        await engine.cancel(job.id, by="")
    assert (await engine.get(job.id)).status is Status.QUEUED
    assert await engine.actions() == []


async def test_a_running_job_is_stopped_and_its_steps_compensated(store: Store) -> None:
    gate = Gate()
    engine = Engine(store, control_registry(gate))
    job = await engine.submit("t.block", {})
    worker = Worker(engine, concurrency=2, poll=0.01, lease=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(30):
            await gate.started.wait()
            running = await engine.cancel(job.id, reason="stop it", by="bob")
            assert running.status is Status.RUNNING  # the worker ends it
            done = await engine.wait(job.id, poll=0.02)
    finally:
        stop.set()
        await task
    assert done.status is Status.FAILED and done.reason is not None
    assert done.reason.category is Category.CANCELLED
    assert done.reason.evidence["running"] is True and done.reason.evidence["by"] == "bob"
    assert gate.calls == ["a", "b", "undo:b", "undo:a"]
    steps = await store.steps(job.id)
    assert {s.name: s.compensation for s in steps} == {
        "a": CompensationStatus.DONE,
        "b": CompensationStatus.DONE,
    }
    assert worker.stats.cancelled == 1 and done.attempt == 1
    last = [e for e in await engine.events() if e.job_id == job.id and e.step is None][-1]
    assert (last.from_status, last.to_status, last.reason_code) == (
        Status.RUNNING,
        Status.FAILED,
        "cancelled",
    )


async def test_a_handler_that_swallows_the_cancel_still_ends_cancelled(store: Store) -> None:
    gate = Gate()
    engine = Engine(store, control_registry(gate))
    job = await engine.submit("t.stubborn", {})
    worker = Worker(engine, concurrency=1, poll=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(30):
            await gate.started.wait()
            await engine.cancel(job.id)
            done = await engine.wait(job.id, poll=0.02)
    finally:
        stop.set()
        await task
    assert gate.calls == ["swallowed"]
    assert done.status is Status.FAILED and done.reason is not None
    assert done.reason.code == "cancelled" and done.result is None


async def test_lease_recovery_ends_a_cancel_requested_job_as_cancelled(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 6})
    (_claimed,) = await engine.store.claim("dead-worker", [], 1, engine.clock(), 0.01)
    await engine.cancel(job.id, reason="worker is gone")
    await asyncio.sleep(0.05)
    assert await engine.recover() == 1
    stored = await engine.get(job.id)
    assert stored.status is Status.FAILED and stored.reason is not None
    assert stored.reason.code == "cancelled" and stored.attempt == 1
    await drain(engine)  # and nothing runs it again
    assert (await engine.get(job.id)).attempt == 1


async def test_a_cancelled_running_job_cannot_go_back_to_the_queue(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 7})
    (claimed,) = await engine.store.claim("w1", [], 1, engine.clock(), 30)
    await engine.cancel(job.id)
    # The worker, not yet told, records a retryable failure: the requeue must lose.
    from jobdeck.core.contract import Reason, Requeue

    why = Reason(code="later", message="later", category=Category.RETRYABLE, retryable=True)
    now = engine.clock()
    requeue = Requeue(why, now, now)
    (won,) = await engine.apply([Change(claimed.job, transition(claimed.job, requeue))])
    assert won is False
    assert (await engine.get(job.id)).status is Status.RUNNING
    fail = Fail(why, now)
    (won,) = await engine.apply([Change(claimed.job, transition(claimed.job, fail))])
    assert won is True  # ending it is still allowed


async def test_cancel_kind_cancels_every_queued_job_of_the_kind(engine: Engine) -> None:
    jobs = await engine.submit_many("demo.echo", [{"n": i} for i in range(7)])
    other = await engine.submit("demo.random", {})
    n = await engine.cancel_kind("demo.echo", reason="bad batch", by="carol")
    assert n == 7
    for job in jobs:
        stored = await engine.get(job.id)
        assert stored.status is Status.FAILED and stored.reason is not None
        assert stored.reason.code == "cancelled"
    assert (await engine.get(other.id)).status is Status.QUEUED
    (action,) = await engine.actions()
    assert action.action == ActionName.CANCEL_KIND and action.actor == "carol"
    assert action.target.startswith("demo.echo")
    with pytest.raises(InvalidInput):
        await engine.cancel_kind("demo.echo", statuses=("done",))


async def test_a_paused_kind_is_not_claimed_until_resumed(engine: Engine) -> None:
    paused = await engine.pause("demo.echo", reason="maintenance", by="dave")
    assert paused.kind == "demo.echo" and paused.reason == "maintenance"
    assert [p.kind for p in await engine.paused()] == ["demo.echo"]
    echo = await engine.submit("demo.echo", {"n": 8})
    other = await engine.submit("demo.random", {})
    await drain(engine)  # a burst worker stops although the paused job is still queued
    assert (await engine.get(echo.id)).status is Status.QUEUED
    assert (await engine.get(other.id)).status is Status.DONE
    assert await engine.resume("demo.echo") is True
    assert await engine.paused() == []
    assert await engine.resume("demo.echo") is False
    await drain(engine)
    assert (await engine.get(echo.id)).status is Status.DONE


async def test_pause_refuses_an_empty_or_unknown_kind(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        await engine.pause("")
    with pytest.raises(InvalidInput, match=r"known kinds: demo\."):
        await engine.pause("no.such.kind")
    assert await engine.paused() == [] and await engine.actions() == []


async def test_a_kind_only_the_database_knows_can_be_paused(store: Store) -> None:
    first = Engine(store, demo_registry())
    await first.submit("demo.echo", {"n": 9})
    bare = Engine(store, Registry())
    await bare.pause("demo.echo")
    assert [p.kind for p in await bare.paused()] == ["demo.echo"]


async def test_every_operator_action_is_on_the_trail_after_its_event(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"n": 10})
    await engine.cancel(job.id, reason="why not", by="erin")
    await engine.pause("demo.random", by="erin")
    await engine.resume("demo.random", by="erin")
    trail = await engine.actions()
    assert [(a.action, a.target, a.actor) for a in trail] == [
        (ActionName.CANCEL, job.id, "erin"),
        (ActionName.PAUSE, "demo.random", "erin"),
        (ActionName.RESUME, "demo.random", "erin"),
    ]
    assert trail[0].reason == "why not"
    last = await engine.store.last_cursor()
    assert trail[0].after_cursor == last  # written after the cancel's own event
    assert await engine.actions(after_id=trail[0].id) == trail[1:]
    assert await engine.actions(since=last + 1) == []


async def test_schedule_pause_and_resume_are_on_the_trail(engine: Engine) -> None:
    await engine.store.declare_schedules([("nightly", "demo.echo", "0 3 * * *", "UTC")], 0.0)
    await engine.pause_schedule("nightly", reason="holiday", by="fay")
    await engine.resume_schedule("nightly", by="fay")
    trail = [(a.action, a.target, a.actor, a.reason) for a in await engine.actions()]
    assert trail == [
        (ActionName.SCHEDULE_PAUSE, "nightly", "fay", "holiday"),
        (ActionName.SCHEDULE_RESUME, "nightly", "fay", None),
    ]
