"""Workers in separate processes, each with its own connections, against one PostgreSQL: the
shape of workers on many hosts. One is killed mid-run; nothing is lost or completed twice."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

from tests.cli.harness import REPO, finish, jobdeck, reaped, spawn, wait_until
from tests.reliability.kinds import read_log

from .conftest import sql

HANDLERS = ("--handlers", "tests.reliability.kinds:registry")


async def test_two_worker_processes_and_a_kill_lose_nothing_and_finish_nothing_twice(
    pg_url: str, tmp_path: Path
) -> None:
    env = {"JOBDECK_TEST_LOG": str(tmp_path / "executions.log")}
    lines = "".join(json.dumps({"n": n, "seconds": 0.04}) + "\n" for n in range(300))
    submitted = jobdeck(
        pg_url, *HANDLERS, "submit", "rel.record", "--from", "-", stdin=lines, cwd=REPO, env=env
    )
    assert submitted.code == 0, submitted.err
    ids = submitted.lines
    assert len(set(ids)) == 300

    worker = (*HANDLERS, "worker", "--burst", "--concurrency", "4", "--lease", "2")
    victim, survivor = (spawn(pg_url, *worker, cwd=REPO, env=env) for _ in range(2))
    with reaped(victim, survivor):
        wait_until(
            lambda: sum(pid == victim.pid for _, _, pid in read_log(env["JOBDECK_TEST_LOG"])) > 20,
            what="the victim to run some jobs",
        )
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        assert victim.returncode == -signal.SIGKILL
        survived = finish(survivor, timeout=60)
    assert survived.code == 0, survived.err
    rescuer = jobdeck(pg_url, *worker, cwd=REPO, env=env, timeout=30)
    assert rescuer.code == 0, rescuer.err

    ran = Counter(job for job, _, _ in read_log(env["JOBDECK_TEST_LOG"]))
    assert set(ran) == set(ids), "every job ran"
    assert {pid for _, _, pid in read_log(env["JOBDECK_TEST_LOG"])} >= {victim.pid, survivor.pid}
    rows = await sql(pg_url, "SELECT status, count(*) FROM jobs GROUP BY status")
    assert [tuple(r) for r in rows] == [("done", 300)]
    done = await sql(
        pg_url, "SELECT job_id, count(*) FROM attempts WHERE outcome = 'done' GROUP BY job_id"
    )
    assert len(done) == 300 and {n for _, n in done} == {1}, "each job completed exactly once"
    assert await sql(pg_url, "SELECT 1 FROM attempts WHERE outcome = 'running'") == []
    lost = await sql(pg_url, "SELECT worker FROM attempts WHERE outcome = 'lost_lease'")
    assert lost, "the kill left jobs mid-run, and they were recovered from their leases"

    status = jobdeck(pg_url, "status", "--json", cwd=REPO)
    assert status.code == 0, status.err
    assert status.json() == {"queued": 0, "running": 0, "done": 300, "failed": 0}


def test_the_cli_reads_a_postgres_url_like_a_file(pg_url: str) -> None:
    submitted = jobdeck(pg_url, "submit", "demo.echo", '{"hello": "pg"}', cwd=REPO)
    assert submitted.code == 0, submitted.err
    listed = jobdeck(pg_url, "list", "--json", cwd=REPO)
    assert listed.code == 0, listed.err
    assert "pg" in listed.out
    shown = jobdeck(pg_url, "show", submitted.out.strip(), "--json", cwd=REPO)
    assert shown.code == 0 and shown.json()["status"] == "queued"


def test_an_unreachable_server_is_one_line_and_exit_5() -> None:
    ran = jobdeck("postgresql://u:secret@127.0.0.1:1/jobs", "status", cwd=REPO)
    assert ran.code == 5
    assert ran.err_lines == [
        "jobdeck: cannot reach the PostgreSQL server at 127.0.0.1:1: nothing accepts "
        "connections there."
    ]
