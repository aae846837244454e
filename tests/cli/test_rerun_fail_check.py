"""rerun (with and without --wait), fail (by id and by kind), check, --help, and import cost."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Populated
from tests.cli.harness import (
    assert_one_error,
    finish,
    imports,
    jobdeck,
    query,
    reaped,
    run_env,
    snapshot,
    spawn,
)

REPORT_KEYS = {"id", "rerun_of", "status", "verdict", "diff"}


def test_rerun_wait_json_gives_idempotent_and_diverged_verdicts(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    charge = jobdeck(db, "submit", "demo.charge", '{"id": "c9", "amount": 3, "currency": "USD"}')
    random = jobdeck(db, "submit", "demo.random", '{"seed": "none"}')
    worker = spawn(db, "worker", "--concurrency", "2")
    with reaped(worker):
        same = jobdeck(db, "rerun", charge.out.strip(), "--wait", "--json", timeout=20)
        other = jobdeck(db, "rerun", random.out.strip(), "--wait", "--json", timeout=20)
        worker.send_signal(signal.SIGTERM)
        stopped = finish(worker)
    assert stopped.code == 0, stopped.err

    assert same.code == 0, same.err
    doc = same.json()
    assert set(doc) == REPORT_KEYS
    assert (doc["rerun_of"], doc["status"], doc["verdict"], doc["diff"]) == (
        charge.out.strip(),
        "done",
        "idempotent",
        {},
    )
    assert doc["id"] not in (charge.out.strip(), random.out.strip())

    assert other.code == 0, other.err
    doc = other.json()
    assert set(doc) == REPORT_KEYS
    assert (doc["rerun_of"], doc["status"], doc["verdict"]) == (
        random.out.strip(),
        "done",
        "diverged",
    )
    assert set(doc["diff"]) == {"$.result.token"}
    assert set(doc["diff"]["$.result.token"]) == {"was", "now"}


def test_rerun_without_wait_stores_a_linked_job_and_prints_its_id(scratch: Populated) -> None:
    ran = jobdeck(scratch.db, "rerun", scratch.echo)
    assert ran.code == 0, ran.err
    (new_id,) = ran.lines
    (row,) = query(scratch.db, "SELECT * FROM jobs WHERE id = ?", (new_id,))
    assert (row["rerun_of"], row["status"], row["kind"]) == (scratch.echo, "queued", "demo.echo")
    again = jobdeck(scratch.db, "rerun", scratch.echo, "--json")
    assert again.code == 0, again.err
    doc = again.json()
    assert set(doc) == {"id", "rerun_of"}
    assert doc["rerun_of"] == scratch.echo
    assert doc["id"] != new_id  # a rerun bypasses dedupe


def test_fail_by_id_makes_the_next_attempt_fail_with_the_reason(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    job_id = jobdeck(db, "submit", "demo.flaky", '{"fail_times": 0}').out.strip()
    armed = jobdeck(db, "fail", job_id, "--terminal", "--reason", "card network is down")
    assert armed.code == 0, armed.err
    assert armed.lines == [f"armed fault 1: the next 1 attempt(s) of job {job_id} fail (terminal)."]
    assert jobdeck(db, "worker", "--burst").code == 0
    job = jobdeck(db, "show", job_id, "--json").json()
    assert (job["status"], job["attempt"]) == ("failed", 1)
    assert job["reason"]["category"] == "injected"
    assert job["reason"]["message"] == "card network is down"
    assert job["reason"]["retryable"] is False
    assert [a["outcome"] for a in job["attempts"]] == ["failed"]


def test_fail_by_kind_with_retryable_fails_then_retries(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    armed = jobdeck(db, "fail", "--kind", "demo.flaky", "--retryable", "--times", "2")
    assert armed.code == 0, armed.err
    assert "of kind demo.flaky fail (retryable)" in armed.out
    first = jobdeck(db, "submit", "demo.flaky", '{"fail_times": 0, "n": 1}').out.strip()
    second = jobdeck(db, "submit", "demo.echo", '{"n": 1}').out.strip()
    assert jobdeck(db, "worker", "--burst").code == 0
    job = jobdeck(db, "show", first, "--json").json()
    assert (job["status"], job["attempt"]) == ("done", 3)
    assert [a["outcome"] for a in job["attempts"]] == ["retry", "retry", "done"]
    assert {a["reason"]["category"] for a in job["attempts"][:2]} == {"injected"}
    assert [r["status"] for r in query(db, "SELECT status FROM jobs WHERE id = ?", (second,))] == [
        "done"
    ]


def test_fail_on_a_finished_job_is_refused(scratch: Populated) -> None:
    before = snapshot(scratch.db)
    line = assert_one_error(jobdeck(scratch.db, "fail", scratch.echo), 2)
    assert "already done" in line
    assert snapshot(scratch.db) == before


def test_check_prints_a_tick_per_check_and_exits_zero(tmp_path: Path) -> None:
    ran = jobdeck(tmp_path / "unused.db", "check")
    assert ran.code == 0, ran.out + ran.err
    assert len(ran.lines) == 8
    assert all(line.startswith("✓ ") for line in ran.lines), ran.out
    assert not (tmp_path / "unused.db").exists()


def test_check_json_shape(tmp_path: Path) -> None:
    ran = jobdeck(tmp_path / "unused.db", "check", "--json")
    assert ran.code == 0, ran.out + ran.err
    doc = ran.json()
    assert set(doc) == {"ok", "checks"}
    assert doc["ok"] is True
    assert len(doc["checks"]) == 8
    for check in doc["checks"]:
        assert set(check) == {"name", "ok", "detail"}
        assert check["ok"] is True
        assert isinstance(check["name"], str) and check["name"]


def test_help_lists_every_command(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "jobdeck.tui", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=run_env(),
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("usage: jobdeck")
    for name in ("submit", "worker", "status", "list", "show", "events", "rerun", "fail", "check"):
        assert name in ran.stdout
    assert list(tmp_path.iterdir()) == []


def test_plain_commands_do_not_import_textual(populated: Populated) -> None:
    for args in (["status"], ["show", populated.denied, "--json"]):
        imported = imports(populated.db, *args)
        assert "jobdeck.tui.cli" in imported
        assert not [m for m in imported if m.split(".")[0] == "textual"], args
