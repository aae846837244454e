"""submit (one payload, stdin, --key, --max-attempts, --json, --wait), submit --from, worker."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Populated
from tests.cli.harness import (
    Ran,
    assert_one_error,
    finish,
    job_count,
    job_status,
    jobdeck,
    query,
    reaped,
    snapshot,
    spawn,
    wait_until,
)

SUBMIT_KEYS = {"id", "status", "reason", "run_after", "priority"}


def stored(db: Path, job_id: str) -> dict:
    (row,) = query(db, "SELECT * FROM jobs WHERE id = ?", (job_id,))
    return dict(row)


def test_submit_prints_the_id_of_a_queued_job(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", '{"greeting": "hi"}')
    assert ran.code == 0, ran.err
    assert ran.err == ""
    (job_id,) = ran.lines
    job = stored(db, job_id)
    assert (job["kind"], job["status"], job["attempt"]) == ("demo.echo", "queued", 0)
    assert json.loads(job["payload"]) == {"greeting": "hi"}


def test_submit_reads_the_payload_from_stdin_with_a_dash(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo", "-", stdin='{"from": "stdin", "é": [1, 2]}\n')
    assert ran.code == 0, ran.err
    assert json.loads(stored(db, ran.out.strip())["payload"]) == {"from": "stdin", "é": [1, 2]}


def test_submit_without_a_payload_submits_an_empty_object(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.echo")
    assert ran.code == 0, ran.err
    assert json.loads(stored(db, ran.out.strip())["payload"]) == {}


def test_submit_json_is_id_status_reason(scratch: Populated) -> None:
    queued = jobdeck(scratch.db, "submit", "demo.echo", '{"n": 99}', "--json")
    assert queued.code == 0, queued.err
    doc = queued.json()
    assert set(doc) == SUBMIT_KEYS
    assert (doc["status"], doc["reason"]) == ("queued", None)
    assert stored(scratch.db, doc["id"])["status"] == "queued"

    denied = jobdeck(
        scratch.db,
        "submit",
        "demo.charge",
        '{"amount": 99999, "id": "x", "currency": "USD"}',
        "--json",
    )
    assert denied.code == 0, denied.err
    doc = denied.json()
    assert set(doc) == SUBMIT_KEYS
    assert doc["status"] == "failed"
    assert doc["reason"] == {
        "code": "amount_over_limit",
        "message": "A charge of 99999 is over the limit of 10000.",
        "category": "denied",
        "gate": "amount_limit",
        "retryable": False,
        "evidence": {"field": "amount", "limit": 10000, "value": 99999},
    }


def test_a_denial_logs_its_one_reason_once_with_debug(tmp_path: Path) -> None:
    ran = jobdeck(tmp_path / "jobs.db", "--debug", "submit", "demo.charge", '{"amount": 5}')
    assert ran.code == 0, ran.err
    # schema (no currency) fails first: only its reason is logged, not missing_id's as well
    (line,) = ran.err_lines
    assert f"transition id={ran.out.strip()} kind=demo.charge attempt=0 new->failed" in line
    assert line.endswith(" reason=invalid_payload")
    assert "missing_id" not in ran.err


def test_submit_with_the_same_key_returns_the_live_job(scratch: Populated) -> None:
    first = jobdeck(scratch.db, "submit", "demo.echo", '{"a": 1}', "--key", "order-7")
    again = jobdeck(scratch.db, "submit", "demo.echo", '{"a": 2}', "--key", "order-7")
    assert first.code == again.code == 0, (first.err, again.err)
    assert first.out == again.out
    assert stored(scratch.db, first.out.strip())["idempotency_key"] == "order-7"
    # The default key is a hash of kind and payload: the shared echo {"n": 1} is done, so the
    # same input returns that job instead of running it again.
    same = jobdeck(scratch.db, "submit", "demo.echo", '{"n": 1}')
    assert same.out.strip() == scratch.echo


def test_submit_max_attempts_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.flaky", '{"fail_times": 0}', "--max-attempts", "7")
    assert ran.code == 0, ran.err
    assert stored(db, ran.out.strip())["max_attempts"] == 7


def test_submit_wait_prints_the_final_state_once_a_worker_runs_it(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    waiting = spawn(db, "submit", "demo.flaky", '{"fail_times": 1}', "--wait", "--json")
    with reaped(waiting):
        wait_until(lambda: job_count(db) == 1, what="the submit to store its job")
        worker = jobdeck(db, "worker", "--burst")
        assert worker.code == 0, worker.err
        ran = finish(waiting)
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert set(doc) == SUBMIT_KEYS | {"result"}
    assert (doc["status"], doc["reason"], doc["result"]) == (
        "done",
        None,
        {"succeeded_on_attempt": 2},
    )


def test_submit_wait_on_a_denied_job_answers_at_once_with_its_reason(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    ran = jobdeck(db, "submit", "demo.charge", '{"amount": 5, "currency": "EUR"}', "--wait")
    assert ran.code == 1
    (line,) = ran.lines
    assert "failed" in line
    assert "missing_id (denied by the missing_id gate): A charge needs an id" in line


def test_submit_from_file_prints_one_id_per_line_in_order(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    source = tmp_path / "jobs.jsonl"
    source.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(12)) + "\n")
    ran = jobdeck(db, "submit", "demo.echo", "--from", str(source))
    assert ran.code == 0, ran.err
    assert len(ran.lines) == 12 == len(set(ran.lines))
    payloads = [json.loads(stored(db, job_id)["payload"]) for job_id in ran.lines]
    assert payloads == [{"i": i} for i in range(12)]


def test_submit_from_stdin_stores_denied_payloads_as_denied_jobs(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    lines = [
        {"id": "a", "amount": 5, "currency": "EUR"},
        {"amount": 5, "currency": "EUR"},
        {"id": "b", "amount": 50_000, "currency": "USD"},
    ]
    ran = jobdeck(
        db,
        "submit",
        "demo.charge",
        "--from",
        "-",
        "--json",
        stdin="".join(json.dumps(p) + "\n" for p in lines),
    )
    assert ran.code == 0, ran.err
    docs = ran.json_lines()
    assert [set(d) for d in docs] == [SUBMIT_KEYS] * 3
    assert [d["status"] for d in docs] == ["queued", "failed", "failed"]
    assert [d["reason"] and d["reason"]["code"] for d in docs] == [
        None,
        "missing_id",
        "amount_over_limit",
    ]
    assert [stored(db, d["id"])["status"] for d in docs] == ["queued", "failed", "failed"]


def test_submit_from_a_malformed_line_names_it_and_stores_nothing(scratch: Populated) -> None:
    before = snapshot(scratch.db)
    text = '{"ok": 1}\n{"ok": 2}\n{"broken": \n{"ok": 4}\n'
    ran = jobdeck(scratch.db, "submit", "demo.echo", "--from", "-", stdin=text)
    line = assert_one_error(ran, 2)
    assert "line 3" in line
    assert ran.out == ""
    assert snapshot(scratch.db) == before


def test_submit_from_a_bad_line_after_the_first_batch_stores_nothing(scratch: Populated) -> None:
    # More lines than one stored batch (5000): a bad line late in the input must still stop
    # the batches before it, and its number is the line's, not its position in the batch.
    before = snapshot(scratch.db)
    source = scratch.db.parent / "late.jsonl"
    lines = [json.dumps({"i": i}) for i in range(5001)] + ["[1, 2]", json.dumps({"i": -1})]
    source.write_text("\n".join(lines) + "\n")
    ran = jobdeck(scratch.db, "submit", "demo.echo", "--from", str(source))
    line = assert_one_error(ran, 2)
    assert "line 5002" in line
    assert "JSON object" in line
    assert ran.out == ""
    assert snapshot(scratch.db) == before


def test_submit_from_refuses_a_payload_argument_and_key(scratch: Populated) -> None:
    before = snapshot(scratch.db)
    ran = jobdeck(scratch.db, "submit", "demo.echo", "--from", "-", "--key", "k", stdin="{}\n")
    assert "--from" in assert_one_error(ran, 2)
    assert snapshot(scratch.db) == before


def test_worker_burst_drains_the_queue_and_exits(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    source = "".join(json.dumps({"i": i}) + "\n" for i in range(30))
    assert jobdeck(db, "submit", "demo.echo", "--from", "-", stdin=source).code == 0
    flaky = jobdeck(db, "submit", "demo.flaky", '{"fail_times": 2}').out.strip()
    ran = jobdeck(db, "worker", "--burst", "--concurrency", "8")
    assert ran.code == 0, ran.err
    assert ran.out == ""
    assert len(ran.err_lines) == 1
    assert ": 31 done, 0 failed, 2 retried, 0 released" in ran.err_lines[0]
    status = jobdeck(db, "status", "--json").json()
    assert status == {"queued": 0, "running": 0, "done": 31, "failed": 0}
    assert job_status(db, flaky) == "done"
    assert stored(db, flaky)["attempt"] == 3


def test_submit_from_into_a_closed_pipe_says_how_far_it_got(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    source = tmp_path / "jobs.jsonl"
    source.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(12_000)))
    proc = spawn(db, "submit", "demo.echo", "--from", str(source))
    assert proc.stdout is not None and proc.stderr is not None
    with reaped(proc):
        assert len(proc.stdout.readline()) == 27  # one id, then the reader goes away
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(30) == 1
    ran = Ran(1, "", err)
    line = assert_one_error(ran)
    assert "after 5,000 of 12,000 jobs were stored" in line
    assert query(db, "SELECT count(*) FROM jobs")[0][0] == 5000
