"""A submitter killed mid-batch leaves whole batches; the events log replays to the jobs table."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections import defaultdict
from contextlib import closing
from itertools import pairwise
from pathlib import Path

from tests.cli.harness import query, read_only, reaped, wait_until
from tests.reliability.conftest import Rig

BATCH = 5000  # tui/cli/jobs.py JSON_LINES_BATCH: one transaction per batch


def test_a_submitter_killed_mid_input_leaves_only_whole_batches(rig: Rig, tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text("".join(f'{{"n": {n}}}\n' for n in range(200_000)))
    submitter = rig.spawn("submit", "demo.echo", "--from", str(source))
    assert submitter.stdout is not None
    with reaped(submitter):
        # The whole file is parsed before the first batch is stored; an id on stdout means at
        # least one batch committed. Then let it get some way into the next ones.
        first = submitter.stdout.read(27)
        time.sleep(0.3)
        os.kill(submitter.pid, signal.SIGKILL)
        rest = submitter.stdout.read()  # through the same buffer `first` was read from
        submitter.wait(10)
    assert submitter.returncode == -signal.SIGKILL
    printed = (first + rest).decode().split("\n")
    complete = printed[:-1]  # the last piece may be cut mid-id
    assert len(complete) >= 1

    with closing(read_only(rig.db)) as conn:
        assert [tuple(r) for r in conn.execute("PRAGMA integrity_check")] == [("ok",)]
        (stored,) = conn.execute("SELECT count(*) FROM jobs").fetchone()
        (events,) = conn.execute("SELECT count(*) FROM events").fetchone()
        (counted,) = conn.execute("SELECT sum(n) FROM counts").fetchone()
        have = {row[0] for row in conn.execute("SELECT id FROM jobs")}
    assert stored % BATCH == 0, stored
    assert BATCH <= stored < 200_000
    assert events == stored == counted
    assert set(complete) <= have, "an id was printed for a job that was not stored"


def replay(db: Path) -> None:
    """Fold every job's events from creation on and compare the result with the jobs table."""
    with closing(read_only(db)) as conn:
        jobs = {row["id"]: row for row in conn.execute("SELECT * FROM jobs")}
        events: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for row in conn.execute("SELECT * FROM events ORDER BY cursor"):
            events[row["job_id"]].append(row)
    assert set(events) == set(jobs)
    for job_id, job in jobs.items():
        trail = events[job_id]
        assert trail[0]["from_status"] is None, job_id
        for before, after in pairwise(trail):
            assert after["from_status"] == before["to_status"], (job_id, before, after)
        last = trail[-1]
        assert last["to_status"] == job["status"], job_id
        assert last["attempt"] == job["attempt"], job_id
        assert last["reason_code"] == job["reason_code"], job_id


def test_the_events_log_replays_to_the_jobs_table_after_a_mixed_run(rig: Rig) -> None:
    def submit(kind: str, *payloads: dict, max_attempts: int = 3) -> list[str]:
        stdin = "".join(json.dumps(p) + "\n" for p in payloads)
        ran = rig.run(
            "submit", kind, "--from", "-", "--max-attempts", str(max_attempts), stdin=stdin
        )
        assert ran.code == 0, ran.err
        return ran.lines

    assert rig.run("fail", "--kind", "demo.sleep", "--times", "2", "--reason", "drill").code == 0
    submit("demo.echo", *({"n": n} for n in range(20)))
    submit("demo.flaky", {"fail_times": 1}, {"fail_times": 9}, max_attempts=2)
    submit(
        "demo.charge",
        {"id": "ok", "amount": 10, "currency": "EUR"},
        {"amount": 10, "currency": "EUR"},
        {"id": "big", "amount": 10**6, "currency": "USD"},
    )
    submit("demo.sleep", {"seconds": 0}, {"seconds": 0.01}, {"seconds": 0.02})
    submit("rel.hang_first", {"n": 1})  # killed below: attempt 1 loses its lease

    victim = rig.spawn("worker", "--lease", "1", "--kind", "rel.hang_first")
    with reaped(victim):
        wait_until(rig.log.exists, what="rel.hang_first to start")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
    worker = rig.run("worker", "--burst", "--concurrency", "8", "--lease", "2", timeout=30)
    assert worker.code == 0, worker.err

    statuses = dict(tuple(r) for r in query(rig.db, "SELECT status, count(*) FROM jobs GROUP BY 1"))
    # failed: flaky x9 (retries exhausted on 2), two denied charges, two injected sleeps
    assert statuses == {"done": 24, "failed": 5}
    codes = sorted(
        r[0] for r in query(rig.db, "SELECT reason_code FROM jobs WHERE status = 'failed'")
    )
    assert codes == [
        "amount_over_limit",
        "injected_terminal",
        "injected_terminal",
        "missing_id",
        "retries_exhausted",
    ]
    lost = query(rig.db, "SELECT count(*) FROM attempts WHERE outcome = 'lost_lease'")
    assert lost[0][0] == 1
    replay(rig.db)
