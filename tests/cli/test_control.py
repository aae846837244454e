"""cancel, pause, resume and paused through the real command, and the operator trail in
`events`: what each prints, what it stores, and the one-sentence refusals that store nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.harness import assert_one_error, jobdeck, query, snapshot


def _submit(db: Path, kind: str, payload: str) -> str:
    ran = jobdeck(db, "submit", kind, payload)
    assert ran.code == 0, ran.err
    return ran.out.strip()


def test_cancel_a_queued_job_fails_it_with_the_operators_reason(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    job = _submit(db, "demo.echo", '{"n": 1}')
    ran = jobdeck(db, "cancel", job, "--reason", "sent twice", "--by", "ops", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert (doc["id"], doc["status"], doc["cancel"]) == (job, "failed", "cancelled")
    assert doc["reason"]["code"] == "cancelled" and doc["reason"]["category"] == "cancelled"
    assert doc["reason"]["evidence"]["reason"] == "sent twice"
    (row,) = query(db, "SELECT status, reason_code, dedupe_key FROM jobs WHERE id = ?", (job,))
    assert (row["status"], row["reason_code"], row["dedupe_key"]) == ("failed", "cancelled", None)
    (action,) = query(db, "SELECT actor, action, target, reason FROM actions")
    assert tuple(action) == ("ops", "cancel", job, "sent twice")
    shown = jobdeck(db, "show", job)
    assert "cancelled" in shown.out and "sent twice" in shown.out


def test_cancel_text_says_what_happened(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    job = _submit(db, "demo.echo", '{"n": 2}')
    ran = jobdeck(db, "cancel", job)
    assert ran.code == 0, ran.err
    assert ran.out == f"job {job} cancelled; it never ran.\n"
    (action,) = query(db, "SELECT actor FROM actions")
    assert "@" in action["actor"]  # user@host when --by is not given


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        ((), 2, "either a job id or --kind"),
        (("JOB", "--kind", "demo.echo"), 2, "either a job id or --kind"),
        (("JOB", "--status", "queued"), 2, "--status goes with --kind"),
        (("JOB", "--reason", "two\nlines"), 2, "one line"),
        (("JOB", "--by", ""), 2, "--by"),
        (("0000000000000000nothere",), 3, "no job"),
        (("--kind", "demo.echo", "--reason", "x" * 501), 2, "500 characters"),
    ],
    ids=["neither", "both", "status-without-kind", "reason-lines", "empty-by", "unknown", "long"],
)
def test_cancel_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], code: int, words: str
) -> None:
    db = tmp_path / "jobs.db"
    job = _submit(db, "demo.echo", '{"n": 3}')
    before = snapshot(db)
    ran = jobdeck(db, "cancel", *(job if a == "JOB" else a for a in args))
    assert words in assert_one_error(ran, code)
    assert snapshot(db) == before
    assert query(db, "SELECT count(*) FROM actions")[0][0] == 0


def test_cancel_a_finished_job_exits_4_naming_its_status(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    job = _submit(db, "demo.echo", '{"n": 4}')
    assert jobdeck(db, "worker", "--burst").code == 0
    before = snapshot(db)
    assert "already done" in assert_one_error(jobdeck(db, "cancel", job), 4)
    assert jobdeck(db, "cancel", job[-8:]).code == 4  # an id suffix names it too
    cancelled = _submit(db, "demo.echo", '{"n": 5}')
    assert jobdeck(db, "cancel", cancelled).code == 0
    assert "already failed" in assert_one_error(jobdeck(db, "cancel", cancelled), 4)
    assert snapshot(db)[0] == before[0] + 1


def test_cancel_kind_prints_how_many(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", "--from", "-", stdin='{"n": 1}\n{"n": 2}\n{"n": 3}\n')
    assert ran.code == 0, ran.err
    other = _submit(db, "demo.random", "{}")
    ran = jobdeck(db, "cancel", "--kind", "demo.echo", "--reason", "bad batch")
    assert ran.code == 0, ran.err
    assert ran.out == "cancelled 3 queued jobs of kind demo.echo.\n"
    again = jobdeck(db, "cancel", "--kind", "demo.echo", "--status", "queued", "--json")
    assert again.json() == {"kind": "demo.echo", "statuses": ["queued"], "cancelled": 0}
    rows = query(db, "SELECT id, status, reason_code FROM jobs ORDER BY id")
    assert {(r["status"], r["reason_code"]) for r in rows if r["id"] != other} == {
        ("failed", "cancelled")
    }


def test_pause_resume_and_paused(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    _submit(db, "demo.echo", '{"n": 6}')
    ran = jobdeck(db, "pause", "demo.echo", "--reason", "deploying", "--by", "ops")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("kind demo.echo paused (deploying)")
    listed = jobdeck(db, "paused", "--json").json()
    assert [(p["kind"], p["reason"], p["by"]) for p in listed] == [
        ("demo.echo", "deploying", "ops")
    ]
    assert "demo.echo" in jobdeck(db, "paused").out
    # A burst worker leaves the paused kind's job queued and stops.
    assert jobdeck(db, "worker", "--burst").code == 0
    assert query(db, "SELECT status FROM jobs")[0][0] == "queued"
    resumed = jobdeck(db, "resume", "demo.echo", "--json")
    assert resumed.json() == {"kind": "demo.echo", "paused": False, "was_paused": True}
    assert jobdeck(db, "resume", "demo.echo").out == "kind demo.echo was not paused.\n"
    assert jobdeck(db, "paused").out == "no kind is paused.\n"
    assert jobdeck(db, "paused", "--json").json() == []
    assert jobdeck(db, "worker", "--burst").code == 0
    assert query(db, "SELECT status FROM jobs")[0][0] == "done"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("pause", ""), "empty"),
        (("pause", "   "), "empty"),
        (("pause", "no.such"), "known kinds: demo."),
        (("resume", "no.such"), "known kinds: demo."),
        (("pause", "demo.echo", "--reason", "a\tb"), "one line"),
    ],
    ids=["empty", "blank", "unknown", "resume-unknown", "tab-in-reason"],
)
def test_pause_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    db = tmp_path / "jobs.db"
    _submit(db, "demo.echo", '{"n": 7}')
    before = snapshot(db)
    assert words in assert_one_error(jobdeck(db, *args), 2)
    assert snapshot(db) == before
    assert query(db, "SELECT count(*) FROM paused_kinds")[0][0] == 0
    assert query(db, "SELECT count(*) FROM actions")[0][0] == 0


def test_events_shows_the_operator_trail_in_place(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    first = _submit(db, "demo.echo", '{"n": 8}')
    assert jobdeck(db, "cancel", first, "--reason", "oops", "--by", "ops").code == 0
    assert jobdeck(db, "pause", "demo.random", "--by", "ops").code == 0
    second = _submit(db, "demo.echo", '{"n": 9}')
    assert jobdeck(db, "resume", "demo.random", "--by", "ops").code == 0

    lines = jobdeck(db, "events", "--json").json_lines()
    shape = [
        (line["job_id"], line["to"]) if "cursor" in line else (line["action"], line["target"])
        for line in lines
    ]
    assert shape == [
        (first, "queued"),
        (first, "failed"),
        ("cancel", first),
        ("pause", "demo.random"),
        (second, "queued"),
        ("resume", "demo.random"),
    ]
    assert lines[2]["actor"] == "ops" and lines[2]["reason"] == "oops"
    # Piped, events prints JSON Lines; the text form of a trail row:
    from jobdeck.storage.sqlite.peek import Action
    from jobdeck.tui.render import action_line

    text = action_line(Action(1, 0.0, "ops", "cancel", first, "oops", 2))
    assert text == f"operator  1970-01-01T00:00:00.000Z  ops  cancel {first}  (oops)"
    # --since takes an event cursor: the trail rows after it come too.
    since = jobdeck(db, "events", "--since", str(lines[1]["cursor"]), "--json").json_lines()
    assert [line.get("action") for line in since] == ["cancel", "pause", None, "resume"]


def test_schedule_pause_and_prune_are_on_the_trail(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    _submit(db, "demo.echo", '{"n": 10}')
    assert jobdeck(db, "worker", "--burst").code == 0
    assert jobdeck(db, "prune", "--done-older-than", "0s").code == 0
    lines = [json.loads(x) for x in jobdeck(db, "events", "--json").lines]
    (prune,) = [line for line in lines if line.get("action") == "prune"]
    assert prune["target"].startswith("1 jobs") or prune["target"].startswith("0 jobs")
