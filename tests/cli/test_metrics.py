"""`jobdeck metrics` and `jobdeck worker --metrics-listen`: a running endpoint scraped over HTTP
and read with prometheus-client's parser, its numbers after a success and a forced failure, and
the bad addresses: one sentence, exit 2, nothing served."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.harness import Ran, assert_one_error, finish, jobdeck, reaped, spawn

SECRET = "payload-text-never-served"


def started(proc: subprocess.Popen[bytes]) -> str:
    """The URL the command says it serves at (its first stderr line)."""
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    assert line.startswith("jobdeck: serving metrics at http://"), line
    return line.rsplit(" ", 1)[1].strip()


@contextmanager
def serving(db: Path, *args: str) -> Iterator[str]:
    """Run a command that serves metrics on a free port; its URL, and SIGTERM on the way out
    (it must exit 0)."""
    proc = spawn(db, *args)
    with reaped(proc):
        url = started(proc)
        yield url
        proc.send_signal(signal.SIGTERM)
        ran = finish(proc)
        assert ran.code == 0, ran.err


def scrape(url: str) -> tuple[str, dict[str, Any]]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        text = answer.read().decode()
    return text, {f.name: f for f in text_string_to_metric_families(text)}


def sample(families: dict[str, Any], name: str, **labels: str) -> float:
    """The one sample `name` with exactly these labels (a counter's or histogram's suffixed
    sample is found in its family)."""
    base = name
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        base = base.removesuffix(suffix)
    family = families[name if name in families else base]
    found = [s.value for s in family.samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, family.samples)
    return float(found[0])


def submitted(db: Path, kind: str, payload: str) -> str:
    ran = jobdeck(db, "submit", kind, payload, "--json")
    assert ran.code == 0, ran.err
    job_id: str = ran.json()["id"]
    return job_id


def test_the_endpoint_counts_a_success_and_a_forced_failure(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    submitted(db, "demo.echo", f'{{"note": "{SECRET}"}}')
    doomed = submitted(db, "demo.echo", '{"n": 2}')
    assert jobdeck(db, "fail", doomed, "--terminal").code == 0
    # Denied by a gate: a charge without an id.
    submitted(db, "demo.charge", '{"amount": 5, "currency": "EUR"}')
    with serving(db, "metrics", "--listen", "127.0.0.1:0") as url:
        _, before = scrape(url)
        assert sample(before, "jobdeck_up") == 1
        assert sample(before, "jobdeck_queue_depth", kind="demo.echo") == 2
        assert sample(before, "jobdeck_oldest_queued_age_seconds", kind="demo.echo") >= 0
        assert sample(before, "jobdeck_jobs_denied_total", kind="demo.charge", code="missing_id")
        ran = jobdeck(db, "worker", "--burst", "--kind", "demo.echo", "--concurrency", "1")
        assert ran.code == 0, ran.err
        text, after = scrape(url)
    assert sample(after, "jobdeck_jobs_done_total", kind="demo.echo") == 1
    assert sample(after, "jobdeck_jobs", kind="demo.echo", status="done") == 1
    assert sample(after, "jobdeck_jobs", kind="demo.echo", status="failed") == 1
    failed = sample(after, "jobdeck_jobs_failed_total", kind="demo.echo", code="injected_terminal")
    assert failed == 1
    assert sample(after, "jobdeck_jobs_denied_total", kind="demo.charge", code="missing_id") == 1
    assert sample(after, "jobdeck_queue_depth", kind="demo.echo") == 0
    assert sample(after, "jobdeck_oldest_queued_age_seconds", kind="demo.echo") == 0
    count = sample(after, "jobdeck_job_run_seconds_count", kind="demo.echo", outcome="done")
    assert count == 1
    inf = sample(
        after, "jobdeck_job_run_seconds_bucket", kind="demo.echo", outcome="done", le="+Inf"
    )
    assert inf == 1
    assert SECRET not in text and doomed not in text  # never a payload, never an id


def test_only_metrics_is_served(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    submitted(db, "demo.echo", "{}")
    with serving(db, "metrics", "--listen", "127.0.0.1:0") as url:
        root = url.removesuffix("/metrics")
        with urllib.request.urlopen(root + "/", timeout=10) as answer:
            assert "/metrics" in answer.read().decode()
        for other in ("/jobs", "/metrics/", "/favicon.ico"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(root + other, timeout=10)
            assert err.value.code == 404


def test_a_worker_serves_the_same_metrics_beside_its_work(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    submitted(db, "demo.echo", "{}")
    with serving(db, "worker", "--metrics-listen", "127.0.0.1:0") as url:
        for _ in range(200):  # the worker registers and runs the job soon after it listens
            _, families = scrape(url)
            if sample(families, "jobdeck_jobs", kind="demo.echo", status="done") == 1:
                break
        assert sample(families, "jobdeck_workers_alive") == 1
        assert sample(families, "jobdeck_jobs_done_total", kind="demo.echo") == 1


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("127.0.0.1:99999", "port 99999; a port is 0 to 65535"),
        ("127.0.0.1:-1", "wants HOST:PORT"),
        ("127.0.0.1", "wants HOST:PORT"),
        ("localhost:http", "wants HOST:PORT"),
        ("::1:9108", "wants HOST:PORT"),
        ("no-such-host.invalid:9108", "no such host"),
    ],
)
def test_a_bad_listen_address_is_one_sentence_exit_2(
    tmp_path: Path, address: str, says: str
) -> None:
    db = tmp_path / "jobs.db"
    submitted(db, "demo.echo", "{}")
    for args in (("metrics", "--listen", address), ("worker", "--metrics-listen", address)):
        ran: Ran = jobdeck(db, *args)
        assert says in assert_one_error(ran, 2), ran.err
    # The worker refused before it ran anything.
    assert "queued   1" in jobdeck(db, "status").out


def test_a_port_in_use_is_one_sentence_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    submitted(db, "demo.echo", "{}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = jobdeck(db, "metrics", "--listen", f"127.0.0.1:{port}")
    line = assert_one_error(ran, 2)
    assert line == f"jobdeck: cannot listen on 127.0.0.1:{port}: the port is already in use."


def test_metrics_of_a_database_that_does_not_exist_is_one_sentence(tmp_path: Path) -> None:
    ran = jobdeck(tmp_path / "none.db", "metrics", "--listen", "127.0.0.1:0")
    assert "there is no database" in assert_one_error(ran, 5)
