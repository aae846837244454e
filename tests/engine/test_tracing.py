"""OpenTelemetry spans, once per backend: the submit's span, each attempt's span linked to it
through the trace context stored with the job (across separate engines and stores, as across
processes), the step spans as children, and nothing of OpenTelemetry imported without it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import jobdeck
from jobdeck.core import Engine, Registry, Retryable, Terminal, Worker, demo_registry, tracing
from jobdeck.core.retry import Backoff
from jobdeck.core.store import Store
from jobdeck.storage import open_store


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span jobdeck ends during the test, through the SDK's in-memory exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.configure(provider)
    yield exporter
    tracing.configure(None)
    provider.shutdown()


def kinds() -> Registry:
    registry = Registry()

    @registry.kind("t.ok")
    async def ok(ctx: Any, payload: Any) -> Any:
        return {"ok": True}

    @registry.kind("t.steps")
    async def steps(ctx: Any, payload: Any) -> Any:
        first = await ctx.step("fetch", lambda: {"got": 1})
        return await ctx.step("store", lambda: first)

    @registry.kind("t.flaky", max_attempts=3, backoff=Backoff(0.01, 0.02))
    async def flaky(ctx: Any, payload: Any) -> Any:
        if ctx.attempt == 1:
            raise Retryable("try again", code="busy")
        return "ok"

    @registry.kind("t.bad")
    async def bad(ctx: Any, payload: Any) -> Any:
        raise Terminal("cannot", code="refused")

    return registry


async def drain(engine: Engine) -> None:
    await Worker(engine, concurrency=2, burst=True, poll=0.01, lease=10.0).run()


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def ids(contexts: Any) -> list[tuple[int, int]]:
    """(trace id, span id) of each span context: a link's is remote, the span's own is not."""
    return [(c.trace_id, c.span_id) for c in contexts]


def traceparent(span: ReadableSpan) -> str:
    ctx = span.get_span_context()
    assert ctx is not None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


async def test_an_attempt_links_to_the_submit_through_the_stored_trace_context(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    # Two engines over two stores, as a web process submitting and a worker process running.
    submitter = await open_store(db_url)
    runner = await open_store(db_url)
    try:
        job = await Engine(submitter, kinds()).submit("t.ok", {"n": 1})
        (submit,) = named(spans, "jobdeck.submit t.ok")
        assert submit.kind is SpanKind.PRODUCER
        assert submit.attributes is not None
        assert submit.attributes["jobdeck.job.id"] == job.id
        assert submit.attributes["jobdeck.job.kind"] == "t.ok"
        assert job.trace_context == traceparent(submit)
        assert (await runner.get(job.id)).trace_context == traceparent(submit)

        await drain(Engine(runner, kinds()))
    finally:
        await submitter.close()
        await runner.close()
    (run,) = named(spans, "jobdeck.run t.ok")
    assert run.kind is SpanKind.CONSUMER
    assert run.parent is None  # a link, not a parent: the attempt is a trace of its own
    assert ids(link.context for link in run.links) == ids([submit.context])
    assert dict(run.attributes or {}) == {
        "jobdeck.job.id": job.id,
        "jobdeck.job.kind": "t.ok",
        "jobdeck.attempt": 1,
        "jobdeck.outcome": "done",
    }
    assert run.status.status_code is StatusCode.UNSET


async def test_each_step_is_a_child_span_of_its_attempt(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    store = await open_store(db_url)
    try:
        engine = Engine(store, kinds())
        job = await engine.submit("t.steps", {})
        await drain(engine)
    finally:
        await store.close()
    (run,) = named(spans, "jobdeck.run t.steps")
    steps = [s for s in spans.get_finished_spans() if s.name.startswith("jobdeck.step ")]
    assert [s.name for s in steps] == ["jobdeck.step fetch", "jobdeck.step store"]
    for step in steps:
        assert step.parent is not None
        assert step.parent.span_id == run.context.span_id
        assert step.context.trace_id == run.context.trace_id
        assert step.attributes is not None
        assert step.attributes["jobdeck.job.id"] == job.id
        assert step.attributes["jobdeck.step.name"] == step.name.split(" ", 1)[1]


async def test_a_retried_and_a_failed_attempt_carry_their_outcome_and_reason(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    store = await open_store(db_url)
    try:
        engine = Engine(store, kinds())
        flaky = await engine.submit("t.flaky", {})
        await engine.submit("t.bad", {})
        await drain(engine)
    finally:
        await store.close()
    (submit,) = named(spans, "jobdeck.submit t.flaky")
    first, second = sorted(
        named(spans, "jobdeck.run t.flaky"), key=lambda s: (s.attributes or {})["jobdeck.attempt"]
    )
    for span in (first, second):  # every attempt links to the one submit
        assert ids(link.context for link in span.links) == ids([submit.context])
        assert (span.attributes or {})["jobdeck.job.id"] == flaky.id
    assert (first.attributes or {})["jobdeck.outcome"] == "retry"
    assert (first.attributes or {})["jobdeck.reason.code"] == "busy"
    assert first.status.status_code is StatusCode.ERROR
    assert (second.attributes or {})["jobdeck.outcome"] == "done"
    assert second.status.status_code is StatusCode.UNSET
    (bad,) = named(spans, "jobdeck.run t.bad")
    assert (bad.attributes or {})["jobdeck.outcome"] == "failed"
    assert (bad.attributes or {})["jobdeck.reason.code"] == "refused"
    assert bad.status.status_code is StatusCode.ERROR
    assert bad.status.description == "cannot"


def test_the_client_stores_the_trace_context_of_its_submit(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    with jobdeck.connect(db_url, registry=kinds()) as client:
        one = client.submit("t.ok", {"n": 1})
        batch = client.submit_many("t.ok", [{"n": 2}, {"n": 3}])
    single, many = named(spans, "jobdeck.submit t.ok")
    assert one.trace_context == traceparent(single)
    assert [job.trace_context for job in batch] == [traceparent(many)] * 2
    assert (many.attributes or {})["jobdeck.job.count"] == 2


async def test_without_a_recording_tracer_no_trace_context_is_stored(store: Store) -> None:
    # The API is installed but no SDK is configured: its spans record nothing.
    engine = Engine(store, kinds())
    job = await engine.submit("t.ok", {"n": 1})
    assert job.trace_context is None
    assert (await store.get(job.id)).trace_context is None


async def test_a_malformed_stored_trace_context_gives_an_attempt_without_a_link(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    store = await open_store(db_url)
    try:
        engine = Engine(store, kinds())
        job = engine.prepare("t.ok", {"n": 1}, trace_context="00-not-a-traceparent")
        await store.insert([job])
        await drain(engine)
    finally:
        await store.close()
    (run,) = named(spans, "jobdeck.run t.ok")
    assert not run.links
    assert (run.attributes or {})["jobdeck.outcome"] == "done"


# With "hide", makes opentelemetry unimportable the way a missing package is (find_spec answers
# None, an import fails); then submits and runs a job and prints what of OpenTelemetry loaded.
WITHOUT_OTEL = """
import asyncio, sys

if sys.argv[2] == "hide":
    sys.modules["opentelemetry"] = None

from jobdeck.core import Engine, Worker, demo_registry, tracing
from jobdeck.storage import open_store

async def main():
    store = await open_store(sys.argv[1])
    engine = Engine(store, demo_registry())
    job = await engine.submit("demo.echo", {"n": 1})
    await Worker(engine, burst=True, poll=0.01).run()
    done = await store.get(job.id)
    await store.close()
    return done

done = asyncio.run(main())
loaded = [m for m, v in sys.modules.items() if m.split(".")[0] == "opentelemetry" and v]
print(done.status.value, tracing.enabled(), "opentelemetry.trace" in loaded, len(loaded))
"""


def run_script(tmp_path: Path, mode: str) -> list[str]:
    script = tmp_path / "otel.py"
    script.write_text(WITHOUT_OTEL)
    ran = subprocess.run(
        [sys.executable, str(script), str(tmp_path / f"{mode}.db"), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


def test_without_opentelemetry_nothing_of_it_is_imported(tmp_path: Path) -> None:
    assert run_script(tmp_path, "hide") == ["done", "False", "False", "0"]
    # The same run with the package there does import it: the check above can fail.
    shown = run_script(tmp_path, "show")
    assert shown[:3] == ["done", "True", "True"]


# Submits one job from its own process with the SDK recording, and prints the submit span's
# trace and span ids.
SUBMITTER = """
import asyncio, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from jobdeck.core import Engine, demo_registry
from jobdeck.storage import open_store

async def main():
    store = await open_store(sys.argv[1])
    await Engine(store, demo_registry()).submit("demo.echo", {"from": "another process"})
    await store.close()

asyncio.run(main())
(span,) = exporter.get_finished_spans()
print(span.name, span.context.trace_id, span.context.span_id)
"""


def test_an_attempt_links_to_a_submit_made_in_another_process(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    db = tmp_path / "jobs.db"
    script = tmp_path / "submitter.py"
    script.write_text(SUBMITTER)
    ran = subprocess.run(
        [sys.executable, str(script), str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    name, trace_id, span_id = ran.stdout.strip().splitlines()[-1].rsplit(" ", 2)
    assert name == "jobdeck.submit demo.echo"

    async def work() -> None:
        store = await open_store(str(db))
        try:
            await drain(Engine(store, demo_registry()))
        finally:
            await store.close()

    asyncio.run(work())
    (run,) = named(spans, "jobdeck.run demo.echo")
    assert ids(link.context for link in run.links) == [(int(trace_id), int(span_id))]
    assert run.context.trace_id != int(trace_id)  # its own trace, linked to the request's


async def test_a_rerun_is_a_submit_with_a_trace_context_of_its_own(
    db_url: str, spans: InMemorySpanExporter
) -> None:
    store = await open_store(db_url)
    try:
        engine = Engine(store, kinds())
        original = await engine.submit("t.bad", {})
        await drain(engine)
        again = await engine.rerun(original.id)
        await drain(engine)
    finally:
        await store.close()
    first, second = named(spans, "jobdeck.submit t.bad")
    assert original.trace_context == traceparent(first)
    assert again.trace_context == traceparent(second)
    assert (second.attributes or {})["jobdeck.job.id"] == again.id
    runs = {(s.attributes or {})["jobdeck.job.id"]: s for s in named(spans, "jobdeck.run t.bad")}
    assert ids(link.context for link in runs[again.id].links) == ids([second.context])
