"""Handlers that misbehave: the worker survives every one and the job ends with one reason.

A hang (per-kind timeout), SystemExit, KeyboardInterrupt and a non-JSON result are proved in
tests/engine/test_engine.py; here: megabytes on stdout and stderr under the real command,
GeneratorExit and a custom BaseException subclass, a handler that raises CancelledError itself,
exception names and codes that are not slugs, and evidence that is not JSON.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from jobdeck.core import Category, Engine, Registry, Status, Terminal, Worker
from jobdeck.core.store import Store
from jobdeck.storage import open_store
from tests.cli.harness import finish, query, reaped
from tests.reliability.conftest import Rig

MIB = 1024 * 1024


def test_a_worker_survives_handlers_that_print_megabytes_or_raise_base_exceptions(
    rig: Rig,
) -> None:
    hows = ["print_megabytes", "generator_exit", "custom_base_exception", "plain"]
    lines = "".join(json.dumps({"how": how}) + "\n" for how in hows)
    submitted = rig.run("submit", "rel.fault", "--from", "-", stdin=lines)
    assert submitted.code == 0, submitted.err
    ids = dict(zip(hows, submitted.lines, strict=True))

    worker = rig.spawn("worker", "--burst", "--concurrency", "1")
    with reaped(worker):
        ran = finish(worker, timeout=60)
    assert ran.code == 0, ran.err[-2000:]
    assert len(ran.out) >= 5 * MIB and len(ran.err) >= 5 * MIB
    assert "Traceback" not in ran.err
    assert ran.err_lines[-1].endswith("2 done, 2 failed, 0 retried, 0 released"), ran.err_lines[-1]

    def shown(how: str) -> dict[str, Any]:
        (row,) = query(rig.db, "SELECT * FROM jobs WHERE id = ?", (ids[how],))
        return dict(row)

    assert shown("print_megabytes")["status"] == "done"
    assert json.loads(shown("print_megabytes")["result"]) == {"printed": 10 * MIB}
    for how, code in [
        ("generator_exit", "generator_exit"),
        ("custom_base_exception", "custom_stop"),
    ]:
        job = shown(how)
        reason = json.loads(job["reason"])
        assert (job["status"], job["attempt"], reason["code"]) == ("failed", 1, code)
        assert reason["category"] == "terminal" and reason["message"].startswith("a handler raised")
    assert shown("plain")["status"] == "done"


# -- in-process: the faults that still break a worker --------------------------------------------
@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(str(tmp_path / "jobs.db"))
    yield s
    await s.close()


async def run_one(store: Store, handler: Any, *, within: float = 3.0) -> Any:
    """Submit one job of a kind whose handler is `handler` (one attempt) and run a burst worker
    on it (lease 1 s, so a job whose worker task died ends lost_lease); returns the job as it
    ended and the worker's stats."""
    registry = Registry()
    registry.kind("t.fault", max_attempts=1)(handler)
    engine = Engine(store, registry)
    job = await engine.submit("t.fault", {})
    worker = Worker(engine, burst=True, poll=0.01, lease=1, concurrency=1)
    try:
        async with asyncio.timeout(within):
            await worker.run()
    except TimeoutError:
        pytest.fail(f"the worker never finished the job: {worker.stats}")
    return await engine.get(job.id), worker.stats


async def test_a_handler_raising_cancelled_error_itself_fails_instead_of_looping(
    store: Store,
) -> None:
    async def cancels(ctx: Any, payload: Any) -> Any:
        raise asyncio.CancelledError

    job, stats = await run_one(store, cancels, within=2.0)
    assert job.status is Status.FAILED and stats.claimed == 1


class Ошибка(Exception):
    pass


class AnErrorWhoseNameIsFarTooLongToBeAReasonCodeWhenItIsTurnedIntoSnakeCase(Exception):
    pass


@pytest.mark.parametrize(
    "error", [Ошибка, AnErrorWhoseNameIsFarTooLongToBeAReasonCodeWhenItIsTurnedIntoSnakeCase]
)
async def test_an_exception_of_any_class_name_fails_with_its_own_reason(
    store: Store, error: type[Exception]
) -> None:
    async def raises(ctx: Any, payload: Any) -> Any:
        raise error("it broke")

    job, _ = await run_one(store, raises)
    assert job.status is Status.FAILED and job.reason is not None
    assert job.reason.category is Category.TERMINAL and job.attempt == 1


@pytest.mark.parametrize(
    "error",
    [Terminal("bad code", code="Not A Slug"), Terminal("bad evidence", when=object())],
    ids=["code", "evidence"],
)
async def test_a_terminal_with_a_bad_code_or_evidence_still_fails_with_one_reason(
    store: Store, error: Terminal
) -> None:
    async def raises(ctx: Any, payload: Any) -> Any:
        raise error

    job, _ = await run_one(store, raises)
    assert job.status is Status.FAILED and job.reason is not None
    assert job.reason.category is Category.TERMINAL and job.attempt == 1
