"""The synchronous Client on a real database, once per backend: the engine's rules through blocking
calls, shared by threads, and called from a thread whose event loop is running."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import jobdeck
from jobdeck.core import Category, Engine, Status, demo_registry
from jobdeck.core.errors import (
    InvalidInput,
    JobdeckError,
    NotFound,
    StorageError,
    TransitionError,
    WaitTimeout,
)
from jobdeck.storage import open_store
from tests.engine.conftest import drain


@pytest.fixture
def client(db_url: str) -> Iterator[jobdeck.Client]:
    with jobdeck.connect(db_url, registry=demo_registry()) as c:
        yield c


def _drain_in_a_thread(db_url: str) -> None:
    """Run a burst worker to the end on its own thread and loop, as a worker process would."""

    async def run() -> None:
        store = await open_store(db_url)
        try:
            await drain(Engine(store, demo_registry()))
        finally:
            await store.close()

    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join()


def test_submit_stores_a_queued_job_that_get_reads_back(client: jobdeck.Client) -> None:
    job = client.submit("demo.echo", {"a": 1})
    assert job.status is Status.QUEUED and job.attempt == 0
    assert client.get(job.id) == job
    assert client.get(job.id[-6:]).id == job.id
    assert client.counts()[Status.QUEUED] == 1


def test_a_denied_submit_is_stored_failed_with_its_one_reason(client: jobdeck.Client) -> None:
    job = client.submit("demo.charge", {"amount": 5, "currency": "EUR"})
    assert job.status is Status.FAILED
    assert job.reason is not None and job.reason.code == "missing_id"
    assert job.reason.category is Category.DENIED
    assert client.get(job.id).reason == job.reason


def test_the_same_key_answers_the_live_job_instead_of_a_second(client: jobdeck.Client) -> None:
    first = client.submit("demo.echo", {"a": 1})
    again = client.submit("demo.echo", {"a": 1})
    keyed = client.submit("demo.echo", {"b": 2}, key="order-7")
    assert again.id == first.id
    assert client.submit("demo.echo", {"c": 3}, key="order-7").id == keyed.id
    assert client.counts()[Status.QUEUED] == 2


def test_submit_many_refuses_a_bad_payload_by_position_and_stores_nothing(
    client: jobdeck.Client,
) -> None:
    with pytest.raises(InvalidInput, match="payload 2"):
        client.submit_many("demo.echo", [{"a": 1}, [1, 2], {"a": 3}])
    with pytest.raises(NotFound, match="unknown kind"):
        client.submit("nope", {})
    assert sum(client.counts().values()) == 0
    jobs = client.submit_many("demo.echo", [{"n": n} for n in range(5)])
    assert [job.payload["n"] for job in jobs] == list(range(5))


def test_wait_returns_the_finished_job_and_rerun_links_a_new_one(
    client: jobdeck.Client, db_url: str
) -> None:
    job = client.submit("demo.echo", {"a": 1})
    with pytest.raises(WaitTimeout, match="still queued"):
        client.wait(job.id, timeout=0)
    _drain_in_a_thread(db_url)
    done = client.wait(job.id, timeout=60)
    assert (done.status, done.result) == (Status.DONE, {"a": 1})
    again = client.rerun(job.id)
    assert again.rerun_of == job.id and again.id != job.id and again.status is Status.QUEUED


def test_threads_sharing_one_client_each_get_their_own_jobs(client: jobdeck.Client) -> None:
    results: dict[int, list[str]] = {}
    same_key: list[str] = []
    start = threading.Barrier(8)

    def submit(n: int) -> None:
        start.wait()
        results[n] = [client.submit("demo.echo", {"t": n, "i": i}).id for i in range(25)]
        same_key.append(client.submit("demo.echo", {"shared": True}).id)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [job_id for n in range(8) for job_id in results[n]]
    assert len(set(ids)) == 200
    assert len(set(same_key)) == 1  # eight threads, one key: one job
    for n in range(8):
        assert [client.get(job_id).payload["i"] for job_id in results[n]] == list(range(25))
    assert client.counts()[Status.QUEUED] == 201


async def test_a_client_works_from_a_thread_whose_loop_is_running(db_url: str) -> None:
    asyncio.get_running_loop()  # this test body runs on a running loop's thread
    with jobdeck.connect(db_url, registry=demo_registry()) as client:
        job = client.submit("demo.echo", {"in": "a loop"})
        assert client.get(job.id).payload == {"in": "a loop"}
        assert client.counts()[Status.QUEUED] == 1


def test_a_closed_client_says_so(db_url: str) -> None:
    client = jobdeck.connect(db_url, registry=demo_registry())
    client.close()
    client.close()  # twice is harmless
    with pytest.raises(StorageError, match="closed"):
        client.submit("demo.echo", {})


# -- bad input ---------------------------------------------------------------------------------


def _one_sentence(err: JobdeckError) -> str:
    text = str(err)
    assert "\n" not in text and text.endswith(".")
    return text


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("", "empty"),
        ("mysql://localhost/jobs", "not a database jobdeck can open"),
        ("folder", "is a directory"),
        ("no/such/folder/jobs.db", "does not exist"),
    ],
)
def test_connect_refuses_what_is_no_database_in_one_sentence(
    tmp_path: Path, where: str, words: str
) -> None:
    (tmp_path / "folder").mkdir()
    target = str(tmp_path / where) if where in ("folder", "no/such/folder/jobs.db") else where
    with pytest.raises(StorageError) as caught:
        jobdeck.connect(target, registry=demo_registry())
    assert words in _one_sentence(caught.value)


def test_connect_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello, this is no database\n")
    with pytest.raises(StorageError) as caught:
        jobdeck.connect(other, registry=demo_registry())
    assert "not a jobdeck database" in _one_sentence(caught.value)


def test_connect_refuses_a_registry_that_is_not_a_registry(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        jobdeck.connect(str(tmp_path / "jobs.db"), registry={"demo.echo": None})  # type: ignore[arg-type]
    assert "jobdeck.Registry" in _one_sentence(caught.value)
    with pytest.raises(InvalidInput) as caught:
        jobdeck.connect(None, registry=demo_registry())  # type: ignore[arg-type]
    _one_sentence(caught.value)
    assert not (tmp_path / "jobs.db").exists()


@pytest.mark.parametrize("timeout", [-1, float("nan"), float("inf"), "5"])
def test_wait_refuses_a_timeout_that_is_no_duration(
    client: jobdeck.Client, timeout: object
) -> None:
    job = client.submit("demo.echo", {})
    with pytest.raises(InvalidInput) as caught:
        client.wait(job.id, timeout=timeout)  # type: ignore[arg-type]
    assert "zero or more seconds" in _one_sentence(caught.value)


DEEP: object = 1
for _ in range(40):
    DEEP = [DEEP]


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("demo.echo", [1]),
        ("demo.echo", {"bad": float("nan")}),
        ("demo.echo", {"deep": DEEP}),
        ("demo.echo", {"nul": "a\x00b"}),
        ("nope", {}),
    ],
)
async def test_the_client_refuses_what_the_engine_refuses_in_the_same_words(
    db_url: str, kind: str, payload: object
) -> None:
    store = await open_store(db_url)
    try:
        with pytest.raises(JobdeckError) as by_engine:
            await Engine(store, demo_registry()).submit(kind, payload)
    finally:
        await store.close()
    with jobdeck.connect(db_url, registry=demo_registry()) as client:
        with pytest.raises(JobdeckError) as by_client:
            client.submit(kind, payload)
        assert sum(client.counts().values()) == 0
    assert type(by_client.value) is type(by_engine.value)
    assert str(by_client.value) == str(by_engine.value)


def test_an_unreachable_postgresql_server_is_one_sentence_and_leaves_no_thread() -> None:
    before = threading.active_count()
    with pytest.raises(StorageError) as caught:
        jobdeck.connect("postgresql://nobody@127.0.0.1:1/jobs", registry=demo_registry())
    assert "127.0.0.1:1" in _one_sentence(caught.value)
    assert threading.active_count() == before


def test_a_client_carried_across_a_fork_says_so_in_the_child(db_url: str) -> None:
    client = jobdeck.connect(db_url, registry=demo_registry())
    try:
        client.submit("demo.echo", {"before": "the fork"})
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one line back through the pipe, then out without cleanup
            try:
                client.submit("demo.echo", {"in": "the child"})
                answer = "no error"
            except StorageError as err:
                answer = str(err)
            client.close()  # harmless in the child: it leaves the parent's connections alone
            os.write(write, answer.encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        with os.fdopen(read) as pipe:
            assert "connect again in each process" in pipe.read()
        assert client.counts()[Status.QUEUED] == 1  # and the parent carries on
    finally:
        client.close()


def test_cancel_ends_a_queued_job_by_the_engines_rule_and_frees_its_key(
    client: jobdeck.Client,
) -> None:
    job = client.submit("demo.echo", {"a": 1})
    gone = client.cancel(job.id[-6:], reason="wrong customer", by="ops")
    assert gone.status is Status.FAILED and gone.reason is not None
    assert (gone.reason.code, gone.reason.category) == ("cancelled", Category.CANCELLED)
    assert client.get(job.id) == gone
    assert client.submit("demo.echo", {"a": 1}).id != job.id  # the key is free again
    with pytest.raises(TransitionError, match="already failed"):
        client.cancel(job.id)
    with pytest.raises(NotFound):
        client.cancel("0" * 26)


def test_cancel_stops_a_running_job_through_its_worker(db_url: str, client: jobdeck.Client) -> None:
    job = client.submit("demo.sleep", {"seconds": 30})
    worker = threading.Thread(target=_drain_in_a_thread, args=(db_url,))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while client.get(job.id).status is not Status.RUNNING:
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.02)
        assert client.cancel(job.id).status is Status.RUNNING  # its worker stops it
        done = client.wait(job.id, timeout=10)
    finally:
        worker.join(30)
    assert done.status is Status.FAILED and done.reason is not None
    assert done.reason.code == "cancelled"


def test_submit_takes_a_priority_by_the_engines_rule(client: jobdeck.Client) -> None:
    assert client.submit("demo.echo", {"a": 1}, priority=7).priority == 7
    assert [j.priority for j in client.submit_many("demo.echo", [{"b": 1}], priority=-3)] == [-3]
    with pytest.raises(InvalidInput, match="priority"):
        client.submit("demo.echo", {"a": 2}, priority=101)
    assert client.counts()[Status.QUEUED] == 2
