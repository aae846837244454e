"""The engine and worker on a real database, once per backend: the happy path, then every way
it can fail."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest

from jobdeck.core import Category, Engine, Registry, Status, Verdict, demo_registry
from jobdeck.core.contract import Outcome, Requeue, Succeed, transition
from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.core.retry import Backoff, lost_lease
from jobdeck.core.store import Change, Store
from jobdeck.storage import open_store
from tests.engine.conftest import drain


async def test_submit_stores_a_queued_job_with_its_creation_event(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"a": 1})
    assert job.status is Status.QUEUED and job.attempt == 0
    events = await engine.events()
    assert [(e.job_id, e.from_status, e.to_status) for e in events] == [
        (job.id, None, Status.QUEUED)
    ]


async def test_the_happy_path_runs_to_done_with_the_result(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"a": 1})
    await drain(engine)
    job = await engine.get(job.id)
    assert (job.status, job.result, job.attempt, job.reason) == (Status.DONE, {"a": 1}, 1, None)
    attempts = await engine.store.attempts(job.id)
    assert [(a.n, a.outcome) for a in attempts] == [(1, Outcome.DONE)]


async def test_a_denied_job_is_stored_failed_with_one_reason_and_never_runs(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="jobdeck"):
        job = await engine.submit("demo.charge", {"amount": 5, "currency": "EUR"})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.attempt == 0
    assert job.reason is not None and job.reason.code == "missing_id"
    assert job.reason.category is Category.DENIED and job.reason.gate == "missing_id"
    assert await engine.store.attempts(job.id) == []
    events = [e for e in await engine.events() if e.job_id == job.id]
    assert len(events) == 1 and events[0].reason_code == "missing_id"
    assert len([r for r in caplog.records if job.id in r.getMessage()]) == 1


async def test_unknown_kind_and_bad_payload_are_refused_and_nothing_is_stored(
    engine: Engine,
) -> None:
    with pytest.raises(NotFound, match="unknown kind"):
        await engine.submit("nope", {})
    with pytest.raises(InvalidInput):
        await engine.submit("demo.echo", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="payload 2"):
        await engine.submit_many("demo.echo", [{"ok": 1}, "bad"])
    assert await engine.events() == []


async def test_the_same_input_twice_returns_the_same_job(engine: Engine) -> None:
    a = await engine.submit("demo.echo", {"x": 1})
    b = await engine.submit("demo.echo", {"x": 1})
    c = await engine.submit("demo.echo", {"x": 1}, key="explicit")
    assert a.id == b.id != c.id
    await drain(engine)
    d = await engine.submit("demo.echo", {"x": 1})
    assert d.id == a.id  # a done job still owns its key


async def test_a_failed_job_frees_its_key_for_a_new_attempt(engine: Engine) -> None:
    a = await engine.submit("demo.echo", {"x": 2})
    await engine.arm_fault(job_id=a.id, reason="no")
    await drain(engine)
    b = await engine.submit("demo.echo", {"x": 2})
    assert b.id != a.id and b.status is Status.QUEUED


async def test_a_retryable_error_is_retried_then_succeeds(engine: Engine) -> None:
    job = await engine.submit("demo.flaky", {"fail_times": 2})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.DONE and job.attempt == 3
    outcomes = [a.outcome for a in await engine.store.attempts(job.id)]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.DONE]


async def test_retries_run_out_with_retries_exhausted_and_the_last_error(engine: Engine) -> None:
    job = await engine.submit("demo.flaky", {"fail_times": 9}, max_attempts=2)
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.attempt == 2
    assert job.reason is not None and job.reason.category is Category.RETRIES_EXHAUSTED
    assert job.reason.evidence["last_code"] == "flaky"


async def test_a_fault_armed_from_a_second_connection_fails_the_next_attempt(
    engine: Engine, db_url: str
) -> None:
    job = await engine.submit("demo.echo", {"f": 1})
    other = await open_store(db_url)
    try:
        await Engine(other, demo_registry()).arm_fault(job_id=job.id, reason="operator test")
    finally:
        await other.close()
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.attempt == 1
    assert job.reason is not None and job.reason.category is Category.INJECTED
    assert job.reason.message == "operator test"


async def test_a_retryable_fault_on_a_kind_fires_times_then_stops(engine: Engine) -> None:
    await engine.arm_fault(kind="demo.flaky", retryable=True, times=2, reason="twice")
    job = await engine.submit("demo.flaky", {"fail_times": 0})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.DONE and job.attempt == 3
    reasons = [a.reason.category for a in await engine.store.attempts(job.id) if a.reason]
    assert reasons == [Category.INJECTED, Category.INJECTED]


async def test_arming_a_fault_on_a_finished_job_is_refused(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"done": 1})
    await drain(engine)
    with pytest.raises(InvalidInput, match="already done"):
        await engine.arm_fault(job_id=job.id)
    with pytest.raises(NotFound):
        await engine.arm_fault(job_id="nonexistent-id")


async def test_rerun_of_a_deterministic_charge_is_idempotent(engine: Engine) -> None:
    job = await engine.submit("demo.charge", {"id": "c1", "amount": 5, "currency": "EUR"})
    await drain(engine)
    again = await engine.rerun(job.id)
    assert again.id != job.id and again.rerun_of == job.id
    await drain(engine)
    report = await engine.report(again.id)
    assert report is not None and report.verdict is Verdict.IDEMPOTENT and report.diff == {}


async def test_rerun_of_demo_random_diverges_with_a_diff(engine: Engine) -> None:
    job = await engine.submit("demo.random", {"n": 1})
    await drain(engine)
    again = await engine.rerun(job.id)
    await drain(engine)
    report = await engine.report(again.id)
    assert report is not None and report.verdict is Verdict.DIVERGED
    assert list(report.diff) == ["$.result.token"]
    detail = await engine.detail(job.id)
    assert [r.id for r, _ in detail.reruns] == [again.id]


def _registry_with(**kinds: Any) -> Registry:
    registry = demo_registry()
    for name, (handler, opts) in kinds.items():
        registry.kind(name.replace("_", "."), **opts)(handler)
    return registry


async def test_a_hanging_handler_times_out_as_retryable(store: Store) -> None:
    async def hang(ctx: Any, payload: Any) -> Any:
        await asyncio.sleep(60)

    engine = Engine(store, _registry_with(t_hang=(hang, {"timeout": 0.05, "max_attempts": 2})))
    job = await engine.submit("t.hang", {})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.status is Status.FAILED and job.reason is not None
    assert job.reason.category is Category.RETRIES_EXHAUSTED
    assert job.reason.evidence["last_code"] == "timeout"


async def test_a_non_json_result_fails_terminally(store: Store) -> None:
    async def bad(ctx: Any, payload: Any) -> Any:
        return {1, 2}

    engine = Engine(store, _registry_with(t_bad=(bad, {})))
    job = await engine.submit("t.bad", {})
    await drain(engine)
    job = await engine.get(job.id)
    assert job.reason is not None and job.reason.code == "non_json_result" and job.attempt == 1


async def test_base_exceptions_from_handlers_do_not_kill_the_worker(store: Store) -> None:
    async def exits(ctx: Any, payload: Any) -> Any:
        raise SystemExit(3)

    async def interrupts(ctx: Any, payload: Any) -> Any:
        raise KeyboardInterrupt

    engine = Engine(store, _registry_with(t_exit=(exits, {}), t_int=(interrupts, {})))
    a = await engine.submit("t.exit", {})
    b = await engine.submit("t.int", {})
    c = await engine.submit("demo.echo", {"after": True})
    await drain(engine)
    assert (await engine.get(a.id)).status is Status.FAILED
    assert (await engine.get(b.id)).status is Status.FAILED
    assert (await engine.get(c.id)).status is Status.DONE


async def test_an_expired_lease_is_recovered_without_an_operator(store: Store) -> None:
    started = asyncio.Event()

    async def slow(ctx: Any, payload: Any) -> Any:
        started.set()
        if ctx.attempt == 1:
            await asyncio.sleep(60)
        return "second time lucky"

    engine = Engine(store, _registry_with(t_slow=(slow, {"max_attempts": 3})))
    job = await engine.submit("t.slow", {})
    stop = asyncio.Event()
    crashed = Worker_(engine, lease=1.0, concurrency=1)
    task = asyncio.create_task(crashed.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    # Simulate a crash: the worker stops heartbeating but its handler stays stuck.
    crashed.freeze()
    await asyncio.sleep(1.2)
    assert await engine.recover() == 1
    await drain(engine, lease=5.0)
    job = await engine.get(job.id)
    assert job.status is Status.DONE and job.attempt == 2
    outcomes = [a.outcome for a in await engine.store.attempts(job.id)]
    assert outcomes == [Outcome.LOST_LEASE, Outcome.DONE]
    stop.set()
    crashed.grace = 0
    await asyncio.wait_for(task, 5)
    # the frozen worker's late attempt could not overwrite the recovered job
    assert (await engine.get(job.id)).status is Status.DONE


from jobdeck.core.worker import Worker  # noqa: E402


class Worker_(Worker):
    """A worker whose heartbeat can be frozen, as if its process hung."""

    def __init__(self, engine: Engine, **kw: Any) -> None:
        super().__init__(engine, poll=0.01, **kw)
        self._frozen = asyncio.Event()

    def freeze(self) -> None:
        self._frozen.set()

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        await self._frozen.wait()
        await asyncio.Event().wait()


async def test_lease_recovery_loses_to_a_heartbeat_that_renewed_the_lease(engine: Engine) -> None:
    job = await engine.submit("demo.echo", {"race": 1})
    t = job.run_after
    (claimed,) = await engine.store.claim("w1", [], 1, now=t, lease_seconds=10.0)
    seen = claimed.job  # what a recovering process read: the lease ends at t + 10
    assert await engine.store.heartbeat("w1", [job.id], lease_expires_at=t + 40, now=t + 5)
    decision = lost_lease(seen, now=t + 11, backoff=Backoff(), rng=random.Random(0))
    requeue = Change(
        seen,
        transition(seen, Requeue(decision.reason, t + 11, t + 11)),
        lease_ended_at=seen.lease_expires_at,
    )
    assert await engine.store.apply([requeue]) == [False]
    assert (await engine.get(job.id)).status is Status.RUNNING


async def test_a_burst_worker_for_one_kind_exits_while_other_kinds_wait(engine: Engine) -> None:
    other = await engine.submit("demo.echo", {"waits": True})
    mine = await engine.submit("demo.charge", {"id": "b1", "amount": 1, "currency": "EUR"})
    await asyncio.wait_for(drain(engine, kinds=["demo.charge"]), 10)
    assert (await engine.get(mine.id)).status is Status.DONE
    assert (await engine.get(other.id)).status is Status.QUEUED


async def test_one_call_records_a_finished_attempt_and_claims_the_next_jobs(
    engine: Engine,
) -> None:
    first = await engine.submit("demo.echo", {"n": 1})
    second = await engine.submit("demo.echo", {"n": 2})
    t = first.run_after
    (claimed,) = await engine.store.claim("w1", [], 1, now=t, lease_seconds=10.0)
    assert claimed.job.id == first.id
    done = Change(
        claimed.job, transition(claimed.job, Succeed({"n": 1}, t + 1)), outcome=Outcome.DONE
    )
    stale = Change(first.model_copy(update={"status": Status.RUNNING}), done.after)
    applied, more = await engine.store.apply_and_claim([done, stale], "w1", [], 5, t + 1, 10.0)
    assert applied == [True, False]  # the second compares against what the first left
    assert [c.job.id for c in more] == [second.id]
    assert (await engine.get(first.id)).status is Status.DONE
    assert (await engine.get(second.id)).lease_owner == "w1"
    events = [(e.job_id, e.to_status) for e in await engine.events()]
    assert events[-2:] == [(first.id, Status.DONE), (second.id, Status.RUNNING)]
