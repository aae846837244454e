"""Operator control obeyed by real worker processes: a running job cancelled through the CLI is
stopped by its worker well before a heartbeat would notice (the worker runs with the default
30 s lease, so a heartbeat comes every 10 s), its steps rolled back; a paused kind is left
queued while other kinds run, and runs once resumed."""

from __future__ import annotations

import signal

from tests.cli.harness import finish, job_status, reaped, wait_until
from tests.reliability.conftest import Rig
from tests.reliability.kinds import read_log, read_notes

# Far below the 10 s a heartbeat takes with the default lease: only the cancel watch (every
# 0.5 s on SQLite) can meet it. `bench/cancel.py` measures the latency itself.
CANCEL_BOUND = 6.0


def test_a_worker_process_stops_a_cancelled_running_job_and_rolls_back(rig: Rig) -> None:
    submitted = rig.run("submit", "rel.steps_then_wait", "{}")
    assert submitted.code == 0, submitted.err
    job = submitted.out.strip()
    worker = rig.spawn("worker")
    with reaped(worker):
        wait_until(lambda: any(j == job for j, _, _ in read_log(rig.log)), what="the job to run")
        cancelled = rig.run("cancel", job, "--reason", "wrong account")
        assert cancelled.code == 0, cancelled.err
        assert "its worker stops it" in cancelled.out
        wait_until(
            lambda: job_status(rig.db, job) == "failed",
            timeout=CANCEL_BOUND,
            what="the worker to record the cancel",
        )
        worker.send_signal(signal.SIGTERM)
        stopped = finish(worker)
    assert stopped.code == 0, stopped.err
    assert [what for j, what in read_notes(rig.log) if j == job] == [
        "debit",
        "hold",
        "undo:hold",
        "undo:debit",
    ]
    shown = rig.run("show", job, "--json").json()
    assert shown["reason"]["code"] == "cancelled"
    assert shown["reason"]["evidence"]["reason"] == "wrong account"
    assert [a["n"] for a in shown["attempts"]] == [1]  # it never runs again


def test_a_worker_process_leaves_a_paused_kind_queued(rig: Rig) -> None:
    first = rig.run("submit", "rel.record", '{"n": 0}').out.strip()
    worker = rig.spawn("worker")
    with reaped(worker):
        # The worker is up and has claimed this kind before it is paused under it.
        wait_until(lambda: job_status(rig.db, first) == "done", what="the worker to start")
        assert rig.run("pause", "rel.record", "--reason", "hold on").code == 0
        held = rig.run("submit", "rel.record", '{"n": 1}').out.strip()
        # Submitted after the held job, so a worker that ignored the pause would run it first.
        other = rig.run("submit", "rel.hang_first", "{}").out.strip()
        wait_until(lambda: any(j == other for j, _, _ in read_log(rig.log)), what="other kinds")
        assert job_status(rig.db, held) == "queued"
        assert rig.run("resume", "rel.record").code == 0
        wait_until(lambda: job_status(rig.db, held) == "done", what="the resumed kind to run")
        worker.send_signal(signal.SIGTERM)
        worker.send_signal(signal.SIGTERM)  # rel.hang_first still hangs: release it now
        finish(worker)
    assert [j for j, _, _ in read_log(rig.log)].count(held) == 1
    assert read_log(rig.log)[-1][0] == held  # it ran only after the resume
