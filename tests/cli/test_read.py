"""status, list, show and events: the stable JSON shapes and the human text, on a shared DB."""

from __future__ import annotations

from tests.cli.conftest import Populated
from tests.cli.harness import jobdeck, query

JOB_KEYS = {
    "id",
    "kind",
    "payload",
    "status",
    "attempt",
    "max_attempts",
    "reason",
    "result",
    "idempotency_key",
    "rerun_of",
    "created_at",
    "updated_at",
    "run_after",
    "priority",
}
REASON_KEYS = {"code", "message", "category", "gate", "retryable", "evidence"}
ATTEMPT_KEYS = {"n", "started_at", "finished_at", "outcome", "reason"}
EVENT_KEYS = {"cursor", "job_id", "from", "to", "attempt", "reason_code", "at"}


def test_status_json_is_exactly_the_four_counts(populated: Populated) -> None:
    ran = jobdeck(populated.db, "status", "--json")
    assert ran.code == 0, ran.err
    assert ran.err == ""
    assert ran.json() == {"queued": 1, "running": 0, "done": 4, "failed": 2}
    assert list(ran.json()) == ["queued", "running", "done", "failed"]


def test_status_text_has_one_line_per_status(populated: Populated) -> None:
    ran = jobdeck(populated.db, "status")
    assert ran.code == 0, ran.err
    assert [line.split() for line in ran.lines] == [
        ["queued", "1"],
        ["running", "0"],
        ["done", "4"],
        ["failed", "2"],
    ]


def test_list_json_is_an_array_of_jobs_newest_first(populated: Populated) -> None:
    ran = jobdeck(populated.db, "list", "--json")
    assert ran.code == 0, ran.err
    jobs = ran.json()
    assert isinstance(jobs, list)
    assert [j["id"] for j in jobs] == sorted(populated.all, reverse=True)
    for job in jobs:
        assert set(job) == JOB_KEYS
        assert job["reason"] is None or set(job["reason"]) == REASON_KEYS
    by_id = {j["id"]: j for j in jobs}
    assert by_id[populated.charge_rerun]["rerun_of"] == populated.charge
    assert by_id[populated.echo]["result"] == {"n": 1}
    assert by_id[populated.queued]["status"] == "queued"


def test_list_filters_by_status_kind_and_limit(populated: Populated) -> None:
    failed = jobdeck(populated.db, "list", "--status", "failed", "--json").json()
    assert {j["id"] for j in failed} == {populated.denied, populated.faulted}
    charges = jobdeck(populated.db, "list", "--kind", "demo.charge", "--json").json()
    assert {j["id"] for j in charges} == {
        populated.denied,
        populated.charge,
        populated.charge_rerun,
    }
    two = jobdeck(populated.db, "list", "--limit", "2", "--json").json()
    assert [j["id"] for j in two] == sorted(populated.all, reverse=True)[:2]
    both = jobdeck(
        populated.db, "list", "--status", "done", "--kind", "demo.charge", "--limit", "1", "--json"
    ).json()
    assert [j["id"] for j in both] == [populated.charge_rerun]


def test_list_treats_sql_looking_filter_text_as_plain_text(populated: Populated) -> None:
    ran = jobdeck(populated.db, "list", "--kind", "x' OR '1'='1", "--json")
    assert ran.code == 0, ran.err
    assert ran.json() == []


def test_list_text_is_one_line_per_job(populated: Populated) -> None:
    ran = jobdeck(populated.db, "list", "--status", "failed")
    assert ran.code == 0, ran.err
    assert len(ran.lines) == 2
    denied = next(line for line in ran.lines if line.startswith(populated.denied))
    assert "failed" in denied
    assert "missing_id" in denied


def test_show_json_has_every_key_and_every_attempt(populated: Populated) -> None:
    ran = jobdeck(populated.db, "show", populated.flaky, "--json")
    assert ran.code == 0, ran.err
    job = ran.json()
    assert set(job) == JOB_KEYS | {"attempts", "steps", "retry", "lineage"}
    assert (job["id"], job["kind"], job["status"], job["attempt"]) == (
        populated.flaky,
        "demo.flaky",
        "done",
        2,
    )
    assert job["reason"] is None
    assert job["result"] == {"succeeded_on_attempt": 2}
    assert [set(a) for a in job["attempts"]] == [ATTEMPT_KEYS, ATTEMPT_KEYS]
    first, second = job["attempts"]
    assert (first["n"], first["outcome"], first["reason"]["code"]) == (1, "retry", "flaky")
    assert set(first["reason"]) == REASON_KEYS
    assert first["reason"]["category"] == "retryable"
    assert (second["n"], second["outcome"], second["reason"]) == (2, "done", None)
    assert all(a["started_at"] <= a["finished_at"] for a in job["attempts"])


def test_show_denied_job_has_exactly_one_reason_and_no_attempt(populated: Populated) -> None:
    job = jobdeck(populated.db, "show", populated.denied, "--json").json()
    assert job["status"] == "failed"
    assert job["attempts"] == []
    assert job["reason"] == {
        "code": "missing_id",
        "message": "A charge needs an id to be idempotent.",
        "category": "denied",
        "gate": "missing_id",
        "retryable": False,
        "evidence": {"field": "id"},
    }
    text = jobdeck(populated.db, "show", populated.denied)
    assert text.code == 0, text.err
    assert text.out.count("A charge needs an id to be idempotent.") == 1
    assert [line for line in text.lines if line.startswith("reason")] == [
        "reason    missing_id (denied by the missing_id gate): "
        "A charge needs an id to be idempotent."
    ]
    assert "attempts  none yet" in text.lines


def test_show_faulted_job_gives_the_operators_reason(populated: Populated) -> None:
    job = jobdeck(populated.db, "show", populated.faulted, "--json").json()
    assert job["status"] == "failed"
    assert job["reason"]["category"] == "injected"
    assert job["reason"]["message"] == "the operator said no"
    assert [a["outcome"] for a in job["attempts"]] == ["failed"]
    assert job["attempts"][0]["reason"] == job["reason"]


def test_show_text_names_the_rerun_and_its_verdict(populated: Populated) -> None:
    original = jobdeck(populated.db, "show", populated.charge)
    assert original.code == 0, original.err
    assert "lineage" in original.lines
    assert f"  → {populated.charge}  done" in original.lines
    assert f"      {populated.charge_rerun}  done  idempotent" in original.lines
    rerun = jobdeck(populated.db, "show", populated.charge_rerun)
    assert f"rerun of  {populated.charge}" in rerun.lines
    assert f"  →   {populated.charge_rerun}  done  idempotent" in rerun.lines


def test_show_accepts_a_unique_id_suffix(populated: Populated) -> None:
    ran = jobdeck(populated.db, "show", populated.denied[-8:], "--json")
    assert ran.code == 0, ran.err
    assert ran.json()["id"] == populated.denied


def test_events_are_json_lines_in_cursor_order(populated: Populated) -> None:
    ran = jobdeck(populated.db, "events")
    assert ran.code == 0, ran.err
    events = ran.json_lines()
    assert all(set(e) == EVENT_KEYS for e in events)
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(set(cursors))
    stored = query(populated.db, "SELECT count(*) AS n FROM events")[0]["n"]
    assert len(events) == stored
    denied = [e for e in events if e["job_id"] == populated.denied]
    assert [(e["from"], e["to"], e["reason_code"]) for e in denied] == [
        (None, "failed", "missing_id")
    ]
    flaky = [
        (e["from"], e["to"], e["attempt"], e["reason_code"])
        for e in events
        if e["job_id"] == populated.flaky
    ]
    assert flaky == [
        (None, "queued", 0, None),
        ("queued", "running", 1, None),
        ("running", "queued", 1, "flaky"),
        ("queued", "running", 2, None),
        ("running", "done", 2, None),
    ]


def test_events_since_returns_only_later_cursors(populated: Populated) -> None:
    every = jobdeck(populated.db, "events", "--json").json_lines()
    middle = every[len(every) // 2]["cursor"]
    later = jobdeck(populated.db, "events", "--since", str(middle)).json_lines()
    assert later == [e for e in every if e["cursor"] > middle]
    last = every[-1]["cursor"]
    assert jobdeck(populated.db, "events", "--since", str(last)).out == ""


def test_show_json_explains_the_retry_decision(populated: Populated) -> None:
    flaky = jobdeck(populated.db, "show", populated.flaky, "--json").json()
    assert flaky["retry"]["classification"] == "done"
    assert (flaky["retry"]["attempt"], flaky["retry"]["max_attempts"]) == (2, 5)
    denied = jobdeck(populated.db, "show", populated.denied, "--json").json()
    assert denied["retry"]["classification"] == "denied"
    assert denied["retry"]["retried"] is False
    assert "never retried" in denied["retry"]["explanation"]
