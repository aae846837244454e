"""A worker whose store is out of reach for a while (a PostgreSQL restart, dropped connections):
it keeps going for as long as the outage lasts, logs it once, keeps the results it could not
record and records each exactly once when the store is back."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jobdeck.core import AnyPayload, Engine, Registry, Status, StoreUnavailable, Worker
from jobdeck.core import outage as outage_module
from jobdeck.core.store import Store
from jobdeck.core.worker import CLAIM_RETRIES, JobContext

DOWN = "cannot reach the PostgreSQL server at db:5432: nothing accepts connections there."


class Flaky:
    """Makes the store's write calls raise StoreUnavailable `failures` times once armed."""

    def __init__(self, engine: Engine, failures: int) -> None:
        self.left = 0
        self.raised = 0
        self.failures = failures
        store: Any = engine.store
        for name in (
            "apply_and_claim",
            "apply",
            "heartbeat",
            "expired",
            "cancel_requests",
            "counts",
        ):
            setattr(store, name, self._wrap(getattr(store, name)))

    def arm(self) -> None:
        if not self.raised:
            self.left = self.failures

    def _wrap(self, call: Any) -> Any:
        async def flaky(*args: Any, **kw: Any) -> Any:
            if self.left > 0:
                self.left -= 1
                self.raised += 1
                raise StoreUnavailable(DOWN)
            return await call(*args, **kw)

        return flaky


async def test_a_worker_outlasts_an_outage_and_records_each_result_once(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outage_module, "FIRST_DELAY", 0.001)
    monkeypatch.setattr(outage_module, "MAX_DELAY", 0.002)
    caplog.set_level(logging.INFO)
    registry = Registry()
    engine = Engine(store, registry)
    # Longer than any other trouble may last before a worker gives up.
    flaky = Flaky(engine, failures=3 * CLAIM_RETRIES)

    @registry.kind("t.outage")
    async def outage(ctx: JobContext, payload: AnyPayload) -> Any:
        flaky.arm()  # the store goes away while the handlers finish: their results wait
        return {"attempt": ctx.attempt}

    jobs = [await engine.submit("t.outage", {"n": i}) for i in range(6)]
    worker = Worker(engine, concurrency=6, burst=True, poll=0.001, lease=30.0)
    stats = await worker.run()
    assert flaky.left == 0 and flaky.raised == 3 * CLAIM_RETRIES
    assert (stats.done, stats.outages, stats.late) == (6, 1, 0)
    for job in jobs:
        assert (await engine.store.get(job.id)).status is Status.DONE
        outcomes = [a.outcome.value for a in await engine.store.attempts(job.id)]
        assert outcomes == ["done"]
    assert (await engine.counts())[Status.DONE] == 6
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "jobdeck.outage"]
    assert logged[0] == ("WARNING", f"store unreachable: {DOWN[:-1]}; retrying")
    assert [level for level, _ in logged] == ["WARNING", "INFO"]
    assert not any(r.exc_info for r in caplog.records)
