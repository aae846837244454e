"""The Prometheus endpoint over a real store, once per backend: a scrape over HTTP served from a
thread while the reads run on the store's event loop, the counters after successes, failures,
retries, denials and a lease recovery, parsed with prometheus-client's parser."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from jobdeck.core import Engine, Registry, Retryable, Terminal, Worker
from jobdeck.core.contract import Status
from jobdeck.core.metrics import StoreCollector, on_loop, read, serve
from jobdeck.core.retry import Backoff
from jobdeck.core.store import Store
from jobdeck.storage import open_store


def kinds() -> Registry:
    registry = Registry()

    @registry.kind("m.ok")
    async def ok(ctx: Any, payload: Any) -> Any:
        return None

    @registry.kind("m.flaky", max_attempts=2, backoff=Backoff(0.01, 0.02))
    async def flaky(ctx: Any, payload: Any) -> Any:
        if ctx.attempt == 1:
            raise Retryable("later", code="busy")

    @registry.kind("m.bad")
    async def bad(ctx: Any, payload: Any) -> Any:
        raise Terminal("no", code="refused")

    return registry


def fetch(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Scrape `url` and answer every sample by (name, sorted labels)."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_scrape_over_http_counts_what_the_workers_did(store: Store) -> None:
    engine = Engine(store, kinds())
    await engine.submit_many("m.ok", [{"n": 1}, {"n": 2}])
    await engine.submit("m.ok", {"n": 3})
    await engine.submit("m.flaky", {})
    await engine.submit("m.bad", {})
    await Worker(engine, burst=True, poll=0.01).run()
    await engine.submit("m.ok", {"later": True}, delay=3600)  # after the drain: it waits

    server = serve(store, asyncio.get_running_loop(), "127.0.0.1", 0)
    try:
        # The scrape blocks its thread while the reads run on this loop.
        got = await asyncio.to_thread(fetch, server.url)
    finally:
        await asyncio.to_thread(server.close)

    assert got[("jobdeck_up", ())] == 1
    assert got[("jobdeck_jobs_done_total", (("kind", "m.ok"),))] == 3
    assert got[("jobdeck_jobs_done_total", (("kind", "m.flaky"),))] == 1
    assert got[("jobdeck_jobs_retried_total", (("code", "busy"), ("kind", "m.flaky")))] == 1
    assert got[("jobdeck_jobs_failed_total", (("code", "refused"), ("kind", "m.bad")))] == 1
    assert got[("jobdeck_jobs", (("kind", "m.ok"), ("status", "queued")))] == 1
    assert got[("jobdeck_queue_depth", (("kind", "m.ok"),))] == 1
    # The queued job waits for a later time: nothing ready waits yet.
    assert got[("jobdeck_oldest_queued_age_seconds", (("kind", "m.ok"),))] == 0
    done = (("kind", "m.ok"), ("outcome", "done"))
    assert got[("jobdeck_job_run_seconds_count", done)] == 3
    assert got[("jobdeck_job_run_seconds_bucket", (*done[:1], ("le", "+Inf"), done[1]))] == 3
    assert got[("jobdeck_workers_alive", ())] == 0  # the burst worker has left


async def test_a_lease_recovery_is_counted(store: Store) -> None:
    now = [1_800_000_000.0]
    engine = Engine(store, kinds(), clock=lambda: now[0])
    job = await engine.submit("m.ok", {})
    (claimed,) = await store.claim("gone-worker", [], 1, now[0], 5.0)
    assert claimed.job.id == job.id
    now[0] += 60  # the worker never renewed its lease
    assert await engine.recover() == 1
    snapshot = await read(store, now[0])
    from jobdeck.core.metrics import families

    by_name = {f.name: f for f in families(snapshot)}
    (recovered,) = by_name["jobdeck_lease_recoveries"].samples
    assert recovered.labels == {"kind": "m.ok"} and recovered.value == 1
    (retried,) = by_name["jobdeck_jobs_retried"].samples
    assert retried.labels == {"kind": "m.ok", "code": "lost_lease"}
    assert snapshot.kind_counts["m.ok"][Status.QUEUED] == 1
    # The requeued job is ready after its back-off: its wait is measured from then.
    assert snapshot.oldest_queued["m.ok"] > now[0] - 60


async def test_a_read_only_store_answers_a_scrape(db_url: str, store: Store) -> None:
    # `jobdeck metrics` opens the database read-only: every read a scrape makes must work so.
    engine = Engine(store, kinds())
    await engine.submit("m.bad", {})
    await Worker(engine, burst=True, poll=0.01).run()
    reader = await open_store(db_url, read_only=True, create=False)
    try:
        collector = StoreCollector(on_loop(reader, asyncio.get_running_loop(), timeout=30))
        got = {f.name: f for f in await asyncio.to_thread(lambda: list(collector.collect()))}
    finally:
        await reader.close()
    assert got["jobdeck_up"].samples[0].value == 1
    (failed,) = got["jobdeck_jobs_failed"].samples
    assert failed.labels == {"kind": "m.bad", "code": "refused"} and failed.value == 1
