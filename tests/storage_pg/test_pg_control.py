"""Operator control on PostgreSQL across processes: a cancel reaches the worker of a running job
through NOTIFY (the worker's own poll would take its lease / 3 = 10 s with the default lease),
and a pause is obeyed by a worker in another process."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.cli.harness import REPO, finish, jobdeck, reaped, spawn, wait_until
from tests.reliability.kinds import read_log, read_notes

from .conftest import sql

HANDLERS = ("--handlers", "tests.reliability.kinds:registry")
CANCEL_BOUND = 6.0  # well below the 10 s a poll or a heartbeat would take


async def _status(pg_url: str, job: str) -> str:
    rows = await sql(pg_url, "SELECT status FROM jobs WHERE id = $1", job)
    return str(rows[0][0])


def _status_now(pg_url: str, job: str) -> str:
    import asyncio

    return asyncio.run(_status(pg_url, job))


def test_a_cancel_reaches_a_worker_process_through_notify(pg_url: str, tmp_path: Path) -> None:
    env = {"JOBDECK_TEST_LOG": str(tmp_path / "executions.log")}

    def run(*args: str) -> str:
        ran = jobdeck(pg_url, *HANDLERS, *args, cwd=REPO, env=env)
        assert ran.code == 0, ran.err
        return ran.out.strip()

    job = run("submit", "rel.steps_then_wait", "{}")
    worker = spawn(pg_url, *HANDLERS, "worker", cwd=REPO, env=env)
    with reaped(worker):
        wait_until(lambda: any(j == job for j, _, _ in read_log(env["JOBDECK_TEST_LOG"])))
        run("cancel", job, "--reason", "stop now")
        wait_until(
            lambda: _status_now(pg_url, job) == "failed",
            timeout=CANCEL_BOUND,
            what="the worker to record the cancel",
        )
        held = run("pause", "rel.record")
        assert held.startswith("kind rel.record paused")
        queued = run("submit", "rel.record", "{}")
        other = run("submit", "rel.hang_first", "{}")
        wait_until(lambda: any(j == other for j, _, _ in read_log(env["JOBDECK_TEST_LOG"])))
        assert _status_now(pg_url, queued) == "queued"
        run("resume", "rel.record")
        wait_until(lambda: _status_now(pg_url, queued) == "done", what="the resumed kind")
        worker.send_signal(signal.SIGTERM)
        worker.send_signal(signal.SIGTERM)
        finish(worker)
    notes = [what for j, what in read_notes(env["JOBDECK_TEST_LOG"]) if j == job]
    assert notes == ["debit", "hold", "undo:hold", "undo:debit"]


async def test_a_requeue_never_slips_past_a_cancel_request_being_written(pg_url: str) -> None:
    """Under read committed a requeue could miss a cancel request not yet committed; both take
    the job's cancel lock first, so the requeue waits for the request and then loses."""
    import asyncio

    import asyncpg

    from jobdeck.core import Engine, demo_registry
    from jobdeck.core.contract import Category, Reason, Requeue, transition
    from jobdeck.core.store import Change
    from jobdeck.storage import open_store
    from jobdeck.storage.postgres import queries as q

    store = await open_store(pg_url)
    try:
        engine = Engine(store, demo_registry())
        job = await engine.submit("demo.echo", {"n": 1})
        (claimed,) = await store.claim("w1", [], 1, engine.clock(), 30)
        conn = await asyncpg.connect(pg_url, server_settings={"search_path": "jobdeck"})
        try:
            writing = conn.transaction()
            await writing.start()
            await conn.execute(q.LOCK_CANCELS, [job.id])
            await conn.fetchrow(q.INSERT_CANCEL, job.id, claimed.job.attempt, None, "ops", 0.0)
            why = Reason(code="later", message="later", category=Category.RETRYABLE)
            now = engine.clock()
            back = transition(claimed.job, Requeue(why, now, now))
            requeue = asyncio.create_task(store.apply([Change(claimed.job, back)]))
            await asyncio.sleep(0.3)  # the requeue runs while the request is uncommitted
            await writing.commit()
            assert await requeue == [False]
        finally:
            await conn.close()
        assert (await engine.get(job.id)).status.value == "running"
    finally:
        await store.close()
