"""`jobdeck workers` and `jobdeck stats`: what they show, that stored text is shown escaped, and
the bad input of --since: one sentence, exit 2."""

from __future__ import annotations

import signal
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from tests.cli.harness import assert_one_error, finish, jobdeck, reaped, spawn


def test_stats_counts_rates_and_run_times_per_kind(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    for i in range(3):
        assert jobdeck(db, "submit", "demo.echo", f'{{"n": {i}}}').code == 0
    flaky = jobdeck(db, "submit", "demo.flaky", '{"fail_times": 9}', "--max-attempts", "2")
    assert flaky.code == 0
    assert jobdeck(db, "submit", "demo.charge", '{"amount": 5}').code == 0  # denied: no id
    assert jobdeck(db, "worker", "--burst").code == 0
    ran = jobdeck(db, "stats", "--json")
    assert ran.code == 0, ran.err
    stats = {s["kind"]: s for s in ran.json()}
    assert stats["demo.echo"]["counts"] == {"queued": 0, "running": 0, "done": 3, "failed": 0}
    assert stats["demo.echo"]["done_per_min"]["1m"] == 3.0
    assert stats["demo.echo"]["failure_rate"] == 0.0
    assert stats["demo.echo"]["run_time"]["p50"] is not None
    assert stats["demo.flaky"]["failure_rate"] == 1.0
    assert stats["demo.charge"]["failed_per_min"]["1m"] == 1.0  # a denial counts as failed
    assert stats["demo.charge"]["run_time"]["p50"] is None  # it never ran
    text = jobdeck(db, "stats", "--since", "1h")
    assert text.code == 0, text.err
    assert text.lines[0].split()[:5] == ["kind", "queued", "running", "done", "failed"]
    assert "failed 1h" in text.lines[0]
    assert [line.split()[0] for line in text.lines[1:]] == [
        "demo.charge",
        "demo.echo",
        "demo.flaky",
    ]
    only = jobdeck(db, "stats", "--kind", "demo.echo", "--json")
    assert [s["kind"] for s in only.json()] == ["demo.echo"]


def test_stats_shows_no_wait_for_a_kind_whose_queued_jobs_are_all_scheduled_later(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.db"
    assert jobdeck(db, "submit", "demo.echo", '{"n": 1}', "--in", "2h").code == 0
    assert jobdeck(db, "submit", "demo.flaky", '{"fail_times": 0}').code == 0
    stats = {s["kind"]: s for s in jobdeck(db, "stats", "--json").json()}
    assert stats["demo.echo"]["counts"]["queued"] == 1
    assert stats["demo.echo"]["oldest_queued_wait"] is None  # nobody waits: it is not due
    assert stats["demo.flaky"]["oldest_queued_wait"] >= 0  # ready, so waiting
    text = jobdeck(db, "stats")
    assert text.code == 0, text.err
    echo = next(line for line in text.lines if line.startswith("demo.echo"))
    assert echo.split()[-1] == "-"


@pytest.mark.parametrize(
    ("since", "words"),
    [
        ("-5m", "duration"),
        ("forever", "duration"),
        ("0s", "longer than 0"),
        ("2d", "at most 24h"),
        ("1h\x1b[2J", "duration"),
    ],
)
def test_stats_refuses_a_window_it_cannot_answer_in_one_sentence(
    tmp_path: Path, since: str, words: str
) -> None:
    db = tmp_path / "jobs.db"
    message = assert_one_error(jobdeck(db, "stats", "--since", since), code=2)
    assert words in message
    assert "\x1b" not in message


def test_workers_shows_a_running_worker_and_forgets_it_when_it_stops(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    assert jobdeck(db, "submit", "demo.sleep", '{"seconds": 30}').code == 0
    worker = spawn(db, "worker", "--concurrency", "3", "--lease", "20")
    with reaped(worker):
        deadline = time.monotonic() + 20
        found: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            found = jobdeck(db, "workers", "--json").json()
            if found and found[0]["running"] == 1:
                break
            time.sleep(0.2)
        assert len(found) == 1, found
        (w,) = found
        assert (w["host"], w["pid"], w["concurrency"], w["lease"]) == (
            socket.gethostname(),
            worker.pid,
            3,
            20.0,
        )
        assert w["gone"] is False and "demo.sleep" in w["kinds"]  # type: ignore[operator]
        text = jobdeck(db, "workers")
        assert text.code == 0 and "1/3" in text.out and str(worker.pid) in text.out
        worker.send_signal(signal.SIGTERM)
        worker.send_signal(signal.SIGTERM)  # a second signal releases the sleeping job now
        assert finish(worker).code == 0
    assert jobdeck(db, "workers", "--json").json() == []


def test_a_worker_row_from_a_newer_jobdeck_or_a_hostile_host_is_shown_escaped(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.db"
    assert jobdeck(db, "submit", "demo.echo", "{}").code == 0
    now = time.time()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO workers (name, last_seen, host, pid, version, started_at, lease, "
            "concurrency, kinds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("w\x07one", now, "evil\x1b[2J\nhost", "lots", "99.0+future", now - 90, 30, 4, "{}"),
        )
        conn.execute(
            "INSERT INTO workers (name, last_seen, lease) VALUES ('old', ?, 10)", (now - 100,)
        )
    ran = jobdeck(db, "workers")
    assert ran.code == 0, ran.err
    assert "\x1b" not in ran.out and "\x07" not in ran.out
    assert "evil\\x1b[2J\\nhost" in ran.out and "99.0+future" in ran.out
    assert len(ran.lines) == 3  # a header and one line a worker: the newline stayed escaped
    assert "old  (gone)" in ran.out
    doc = {w["name"]: w for w in jobdeck(db, "workers", "--json").json()}
    assert doc["w\x07one"]["pid"] == 0 and doc["w\x07one"]["kinds"] == []
    assert doc["old"]["gone"] is True
    status = jobdeck(db, "status", "--json")
    assert status.code == 0
