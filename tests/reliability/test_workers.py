"""Several worker processes on one file, and workers that die: no job lost, none run twice."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter

from tests.cli.harness import finish, job_status, query, reaped, wait_until
from tests.reliability.conftest import Rig
from tests.reliability.kinds import read_log


def test_two_workers_run_each_of_500_jobs_exactly_once(rig: Rig) -> None:
    lines = "".join(json.dumps({"n": n, "seconds": 0.01}) + "\n" for n in range(500))
    submitted = rig.run("submit", "rel.record", "--from", "-", stdin=lines)
    assert submitted.code == 0, submitted.err
    ids = submitted.lines
    assert len(set(ids)) == 500

    workers = [rig.spawn("worker", "--burst", "--concurrency", "8") for _ in range(2)]
    with reaped(*workers):
        ran = [finish(w, timeout=30) for w in workers]
    assert [r.code for r in ran] == [0, 0], [r.err for r in ran]

    log = read_log(rig.log)
    per_job = Counter(job for job, _, _ in log)
    assert sorted(per_job) == sorted(ids)
    assert set(per_job.values()) == {1}, [j for j, n in per_job.items() if n > 1]
    assert {attempt for _, attempt, _ in log} == {1}
    pids = Counter(pid for _, _, pid in log)
    assert set(pids) == {w.pid for w in workers}, f"one worker ran everything: {pids}"

    rows = query(rig.db, "SELECT status, attempt, count(*) AS n FROM jobs GROUP BY 1, 2")
    assert [tuple(r) for r in rows] == [("done", 1, 500)]
    attempts = query(rig.db, "SELECT job_id, count(*) AS n FROM attempts GROUP BY 1 HAVING n > 1")
    assert attempts == []


def test_a_job_whose_worker_is_killed_is_recovered_after_its_lease(rig: Rig) -> None:
    job_id = rig.run("submit", "rel.hang_first", '{"case": "sigkill"}').out.strip()
    victim = rig.spawn("worker", "--lease", "1")
    with reaped(victim):
        wait_until(lambda: len(read_log(rig.log)) == 1, what="attempt 1 to start")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
    assert victim.returncode == -signal.SIGKILL
    assert query(rig.db, "SELECT status FROM jobs WHERE id = ?", (job_id,))[0][0] == "running"

    rescuer = rig.run("worker", "--burst", "--lease", "2", timeout=20)
    assert rescuer.code == 0, rescuer.err

    shown = rig.run("show", job_id, "--json").json()
    assert (shown["status"], shown["attempt"]) == ("done", 2)
    first, second = shown["attempts"]
    assert (first["n"], first["outcome"]) == (1, "lost_lease")
    assert first["reason"]["code"] == "lost_lease"
    assert first["reason"]["category"] == "lost_lease"
    assert (second["n"], second["outcome"]) == (2, "done")
    assert shown["result"] == {"attempt": 2}
    log = read_log(rig.log)
    assert [(j, a) for j, a, _ in log] == [(job_id, 1), (job_id, 2)]
    assert log[0][2] == victim.pid != log[1][2]


def test_sigterm_lets_the_running_job_finish_and_exits_zero(rig: Rig) -> None:
    job_id = rig.run("submit", "demo.sleep", '{"seconds": 0.5}').out.strip()
    worker = rig.spawn("worker")
    with reaped(worker):
        wait_until(lambda: job_status(rig.db, job_id) == "running", what="the job to start")
        worker.send_signal(signal.SIGTERM)
        ran = finish(worker, timeout=15)
    assert ran.code == 0, ran.err
    assert "1 done, 0 failed, 0 retried, 0 released" in ran.err
    (row,) = query(rig.db, "SELECT status, attempt FROM jobs WHERE id = ?", (job_id,))
    assert tuple(row) == ("done", 1)
    (attempt,) = query(rig.db, "SELECT outcome FROM attempts WHERE job_id = ?", (job_id,))
    assert attempt[0] == "done"
