"""The command line's time: `submit --in/--at`, `list --scheduled`, `show`'s run after and
`schedules` with pause and resume, each through the real command in a subprocess."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.harness import Ran, assert_one_error, job_count, jobdeck, query, snapshot

HANDLERS = """
from jobdeck.core import Registry

registry = Registry()


@registry.kind("reports.nightly", schedule="0 3 * * *", tz="Europe/Paris")
async def nightly(ctx, payload):
    return "sent"


registry.every("reports.nightly", "*/5 * * * *", name="reports.often", payload={"n": 1})
"""


def run_after(db: Path, job_id: str) -> float:
    (row,) = query(db, "SELECT run_after, created_at FROM jobs WHERE id = ?", (job_id,))
    return float(row["run_after"]) - float(row["created_at"])


def test_submit_in_keeps_the_job_queued_for_that_long(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", '{"n": 1}', "--in", "1h30m", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert doc["status"] == "queued"
    assert run_after(db, doc["id"]) == pytest.approx(5400, abs=1e-3)
    assert doc["run_after"].endswith("Z")


def test_submit_at_takes_an_offset_and_stores_the_utc_instant(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", "{}", "--at", "2999-12-01T10:00:00+01:00")
    assert ran.code == 0, ran.err
    (row,) = query(db, "SELECT run_after FROM jobs WHERE id = ?", (ran.out.strip(),))
    assert row["run_after"] == datetime(2999, 12, 1, 9, tzinfo=UTC).timestamp()


def test_a_time_in_the_past_runs_as_soon_as_a_worker_is_free(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", "{}", "--at", "2001-01-01T00:00:00Z")
    assert ran.code == 0, ran.err
    assert run_after(db, ran.out.strip()) == 0
    assert jobdeck(db, "list", "--scheduled").out == ""


def test_submit_from_a_file_delays_the_whole_batch(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(
        db, "submit", "demo.echo", "--from", "-", "--in", "15m", stdin='{"a":1}\n{"a":2}\n'
    )
    assert ran.code == 0, ran.err
    ids = ran.lines
    assert len(ids) == 2
    assert [run_after(db, i) for i in ids] == [pytest.approx(900, abs=1e-3)] * 2


@pytest.mark.parametrize(
    "flags",
    [
        ["--in=-5s"],
        ["--in", "5 parsecs"],
        ["--in", "1e400s"],
        ["--in", "90"],
        ["--in", "200y"],
        ["--at", "tomorrow"],
        ["--at", "2026-12-01T09:00:00"],
        ["--at", "10000-01-01T00:00:00Z"],
        ["--at", "9999-12-31T23:00:00-05:00"],
        ["--in", "5m", "--at", "2026-12-01T09:00:00Z"],
    ],
    ids=lambda flags: " ".join(flags),
)
def test_a_bad_time_is_one_sentence_exit_2_and_stores_nothing(
    tmp_path: Path, flags: list[str]
) -> None:
    db = tmp_path / "jobs.db"
    assert jobdeck(db, "submit", "demo.echo", '{"seed": 1}').code == 0
    before = snapshot(db)
    ran = jobdeck(db, "submit", "demo.echo", '{"n": 2}', *flags)
    assert_one_error(ran, 2)
    assert snapshot(db) == before
    assert job_count(db) == 1


def test_list_scheduled_shows_jobs_not_yet_due_soonest_first(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    late = jobdeck(db, "submit", "demo.echo", '{"n": 1}', "--in", "2h").out.strip()
    soon = jobdeck(db, "submit", "demo.echo", '{"n": 2}', "--in", "5m").out.strip()
    due = jobdeck(db, "submit", "demo.echo", '{"n": 3}').out.strip()
    ran = jobdeck(db, "list", "--scheduled", "--json")
    assert ran.code == 0, ran.err
    assert [j["id"] for j in ran.json()] == [soon, late]
    text = jobdeck(db, "list", "--scheduled")
    assert [line.split()[0] for line in text.lines] == [soon, late]
    assert all("runs at" in line for line in text.lines)
    assert due not in text.out
    # The engine path (any --handlers module) answers the same as the quick path.
    (tmp_path / "none.py").write_text("from jobdeck.core import Registry\nregistry = Registry()\n")
    engine = jobdeck(
        db, "--handlers", "none:registry", "list", "--scheduled", "--json", cwd=tmp_path
    )
    assert engine.code == 0, engine.err
    assert engine.json() == ran.json()


def test_show_says_when_a_scheduled_job_runs(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    job_id = jobdeck(db, "submit", "demo.echo", "{}", "--at", "2999-01-01T00:00:00Z").out.strip()
    shown = jobdeck(db, "show", job_id)
    assert "run after 2999-01-01T00:00:00.000Z" in shown.out
    assert jobdeck(db, "show", job_id, "--json").json()["run_after"] == "2999-01-01T00:00:00.000Z"


def test_schedules_lists_pauses_and_resumes_for_every_worker(tmp_path: Path) -> None:
    (tmp_path / "nightly.py").write_text(HANDLERS)
    db = tmp_path / "jobs.db"

    def cli(*args: str) -> Ran:
        return jobdeck(db, "--handlers", "nightly:registry", *args, cwd=tmp_path)

    assert cli("submit", "demo.echo", "{}").code == 0
    listed = cli("schedules", "--json")
    assert listed.code == 0, listed.err
    docs = {d["name"]: d for d in listed.json()}
    assert set(docs) == {"reports.nightly", "reports.often"}
    assert docs["reports.nightly"]["tz"] == "Europe/Paris"
    assert docs["reports.nightly"]["declared"] is False  # no worker has run it yet
    next_run = datetime.fromisoformat(docs["reports.often"]["next_run"].replace("Z", "+00:00"))
    assert 0 < next_run.timestamp() - time.time() <= 300
    assert cli("worker", "--burst").code == 0  # declares the schedules in the database
    paused = cli("schedules", "pause", "reports.often", "--reason", "maintenance window")
    assert paused.code == 0, paused.err
    assert paused.out.strip() == "schedule reports.often paused (maintenance window)."
    (row,) = query(db, "SELECT paused, paused_reason FROM schedules WHERE name = 'reports.often'")
    assert tuple(row) == (1, "maintenance window")
    docs = {d["name"]: d for d in cli("schedules", "--json").json()}
    assert docs["reports.often"]["paused"] is True and docs["reports.often"]["next_run"] is None
    assert "paused: maintenance window" in cli("schedules").out
    assert cli("schedules", "resume", "reports.often").code == 0
    docs = {d["name"]: d for d in cli("schedules", "--json").json()}
    assert docs["reports.often"]["paused"] is False and docs["reports.often"]["next_run"]


def test_an_unknown_schedule_is_exit_3_naming_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "nightly.py").write_text(HANDLERS)
    db = tmp_path / "jobs.db"
    assert (
        jobdeck(db, "--handlers", "nightly:registry", "worker", "--burst", cwd=tmp_path).code == 0
    )
    ran = jobdeck(db, "schedules", "pause", "nope")
    message = assert_one_error(ran, 3)
    assert "reports.nightly" in message and "reports.often" in message


def test_an_invalid_schedule_stops_the_worker_at_start_naming_the_kind(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "from jobdeck.core import Registry\nregistry = Registry()\n"
        "@registry.kind('reports.bad', schedule='61 * * * *')\n"
        "async def bad(ctx, payload):\n    return None\n"
    )
    ran = jobdeck(tmp_path / "jobs.db", "--handlers", "bad:registry", "worker", cwd=tmp_path)
    message = assert_one_error(ran, 2)
    assert "reports.bad" in message and "cron" in message
